"""The teacher f and the student's sigma, sigma' of a Scenario as JAX callables, shared by
both simulation engines and lowered through the one table-driven `escalier.numerics.lower`."""

from __future__ import annotations

import jax.numpy as jnp
import sympy as sp

from ._lower import lower as _lower

__all__ = ["elementwise", "residual_function", "student_functions", "teacher_function"]


def elementwise(expr: sp.Expr, symbols: tuple[sp.Symbol, ...]):
    """f(*arrays): `expr` evaluated elementwise (broadcasting) with `symbols` bound in order,
    returned in the arrays' dtype."""
    fn = _lower(expr, tuple(symbols))

    def evaluate(*arrays):
        arrays = jnp.broadcast_arrays(*[jnp.asarray(a) for a in arrays])
        dtype = jnp.result_type(*arrays)
        return fn(jnp.stack(arrays, axis=-1)).astype(dtype)

    return evaluate


def teacher_function(scenario):
    """f(nu) for nu of shape (..., k): the scenario's target evaluated on the last axis."""
    f = elementwise(scenario.target.expr, scenario.target.variables)
    k = scenario.k
    return lambda nu: f(*[nu[..., r] for r in range(k)])


def student_functions(scenario):
    """(sigma, sigma') of the scenario's student activation, elementwise JAX callables.

    Raises:
        ValueError: if sigma' has a Dirac delta (a discontinuous activation): SGD needs an
            activation differentiable almost everywhere with a finite derivative.
    """
    (x,), body = scenario.sigma.variables, scenario.sigma.expr
    derivative = sp.diff(body, x)
    if derivative.has(sp.DiracDelta):
        raise ValueError(
            f"the student activation {body} has a derivative with a Dirac delta ({derivative}); "
            "SGD needs an activation differentiable almost everywhere with a finite derivative"
        )
    return elementwise(body, (x,)), elementwise(derivative, (x,))


def residual_function(scenario):
    """Delta_e(y, yhat) of the scenario's loss (escalier.derive.Scenario's docstring): minus
    the derivative of the per-sample loss in yhat: y - yhat (square), y (correlation),
    y exp(-y yhat) (exponential). One place for both engines."""
    if scenario.loss == "square":
        return lambda y, yhat: y - yhat
    if scenario.loss == "correlation":
        return lambda y, yhat: y
    if scenario.loss == "exponential":
        return lambda y, yhat: y * jnp.exp(-y * yhat)
    raise ValueError(f"no residual for loss {scenario.loss!r}")
