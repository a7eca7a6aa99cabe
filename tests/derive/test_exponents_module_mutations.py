"""The exponents report itself (derive/_exponents.py): its JSON fields, its HTML table, the
student fields and their proof flag, the float64 fallback, the protocol selection and the
progress stages, each against a hand derivation (issue 21, section 3: written for the
survivors of the first mutmut run of the module, docs/mutation.md).

Hand values used below. y = z1 + He3(z2) (k = 2, degree 3, rational coefficients): C_1 = e1,
C_2 = 0, C_3 = 6 e2^{x3}. Online: z1 at order 1, then given z1, y - E[y | z1] = He3(z2):
T_1 = T_2 = 0, T_3 != 0, so leap 3 and cost d^max(3 - 1, 1) = d^2. Giant step and few steps:
e2 enters only through C_3, so l = 3 (n = d^3). Reuse: E[y~^1 z1] = 1 != 0 and E[y~^3 z2] =
E[He3(z2)^3 z2] + ... != 0: first order, O(d). AMP: E[z1 | y] != 0, so the trivial subspace is
not {0} and weak recovery holds at every alpha > 0. Default label powers of a polynomial of
degree 3: max(2, min(6, 12 // 3)) = 4.

relu(x) = x/2 + |x|/2 with |x| even: c_1(relu) = 1/2 and every odd c_k with k >= 3 is 0
(c_3 = (E[x^4; x > 0] - 3 E[x^2; x > 0]) / 3! = (3/2 - 3/2) / 6 = 0); the even c_k of |x|/2
are all non-zero (E[|x| He_2k(x)] = 2 (-1)^(k+1) (2k - 2)! / (2^(k-1) (k-1)! sqrt(2 pi))).
"""

import html
import json
import math
import re
from dataclasses import dataclass
from typing import ClassVar

import pytest
import sympy as sp
from _toy_protocol import FirstLeap

import escalier.derive._exponents as exponents_module
from escalier.derive import current_stage, exponents
from escalier.derive._exponents import student_order
from escalier.derive.algebra import MAX_FIELD_DEGREE
from escalier.derive.protocols import Analysis, Context, Protocol, ProtocolResult

REGISTRY = ["online", "giant_step", "few_steps", "reuse", "amp"]  # docs/theory.md §3 order
ANY_ALPHA = "n = alpha d, any alpha > 0"


def test_json_of_a_polynomial_report_with_a_student():
    # y = z1 + He3(z2), student relu: IE 1 and student-aware IE 1 (c_1(relu) = 1/2 != 0).
    # c_3(relu) = 0: the order-3 term that carries e2 does not move a relu student, so the
    # student-aware giant step and few steps never learn e2 (exponent None, cost "?"); the
    # same target without a student has l = 3 for both (module docstring).
    r = exponents("z1 + He3(z2)", student="relu", alpha_c=False)
    js = r.to_json()
    assert json.loads(json.dumps(js)) == js  # a JSON document, as the pipeline reads it
    assert (js["target"], js["k"], js["student"]) == ("z1 + He3(z2)", 2, "relu")
    assert (js["information_exponent"], js["student_information_exponent"]) == (1, 1)
    assert (r.student, r.student_information_exponent) == ("relu", 1)
    assert list(js["protocols"]) == REGISTRY
    exps = {name: p["exponent"] for name, p in js["protocols"].items()}
    assert exps == {"online": 3, "giant_step": None, "few_steps": None, "reuse": 1, "amp": 0.0}
    assert js["giant_step_exponent"] is None and js["few_step_exponent"] is None
    assert js["few_steps_student"] == "relu"
    assert js["complexity"] == {"online": "d^2", "giant_step": "?", "few_steps": "?",
                                "reuse": "O(d)", "amp": ANY_ALPHA}
    for key in ("information_exponent", "leap", "generative_exponent", "reuse",
                "student_information_exponent", "directions"):
        assert js["exact"][key] is True, key
        assert r.exact[key] is True, key
    # notes: the online and reuse notes (both staircases end with every direction), then the
    # report's own (none: polynomial, a label with infinitely many values, exact arithmetic)
    assert js["notes"] == ["every direction learned", "every direction learned"]
    assert r.notes == ()
    assert (js["max_degree"], js["max_label_power"]) == (3, 4)
    assert (r.max_degree, r.max_power) == (3, 4)
    plain = exponents("z1 + He3(z2)", alpha_c=False)
    assert (plain.giant_step_exponent, plain.few_step_exponent) == (3, 3)


