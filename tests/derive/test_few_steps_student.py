"""The student-aware few-steps chain (derive/protocols/_student.py, docs/theory.md §3.3).

Hand derivation for y = z1 + z1 z2 + z1 z2 z3 at n ~ d (l = 1): with U_t learned, a term
c He_beta(z_U) He_gamma(z_new) (|beta| = m, |gamma| = t) moves a neuron along z_new through
E[He_beta He_gamma sigma'] = (overlaps) E[sigma^(m+t)] = (overlaps) (m+t)! c_(m+t)(sigma).
Step 1 (U = 0): E[y z1] = 1, m = 0, t = 1 -> c_1. Step 2 (U = z1): E[y z2 | z1] = z1, m = 1
-> c_2. Step 3 (U = z1, z2): E[y z3 | z1, z2] = z1 z2, m = 2 -> c_3. Relu = x/2 + |x|/2:
c_1 = 1/2, c_2 = 1/(2 sqrt(2 pi)) != 0, c_3 = 0 (|x| even, x/2 has no He3 part).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from escalier.derive import exponents
from escalier.derive.protocols import FewSteps

STAIR = "z1 + z1*z2 + z1*z2*z3"


def _few(target, l, student):
    return exponents(target, alpha_c=False, protocols=[FewSteps(l=l, student=student)]) \
        .protocols["few_steps"]


def _c(student_fn, j):
    x, w = np.polynomial.hermite_e.hermegauss(120)
    he = np.polynomial.hermite_e.hermeval(x, [0] * j + [1])
    return float(np.sum(w * student_fn(x) * he) / math.sqrt(2 * math.pi) / math.factorial(j))


def test_relu_stops_before_the_third_direction():
    assert _c(lambda x: np.maximum(x, 0), 3) == pytest.approx(0, abs=1e-3)
    few = _few(STAIR, 1, "relu")
    chain = few.data["chains"][1]
    assert [s.after.dim for s in chain] == [1, 2] and few.json["few_step_exponent"] is None
    block = few.data["blocked"][1]
    assert block["step"] == 3 and block["needed_orders"] == [3]
    assert block["vanishing_orders"] == [3] and block["terms"][0] == {
        "t": 1, "m": 2, "order": 3, "student_nonzero": False}


def test_a_student_with_c3_learns_all_three():
    assert abs(_c(lambda x: np.tanh(x + 0.5), 3)) > 0.01
    few = _few(STAIR, 1, "tanh(x + 1/2)")
    assert [s.after.dim for s in few.data["chains"][1]] == [1, 2, 3] and few.exponent == 1
    assert few.data["blocked"] == {}


def test_student_agnostic_chain_unchanged_and_report_passes_the_student():
    assert [s.after.dim for s in _few(STAIR, 1, None).data["chains"][1]] == [1, 2, 3]
    rep = exponents(STAIR, student="relu", alpha_c=False)
    assert rep.protocols["few_steps"].exponent is None
    assert rep.protocols["few_steps"].json["few_steps_blocked"]["1"]["vanishing_orders"] == [3]
    # one step from U = 0 needs c_t: He3(z1) at l = 3 with relu is blocked at its first step
    few = _few("He3(z1)", 3, "relu")
    assert few.data["blocked"][3]["step"] == 1 and few.data["blocked"][3]["needed_orders"] == [3]


def test_student_aware_giant_step():
    """One step from U = 0 needs c_l(sigma) for U*_l: He3(z1) needs c_3, which relu lacks
    (None) and tanh has (3); the student-agnostic exponent is 3."""
    assert exponents("He3(z1)", alpha_c=False).protocols["giant_step"].exponent == 3
    assert exponents("He3(z1)", student="relu",
                     alpha_c=False).protocols["giant_step"].exponent is None
    assert exponents("He3(z1)", student="tanh",
                     alpha_c=False).protocols["giant_step"].exponent == 3
    # z1 + z1*z2: U*_2 needs c_2 (the z1 z2 term, t = 2): relu has it
    assert exponents("z1 + z1*z2", student="relu",
                     alpha_c=False).protocols["giant_step"].exponent == 2
