"""The Hermite form of spherical single-index SGD: dm/dt as a power series in m.

For f = sum_k c_k He_k, sigma = sum_k s_k He_k and unit-variance (nu, lambda) with
correlation m, E[A(nu) B(lambda)] = sum_k k! A_k B_k m^k (Mehler). Stein's lemma on
nu - m lambda (independent of lambda) turns the spherical ODE of docs/theory.md §4.6 into

    dm/dt = eta a (1 - m^2) sum_k k k! c_k s_k m^{k-1}                         (first order)
            - eta^2 a^2 m / (2 n_b) [ sum_k k! (f^2)_k (sigma'^2)_k m^k
                                      - 2 a sum_k k! c_k (sigma sigma'^2)_k m^k
                                      + a^2 E[sigma^2 sigma'^2] + Delta E[sigma'^2] ]

(square loss; the correlation loss drops the two terms with a inside the bracket; the
first-order self-interaction of the square loss vanishes identically). The lowest power
of m in the first-order series is IE(f) - 1 when s_IE != 0 (Ben Arous, Gheissari,
Jagannath, JMLR 2021, arXiv 2003.10409): escape from m ~ d^{-1/2} takes t ~ d^{IE-2}.
Coefficients c_k = E[f He_k] / k! come from escalier.derive.gaussian.expectation: exact
for polynomials and for the families of the closed-form table, numeric (Float) otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sympy as sp

from ..gaussian import expectation
from ..targets import hermite_he

__all__ = ["HermiteForm", "hermite_coefficients", "hermite_form"]

_X = sp.Symbol("x", real=True)


def hermite_coefficients(expr: sp.Expr, x: sp.Symbol, max_degree: int) -> tuple[sp.Expr, ...]:
    """c_0..c_K of expr = sum_k c_k He_k(x), c_k = E[expr He_k(x)] / k!, x ~ N(0, 1).

    Exact (SymPy) where the Gaussian engine finds a closed form, else a Float from
    Gauss-Hermite quadrature.

    Raises:
        ValueError: max_degree < 0, or expr depending on symbols other than x.
    """
    if not (isinstance(max_degree, int) and max_degree >= 0):
        raise ValueError(f"max_degree must be an integer >= 0, got {max_degree!r}")
    if expr.free_symbols - {x}:
        raise ValueError(f"expected a function of {x} alone, got {expr}")
    out = []
    for k in range(max_degree + 1):
        e = expectation(expr * hermite_he(k, x), (x,), sp.Matrix([[1]]))
        # exact values are constants here; expand collapses the nested radicals of the
        # reduction rules to a short canonical form (and makes evalf cheap)
        value = sp.expand(e.value) if e.backend != "numeric" else sp.Float(e.value.evalf(17), 17)
        out.append(value / math.factorial(k))
    return tuple(out)


def _nonzero(c: sp.Expr) -> bool:
    if c.is_Float:
        return abs(float(c)) > 1e-12
    return c != 0


@dataclass(frozen=True)
class HermiteForm:
    """dm/dt = first_order + second_order as series in m (module docstring).

    Attributes:
        m: the overlap symbol (the system's state M11).
        target: Hermite coefficients c_0..c_K of f.
        student: Hermite coefficients s_0..s_K of sigma.
        first_order: the O(eta) drift, exact in m up to the truncation degree K.
        second_order: the O(eta^2) term.
        max_degree: K.
    """

    m: sp.Symbol
    target: tuple[sp.Expr, ...]
    student: tuple[sp.Expr, ...]
    first_order: sp.Expr
    second_order: sp.Expr
    max_degree: int

    @property
    def drift(self) -> sp.Expr:
        """first_order + second_order."""
        return self.first_order + self.second_order

    @property
    def leading_power(self) -> int | None:
        """Lowest power of m in the first-order series (IE - 1), None if it vanishes."""
        for k in range(1, self.max_degree + 1):
            if _nonzero(self.target[k]) and _nonzero(self.student[k]):
                return k - 1
        return None


def hermite_form(system, max_degree: int = 12) -> HermiteForm:
    """The Hermite form of a spherical single-index OdeSystem (module docstring).

    Raises:
        ValueError: the system is not spherical with k = 1 and P = 1 (numeric).
    """
    sc = system.scenario
    if not sc.spherical or sc.p != 1 or sc.k != 1 or system.symbolic_P or sc.P != ((1.0,),):
        raise ValueError("the Hermite form is for spherical single-index systems (p = k = 1) "
                         "with P = 1 (ode_system(target_in_z1, p=1, spherical=True))")
    if not (isinstance(max_degree, int) and max_degree >= 1):
        raise ValueError(f"max_degree must be an integer >= 1, got {max_degree!r}")
    by_name = {s.name: s for s in (*system.state, *system.parameters)}
    m = system.state[0]
    eta, n_b, a = by_name["eta"], by_name["n_b"], by_name["a1"]
    Delta = by_name.get("Delta", sp.Integer(0))
    f = sc.target.expr.xreplace({sc.target.variables[0]: _X})
    sigma = sc.sigma(_X)
    dsigma = sp.diff(sigma, _X)
    K = max_degree
    c = hermite_coefficients(f, _X, K)
    s = hermite_coefficients(sigma, _X, K)
    first = eta * a * (1 - m**2) * sp.Add(
        *[k * math.factorial(k) * c[k] * s[k] * m ** (k - 1) for k in range(1, K + 1)])

    def mehler(A, B):
        return sp.Add(*[math.factorial(k) * A[k] * B[k] * m**k for k in range(K + 1)])

    def const(F):
        return hermite_coefficients(F, _X, 0)[0]

    bracket = mehler(hermite_coefficients(f**2, _X, K), hermite_coefficients(dsigma**2, _X, K))
    if sc.loss == "square":
        bracket += (-2 * a * mehler(c, hermite_coefficients(sigma * dsigma**2, _X, K))
                    + a**2 * const(sigma**2 * dsigma**2))
    if sc.noise != 0:
        bracket += Delta * const(dsigma**2)
    second = -eta**2 * a**2 * m / (2 * n_b) * bracket
    return HermiteForm(m, c, s, first, second, K)
