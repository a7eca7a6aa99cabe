"""SOS lower bounds: known cases, each against an independent reference, and the solver checks."""

import numpy as np
import pytest
import sympy as sp

import escalier.numerics.sos._sdp as sdp_module
from escalier.numerics.sos import sos_lower_bound

MOTZKIN = "x^4*y^2 + x^2*y^4 - 3*x^2*y^2 + 1"


def _independent_gram_check(result, points=30, seed=11):
    """Eigenvalues of the returned G, and p - gamma = m^T G m at random points, in the test."""
    G = result.gram
    assert np.allclose(G, G.T)
    assert np.linalg.eigvalsh(G)[0] > -1e-6 * max(1.0, np.abs(G).max())
    gens = result.poly.gens
    weight = (1 + sum(g**2 for g in gens)) ** result.multiplier
    lhs = sp.lambdify(gens, weight * (result.poly.as_expr() - result.lower_bound), "numpy")
    rng = np.random.default_rng(seed)
    for x in rng.uniform(-1.5, 1.5, size=(points, len(gens))):
        m = np.array([np.prod(x ** np.array(a)) for a in result.basis])
        assert abs(lhs(*x) - m @ G @ m) < 1e-6 * (1 + abs(lhs(*x)))


def test_univariate_quartic_bound_and_minimiser():
    result = sos_lower_bound("x^4 - 3*x^2 + x + 2")
    # reference: the minimum over the real roots of p'(x) = 4x^3 - 6x + 1 (numpy.roots)
    crit = [r.real for r in np.roots([4, 0, -6, 1]) if abs(r.imag) < 1e-12]
    values = [c**4 - 3 * c**2 + c + 2 for c in crit]
    assert result.status == "optimal"
    assert result.lower_bound == pytest.approx(min(values), abs=1e-6)
    assert len(result.minimisers) == 1
    assert result.minimisers[0][0] == pytest.approx(crit[int(np.argmin(values))], abs=1e-4)
    _independent_gram_check(result)
    if result.exact is not None:  # a rational bound below the irrational minimum
        assert float(result.exact.gamma) <= min(values)


def test_x4_y4_minus_4xy_exact_certificate_of_p_plus_one():
    result = sos_lower_bound("x^4 + y^4 - 4*x*y + 1")
    # hand derivation: p + 1 = (x^2 - y^2)^2 + 2 (xy - 1)^2, zero exactly at x = y = +-1
    assert result.status == "optimal"
    assert result.lower_bound == pytest.approx(-1.0, abs=1e-6)
    _independent_gram_check(result)
    pts = sorted(result.minimisers)
    assert len(pts) == 2
    assert np.allclose(pts, [(-1, -1), (1, 1)], atol=1e-3)
    cert = result.exact
    assert cert is not None and cert.gamma == -1
    x, y = result.poly.gens
    squares = cert.squares()
    assert all(d > 0 for d, _ in squares)
    assert sp.expand(sum(d * q**2 for d, q in squares) - (x**4 + y**4 - 4 * x * y + 2)) == 0


def test_minimiser_with_distinct_coordinates():
    # by hand: a sum of three squares, all zero only at (x, y) = (1, -2)
    result = sos_lower_bound("(x - 1)^2 + (y + 2)^2 + (x*y + 2)^2")
    assert result.lower_bound == pytest.approx(0.0, abs=1e-6)
    assert len(result.minimisers) == 1
    assert np.allclose(result.minimisers[0], (1.0, -2.0), atol=1e-3)
    assert result.exact is not None and result.exact.gamma == 0


def test_motzkin_has_no_plain_bound():
    # Motzkin (1967): M >= 0 (AM-GM) but M - gamma is never a sum of squares
    result = sos_lower_bound(MOTZKIN)
    assert result.status == "infeasible"
    assert result.lower_bound is None


def test_motzkin_without_newton_pruning_is_not_reported_as_a_bound():
    # the full basis makes the SDP ill-posed: the solver's inaccurate claim must be rejected
    result = sos_lower_bound(MOTZKIN, newton=False, exact=False)
    assert result.status in ("infeasible", "unverified")
    assert result.lower_bound is None


