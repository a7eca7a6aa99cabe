"""The exact univariate routes and the conditional tensors on inputs the other Hermite tests do
not reach (issue 21, section 3: mutants of derive/hermite/_univariate.py and
derive/hermite/_tensor.py that survived the suite; docs/mutation.md names them).

Expected values are derived in the comments: Gaussian moments, E[e^{a z} He_n(z)] = a^n
e^{a^2/2} (the generating function of He_n), int_a^b phi = Phi(b) - Phi(a), and for the
tensors the leading form worked by hand."""

import math

import pytest
import sympy as sp

from escalier.derive import hermite_expansion
from escalier.derive.hermite._univariate import exact_moments

z = sp.Symbol("z", real=True)


def _Phi(x):
    return (1 + math.erf(x / math.sqrt(2))) / 2


def test_hyperbolic_functions_take_the_gaussian_weight_route():
    # E[e^{a z} He_n(z)] = a^n e^{a^2/2} (E[e^{a z - a^2/2} He_n] = a^n: the generating
    # function of He_n). cosh(2z) = (e^{2z} + e^{-2z}) / 2: 2^n e^2 for even n, 0 for odd n;
    # sinh(2z): 2^n e^2 for odd n, 0 for even n. (a = 2 tells a^n from a.) The route must
    # recognise cosh and sinh themselves: targets never contain them, callers of
    # exact_moments may.
    for func, parity in ((sp.cosh, 0), (sp.sinh, 1)):
        got = exact_moments(func(2 * z), z, 4)
        assert got is not None, func
        for n, m in enumerate(got):
            want = 2**n * sp.exp(2) if n % 2 == parity else 0
            assert sp.simplify(m - want) == 0, (func, n, m)



def test_power_of_a_trigonometric_factor_is_expanded_inside_a_product():
    # z sin(z)^2 = z/2 - z cos(2z)/2 (the rewrite gives z (e^{iz} - e^{-iz})^2 / -4, whose
    # square must be expanded inside the product). With E[z e^{az} He_n] = (a^{n+1} +
    # n a^{n-1}) e^{a^2/2} (z He_n = He_{n+1} + n He_{n-1}) at a = 2i (e^{a^2/2} = e^{-2}):
    # E[z cos(2z) He_1] = -3 e^{-2}, E[z cos(2z) He_3] = 4 e^{-2}, so c_1 = 1/2 + 3/(2 e^2),
    # c_3 = -2 e^{-2} / 3! = -1/(3 e^2); even coefficients vanish (odd function).
    e = hermite_expansion("z1*sin(z1)**2", 3)
    assert e.exact
    assert abs(float(e[(1,)].exact) - (0.5 + 1.5 * math.exp(-2))) < 1e-14
    assert abs(float(e[(3,)].exact) + math.exp(-2) / 3) < 1e-14
    assert e[(0,)].exact == 0 and e[(2,)].exact == 0


def test_gaussian_weight_route_declines_divergent_and_symbolic_curvatures():
    # E[h(z) e^{b z^2 + a z}] is finite iff b < 1/2 (the weight against e^{-z^2/2}); then,
    # completing the square with s^2 = 1 / (1 - 2b): E[e^{b z^2 + a z}] = s e^{a^2 s^2 / 2}
    # and the tilted mean is a s^2. b = 1/4, a = -1: s^2 = 2, E[g] = sqrt(2) e,
    # E[g He_1] = -2 sqrt(2) e. At b = 1/2, 1 and 3/4 (with a polynomial factor) the
    # integral diverges: the route must decline (None), not return a finite number; with a
    # symbolic curvature c it cannot decide and declines too. (Targets refuse these before
    # this point: exact_moments is reached directly here.)
    got = exact_moments(sp.exp(z**2 / 4 - z), z, 1)
    assert sp.simplify(got[0] - sp.sqrt(2) * sp.E) == 0
    assert sp.simplify(got[1] + 2 * sp.sqrt(2) * sp.E) == 0
    # b = 2/5, close to the edge (a label power y^3 of exp(z^2/8) has b = 3/8): s^2 = 5,
    # E[g] = sqrt 5, E[g He_2] = s^3 - s = 4 sqrt 5
    got = exact_moments(sp.exp(2 * z**2 / 5), z, 2)
    assert got is not None
    assert [sp.simplify(m - w) for m, w in zip(got, [sp.sqrt(5), 0, 4 * sp.sqrt(5)],
                                               strict=True)] == [0, 0, 0]
    c = sp.Symbol("c", real=True)
    for g in (sp.exp(z**2 / 2), sp.exp(z**2), z * sp.exp(3 * z**2 / 4), sp.exp(c * z**2)):
        assert exact_moments(g, z, 1) is None, g


