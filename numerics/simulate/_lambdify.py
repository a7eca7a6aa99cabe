"""A minimal table-driven SymPy -> JAX evaluator for the simulators' f, sigma and sigma'.

Private stop-gap until the shared lowering (escalier.numerics.lower) is in main: it reads
the one head table `escalier.derive._jax_table.JAX_FUNCTIONS` and evaluates the tree
directly (no code generation), so erf lowers to `jax.scipy.special.erf` and works under
jit and vmap. Numbers become Python floats, which JAX treats as weakly typed, so a
float32 simulation stays float32.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax.numpy as jnp
import jax.scipy.special as jsp
import sympy as sp

from escalier.derive._jax_table import JAX_FUNCTIONS

__all__ = ["to_jax"]

_MODULES = {"jnp": jnp, "jsp": jsp}


def _resolve(name: str) -> Callable:
    module, attr = name.split(".")
    return getattr(_MODULES[module], attr)


_HEADS = {head: _resolve(name) for head, name in JAX_FUNCTIONS.items()}


def to_jax(expr: sp.Expr, symbols: Sequence[sp.Symbol]) -> Callable:
    """Turn a SymPy expression into a JAX function of the given symbols (elementwise).

    Args:
        expr: expression whose free symbols are among `symbols`.
        symbols: argument order of the returned function.

    Returns:
        fn(*arrays) evaluating `expr` elementwise (broadcasting), jit/vmap/grad-safe.

    Raises:
        ValueError: a free symbol not among `symbols`, or a head outside JAX_FUNCTIONS.
    """
    expr = sp.sympify(expr)
    extra = expr.free_symbols - set(symbols)
    if extra:
        raise ValueError(
            f"expression {expr} has symbols {sorted(map(str, extra))} "
            f"outside the arguments {[str(s) for s in symbols]}"
        )
    _check(expr)
    index = {s: i for i, s in enumerate(symbols)}

    def fn(*args):
        cache: dict[sp.Basic, object] = {}
        return _eval(expr, args, index, cache)

    return fn


def _check(expr: sp.Basic) -> None:
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Symbol | sp.Number | sp.Add | sp.Mul | sp.Pow):
            continue
        if node in (sp.pi, sp.E) or isinstance(node, sp.NumberSymbol):
            continue
        if node.func in _HEADS:
            continue
        raise ValueError(
            f"cannot lower {node.func.__name__} (in {expr}) to JAX; supported heads: "
            f"{sorted(h.__name__ for h in _HEADS)} with +, *, **"
        )


def _constant(e: sp.Basic) -> float:
    value = complex(sp.N(e, 20))
    if value.imag != 0:
        raise ValueError(f"constant {e} is not real")
    return float(value.real)


def _eval(e: sp.Basic, args, index, cache):
    if e in cache:
        return cache[e]
    if isinstance(e, sp.Symbol):
        out = args[index[e]]
    elif not e.free_symbols:
        out = _constant(e)
    elif isinstance(e, sp.Add):
        terms = [_eval(a, args, index, cache) for a in e.args]
        out = terms[0]
        for t in terms[1:]:
            out = out + t
    elif isinstance(e, sp.Mul):
        factors = [_eval(a, args, index, cache) for a in e.args]
        out = factors[0]
        for f in factors[1:]:
            out = out * f
    elif isinstance(e, sp.Pow):
        base = _eval(e.base, args, index, cache)
        q = e.exp
        if q.is_Integer:
            out = base ** int(q)
        elif q == sp.Rational(1, 2):
            out = jnp.sqrt(base)
        elif q == sp.Rational(-1, 2):
            out = 1.0 / jnp.sqrt(base)
        else:
            out = jnp.power(base, _eval(q, args, index, cache))
    elif e.func is sp.Heaviside and len(e.args) == 1:
        out = jnp.heaviside(_eval(e.args[0], args, index, cache), 0.5)
    elif e.func in _HEADS:
        out = _HEADS[e.func](*[_eval(a, args, index, cache) for a in e.args])
    else:  # pragma: no cover - _check rejects these first
        raise ValueError(f"cannot lower {e}")
    cache[e] = out
    return out
