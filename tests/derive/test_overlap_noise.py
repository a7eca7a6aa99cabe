"""The covariance of the per-sample overlap update (escalier.derive.ode.overlap_noise) against
independent quadratures of the update itself (docs/noise.md).

References computed here, not by the code under test:
- the exact one-step covariance at finite d, by Gauss-Hermite quadrature over
  u = (lambda, nu) ~ N(0, Omega) of the unexpanded update
  Delta Q = (eta/d) (g_j lambda_l + g_l lambda_j) + (eta^2/d^2) g_j g_l |x|^2,
  Delta M = (eta/d) g_j nu_r, with |x|^2 = u^T Omega^-1 u + chi^2_{d-r} (r = p + k) and the
  chi^2 moments E = c, E[chi^4] = c (c + 2) in closed form; (d^2 / eta^2) Cov -> C(eta)
  with an O(1/d) remainder (removed here by Richardson extrapolation over d, 2d);
- the covariance of xi by a direct tensor quadrature of the update vector (numpy);
- the small-overlap diffusion of `escalier scaling` (numerics.verify._diffusion.noise_variance)
  for spherical p = 1 at eta -> 0.
"""

import numpy as np
import pytest

from escalier.derive import Scenario
from escalier.derive.gaussian import hermite_rule
from escalier.derive.ode import overlap_noise


def _omega(Q, M, P):
    Q, M, P = (np.atleast_2d(np.asarray(v, dtype=float)) for v in (Q, M, P))
    return np.block([[Q, M], [M.T, P]])


def _nodes(Om, n):
    x, w = hermite_rule(n, Om.shape[0])
    ev, V = np.linalg.eigh(Om)
    return x @ (V * np.sqrt(ev)).T, w


def _exact_step_cov(sig, dsig, f, Q, M, P, a, eta, d, n=12):
    """Exact Cov of one SGD step (n_b = 1, no label noise) of (Q_jl (j <= l), M_jr) at d."""
    Om = _omega(Q, M, P)
    p, k = np.atleast_2d(Q).shape[0], np.atleast_2d(P).shape[0]
    u, w = _nodes(Om, n)
    lam, nu = u[:, :p], u[:, p:]
    s = np.einsum("ni,ij,nj->n", u, np.linalg.inv(Om), u)
    c = d - (p + k)
    yhat = sum(a[j] * sig(lam[:, j]) for j in range(p))
    err = f(nu) - yhat
    g = np.stack([a[j] * err * dsig(lam[:, j]) for j in range(p)], 1)
    # Delta = A + B |x|^2 per entry, A, B functions of u
    A, B = [], []
    for j in range(p):
        for m in range(j, p):
            A.append(eta / d * (g[:, j] * lam[:, m] + g[:, m] * lam[:, j]))
            B.append(eta**2 / d**2 * g[:, j] * g[:, m])
    for j in range(p):
        for r in range(k):
            A.append(eta / d * g[:, j] * nu[:, r])
            B.append(np.zeros_like(s))
    A, B = np.array(A), np.array(B)
    x1, x2 = s + c, (s + c) ** 2 + 2 * c            # E[|x|^2 | u], E[|x|^4 | u]
    mean = (A + B * x1) @ w
    second = np.einsum("an,bn,n->ab", A, A, w) + np.einsum("an,bn,n->ab", A, B * x1, w) \
        + np.einsum("an,bn,n->ab", B * x1, A, w) + np.einsum("an,bn,n->ab", B, B * x2, w)
    return second - np.outer(mean, mean)


def _limit(fn, d):
    """(d^2 / eta^2) Cov extrapolated to d -> infinity from d and 2d (Richardson)."""
    return 2 * fn(2 * d) * (2 * d) ** 2 - fn(d) * d**2


def test_finite_lr_covariance_matches_exact_quadrature_of_the_expanded_update():
    """p = 1, polynomial network (every expectation exact): C(eta) including the
    (eta / n_b) g^2 part of xi_Q equals the limit of the exact one-step covariance."""
    sc = Scenario("z1 + z1**2/4", student="x + x**2/4", p=1, lr=0.7)
    noise = overlap_noise(sc)
    assert noise.backend == "wick"
    y = [0.8, 0.5]
    sig = lambda x: x + x**2 / 4
    dsig = lambda x: 1 + x / 2
    f = lambda nu: nu[:, 0] + nu[:, 0] ** 2 / 4
    for eta in (0.7, 1.5):
        C = noise.evaluate(y, {"eta": eta})
        ref = _limit(lambda d, eta=eta: _exact_step_cov(sig, dsig, f, 0.8, 0.5, 1.0, [1.0],
                                                        eta, d),
                     10**6) / eta**2
        np.testing.assert_allclose(C, ref, rtol=1e-6, atol=1e-9)
        # the correction is not small: the eta -> 0 covariance misses it by O(eta)
        C0 = overlap_noise(sc, finite_lr=False).evaluate(y)
        assert np.abs(C0 - ref).max() > 0.05 * np.abs(ref).max()


