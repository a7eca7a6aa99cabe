"""The simulation twin: the same penalised estimators fitted on sampled mixture data.

Solvers: ridge in closed form (numpy.linalg.solve of (X^T X / d + lambda I) w = X^T y / sqrt d);
logistic with scikit-learn's LogisticRegression (lbfgs, C = 1 / lambda, no intercept, on the
features x / sqrt d, which is exactly sum_mu l(y_mu, w.x_mu / sqrt d) + lambda ||w||^2 / 2);
hinge with scikit-learn's LinearSVC (liblinear dual coordinate descent, loss="hinge",
C = 1 / lambda, no intercept). The test error of each fitted w is computed exactly from its
overlaps (q_c, m_c, s_c) with the population (the test distribution is known), so the only
randomness left is that of the training set.
"""

from __future__ import annotations

import dataclasses
import math
import warnings

import numpy as np

from ._losses import Hinge, Logistic, Loss, Square
from ._mixture import Mixture
from ._state_evolution import errors_of_overlaps
from ._teachers import Teacher

__all__ = ["SimulationResult", "simulate_erm", "fit_estimator"]


@dataclasses.dataclass(frozen=True)
class SimulationResult:
    """Per-seed training and test errors at one (alpha, d), and their mean and standard error."""

    alpha: float
    d: int
    n: int
    train: np.ndarray
    test: np.ndarray

    @property
    def train_error(self) -> float:
        return float(np.mean(self.train))

    @property
    def test_error(self) -> float:
        return float(np.mean(self.test))

    @property
    def stderr(self) -> dict:
        k = self.train.size
        if k < 2:
            return {"train_error": float("nan"), "test_error": float("nan")}
        return {"train_error": float(np.std(self.train, ddof=1) / math.sqrt(k)),
                "test_error": float(np.std(self.test, ddof=1) / math.sqrt(k))}


def fit_estimator(loss: Loss, X: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """argmin_w sum_mu l(y_mu, w.x_mu / sqrt d) + lam ||w||^2 / 2 (see the module docstring).

    Raises:
        RuntimeError: the scikit-learn solver reports it did not converge.
    """
    n, d = X.shape
    F = X / math.sqrt(d)
    if isinstance(loss, Square):
        return np.linalg.solve(F.T @ F + lam * np.eye(d), F.T @ y)
    if lam <= 0:
        raise ValueError(f"the {loss.name} loss needs lambda > 0, got {lam}")
    from sklearn.exceptions import ConvergenceWarning

    if isinstance(loss, Logistic):
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=1.0 / lam, fit_intercept=False, tol=1e-10, max_iter=20000)
    elif isinstance(loss, Hinge):
        from sklearn.svm import LinearSVC

        model = LinearSVC(C=1.0 / lam, loss="hinge", fit_intercept=False, dual=True, tol=1e-8,
                          max_iter=200000)
    else:  # pragma: no cover
        raise ValueError(f"no solver for the loss {loss!r}")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        try:
            model.fit(F, y)
        except ConvergenceWarning as err:
            raise RuntimeError(f"the scikit-learn {type(model).__name__} solver did not "
                               f"converge (n={n}, d={d}, lambda={lam}): {err}") from None
    return np.asarray(model.coef_, float).ravel()


def simulate_erm(mix: Mixture, loss: Loss, teacher: Teacher, alpha: float, lam: float, d: int,
                 *, seeds: int = 4, seed: int = 0) -> SimulationResult:
    """Fit the estimator on `seeds` independent training sets of n = round(alpha d) points.

    Each seed draws its own signal vectors (theta and the means, with the mixture's Grams) and
    data from numpy's Generator(PCG64) seeded with (seed, index).
    """
    if d < 2 or seeds < 1:
        raise ValueError(f"need d >= 2 and seeds >= 1, got d={d}, seeds={seeds}")
    n = max(1, int(round(alpha * d)))
    train, test = [], []
    block_of = np.repeat(np.arange(mix.fractions.size), mix.block_sizes(d))
    for k in range(seeds):
        rng = np.random.default_rng([seed, k])
        vectors = mix.signal_vectors(d, rng)
        X, clusters, nu = mix.sample(n, vectors, rng)
        y = teacher.sample(nu, clusters, mix.labels, rng)
        if teacher.classification and np.unique(y).size < 2:
            raise ValueError(f"all {n} training labels are equal at alpha={alpha}, d={d}; "
                             f"use a larger alpha or d")
        w = fit_estimator(loss, X, y, lam)
        pred = X @ w / math.sqrt(d)
        if teacher.classification:
            train.append(float(np.mean(np.where(pred >= 0, 1.0, -1.0) != y)))
        else:
            train.append(float(np.mean((y - pred) ** 2)))
        sig = mix.variances[:, block_of]  # (K, d)
        theta = mix.teacher @ vectors
        q = sig @ (w**2) / d
        m = sig @ (w * theta) / d
        s = (mix.means @ vectors) @ w / d
        test.append(errors_of_overlaps(mix, loss, teacher, q, m, s))
    return SimulationResult(alpha=float(alpha), d=d, n=n, train=np.asarray(train),
                            test=np.asarray(test))
