"""Soft committee machine, erf student and erf teacher, K = M = 2 (Saad & Solla 1995).

Two independent references for the derived right-hand side:
- Saad & Solla's closed-form ODEs (D. Saad, S. A. Solla, "On-line learning in soft committee
  machines", Phys. Rev. E 52, 4225 (1995), eqs. for dR_in/dalpha and dQ_ik/dalpha with the
  integrals I3, I4 and, for output noise, J2), typed below in numpy from the paper's
  formulas (as quoted in docs/theory.md §4), agreement to 1e-12;
- a Monte Carlo estimate of the one-step SGD drift d * E[Delta overlaps] at finite
  d = 10^4, written out from the update of escalier.derive.Scenario: 10^6 samples, 4
  standard errors (false alarm ~6e-5 per component; the O(1/d) finite-size bias is
  ~1e-4 relative, below one standard error).
"""

import numpy as np
import pytest
from scipy.special import erf

from escalier.derive import targets
from escalier.derive.ode import ode_system

# --- Saad & Solla in numpy ----------------------------------------------------------------


def _I3(C):  # E[g'(u1) u2 g(u3)]
    return 2 / np.pi * (C[1, 2] * (1 + C[0, 0]) - C[0, 1] * C[0, 2]) / (
        (1 + C[0, 0]) * np.sqrt((1 + C[0, 0]) * (1 + C[2, 2]) - C[0, 2] ** 2))


def _I4(C):  # E[g'(u1) g'(u2) g(u3) g(u4)]
    L4 = (1 + C[0, 0]) * (1 + C[1, 1]) - C[0, 1] ** 2
    L0 = (L4 * C[2, 3] - C[1, 2] * C[1, 3] * (1 + C[0, 0]) - C[0, 2] * C[0, 3] * (1 + C[1, 1])
          + C[0, 1] * C[0, 2] * C[1, 3] + C[0, 1] * C[0, 3] * C[1, 2])
    L1 = (L4 * (1 + C[2, 2]) - C[1, 2] ** 2 * (1 + C[0, 0]) - C[0, 2] ** 2 * (1 + C[1, 1])
          + 2 * C[0, 1] * C[0, 2] * C[1, 2])
    L2 = (L4 * (1 + C[3, 3]) - C[1, 3] ** 2 * (1 + C[0, 0]) - C[0, 3] ** 2 * (1 + C[1, 1])
          + 2 * C[0, 1] * C[0, 3] * C[1, 3])
    return 4 / np.pi**2 / np.sqrt(L4) * np.arcsin(L0 / np.sqrt(L1 * L2))


def _J2(C):  # E[g'(u1) g'(u2)]
    return 2 / np.pi / np.sqrt(1 + C[0, 0] + C[1, 1] + C[0, 0] * C[1, 1] - C[0, 1] ** 2)


def saad_solla(Q, R, T, eta, sigma2):
    """dQ/dalpha, dR/dalpha of Saad & Solla (second layers fixed to 1), variables
    x_i (student, i < K) and y_n (teacher) with covariance [[Q, R], [R^T, T]]."""
    K, M = R.shape
    Om = np.block([[Q, R], [R.T, T]])
    s = list(range(K))
    t = [K + n for n in range(M)]

    def I3(a, b, c):
        return _I3(Om[np.ix_([a, b, c], [a, b, c])])

    def I4(a, b, c, d):
        return _I4(Om[np.ix_([a, b, c, d], [a, b, c, d])])

    dR = np.zeros((K, M))
    dQ = np.zeros((K, K))
    for i in range(K):
        for n in range(M):
            dR[i, n] = eta * (sum(I3(i, t[n], t[m]) for m in range(M))
                              - sum(I3(i, t[n], s[j]) for j in range(K)))
        for k in range(K):
            first = sum(I3(i, k, t[m]) for m in range(M)) - sum(I3(i, k, j) for j in range(K))
            first += sum(I3(k, i, t[m]) for m in range(M)) - sum(I3(k, i, j) for j in range(K))
            second = (sum(I4(i, k, t[n], t[m]) for n in range(M) for m in range(M))
                      - 2 * sum(I4(i, k, j, t[n]) for j in range(K) for n in range(M))
                      + sum(I4(i, k, j, l) for j in range(K) for l in range(K)))
            noise = sigma2 * _J2(Om[np.ix_([i, k], [i, k])])
            dQ[i, k] = eta * first + eta**2 * (second + noise)
    return dQ, dR


def _random_overlaps(rng, K, M, d=6):
    W_star = np.eye(M, d)  # P = I
    W = rng.normal(scale=0.7, size=(K, d))
    return W @ W.T, W @ W_star.T


def _state(Q, R):
    K = Q.shape[0]
    return np.array([Q[j, m] for j in range(K) for m in range(j, K)] + list(R.ravel()))


@pytest.fixture(scope="module")
def system():
    return ode_system(targets.committee("erf", 2), student="erf", p=2, noise=0.3)