def test_report_without_a_student():
    r = exponents("z1 + He3(z2)", alpha_c=False)
    js = r.to_json()
    assert r.student is None and js["student"] is None
    assert r.student_information_exponent is None
    assert "student_information_exponent" in js and js["student_information_exponent"] is None
    # nothing about a student is proved when there is none
    assert r.exact["student_information_exponent"] is False
    assert r.exact["information_exponent"] is True
    assert not any("float64" in n for n in r.notes)


def test_student_flag_follows_the_student_coefficient():
    # tanh: c_1(tanh) = E[tanh'(z)] = E[1 - tanh(z)^2] has no closed form (numerical), so the
    # student-aware IE of z1 + He3(z2) is 1 but not proved, while the IE itself is proved.
    r = exponents("z1 + He3(z2)", student="tanh", alpha_c=False)
    assert r.student == "tanh" and r.student_information_exponent == 1
    assert r.exact["student_information_exponent"] is False
    assert r.exact["information_exponent"] is True


def test_student_order_directly():
    # relu: c_3 = c_5 = 0 (odd orders >= 3), c_10 != 0 (even): the first order it sees among
    # 3, 5, 10 is 10, exactly; none among 3, 5; no order given: none, and nothing inexact used
    assert student_order("relu", [3, 5, 10]) == (10, True)
    assert student_order("relu", [5, 3]) == (None, True)
    assert student_order("relu", []) == (None, True)
    # c_2(tanh) = 0 by parity (exact), c_3(tanh) != 0 numerically
    assert student_order("tanh", [2, 3]) == (3, False)


def test_finite_label_note_and_default_degree():
    # sign(z1) takes the values -1 and 1: the report says so; non-polynomial, so truncated
    # at the default degree 8; a label with 2 values needs only the power m = 1
    r = exponents("sign(z1)", alpha_c=False)
    assert r.notes == ("non-polynomial target: Hermite expansion truncated at degree 8",
                       "the label takes finitely many values: -1, 1")
    js = r.to_json()
    assert (js["max_degree"], js["max_label_power"]) == (8, 1)
    assert js["notes"][-2:] == list(r.notes)


def test_truncated_report_notes_in_json():
    # tanh(z1) + He5(z2) at degree 4: the online staircase cannot see z2 (order 5)
    r = exponents("tanh(z1) + He5(z2)", max_degree=4, alpha_c=False)
    js = r.to_json()
    assert js["notes"][0] == "no further direction found up to degree 4"
    assert js["notes"] == [r.online_note, r.reuse_note,
                           "non-polynomial target: Hermite expansion truncated at degree 4"]
    assert js["max_degree"] == 4 and r.max_degree == 4


def test_outgrown_exact_arithmetic_report():
    # sqrt(3), sqrt(5), sqrt(7), sqrt(11) (and their products): a number field of degree
    # 2^4 = 16 > MAX_FIELD_DEGREE = 8, so the report is recomputed in float64, says why, and
    # marks nothing exact; the exponents are those of the structure: c_1 has both
    # coordinates (IE 1, leap 1) and E[z | y] spans R^2 (generative exponent 1).
    text = "sign(z1) + sqrt(3)*z2 + sqrt(5)*z1*z2 + sqrt(7)*z2**2 + sqrt(11)*z1**2"
    r = exponents(text, alpha_c=False)
    assert not any(r.exact.values())
    (note,) = [n for n in r.notes if "float64" in n]
    assert note.startswith("computed in float64, values marked not exact")
    # the reason is the error's own message: the radicals and the degree bound
    assert "needs the radicals" in note and f"more than degree {MAX_FIELD_DEGREE}" in note
    assert (r.information_exponent, r.leap, r.generative_exponent) == (1, 1, 1)
    assert r.relevant.dim == 2


def _cells(row: str) -> list[str]:
    return [html.unescape(c) for c in re.findall(r"<t[dh]>(.*?)</t[dh]>", row)]


def test_html_table():
    # the rows of z1 + He3(z2) (module docstring); the reuse rows carry their proof status in
    # their text (a bound is written out when unproved) and show the protocol's flag
    r = exponents("z1 + He3(z2)", alpha_c=False)
    table = r._repr_html_()
    assert re.search(r"<caption>(.*?)</caption>", table).group(1) == "exponents of z1 + He3(z2)"
    rows = [_cells(row) for row in re.findall(r"<tr>(.*?)</tr>", table)]
    assert rows == [
        ["quantity", "value", "proved", "predicted cost"],
        ["information exponent", "1", "True", ""],
        ["leap (online staircase)", "3", "True", "d^2"],
        ["giant-step exponent l", "3", "True", "one step, n = d^3"],
        ["few-steps exponent l", "3", "True", "1 step, n = d^3 each"],
        ["generative exponent", "1", "True", "O(d)"],
        ["batch reuse class", "O(d)", "True", "O(d)"],
    ]


