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


def _mean_z_tanh():
    # E[z tanh z] = E[tanh'(z)] (Stein), z ~ N(0, 1): mpmath at 30 digits (~0.6057)
    import mpmath

    with mpmath.workdps(30):
        return float(mpmath.quad(lambda x: x * mpmath.tanh(x) * mpmath.npdf(x),
                                 [-mpmath.inf, 0, mpmath.inf]))


def test_degree_bounds_are_inclusive():
    # max_degree is documented as an integer in 0..40: degree 0 keeps c_0 = E[f] only
    # (z1^2 + 1 = He2 + 2: c_0 = 2, and the expansion is not complete), degree 40 is accepted,
    # 41 is refused with its own message
    e = hermite_expansion("z1**2 + 1", 0)
    assert [(c.alpha, c.exact) for c in e.nonzero()] == [((0,), 2)] and not e.complete
    e = hermite_expansion("z1", 40)
    assert e.complete and [(c.alpha, c.exact) for c in e.nonzero()] == [((1,), 1)]
    with pytest.raises(ValueError, match=r"^max_degree must be at most 40, got 41$"):
        hermite_expansion("z1", 41)


def test_tol_and_precision_bounds_are_inclusive():
    # tol in (0, 1e-6] and precision in PRECISION_RANGE = 8..60 (both ends included)
    from escalier.derive.hermite._expansion import PRECISION_RANGE

    assert PRECISION_RANGE == (8, 60)
    assert hermite_expansion("z1", 1, tol=1e-6)[(1,)].exact == 1
    assert hermite_expansion("z1", 1, precision=60)[(1,)].exact == 1
    assert hermite_expansion("z1", 1, precision=8)[(1,)].exact == 1


def test_parameters_with_numerical_parts():
    # a z1 + tanh(z1): c_1 = a + E[z tanh z] mixes a parameter with a quadrature: refused
    with pytest.raises(ValueError, match="^" + re.escape(
            "numerical coefficients need parameter values: substitute them first") + "$"):
        hermite_expansion("a*z1 + tanh(z1)", 3)
    # a z1^2 + tanh(z1): the parameter sits only on even degrees, where tanh's coefficients
    # vanish by parity, so nothing mixes: c_0 = E[a z^2] = a, c_2 = E[a z^2 He2] / 2! = a,
    # c_1 = E[z tanh z] (numeric)
    a = sp.Symbol("a", real=True)
    e = hermite_expansion("a*z1**2 + tanh(z1)", 3)
    assert (e[(0,)].exact, e[(2,)].exact) == (a, a)
    c1 = e[(1,)]
    assert c1.status == "numeric" and abs(c1.value - _mean_z_tanh()) <= c1.error + 1e-14
    # without parameters an exact and a numerical part simply add: z1 + tanh(z1) has
    # c_1 = 1 + E[z tanh z]
    c1 = hermite_expansion("z1 + tanh(z1)", 1)[(1,)]
    assert c1.status == "numeric" and c1.alpha == (1,)
    assert abs(c1.value - (1 + _mean_z_tanh())) <= c1.error + 1e-14


def test_json_complete_is_a_boolean():
    # a target with no polynomial part is not complete: false in JSON, not null
    e = hermite_expansion("tanh(z1)", 2)
    assert e.complete is False and e.to_json()["complete"] is False


def test_slots_of_a_parity_zero():
    # tanh is odd: E[tanh(z) He_2(z)] = 0 exactly, proved by the term's parity; the
    # coefficient is stored with its multi-index, exact 0, value 0.0, error 0.0
    c = hermite_expansion("tanh(z1)", 4)[(2,)]
    assert (c.alpha, c.value, c.error, c.status) == ((2,), 0.0, 0.0, "zero (parity in z1)")
    assert c.exact is not None and c.exact == 0
    # f = tanh(z1 + 1) - tanh(z2 + 1) is odd under z1 <-> z2: c_(0,0) = 0 by the whole
    # target's antisymmetry (term by term it is E[tanh(z+1)] - E[tanh(z+1)], two quadratures)
    e = hermite_expansion("tanh(z1 + 1) - tanh(z2 + 1)", 2)
    c = e[(0, 0)]
    assert (c.alpha, c.value, c.error) == ((0, 0), 0.0, 0.0)
    assert c.status == "zero (antisymmetry under z1 <-> z2)"
    assert c.exact is not None and c.exact == 0


