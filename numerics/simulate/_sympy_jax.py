"""A tiny private SymPy -> JAX evaluator for the simulators' teacher and activation.

Table-driven through `escalier.derive._jax_table.JAX_FUNCTIONS` (the project's single map
from SymPy heads to jax.numpy / jax.scipy.special names), so erf lowers to
`jax.scipy.special.erf` and works under jit and vmap. To be replaced by the lowering
module (`escalier.numerics.lower`) once it is merged; kept here so the Gram engine has no
dependency on a parallel branch.
"""

from __future__ import annotations

import functools
import operator

import jax.numpy as jnp
import jax.scipy.special as jsp
import sympy as sp

from escalier.derive._jax_table import JAX_FUNCTIONS

__all__ = ["lower", "student_functions", "teacher_function"]

_MODULES = {"jnp": jnp, "jsp": jsp}


def _resolve(name: str):
    module, attr = name.split(".")
    return getattr(_MODULES[module], attr)


def _build(expr: sp.Expr, index: dict[sp.Symbol, int]):
    """A closure args -> value for `expr`, with args indexed as in `index`."""
    if expr in index:
        i = index[expr]
        return lambda args: args[i]
    if expr.is_Number or expr in (sp.pi, sp.E):
        value = float(expr)
        return lambda args: value
    parts = [_build(a, index) for a in expr.args]
    if isinstance(expr, sp.Add):
        return lambda args: functools.reduce(operator.add, [f(args) for f in parts])
    if isinstance(expr, sp.Mul):
        return lambda args: functools.reduce(operator.mul, [f(args) for f in parts])
    if isinstance(expr, sp.Pow):
        base, power = parts
        exponent = expr.args[1]
        if exponent.is_Integer:
            n = int(exponent)
            if n >= 0:
                return lambda args: base(args) ** n
            return lambda args: 1.0 / base(args) ** (-n)
        return lambda args: jnp.power(base(args), power(args))
    if isinstance(expr, sp.Heaviside):
        h0 = 0.5 if len(expr.args) == 1 else float(expr.args[1])
        return lambda args: jnp.heaviside(parts[0](args), h0)
    head = type(expr)
    if head in JAX_FUNCTIONS:
        fn = _resolve(JAX_FUNCTIONS[head])
        if head in (sp.Max, sp.Min):
            return lambda args: functools.reduce(fn, [f(args) for f in parts])
        return lambda args: fn(*[f(args) for f in parts])
    raise ValueError(
        f"cannot lower {expr} to JAX: head {head.__name__} is not in JAX_FUNCTIONS "
        f"(accepted: Add, Mul, Pow, numbers, {sorted(h.__name__ for h in JAX_FUNCTIONS)})"
    )


def lower(expr: sp.Expr, symbols: tuple[sp.Symbol, ...]):
    """A JAX callable f(*arrays) evaluating `expr` elementwise with `symbols` bound in order.

    Raises:
        ValueError: a head outside JAX_FUNCTIONS, or a free symbol not in `symbols`.
    """
    expr = sp.sympify(expr)
    extra = expr.free_symbols - set(symbols)
    if extra:
        raise ValueError(f"cannot lower {expr}: free symbols {sorted(map(str, extra))} unbound")
    fn = _build(expr, {s: i for i, s in enumerate(symbols)})

    def evaluate(*arrays):
        out = fn(arrays)
        shape = jnp.broadcast_shapes(*[jnp.shape(a) for a in arrays]) if arrays else ()
        return jnp.broadcast_to(jnp.asarray(out, dtype=jnp.result_type(*arrays)), shape)

    return evaluate


def teacher_function(scenario):
    """f(nu) for nu of shape (..., k): the scenario's target evaluated on the last axis."""
    f = lower(scenario.target.expr, scenario.target.variables)
    k = scenario.k
    return lambda nu: f(*[nu[..., r] for r in range(k)])


def student_functions(scenario):
    """(sigma, sigma') of the scenario's student activation, elementwise JAX callables.

    Raises:
        ValueError: if sigma' has a head with no JAX counterpart (e.g. the DiracDelta of a
            discontinuous activation).
    """
    (x,), body = scenario.sigma.variables, scenario.sigma.expr
    derivative = sp.diff(body, x)
    if derivative.has(sp.DiracDelta):
        raise ValueError(
            f"the student activation {body} has a derivative with a Dirac delta ({derivative}); "
            "SGD needs an activation differentiable almost everywhere with a finite derivative"
        )
    return lower(body, (x,)), lower(derivative, (x,))
