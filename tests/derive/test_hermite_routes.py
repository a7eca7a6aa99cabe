"""The Stein route of the univariate Hermite moments on an even function with erf (issue 21,
section 3: a mutant of derive/hermite/_univariate.py that took every even g for odd, i.e.
E[g] = 0, survived the suite)."""

import math

import numpy as np
import pytest
from scipy.special import erf

from escalier.derive import hermite_expansion


def test_even_function_with_erf_has_its_mean():
    # g(z) = z erf(z), even. Stein (E[z f(z)] = E[f'(z)]) and E[exp(-a z^2)] = (1+2a)^(-1/2):
    # c_0 = E[z erf(z)] = (2/sqrt(pi)) E[exp(-z^2)] = 2 / sqrt(3 pi);
    # E[z^3 erf] = E[2 z erf + z^2 erf'] = 4/sqrt(3 pi) + (2/sqrt(pi)) 3^(-3/2), so
    # c_2 = E[(z^3 - z) erf] / 2! = 4 / (3 sqrt(3 pi)). Odd coefficients vanish by parity.
    e = hermite_expansion("z1*erf(z1)", 4)
    assert abs(float(e[(0,)].value) - 2 / math.sqrt(3 * math.pi)) < 1e-9
    assert abs(float(e[(2,)].value) - 4 / (3 * math.sqrt(3 * math.pi))) < 1e-9
    assert e[(1,)].is_zero and e[(3,)].is_zero


def test_mean_of_erf_of_an_affine_form():
    # E[erf(a z + b)] = erf(b / sqrt(1 + 2 a^2)) (erf(x) = P(|N(0, 1/2)| < x) and
    # a z + b - N(0, 1/2) ~ N(b, a^2 + 1/2)). a = 1, b = 1: c_0 = erf(1 / sqrt 3). Stein:
    # c_1 = E[erf'(z + 1)] = (2/sqrt(pi)) E[exp(-(z + 1)^2)] = 2 exp(-1/3) / sqrt(3 pi).
    # (a = 2 cannot tell 2 a^2 from 4 a.)
    e = hermite_expansion("erf(z1 + 1)", 2)
    assert e.exact
    assert abs(float(e[(0,)].exact) - math.erf(1 / math.sqrt(3))) < 1e-12
    assert abs(float(e[(1,)].exact) - 2 * math.exp(-1 / 3) / math.sqrt(3 * math.pi)) < 1e-12


@pytest.mark.parametrize(("text", "func"), [("erf(z1**2)", lambda x: erf(x**2)),
                                           ("erf(cos(z1))", lambda x: erf(np.cos(x)))])
def test_erf_of_a_non_affine_argument_is_integrated_numerically(text, func):
    # erf(z^2) (a polynomial argument of degree 2) and erf(cos z) (not a polynomial; even,
    # so the odd shortcut does not apply) have no closed-form mean in the table: the route
    # must decline (numbers), not fail. Reference: Gauss-Hermite, 120 nodes; the two
    # quadratures agree to ~3e-8 here, tolerance 1e-6.
    x, w = np.polynomial.hermite_e.hermegauss(120)
    ref = np.sum(w * func(x)) / w.sum()
    e = hermite_expansion(text, 2)
    assert abs(float(e[(0,)].value) - ref) < 1e-6


def test_piecewise_cut_away_from_zero_and_one():
    # heaviside(z - 2): c_1 = E[z 1{z > 2}] = phi(2) = exp(-2) / sqrt(2 pi);
    # c_0 = P(z > 2) = erfc(sqrt 2) / 2. (Cuts at 0 and 1 cannot tell x^2 from x^3 in phi.)
    e = hermite_expansion("heaviside(z1 - 2)", 1)
    assert abs(float(e[(1,)].exact) - math.exp(-2) / math.sqrt(2 * math.pi)) < 1e-14
    assert abs(float(e[(0,)].exact) - math.erfc(math.sqrt(2)) / 2) < 1e-14


@pytest.mark.parametrize(("text", "func"), [("exp(-z1**4)", lambda x: np.exp(-(x**4))),
                                           ("exp(cos(z1))", lambda x: np.exp(np.cos(x))),
                                           ("cos(z1**3/10)", lambda x: np.cos(x**3 / 10))])
def test_exponent_beyond_quadratic_is_not_a_gaussian_weight(text, func):
    # exp(-z^4) (a quartic exponent), exp(cos z) (not a polynomial exponent) and
    # cos(z^3 / 10) = (exp(i z^3 / 10) + exp(-i z^3 / 10)) / 2 (a cubic exponent; reading
    # it as quadratic would drop the cubic and give 1 instead of 0.948) are not
    # poly(z) exp(quadratic): the completing-the-square route must decline, not fail.
    # E[g] by Gauss-Hermite (120 nodes) against the expansion's number, 1e-6.
    x, w = np.polynomial.hermite_e.hermegauss(120)
    e = hermite_expansion(text, 1)
    assert abs(float(e[(0,)].value) - np.sum(w * func(x)) / w.sum()) < 1e-6


