"""The table of functions a target may use: name -> SymPy builder, with its properties.

Numbers are data: every supported univariate function is one row here, and the parser,
the growth check and the Hermite engine all read this one table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

__all__ = ["FUNCTIONS", "FunctionSpec", "hermite_he", "relu", "sigmoid"]


def hermite_he(n: int, x: sp.Expr) -> sp.Expr:
    """Probabilists' Hermite polynomial He_n(x) (docs/theory.md §1.4), as a SymPy polynomial.

    He_n(x) = 2^{-n/2} H_n(x / sqrt 2) with H_n the physicists' polynomial.
    """
    if n < 0:
        raise ValueError(f"Hermite degree must be >= 0, got {n}")
    return sp.expand(sp.hermite_prob(n, x))


def relu(x: sp.Expr) -> sp.Expr:
    """relu(x) = max(x, 0)."""
    return sp.Max(x, 0)


def sigmoid(x: sp.Expr) -> sp.Expr:
    """The logistic function 1 / (1 + exp(-x))."""
    return 1 / (1 + sp.exp(-x))


@dataclass(frozen=True)
class FunctionSpec:
    """One supported function: how to build it and what the checks may assume of it.

    Attributes:
        name: the name a user writes.
        arity: number of arguments (0 for variadic max/min).
        build: SymPy builder.
        bounded: |f| <= 1 everywhere (used by the square-integrability check).
        doc: one line for error messages and `--help`.
    """

    name: str
    arity: int
    build: Callable[..., sp.Expr]
    bounded: bool
    doc: str


def _spec(name, arity, build, bounded, doc):
    return name, FunctionSpec(name, arity, build, bounded, doc)


FUNCTIONS: dict[str, FunctionSpec] = dict(
    [
        _spec("relu", 1, relu, False, "relu(x) = max(x, 0)"),
        _spec("sign", 1, sp.sign, True, "sign(x)"),
        _spec("abs", 1, sp.Abs, False, "abs(x) = |x|"),
        _spec("tanh", 1, sp.tanh, True, "tanh(x)"),
        _spec("erf", 1, sp.erf, True, "erf(x)"),
        _spec("exp", 1, sp.exp, False, "exp(x) (the argument must keep exp square-integrable)"),
        _spec("cos", 1, sp.cos, True, "cos(x)"),
        _spec("sin", 1, sp.sin, True, "sin(x)"),
        _spec("sigmoid", 1, sigmoid, True, "sigmoid(x) = 1 / (1 + exp(-x))"),
        _spec("heaviside", 1, lambda x: sp.Heaviside(x, sp.Rational(1, 2)), True,
              "heaviside(x) (value 1/2 at 0)"),
        _spec("max", 0, sp.Max, False, "max(a, b, ...)"),
        _spec("min", 0, sp.Min, False, "min(a, b, ...)"),
        _spec("sqrt", 1, sp.sqrt, False, "sqrt(x) of a non-negative argument"),
        _spec("hermite", 2, lambda n, x: hermite_he(int(n), x), False,
              "hermite(k, x) = He_k(x), probabilists' (the project's convention)"),
    ]
)
"""Supported function names. `He<k>(x)` (He0, He1, ...) is accepted besides these."""

MAX_HERMITE_DEGREE = 60
"""Largest Hermite degree accepted in a target (guards against runaway expansions)."""