def test_committee_covariance_matches_exact_quadrature():
    """p = 2, k = 1 linear committee (label noise off): every entry of the 5 x 5 covariance,
    Q's upper triangle as the distinct state entries, M rows; finite lr and batch 1."""
    sc = Scenario("z1", student="linear", p=2, lr=0.6, a=(1.0, 0.5))
    noise = overlap_noise(sc)
    assert [s.name for s in noise.state] == ["Q11", "Q12", "Q22", "M11", "M21"]
    Q = np.array([[0.9, 0.2], [0.2, 0.7]])
    M = np.array([[0.4], [0.3]])
    y = [0.9, 0.2, 0.7, 0.4, 0.3]
    C = noise.evaluate(y)
    ident = lambda x: x
    one = lambda x: np.ones_like(x)
    ref = _limit(lambda d: _exact_step_cov(ident, one, lambda nu: nu[:, 0], Q, M, [[1.0]],
                                           [1.0, 0.5], 0.6, d, n=8), 10**6) / 0.6**2
    np.testing.assert_allclose(C, ref, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(C, C.T, atol=0)
    assert np.linalg.eigvalsh(C).min() > -1e-12


def test_erf_committee_leading_order_against_quadrature():
    """erf p = 2, k = 1 at eta -> 0 (closed forms): C against a 60^3-node quadrature of
    Cov[xi], xi = (g_j lambda_l + g_l lambda_j, g_j nu)."""
    from scipy.special import erf

    sc = Scenario("erf(z1/sqrt(2))", student="erf", p=2, a=(1.0, 1.0))
    noise = overlap_noise(sc, finite_lr=False)
    assert noise.backend == "closed-form"
    Q = np.array([[0.6, 0.1], [0.1, 0.5]])
    M = np.array([[0.4], [0.3]])
    C = noise.evaluate([0.6, 0.1, 0.5, 0.4, 0.3])
    u, w = _nodes(_omega(Q, M, [[1.0]]), 60)
    sig = lambda x: erf(x / np.sqrt(2))
    dsig = lambda x: np.sqrt(2 / np.pi) * np.exp(-x**2 / 2)
    err = sig(u[:, 2]) - sig(u[:, 0]) - sig(u[:, 1])
    g = [err * dsig(u[:, 0]), err * dsig(u[:, 1])]
    xi = np.array([2 * g[0] * u[:, 0], g[0] * u[:, 1] + g[1] * u[:, 0], 2 * g[1] * u[:, 1],
                   g[0] * u[:, 2], g[1] * u[:, 2]])
    mean = xi @ w
    ref = np.einsum("an,bn,n->ab", xi, xi, w) - np.outer(mean, mean)
    np.testing.assert_allclose(C, ref, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("target, student", [("He3(z1)", "He3"), ("erf(z1/sqrt(2))", "erf")])
def test_spherical_leading_order_is_the_scaling_diffusion(target, student):
    """Spherical p = 1 at eta -> 0: C(m) = V(m) of the small-overlap diffusion used by
    `escalier scaling` (independent numpy quadrature, numerics.verify._diffusion)."""
    from escalier.numerics.verify._diffusion import noise_variance

    sc = Scenario(target, student=student, p=1, spherical=True)
    noise = overlap_noise(sc, finite_lr=False)
    ms = [0.0, 0.2, 0.5]
    C = [noise.evaluate([m])[0, 0] for m in ms]
    np.testing.assert_allclose(C, noise_variance(sc, ms), rtol=1e-8, atol=1e-12)


def _exact_spherical_step_cov(Q12, M, a, eta, d, tangent, n=10):
    """Exact Cov of one step of spherical rows (p = 2, k = 1, linear student on y = z1,
    n_b = 1) of (Q_12, M_11, M_21) at d: the step of row j is (eta / sqrt(d)) g_j x (tangent:
    minus its component (eta / d) g_j lambda_j w_j along w_j), then w_j <- sqrt(d) w_j / |w_j|.
    In overlaps, with c_j = 1 - (eta / d) g_j lambda_j (tangent; else 1) and b_j = eta g_j / d,
    the raw Q'_jl and M'_j1 are written out below, then normalised: Q'_12 / sqrt(Q'_11 Q'_22)
    and M'_j1 / sqrt(Q'_jj). |x|^2 / d is replaced by its conditional mean (s + d - 3) / d:
    its fluctuation changes the covariance by O(1/d) relative, removed by Richardson."""
    Q = np.array([[1.0, Q12], [Q12, 1.0]])
    Om = _omega(Q, np.asarray(M, dtype=float).reshape(2, 1), [[1.0]])
    u, w = _nodes(Om, n)
    lam, nu = u[:, :2], u[:, 2]
    s = np.einsum("ni,ij,nj->n", u, np.linalg.inv(Om), u)
    x2 = (s + d - 3) / d
    g = np.stack([a[j] * (nu - a[0] * lam[:, 0] - a[1] * lam[:, 1]) for j in range(2)], 1)
    c = 1 - (eta / d) * g * lam if tangent else np.ones_like(g)
    b = eta * g / d
    # w_j' = c_j w_j + sqrt(d) b_j x: w_j'.w_l' / d = c_j c_l Q_jl + c_j b_l lam_j
    # + c_l b_j lam_l + d b_j b_l |x|^2 / d, and w_j'.w* / d = c_j M_j + b_j nu
    def q(j, l):
        return (c[:, j] * c[:, l] * Q[j, l] + c[:, j] * b[:, l] * lam[:, j]
                + c[:, l] * b[:, j] * lam[:, l] + d * b[:, j] * b[:, l] * x2)

    new = np.array([q(0, 1) / np.sqrt(q(0, 0) * q(1, 1)) - Q12,
                    (c[:, 0] * M[0] + b[:, 0] * nu) / np.sqrt(q(0, 0)) - M[0],
                    (c[:, 1] * M[1] + b[:, 1] * nu) / np.sqrt(q(1, 1)) - M[1]])
    mean = new @ w
    return np.einsum("an,bn,n->ab", new, new, w) - np.outer(mean, mean)


@pytest.mark.parametrize("tangent", [False, True])
def test_spherical_committee_covariance_matches_exact_quadrature(tangent):
    """Spherical rows at p = 2 (renormalised, and tangent-projected then renormalised): C of
    (Q_12, M_11, M_21) against the exact one-step covariance at finite d, at Q_12 = 0.6 where
    the renormalisation terms -Q_12 (xi_Q11 + xi_Q22) / 2 are large."""
    sc = Scenario("z1", student="linear", p=2, lr=0.8, a=(1.0, 0.5), spherical=True,
                  tangent=tangent)
    noise = overlap_noise(sc)
    assert [s.name for s in noise.state] == ["Q12", "M11", "M21"]
    y = [0.6, 0.5, 0.2]
    C = noise.evaluate(y)
    ref = _limit(lambda d: _exact_spherical_step_cov(0.6, [0.5, 0.2], [1.0, 0.5], 0.8, d,
                                                     tangent), 10**5) / 0.8**2
    np.testing.assert_allclose(C, ref, rtol=1e-5, atol=1e-8)
    # the test has power: the eta -> 0 covariance misses the finite-lr part
    C0 = overlap_noise(sc, finite_lr=False).evaluate(y)
    assert np.abs(C0 - ref).max() > 0.05 * np.abs(ref).max()


def test_label_noise_enters_the_covariance():
    """Label noise Delta: xi_M = g nu with g = a (f + sqrt(Delta) eps - yhat) sigma'; for a
    linear student and target, Var[xi_M] gains Delta E[nu^2] exactly (hand derivation:
    eps independent of nu, E[eps^2] = 1)."""
    base = Scenario("z1", student="linear", p=1, lr=0.5)
    noisy = Scenario("z1", student="linear", p=1, lr=0.5, noise=0.3)
    y = [0.8, 0.5]
    c0 = overlap_noise(base, finite_lr=False).evaluate(y)
    c1 = overlap_noise(noisy, finite_lr=False).evaluate(y)
    assert c1[1, 1] - c0[1, 1] == pytest.approx(0.3 * 1.0, rel=1e-12)
    # xi_Q = 2 g lambda: Var gains 4 Delta E[lambda^2] = 4 Delta Q
    assert c1[0, 0] - c0[0, 0] == pytest.approx(4 * 0.3 * 0.8, rel=1e-12)
    # covariance gains 2 Delta E[lambda nu] = 2 Delta M
    assert c1[0, 1] - c0[0, 1] == pytest.approx(2 * 0.3 * 0.5, rel=1e-12)


def test_refuses_trained_second_layer():
    with pytest.raises(ValueError, match="second layer"):
        overlap_noise(Scenario("z1", student="linear", p=1, train_second_layer=True))
