"""The numerical and ridge routes of escalier.derive.hermite.hermite_expansion against
independent references computed here (issue 21: mutation testing of hermite/_expansion.py).

References, none from the code under test:
- one coordinate: mpmath.quad of g(x) He_n(x) phi(x) at 30 digits, He_n from numpy's
  hermite_e module;
- several coordinates: a tensor Gauss-Hermite grid from numpy.polynomial.hermite_e.hermegauss
  (the probabilists' rule, normalised by sqrt(2 pi)), with more nodes than the code uses;
- a polynomial target: the exact identity f = sum_alpha c_alpha He_alpha (SymPy).
A numerical coefficient must lie within its reported error bound of the reference (plus
rounding), and the bound must be small: a wrong table, grid weight, node count or
contraction moves the value by far more than either.
"""

import math

import mpmath
import numpy as np
import pytest
import sympy as sp
from numpy.polynomial import hermite_e as H
from scipy import special

from escalier.derive.hermite import hermite_expansion


def _he(n, x):
    return H.hermeval(x, [0] * n + [1])


def _ref_1d(g, n):
    """E[g(z) He_n(z)] / n! by mpmath quadrature (30 digits)."""
    with mpmath.workdps(30):
        c = [0] * n + [1]

        def integrand(x):
            return g(x) * mpmath.npdf(x) * mpmath.mpf(sum(
                ci * x**i for i, ci in enumerate(H.herme2poly(c))))

        v = mpmath.quad(integrand, [-mpmath.inf, -4, 0, 4, mpmath.inf])
    return float(v) / math.factorial(n)


def _ref_grid(f, alpha, nodes=120):
    """E[f(z) He_alpha(z)] / alpha! on a tensor hermegauss grid (m = len(alpha))."""
    x, w = H.hermegauss(nodes)
    w = w / math.sqrt(2 * math.pi)
    m = len(alpha)
    grids = np.meshgrid(*([x] * m), indexing="ij")
    weight = np.ones_like(grids[0])
    vals = f(*grids)
    for i, a in enumerate(alpha):
        shape = [1] * m
        shape[i] = -1
        weight = weight * w.reshape(shape)
        vals = vals * _he(a, grids[i])
    return float(np.sum(vals * weight)) / math.prod(math.factorial(a) for a in alpha)


@pytest.mark.parametrize("max_degree", [1, 5])
def test_one_coordinate_numerical_coefficients(max_degree):
    """tanh(z1 + 1/2) has no closed-form moments: float64 grids, every degree up to
    max_degree (1: the shortest Hermite table) within its error bound of mpmath."""
    ex = hermite_expansion("tanh(z1 + 1/2)", max_degree)
    for n in range(max_degree + 1):
        c = ex[(n,)]
        assert c.exact is None and c.status == "numeric"
        ref = _ref_1d(lambda x: mpmath.tanh(x + mpmath.mpf(1) / 2), n)
        assert abs(c.value - ref) <= c.error + 1e-14, (n, c.value, ref, c.error)
        assert c.error < 1e-10


def test_one_coordinate_with_precision_uses_mpmath():
    """precision=25: the mpmath route, agreeing with the reference to float64 rounding."""
    ex = hermite_expansion("tanh(z1 + 1/2)", 4, precision=25)
    for n in range(5):
        ref = _ref_1d(lambda x: mpmath.tanh(x + mpmath.mpf(1) / 2), n)
        c = ex[(n,)]
        assert abs(c.value - ref) <= 1e-15 * max(1.0, abs(ref)), (n, c.value, ref)
        assert c.error < 1e-20


