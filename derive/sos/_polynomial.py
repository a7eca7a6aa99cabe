"""Polynomials with rational coefficients for sum-of-squares certificates.

A polynomial is held as an exact `sympy.Poly` over QQ in named real variables. The SOS
machinery needs three things from it: the monomial basis of a Gram matrix, the exact
coefficients of (1 + |x|^2)^s (p - gamma), and a cheap proof that p is unbounded below
when it is (then no lower bound exists and the question is bad input).
"""

from __future__ import annotations

import ast
import itertools
import random
import re
from fractions import Fraction

import sympy as sp

from ..algebra import ArithmeticParser

__all__ = ["monomial_basis", "parse_polynomial", "sos_target", "unbounded_below"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_LEN = 20_000
_MAX_POWER = 64
ACCEPTED = ("accepted: variables (names such as x, y, x1), rational or decimal numbers, "
            "+ - * /(by a number) and non-negative integer powers (** or ^)")


class _Parser(ArithmeticParser):
    """Whitelist walk of a polynomial's text into SymPy (escalier.derive.algebra's
    ArithmeticParser with variables, exact decimals and the polynomial rules for / and **)."""

    def __init__(self, text: str):
        super().__init__(text)
        self.symbols: dict[str, sp.Symbol] = {}

    def fail(self, node, what: str) -> ValueError:
        segment = self.segment(node)
        where = "" if segment is None else f" in {segment!r}"
        return ValueError(f"not a polynomial: {what}{where}; {ACCEPTED}")

    def visit_Constant(self, node):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise self.fail(node, f"constant {v!r}")
        if isinstance(v, float):
            if v != v or v in (float("inf"), float("-inf")):
                raise self.fail(node, "a non-finite number")
            return sp.Rational(repr(v))  # the decimal as written, exactly
        return sp.Integer(v)

    def visit_Name(self, node):
        name = node.id
        if not _NAME.match(name):
            raise self.fail(node, f"variable name {name!r}")
        return self.symbols.setdefault(name, sp.Symbol(name, real=True))

    def divide(self, node, left, right):
        if not right.is_number or right == 0:
            raise self.fail(node, "division by a non-constant or by zero")
        return left / right

    def power(self, node, left, right):
        if not (right.is_Integer and 0 <= int(right) <= _MAX_POWER):
            raise self.fail(node, f"power {right} (integer 0..{_MAX_POWER} only)")
        return left ** int(right)


def parse_polynomial(spec, variables=None) -> sp.Poly:
    """An exact polynomial over QQ from text or a SymPy expression.

    Args:
        spec: text such as ``"x^4 + y^4 - 4*x*y + 1"`` (``^`` is a power), a SymPy
            expression, or a `sympy.Poly`. Decimal numbers are read exactly (0.1 = 1/10).
        variables: the variables in order (symbols or names); default all free symbols
            sorted by name.

    Returns:
        `sympy.Poly` over QQ.

    Raises:
        ValueError: not a polynomial with rational coefficients, naming the offending part.
    """
    if isinstance(spec, sp.Poly):
        expr = spec.as_expr()
    elif isinstance(spec, str):
        if len(spec) > _MAX_LEN:
            raise ValueError(f"polynomial text longer than {_MAX_LEN} characters")
        try:
            tree = ast.parse(spec.strip().replace("^", "**"), mode="eval")
        except SyntaxError as err:
            raise ValueError(f"cannot parse polynomial {spec!r}: {err.msg}; {ACCEPTED}") from None
        expr = _Parser(spec.strip().replace("^", "**")).visit(tree)
    elif isinstance(spec, sp.Expr | int | Fraction):
        expr = sp.nsimplify(sp.sympify(spec), rational=True)
    else:
        raise ValueError(f"a polynomial is text, a SymPy expression or Poly, got {type(spec).__name__}")
    expr = sp.sympify(expr)
    if variables is None:
        gens = sorted(expr.free_symbols, key=lambda s: s.name)
    else:
        gens = [sp.Symbol(v, real=True) if isinstance(v, str) else v for v in variables]
        extra = expr.free_symbols - set(gens)
        if extra:
            raise ValueError(f"the polynomial uses {sorted(map(str, extra))}, not among the "
                             f"variables {[str(g) for g in gens]}")
    if not gens:
        raise ValueError(f"the polynomial {spec!r} has no variables: its minimum is itself")
    try:
        poly = sp.Poly(expr, *gens, domain="QQ")
    except (sp.PolynomialError, sp.polys.polyerrors.CoercionFailed) as err:
        raise ValueError(f"not a polynomial with rational coefficients: {spec!r} ({err})") from None
    return poly


def monomial_basis(n: int, degree: int) -> tuple[tuple[int, ...], ...]:
    """All exponent tuples of n variables with total degree <= degree, graded then lex order.

    The first element is the constant monomial (0, ..., 0).
    """
    if n < 1 or degree < 0:
        raise ValueError(f"need n >= 1 variables and degree >= 0, got n={n}, degree={degree}")
    out = []
    for d in range(degree + 1):
        for combo in itertools.combinations_with_replacement(range(n), d):
            e = [0] * n
            for i in combo:
                e[i] += 1
            out.append(tuple(e))
    out[1:] = sorted(out[1:], key=lambda e: (sum(e), tuple(-v for v in e)))
    return tuple(out)


def sos_target(poly: sp.Poly, multiplier: int = 0) -> tuple[dict, dict]:
    """Coefficients of (1 + |x|^2)^s p and of (1 + |x|^2)^s, as exact Fractions.

    The SOS problem is: maximise gamma subject to (1 + |x|^2)^s (p - gamma) = m^T G m,
    i.e. coefficient-wise  A(G) + gamma * c = b  with b, c returned here (exponent -> value).
    """
    if multiplier < 0:
        raise ValueError(f"the multiplier power s must be >= 0, got {multiplier}")
    gens = poly.gens
    weight = sp.Poly((1 + sum(g**2 for g in gens)) ** multiplier, *gens, domain="QQ")
    b = {m: Fraction(int(c.p), int(c.q)) for m, c in (weight * poly).terms()}
    c = {m: Fraction(int(v.p), int(v.q)) for m, v in weight.terms()}
    return b, c


def unbounded_below(poly: sp.Poly, trials: int = 200, seed: int = 0) -> str | None:
    """A proof that p is unbounded below on R^n, as a sentence, or None if none was found.

    p is unbounded below when its total degree is odd, or when its top-degree form h takes
    a negative value h(u) < 0 somewhere (p(t u) ~ t^deg h(u) -> -infinity). Directions tried:
    the coordinate axes, the +-1 vertices (small n) and seeded random integer directions;
    the sign of h(u) is computed exactly. None means no proof, not a proof of boundedness.
    """
    deg = poly.total_degree()
    if deg <= 0:
        return None
    if deg % 2 == 1:
        return f"it has odd total degree {deg}, so it tends to -infinity along some direction"
    top = {m: Fraction(int(c.p), int(c.q)) for m, c in poly.terms() if sum(m) == deg}
    n = len(poly.gens)

    def h(u):
        total = Fraction(0)
        for m, c in top.items():
            term = c
            for ui, mi in zip(u, m, strict=True):
                term *= ui**mi
            total += term
        return total

    dirs = [tuple(int(i == j) for j in range(n)) for i in range(n)]
    if n <= 8:
        dirs += list(itertools.product((-1, 1), repeat=n))
    rng = random.Random(seed)
    # h is homogeneous: integer directions carry the same signs as rational ones, and are cheap
    dirs += [tuple(rng.randint(-1000, 1000) for _ in range(n)) for _ in range(trials)]
    for u in dirs:
        v = h(u)
        if v < 0:
            where = ", ".join(str(x) for x in u)
            return (f"its top-degree form is negative ({v}) along the direction ({where}), "
                    f"so p(t u) -> -infinity")
    return None