def test_a_parity_zero_of_one_term_does_not_zero_the_sum():
    # tanh(z1) + tanh(z1)^2: at alpha = 1 the even term vanishes by parity, the odd one does
    # not: c_1 = E[z tanh z] + 0, numeric
    c = hermite_expansion("tanh(z1) + tanh(z1)**2", 2)[(1,)]
    assert c.status == "numeric" and not c.is_zero
    assert abs(c.value - _mean_z_tanh()) <= c.error + 1e-14


def test_a_numeric_coefficient_with_zero_error_is_not_a_zero():
    # tanh(z1) z2^2 + z1 z2: at alpha = (1, 1) the quadrature of tanh(z1) is multiplied by
    # E[z2^2 He1(z2)] = E[z2^3] = 0 (exact), so its value and error are both exactly 0;
    # the polynomial part gives c_(1,1) = 1. f is odd in z1 and has no other flip or swap
    # symmetry, which proves zeros only at even alpha_1. Status numeric, value 1, error 0.
    c = hermite_expansion("tanh(z1)*z2**2 + z1*z2", 2)[(1, 1)]
    assert (c.alpha, c.value, c.error, c.status) == ((1, 1), 1.0, 0.0, "numeric")


def test_tolerance_bounds_are_inclusive():
    # the documented rule: zero when |value| <= tol and error <= tol. With z1 z2 / 10^7 in
    # place of z1 z2 above, c_(1,1) = 1e-7 with error 0: at tol = 1e-7 it is a zero below
    # tolerance (value 0.0, error max(error, |value|) = 1e-7, no exact value)
    c = hermite_expansion("tanh(z1)*z2**2 + z1*z2/10**7", 2, tol=1e-7)[(1, 1)]
    assert (c.alpha, c.exact, c.value, c.error) == ((1, 1), None, 0.0, 1e-7)
    assert c.status == "zero (below tolerance 1.0e-07)"
    # f = tanh(z1 + 1) - tanh(z2 + 1) + z1^3 z2 (the last term breaks the antisymmetry):
    # c_(0,0) = E[tanh(z+1)] - E[tanh(z+1)] is two equal quadratures, value exactly 0 with
    # an error bound e > 0; at tol = e exactly it is a zero (error <= tol), and numeric
    # for any smaller tol
    f = "tanh(z1 + 1) - tanh(z2 + 1) + z1**3*z2"
    c = hermite_expansion(f, 2)[(0, 0)]
    assert c.value == 0.0 and 0 < c.error < 1e-12
    assert hermite_expansion(f, 2, tol=c.error)[(0, 0)].status.startswith("zero (below")
    assert hermite_expansion(f, 2, tol=c.error / 2)[(0, 0)].status == "numeric"


def test_degree_mass():
    # E[(P_n f)^2] = sum_{|alpha| = n} alpha! c_alpha^2. f = z1 + 2 z2 + He2(z1) z2:
    # n = 1: 1! 1^2 + 1! 2^2 = 5; n = 3: 2! 1! 1^2 = 2; n = 2 and n = 0: no coefficient, 0
    e = hermite_expansion("z1 + 2*z2 + He2(z1)*z2", 3)
    assert [e.degree_mass(n) for n in range(4)] == [0, 5, 0, 2]
    assert all(isinstance(e.degree_mass(n), sp.Expr) for n in range(4))
    # numeric: tanh(z1) has c_1 = E[z tanh z], so the degree-1 mass is its square (a float)
    m = hermite_expansion("tanh(z1)", 2).degree_mass(1)
    assert isinstance(m, float) and m == pytest.approx(_mean_z_tanh() ** 2, rel=1e-12)
    # with a numeric and an exact coefficient in one degree: tanh(z1) + 3 z2 gives
    # E[z tanh z]^2 + 9 at n = 1
    m = hermite_expansion("tanh(z1) + 3*z2", 2).degree_mass(1)
    assert m == pytest.approx(_mean_z_tanh() ** 2 + 9, rel=1e-12)


