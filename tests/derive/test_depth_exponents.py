"""SIGHT / MIGHT targets and their derived sample exponents (arXiv 2502.13961; docs/depth.md).

Every expected exponent below is derived by hand in the comments from the rules of
docs/depth.md: the first layer recovers span(W*) at kappa = 1 + eps when p_2 != 0 and g* has
a linear part; the next layer recovers h* at kappa = deg(P) eps; a shallow learner must fit y
as a polynomial (of x for a kernel: n ~ d^L; of the D = d^eps learned coordinates for a
two-layer network: n ~ d^(L eps))."""

import math

import numpy as np
import pytest
import sympy as sp

from escalier.derive.depth import depth_exponents
from escalier.derive.targets import Hierarchical, might, sight


def test_hermite_coefficients_and_h_normalisation_by_hand():
    t = sight("He2(z)/2 + He3(z)/6", "tanh(3*z)", 0.5)
    assert t.p_coefficients == (0, 0, sp.Rational(1, 2), sp.Rational(1, 6))
    # E h*^2 = sum_j j! p_j^2 = 2!/4 + 3!/36 = 1/2 + 1/6 = 2/3
    assert t.h_variance == sp.Rational(2, 3)
    # z^3 = He3 + 3 He1: p = (0, 3, 0, 1), E h^2 = 1! 9 + 3! 1 = 15
    t3 = sight("z**3", "z", 0.5)
    assert t3.p_coefficients == (0, 3, 0, 1) and t3.h_variance == 15
    assert t.degree == 3 and t.width(128) == 11 and t.width(64) == 8


def test_bad_targets_are_refused():
    with pytest.raises(ValueError, match="zero Gaussian mean"):
        sight("z**2", "z", 0.5)          # E z^2 = 1
    with pytest.raises(ValueError, match="polynomial"):
        sight("tanh(z)", "z", 0.5)
    with pytest.raises(ValueError, match="eps"):
        sight("He2(z)", "z", 1.5)
    assert might("He2(z)", "z1*z2", 0.3).branches == 2
    assert isinstance(sight(), Hierarchical)


def test_paper_example_sight():
    """P = He2/2 + He3/6 (deg 3), g* = tanh(3h), eps = 1/2 (the paper's figure setting)."""
    r = depth_exponents(sight())
    # three-layer: max(1 + eps, deg P * eps) = max(1.5, 1.5) = 1.5
    assert r.first_level == pytest.approx(1.5) and r.second_level == pytest.approx(1.5)
    assert r.predicted("three_layer") == pytest.approx(1.5)
    # tanh has Hermite mass on every odd degree: no shallow learner gets a vanishing error
    assert r.predicted("two_layer") is None and r.predicted("kernel") is None
    # P has no He1 part: y has no degree-1 chaos in x as D -> oo; its first mass is on
    # degree 2 (gamma_1 p_2 He2 terms): kernels drop at kappa = 2, the two-layer net at 1 + eps
    assert r.first_drop("kernel") == 2.0 and r.first_drop("two_layer") == pytest.approx(1.5)
    # plateaus, with gamma_1 = E[tanh(3 sigma u) u] by an independent 200-node quadrature:
    u, w = np.polynomial.hermite_e.hermegauss(200)
    w = w / w.sum()
    y = np.tanh(3 * math.sqrt(2 / 3) * u)
    ey2, g1 = float(w @ y**2), float(w @ (y * u))
    assert r.second_moment == pytest.approx(ey2, abs=1e-5)  # certified quadrature error 4e-6
    # two-layer after 1 + eps: learns degree <= 3 of the D coordinates = all of gamma_1 h*
    assert r.error("two_layer", 1.5) == pytest.approx(ey2 - g1**2, abs=1e-5)
    # kernel at kappa = 2: the He2 share q_2 = 2! (1/2)^2 / (2/3) = 3/4 of gamma_1 h*
    assert r.error("kernel", 2.0) == pytest.approx(ey2 - 0.75 * g1**2, abs=1e-5)
    # kernel at 3: the He3 share too (q_3 = 1/4); degree-3 terms of g* start at degree 6
    assert r.error("kernel", 3.0) == pytest.approx(ey2 - g1**2, abs=1e-5)
    assert r.error("kernel", 1.9) == pytest.approx(ey2, abs=1e-5)


def test_quadratic_feature_linear_link():
    """P = He2 (deg 2), g* = z (y = h*), eps = 1/4."""
    r = depth_exponents(sight("He2(z)", "z", 0.25))
    # three-layer: max(1 + 1/4, 2/4) = 1.25
    assert r.predicted("three_layer") == pytest.approx(1.25)
    # y is a degree-2 polynomial of the D coordinates: the two-layer network fits it once it
    # has span(W*) (1.25) and degree 2 (2 eps = 0.5): kappa = 1.25
    assert r.predicted("two_layer") == pytest.approx(1.25)
    # as a polynomial of x, y has degree 2: kernel at kappa = 2
    assert r.predicted("kernel") == pytest.approx(2.0)
    assert r.second_moment == pytest.approx(2.0)  # E h^2 = 2! * 1


def test_quartic_feature_second_level_dominates():
    """P = He2/2 + He4/24 (deg 4), g* = z + z^2/2, eps = 2/5."""
    r = depth_exponents(sight("He2(z)/2 + He4(z)/24", "z + z**2/2", 0.4))
    # 1 + eps = 1.4 < deg P * eps = 1.6: three-layer at 1.6
    assert r.first_level == pytest.approx(1.4) and r.predicted("three_layer") == pytest.approx(1.6)
    # y has degree 2 * 4 = 8 in the D coordinates: two-layer at 8 eps = 3.2; kernel at 8
    assert r.predicted("two_layer") == pytest.approx(3.2)
    assert r.predicted("kernel") == pytest.approx(8.0)
    # E[y] = E[h^2]/2 = (2!/4 + 4!/576)/2 = (1/2 + 1/24)/2 = 13/48: Var(y) excludes it
    assert r.mean == pytest.approx(13 / 48)


def test_even_link_is_outside_the_theorem():
    """g* = z^2 has no linear part: the degree-2 matrix of y misses W* (first level not
    covered); h* is reached through He2(h*), degree 2 deg(P), marked unproved."""
    r = depth_exponents(sight("He2(z)/2 + He3(z)/6", "z**2", 0.5))
    assert r.info_exponent == 2 and r.first_level is None
    assert r.predicted("three_layer") is None
    assert r.second_level == pytest.approx(2 * 3 * 0.5)
    assert any(not row.proved for row in r.rows if row.learner == "three_layer")


def test_might_two_branches():
    """y = h1 + h2 (two branches, P = He2): linear in each branch."""
    r = depth_exponents(might("He2(z)", "z1 + z2", 0.5))
    assert r.info_exponent == 1
    assert r.predicted("three_layer") == pytest.approx(1.5)
    assert r.second_moment == pytest.approx(4.0)  # two independent h_b with E h^2 = 2
