"""Gaussian hierarchical targets: SIGHT and MIGHT (Dandi, Pesce, Zdeborova, Krzakala,
arXiv 2502.13961; docs/depth.md).

x ~ N(0, I_d); for each branch b = 1..k a block W*_b of D = floor(d^eps) orthonormal rows
(all k D rows orthonormal together) and signs a*_b in {+-1}^D;

    h*_b(x) = D^(-1/2) sum_{i<=D} a*_{b,i} P(w*_{b,i} . x),     y = g*(h*_1, ..., h*_k).

P (the first level, applied entrywise) and g* (the second level) are targets of the target
language: P a polynomial in one variable with zero Gaussian mean, g* a function of k
variables. SIGHT is the case k = 1. The object is symbolic; samplers live in
escalier.numerics.depth.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import sympy as sp

from ._functions import hermite_he
from ._target import Target, latent

__all__ = ["Hierarchical", "might", "sight"]

_LONE_Z = re.compile(r"\bz\b")


def _parse(text: str | Target | sp.Expr, k: int, what: str) -> Target:
    """A target in z1..zk; in text, a lone `z` means z1 (P and g* of SIGHT are written in z)."""
    if isinstance(text, Target):
        target = text
    elif isinstance(text, str):
        if k == 1:
            text = _LONE_Z.sub("z1", text)
        try:
            target = Target.parse(text, k=k)
        except ValueError as err:
            raise ValueError(f"{what}: {err}") from None
    else:
        target = Target.from_sympy(text, k=k)
    if target.k != k:
        raise ValueError(f"{what} must be a function of {k} variable(s), got k = {target.k}")
    if target.parameters:
        raise ValueError(f"{what} has free parameters {[str(s) for s in target.parameters]}; "
                         f"substitute numbers")
    return target


@dataclass(frozen=True)
class Hierarchical:
    """A SIGHT (branches = 1) or MIGHT (branches = k) target, checked when built.

    Attributes:
        P: the first-level polynomial, a Target in z1 (zero Gaussian mean, degree >= 1).
        g: the second-level function, a Target in z1..zk (k = branches).
        eps: the exponent of the hidden width, D = floor(d^eps), 0 < eps < 1.
    """

    P: Target
    g: Target
    eps: float

    def __post_init__(self):
        if not (0 < float(self.eps) < 1):
            raise ValueError(f"eps must lie in (0, 1), got {self.eps}")
        if self.P.k != 1:
            raise ValueError(f"P is a function of one variable, got k = {self.P.k}")
        if not self.P.is_polynomial:
            raise ValueError(f"P must be a polynomial, got {self.P.text!r}")
        coeffs = self.p_coefficients
        if coeffs[0] != 0:
            raise ValueError(f"P must have zero Gaussian mean (its He0 coefficient is "
                             f"{coeffs[0]}); subtract it")
        if len(coeffs) < 2 or all(c == 0 for c in coeffs[1:]):
            raise ValueError(f"P must be a non-constant polynomial, got {self.P.text!r}")

    # structure ----------------------------------------------------------------------------

    @property
    def branches(self) -> int:
        """k, the number of branches (1 for SIGHT)."""
        return self.g.k

    @property
    def degree(self) -> int:
        """The degree of P (the paper's k of the second-level exponent k eps)."""
        return len(self.p_coefficients) - 1

    @property
    def p_coefficients(self) -> tuple[sp.Expr, ...]:
        """Exact Hermite coefficients (p_0, ..., p_deg) of P = sum_j p_j He_j, p_j =
        E[P He_j] / j!: solved degree by degree from the top (He_j is monic)."""
        z = latent(1)
        poly = sp.Poly(sp.expand(self.P.expr), z)
        rest = poly
        out: dict[int, sp.Expr] = {}
        while not rest.is_zero:
            j = rest.degree()
            c = rest.LC()
            out[j] = sp.nsimplify(c)
            rest = rest - sp.Poly(c * hermite_he(j, z), z)
        deg = max(out) if out else 0
        return tuple(out.get(j, sp.Integer(0)) for j in range(deg + 1))

    @property
    def h_variance(self) -> sp.Expr:
        """E[h*_b^2] = sum_j j! p_j^2, exact for every D: the D coordinates w*_i . x are
        independent N(0, 1), a*_i^2 = 1 and E[He_j He_l] = j! delta_jl (p_0 = 0)."""
        return sp.nsimplify(sum(math.factorial(j) * c**2 for j, c in enumerate(self.p_coefficients)))

    def width(self, d: int) -> int:
        """D = floor(d^eps), the number of first-level features per branch."""
        if d < 2:
            raise ValueError(f"d must be at least 2, got {d}")
        D = int(math.floor(d ** float(self.eps) + 1e-9))
        return max(D, 1)

    def normalised_g(self) -> Target:
        """g*(sigma u) as a Target in u = z1..zk (sigma^2 = h_variance): in the limit D -> oo
        the h*_b are independent N(0, sigma^2) (central limit over D independent terms), so
        the Hermite coefficients of this target are those of y as a function of h*/sigma."""
        sigma = sp.sqrt(self.h_variance)
        zs = self.g.variables
        return Target(self.g.expr.xreplace({z: sigma * z for z in zs}), self.g.k)

    def to_json(self) -> dict:
        return {"P": self.P.text, "g": self.g.text, "eps": float(self.eps),
                "branches": self.branches, "degree": self.degree,
                "p_coefficients": [str(c) for c in self.p_coefficients],
                "h_variance": str(self.h_variance)}


def sight(P: str | Target = "He2(z)/2 + He3(z)/6", g: str | Target = "tanh(3*z)",
          eps: float = 0.5) -> Hierarchical:
    """The single-index Gaussian hierarchical target y = g*(h*(x)) (arXiv 2502.13961).

    P and g are written in `z` (or z1); the defaults are the paper's example
    P = He2/2! + He3/3!, g* = tanh(3 h).
    """
    return Hierarchical(_parse(P, 1, "P"), _parse(g, 1, "g*"), float(eps))


def might(P: str | Target, g: str | Target, eps: float, branches: int | None = None) -> Hierarchical:
    """The multi-index version: y = g*(h*_1, ..., h*_k), g written in z1..zk (k = branches,
    default the largest index in g), each branch with its own D orthonormal rows."""
    if isinstance(g, str):
        k = branches if branches is not None else max(
            [int(m) for m in re.findall(r"z([0-9]+)", g)] or [1])
    else:
        k = branches if branches is not None else g.k
    if k < 1:
        raise ValueError(f"a MIGHT target needs at least one branch, got {k}")
    return Hierarchical(_parse(P, 1, "P"), _parse(g, k, "g*"), float(eps))
