"""The p-spin complexities and band edges (escalier.derive.landscape), checked independently."""

import mpmath
import pytest
import sympy as sp

from escalier.derive.landscape import PSpinComplexity, pspin


def test_p3_band_edges_match_abc_2013():
    # Auffinger, Ben Arous & Cerny, CPAM 2013 (arXiv 1003.1129), discussion after Thm 2.8:
    # for p = 3, E_inf = 1.632993..., E_0 = 1.656998..., E_1 = 1.652873...
    c = pspin(3)
    assert float(c.E_inf) == pytest.approx(1.632993, abs=5e-7)
    e0, e1 = c.band_edges(1)
    assert float(e0) == pytest.approx(1.656998, abs=5e-7)
    assert float(e1) == pytest.approx(1.652873, abs=5e-7)


@pytest.mark.parametrize("p", [3, 4, 7])
def test_band_edges_are_roots_to_30_digits_and_decrease_to_e_inf(p):
    c = pspin(p)
    edges = c.band_edges(6, digits=30)
    e_inf = mpmath.mpf(2) * mpmath.sqrt(mpmath.mpf(p - 1) / p)
    with mpmath.workdps(50):
        for k, e in enumerate(edges):
            # Theta_{k,p}(-E_k) = 0, evaluated from the Piecewise through SymPy at 50 digits
            assert abs(c.evaluate(c.theta_k(k), -e)) < mpmath.mpf(10) ** -28
        assert all(a > b for a, b in zip(edges, edges[1:], strict=False))
        assert edges[-1] > e_inf
    # E_k - E_inf ~ k^(-2/3): the band edges accumulate at E_inf
    far = c.band_edge(2000, digits=20)
    assert 0 < far - e_inf < (edges[-1] - e_inf) / 20


def test_theta_above_zero_is_log_p_minus_1_over_2_exactly():
    for p in (3, 5):
        c = pspin(p)
        for u in (sp.Rational(1, 3), sp.Integer(2), sp.Integer(10)):
            assert sp.simplify(c.theta.subs(c.u, u) - sp.log(p - 1) / 2) == 0


def test_theta_k_is_continuous_at_minus_e_inf():
    c = pspin(3)
    left = c._quadratic - 3 * c.I1  # k = 2 branch below -E_inf
    assert sp.simplify(left.subs(c.u, -c.E_inf) - (sp.log(2) / 2 - sp.Rational(1, 3))) == 0


def test_closed_form_i1_equals_its_defining_integral():
    for p in (3, 6):
        c = pspin(p)
        f = sp.lambdify(c.u, c.I1, "mpmath")
        with mpmath.workdps(30):
            e = mpmath.mpf(2) * mpmath.sqrt(mpmath.mpf(p - 1) / p)
            for u in (-e - mpmath.mpf("1e-3"), -e - mpmath.mpf("0.3"), mpmath.mpf(-4)):
                quad = 2 / e**2 * mpmath.quad(lambda z, e=e: mpmath.sqrt(z * z - e * e), [u, -e])
                assert abs(mpmath.re(f(u)) - quad) < mpmath.mpf(10) ** -25
        # and symbolically: I1(-E_inf) = 0, I1'(u) = -(2/E_inf^2) sqrt(u^2 - E_inf^2)
        assert sp.simplify(c.I1.subs(c.u, -c.E_inf)) == 0
        deriv = sp.diff(c.I1, c.u) + 2 / c.E_inf**2 * sp.sqrt(c.u**2 - c.E_inf**2)
        assert abs(complex(deriv.subs(c.u, -3))) < 1e-14


def _semicircle_log_potential(x):
    """Phi(x) = int log|x - y| rho_sc(y) dy, rho_sc(y) = sqrt(4 - y^2) / (2 pi), by quadrature."""
    rho = lambda y: mpmath.sqrt(4 - y * y) / (2 * mpmath.pi)
    pts = [-2, x, 2] if -2 < x < 2 else [-2, 2]
    return mpmath.quad(lambda y: mpmath.log(abs(x - y)) * rho(y), pts)


def _goe_one_eigenvalue_rate(x):
    """LDP rate of one GOE eigenvalue (semicircle on [-2, 2], beta = 1) at x < -2:
    (1/2) int_x^{-2} sqrt(y^2 - 4) dy (Ben Arous, Dembo & Guionnet, PTRF 2001)."""
    return mpmath.quad(lambda y: mpmath.sqrt(y * y - 4), [x, -2]) / 2


def _kac_rice_density_rate(p, u, k=None):
    """The exponential rate of the Kac-Rice density of critical points at energy per site u.

    Hand derivation (conventions of escalier.derive.landscape): at a point of the sphere of
    radius sqrt(N), the tangent gradient is N(0, p I_{N-1}); given H = N u, the Riemannian
    Hessian is sqrt(p(p-1)) M - p u I with M a GOE(N-1) (semicircle on [-2, 2]), independent
    of the gradient. Kac-Rice: E Crt = area * phi_grad(0) * E|det Hess| * density(u), so
      (1/N) log: 1/2 log(2 pi e) [area of the sphere] - 1/2 log(2 pi p) [gradient density]
               + 1/2 log(p(p-1)) + Phi(x) [determinant, x = p u / sqrt(p(p-1))]
               - u^2 / 2 [u ~ N(0, 1/N)],
    and for index k (x < -2) k eigenvalues of M must sit below x: - k * J(x).
    """
    x = p * u / mpmath.sqrt(p * (p - 1))
    rate = (mpmath.mpf(1) / 2 + mpmath.log(p - 1) / 2 - u * u / 2
            + _semicircle_log_potential(x))
    if k is not None:
        rate -= k * _goe_one_eigenvalue_rate(x)
    return rate


@pytest.mark.parametrize("p", [3, 5])
def test_kac_rice_with_semicircle_potential_equals_closed_form(p):
    c = pspin(p)
    e = float(c.E_inf)
    # below 0 the density rate increases with u, so the cumulative complexity is the density's
    for u in (-e - 0.4, -e - 0.05, -e + 0.2, -0.5 * e):
        assert float(c.evaluate(c.theta, u)) == pytest.approx(
            float(_kac_rice_density_rate(p, mpmath.mpf(u))), abs=1e-10)
    # above 0 the cumulative complexity is the density rate's maximum, at u = 0
    grid = [mpmath.mpf(v) / 10 for v in range(-5, 11)]
    best = max(_kac_rice_density_rate(p, v) for v in grid)
    assert float(c.evaluate(c.theta, 1.0)) == pytest.approx(float(best), abs=1e-10)
    # index k below -E_inf
    for k in (0, 1, 3):
        for u in (-e - 0.3, -e - 0.02):
            assert float(c.evaluate(c.theta_k(k), u)) == pytest.approx(
                float(_kac_rice_density_rate(p, mpmath.mpf(u), k)), abs=1e-10)


def test_p2_has_no_bands_and_bad_input_is_refused():
    c = pspin(2)
    with mpmath.workdps(40):
        assert all(abs(e - mpmath.sqrt(2)) < 1e-30 for e in c.band_edges(3))
    for bad in (1, 0, 2.5, True, "3"):
        with pytest.raises(ValueError, match="p must be an integer >= 2"):
            PSpinComplexity(bad)
    with pytest.raises(ValueError, match="index k"):
        pspin(3).band_edge(-1)
