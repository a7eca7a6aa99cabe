"""Hermite expansions: exact identities, independent integrals, reconstruction, quadrature."""

import math

import mpmath
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from escalier.derive import Target, hermite_expansion
from escalier.derive.targets._target import latent

z = sp.Symbol("z", real=True)
phi = sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi)


def _he(n, x):
    return sp.hermite_prob(n, x)


def _mp_he(n, x):
    """He_n(x) = 2^{-n/2} H_n(x / sqrt 2) from mpmath's physicists' Hermite (a route
    independent of the package's recurrence)."""
    return mpmath.hermite(n, x / mpmath.sqrt(2)) / mpmath.sqrt(2) ** n


def test_cube_is_he3_plus_3he1():
    # z^3 = He3 + 3 He1 (docs/theory.md §1): information exponent 1, not 3
    e = hermite_expansion("z1**3", 5)
    assert e[(3,)].exact == 1 and e[(1,)].exact == 3
    assert [c.alpha for c in e.nonzero()] == [(1,), (3,)]
    assert e.complete and e.exact


def test_relu_odd_coefficients_vanish_by_direct_integration():
    # c_k(relu) = E[z 1{z>0} He_k] / k!, integrated independently by sympy.integrate.
    e = hermite_expansion("relu(z1)", 7)
    for k in range(8):
        direct = sp.integrate(z * _he(k, z) * phi, (z, 0, sp.oo)) / sp.factorial(k)
        assert sp.simplify(e[(k,)].exact - direct) == 0, k
        if k % 2 == 1 and k >= 3:
            assert direct == 0 and e[(k,)].is_zero


def test_sign_first_coefficient_is_sqrt_2_over_pi():
    direct = sp.integrate(2 * z * phi, (z, 0, sp.oo))  # E[sign(z) z] = E|z|
    e = hermite_expansion("sign(z1)", 3)
    assert sp.simplify(e[(1,)].exact - direct) == 0
    assert sp.simplify(direct - sp.sqrt(2 / sp.pi)) == 0


def test_separable_products_are_exact_products():
    e = hermite_expansion("sign(z1*z2*z3)", 5)
    c1 = sp.sqrt(2 / sp.pi)
    assert sp.simplify(e[(1, 1, 1)].exact - c1**3) == 0
    # every coefficient vanishes unless all three indices are odd (oddness in each z_i)
    assert all(all(a % 2 == 1 for a in c.alpha) for c in e.nonzero())
    assert e.exact


@pytest.mark.parametrize(
    "text",
    ["erf(z1/sqrt(2))", "erf(2*z1 + 1)", "z1**2*exp(-z1**2)", "cos(z1)", "sin(2*z1 + 1)",
     "heaviside(z1 - 1)", "abs(z1)", "max(z1, 1)", "min(z1, -1)", "relu(z1)*z1**2",
     "exp(z1/2 - z1**2/3)"],
)
def test_exact_routes_agree_with_mpmath_quadrature(text):
    """Every exact route against an independent 30-digit quadrature of E[f He_n] / n!."""
    t = Target.parse(text)
    e = hermite_expansion(t, 6)
    assert e.exact
    f = sp.lambdify(t.variables[0], t.expr, "mpmath")
    with mpmath.workdps(30):
        for n in range(7):
            ref = mpmath.quad(
                lambda x, n=n: f(x) * mpmath.npdf(x) * _mp_he(n, x),
                [-mpmath.inf, -1, 0, 1, mpmath.inf],
            ) / math.factorial(n)
            got = e[(n,)].exact
            assert abs(mpmath.mpf(sp.N(got, 30)) - ref) < mpmath.mpf(10) ** -20, (n, got, ref)


def test_ridge_function_is_exact_and_rotates():
    # E[g(v.z) He_alpha] = v^alpha |v|^{-n} E[g(|v| u) He_n(u)]
    e = hermite_expansion("erf(z1 + z2)", 4)
    u = hermite_expansion("erf(sqrt(2)*z1)", 4)
    assert e.exact
    for alpha in [(1, 0), (0, 1), (2, 1), (1, 2), (3, 0)]:
        n = sum(alpha)
        expected = u[(n,)].exact * math.factorial(n) / sp.sqrt(2) ** n
        expected /= math.factorial(alpha[0]) * math.factorial(alpha[1])
        assert sp.simplify(e[alpha].exact - expected) == 0


def _poly(draw_coeffs, monomials):
    zs = [latent(i) for i in (1, 2, 3)]
    return sum((c * zs[0] ** a * zs[1] ** b * zs[2] ** d
                for c, (a, b, d) in zip(draw_coeffs, monomials, strict=True)), sp.Integer(0))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-5, 5), st.tuples(st.integers(0, 3), st.integers(0, 2),
                                                      st.integers(0, 2))), min_size=1, max_size=6))
def test_polynomial_expansion_sums_back_exactly(terms):
    expr = _poly([sp.Rational(c, 3) for c, _ in terms], [m for _, m in terms])
    if expr == 0:
        return
    t = Target.from_sympy(expr, k=3)
    e = hermite_expansion(t, 7)
    assert e.complete
    assert sp.expand(e.to_sympy() - expr) == 0


