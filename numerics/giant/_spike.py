"""The spiked features after one gradient step in the proportional regime (docs/giant.md §2;
Ba, Erdogdu, Suzuki, Wang, Wu, Yang, arXiv 2205.01445).

Normalisation (the one of docs/giant.md): f(x) = (1/sqrt(p)) sum_i a_i sigma(w_i . x) with
a_i = (-1)^i / sqrt(p), rows w_i ~ N(0, I_d / d) (W0 is p x d with entries of variance 1/d),
x ~ N(0, I_d), y = f*(W* x) with orthonormal teacher rows. One full-batch GD step on
n = alpha d fresh samples, square loss (1/2n) sum (y - f)^2, learning rate lr = eta sqrt(p):

    W1 = W0 + lr (1/n) sum_mu Delta_mu (a / sqrt(p)) o sigma'(W0 x_mu) x_mu^T.

Splitting sigma' = mu1 + (sigma' - mu1), mu1 = E[sigma'(g)] (g ~ N(0, 1)), the first part is
the rank-one spike theta u v^T, u = a / |a|, v = X^T y / n / |X^T y / n| (f = O(p^-1/2) at the
start, so Delta = y to leading order), with

    theta = eta mu1 |X^T y / n| -> eta mu1 sqrt(|c1|^2 + E[y^2] / alpha),   c1 = E[y z];

the rest has operator norm O(eta / sqrt(p)). Law of large numbers for v (its component
outside the teacher span is a Gaussian vector of squared norm E[y^2] / alpha):

    cos^2(v, teacher span) -> alpha |c1|^2 / (alpha |c1|^2 + E[y^2]).

W0 has a Marchenko-Pastur bulk of singular values with edge 1 + sqrt(c), c = p / d; the
rank-one additive perturbation of a rectangular Gaussian matrix (Benaych-Georges,
Nadakuditi 2012, arXiv 1103.2221) gives an outlier iff theta > c^(1/4), at

    s_out = sqrt((1 + theta^2)(c + theta^2)) / theta,

and the top right singular vector's alignment with v, 1 - (c + theta^2) / (theta^2 (theta^2 +
1)). The threshold learning rate is eta_c = c^(1/4) / (mu1 sqrt(|c1|^2 + E[y^2] / alpha)).
c1, E[y^2] and mu1 come from the project's Hermite expansions (exact for polynomial targets;
Gauss-Hermite quadrature otherwise).

In the project's own units (Scenario: rows of norm ~ sqrt(d), lambda = w . x / sqrt(d),
f = sum a_j sigma) this is the Scenario with a_j = (-1)^j / p and lr = eta sqrt(p) d, which
`spike_simulation` runs with the full engine's giant step.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["feature_covariance_theory", "feature_covariance_top", "label_second_moment",
           "outlier_position",
           "spike_scenario", "spike_simulation", "spike_summary", "spike_theory",
           "student_moments", "target_moments"]


def target_moments(target, student: str) -> tuple[np.ndarray, float, float]:
    """(c1, E[y^2], mu1): c1_r = E[y z_r] (k,), the label's second moment and
    mu1 = E[sigma'(g)] = E[g sigma(g)] (Stein), g ~ N(0, 1)."""
    from escalier.derive import Target, activation, hermite_expansion

    t = Target.parse(target) if isinstance(target, str) else target
    k = t.k
    e = hermite_expansion(t, 1)
    c1 = np.array([float(e[tuple(1 if j == r else 0 for j in range(k))].value)
                   for r in range(k)])
    ey2 = label_second_moment(t)
    sigma = activation(student)
    x = next(iter(sigma.variables))
    z1 = Target.parse("z1").expr
    es = hermite_expansion(Target(sigma.expr.xreplace({x: z1}), 1), 1)
    mu1 = float(es[(1,)].value)
    return c1, ey2, mu1


def label_second_moment(t) -> float:
    """E[y^2]: exact from the complete Hermite expansion of a polynomial target, else
    Gauss-Hermite quadrature of y^2 (tensor rule, k <= 3)."""
    from escalier.derive import hermite_expansion

    try:
        e = hermite_expansion(t)
        if e.complete and e.exact:
            return float(sum(float(e.degree_mass(m)) for m in range(e.max_degree + 1)))
    except ValueError:
        pass
    if t.k > 3:
        raise ValueError(f"E[y^2] by quadrature needs k <= 3 latent coordinates, got {t.k}")
    import sympy as sp

    from escalier.derive.gaussian import quadrature

    zs = sorted(t.expr.free_symbols, key=lambda s: s.name)
    fn = sp.lambdify(zs, t.expr ** 2, modules=["numpy", "scipy"])
    nodes = {1: 200, 2: 60, 3: 24}[t.k]
    return quadrature(lambda *u: fn(*u[: len(zs)]), np.eye(t.k), nodes)


def outlier_position(theta, c: float):
    """sqrt((1 + theta^2)(c + theta^2)) / theta above theta = c^(1/4), NaN below (numpy)."""
    theta = np.asarray(theta, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.sqrt((1 + theta**2) * (c + theta**2)) / theta
    return np.where(theta > c ** 0.25, out, np.nan)


def spike_theory(target, student: str, *, p: int, d: int, alpha: float, eta: float) -> dict:
    """The predictions of the module docstring (JSON-ready)."""
    c1, ey2, mu1 = target_moments(target, student)
    c = p / d
    c1sq = float(c1 @ c1)
    vnorm = math.sqrt(c1sq + ey2 / alpha)
    theta = eta * abs(mu1) * vnorm
    above = theta > c ** 0.25
    out = float(outlier_position(theta, c)) if above else None
    vec = 1 - (c + theta**2) / (theta**2 * (theta**2 + 1)) if above else 0.0
    return {
        "c1": c1.tolist(), "E_y2": ey2, "mu1": mu1, "ratio_p_over_d": c,
        "spike_strength": theta, "spike_threshold": c ** 0.25,
        "alignment_predicted": alpha * c1sq / (alpha * c1sq + ey2),
        "outlier_predicted": out, "bulk_edge": 1 + math.sqrt(c),
        "singular_vector_alignment_predicted": vec,
        "threshold_lr": (c ** 0.25 / (abs(mu1) * vnorm)) if mu1 != 0 else None,
    }


def spike_scenario(target, student: str, p: int, d: int, eta: float):
    """(Scenario, lr): the module docstring's network in the project's units and the
    first-layer learning rate of its step, lr = eta sqrt(p) d (given to the giant step; the
    Scenario's own lr is a placeholder 1, so that one compiled step serves every eta)."""
    from escalier.derive import Scenario

    a = tuple((-1.0) ** j / p for j in range(p))
    return Scenario(target, student=student, p=p, loss="square", a=a), \
        float(eta) * math.sqrt(p) * d


def spike_simulation(target, student: str, *, p: int, d: int, alpha: float, eta: float,
                     seeds: int = 2, seed: int = 0, weights: bool = False) -> dict:
    """One step of the d-dimensional network (the full engine's giant step), per seed: the
    alignment cos^2(v, teacher span), the top two singular values of W1 (rows of norm ~ 1),
    the top right singular vector's alignment with v, the seed's own spike strength
    theta = eta mu1 |X^T y / n| ("theta") and the singular values of seed 0 (weights=True:
    also "W", the (S, p, d) weights after the step, rows of norm ~ 1).

    Raises:
        ValueError: bad sizes, a diverging step.
    """
    from escalier.numerics.simulation import giant_step_weights

    for name, v in (("p", p), ("d", d), ("seeds", seeds)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    if not (math.isfinite(alpha) and alpha > 0 and math.isfinite(eta) and eta > 0):
        raise ValueError(f"alpha and the learning rate must be positive, got {alpha}, {eta}")
    sc, lr = spike_scenario(target, student, p, d, eta)
    n = max(1, round(alpha * d))
    out = giant_step_weights(sc, d, n, lr, seeds=seeds, seed=seed)
    W = out["W"] / math.sqrt(d)
    if not np.all(np.isfinite(W)):
        raise ValueError(f"the step diverged at lr = {eta:g} sqrt(p); use a smaller --lr")
    E = out["Wstar"] / math.sqrt(d)  # orthonormal teacher rows
    v = out["v"]
    align = np.einsum("skd,sd->s", E, v) ** 2 if E.shape[1] == 1 else \
        np.sum(np.einsum("skd,sd->sk", E, v) ** 2, axis=1)
    align = align / np.sum(v * v, axis=1)
    tops, seconds, vecs, spectrum = [], [], [], None
    for s in range(seeds):
        _, sv, Vt = np.linalg.svd(W[s], full_matrices=False)
        tops.append(sv[0])
        seconds.append(sv[1] if sv.size > 1 else np.nan)
        vecs.append(float((Vt[0] @ v[s]) ** 2 / (v[s] @ v[s])))
        if s == 0:
            spectrum = sv
    c1, ey2, mu1 = target_moments(target, student)
    theta = eta * abs(mu1) * np.linalg.norm(v, axis=1)
    res = {"n": int(n), "alignment": align, "top": np.array(tops), "theta": theta,
           "second": np.array(seconds), "vector_alignment": np.array(vecs),
           "singular_values": spectrum}
    if weights:
        res["W"] = W
    return res


def _se(x) -> float:
    x = np.asarray(x, float)
    return float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else float("nan")


def spike_summary(target, student: str, *, p: int, d: int, alpha: float, eta: float,
                  seeds: int = 2, seed: int = 0, cov_samples: int | None = None) -> dict:
    """Theory and simulation side by side: the JSON "spike" entry of `escalier giant-step
    --spike` (plus the singular values of seed 0 under "singular_values"). cov_samples
    (default 20 p; 0: skip): fresh samples for the measured feature covariance."""
    th = spike_theory(target, student, p=p, d=d, alpha=alpha, eta=eta)
    sim = spike_simulation(target, student, p=p, d=d, alpha=alpha, eta=eta, seeds=seeds,
                           seed=seed, weights=True)
    n_cov = 20 * p if cov_samples is None else int(cov_samples)
    cov = {}
    if n_cov > 0:
        ft = feature_covariance_theory(student, c=p / d, outlier=th["outlier_predicted"],
                                       n_samples=n_cov, p=p)
        tops = [feature_covariance_top(W, student, n_samples=n_cov, seed=seed + i)
                for i, W in enumerate(sim["W"])]
        cov = {"feature_cov_top_predicted": ft["feature_cov_top_predicted"],
               "feature_cov_top_predicted_at_samples": ft["feature_cov_top_sample"],
               "feature_cov_top_measured": float(np.mean(tops)),
               "feature_cov_top_stderr": _se(tops),
               "feature_cov_bulk_edge": ft["feature_cov_bulk_edge"],
               "feature_cov_samples": n_cov}
    return {
        "alignment_predicted": th["alignment_predicted"],
        "alignment_measured": float(sim["alignment"].mean()),
        "alignment_stderr": _se(sim["alignment"]),
        "outlier_predicted": th["outlier_predicted"],
        "outlier_measured": float(sim["top"].mean()),
        "outlier_stderr": _se(sim["top"]),
        "second_singular_value": float(np.nanmean(sim["second"])),
        "bulk_edge": th["bulk_edge"],
        "threshold_lr": th["threshold_lr"],
        "lr": eta,
        "spike_strength": th["spike_strength"],
        "spike_threshold": th["spike_threshold"],
        "singular_vector_alignment_predicted": th["singular_vector_alignment_predicted"],
        "singular_vector_alignment_measured": float(sim["vector_alignment"].mean()),
        "c1": th["c1"], "E_y2": th["E_y2"], "mu1": th["mu1"],
        "p": p, "d": d, "n": sim["n"], "alpha": alpha, "seeds": seeds,
        "singular_values": sim["singular_values"].tolist(),
        **cov,
    }


def student_moments(student: str) -> dict:
    """mu_k = E[sigma(g) He_k(g)] for k = 0, 1, 2 and E[sigma(g)^2], g ~ N(0, 1) (exact where
    the project's Hermite expansion is; Gauss-Hermite quadrature otherwise)."""
    from escalier.derive import Target, activation, hermite_expansion

    sigma = activation(student)
    x = next(iter(sigma.variables))
    z1 = Target.parse("z1").expr
    t = Target(sigma.expr.xreplace({x: z1}), 1)
    es = hermite_expansion(t, 2)
    mu = [float(es[(k,)].value) * math.factorial(k) for k in range(3)]
    return {"mu0": mu[0], "mu1": mu[1], "mu2": mu[2], "E_sigma2": label_second_moment(t)}


def _mp_density(c: float):
    """Marchenko-Pastur law of W W^T (W p x d, entries of variance 1/d, c = p / d): the
    density on [(1 - sqrt c)^2, (1 + sqrt c)^2] and the mass of the atom at 0 (c > 1)."""
    lo, hi = (1 - math.sqrt(c)) ** 2, (1 + math.sqrt(c)) ** 2

    def rho(x):
        return math.sqrt(max((hi - x) * (x - lo), 0.0)) / (2 * math.pi * c * x)

    return rho, lo, hi, max(0.0, 1 - 1 / c)


def _mp_integral(fn, c: float) -> float:
    """E[fn(x)] under the Marchenko-Pastur law of _mp_density (atom included)."""
    from scipy.integrate import quad

    rho, lo, hi, atom = _mp_density(c)
    val = quad(lambda x: fn(x) * rho(x), lo, hi, limit=200)[0]
    return val + atom * fn(0.0)


def feature_covariance_theory(student: str, *, c: float, outlier: float | None,
                              n_samples: int | None = None, p: int | None = None) -> dict:
    """Top eigenvalue of the centred feature covariance Cov(sigma(W1 x)) (p x p), x ~ N(0, I_d),
    after the step (rows of norm ~ 1; docs/giant.md §3.3).

    Gaussian equivalence (Mehler's formula for rows of unit norm; Mei, Montanari arXiv
    1908.05355, Hu, Lu arXiv 2009.07669; the spiked case: Ba et al. arXiv 2205.01445 §3):

        Cov(phi) = mu1^2 W1 W1^T + mu_*^2 I + (mu2^2 / (2 d)) (1 1^T - I) + o(1) in operator norm,

    mu_k = E[sigma He_k], mu_*^2 = E[sigma^2] - mu0^2 - mu1^2. Its spectrum is mu1^2 times
    (Marchenko-Pastur of ratio c = p / d plus the BBP outlier s_out^2 of W1) shifted by
    mu_*^2, so the top eigenvalue is

        lambda_top = mu1^2 s^2 + mu_*^2,  s = s_out above the BBP threshold, 1 + sqrt(c) below,

    unless the rank-one term beta = mu2^2 c / 2 along 1 / sqrt(p) (orthogonal to the spike for
    the alternating second layer) pops out of the bulk itself: beta G(lambda) = 1 with G the
    Cauchy transform of the bulk; the larger of the two is returned.

    With n_samples, also the top eigenvalue of the SAMPLE covariance of n_samples features
    (Baik, Silverstein 2006: psi(l) = l (1 + (p/n) E_H[t / (l - t)]), H the population bulk;
    the sample bulk edge is min psi, and a population eigenvalue below psi's minimiser sticks
    to it), which is what a finite-sample measurement converges to.
    """
    m = student_moments(student)
    mu1s = m["mu1"] ** 2
    star = m["E_sigma2"] - m["mu0"] ** 2 - mu1s
    edge = mu1s * (1 + math.sqrt(c)) ** 2 + star
    s = outlier if outlier is not None else 1 + math.sqrt(c)
    top = mu1s * s**2 + star
    beta = m["mu2"] ** 2 * c / 2
    ones = None
    if beta > 0 and mu1s > 0:
        def G(lam):
            return _mp_integral(lambda x: 1.0 / (lam - (mu1s * x + star)), c)

        if beta * G(edge + 1e-9 * edge) > 1:
            from scipy.optimize import brentq

            ones = brentq(lambda lam: beta * G(lam) - 1, edge * (1 + 1e-9), edge + 10 * beta + 10)
    out = {"feature_cov_top_predicted": max(top, ones or -math.inf),
           "feature_cov_spike": top, "feature_cov_ones_outlier": ones,
           "feature_cov_bulk_edge": edge, **m, "mu_star2": star}
    if n_samples is not None:
        if p is None:
            raise ValueError("feature_covariance_theory: n_samples needs p")
        from scipy.optimize import minimize_scalar

        g = p / n_samples
        lam = out["feature_cov_top_predicted"]

        def psi(ell):
            return ell * (1 + g * _mp_integral(
                lambda x: (mu1s * x + star) / (ell - (mu1s * x + star)), c))

        # the sample bulk's right edge is min psi over ell > edge (Silverstein, Choi 1995);
        # a population eigenvalue beyond the minimiser shows as psi(ell), else it sticks
        span = max(edge, 1e-12)
        best = minimize_scalar(psi, bounds=(edge + 1e-6 * span, edge + 20 * span),
                               method="bounded", options={"xatol": 1e-10 * span})
        out["feature_cov_sample_bulk_edge"] = float(best.fun)
        out["feature_cov_top_sample"] = float(psi(lam)) if lam > best.x else float(best.fun)
    return out


def feature_covariance_top(W, student: str, *, n_samples: int, seed: int = 0,
                           block: int = 4096) -> float:
    """Top eigenvalue of the centred sample covariance of sigma(W x) over n_samples fresh
    x ~ N(0, I_d) (W: p x d with rows of norm ~ 1), accumulated over blocks."""
    import jax
    import jax.numpy as jnp

    from escalier.derive import Scenario
    from escalier.numerics.lower import student_functions

    W = jnp.asarray(W)
    p, d = W.shape
    sigma, _ = student_functions(Scenario("z1", student=student, p=1))
    key = jax.random.key(seed + 104729)

    @jax.jit
    def part(k, size_mask):
        X = jax.random.normal(k, (block, d), W.dtype)
        F = sigma(X @ W.T) * size_mask[:, None]
        return F.T @ F, F.sum(axis=0)

    S = jnp.zeros((p, p), W.dtype)
    mean = jnp.zeros((p,), W.dtype)
    for i in range(-(-n_samples // block)):
        mask = (i * block + jnp.arange(block) < n_samples).astype(W.dtype)
        a, b = part(jax.random.fold_in(key, i), mask)
        S, mean = S + a, mean + b
    mean = mean / n_samples
    C = np.asarray(S / n_samples - jnp.outer(mean, mean))
    return float(np.linalg.eigvalsh(C)[-1])