def test_complex_curvature_gives_real_exact_coefficients():
    # cos(z^2/8) = Re e^{i z^2/8}: b = i/8, so w = 1 - 2b = 1 - i/4 and E[e^{b z^2} z^{2j}] =
    # (2j - 1)!! w^{-1/2 - j} (principal branch: Re w > 0). c_0 = Re w^{-1/2},
    # c_2 = Re(w^{-3/2} - w^{-1/2}) / 2 (Python complex numbers). The coefficients must be
    # real exact numbers (before the fix they kept I, and converting them to float failed).
    e = hermite_expansion("cos(z1**2/8)", 2)
    assert e.exact
    w = 1 - 0.25j
    assert abs(float(e[(0,)].exact) - (w**-0.5).real) < 1e-14
    assert abs(float(e[(2,)].exact) - ((w**-1.5 - w**-0.5) / 2).real) < 1e-14
    assert e[(1,)].exact == 0


def test_complex_constant_in_the_exponent_gives_real_exact_coefficients():
    # exp(z + cos 1): the rewrite writes cos 1 = (e^{i} + e^{-i}) / 2, a constant with I in
    # the exponent beside a real slope a = 1. E[e^{z + cos 1} He_n] = e^{cos 1} e^{1/2}
    # (a = 1 in a^n e^{a^2/2}), so c_n = e^{1/2 + cos 1} / n!: real, exact, without I.
    e = hermite_expansion("exp(z1 + cos(1))", 2)
    assert e.exact
    want = math.exp(0.5 + math.cos(1))
    for n in range(3):
        assert abs(float(e[(n,)].exact) - want / math.factorial(n)) < 1e-13, n
        assert not e[(n,)].exact.has(sp.I), e[(n,)].exact

def test_a_sympy_piecewise_is_integrated_exactly():
    # g = z 1{z > 0} written as a SymPy Piecewise (callers of exact_moments may pass one;
    # the target language builds relu as max instead): E[g] = phi(0) = 1/sqrt(2 pi),
    # E[g z] = E[z^2; z > 0] = 1/2, E[g He_2] = E[(z^3 - z); z > 0] = 2 phi(0) - phi(0).
    got = exact_moments(sp.Piecewise((z, z > 0), (0, True)), z, 2)
    assert got is not None
    p0 = 1 / sp.sqrt(2 * sp.pi)
    for m, want in zip(got, [p0, sp.Rational(1, 2), p0], strict=True):
        assert sp.simplify(m - want) == 0, (m, want)


def test_piece_whose_region_is_a_point_and_an_interval():
    # Piecewise((0, -1 < z < 1), (1, z >= -1), (2, True)): the second piece's region is
    # [-1, oo) minus (-1, 1) = {-1} u [1, oo) (a point first, then an interval: the point has
    # measure zero and must not end the piece), the third (-oo, -1). So g = 1{z >= 1} +
    # 2 1{z < -1}: E[g] = 3 Phi(-1); E[g z] = phi(1) - 2 phi(1) = -phi(1).
    pw = sp.Piecewise((0, (z > -1) & (z < 1)), (1, z >= -1), (2, True))
    got = exact_moments(pw, z, 1)
    assert got is not None
    assert abs(float(got[0]) - 3 * _Phi(-1)) < 1e-14
    assert abs(float(got[1]) + math.exp(-0.5) / math.sqrt(2 * math.pi)) < 1e-14


