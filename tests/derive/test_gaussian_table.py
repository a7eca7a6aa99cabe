"""Every row of the closed-form table against Monte Carlo and Gauss-Hermite quadrature.

Covariances: random Wishart ones, nearly singular ones (one eigenvalue ~1e-6, so the
variables are almost linearly dependent) and exactly coinciding variables.

Tolerances. Monte Carlo: 200_000 samples; the estimate is within 5 standard errors of the
truth except with probability ~6e-7 per comparison (fixed seeds make the test
deterministic). Quadrature: for smooth rows (erf family) the tensor Gauss-Hermite rule on
the eigen-factor with 40 nodes per dimension (36 in 4-D) is accurate to ~1e-9 on these
covariances (variances <= 1.5; it converges slowly when a variance is large);
the tolerance is 1e-7. Rows with a kink (relu/step) converge only algebraically under
Gauss-Hermite, so their quadrature respects the kinks (Gauss-Legendre pieces split at
the kinks, see _kinked_quadrature), or conditions on one variable and uses scipy's
bivariate normal CDF (three steps); tolerance 1e-7 (the CDF routine's own accuracy is ~1e-8 in 3-D).
"""

import zlib

import numpy as np
import pytest
import sympy as sp
from scipy import stats
from scipy.special import erf, ndtr

from escalier.derive.gaussian import CLOSED_FORMS, quadrature

KIND = {
    "g": lambda x: erf(x / np.sqrt(2)),
    "dg": lambda x: np.sqrt(2 / np.pi) * np.exp(-(x**2) / 2),
    "lin": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "step": lambda x: (x > 0).astype(float),
}
SMOOTH = {"g", "dg", "lin"}


def _covariances(m, seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, m + 2)) / np.sqrt(m + 2)
    wishart = A @ A.T + 0.1 * np.eye(m)
    # nearly singular: last variable = combination of the others + 1e-3 noise
    B = rng.standard_normal((m, m)) / np.sqrt(m)
    B[-1] = 0.6 * B[0] - 0.5 * B[min(1, m - 1)] if m > 1 else B[-1]
    near = B @ B.T
    near = 1.5 * near / near.diagonal().max() + 1e-6 * np.eye(m)
    return [("wishart", wishart), ("near-singular", near)]


def _value(row, C):
    return float(row.formula(sp.Matrix(C.tolist())).evalf(20))


def _integrand(row):
    fs = [KIND[k] for k in row.kinds]
    return lambda *u: np.prod([f(x) for f, x in zip(fs, u, strict=True)], axis=0)


CASES = [(name, label, C) for name, row in sorted(CLOSED_FORMS.items())
         for label, C in _covariances(len(name), zlib.crc32(row.name.encode()))]


@pytest.mark.parametrize("kinds,label,C", CASES, ids=[f"{r.name}-{lab}" for k, lab, _ in CASES
                                                      for r in [CLOSED_FORMS[k]]])
def test_row_against_monte_carlo(kinds, label, C):
    row = CLOSED_FORMS[kinds]
    rng = np.random.default_rng(12345)
    w, V = np.linalg.eigh(C)
    u = rng.standard_normal((200_000, len(kinds))) @ (V * np.sqrt(np.clip(w, 0, None))).T
    samples = _integrand(row)(*u.T)
    mean, se = samples.mean(), samples.std() / np.sqrt(len(samples))
    assert abs(_value(row, C) - mean) <= 5 * se + 1e-12, (row.name, label)


@pytest.mark.parametrize("kinds,label,C", CASES, ids=[f"{r.name}-{lab}" for k, lab, _ in CASES
                                                      for r in [CLOSED_FORMS[k]]])
def test_row_against_quadrature(kinds, label, C):
    row = CLOSED_FORMS[kinds]
    value = _value(row, C)
    if set(kinds) <= SMOOTH:
        reference = quadrature(_integrand(row), C, 40 if len(kinds) < 4 else 36)
    elif kinds == ("step", "step", "step"):
        reference = _orthant3(C)
    else:
        reference = _kinked_quadrature(row, C)
    assert value == pytest.approx(reference, abs=1e-7), (row.name, label)


def _pdf(z):
    return np.exp(-(z**2) / 2) / np.sqrt(2 * np.pi)


def _orthant3(C):
    """P(u > 0) in 3-D: condition on u1 = t > 0 (Gauss-Legendre in t) and take the
    bivariate normal CDF of (u2, u3) | u1 = t from scipy (Genz, accurate in 2-D)."""
    sd1 = np.sqrt(C[0, 0])
    z, wz = _gauss_legendre(0.0, 12.0, 200)
    t = sd1 * z
    means = np.outer(t / C[0, 0], C[0, 1:])  # (n, 2)
    cond = C[1:, 1:] - np.outer(C[1:, 0], C[0, 1:]) / C[0, 0]
    cdf = stats.multivariate_normal(np.zeros(2), cond, allow_singular=True,
                                    abseps=1e-12, releps=1e-12).cdf(means)
    return float(wz @ (cdf * _pdf(z)))


def _gauss_legendre(a, b, n):
    x, w = np.polynomial.legendre.leggauss(n)
    return (b - a) / 2 * x + (a + b) / 2, (b - a) / 2 * w


