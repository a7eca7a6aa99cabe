"""hermite_expansion at the edges that mutation testing of hermite/_expansion.py found
unguarded (issue 21, section 3; docs/mutation.md): symbolic coefficients of non-polynomial
terms, the note on float64 grids, zeros proved term by term when the whole-target symmetry
search is off (k > 6) and by the whole target when it is on (k <= 6), the order of
`nonzero()`.

c_alpha = E[f He_alpha] / alpha!; every expected value is derived in the comments.
"""

import re

import pytest
import sympy as sp

from escalier.derive.hermite import hermite_expansion


def test_symbolic_factor_of_an_exact_non_polynomial_term():
    # f = a erf(z1). Stein: E[erf(z) He_n(z)] = E[erf^(n)(z)]; erf'(z) = 2/sqrt(pi) e^{-z^2},
    # and e^{-z^2} phi(z) is sqrt(1/3) times the N(0, 1/3) density, so E[e^{-z^2}] = 1/sqrt 3,
    # E[z^2 e^{-z^2}] = 1/(3 sqrt 3). c_1 = 2/sqrt(3 pi) a. erf'''(z) = 2/sqrt(pi) (4 z^2 - 2)
    # e^{-z^2}: E = 2/sqrt(pi) (4/(3 sqrt 3) - 2/sqrt 3) = -4/(3 sqrt(3 pi)); c_3 = that / 3!.
    a = sp.Symbol("a", real=True)
    e = hermite_expansion("a*erf(z1)", 3)
    want = {(1,): 2 * a / sp.sqrt(3 * sp.pi), (3,): -4 * a / (3 * sp.sqrt(3 * sp.pi)) / 6}
    assert {c.alpha for c in e.nonzero()} == set(want)
    for alpha, w in want.items():
        c = e[alpha]
        assert c.status == "exact" and c.value is None
        assert sp.simplify(c.exact - w) == 0, (alpha, c.exact)
    assert e[(0,)].is_zero and e[(2,)].is_zero  # erf is odd


def test_symbolic_factor_of_a_numerical_term_is_refused():
    # a tanh(z1): tanh has no exact route, and a quadrature needs a number for a
    with pytest.raises(ValueError, match="^" + re.escape(
            "numerical coefficients need parameter values: substitute them first") + "$"):
        hermite_expansion("a*tanh(z1)", 3)


def test_precision_note_names_the_coupled_terms_only():
    # precision reaches the one-coordinate integrals (mpmath); a term coupling z1 and z2
    # non-separably (no ridge: its argument is not linear) uses float64 grids and is named.
    # tanh(z1 z2 + z1/2 + z2/3) has no sign-flip or swap symmetry, so none of its
    # coefficients is an exact zero.
    coupled = "tanh(z1*z2 + z1/2 + z2/3)"
    e = hermite_expansion(coupled, 2, precision=20)
    (note,) = e.notes
    assert note.startswith("precision 20 digits") and coupled in note
    # a non-linear one-coordinate term is integrated at the precision asked for: no note
    assert hermite_expansion("tanh(z1**2 + z1)", 2, precision=20).notes == ()
    # and no note without a precision
    assert hermite_expansion(coupled, 2).notes == ()


def test_term_parity_proves_a_zero_when_the_target_search_is_off():
    # k = 7 > 6: no symmetry search over the whole target. E[f He_alpha] for alpha = e2:
    # only tanh(z1) tanh(z2) involves z2, and its z1 factor E[tanh(z1)] = 0 by parity:
    # an exact zero, with the parity named (not a numerical value below tolerance).
    e = hermite_expansion("tanh(z1)*tanh(z2) + z3 + z4 + z5 + z6 + z7", 2)
    c = e[(0, 1, 0, 0, 0, 0, 0)]
    assert c.status == "zero (parity in z1)" and c.exact == 0
    assert (c.value, c.error) == (0.0, 0.0)
    # alpha = e1 + e2 is E[tanh z1 z1] E[tanh z2 z2] = E[tanh'(z)]^2 > 0: numeric
    assert e[(1, 1, 0, 0, 0, 0, 0)].status == "numeric"


