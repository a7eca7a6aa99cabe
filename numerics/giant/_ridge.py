"""Ridge regression on the features after one giant step against the random-features
baseline (docs/giant.md §3; the question of Cui, Pesce, Dandi, Krzakala, Lu, Zdeborova,
Loureiro, arXiv 2402.04980, and Dandi, Pesce, Zdeborova, Krzakala, arXiv 2410.18938).

Simulation only: W1 is the first layer after one step of the spiked-features network of
`_spike` (normalisation of docs/giant.md §2, lr = eta sqrt(p)), W0 the same network before
the step. For each, the features phi(x) = sigma(W x) (p,) are fitted by ridge on n_r =
alpha_r d fresh samples,

    b = argmin (1/n_r) sum (y - phi(x)^T b)^2 + lambda |b|^2,

and the test error E(y - phi(x)^T b)^2 is estimated on `n_test` fresh samples.

Theory ("*_theory" entries): the deterministic equivalent of ridge on the Gaussian-equivalent
features of each seed's W (`gaussian_equivalent_moments`, `ridge_deterministic_equivalent`).
For W0 this is the random-features ridge asymptotics (Mei, Montanari arXiv 1908.05355) in
deterministic-equivalent form; for W1 it is the "linear spike" model, exact while the spike
leaves the Gaussian equivalence intact (a spike of order one in operator norm, Ba et al.
arXiv 2205.01445); in the giant regime (rows moved by O(1) along the spike) the features see
the label's non-linear part along the spike and the conditional Gaussian equivalence of Cui
et al. (arXiv 2402.04980) is needed: not implemented (docs/giant.md §4).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["exact_moments", "gaussian_equivalent_moments", "ridge_after_step",
           "ridge_deterministic_equivalent"]


def ridge_after_step(target, student: str, *, p: int, d: int, alpha: float, eta: float,
                     alphas_ridge, lambdas, seeds: int = 2, seed: int = 0,
                     n_test: int = 4000) -> dict:
    """Test errors of ridge on the random features (W0) and on the features after one step
    (W1), per ridge sample ratio alpha_r and penalty lambda, averaged over seeds.

    Returns:
        JSON-ready dict: alphas_ridge, lambdas, "random_features" and "one_step" test-error
        tables (len(alphas_ridge) x len(lambdas)) with their standard errors, their
        Gaussian-equivalent deterministic equivalents ("random_features_theory",
        "one_step_theory", seed means), for single-index targets also the exact-moment
        covariate model ("random_features_exact_theory", "one_step_exact_theory",
        `exact_moments`), E_y2 (the error of the zero predictor).
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
    exact = w["Wstar"].shape[1] == 1
    theory = {"random_features": [], "one_step": []}
    if exact:
        theory.update(random_features_exact=[], one_step_exact=[])
    for s in range(seeds):
        key = jax.random.fold_in(jax.random.key(seed + 7919), s)
        kx, kt = jax.random.split(key)
        E = jnp.asarray(w["Wstar"][s]) / math.sqrt(d)
        X = jax.random.normal(kx, (n_max, d))
        Xt = jax.random.normal(kt, (n_test, d))
        y, yt = f(X @ E.T), f(Xt @ E.T)
        for name, W in (("random_features", w["W0"][s]), ("one_step", w["W"][s])):
            Sig, cross, ey2 = gaussian_equivalent_moments(np.asarray(W) / math.sqrt(d),
                                                          np.asarray(E), student, target)
            theory[name].append([[ridge_deterministic_equivalent(
                Sig, cross, ey2, max(1, round(ar * d)), lam) for lam in lambdas]
                for ar in alphas_ridge])
            if exact:
                Sig, cross, ey2 = exact_moments(np.asarray(W) / math.sqrt(d), np.asarray(E),
                                                student, target)
                theory[name + "_exact"].append([[ridge_deterministic_equivalent(
                    Sig, cross, ey2, max(1, round(ar * d)), lam) for lam in lambdas]
                    for ar in alphas_ridge])
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
    for name, tabs in theory.items():
        out[name + "_theory"] = np.array(tabs).mean(axis=0).tolist()
    for name, tabs in errs.items():
        arr = np.array(tabs)
        out[name] = arr.mean(axis=0).tolist()
        out[name + "_stderr"] = (arr.std(axis=0, ddof=1) / math.sqrt(seeds)).tolist() \
            if seeds > 1 else None
    return out


def ridge_deterministic_equivalent(Sigma, cross, E_y2: float, n: int, lam: float) -> float:
    """Test error of ridge b = (F^T F / n + lam I)^(-1) F^T y / n on n i.i.d. samples of a
    jointly Gaussian (phi, y) (E[phi phi^T] = Sigma, E[phi y] = cross, E[y^2] = E_y2), in the
    proportional limit (deterministic equivalent: Hastie, Montanari, Rosset, Tibshirani
    arXiv 1903.08560 §5; Bach arXiv 2303.01372 §3). With theta = Sigma^(-1) cross and
    s^2 = E_y2 - cross^T theta (the part of y no linear function of phi explains):

        kappa - lam = (kappa / n) tr Sigma (Sigma + kappa)^(-1),
        df2 = tr Sigma^2 (Sigma + kappa)^(-2),
        error = (s^2 + kappa^2 theta^T Sigma (Sigma + kappa)^(-2) theta) / (1 - df2 / n).
    """
    from scipy.optimize import brentq

    S = np.asarray(Sigma, float)
    ev, V = np.linalg.eigh((S + S.T) / 2)
    ev = np.clip(ev, 0.0, None)
    c = V.T @ np.asarray(cross, float)
    keep = ev > 1e-12 * max(ev.max(), 1e-300)
    th = np.where(keep, c / np.where(keep, ev, 1.0), 0.0)
    s2 = max(float(E_y2 - np.sum(c[keep] * th[keep])), 0.0)
    if not lam > 0:
        raise ValueError(f"the ridge penalty must be positive, got {lam}")

    def h(k):
        return k - lam - k * np.sum(ev / (ev + k)) / n

    hi = lam + 1.0
    while h(hi) < 0:
        hi *= 2
    kappa = brentq(h, lam, hi, xtol=1e-14, rtol=1e-12)
    df2 = float(np.sum(ev**2 / (ev + kappa) ** 2))
    bias = float(kappa**2 * np.sum(ev * th**2 / (ev + kappa) ** 2))
    return (s2 + bias) / (1 - df2 / n)


