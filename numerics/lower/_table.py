"""SymPy heads -> dotted names of their JAX counterparts: the one table behind both the
lowering (`lower`) and the emitted standalone JAX source (`ode_source`).

Kept as strings so that the emitter can print them. `jnp` is `jax.numpy`, `jsp` is
`jax.scipy.special`. Add a row here, never a special case elsewhere.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["JAX_FUNCTIONS", "VARIADIC"]

JAX_FUNCTIONS: dict[type, str] = {
    sp.exp: "jnp.exp",
    sp.log: "jnp.log",
    sp.sqrt: "jnp.sqrt",
    sp.sin: "jnp.sin",
    sp.cos: "jnp.cos",
    sp.tan: "jnp.tan",
    sp.asin: "jnp.arcsin",
    sp.acos: "jnp.arccos",
    sp.atan: "jnp.arctan",
    sp.atan2: "jnp.arctan2",
    sp.sinh: "jnp.sinh",
    sp.cosh: "jnp.cosh",
    sp.tanh: "jnp.tanh",
    sp.Abs: "jnp.abs",
    sp.sign: "jnp.sign",
    sp.erf: "jsp.erf",
    sp.erfc: "jsp.erfc",
    sp.Heaviside: "jnp.heaviside",
    sp.Max: "jnp.maximum",
    sp.Min: "jnp.minimum",
    sp.floor: "jnp.floor",
    sp.ceiling: "jnp.ceil",
    sp.asinh: "jnp.arcsinh",
    sp.acosh: "jnp.arccosh",
    sp.atanh: "jnp.arctanh",
    sp.erfinv: "jsp.erfinv",
    sp.gamma: "jsp.gamma",
    sp.loggamma: "jsp.gammaln",
    # relations and logic, for the conditions of Piecewise
    sp.StrictLessThan: "jnp.less",
    sp.LessThan: "jnp.less_equal",
    sp.StrictGreaterThan: "jnp.greater",
    sp.GreaterThan: "jnp.greater_equal",
    sp.Equality: "jnp.equal",
    sp.Unequality: "jnp.not_equal",
    sp.And: "jnp.logical_and",
    sp.Or: "jnp.logical_or",
    sp.Not: "jnp.logical_not",
    sp.Xor: "jnp.logical_xor",
}
"""Elementwise heads. Add, Mul, Pow, numbers, Piecewise are structural and handled by the
printers. Max, Min, And, Or, Xor are variadic in SymPy and binary here: a printer folds them
left to right. Heaviside(x, h0) maps to jnp.heaviside(x, h0) (SymPy's default h0 is 1/2)."""

VARIADIC: frozenset[type] = frozenset({sp.Max, sp.Min, sp.And, sp.Or, sp.Xor})
"""Heads of JAX_FUNCTIONS that take any number of arguments in SymPy, folded pairwise."""