def test_whole_target_antisymmetry_proves_a_zero_at_k_6():
    # f = (tanh(z1) z2 - tanh(z2) z1) z3 z4 z5 z6 is odd under z1 <-> z2, so every alpha
    # with alpha_1 = alpha_2 vanishes. Term by term, alpha = (1,...,1) is
    # E[tanh z1 z1] - E[tanh z2 z2] = 0 only up to rounding; the proof needs the target's
    # symmetry, searched for k <= 6.
    e = hermite_expansion("(tanh(z1)*z2 - tanh(z2)*z1)*z3*z4*z5*z6", 6)
    c = e[(1, 1, 1, 1, 1, 1)]
    assert c.status == "zero (antisymmetry under z1 <-> z2)" and c.exact == 0
    # alpha = (2, 0, 1, 1, 1, 1) (alpha_1 != alpha_2) vanishes term by term: E[z2] = 0 in
    # the first term, E[z1 He2(z1)] = 0 in the second
    assert e[(2, 0, 1, 1, 1, 1)].is_zero


def test_nonzero_is_ordered_by_degree_then_multi_index():
    # z1 + z2 + z1 z2 + He2(z1) + He2(z2): c = 1 at e1, e2, e1 + e2, 2 e1, 2 e2; within a
    # degree the multi-indices come in decreasing order (z1's power first)
    e = hermite_expansion("He2(z2) + z1*z2 + z2 + He2(z1) + z1", 2)
    assert [c.alpha for c in e.nonzero()] == [(1, 0), (0, 1), (2, 0), (1, 1), (0, 2)]
    assert all(c.exact == 1 for c in e.nonzero())


def test_numerical_ridge_keeps_its_mean():
    # f = tanh(z1 + z2)^2 = g(v.z), v = (1, 1), |v| = sqrt 2: c_0 = E[tanh(sqrt(2) u)^2],
    # u ~ N(0, 1) (mpmath at 30 digits below; ~0.52, not 0), and the ridge rule
    # c_beta = v^beta / |v|^n E[g(|v| u) He_n(u)] / beta! gives c_(1,1) = 2 c_(2,0).
    import mpmath

    e = hermite_expansion("tanh(z1 + z2)**2", 2)
    with mpmath.workdps(30):
        ref = float(mpmath.quad(lambda x: mpmath.tanh(mpmath.sqrt(2) * x) ** 2 * mpmath.npdf(x),
                                [-mpmath.inf, 0, mpmath.inf]))
    c0 = e[(0, 0)]
    assert c0.status == "numeric" and c0.exact is None
    assert abs(c0.value - ref) <= c0.error + 1e-15 and c0.error < 1e-8
    assert e[(1, 1)].value == pytest.approx(2 * e[(2, 0)].value, rel=1e-12)


def test_default_degree_and_bad_degrees():
    # the documented default max_degree is 6: z1^7 = He7 + ... is then truncated, and its
    # degree-7 coefficient (1) is beyond the expansion
    e = hermite_expansion("z1**7")
    assert e.max_degree == 6 and not e.complete
    with pytest.raises(KeyError, match="beyond max_degree = 6"):
        e[(7,)]
    for bad in (-1, 2.5):
        with pytest.raises(ValueError, match=r"^max_degree must be an integer >= 0"):
            hermite_expansion("z1", bad)


def test_float_value_of_exact_coefficients():
    # z1^3 + He2(z1) z2 = He3(z1) + 3 He1(z1) + He2(z1) He1(z2): c_(3,0) = 1, c_(1,0) = 3,
    # c_(2,1) = 1; an exact coefficient's float value is the coefficient (alpha! divided out)
    e = hermite_expansion("z1**3 + He2(z1)*z2", 3)
    want = {(3, 0): 1, (1, 0): 3, (2, 1): 1}
    assert {c.alpha: c.exact for c in e.nonzero()} == want
    assert {c.alpha: c.value for c in e.nonzero()} == {a: float(v) for a, v in want.items()}
    assert all(c.error == 0.0 and c.status == "exact" for c in e.nonzero())