def test_html_table_shows_the_student_row_and_unproved_bounds():
    # He3(z1) (1 + z2 + z2 z3) with student relu: IE 3 (E[y z] = 0, the degree-3 tensor
    # E[y He3(z1)] = 6 != 0); relu has c_1 = 1/2, c_2 = 1/(2 sqrt(2 pi)), c_3 = 0, and the
    # target's degree-4 tensor has E[y He3(z1) z2] = 6 != 0, c_4(relu) != 0: student-aware
    # IE 4, as the command line's table says. A reuse search capped at label power 2 (the
    # witness needs y~^3: test_generative_search.py) leaves the generative exponent
    # unproved: its row shows the bound and False, not None.
    r = exponents("He3(z1)*(1 + z2 + z2*z3)", student="relu", alpha_c=False, max_power=2)
    rows = [_cells(row) for row in re.findall(r"<tr>(.*?)</tr>", r._repr_html_())]
    assert ["student-aware IE (relu)", "4", "True", ""] in rows
    gen = next(row for row in rows if row[0] == "generative exponent")
    assert gen[1].startswith("<= ") and "not proved" in gen[1] and gen[2] == "False"
    assert all(row[2] != "None" for row in rows)


def test_protocol_selection_by_name_and_object():
    # names are accepted; few_steps needs giant_step (and online), amp needs reuse: every
    # requirement is analysed, in registry order, whatever order the names come in
    r = exponents("z1*z2", alpha_c=False, protocols=["amp", "few_steps"])
    assert list(r.protocols) == REGISTRY
    # z1 z2: C_2 = sym(e1 e2) of rank 2, C_1 = 0: one step with n = d^2 learns both
    assert r.few_step_exponent == 2 and r.giant_step_exponent == 2
    # a protocol object outside the registry is kept, after the registry's
    with_toy = exponents("z1 + He3(z2)", alpha_c=False, protocols=[FirstLeap()])
    assert list(with_toy.protocols) == ["online", "first_leap"]
    assert with_toy.protocols["first_leap"].exponent == 1  # the first phase: order 1
    accepted = ", ".join(REGISTRY)
    with pytest.raises(ValueError) as err:
        exponents("z1", protocols=["nope"])
    assert str(err.value) == f"unknown protocol 'nope'; accepted: {accepted}"


@dataclass(frozen=True)
class _NeedsMissing(Protocol):
    name: ClassVar[str] = "needs_missing"
    requires: ClassVar[tuple[str, ...]] = ("not_registered",)

    def analyse(self, analysis: Analysis) -> ProtocolResult:  # never reached
        raise AssertionError("analysed although a requirement is missing")


def test_unregistered_requirement_is_refused():
    with pytest.raises(ValueError) as err:
        exponents("z1", alpha_c=False, protocols=[_NeedsMissing()])
    assert str(err.value) == "protocol requirement 'not_registered' is not registered"


def test_protocol_not_analysed_is_named():
    r = exponents("z1*z2", alpha_c=False, protocols=["giant_step"])
    with pytest.raises(AttributeError) as err:
        _ = r.generative_exponent
    assert str(err.value) == "protocol 'reuse' was not analysed in this report"


def test_alpha_c_is_computed_by_default():
    # y = He2(z1) = z1^2 - 1, a bijective function of z1^2: the phase-retrieval threshold
    # alpha_c = 1/2 (Mondelli & Montanari 2018; G(y) = y, F(M) = E[y^2] M = 2 M). Monte
    # Carlo with n = 2e5: 3% as in tests/derive/test_exponents_parts.py.
    r = exponents("He2(z1)")
    assert r.amp.alpha_c is not None and abs(r.amp.alpha_c - 0.5) < 0.015
    assert exponents("He2(z1)", alpha_c=False).amp.alpha_c is None


def test_stages_name_what_is_running(monkeypatch):
    # the command line's progress line and time-budget message read current_stage()
    # (escalier.numerics.cli): the target's expansion and the student's coefficients are
    # named while they run
    seen = {}
    build = Context.build.__func__

    def spy_build(cls, *args, **kwargs):
        seen["build"] = current_stage()
        return build(cls, *args, **kwargs)

    def spy_student(*args, **kwargs):
        seen["student"] = current_stage()
        return student_order(*args, **kwargs)

    monkeypatch.setattr(Context, "build", classmethod(spy_build))
    monkeypatch.setattr(exponents_module, "student_order", spy_student)
    r = exponents("z1 + He3(z2)", student="relu", alpha_c=False)
    assert r.student_information_exponent == 1
    assert seen == {"build": "Hermite expansion of the target",
                    "student": "student-aware information exponent"}


