"""Annealed complexity of the spherical pure p-spin glass and its band edges.

Conventions (Auffinger, Ben Arous & Cerny, CPAM 2013, arXiv 1003.1129): the Hamiltonian
H(sigma) = N^{-(p-1)/2} sum J_{i1..ip} sigma_i1 ... sigma_ip, J i.i.d. N(0, 1), on the
sphere |sigma|^2 = N, so that E[H(sigma) H(sigma')] = N (sigma . sigma' / N)^p; energies are
per site, u = H / N. With E_inf = 2 sqrt((p - 1) / p),

    I1(u) = (2 / E_inf^2) int_u^{-E_inf} sqrt(z^2 - E_inf^2) dz
          = -(u / E_inf^2) sqrt(u^2 - E_inf^2) - log((-u + sqrt(u^2 - E_inf^2)) / E_inf)

for u <= -E_inf. The total complexity (of critical points with energy per site <= u) is

    Theta_p(u) = log(p-1)/2 - (p-2) u^2 / (4(p-1)) - I1(u)   for u <= -E_inf,
               = log(p-1)/2 - (p-2) u^2 / (4(p-1))           for -E_inf <= u <= 0,
               = log(p-1)/2                                  for u >= 0,

and the complexity of critical points of index k is

    Theta_{k,p}(u) = log(p-1)/2 - (p-2) u^2 / (4(p-1)) - (k+1) I1(u)   for u <= -E_inf,
                   = log(p-1)/2 - (p-2) / p                            for u >= -E_inf

(ABC 2013, Theorems 2.5 and 2.8). The band edge -E_k is the root of Theta_{k,p} below
-E_inf; E_0 is the ground-state energy (annealed), and E_k decreases to E_inf.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import mpmath
import sympy as sp

__all__ = ["PSpinComplexity", "pspin"]

_U = sp.Symbol("u", real=True)
_P = sp.Symbol("p", positive=True)


def _check_p(p) -> int:
    if isinstance(p, bool) or not isinstance(p, int) or p < 2:
        raise ValueError(f"p must be an integer >= 2 (the p-spin interaction order), got {p!r}")
    return p


def _check_k(k) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 0:
        raise ValueError(f"the index k must be an integer >= 0, got {k!r}")
    return k


@dataclass(frozen=True)
class PSpinComplexity:
    """The annealed complexities of the spherical pure p-spin model (ABC 2013).

    SymPy expressions (in the real symbol ``u``) are the source; numerical values are
    evaluated from them with mpmath at ``dps`` digits.

    Attributes:
        p: the interaction order (integer >= 2; p = 2 is the spherical SK model, which has
            no band structure: every E_k equals E_inf).
        dps: mpmath working precision in decimal digits.
    """

    p: int
    dps: int = 40

    def __post_init__(self):
        _check_p(self.p)
        if isinstance(self.dps, bool) or not isinstance(self.dps, int) or self.dps < 15:
            raise ValueError(f"dps must be an integer >= 15, got {self.dps!r}")

    # symbolic ---------------------------------------------------------------------------

    @property
    def u(self) -> sp.Symbol:
        """The energy per site (the variable of every expression)."""
        return _U

    @cached_property
    def E_inf(self) -> sp.Expr:
        """E_inf = 2 sqrt((p-1)/p), exact: the edge of the Hessian bulk (threshold energy)."""
        return 2 * sp.sqrt(sp.Rational(self.p - 1, self.p))

    @cached_property
    def I1(self) -> sp.Expr:
        """I1(u) in closed form, valid for u <= -E_inf (SymPy)."""
        e, u = self.E_inf, _U
        root = sp.sqrt(u**2 - e**2)
        return -u / e**2 * root - sp.log((-u + root) / e)

    def I1_integral(self) -> sp.Integral:
        """The defining integral (2 / E_inf^2) int_u^{-E_inf} sqrt(z^2 - E_inf^2) dz (unevaluated)."""
        z = sp.Symbol("z", real=True)
        e = self.E_inf
        return 2 / e**2 * sp.Integral(sp.sqrt(z**2 - e**2), (z, _U, -e))

    @cached_property
    def _quadratic(self) -> sp.Expr:
        p = self.p
        return sp.log(p - 1) / 2 - sp.Rational(p - 2, 4 * (p - 1)) * _U**2

    @cached_property
    def theta(self) -> sp.Piecewise:
        """Theta_p(u): the total complexity of critical points with energy per site <= u."""
        e = self.E_inf
        return sp.Piecewise((self._quadratic - self.I1, _U <= -e),
                            (self._quadratic, _U <= 0),
                            (sp.log(self.p - 1) / 2, True))

    def theta_k(self, k: int) -> sp.Piecewise:
        """Theta_{k,p}(u): the complexity of index-k critical points with energy per site <= u."""
        k = _check_k(k)
        e = self.E_inf
        return sp.Piecewise((self._quadratic - (k + 1) * self.I1, _U <= -e),
                            (sp.log(self.p - 1) / 2 - sp.Rational(self.p - 2, self.p), True))

    # numerical --------------------------------------------------------------------------

    def evaluate(self, expr: sp.Expr, u) -> mpmath.mpf:
        """An expression of this object evaluated at u with mpmath (``dps`` digits)."""
        with mpmath.workdps(self.dps):
            value = sp.N(expr.subs(_U, sp.Float(str(u), self.dps)), self.dps)
            return mpmath.mpf(str(value)) if value.is_real else mpmath.mpf("nan")

    def _below(self, k: int):
        """Theta_{k,p} on u <= -E_inf as an mpmath function, lambdified from the SymPy form.

        The real part is taken: at u = -E_inf the radicand may round to -1e-50, whose square
        root is a negligible imaginary number.
        """
        f = sp.lambdify(_U, self._quadratic - (k + 1) * self.I1, modules="mpmath")
        return lambda u: mpmath.re(f(u))

    def band_edge(self, k: int, digits: int = 30) -> mpmath.mpf:
        """E_k: minus the root of Theta_{k,p} below -E_inf, numerical to ``digits`` digits.

        The root is bracketed ([-2 E_inf * 2^j, -E_inf], j increased until the sign changes)
        and found by mpmath's bisection-safeguarded Anderson-Bjorck iteration at ``digits + 10``
        working digits. For p = 2, Theta_{k,2}(-E_inf) = 0 and E_k = E_inf = sqrt 2 exactly.

        Raises:
            ValueError: k < 0 or digits < 1.
            ArithmeticError: the root could not be bracketed or did not converge.
        """
        k = _check_k(k)
        if digits < 1:
            raise ValueError(f"digits must be >= 1, got {digits}")
        if self.p == 2:
            with mpmath.workdps(digits + 10):
                return mpmath.sqrt(2)
        with mpmath.workdps(digits + 10):
            e = 2 * mpmath.sqrt(mpmath.mpf(self.p - 1) / self.p)
            f = self._below(k)
            if not f(-e) > 0:
                raise ArithmeticError(f"Theta_{{{k},{self.p}}}(-E_inf) = {f(-e)} is not positive")
            lo = -2 * e
            for _ in range(60):
                if f(lo) < 0:
                    break
                lo *= 2
            else:
                raise ArithmeticError(f"no sign change of Theta_{{{k},{self.p}}} below -E_inf")
            root = mpmath.findroot(f, (lo, -e), solver="anderson",
                                   tol=mpmath.mpf(10) ** (-(digits + 5)))
            return -root

    def band_edges(self, k_max: int, digits: int = 30) -> list[mpmath.mpf]:
        """[E_0, E_1, ..., E_{k_max}] (numerical, ``digits`` digits)."""
        return [self.band_edge(k, digits) for k in range(_check_k(k_max) + 1)]


def pspin(p: int, dps: int = 40) -> PSpinComplexity:
    """The complexity of the spherical pure p-spin model (see `PSpinComplexity`)."""
    return PSpinComplexity(p, dps)
