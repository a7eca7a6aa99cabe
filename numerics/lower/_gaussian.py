"""Lowering of the numeric Gaussian-expectation head of escalier.derive (when present).

    GaussianExpectation(Lambda((u1..um), F), C, n) = E[F(u)], u ~ N(0, C)
    ~= sum_i w_i F(V diag(sqrt(max(lambda, 0))) z_i)

with C = V diag(lambda) V^T and (z_i, w_i) the n^m tensor Gauss-Hermite rule of N(0, I_m):
the same rule as escalier.derive.gaussian.quadrature (eigen-factor, so that singular C is
usable). The gradient through eigh is not finite at repeated eigenvalues: integrate, do not
differentiate, these heads.
"""

from __future__ import annotations

__all__ = ["register_gaussian_expectation"]


def _build(expr, compile_):
    import jax.numpy as jnp

    from escalier.derive.gaussian import hermite_rule

    from ._lower import lower

    lam, cov, n = expr.args
    us = tuple(lam.variables)
    m = len(us)
    outer = sorted(lam.expr.free_symbols - set(us), key=str)
    inner = lower(lam.expr, us, params=outer)
    cov_fns = [[compile_(c) for c in row] for row in cov.tolist()]
    outer_fns = [compile_(s) for s in outer]
    nodes, weights = hermite_rule(int(n), m)
    nodes, weights = jnp.asarray(nodes), jnp.asarray(weights)

    def fn(env):
        entries = jnp.broadcast_arrays(*[jnp.asarray(f(env)) for row in cov_fns for f in row])
        C = jnp.stack(entries, axis=-1).reshape(*entries[0].shape, m, m)
        evals, evecs = jnp.linalg.eigh((C + jnp.swapaxes(C, -1, -2)) / 2)
        L = evecs * jnp.sqrt(jnp.clip(evals, 0.0))[..., None, :]
        u = jnp.einsum("nk,...jk->...nj", nodes, L)  # (..., N, m)
        if outer:
            theta = jnp.stack(jnp.broadcast_arrays(*[jnp.asarray(f(env)) for f in outer_fns]),
                              axis=-1)[..., None, :]
            vals = inner(u, theta)
        else:
            vals = inner(u)
        return vals @ weights

    return fn


def register_gaussian_expectation() -> None:
    """Register the GaussianExpectation head (a numeric Gauss-Hermite expectation)."""
    from escalier.derive.gaussian import GaussianExpectation

    from ._registry import register

    register(GaussianExpectation, _build, structural=True)