@pytest.mark.parametrize("text, f, alphas", [
    ("tanh(z1*z2 + z1/2)", lambda a, b: np.tanh(a * b + a / 2),
     [(1, 0), (0, 1), (1, 1), (2, 1), (1, 2), (3, 0), (2, 2)]),
    # erf is evaluated through scipy on the grids (numpy has none)
    ("erf(z1*z2 + z1/2)", lambda a, b: special.erf(a * b + a / 2),
     [(1, 0), (0, 1), (1, 1), (2, 1), (1, 2), (3, 0)]),
    ("tanh(z1*z2*z3 + z2/2)", lambda a, b, c: np.tanh(a * b * c + b / 2),
     [(0, 1, 0), (1, 1, 1), (2, 1, 0), (1, 0, 1), (0, 3, 0)]),
])
def test_coupled_coordinates_numerical_coefficients(text, f, alphas):
    """Terms that couple 2 or 3 coordinates (neither separable nor a ridge): the code's
    tensor grids against finer independent grids (200/240 nodes per axis for two
    coordinates, 150/200 for three; the difference of the two is the reference's error).
    The reported error must cover the true one: with three coordinates the code's two grids
    (40, 60 nodes) differ by up to 6x less than their error, hence its factor 10."""
    ex = hermite_expansion(text, 4)
    m = len(alphas[0])
    nodes = (200, 240) if m == 2 else (150, 200)
    for alpha in alphas:
        c = ex[alpha]
        coarse, ref = (_ref_grid(f, alpha, n) for n in nodes)
        slack = abs(ref - coarse) + 1e-12
        assert abs(c.value - ref) <= c.error + slack, (alpha, c.value, ref, c.error, slack)
        assert c.error < (1e-6 if m == 2 else 1e-2)
        assert c.error + slack < 0.1 * max(abs(ref), 0.05)  # resolved, not a loose pass
    # odd in one coordinate (tanh odd): the coefficients even in it are zeros by parity,
    # exactly (value and error 0), not small numbers
    assert abs(ex[alphas[2]].value) > 0.01
    zero = ex[(0, 1) if m == 2 else (1, 0, 0)]
    assert zero.status.startswith("zero (parity") and zero.exact == 0
    assert zero.value == 0.0 and zero.error == 0.0


@pytest.mark.parametrize("text, g, v", [
    ("tanh(z1 - 2*z2)", mpmath.tanh, (1, -2)),         # numerical univariate part
    ("erf((z1 + z2)/2)", mpmath.erf, (0.5, 0.5)),       # closed-form univariate part
])
def test_ridge_coefficients(text, g, v):
    """g(v . z): c_alpha = (v^alpha / r^n) c_n[g(r u)] with r = |v|, n = |alpha| (the ridge
    rule), checked against a direct two-coordinate grid of g(v . z) He_alpha(z)."""
    ex = hermite_expansion(text, 4)
    fv = np.vectorize(lambda a, b: float(g(v[0] * a + v[1] * b)))
    for alpha in [(1, 0), (0, 1), (2, 1), (1, 2), (3, 0), (0, 3)]:
        c = ex[alpha]
        ref = _ref_grid(fv, alpha, 80)
        value = float(c.exact) if c.exact is not None else c.value
        assert abs(value - ref) <= c.error + 1e-9, (alpha, value, ref, c.error)
        assert c.error == 0.0 if c.exact is not None else c.error > 0.0
    # even orders vanish (g odd): reported as zeros
    assert ex[(1, 1)].is_zero and ex[(2, 0)].is_zero


def test_ridge_with_precision_uses_mpmath():
    """precision=25 reaches the ridge's univariate integral g(r u): errors far below
    float64's grids, values within rounding of the reference."""
    ex = hermite_expansion("tanh(z1 - 2*z2)", 3, precision=25)
    fv = np.vectorize(lambda a, b: float(mpmath.tanh(a - 2 * b)))
    for alpha in [(1, 0), (1, 2), (0, 3)]:
        c = ex[alpha]
        assert c.exact is None and c.error < 1e-20
        assert abs(c.value - _ref_grid(fv, alpha, 80)) < 1e-9


