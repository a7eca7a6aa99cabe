"""Which Hermite coefficients of the student a giant step needs (docs/theory.md §3.3).

A term c He_beta(z_U) He_gamma(z_perp) of the target, |beta| = m, |gamma| = t, moves a
neuron w along z_perp through E[He_beta(z_U) He_gamma(z_perp) sigma'(w . z) z_perp]
= kappa_U^beta kappa_perp^(gamma - e) E[sigma^(m + t)(h)] (Gaussian integration by parts,
h the unit-variance pre-activation, kappa the neuron's overlaps): the student must have a
non-zero Hermite coefficient c_(m+t)(sigma) = E[sigma He_(m+t)] / (m+t)!, equivalently
E[sigma' He_(m+t-1)] != 0. With U = 0 this is the one-step condition c_t(sigma) != 0 of
Dandi et al. (arXiv 2305.18270); for relu, c_j = 0 for every odd j >= 3 (relu = x/2 + |x|/2),
so a term such as z1*z2 in E[y z3 | z1, z2] (m = 2, t = 1) is invisible to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._scenario import activation
from ..hermite import hermite_expansion
from ..targets import Target, latent

__all__ = ["StudentCoefficients"]


@dataclass(frozen=True)
class StudentCoefficients:
    """The student's Hermite coefficients c_j(sigma), j = 0..max_order, and their zero test."""

    name: str
    values: tuple
    exact: bool

    @classmethod
    def of(cls, student, max_order: int) -> StudentCoefficients:
        sigma = activation(student)
        x = next(iter(sigma.variables))
        e = hermite_expansion(Target(sigma.expr.xreplace({x: latent(1)}), 1), max(max_order, 1))
        vals = tuple(e[(j,)] for j in range(max_order + 1))
        return cls(str(student), vals, all(c.is_exact for c in vals))

    def nonzero(self, j: int) -> bool:
        """c_j(sigma) != 0 (False beyond the expansion's order: not known to be non-zero)."""
        return 0 <= j < len(self.values) and not self.values[j].is_zero

    def keep(self, t: int, m: int) -> bool:
        """Whether the student sees a term of degree t in the new directions and m in U."""
        return self.nonzero(m + t)
