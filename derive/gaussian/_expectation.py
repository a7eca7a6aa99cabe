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

from dataclasses import dataclass

import sympy as sp

from ._numeric import DEFAULT_POINTS, GaussianExpectation
from ._reduce import reduce_factors

__all__ = ["BACKENDS", "Expectation", "expectation"]

BACKENDS = ("wick", "closed-form", "numeric")
"""From most to least exact."""

_CACHE: dict[tuple, sp.Expr | None] = {}


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


def _generic(m: int) -> sp.Matrix:
    return sp.Matrix(m, m, lambda i, j: sp.Symbol(f"k_{min(i, j)}{max(i, j)}", real=True))


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


def _terms(expr: sp.Expr, variables):
    """Additive terms of expr, expanded as a polynomial in variables and function factors."""
    vs = set(variables)
    heads = [a for a in expr.atoms(sp.Function) if a.free_symbols & vs]
    dummies = {h: sp.Dummy(f"h{i}") for i, h in enumerate(heads)}
    back = {d: h for h, d in dummies.items()}
    poly = sp.expand(expr.xreplace(dummies))
    return [t.xreplace(back) for t in sp.Add.make_args(poly)], set(dummies.values())


def _factorise(term: sp.Expr, index: dict):
    """term = coefficient * prod factors, factors (kind, atom, s); None if unsupported."""
    coef = sp.Integer(1)
    factors = []
    for f in sp.Mul.make_args(term):
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


def _generic_value(key, m):
    if key not in _CACHE:
        _CACHE[key] = reduce_factors(list(key), _generic(m))
    return _CACHE[key]


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
    expr = _rewrite(sp.sympify(integrand), variables)
    terms, _ = _terms(expr, variables)
    total = sp.Integer(0)
    level = 0
    numeric: dict[tuple, sp.Expr] = {}
    for term in terms:
        if not term.free_symbols & index.keys():
            total += term
            continue
        parsed = _factorise(term, index)
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
                        cov[sp.Symbol(f"k_{i}{j}", real=True)] = sp.Add(
                            *[ca * cb * C[va, vb] for va, ca in a for vb, cb in b])
                value = coef * generic.xreplace(cov)
                if any(f[0] != "lin" for f in factors):
                    level = max(level, 1)
        if value is None:
            involved = tuple(sorted(index[v] for v in term.free_symbols & index.keys()))
            numeric[involved] = numeric.get(involved, 0) + term
            level = 2
        else:
            total += value
    for involved, body in numeric.items():
        us = [sp.Dummy(f"u{i + 1}", real=True) for i in range(len(involved))]
        lam = sp.Lambda(tuple(us), body.xreplace({variables[i]: u for i, u in zip(involved, us,
                                                                                   strict=True)}))
        sub = sp.ImmutableMatrix(C.extract(list(involved), list(involved)))
        n = points or DEFAULT_POINTS.get(len(involved), 4)
        total += GaussianExpectation(lam, sub, sp.Integer(n))
    return Expectation(total, BACKENDS[level])