def test_stein_route_at_degree_one():
    # erf(z + 1) expanded to degree 1 only: c_1 = 2 exp(-1/3) / sqrt(3 pi) (as above)
    e = hermite_expansion("erf(z1 + 1)", 1)
    assert abs(float(e[(1,)].exact) - 2 * math.exp(-1 / 3) / math.sqrt(3 * math.pi)) < 1e-12


def test_erf_route_with_a_symbolic_offset():
    # g = erf(2 z + s), s = sqrt(c) a symbolic parameter (the Stein route works with the
    # variable z named explicitly; the parameter must not be read as a second variable).
    # u = 2 z + s ~ N(s, 4); E[erf(u)] = erf(s / sqrt(1 + 8)) = erf(sqrt(c) / 3);
    # c_1 = E[g'] = (4 / sqrt(pi)) E[exp(-u^2)] = (4 / sqrt(pi)) exp(-c / 9) / 3;
    # c_2 = E[g''] / 2 = -(8 / sqrt(pi)) E[u exp(-u^2)] with E[u exp(-u^2)] = (1/3)
    # exp(-c / 9) s / 9 (the Gaussian tilted by exp(-u^2) has mean s / 9):
    # c_2 = -8 sqrt(c) exp(-c / 9) / (27 sqrt(pi)).
    import sympy as sp

    c = sp.Symbol("c", positive=True)
    e = hermite_expansion("erf(2*z1 + sqrt(c))", 2)
    assert e.exact
    want = [sp.erf(sp.sqrt(c) / 3), 4 * sp.exp(-c / 9) / (3 * sp.sqrt(sp.pi)),
            -8 * sp.sqrt(c) * sp.exp(-c / 9) / (27 * sp.sqrt(sp.pi))]
    for n, w in enumerate(want):
        got = e[(n,)].exact.subs({s: c for s in e[(n,)].exact.free_symbols if s.name == "c"})
        assert sp.simplify(got - w) == 0, n


def test_gaussian_weight_times_a_non_polynomial_factor_declines():
    # erf(z) exp(-z^2): the completing-the-square route needs poly(z) exp(quadratic); erf is
    # neither, so the route must decline (numbers), not treat erf as a polynomial factor.
    # Odd: c_0 = 0; c_1 = E[z erf(z) exp(-z^2)] by Gauss-Hermite (120 nodes), 1e-6.
    x, w = np.polynomial.hermite_e.hermegauss(120)
    e = hermite_expansion("erf(z1)*exp(-z1**2)", 2)
    ref = np.sum(w * x * erf(x) * np.exp(-(x**2))) / w.sum()
    assert abs(float(e[(1,)].value) - ref) < 1e-6 and abs(ref) > 0.1


def test_piecewise_over_a_union_and_of_a_non_polynomial_piece():
    # heaviside(z^2 - 1) = 1{|z| > 1}: its region is a union of two intervals. Exact:
    # c_0 = P(|z| > 1) = erfc(1 / sqrt 2); c_2 = E[1{|z| > 1} (z^2 - 1)] / 2 = phi(1)
    # (E[z^2 1{|z| > 1}] = P(|z| > 1) + 2 phi(1)).
    e = hermite_expansion("heaviside(z1**2 - 1)", 2)
    assert e.exact
    assert abs(float(e[(0,)].exact) - math.erfc(1 / math.sqrt(2))) < 1e-14
    assert abs(float(e[(2,)].exact) - math.exp(-0.5) / math.sqrt(2 * math.pi)) < 1e-14
    # max(tanh z, 0): a piece that is not a polynomial: the piecewise route must decline
    # (numbers), not fail. c_0 = int_0^inf tanh(x) phi(x) dx by scipy's adaptive quadrature
    # (1e-10); the expansion's numerical value carries its own error estimate (the kink at
    # 0 limits it, ~4e-4): tolerance max(3 x that estimate, 1e-6).
    from scipy import integrate

    ref = integrate.quad(lambda t: math.tanh(t) * math.exp(-t * t / 2) / math.sqrt(2 * math.pi),
                         0, np.inf, epsabs=1e-12)[0]
    c0 = hermite_expansion("max(tanh(z1), 0)", 1)[(0,)]
    assert c0.exact is None and abs(c0.value - ref) < max(3 * c0.error, 1e-6)
