"""Closed-form Gaussian expectations, kept as data: one row per pattern of factors.

A row gives E[prod_s h_s(u_s)] for u ~ N(0, C) as a formula in the entries of C, where the
factor kinds h_s are read from the row's `kinds` (sorted) and the slot s of C is the s-th kind:

    "g"    g(x)  = erf(x / sqrt 2)             (Saad & Solla's activation)
    "dg"   g'(x) = sqrt(2/pi) exp(-x^2 / 2)
    "lin"  x
    "relu" max(x, 0)
    "step" Heaviside(x)

Every formula is symmetric under permutations of slots of the same kind and continuous
up to singular C (coinciding variables), so one row serves u_1 = u_3 as well.
The rows are consumed by one routine (`_reduce.reduce_factors`); nothing here is code
per activation. References: Saad & Solla, PRE 52, 4225 (1995) for I2, I3, I4, J2
(docs/theory.md §5.2); Cho & Saul, NeurIPS 2009 (arc-cosine kernel of degree 1
and 0) for relu and step; the trivariate orthant probability (Sheppard's formula extended)
for three steps. The relu triple E[step(u1) u2 relu(u3)] is obtained by Stein's lemma on u2:
C12 p_{u1}(0) E[relu(u3) | u1 = 0] + C23 E[step(u1) step(u3)].
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

__all__ = ["CLOSED_FORMS", "ClosedForm", "KINDS", "canonical_form", "small_rational"]

KINDS = ("dg", "g", "lin", "relu", "step")
"""Kinds a table row may use (see the module docstring)."""

_pi = sp.pi


@dataclass(frozen=True)
class ClosedForm:
    """One row: `E[prod_s kinds[s](u_s)] = formula(C)`, C the covariance of the slots.

    Attributes:
        name: short name (I2, I3, ... for Saad & Solla's integrals).
        kinds: the sorted factor kinds, one per slot.
        formula: C (a SymPy Matrix, len(kinds) square) -> SymPy expression.
        doc: the expectation in words.
    """

    name: str
    kinds: tuple[str, ...]
    formula: Callable[[sp.Matrix], sp.Expr]
    doc: str

    def __post_init__(self):
        if tuple(sorted(self.kinds)) != self.kinds or not set(self.kinds) <= set(KINDS):
            raise ValueError(f"row {self.name}: kinds must be sorted and among {KINDS}")

    def evaluate(self, C: sp.Matrix) -> sp.Expr:
        """The row's value at covariance C, in canonical form (`canonical_form`)."""
        return canonical_form(self.formula(C))


@functools.lru_cache(maxsize=8192)
def _rational(x: sp.Expr) -> sp.Expr:
    """A rational function of the covariance entries as a factored fraction; anything else
    (it contains functions) as it is."""
    n = 0
    for a in sp.preorder_traversal(x):
        n += 1
        if n > 4 * SMALL or isinstance(a, sp.Function):
            return x  # large or transcendental: left alone (cost)
    out = sp.factor(sp.cancel(x))
    return out if sp.count_ops(out) <= sp.count_ops(x) else sp.cancel(x)


SMALL = 24
"""Largest sum (nodes of its tree) that `small_rational` reduces; larger ones are left alone."""


def small_rational(x: sp.Expr) -> sp.Expr:
    """A small function-free sum (at most SMALL nodes) as one reduced fraction, when
    that is not longer; anything else unchanged. Used after substituting covariance entries
    into a cached closed form, where Q (Q + 1) - Q Q or (Q + 1)(Q + 1) - Q^2 appear."""
    if not x.is_Add:
        return x
    n = 0
    for a in sp.preorder_traversal(x):
        n += 1
        if n > SMALL or isinstance(a, sp.Function) or (a.is_Pow and not a.exp.is_Integer):
            return x
    return _sum_small(x)


@functools.lru_cache(maxsize=8192)
def _sum_small(x: sp.Expr) -> sp.Expr:
    if any(a.is_Pow and a.exp.is_negative for a in sp.preorder_traversal(x)):
        return x  # fractions: cancel costs more than it saves here
    out = sp.expand(x)
    return out if sum(1 for _ in sp.preorder_traversal(out)) <= \
        sum(1 for _ in sp.preorder_traversal(x)) else x


def canonical_form(expr: sp.Expr) -> sp.Expr:
    """expr rebuilt with SymPy's evaluation, its small radicands (x^(n/2)) and arguments of
    asin and acos reduced to factored fractions. Cheap (local, cached) and value-preserving:
    no branch of a square root is chosen, so sqrt((1 + k)^2) stays as it is: the rows write
    a product of positive factors as a product of square roots instead."""
    memo: dict = {}

    def walk(e):
        if not e.args or not e.has(sp.asin, sp.acos, sp.Pow):
            return e
        if e in memo:
            return memo[e]
        args = [walk(a) for a in e.args]
        if e.is_Pow and args[1].is_Rational and args[1].q == 2:
            out = sp.Pow(_rational(args[0]), args[1])
        elif isinstance(e, sp.asin | sp.acos):
            out = e.func(_rational(args[0]))
        else:
            out = e.func(*args)
        memo[e] = out
        return out

    return walk(sp.sympify(expr))


def _i4(C):
    L4 = (1 + C[0, 0]) * (1 + C[1, 1]) - C[0, 1] ** 2
    L0 = (L4 * C[2, 3] - C[1, 2] * C[1, 3] * (1 + C[0, 0]) - C[0, 2] * C[0, 3] * (1 + C[1, 1])
          + C[0, 1] * C[0, 2] * C[1, 3] + C[0, 1] * C[0, 3] * C[1, 2])
    L1 = (L4 * (1 + C[2, 2]) - C[1, 2] ** 2 * (1 + C[0, 0]) - C[0, 2] ** 2 * (1 + C[1, 1])
          + 2 * C[0, 1] * C[0, 2] * C[1, 2])
    L2 = (L4 * (1 + C[3, 3]) - C[1, 3] ** 2 * (1 + C[0, 0]) - C[0, 3] ** 2 * (1 + C[1, 1])
          + 2 * C[0, 1] * C[0, 3] * C[1, 3])
    return 4 / _pi**2 / sp.sqrt(L4) * sp.asin(L0 / (sp.sqrt(L1) * sp.sqrt(L2)))


def _rho(C, i, j):
    return C[i, j] / (sp.sqrt(C[i, i]) * sp.sqrt(C[j, j]))


_ROWS = [
    # --- erf(x / sqrt 2): Saad & Solla ---------------------------------------------------
    ClosedForm("J1", ("dg",), lambda C: sp.sqrt(2 / _pi) / sp.sqrt(1 + C[0, 0]), "E[g'(u1)]"),
    ClosedForm("I2", ("g", "g"),
               lambda C: 2 / _pi * sp.asin(C[0, 1] / (sp.sqrt(1 + C[0, 0])
                                                        * sp.sqrt(1 + C[1, 1]))),
               "E[g(u1) g(u2)]"),
    ClosedForm("I2lin", ("g", "lin"),
               lambda C: sp.sqrt(2 / _pi) * C[0, 1] / sp.sqrt(1 + C[0, 0]), "E[g(u1) u2]"),
    # I3 = E[g'(u1) u2 g(u3)]: slots (dg, g, lin) = (u1, u3, u2)
    ClosedForm("I3", ("dg", "g", "lin"),
               lambda C: 2 / _pi * (C[2, 1] * (1 + C[0, 0]) - C[0, 2] * C[0, 1])
               / ((1 + C[0, 0]) * sp.sqrt((1 + C[0, 0]) * (1 + C[1, 1]) - C[0, 1] ** 2)),
               "E[g'(u1) u2 g(u3)]"),
    ClosedForm("I4", ("dg", "dg", "g", "g"), _i4, "E[g'(u1) g'(u2) g(u3) g(u4)]"),
    ClosedForm("J2", ("dg", "dg"),
               lambda C: 2 / _pi / sp.sqrt(1 + C[0, 0] + C[1, 1] + C[0, 0] * C[1, 1]
                                            - C[0, 1] ** 2),
               "E[g'(u1) g'(u2)]"),
    # --- relu and its derivative step: arc-cosine kernels --------------------------------
    ClosedForm("R1", ("relu",), lambda C: sp.sqrt(C[0, 0] / (2 * _pi)), "E[relu(u1)]"),
    ClosedForm("S1", ("step",), lambda C: sp.Rational(1, 2), "E[step(u1)]"),
    ClosedForm("R2", ("relu", "relu"),
               lambda C: (sp.sqrt(C[0, 0] * C[1, 1] - C[0, 1] ** 2)
                          + C[0, 1] * (_pi - sp.acos(_rho(C, 0, 1)))) / (2 * _pi),
               "E[relu(u1) relu(u2)]"),
    ClosedForm("S2", ("step", "step"),
               lambda C: sp.Rational(1, 4) + sp.asin(_rho(C, 0, 1)) / (2 * _pi),
               "E[step(u1) step(u2)]"),
    ClosedForm("R1lin", ("lin", "relu"), lambda C: C[0, 1] / 2, "E[u1 relu(u2)]"),
    ClosedForm("S1lin", ("lin", "step"),
               lambda C: C[0, 1] / sp.sqrt(2 * _pi * C[1, 1]), "E[u1 step(u2)]"),
    # R3 = E[step(u1) u2 relu(u3)]: slots (lin, relu, step) = (u2, u3, u1)
    ClosedForm("R3", ("lin", "relu", "step"),
               lambda C: C[2, 0] * sp.sqrt(C[2, 2] * C[1, 1] - C[2, 1] ** 2) / (2 * _pi * C[2, 2])
               + C[0, 1] * (_pi - sp.acos(_rho(C, 2, 1))) / (2 * _pi),
               "E[step(u1) u2 relu(u3)]"),
    ClosedForm("S3", ("step", "step", "step"),
               lambda C: sp.Rational(1, 8) + (sp.asin(_rho(C, 0, 1)) + sp.asin(_rho(C, 0, 2))
                                              + sp.asin(_rho(C, 1, 2))) / (4 * _pi),
               "E[step(u1) step(u2) step(u3)]"),
    # --- mixed erf / relu (teacher and student of different families) -------------------
    ClosedForm("GS", ("g", "step"),
               lambda C: sp.asin(C[0, 1] / (sp.sqrt(1 + C[0, 0]) * sp.sqrt(C[1, 1]))) / _pi,
               "E[g(u1) step(u2)]"),
    ClosedForm("GR", ("g", "relu"),
               lambda C: C[0, 1] / sp.sqrt(2 * _pi * (1 + C[0, 0])), "E[g(u1) relu(u2)]"),
]

CLOSED_FORMS: dict[tuple[str, ...], ClosedForm] = {row.kinds: row for row in _ROWS}
"""The table: sorted kinds -> row. Extend by adding a row, never a special case."""