def _kinked_quadrature(row, C):
    """Quadrature that respects the kinks (relu, step are smooth away from 0).

    1 slot: Gauss-Legendre on each half-line. 2 slots: polar coordinates z = r e_theta with
    u = L z (L the eigen-factor of C): the kinks are the rays where a row of L is
    orthogonal to e_theta, so theta is split there and each piece is integrated by
    Gauss-Legendre (64 nodes), r by Gauss-Legendre on [0, 12] (200 nodes).
    3 slots (R3 = E[step(u1) u2 relu(u3)]): condition on u1 > 0 (Gauss-Legendre) and use
    the textbook truncated-normal moments of (u2, u3) | u1."""
    kinds, m = row.kinds, len(row.kinds)
    w_, V = np.linalg.eigh(C)
    L = V * np.sqrt(np.clip(w_, 0, None))
    fs = [KIND[k] for k in kinds]
    if m == 1:
        sd = np.sqrt(C[0, 0])
        total = 0.0
        for a, b in ((-12, 0), (0, 12)):
            z, wz = _gauss_legendre(a, b, 200)
            total += wz @ (fs[0](sd * z) * _pdf(z))
        return total
    if m == 2:
        cuts = [0.0, 2 * np.pi]
        for i, k in enumerate(kinds):
            if k in ("relu", "step"):
                base = np.arctan2(-L[i, 0], L[i, 1])
                cuts += [(base + j * np.pi) % (2 * np.pi) for j in range(2)]
        cuts = np.unique(cuts)
        r, wr = _gauss_legendre(0.0, 12.0, 200)
        total = 0.0
        for a, b in zip(cuts[:-1], cuts[1:], strict=True):
            th, wth = _gauss_legendre(a, b, 64)
            e = np.stack([np.cos(th), np.sin(th)])  # (2, n_theta)
            u = L @ e  # (2, n_theta)
            vals = fs[0](r[:, None] * u[0]) * fs[1](r[:, None] * u[1])  # (n_r, n_theta)
            total += wr @ (r[:, None] * np.exp(-r[:, None] ** 2 / 2) * vals) @ wth
        return total / (2 * np.pi)
    assert row.name == "R3"
    # slots (lin, relu, step) = (u2, u3, u1)
    i2, i3, i1 = 0, 1, 2
    sd1 = np.sqrt(C[i1, i1])
    z, wz = _gauss_legendre(0.0, 12.0, 400)
    t = sd1 * z
    m2, m3 = C[i2, i1] * t / C[i1, i1], C[i3, i1] * t / C[i1, i1]
    c22 = C[i2, i2] - C[i2, i1] ** 2 / C[i1, i1]
    c33 = max(C[i3, i3] - C[i3, i1] ** 2 / C[i1, i1], 1e-300)
    c23 = C[i2, i3] - C[i2, i1] * C[i3, i1] / C[i1, i1]
    s3 = np.sqrt(c33)
    a = m3 / s3
    e_relu = m3 * ndtr(a) + s3 * _pdf(a)
    e_u3_relu = (m3**2 + c33) * ndtr(a) + m3 * s3 * _pdf(a)
    beta = c23 / c33
    inner = (m2 - beta * m3) * e_relu + beta * e_u3_relu
    del c22
    return float(wz @ (inner * _pdf(z)))


@pytest.mark.parametrize("kinds", sorted(k for k in CLOSED_FORMS if len(k) > 1))
def test_row_with_coinciding_variables_is_continuous(kinds):
    """Slots that coincide (u_1 = u_2, a singular C) are the limit of nearby covariances."""
    m = len(kinds)
    rng = np.random.default_rng(7)
    A = rng.standard_normal((m, m + 1))
    A[1] = A[0]  # slots 0 and 1 identical
    C = A @ A.T / (m + 1)
    row = CLOSED_FORMS[kinds]
    exact = _value(row, C)
    u = rng.standard_normal((200_000, m + 1)) @ (A / np.sqrt(m + 1)).T
    samples = _integrand(row)(*u.T)
    assert abs(exact - samples.mean()) <= 5 * samples.std() / np.sqrt(len(samples)) + 1e-12


def test_rows_are_symmetric_in_slots_of_equal_kind():
    """The routine assigns equal-kind slots in arbitrary order: the formulas must not care."""
    rng = np.random.default_rng(3)
    for kinds, row in CLOSED_FORMS.items():
        m = len(kinds)
        A = rng.standard_normal((m, m + 2))
        C = A @ A.T / (m + 2)
        for i in range(m):
            for j in range(i + 1, m):
                if kinds[i] == kinds[j]:
                    perm = list(range(m))
                    perm[i], perm[j] = j, i
                    assert _value(row, C) == pytest.approx(_value(row, C[np.ix_(perm, perm)]),
                                                           rel=1e-12, abs=1e-14)


def test_row_kinds_must_be_sorted_known_kinds():
    from escalier.derive.gaussian import ClosedForm

    with pytest.raises(ValueError, match="sorted"):
        ClosedForm("bad", ("lin", "g"), lambda C: 0, "unsorted")
    with pytest.raises(ValueError, match="sorted"):
        ClosedForm("bad", ("tanh",), lambda C: 0, "unknown kind")


def test_a_row_may_use_every_kind():
    # the check is "sorted and a subset of KINDS": the full set is a subset of itself, so a
    # (hypothetical) row with one slot of each kind is accepted, and one more unknown kind
    # beside known ones is refused
    from escalier.derive.gaussian import ClosedForm

    every = ("dg", "g", "lin", "relu", "step")  # the kinds of the table's module docstring
    assert ClosedForm("all", every, lambda C: 0, "every kind").kinds == every
    with pytest.raises(ValueError, match="among"):
        ClosedForm("bad", ("g", "lin", "tanh"), lambda C: 0, "unknown kind")