def gaussian_equivalent_moments(W, teacher, student: str, target) -> tuple:
    """(Sigma, cross, E_y2) of the Gaussian-equivalent features of sigma(W x) (rows of norm ~ 1)
    for the label y = f(teacher x) (teacher: k x d orthonormal rows):

        Sigma = mu0^2 1 1^T + mu1^2 W W^T + mu_*^2 I,   cross = mu0 E[y] 1 + mu1 W teacher^T c1,

    mu_k = E[sigma He_k], mu_*^2 = E[sigma^2] - mu0^2 - mu1^2, c1 = E[y z] (Mei, Montanari
    arXiv 1908.05355; Goldt et al. arXiv 2006.14709; Hu, Lu arXiv 2009.07669)."""
    from escalier.derive import Target, hermite_expansion

    from ._spike import student_moments, target_moments

    W = np.asarray(W, float)
    p = W.shape[0]
    m = student_moments(student)
    c1, ey2, _ = target_moments(target, student)
    t = Target.parse(target) if isinstance(target, str) else target
    c0 = float(hermite_expansion(t, 0)[(0,) * t.k].value)
    star = m["E_sigma2"] - m["mu0"] ** 2 - m["mu1"] ** 2
    Sigma = m["mu0"] ** 2 * np.ones((p, p)) + m["mu1"] ** 2 * W @ W.T + star * np.eye(p)
    cross = m["mu0"] * c0 * np.ones(p) + m["mu1"] * W @ (np.asarray(teacher, float).T @ c1)
    return Sigma, cross, ey2


def exact_moments(W, teacher, student: str, target, orders: int = 40) -> tuple:
    """(Sigma, cross, E_y2) with the EXACT second moments of the features sigma(W x) and of
    their correlation with a single-index label y = f(teacher . x) (rows of any norm): for
    pre-activations of norms r_i, r_j and correlation C_ij = w_i . w_j / (r_i r_j), Mehler's
    formula

        E[sigma(w_i . x) sigma(w_j . x)] = sum_k h_k(r_i) h_k(r_j) C_ij^k / k!,
        h_k(r) = E[sigma(r g) He_k(g)],

    (truncated at `orders`; the diagonal is E[sigma(r_i g)^2] exactly), and
    E[sigma(w_i . x) He_k(z)] = (w_i . teacher)^k h_k(r_i) / r_i^k. Used as the "exact-moment"
    Gaussian covariate model: ridge on Gaussian features with these moments
    (`ridge_deterministic_equivalent`). Unlike `gaussian_equivalent_moments` it keeps the
    row norms and every Hermite order of the overlaps, which after a giant step are O(1)
    along the spike (docs/giant.md §4).
    """
    import sympy as sp

    from escalier.derive import Target, activation, hermite_expansion

    W = np.asarray(W, float)
    teacher = np.asarray(teacher, float)
    if teacher.shape[0] != 1:
        raise ValueError("exact_moments: single-index targets (k = 1) only")
    t = Target.parse(target) if isinstance(target, str) else target
    e = hermite_expansion(t, orders)
    ck = np.array([float(e[(k,)].value) if (k,) in e.coefficients else 0.0
                   for k in range(orders + 1)])
    from ._spike import label_second_moment

    ey2 = label_second_moment(t)
    sigma = activation(student)
    x = next(iter(sigma.variables))
    fn = sp.lambdify([x], sigma.expr, modules=["numpy", "scipy"])
    g, wts = np.polynomial.hermite_e.hermegauss(200)
    wts = wts / math.sqrt(2 * math.pi)
    He = np.array([np.polynomial.hermite_e.hermeval(g, [0] * k + [1])
                   for k in range(orders + 1)])  # (K+1, nodes)
    r = np.linalg.norm(W, axis=1)
    vals = np.asarray(fn(np.outer(r, g)), float) * wts  # (p, nodes)
    h = vals @ He.T  # (p, K+1): h_k(r_i)
    diag = np.sum(vals * np.asarray(fn(np.outer(r, g)), float), axis=1)
    C = (W @ W.T) / np.outer(r, r)
    Sigma = np.zeros_like(C)
    Ck = np.ones_like(C)
    for k in range(orders + 1):
        Sigma += np.outer(h[:, k], h[:, k]) * Ck / math.factorial(k)
        Ck = Ck * C
    np.fill_diagonal(Sigma, diag)
    m = W @ teacher[0]
    cross = sum(ck[k] * (m / r) ** k * h[:, k] for k in range(orders + 1))
    return Sigma, cross, ey2
