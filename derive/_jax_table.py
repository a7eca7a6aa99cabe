"""SymPy heads -> dotted names of their JAX counterparts: the one table behind both the
lowering in escalier.numerics and the emitted standalone JAX source.

Kept as strings so that derive never imports JAX. `jnp` is `jax.numpy`, `jsp` is
`jax.scipy.special`. Add a row here, never a special case elsewhere.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["JAX_FUNCTIONS"]

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
}
"""Elementwise heads. Add, Mul and Pow are structural and handled by the printers."""