def test_piecewise_that_folds_to_a_polynomial_stays_exact():
    # heaviside(z) + heaviside(-z) = 1 everywhere (heaviside(0) = 1/2), so
    # max(1, heaviside(z) + heaviside(-z)) = 1 and the target is z^3 = He_3 + 3 He_1: exact
    # c_1 = 3, c_3 = 1, c_0 = c_2 = 0. relu(z) heaviside(-z) = 0 everywhere: every
    # coefficient is an exact zero. (SymPy folds both to polynomials, not Piecewise.)
    e = hermite_expansion("z1**3*max(1, heaviside(z1) + heaviside(-z1))", 3)
    assert e.exact
    assert [e[(n,)].exact for n in range(4)] == [0, 3, 0, 1]
    e = hermite_expansion("relu(z1)*heaviside(-z1)", 2)
    assert e.exact and all(e[(n,)].exact == 0 for n in range(3))


def test_cut_that_the_set_solver_cannot_describe_is_integrated_numerically():
    # z + sin(z) has the sign of z (|sin z| < |z| for z != 0), so heaviside(z + sin z) =
    # heaviside(z) almost everywhere: c_0 = 1/2, c_1 = phi(0), c_3 = E[He_3; z > 0] / 6 =
    # He_2(0) phi(0) / 6 = -phi(0) / 6. SymPy cannot solve z + sin z < 0 (a ConditionSet):
    # the piecewise route must decline (numbers), not fail. The jump at 0 limits
    # Gauss-Hermite to ~1e-3: tolerance 2e-3.
    e = hermite_expansion("heaviside(z1 + sin(z1))", 3)
    p0 = 1 / math.sqrt(2 * math.pi)
    assert not e.exact
    for n, want in ((0, 0.5), (1, p0), (3, -p0 / 6)):
        assert abs(e[(n,)].value - want) < 2e-3, (n, e[(n,)].value, want)
    # ... and the reported error covers the true one (the jump slows the grids to O(1/nodes),
    # where their difference is 0.6 of the finer grid's error: it must be scaled up), up to
    # degree 5: c_5 = E[He_5; z > 0] / 5! = He_4(0) phi(0) / 120 = 3 phi(0) / 120
    e = hermite_expansion("heaviside(z1 + sin(z1))", 5)
    for n, want in ((1, p0), (3, -p0 / 6), (5, 3 * p0 / 120)):
        c = e[(n,)]
        assert abs(c.value - want) <= c.error, (n, c.value - want, c.error)


def test_conditional_image_with_complement_basis_of_unequal_norms():
    # f = (u.z)(w.z) with u = (1, 1, 0), w = (1, -1, 1) orthogonal: its Hermite leading form
    # is f (the z1^2 - z2^2 part has no constant). Given U = span(u), z = x u + w1 c1 + w2 c2
    # with U^perp's basis c1 = (1, -1, 0), c2 = (0, 0, 1) (|c1|^2 = 2, |c2|^2 = 1):
    # G = 2x (2 w1 + w2), whose w-gradient (4x, 2x) maps to 4x c1 / 2 + 2x c2 / 1 =
    # 2x (1, -1, 1), i.e. E[f He_1(v.z) | z_U] = (u.z)(w.v): the image is span(w). (Dividing
    # by the norms matters: without it, 4 c1 + 2 c2 = (4, -4, 2).) No term of w-degree 2.
    from escalier.derive.algebra import Subspace
    from escalier.derive.hermite import conditional_images, expansion_form, scalars_of

    e = hermite_expansion("(z1 + z2)*(z1 - z2 + z3)", 2)
    scalars = scalars_of(e)
    form = expansion_form(e, scalars)
    U = Subspace.span(3, [(1, 1, 0)], scalars)
    symbolic = conditional_images(form, U, 2, scalars)
    assert set(symbolic) == {1, 2}  # one entry per order 1..kmax, as documented
    assert symbolic[2] == [] and symbolic[1]
    for v in symbolic[1]:
        assert v[0] != 0 and v[1] == -v[0] and v[2] == v[0], v
    # "points": each vector is 2x (1, -1, 1) at one pseudo-random integer x in [-97, 97]
    points = conditional_images(form, U, 2, scalars, mode="points")
    assert points[2] == [] and points[1]
    for v in points[1]:
        x = v[0] / 2
        assert x.denominator == 1 and 1 <= abs(x) <= 97 and v == (2 * x, -2 * x, 2 * x), v
    # the same f times sqrt(2): exact (irrational) scalars, the same image span(w)
    e = hermite_expansion("sqrt(2)*(z1 + z2)*(z1 - z2 + z3)", 2)
    scalars = scalars_of(e)
    assert scalars.kind == "exact"
    U = Subspace.span(3, [(1, 1, 0)], scalars)
    vecs = conditional_images(expansion_form(e, scalars), U, 2, scalars)[1]
    assert vecs and all(v[0] != 0 and sp.simplify(v[1] + v[0]) == 0
                        and sp.simplify(v[2] - v[0]) == 0 for v in vecs), vecs