def test_motzkin_with_multiplier_bound_zero():
    result = sos_lower_bound(MOTZKIN, multiplier=1)
    # reference: min M = 0 at (+-1, +-1) (AM-GM on x^4y^2, x^2y^4, 1); a grid never goes below
    assert result.status == "optimal"
    assert result.lower_bound == pytest.approx(0.0, abs=1e-6)
    _independent_gram_check(result)
    g = np.linspace(-2, 2, 201)
    X, Y = np.meshgrid(g, g)
    grid = X**4 * Y**2 + X**2 * Y**4 - 3 * X**2 * Y**2 + 1
    assert grid.min() >= result.lower_bound - 1e-6 and grid.min() < 1e-12
    if result.exact is not None:
        x, y = result.poly.gens
        lhs = sum(d * q**2 for d, q in result.exact.squares())
        motzkin = x**4 * y**2 + x**2 * y**4 - 3 * x**2 * y**2 + 1
        assert sp.expand(lhs - (1 + x**2 + y**2) * (motzkin - result.exact.gamma)) == 0


@pytest.mark.parametrize("poly", ["x^3 + y^2", "x^4 - y^4", "x*y"])
def test_unbounded_below_is_bad_input(poly):
    with pytest.raises(ValueError, match="unbounded below"):
        sos_lower_bound(poly)


@pytest.mark.parametrize("kw", [dict(degree=3), dict(degree=2), dict(multiplier=-1), dict(solver="MOSEK")])
def test_bad_options(kw):
    with pytest.raises(ValueError):
        sos_lower_bound("x^4 + 1", **kw)


def test_a_false_solver_claim_is_caught(monkeypatch):
    # a solver that claims optimality with an indefinite G and a wrong gamma
    def fake(A, bv, cv, N, solver, gamma_fixed=None):
        G = np.eye(N)
        G[0, 0] = -5.0
        return "optimal", 10.0, G, None

    monkeypatch.setattr(sdp_module, "_solve", fake)
    result = sos_lower_bound("x^4 + y^4 - 4*x*y + 1")
    assert result.status == "unverified" and result.lower_bound is None


def test_scs_agrees_roughly():
    result = sos_lower_bound("x^4 + y^4 - 4*x*y + 1", solver="SCS", exact=False, extract=False)
    # SCS is first order (~1e-4): it either passes the strict checks or is reported unverified
    if result.status == "optimal":
        assert result.lower_bound == pytest.approx(-1.0, abs=1e-3)
    else:
        assert result.status == "unverified" and result.lower_bound is None


def test_putinar_circle_linear_objective():
    from escalier.numerics.sos import sos_lower_bound_on

    # min x + y on x^2 + y^2 = 1 is -sqrt(2) at -(1, 1)/sqrt(2) (Cauchy-Schwarz, by hand)
    result = sos_lower_bound_on("x + y", equalities=["x^2 + y^2 - 1"])
    assert result.status == "optimal"
    assert result.lower_bound == pytest.approx(-np.sqrt(2), abs=1e-6)
    assert np.allclose(result.minimisers, [(-1 / np.sqrt(2), -1 / np.sqrt(2))], atol=1e-4)


def test_putinar_rayleigh_quotient_on_the_sphere():
    from escalier.numerics.sos import sos_lower_bound_on

    # min x^T A x on |x| = 1 is the smallest eigenvalue of A (numpy reference)
    A = np.array([[2, 1, 0], [1, 3, 1], [0, 1, 1]])
    result = sos_lower_bound_on("2*x^2 + 3*y^2 + z^2 + 2*x*y + 2*y*z",
                                equalities=["x^2 + y^2 + z^2 - 1"])
    assert result.lower_bound == pytest.approx(np.linalg.eigvalsh(A)[0], abs=1e-6)


def test_putinar_interval_with_an_inequality():
    from escalier.numerics.sos import sos_lower_bound_on

    # x^3 on [-1, 2] (written (x + 1)(2 - x) >= 0) is increasing: minimum -1 at x = -1
    result = sos_lower_bound_on("x^3", inequalities=["(x + 1)*(2 - x)"], degree=4)
    assert result.lower_bound == pytest.approx(-1.0, abs=1e-6)
    assert np.allclose(result.minimisers, [(-1.0,)], atol=1e-4)
