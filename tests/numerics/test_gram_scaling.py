"""Escape-time scaling with the Gram engine (escalier.numerics.scaling)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from escalier.derive import Scenario
from escalier.numerics.scaling import (
    escape_steps,
    information_exponent,
    predicted_steps,
    prescribed_lr,
)


def _single(target, student, lr=0.5, **kw):
    return Scenario(target, student=student, p=1, lr=lr, spherical=True, loss="correlation", **kw)


@pytest.mark.parametrize(
    "target, student, expected",
    [
        ("He3(z1)", "He3", 3),
        ("He2(z1)", "He2", 2),
        ("He4(z1)", "He4", 4),
        # z^3 = He3 + 3 He1: a monomial has information exponent 1 (THEORY.md section 1)
        ("z1**3", "He3", 3),
        ("z1**3", "erf", 1),
        # relu has c_3 = 0 (THEORY.md section 2: student compatibility), so He3 + He4 with
        # a relu student correlates first at degree 4
        ("He3(z1) + He4(z1)", "relu", 4),
    ],
)
def test_information_exponent_of_the_correlation(target, student, expected):
    assert information_exponent(_single(target, student)) == expected


def test_prescribed_rate_and_prediction():
    assert prescribed_lr(0.5, 10_000, 3) == pytest.approx(0.005)
    assert prescribed_lr(0.5, 100, 4) == pytest.approx(0.005)
    assert prescribed_lr(0.5, 100, 2) == 0.5
    d = np.array([100.0, 1000.0])
    np.testing.assert_allclose(predicted_steps(d, 3), d**2)
    np.testing.assert_allclose(predicted_steps(d, 2), d * np.log(d))
    np.testing.assert_allclose(predicted_steps(d, 1), d)


def test_refuses_what_it_cannot_measure():
    with pytest.raises(ValueError, match="spherical"):
        escape_steps(Scenario("He3(z1)", student="He3", p=1), [100, 200])
    with pytest.raises(ValueError, match="single-index|k = 1"):
        escape_steps(_single("z1*z2", "erf"), [100, 200])
    with pytest.raises(ValueError, match="two distinct"):
        escape_steps(_single("He3(z1)", "He3"), [100])
    with pytest.raises(ValueError, match="engine"):
        escape_steps(_single("He3(z1)", "He3"), [100, 200], engine="adam")
    with pytest.raises(ValueError, match=r"no degree k <= 12 with c_k\(target\) c_k\(student\)"):
        information_exponent(_single("He3(z1)", "He2"))


def test_he1_escapes_in_order_d_steps():
    """Information exponent 1: steps ~ d. Slope over d = 64..512 within 0.3 of 1.

    With lr = c0 = 1 the overlap of He1 / linear student obeys dm/dt ~ (1 - m^2) - O(lr m):
    t_escape = O(1), steps = O(d), so the fitted slope tends to 1; at these d the median of
    16 seeds fluctuates by a few percent, well inside the tolerance.
    """
    r = escape_steps(_single("He1(z1)", "He1", lr=1.0), [64, 512], seeds=16, chunk=1 << 10)
    assert r.exponent == 1
    assert abs(r.fitted - r.predicted) < 0.3
    assert np.all(r.median > 0)
    assert math.isclose(r.predicted, 1.0)


@pytest.mark.slow
def test_he3_exponent_within_0p2():
    r = escape_steps(_single("He3(z1)", "He3", lr=0.5), [500, 1000, 2000, 4000], seeds=16,
                     chunk=1 << 15)
    assert abs(r.fitted - r.predicted) < 0.2
