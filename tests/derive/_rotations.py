"""Exact rational rotations for tests: the Cayley transform of a rational skew matrix, and
z1*z2*z3 in a generic rotated frame (no signed permutation of the written coordinates maps
y to -y there, so symmetry certificates are not found; tests/derive/test_exponents.py)."""

from __future__ import annotations

import sympy as sp

from escalier.derive import Target


def cayley(a: sp.Matrix) -> sp.Matrix:
    """(I - A)(I + A)^{-1}: a rational orthogonal matrix for a rational skew A."""
    eye = sp.eye(a.shape[0])
    return (eye - a) * (eye + a).inv()


def rotated_product() -> Target:
    """z1*z2*z3 rotated by the Cayley transform of a fixed generic rational skew matrix."""
    h = sp.Rational
    rot = cayley(sp.Matrix([[0, h(1, 2), h(-1, 3)], [h(-1, 2), 0, h(2, 5)],
                            [h(1, 3), h(-2, 5), 0]]))
    return Target.parse("z1*z2*z3").rotate(rot)
