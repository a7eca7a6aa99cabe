"""E[F(u)] for u ~ N(0, C) with C symbolic: Wick, the closed-form table, or quadrature.

F is expanded into a sum of products; each product of powers of the variables and of
functions of linear forms of them is one term. A term whose factors are all polynomial is
exact by Isserlis ("wick"); a term whose functions are in the table's families (erf(.),
exp(-c x^2), Heaviside, relu = max(., 0), sign, abs, DiracDelta) goes through the table
routine ("closed-form"); anything else becomes a GaussianExpectation over the variables it
involves ("numeric"). The backend of the whole result is the least exact one used.

Speed: a term is first relabelled into a pattern over local linear forms, whose
expectation is derived once with a generic symbolic covariance (k_ij) and cached; the
actual covariance entries are then substituted (no simplify on large expressions).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from ._numeric import DEFAULT_POINTS, GaussianExpectation
from ._reduce import reduce_factors
from ._table import small_rational

__all__ = ["BACKENDS", "Expectation", "expectation"]

BACKENDS = ("wick", "closed-form", "numeric")
"""From most to least exact."""



@dataclass(frozen=True)
class Expectation:
    """A Gaussian expectation and how it was obtained.

    Attributes:
        value: SymPy expression in the covariance entries (and the integrand's parameters);
            may contain GaussianExpectation heads when backend == "numeric".
        backend: "wick" (exact polynomial in C), "closed-form" (exact, table) or "numeric".
    """

    value: sp.Expr
    backend: str

    def __post_init__(self):
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown backend {self.backend!r}; accepted: {BACKENDS}")


def _k(i: int, j: int) -> sp.Symbol:
    return sp.Symbol(f"k_{min(i, j)}_{max(i, j)}")


def _generic(m: int) -> sp.Matrix:
    return sp.Matrix(m, m, lambda i, j: _k(i, j))


def _substitute(expr: sp.Expr, mapping: dict, memo: dict) -> sp.Expr:
    """xreplace without SymPy's automatic evaluation, which runs assumption queries that
    dominate the cost on large systems: numbers are combined, zeros dropped, heads with
    numeric arguments evaluated; everything else is rebuilt unevaluated (same value)."""
    if expr in mapping:
        return mapping[expr]
    if not expr.args:
        return expr
    if expr in memo:
        return memo[expr]
    args = [_substitute(a, mapping, memo) for a in expr.args]
    if all(a.is_Number for a in args):
        out = expr.func(*args)
    elif expr.is_Add or expr.is_Mul:
        nums = [a for a in args if a.is_Number]
        rest = [a for a in args if not a.is_Number]
        c = sp.Add(*nums) if expr.is_Add else sp.Mul(*nums)
        if expr.is_Mul and c == 0:
            out = sp.Integer(0)
        else:
            if expr.is_Add:
                rest = [a for a in rest if a != 0]
            keep = [c] if c != (0 if expr.is_Add else 1) else []
            terms = keep + rest
            out = (terms[0] if len(terms) == 1 else expr.func(*terms, evaluate=False)) \
                if terms else c
            if expr.is_Add and len(terms) > 1:
                out = small_rational(out)  # Q (Q + 1) - Q Q -> Q, when small
    elif expr.is_Pow and args[1].is_Rational and args[1].q == 2:
        out = sp.Pow(small_rational(args[0]), args[1], evaluate=False)
    else:
        out = expr.func(*args, evaluate=False)
    memo[expr] = out
    return out


def _linear(expr: sp.Expr, index: dict) -> tuple | None:
    """A homogeneous linear form sum_v c_v v as a sorted tuple ((index_v, c_v), ...)."""
    coeffs: dict[int, sp.Expr] = {}
    for term in sp.Add.make_args(sp.expand(expr)):
        c, key = term.as_independent(*index.keys(), as_Add=False)
        if key not in index:
            return None
        coeffs[index[key]] = coeffs.get(index[key], 0) + c
    out = tuple(sorted((i, c) for i, c in coeffs.items() if c != 0))
    return out or None


def _classify(head: sp.Expr, index: dict):
    """(kind, atom, s, coefficient) for one function factor, or None if not in the families."""
    args = head.args
    if isinstance(head, sp.erf):
        atom = _linear(sp.sqrt(2) * args[0], index)
        return None if atom is None else ("g", atom, None, 1)
    if isinstance(head, sp.Heaviside):
        atom = _linear(args[0], index)
        return None if atom is None else ("step", atom, None, 1)
    if isinstance(head, sp.DiracDelta) and len(args) == 1:
        atom = _linear(args[0], index)
        return None if atom is None else ("delta", atom, None, 1)
    if isinstance(head, sp.Max) and len(args) == 2 and sp.Integer(0) in args:
        other = args[0] if args[1] == 0 else args[1]
        atom = _linear(other, index)
        return None if atom is None else ("relu", atom, None, 1)
    if isinstance(head, sp.exp):
        e = sp.expand(args[0])
        vs = e.free_symbols & index.keys()
        if len(vs) != 1:
            return None
        (v,) = vs
        c = e.coeff(v, 2)
        if sp.expand(e - c * v**2) != 0 or c.free_symbols & index.keys():
            return None
        s = -2 * c
        if not s.is_positive:
            return None
        atom = ((index[v], sp.Integer(1)),)
        if s == 1:
            return ("dg", atom, None, sp.sqrt(sp.pi / 2))
        return ("w", atom, s, 1)
    return None


def _rewrite(expr: sp.Expr, variables) -> sp.Expr:
    """sign, abs and min of linear forms in terms of Heaviside and max (exact)."""
    vs = set(variables)

    def lin(a):
        return a.free_symbols & vs and sp.expand(a).is_polynomial(*variables) and \
            sp.Poly(a, *variables).is_linear

    return expr.replace(
        lambda e: isinstance(e, sp.sign) and lin(e.args[0]),
        lambda e: 2 * sp.Heaviside(e.args[0]) - 1,
    ).replace(
        lambda e: isinstance(e, sp.Abs) and lin(e.args[0]),
        lambda e: e.args[0] * (2 * sp.Heaviside(e.args[0]) - 1),
    )


def _products(expr: sp.Expr) -> list[list[sp.Expr]]:
    """expr as a sum of products, each a list of factors (function heads kept whole).

    Distributes Add over Mul and positive integer powers of sums without building the
    expanded expression (sympy.expand is the bottleneck on large systems)."""
    if expr.is_Add:
        return [t for a in expr.args for t in _products(a)]
    if expr.is_Mul:
        out: list[list[sp.Expr]] = [[]]
        for a in expr.args:
            pa = _products(a)
            out = [x + y for x in out for y in pa]
        return out
    if expr.is_Pow and expr.exp.is_Integer and expr.exp > 0 and expr.base.is_Add:
        pb = _products(expr.base)
        out = [[]]
        for _ in range(int(expr.exp)):
            out = [x + y for x in out for y in pb]
        return out
    return [[expr]]


def _factorise(term: list[sp.Expr], index: dict):
    """term = coefficient * prod factors, factors (kind, atom, s); None if unsupported."""
    coef = sp.Integer(1)
    factors = []
    for f in term:
        if not f.free_symbols & index.keys():
            coef *= f
            continue
        base, e = (f.base, f.exp) if f.is_Pow else (f, sp.Integer(1))
        if not (e.is_Integer and e > 0):
            return None
        if base in index:
            factors += [("lin", ((index[base], sp.Integer(1)),), None)] * int(e)
            continue
        c = _classify(base, index)
        if c is None:
            return None
        kind, atom, s, k = c
        coef *= k ** int(e)
        factors += [(kind, atom, s)] * int(e)
    return coef, factors


def _pattern(factors):
    order = sorted(factors, key=lambda f: (f[0], str(f[1]), str(f[2])))
    atoms: list[tuple] = []
    for f in order:
        if f[1] not in atoms:
            atoms.append(f[1])
    key = tuple((f[0], atoms.index(f[1]), f[2]) for f in order)
    return key, atoms


@functools.lru_cache(maxsize=4096)
def _generic_value(key, m):
    return reduce_factors(list(key), _generic(m))


def expectation(integrand, variables, covariance, *, points: int | None = None) -> Expectation:
    """E[F(u)] for u ~ N(0, C), exact where possible, else numeric (see module docstring).

    Args:
        integrand: SymPy expression F in `variables` (and parameters).
        variables: the symbols u_1..u_m.
        covariance: m x m symmetric matrix (symbols or numbers).
        points: Gauss-Hermite nodes per dimension for numeric terms (default by dimension,
            DEFAULT_POINTS).

    Returns:
        Expectation(value, backend).

    Raises:
        ValueError: covariance of the wrong shape or not symmetric, repeated variables.
    """
    variables = tuple(variables)
    C = sp.Matrix(covariance)
    m = len(variables)
    if len(set(variables)) != m:
        raise ValueError(f"variables must be distinct symbols, got {variables}")
    if C.shape != (m, m):
        raise ValueError(f"covariance must be {m} x {m} for {m} variables, got {C.shape}")
    if (C - C.T).applyfunc(sp.expand) != sp.zeros(m, m):
        raise ValueError("covariance must be symmetric")
    if points is not None and not (isinstance(points, int) and points >= 1):
        raise ValueError(f"points must be an integer >= 1, got {points!r}")
    index = {v: i for i, v in enumerate(variables)}
    expr = sp.sympify(integrand)
    if expr.has(sp.sign, sp.Abs):
        expr = _rewrite(expr, variables)
    total: list[sp.Expr] = []
    level = 0
    numeric: dict[tuple, list[sp.Expr]] = {}
    for factors_list in _products(expr):
        if not any(f.free_symbols & index.keys() for f in factors_list):
            total.append(sp.Mul(*factors_list))
            continue
        parsed = _factorise(factors_list, index)
        value = None
        if parsed is not None:
            coef, factors = parsed
            key, atoms = _pattern(factors)
            generic = _generic_value(key, len(atoms))
            if generic is not None:
                cov = {}
                for i, a in enumerate(atoms):
                    for j in range(i, len(atoms)):
                        b = atoms[j]
                        cov[_k(i, j)] = sp.Add(
                            *[ca * cb * C[va, vb] for va, ca in a for vb, cb in b])
                value = coef * _substitute(generic, cov, {})
                if any(f[0] != "lin" for f in factors):
                    level = max(level, 1)
        if value is None:
            term = sp.Mul(*factors_list)
            involved = tuple(sorted(index[v] for v in term.free_symbols & index.keys()))
            numeric.setdefault(involved, []).append(term)
            level = 2
        else:
            total.append(value)
    for involved, terms in numeric.items():
        body = sp.Add(*terms)
        us = [sp.Dummy(f"u{i + 1}", real=True) for i in range(len(involved))]
        lam = sp.Lambda(tuple(us), body.xreplace({variables[i]: u for i, u in zip(involved, us,
                                                                                   strict=True)}))
        sub = sp.ImmutableMatrix(C.extract(list(involved), list(involved)))
        n = points or DEFAULT_POINTS.get(len(involved), 4)
        total.append(GaussianExpectation(lam, sub, sp.Integer(n)))
    return Expectation(sp.Add(*total), BACKENDS[level])
