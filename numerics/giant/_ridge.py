"""Ridge regression on the features after one giant step against the random-features
baseline (docs/giant.md §3; the question of Cui, Pesce, Dandi, Krzakala, Lu, Zdeborova,
Loureiro, arXiv 2402.04980, and Dandi, Pesce, Zdeborova, Krzakala, arXiv 2410.18938).

Simulation only: W1 is the first layer after one step of the spiked-features network of
`_spike` (normalisation of docs/giant.md §2, lr = eta sqrt(p)), W0 the same network before
the step. For each, the features phi(x) = sigma(W x) (p,) are fitted by ridge on n_r =
alpha_r d fresh samples,

    b = argmin (1/n_r) sum (y - phi(x)^T b)^2 + lambda |b|^2,

and the test error E(y - phi(x)^T b)^2 is estimated on `n_test` fresh samples. The
asymptotic formulas of those papers (deterministic equivalents of the spiked random-features
model) are not implemented here.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["ridge_after_step"]


def ridge_after_step(target, student: str, *, p: int, d: int, alpha: float, eta: float,
                     alphas_ridge, lambdas, seeds: int = 2, seed: int = 0,
                     n_test: int = 4000) -> dict:
    """Test errors of ridge on the random features (W0) and on the features after one step
    (W1), per ridge sample ratio alpha_r and penalty lambda, averaged over seeds.

    Returns:
        JSON-ready dict: alphas_ridge, lambdas, "random_features" and "one_step" test-error
        tables (len(alphas_ridge) x len(lambdas)) with their standard errors, E_y2 (the
        error of the zero predictor).
    """
    from escalier.numerics.lower import student_functions, teacher_function
    from escalier.numerics.simulation import giant_step_weights

    from ._spike import spike_scenario, target_moments

    sc, lr = spike_scenario(target, student, p, d, eta)
    n_step = max(1, round(alpha * d))
    w = giant_step_weights(sc, d, n_step, lr, seeds=seeds, seed=seed)
    sigma, _ = student_functions(sc)
    f = teacher_function(sc)
    alphas_ridge = [float(a) for a in alphas_ridge]
    lambdas = [float(x) for x in lambdas]
    n_max = max(1, round(max(alphas_ridge) * d))
    errs = {"random_features": [], "one_step": []}
    for s in range(seeds):
        key = jax.random.fold_in(jax.random.key(seed + 7919), s)
        kx, kt = jax.random.split(key)
        E = jnp.asarray(w["Wstar"][s]) / math.sqrt(d)
        X = jax.random.normal(kx, (n_max, d))
        Xt = jax.random.normal(kt, (n_test, d))
        y, yt = f(X @ E.T), f(Xt @ E.T)
        for name, W in (("random_features", w["W0"][s]), ("one_step", w["W"][s])):
            W = jnp.asarray(W) / math.sqrt(d)
            F, Ft = sigma(X @ W.T), sigma(Xt @ W.T)
            table = np.zeros((len(alphas_ridge), len(lambdas)))
            for i, ar in enumerate(alphas_ridge):
                n = max(1, round(ar * d))
                Fn, yn = F[:n], y[:n]
                G = Fn.T @ Fn / n
                r = Fn.T @ yn / n
                for j, lam in enumerate(lambdas):
                    b = jnp.linalg.solve(G + lam * jnp.eye(p), r)
                    table[i, j] = float(jnp.mean((yt - Ft @ b) ** 2))
            errs[name].append(table)
    if not all(np.all(np.isfinite(np.array(t))) for t in errs.values()):
        raise ValueError("non-finite ridge errors: raise --lambda or lower the learning rate")
    out = {"alphas_ridge": alphas_ridge, "lambdas": lambdas, "p": p, "d": d, "alpha": alpha,
           "lr": eta, "seeds": seeds, "n_test": n_test,
           "E_y2": target_moments(target, student)[1]}
    for name, tabs in errs.items():
        arr = np.array(tabs)
        out[name] = arr.mean(axis=0).tolist()
        out[name + "_stderr"] = (arr.std(axis=0, ddof=1) / math.sqrt(seeds)).tolist() \
            if seeds > 1 else None
    return out