def test_symbolic_parameters_stay_exact():
    e = hermite_expansion("z1 + c*z1*z2 + c**2*He2(z2)", 3)
    c = sp.Symbol("c", real=True)
    assert e[(1, 1)].exact == c and e[(0, 2)].exact == c**2 and e[(1, 1)].value is None


def test_numeric_fallback_matches_30_digit_mpmath():
    """tanh has no exact route: Gauss-Hermite values must lie within their error bounds of a
    30-digit mpmath integral, and the bounds must be small."""
    e = hermite_expansion("tanh(z1)", 7)
    e30 = hermite_expansion("tanh(z1)", 7, precision=30)
    with mpmath.workdps(30):
        for n in range(8):
            ref = mpmath.quad(
                lambda x, n=n: mpmath.tanh(x) * mpmath.npdf(x) * _mp_he(n, x), [-mpmath.inf, 0, mpmath.inf],
            ) / math.factorial(n)
            for exp_ in (e, e30):
                c = exp_[(n,)]
                assert c.exact is None or c.is_zero
                assert abs(c.value - float(ref)) <= c.error + 1e-16, (n, c)
                assert c.error < 1e-12
            if n % 2 == 0:
                assert e[(n,)].status == "zero (parity in z1)"


def test_non_separable_term_uses_quadrature_with_error_bars():
    """A coupled term (no exact route) against an independent adaptive 2-D integral (scipy)."""
    from numpy.polynomial.hermite_e import hermeval
    from scipy import integrate

    e = hermite_expansion("tanh(z1 + z2**2/2)", 3)
    assert not e.exact
    dens = lambda a, b: math.exp(-(a * a + b * b) / 2) / (2 * math.pi)  # noqa: E731
    for alpha in [(1, 0), (1, 2), (3, 0)]:
        unit = [[0] * n + [1] for n in alpha]

        def integrand(b, a, unit=unit):
            return math.tanh(a + b * b / 2) * dens(a, b) * hermeval(a, unit[0]) * hermeval(b, unit[1])

        ref, abserr = integrate.dblquad(integrand, -12, 12, -12, 12, epsabs=1e-12, epsrel=1e-12)
        ref /= math.factorial(alpha[0]) * math.factorial(alpha[1])
        c = e[alpha]
        assert c.status == "numeric"
        assert abs(c.value - ref) <= c.error + abserr + 1e-10, (alpha, c, ref)
    # oddness in z2 is proved by parity, not by a small number
    assert e[(0, 1)].status == "zero (parity in z2)"


def test_joint_parity_and_antisymmetry_prove_zeros():
    # tanh(z1 + z2 z3) is even under (z2, z3) -> (-z2, -z3): beta2 + beta3 odd vanishes.
    e = hermite_expansion("tanh(z1 + z2*z3)", 3)
    # (it is also odd under (z1, z3) -> (-z1, -z3); either flip is a valid certificate)
    assert e[(0, 1, 0)].status.startswith("zero (parity in (z")
    assert e[(0, 1, 1)].status == "numeric"
    # even in each coordinate and antisymmetric under z1 <-> z2: only the swap proves (2, 2)
    a = hermite_expansion("(tanh(z1)**2 - tanh(z2)**2) * exp(-z1**2 * z2**2)", 4)
    assert a[(2, 2)].status == "zero (antisymmetry under z1 <-> z2)"
    assert a[(1, 1)].status == "zero (parity in z1)"
    assert a[(2, 0)].status == "numeric" and abs(a[(2, 0)].value + a[(0, 2)].value) <= 1e-12


def test_erf_inside_a_coupled_term_is_integrated():
    # erf(z1)^2 has no exact route; E[erf(z1)^2] = (2/pi) arcsin(2/3) (Saad & Solla I2 form)
    e = hermite_expansion("erf(z1)**2 * z2**2", 2)
    ref = 2 / math.pi * math.asin(2 / 3)
    c = e[(0, 2)]  # E[f He2(z2)] / 2 = E[erf^2] * E[z2^2 He2(z2)] / 2 = E[erf^2]
    assert abs(c.value - ref) <= c.error + 1e-12


def test_tensor_images_are_exact():
    # (z1 + z2)^2 = 2 (v.z)^2/2 with v = (1, 1): C_2 = 2 v v^T has rank one, C_1 = 0
    e = hermite_expansion("(z1 + z2)**2", 3)
    im2 = e.image(2)
    assert im2.dim == 1 and e.image(1).dim == 0
    (b,) = im2.orthonormal()
    assert sp.simplify(b[0] - b[1]) == 0 and sp.simplify(b[0] ** 2 + b[1] ** 2 - 1) == 0
    # z1 z2 + He2(z3): C_2 = [[0, 1, 0], [1, 0, 0], [0, 0, 2]] has full rank
    assert hermite_expansion("z1*z2 + He2(z3)", 2).image(2).dim == 3