def test_conditional_images_refuses_an_unknown_mode_and_keep_with_points():
    # bad input: one clear line naming the problem (a typo in the mode must not silently
    # pick a route; keep filters the symbolic substitution only)
    from escalier.derive.algebra import Scalars, Subspace
    from escalier.derive.hermite import conditional_images

    scalars = Scalars("rational")
    U = Subspace.zero(2, scalars)
    with pytest.raises(ValueError, match="^mode must be 'symbolic' or 'points', got 'point'$"):
        conditional_images({(1, 1): 1}, U, 2, scalars, mode="point")
    with pytest.raises(ValueError, match="^conditional_images: keep needs mode='symbolic'$"):
        conditional_images({(1, 1): 1}, U, 2, scalars, mode="points", keep=lambda t, m: True)


def test_float_images_use_a_threshold_relative_to_the_largest_coefficient():
    # Float coefficients below 1e-9 x max(1, largest |coefficient|) are zero (hermite_image's
    # documented rule). f = A tanh(z1) + tanh(z2) z3 / 10^7: C_2's only entries are
    # E[f z2 z3] = E[tanh'] / 10^7 ~ 6.1e-8 (Stein, E[tanh'(z)] ~ 0.606), and the largest
    # coefficient is c_1 = 0.606 A. A = 1000: 6.1e-8 < 6.1e-7, so Im C_2 = {0} (an absolute
    # 1e-9 would keep both directions); A = 1: 6.1e-8 > 1e-9, so Im C_2 = span(e2, e3).
    from escalier.derive import hermite_image

    big = hermite_expansion("1000*tanh(z1) + tanh(z2)*z3/10**7", 2)
    small = hermite_expansion("tanh(z1) + tanh(z2)*z3/10**7", 2)
    assert not big.exact and not small.exact
    assert hermite_image(big, 2).dim == 0
    assert hermite_image(small, 2).dim == 2


def test_keep_selects_terms_by_their_degrees_in_u_and_in_the_complement():
    # f = He2(z1) z2 + z1 z2 + z1^3 z2^2 with z1^3 z2^2 = (He3 + 3 He1)(z1) (He2 + 1)(z2):
    # leading form G = z1^2 z2 + z1 z2 + z1^3 z2^2 + 3 z1 z2^2 + z1^3 + 3 z1. Given
    # U = span(e1) (x = z1, w = z2) the terms have (w-degree t, x-degree m) = (1, 2), (1, 1),
    # (2, 3), (2, 1), (0, 3), (0, 1). keep(t, m) keeps only the terms it accepts: (1, 1) alone
    # gives order 1 the direction e2 and order 2 nothing; (1, 4), which no term has, gives
    # nothing at all; (2, 3) alone gives order 2 only.
    from escalier.derive.algebra import Subspace
    from escalier.derive.hermite import conditional_images, expansion_form, scalars_of

    e = hermite_expansion("He2(z1)*z2 + z1*z2 + z2**2*z1**3", 5)
    scalars = scalars_of(e)
    form = expansion_form(e, scalars)
    U = Subspace.span(2, [(1, 0)], scalars)

    def images(t, m):
        return conditional_images(form, U, 2, scalars, keep=lambda tt, mm: (tt, mm) == (t, m))

    one = images(1, 1)
    assert one[2] == [] and one[1] and all(v[0] == 0 and v[1] != 0 for v in one[1])
    assert images(1, 4) == {1: [], 2: []}
    two = images(2, 3)
    assert two[1] == [] and two[2] and all(v[0] == 0 and v[1] != 0 for v in two[2])