def test_relu_coefficients_used_above():
    # the hand values of the module docstring, by exact integration: c_3(relu) = 0 and
    # c_10(relu) != 0 (so student_order("relu", [3, 5, 10]) must find 10)
    x = sp.Symbol("x", real=True)
    pdf = sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)

    def c(k):
        he = sp.hermite_prob(k, x)
        return sp.simplify(sp.integrate(x * he * pdf, (x, 0, sp.oo)) / sp.factorial(k))

    assert c(1) == sp.Rational(1, 2) and c(3) == 0 and c(5) == 0
    assert c(10) != 0
    assert math.isclose(float(c(10)), float(2 * (-1) ** 6 * sp.factorial(8)
                                            / (2**4 * sp.factorial(4) * sp.sqrt(2 * sp.pi))
                                            / 2 / sp.factorial(10)), rel_tol=1e-12)


def test_student_none_is_not_proved_past_a_truncated_expansion():
    # f = sign(z1) + He4(z1): sign is odd, so c_k(f) = 0 for even k except c_4(f) = 1;
    # sigma = x^4 = He4 + 6 He2 + 3 is even, so c_k(sigma) = 0 for odd k, and c_4(sigma) = 1.
    # The products vanish for k <= 3 and C_4 c_4 = 1: the student-aware IE is 4. Truncated
    # at degree 2 the report cannot see it: "none" there is not proved (it was reported as
    # proved before this test), and a note says where the search stopped.
    r = exponents("sign(z1) + He4(z1)", student="x**4", max_degree=2, alpha_c=False)
    assert r.information_exponent == 1 and r.student_information_exponent is None
    assert r.exact["student_information_exponent"] is False
    assert ("student-aware information exponent not found up to degree 2 (the expansion of "
            "the target is truncated there)") in r.notes
    deeper = exponents("sign(z1) + He4(z1)", student="x**4", max_degree=4, alpha_c=False)
    assert deeper.student_information_exponent == 4
    assert deeper.exact["student_information_exponent"] is True
    assert not any("student-aware" in n for n in deeper.notes)


def test_student_none_proved_by_parity():
    # f = He2(z1) has the single order 2 (complete expansion); tanh is odd, so c_2(tanh) = 0
    # exactly (parity): no order is seen by the student, proved, although tanh's other
    # coefficients are numerical (the flag used to read every coefficient of sigma)
    r = exponents("He2(z1)", student="tanh", alpha_c=False)
    assert r.student_information_exponent is None
    assert r.exact["student_information_exponent"] is True
    assert student_order("tanh", [2]) == (None, True)
    assert student_order("tanh", []) == (None, True)  # no coefficient used


def test_a_numerical_zero_of_the_student_is_not_a_proof():
    # sigma = He3(x) + tanh(x)^2 / 1e14: c_3(sigma) = 1 exactly (tanh^2 is even), and
    # c_2(sigma) = E[tanh(x)^2 He2(x)] / (2e14) > 0 (tanh^2 increases with x^2), but about
    # 1e-14, below the expansion's tolerance: read as zero. With f = He2(z1) + He3(z2)
    # (orders 2 and 3) the report finds 3, while the true student-aware IE is 2: the value
    # rests on a numerical zero, so it must not be marked proved (it was).
    student = "He3(x) + tanh(x)**2/10**14"
    assert student_order(student, [2, 3]) == (3, False)
    r = exponents("He2(z1) + He3(z2)", student=student, alpha_c=False)
    assert r.student_information_exponent == 3
    assert r.exact["student_information_exponent"] is False


def test_truncation_is_read_from_the_label_not_its_square():
    # y = z1 |z1| is odd (mean 0), not a polynomial, but y^2 = z1^4 is: the expansion of y^2
    # is complete, that of y is not. c_5(y) = E[z |z| He5(z)] / 5! = (E|z|^7 - 10 E|z|^5 +
    # 15 E|z|^3) / 120 = sqrt(2/pi) (48 - 80 + 30) / 120 != 0 and c_k(He5) = 1 only at k = 5,
    # so the student-aware IE with sigma = He5 is 5: at degree 4 "none" is not proved.
    r = exponents("z1*abs(z1)", student="He5", max_degree=4, alpha_c=False)
    assert r.student_information_exponent is None
    assert r.exact["student_information_exponent"] is False
    deeper = exponents("z1*abs(z1)", student="He5", max_degree=6, alpha_c=False)
    assert deeper.student_information_exponent == 5
    assert deeper.exact["student_information_exponent"] is True
