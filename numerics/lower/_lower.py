"""Lowering of SymPy expressions to JAX callables, driven by one table of heads.

Every elementwise head comes from `escalier.numerics.lower._table.JAX_FUNCTIONS` (plus heads
registered with `register`); the structural ones (numbers, Add, Mul, Pow, Piecewise) are
handled here once. Shared sub-expressions are found by `sympy.cse` and computed once.
The SymPy tree is compiled into nested Python closures when `lower` is called, so calling
(and tracing) the result never touches SymPy.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import reduce

import numpy as np
import sympy as sp

from ._registry import implementation, structural_builder, structural_heads, supported_heads

__all__ = ["Lowered", "lower"]

_Env = list
_Fn = Callable[[_Env], object]


@dataclass(frozen=True, eq=False)
class Lowered:
    """A lowered expression (or array of expressions): a pure JAX function of arrays.

    Call as ``f(x)`` or ``f(x, theta)`` where x has shape (..., len(symbols)) and theta
    shape (..., len(params)); the leading (batch) axes broadcast, and the result has shape
    batch + shape. Traceable under jit, vmap and grad. The dtype is the floating dtype of
    the inputs (float64 when JAX_ENABLE_X64 is on and the inputs are float64 or Python
    numbers).

    Attributes:
        symbols: the variables, in the order of the last axis of x.
        params: the parameters, in the order of the last axis of theta.
        shape: shape of the output for one point (() for a single expression).
        exprs: the flattened expressions lowered (row-major).
        n_shared: number of common sub-expressions computed once.
    """

    symbols: tuple[sp.Symbol, ...]
    params: tuple[sp.Symbol, ...]
    shape: tuple[int, ...]
    exprs: tuple[sp.Basic, ...]
    n_shared: int
    _shared: tuple[_Fn, ...]
    _outputs: tuple[_Fn, ...]

    def __call__(self, x, theta=None):
        import jax.numpy as jnp

        x = _as_float(x, "x")
        _check_last_axis(x, len(self.symbols), "x", "symbols")
        if self.params:
            if theta is None:
                raise ValueError(
                    f"this function has parameters {[str(p) for p in self.params]}: "
                    f"call it as f(x, theta)"
                )
            theta = _as_float(theta, "theta")
            _check_last_axis(theta, len(self.params), "theta", "params")
            batch = np.broadcast_shapes(x.shape[:-1], theta.shape[:-1])
            dtype = jnp.result_type(x, theta)
            env = [x[..., i] for i in range(x.shape[-1])]
            env += [theta[..., i] for i in range(theta.shape[-1])]
        else:
            if theta is not None:
                raise ValueError("this function has no parameters: call it as f(x)")
            batch, dtype = x.shape[:-1], x.dtype
            env = [x[..., i] for i in range(x.shape[-1])]
        for fn in self._shared:
            env.append(fn(env))
        outs = [jnp.broadcast_to(jnp.asarray(fn(env)).astype(dtype), batch)
                for fn in self._outputs]
        if self.shape == ():
            return outs[0]
        return jnp.stack(outs, axis=-1).reshape(*batch, *self.shape)

    def on_columns(self, *columns):
        """Evaluate a parameter-free scalar expression at one array per symbol.

        The columns broadcast against each other, and every sub-expression is computed at
        the broadcast shape of the columns it involves only (e.g. a determinant of entries
        indexed by (j, l, u) is not recomputed along a fourth axis v): the result has the
        broadcast shape of all columns.
        """
        import jax.numpy as jnp

        if self.params or self.shape != ():
            raise ValueError("on_columns takes one scalar expression without parameters")
        if len(columns) != len(self.symbols):
            raise ValueError(f"on_columns needs {len(self.symbols)} columns, got {len(columns)}")
        env = [_as_float(c, "column") for c in columns]
        for fn in self._shared:
            env.append(fn(env))
        batch = np.broadcast_shapes(*(jnp.shape(c) for c in columns))
        dtype = jnp.result_type(*env[:len(columns)])
        return jnp.broadcast_to(jnp.asarray(self._outputs[0](env)).astype(dtype), batch)


def _as_float(v, name):
    import jax.numpy as jnp

    v = jnp.asarray(v)
    if not jnp.issubdtype(v.dtype, jnp.floating):
        if jnp.issubdtype(v.dtype, jnp.complexfloating):
            raise ValueError(f"{name} must be real, got dtype {v.dtype}")
        v = v.astype(jnp.result_type(float))
    return v


def _check_last_axis(v, n, name, what):
    if v.ndim == 0 or v.shape[-1] != n:
        raise ValueError(
            f"{name} must have shape (..., {n}) (one entry per {what[:-1]}), got {v.shape}"
        )


def _flatten(exprs) -> tuple[list[sp.Basic], tuple[int, ...]]:
    if isinstance(exprs, sp.MatrixBase):
        return [sp.sympify(e) for e in exprs], tuple(exprs.shape)
    if isinstance(exprs, sp.Basic | int | float):
        return [sp.sympify(exprs)], ()
    if isinstance(exprs, str):
        raise ValueError(f"lower takes SymPy expressions, not strings: {exprs!r}")
    try:
        arr = np.empty(np.shape(np.array(exprs, dtype=object)), dtype=object)
        arr[...] = np.array(exprs, dtype=object)
    except ValueError as err:
        msg = f"exprs must be an expression or a rectangular array of them: {err}"
        raise ValueError(msg) from err
    return [sp.sympify(e) for e in arr.ravel()], arr.shape


def _symbols(symbols, what) -> tuple[sp.Symbol, ...]:
    if isinstance(symbols, sp.Symbol):
        symbols = (symbols,)
    out = tuple(symbols)
    bad = [s for s in out if not isinstance(s, sp.Symbol)]
    if bad:
        raise ValueError(f"{what} must be SymPy Symbols, got {bad}")
    if len(set(out)) != len(out):
        raise ValueError(f"{what} contain duplicates: {[str(s) for s in out]}")
    return out


def lower(exprs, symbols: Sequence[sp.Symbol], params: Sequence[sp.Symbol] = ()) -> Lowered:
    """Lower SymPy expressions to a JAX function of the given symbols (and parameters).

    f(x[, theta])[..., i] = exprs[i] evaluated at symbols = x[..., :], params = theta[..., :].

    Args:
        exprs: a SymPy expression, a (nested, rectangular) sequence of them, or a Matrix.
        symbols: the variables, in the order of the last axis of the input.
        params: parameters, passed as a second argument (e.g. diffrax's `args`).

    Returns:
        a `Lowered` callable.

    Raises:
        ValueError: a free symbol that is neither a symbol nor a parameter; a head with no
            JAX implementation (the message lists the supported heads); nan, complex or
            non-expression input.

    Piecewise lowers to nested jnp.where: the gradient of an unselected branch that is not
    finite (e.g. sqrt of a negative number) still poisons grad, as with any jnp.where.
    """
    flat, shape = _flatten(exprs)
    symbols, params = _symbols(symbols, "symbols"), _symbols(params, "params")
    clash = set(symbols) & set(params)
    if clash:
        raise ValueError(f"symbols and params overlap: {sorted(map(str, clash))}")
    free = set().union(*(e.free_symbols for e in flat)) - set(symbols) - set(params)
    if free:
        raise ValueError(
            f"free symbols {sorted(map(str, free))} are neither symbols "
            f"{[str(s) for s in symbols]} nor params {[str(s) for s in params]}"
        )
    memo: dict = {}
    flat = [_canonical(e, memo) for e in flat]
    slots = {s: i for i, s in enumerate((*symbols, *params))}
    shared = []
    flat_cse = _hide_structural(flat, slots, shared)
    replacements, reduced = sp.cse(flat_cse, symbols=sp.numbered_symbols("_cse", cls=sp.Dummy))
    for sym, expr in replacements:
        shared.append(_compile(expr, slots))
        slots[sym] = len(slots)
    outputs = tuple(_compile(e, slots) for e in reduced)
    return Lowered(symbols, params, shape, tuple(flat), len(shared), tuple(shared), outputs)


def _canonical(expr: sp.Basic, memo: dict) -> sp.Basic:
    """Rebuild an expression bottom-up with evaluation on.

    Expressions assembled with evaluate=False (e.g. Mul(x, x) instead of x**2) are not in
    SymPy's canonical form, and sympy.cse then returns wrong results: for
    Mul(x, x, evaluate=False) + asin(((2x + 1)^-1)^(-1/2)) it replaces 2x + 1 by x**2 + 1
    (SymPy 1.14). Canonical input avoids it.
    """
    if expr in memo:
        return memo[expr]
    if not expr.args or isinstance(expr, sp.Atom):
        out = expr
    else:
        out = expr.func(*[_canonical(a, memo) if isinstance(a, sp.Basic) else a
                          for a in expr.args])
    memo[expr] = out
    return out


def _hide_structural(flat, slots, shared):
    """Replace every structurally registered node by a placeholder computed first."""
    heads = structural_heads()
    if not heads:
        return flat
    nodes = set()
    for e in flat:
        nodes |= {a for a in sp.preorder_traversal(e) if isinstance(a, heads)}
    reps = {}
    for orig in sorted(nodes, key=lambda a: sum(1 for _ in sp.preorder_traversal(a))):
        node = orig.xreplace(reps)  # inner nodes first, already replaced
        builder = structural_builder(type(node))
        shared.append(builder(node, lambda sub: _compile(sub, slots)))
        placeholder = sp.Dummy(f"_{type(node).__name__}")
        slots[placeholder] = len(slots)
        reps[orig] = placeholder
    return [e.xreplace(reps) for e in flat]


def _constant(c) -> _Fn:
    return lambda env: c


def _compile(expr: sp.Basic, slots: dict) -> _Fn:
    if expr in slots:
        i = slots[expr]
        return lambda env: env[i]
    if expr is sp.true or expr is sp.false:
        return _constant(bool(expr))
    if not expr.free_symbols and isinstance(expr, sp.Expr):
        try:
            c = complex(sp.N(expr, 30))
        except (TypeError, ValueError):
            c = None  # e.g. a registered head of numbers: compile it structurally
        if c is not None:
            if math.isnan(c.real) or math.isnan(c.imag):
                raise ValueError(f"cannot lower {expr}: it evaluates to nan")
            if c.imag != 0:
                raise ValueError(f"cannot lower {expr}: complex values are not supported")
            return _constant(c.real)
    if isinstance(expr, sp.Add):
        terms = [_compile(a, slots) for a in expr.args]
        return lambda env: reduce(operator.add, _small_first([f(env) for f in terms]))
    if isinstance(expr, sp.Mul):
        return _mul(expr, slots)
    if isinstance(expr, sp.Pow):
        return _pow(expr.base, expr.exp, slots)
    if isinstance(expr, sp.Piecewise):
        return _piecewise(expr, slots)
    impl = implementation(type(expr))
    if impl is None or isinstance(expr, sp.Symbol):
        head = type(expr).__name__
        raise ValueError(
            f"cannot lower {head} (in {expr}): no JAX implementation. Supported heads: "
            f"{', '.join(supported_heads())}. Add a row to "
            f"escalier.numerics.lower._table.JAX_FUNCTIONS or call "
            f"escalier.numerics.lower.register({head}, fn)"
        )
    args = [_compile(a, slots) for a in expr.args]
    return lambda env: impl(*[f(env) for f in args])


def _mul(expr: sp.Mul, slots) -> _Fn:
    num, den = [], []
    for a in expr.args:
        if isinstance(a, sp.Pow) and a.exp.is_Rational and a.exp.is_negative:
            den.append(_pow(a.base, -a.exp, slots))
        else:
            num.append(_compile(a, slots))
    if not num:
        num = [_constant(1.0)]

    def fn(env):
        top = reduce(operator.mul, _small_first([f(env) for f in num]))
        if not den:
            return top
        return top / reduce(operator.mul, _small_first([f(env) for f in den]))

    return fn


def _small_first(values):
    """Operands of a sum or product, smallest broadcast size first (stable; unchanged when
    all shapes agree), so that terms of fewer broadcast axes combine before the large ones."""
    shapes = {np.shape(v) for v in values}
    if len(shapes) <= 1:
        return values
    return sorted(values, key=lambda v: int(np.prod(np.shape(v))))


def _pow(base, exp, slots) -> _Fn:
    import jax.numpy as jnp
    from jax import lax

    b = _compile(base, slots)
    if exp.is_Integer:
        n = int(exp)
        return lambda env: lax.integer_pow(jnp.asarray(b(env)), n)
    if exp.is_Rational and exp.q == 2:
        n = int(exp.p)
        if n == 1:
            return lambda env: jnp.sqrt(b(env))
        return lambda env: lax.integer_pow(jnp.sqrt(b(env)), n)
    e = _compile(exp, slots)
    return lambda env: jnp.power(b(env), e(env))


def _piecewise(expr: sp.Piecewise, slots) -> _Fn:
    import jax.numpy as jnp

    pieces = [(_compile(e, slots), _compile(c, slots)) for e, c in expr.args]
    if expr.args[-1][1] is sp.true:
        last = pieces.pop()[0]
    else:
        last = _constant(math.nan)  # SymPy leaves the value undefined: nan, never a guess

    def fn(env):
        out = last(env)
        for value, cond in reversed(pieces):
            out = jnp.where(cond(env), value(env), out)
        return out

    return fn