def test_polynomial_expansion_reconstructs_the_target():
    """A polynomial target is expanded completely, and sum_alpha c_alpha He_alpha(z) is the
    target itself (exact identity)."""
    text = "z1**3 + 2*z1*z2 - z2**2 + z3**2*z1 + 3"
    ex = hermite_expansion(text, 3)
    assert ex.complete and ex.exact
    z1, z2, z3 = sp.symbols("z1 z2 z3", real=True)
    expected = z1**3 + 2 * z1 * z2 - z2**2 + z3**2 * z1 + 3
    assert sp.expand(ex.to_sympy() - expected.subs(
        {s: v for s, v in zip((z1, z2, z3), ex.target.variables, strict=True)})) == 0
    # and the zeroth coefficient is the mean: E f = 3 - 1 = 2 (E z2^2 = 1)
    assert ex[(0, 0, 0)].exact == 2
    # a coefficient the complete expansion does not store is an exact zero, value 0, error 0
    c = ex[(0, 0, 4)]
    assert (c.alpha, c.exact, c.value, c.error) == ((0, 0, 4), 0, 0.0, 0.0)
    assert c.status == "zero (exact)"


def test_four_coupled_coordinates_are_integrated():
    """Four coordinates coupled non-separably is the largest supported case (five is
    refused): tanh(z1 z2 z3 z4 + z1/2), c_(1,1,1,1) against 40- and 48-node grids."""
    ex = hermite_expansion("tanh(z1*z2*z3*z4 + z1/2)", 4)
    f = lambda a, b, c, e: np.tanh(a * b * c * e + a / 2)  # noqa: E731
    coarse, ref = (_ref_grid(f, (1, 1, 1, 1), n) for n in (40, 48))
    c = ex[(1, 1, 1, 1)]
    assert abs(c.value - ref) <= c.error + abs(ref - coarse) + 1e-12, (c.value, ref, c.error)
    assert abs(ref) > 0.1 and c.error < 0.1 * abs(ref)
    with pytest.raises(ValueError, match="at most 4 coupled coordinates"):
        hermite_expansion("tanh(z1*z2*z3*z4*z5)", 2)


def test_truncated_polynomial_keeps_every_low_degree_coefficient():
    """A polynomial of degree 5 expanded to degree 3: every coefficient of degree <= 3 equals
    the complete expansion's (each monomial contributes to several degrees; dropping the
    high ones must not drop the low ones), e.g. c_(1,0) = E[z1^5 z1] = 15."""
    text = "z1**5 + z1**2*z2**3 - 2*z2**4"
    full, cut = hermite_expansion(text, 5), hermite_expansion(text, 3)
    assert full.complete and not cut.complete
    for c in full:
        if c.degree <= 3:
            assert cut[c.alpha].exact == c.exact, c.alpha
    assert cut[(1, 0)].exact == 15


def test_error_accounting_of_products_and_sums():
    """The error of a coefficient follows its terms: a numeric factor times an exact one
    keeps the numeric factor's error (the exact factor adds none), two numeric terms add
    their errors, and a product that vanishes by a factor's parity is an exact zero with
    the parity named."""
    one = hermite_expansion("tanh(3*z1 + 1)", 3)
    other = hermite_expansion("tanh(2*z1 - 1)", 3)
    prod = hermite_expansion("tanh(3*z1 + 1)*z2", 3)
    both = hermite_expansion("tanh(3*z1 + 1) + tanh(2*z1 - 1)", 3)
    for n in range(3):
        a, b = one[(n,)], other[(n,)]
        assert a.error > 1e-12 and b.error > 1e-12  # both quadratures carry an error
        c = prod[(n, 1)]
        assert c.value == pytest.approx(a.value, rel=1e-14, abs=0)
        assert c.error == pytest.approx(a.error, rel=1e-12, abs=0)
        s = both[(n,)]
        assert s.value == pytest.approx(a.value + b.value, rel=1e-13, abs=1e-15)
        assert s.error == pytest.approx(a.error + b.error, rel=1e-12, abs=0)
    odd = hermite_expansion("tanh(z1)*z2", 3)
    z = odd[(0, 1)]  # E[tanh(z1)] = 0 by parity in z1
    assert z.status.startswith("zero (parity") and "z1" in z.status
    assert (z.value, z.error) == (0.0, 0.0)