# The JSON of an expansion is a pipeline contract (`escalier hermite --json`, docs/cli.md) and
# its HTML table is what a notebook shows: both are checked field by field against hand values.

def _mp_moment(func, n):
    """E[g(z) He_n(z)], z ~ N(0, 1), with mpmath at 30 digits."""
    import mpmath

    with mpmath.workdps(30):
        return float(mpmath.quad(lambda x: func(x) * mpmath.hermite(n, x / mpmath.sqrt(2))
                                 * mpmath.mpf(2) ** (-mpmath.mpf(n) / 2) * mpmath.npdf(x),
                                 [-mpmath.inf, 0, mpmath.inf]))


def test_json_of_an_exact_expansion_with_a_parameter():
    # z1^3 = He3(z1) + 3 He1(z1), c z1 z2 = c He1(z1) He1(z2): c_(1,0) = 3, c_(1,1) = c (no
    # float value: it depends on c), c_(3,0) = 1, all exact with error 0; a polynomial's
    # expansion is complete; listed by degree
    import json

    data = hermite_expansion("z1**3 + c*z1*z2", 3).to_json()
    assert json.loads(json.dumps(data)) == data
    assert data == {
        "target": "z1**3 + c*z1*z2", "variables": ["z1", "z2"], "parameters": ["c"],
        "max_degree": 3, "complete": True, "notes": [],
        "coefficients": [
            {"alpha": [1, 0], "exact": "3", "value": 3.0, "error": 0.0, "status": "exact"},
            {"alpha": [1, 1], "exact": "c", "value": None, "error": 0.0, "status": "exact"},
            {"alpha": [3, 0], "exact": "1", "value": 1.0, "error": 0.0, "status": "exact"},
        ],
    }


def test_json_of_a_numerical_expansion():
    # tanh is odd: c_0 = c_2 = 0 by parity (not listed); c_1 = E[z tanh z], c_3 = E[tanh(z)
    # He3(z)] / 3!, numerical, each within its reported error of mpmath's value
    import mpmath

    data = hermite_expansion("tanh(z1)", 3).to_json()
    assert {k: data[k] for k in ("target", "variables", "parameters", "max_degree", "complete",
                                 "notes")} == {
        "target": "tanh(z1)", "variables": ["z1"], "parameters": [], "max_degree": 3,
        "complete": False, "notes": []}
    got = {tuple(c["alpha"]): c for c in data["coefficients"]}
    assert list(got) == [(1,), (3,)]
    want = {(1,): _mp_moment(mpmath.tanh, 1), (3,): _mp_moment(mpmath.tanh, 3) / 6}
    for alpha, c in got.items():
        assert c["exact"] is None and c["status"] == "numeric"
        assert 0 < c["error"] < 1e-10
        assert abs(c["value"] - want[alpha]) <= c["error"] + 1e-15, alpha


def test_json_notes_are_the_expansion_notes():
    # a coupled term with a precision asked for carries one note (its text is checked in
    # test_precision_note_names_the_coupled_terms_only)
    e = hermite_expansion("tanh(z1*z2 + z1/2 + z2/3)", 2, precision=20)
    assert len(e.notes) == 1 and e.to_json()["notes"] == [e.notes[0]]


