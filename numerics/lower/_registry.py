"""SymPy head -> JAX implementation: the table of escalier.derive plus registered heads."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from ._table import JAX_FUNCTIONS, VARIADIC

__all__ = ["implementation", "register", "structural_builder", "structural_heads",
           "supported_heads"]

_MODULES = {"jnp": "jax.numpy", "jsp": "jax.scipy.special"}

_REGISTERED: dict[type, Callable] = {}
_STRUCTURAL: dict[type, Callable] = {}


def register(head: type, fn: Callable, *, structural: bool = False) -> None:
    """Register a JAX implementation for a SymPy head (a Function class) not in the table.

    Elementwise (default): `fn` receives the lowered arguments of head(arg1, ..., argn) as
    JAX arrays (broadcastable to each other) and returns an array of their broadcast shape.

    Structural: for heads whose arguments are not all arrays (a Lambda integrand, a
    covariance Matrix, a node count). `fn(expr, compile)` is called once, when lowering,
    with the SymPy node and `compile(subexpr) -> (env -> array)`, which lowers any
    sub-expression in the enclosing scope; it returns a function env -> array. Structural
    nodes are kept out of common-subexpression elimination (their bound variables stay bound).

    The JAX code must be traceable (jit, vmap, grad). A registered head overrides the table.

    Args:
        head: a SymPy class, e.g. a `sympy.Function` subclass such as a numeric quadrature
            head, or a table head to override.
        fn: the implementation.
        structural: see above.

    Raises:
        ValueError: head is not a class or fn is not callable.
    """
    if not isinstance(head, type):
        raise ValueError(f"head must be a SymPy class (e.g. a sympy.Function), got {head!r}")
    if not callable(fn):
        raise ValueError(f"the implementation of {head.__name__} must be callable, got {fn!r}")
    _REGISTERED.pop(head, None)
    _STRUCTURAL.pop(head, None)
    (_STRUCTURAL if structural else _REGISTERED)[head] = fn


def structural_builder(head: type) -> Callable | None:
    """The builder of a structurally registered head, or None."""
    return _STRUCTURAL.get(head)


def structural_heads() -> tuple[type, ...]:
    """Heads registered as structural."""
    return tuple(_STRUCTURAL)


def _resolve(dotted: str) -> Callable:
    prefix, _, name = dotted.partition(".")
    if prefix not in _MODULES:
        raise ValueError(f"table entry {dotted!r}: prefix must be one of {sorted(_MODULES)}")
    return getattr(importlib.import_module(_MODULES[prefix]), name)


def _fold(binary: Callable) -> Callable:
    def folded(*args):
        out = args[0]
        for arg in args[1:]:
            out = binary(out, arg)
        return out

    return folded


def implementation(head: type) -> Callable | None:
    """The JAX callable of a head (registered first, then the table), or None if unsupported."""
    if head in _REGISTERED:
        return _REGISTERED[head]
    if head in JAX_FUNCTIONS:
        fn = _resolve(JAX_FUNCTIONS[head])
        return _fold(fn) if head in VARIADIC else fn
    return None


STRUCTURAL = ("Add", "Mul", "Pow", "Integer", "Rational", "Float", "pi", "E", "Piecewise",
              "BooleanTrue", "BooleanFalse")


def supported_heads() -> list[str]:
    """Names of every head the lowering accepts: structural, table and registered."""
    names = {*STRUCTURAL, *(h.__name__ for h in JAX_FUNCTIONS), *(h.__name__ for h in _REGISTERED),
             *(h.__name__ for h in _STRUCTURAL)}
    return sorted(names)