def test_committee_rhs_equals_saad_solla(system):
    rng = np.random.default_rng(2024)
    for _ in range(4):
        Q, R = _random_overlaps(rng, 2, 2)
        eta = rng.uniform(0.1, 2.0)
        y = _state(Q, R)
        got = system.evaluate(y, {"eta": eta, "Delta": 0.3})
        dQ, dR = saad_solla(Q, R, np.eye(2), eta, 0.3)
        np.testing.assert_allclose(got, _state(dQ, dR), rtol=1e-12, atol=1e-13)
    assert system.backend == "closed-form"


def test_committee_rhs_with_general_teacher_overlaps():
    P = ((1.0, 0.3), (0.3, 0.8))
    sys_p = ode_system(targets.committee("erf", 2), student="erf", p=2, P=P)
    rng = np.random.default_rng(1)
    Q, R = _random_overlaps(rng, 2, 2)
    dQ, dR = saad_solla(Q, R, np.array(P), 1.0, 0.0)
    np.testing.assert_allclose(sys_p.evaluate(_state(Q, R)), _state(dQ, dR), rtol=1e-12)


def _g(x):
    return erf(x / np.sqrt(2))


def _dg(x):
    return np.sqrt(2 / np.pi) * np.exp(-(x**2) / 2)


def _one_step_drift(Om, a, eta, eta_a, noise, n_b, d, n, rng):
    """Samples of d * (change of Q, M, a) in one SGD step (Scenario's update), at finite d.

    Exact overlap representation (docs/theory.md §6): for a batch, U = [lambda; nu]
    i.i.d. N(0, Om) and x^mu . x^nu / d = (u^mu Om^{-1} u^nu + Wishart_{mu nu}) / d with
    Wishart(d - rank, I) independent (diagonal: chi^2; off-diagonal: a centred normal of
    variance d - rank, whose only effect is on the O(1/d) variance)."""
    K = len(a)
    r = Om.shape[0]
    L = np.linalg.cholesky(Om)
    u = rng.standard_normal((n, n_b, r)) @ L.T
    lam, nu = u[..., :K], u[..., K:]
    y = _g(nu).sum(-1) + np.sqrt(noise) * rng.standard_normal((n, n_b))
    err = y - _g(lam) @ a
    c = a * err[..., None] * _dg(lam)  # (n, n_b, K): a_j Delta_e sigma'(lambda_j)
    Oinv = np.linalg.inv(Om)
    gram = np.einsum("bmi,ij,bnj->bmn", u, Oinv, u)
    wish = rng.standard_normal((n, n_b, n_b)) * np.sqrt(d - r)
    wish = (wish + np.swapaxes(wish, 1, 2)) / np.sqrt(2)
    idx = np.arange(n_b)
    wish[:, idx, idx] = rng.chisquare(d - r, size=(n, n_b))
    xx = (gram + wish) / d
    first = np.einsum("bmj,bml->bjl", c, lam) / n_b
    dQ = eta * (first + np.swapaxes(first, 1, 2)) + eta**2 * np.einsum(
        "bmj,bmn,bnl->bjl", c, xx, c) / n_b**2
    dM = eta * np.einsum("bmj,bmr->bjr", c, nu) / n_b
    da = eta_a * np.einsum("bm,bmj->bj", err, _g(lam)) / n_b
    iu = np.triu_indices(K)
    return np.concatenate([dQ[:, iu[0], iu[1]], dM.reshape(n, -1), da], axis=1)


@pytest.mark.parametrize("train_a,noise,n_b", [
    (False, 0.1, 1),
    pytest.param(True, 0.0, 1, marks=pytest.mark.slow),
    pytest.param(False, 0.2, 4, marks=pytest.mark.slow),
])
def test_committee_rhs_equals_monte_carlo_one_step_drift(train_a, noise, n_b):
    rng = np.random.default_rng(99 + n_b)
    Q, R = _random_overlaps(rng, 2, 2)
    Om = np.block([[Q, R], [R.T, np.eye(2)]])
    a = np.array([1.0, 0.8])
    eta, eta_a = 0.9, 0.5
    sys_ = ode_system(targets.committee("erf", 2), student="erf", p=2, noise=noise, batch=n_b,
                      train_second_layer=train_a, a=tuple(a), lr=eta, lr_a=eta_a)
    y = _state(Q, R)
    if train_a:
        y = np.concatenate([y, a])
    rhs = sys_.evaluate(y)
    n = 1_000_000 // n_b
    samples = np.concatenate([_one_step_drift(Om, a, eta, eta_a, noise, n_b, 10_000, n // 4, rng)
                              for _ in range(4)])
    if not train_a:
        samples = samples[:, :-2]
    mean = samples.mean(0)
    se = samples.std(0) / np.sqrt(len(samples))
    assert np.all(np.abs(mean - rhs) <= 4 * se), (mean - rhs) / se