def _html_rows(table):
    import html as html_lib

    return [[html_lib.unescape(c) for c in re.findall(r"<t[dh]>(.*?)</t[dh]>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", table)]


def test_html_table_of_an_exact_expansion_with_a_parameter():
    # the coefficients of the JSON test above; the value of c_(1,1) depends on c: left empty
    # (formatting None used to raise TypeError, so the notebook showed no table)
    table = hermite_expansion("z1**3 + c*z1*z2", 3)._repr_html_()
    assert re.search(r"<caption>(.*?)</caption>", table).group(1) == \
        "Hermite expansion of z1**3 + c*z1*z2 up to degree 3 (complete)"
    assert _html_rows(table) == [
        ["alpha", "exact", "value", "error", "status"],
        ["(1, 0)", "3", "3", "0", "exact"],
        ["(1, 1)", "c", "", "0", "exact"],
        ["(3, 0)", "1", "1", "0", "exact"],
    ]


def test_html_table_of_a_numerical_expansion():
    # tanh(z1) to degree 3: truncated (no "complete" in the caption), no exact form, the value
    # to 8 significant digits, the error to 2
    import mpmath

    table = hermite_expansion("tanh(z1)", 3)._repr_html_()
    assert re.search(r"<caption>(.*?)</caption>", table).group(1) == \
        "Hermite expansion of tanh(z1) up to degree 3"
    header, *rows = _html_rows(table)
    assert header == ["alpha", "exact", "value", "error", "status"]
    want = {"(1,)": _mp_moment(mpmath.tanh, 1), "(3,)": _mp_moment(mpmath.tanh, 3) / 6}
    assert [r[0] for r in rows] == list(want)
    for alpha, exact, value, error, status in rows:
        assert exact == "" and status == "numeric"
        assert len(re.sub(r"[-.]|e.*", "", value).lstrip("0")) <= 8
        assert float(value) == pytest.approx(want[alpha], rel=1e-8)
        assert re.fullmatch(r"\d(\.\d)?e-\d\d", error) and 0 < float(error) < 1e-10


def test_tensor_entry_counts_the_indices():
    # f = z1 + 2 z2 + He2(z1) z2: (C_1)_0 = c_(1,0) = 1, (C_1)_1 = c_(0,1) = 2; the entries of
    # C_3 with indices {0, 0, 1} in any order have alpha = (2, 1): alpha! c = 2! 1! 1 = 2,
    # c = 1; (C_3)_{011} has alpha = (1, 2): 0; C_0 = E[f] = 0
    e = hermite_expansion("z1 + 2*z2 + He2(z1)*z2", 3)
    assert e.tensor_entry((0,)).alpha == (1, 0) and e.tensor_entry((0,)).exact == 1
    assert e.tensor_entry((1,)).alpha == (0, 1) and e.tensor_entry((1,)).exact == 2
    for idx in ((0, 0, 1), (0, 1, 0), (1, 0, 0)):
        c = e.tensor_entry(idx)
        assert c.alpha == (2, 1) and c.exact == 1
    assert e.tensor_entry((0, 1, 1)).alpha == (1, 2) and e.tensor_entry((0, 1, 1)).is_zero
    assert e.tensor_entry(()).alpha == (0, 0) and e.tensor_entry(()).exact == 0
    # three distinct indices in k = 3: z1 z2 z3 = He1 He1 He1, c_(1,1,1) = 1
    assert hermite_expansion("z1*z2*z3", 3).tensor_entry((2, 0, 1)).exact == 1


def test_numerical_heaviside_keeps_sympys_value_at_zero():
    # quadrature lambdifies Heaviside to _np_heaviside: it must agree with SymPy's Heaviside,
    # whose value at 0 is 1/2, on both sides and at the jump
    import numpy as np

    from escalier.derive.hermite._expansion import _np_heaviside

    xs = [-2.0, -1e-300, 0.0, 1e-300, 3.0]
    assert _np_heaviside(np.array(xs)).tolist() == [float(sp.Heaviside(x)) for x in xs]
    assert [float(sp.Heaviside(x)) for x in xs] == [0.0, 0.0, 0.5, 1.0, 1.0]


def test_bounded_exponential_of_a_kink():
    # exp(-|z1|) is bounded by 1, so square-integrable; it was refused as "grows too fast"
    # (the exp argument -|z1| is not a polynomial, and only bounded arguments were
    # accepted: an argument bounded above suffices). By hand, c_0 = E[e^{-|z|}] =
    # 2 int_0^oo e^{-z} phi(z) dz = 2 e^{1/2} int_0^oo phi(z + 1) dz = e^{1/2} erfc(1/sqrt 2)
    # (~0.5232). The function is even: odd coefficients are exact zeros. Gauss-Hermite grids
    # converge at O(1/nodes) on the kink at 0, where the two grids' difference is only 0.6 of
    # the finer grid's error (c_0: 8.2e-4 against 1.37e-3), so the reported error must cover
    # the true one (mpmath at 30 digits, split at the kink) for every even degree.
    import math

    import mpmath

    e = hermite_expansion("exp(-abs(z1))", 6)
    want0 = math.exp(0.5) * math.erfc(1 / math.sqrt(2))
    assert abs(e[(0,)].value - want0) <= e[(0,)].error < 1e-2, (e[(0,)].value, want0)
    for n in (1, 3, 5):
        assert e[(n,)].is_zero and e[(n,)].is_exact
    for n in (0, 2, 4, 6):
        c = e[(n,)]
        want = _mp_moment(lambda x: mpmath.exp(-abs(x)), n) / math.factorial(n)
        assert abs(c.value - want) <= c.error, (n, c.value, want, c.error)
    # still refused: exp(|z1|) is unbounded above (its square-integrability is not certified)
    with pytest.raises(ValueError, match="grows too fast"):
        hermite_expansion("exp(abs(z1))", 2)


def test_rounding_floor_scales_with_the_summed_terms():
    # sqrt(10**12 + tanh(z1)) = 10^6 sqrt(1 + tanh(z1)/10^12): its odd coefficients are
    # about 10^6 * tanh's / (2 10^12) (c_1 ~ 3.0e-7, c_5 ~ 2.9e-9), each a Gauss-Hermite sum
    # of terms of size ~10^6 that cancel, so float64 rounds it by ~1e-12 (the two grids
    # round alike: their difference does not see it). The reported error must cover that
    # (mpmath at 30 digits); an error floor relative to the result (1e-15 (1 + |c|)) gave
    # 8.6e-14 on c_5 against a true 1.4e-12. The bound must also stay informative: float64
    # carries ~16 digits of the summed terms (~10^6 E|He_n|), so far below 1e-6.
    import math

    import mpmath

    e = hermite_expansion("sqrt(10**12 + tanh(z1))", 5)
    with mpmath.workdps(30):
        for n in (0, 1, 3, 5):
            want = mpmath.quad(lambda x, n=n: mpmath.sqrt(10**12 + mpmath.tanh(x))
                               * mpmath.hermite(n, x / mpmath.sqrt(2)) * mpmath.mpf(2) ** (-n / 2)
                               * mpmath.npdf(x), [-mpmath.inf, 0, mpmath.inf]) / math.factorial(n)
            c = e[(n,)]
            assert c.status == "numeric"
            assert abs(c.value - float(want)) <= c.error < 1e-6, (n, c.value, float(want), c.error)


def test_a_target_undefined_on_the_grid_is_refused_by_name():
    # sqrt(tanh(z1)) passes the growth check (bounded) but is not real for z1 < 0: half of
    # the Gauss-Hermite nodes give NaN, which must be an error naming the cause, not a value
    with pytest.raises(ValueError, match="^the target is not finite on the quadrature grid$"):
        hermite_expansion("sqrt(tanh(z1))", 2)