def test_split_form_with_a_basis_whose_vectors_each_have_one_zero():
    # G(x b1 + w1 c1 + w2 c2 + w3 c3) for an orthogonal basis of R^4 in which every vector has
    # exactly one zero coordinate (impossible in R^3): b1 = (1, 1, 1, 0), c1 = (1, -1, 0, 1),
    # c2 = (1, 0, -1, -1), c3 = (0, 1, -1, 1). No vector is coordinate-aligned, so the
    # monomial-wise rescaling must not be taken; the reference is SymPy's expansion of the
    # substitution z = x b1 + sum_i w_i c_i, truncated to w-degree <= 2.
    from fractions import Fraction

    from escalier.derive.algebra import Scalars, Subspace
    from escalier.derive.hermite._tensor import _split_form

    sc = Scalars("rational")
    b1, c = (1, 1, 1, 0), [(1, -1, 0, 1), (1, 0, -1, -1), (0, 1, -1, 1)]
    U = Subspace(4, (tuple(map(Fraction, b1)),), sc)
    perp = Subspace(4, tuple(tuple(map(Fraction, v)) for v in c), sc)
    form = {(1, 1, 1, 1): Fraction(1), (2, 0, 0, 0): Fraction(3), (0, 0, 1, 1): Fraction(-2)}
    got, r = _split_form(form, U, perp, 2)
    assert r == 1
    x, w = sp.Symbol("x"), sp.symbols("w1:4")
    zs = [x * b1[l] + sum(w[i] * c[i][l] for i in range(3)) for l in range(4)]
    G = sp.Poly(sp.expand(zs[0] * zs[1] * zs[2] * zs[3] + 3 * zs[0] ** 2 - 2 * zs[2] * zs[3]),
                x, *w)
    want = {e: sp.Rational(v) for e, v in G.terms() if sum(e[1:]) <= 2}
    assert {e: sp.Rational(v.numerator, v.denominator) for e, v in got.items() if v != 0} == want


def test_expansion_form_refuses_a_parameter_and_says_what_to_do():
    # a*He3(z1) has the exact coefficient c_3 = a: the leading form needs a number, and the
    # refusal names the parameter problem and the remedy (substitute a value first)
    from escalier.derive.hermite import expansion_form, scalars_of

    e = hermite_expansion("a*He3(z1)", 3)
    with pytest.raises(ValueError, match=r"^exponents need numerical parameter values: "
                                         r"substitute them first$"):
        expansion_form(e, scalars_of(e))


def test_constant_terms_after_other_terms_are_added_to_the_mean():
    # exact_moments sums its additive terms; a constant term adds to m_0 only, wherever it
    # stands among the terms: SymPy orders erf(1) after z^2 and after cos(z), and the number 1
    # before them. z^2 = He2 + 1: m = (1, 0, 2) (E[z^2 He2] = 2! c_2). cos(z): E[e^{iz} He_n]
    # = i^n e^{-1/2} (the generating function of He_n at a = i), real part:
    # (e^{-1/2}, 0, -e^{-1/2}).
    assert exact_moments(1 + z**2, z, 2) == [2, 0, 2]
    c = sp.erf(1)
    got = exact_moments(z**2 + c, z, 2)
    assert [sp.simplify(g - w) for g, w in zip(got, [1 + c, 0, 2], strict=True)] == [0, 0, 0]
    h = sp.exp(-sp.Rational(1, 2))
    got = exact_moments(sp.cos(z) + c, z, 2)
    assert [sp.simplify(g - w) for g, w in zip(got, [h + c, 0, -h], strict=True)] == [0, 0, 0]
