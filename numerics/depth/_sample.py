"""Samplers of the SIGHT / MIGHT targets of escalier.derive.targets (arXiv 2502.13961):
a teacher (W*, a*) and data (x, y) in JAX."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from escalier.derive.targets import Hierarchical
from escalier.numerics.lower import lower

__all__ = ["Teacher", "draw_teacher", "features", "sample"]


@dataclass(frozen=True)
class Teacher:
    """W: (k, D, d) with all k D rows orthonormal; a: (k, D) signs; target: the symbolic
    target it realises."""

    target: Hierarchical
    W: jax.Array
    a: jax.Array

    @property
    def d(self) -> int:
        return int(self.W.shape[-1])

    @property
    def D(self) -> int:
        return int(self.W.shape[1])


def draw_teacher(target: Hierarchical, d: int, key, dtype=jnp.float32) -> Teacher:
    """W* from the QR factor of a d x (k D) Gaussian matrix (Haar-distributed orthonormal
    rows), a* uniform in {+-1}^(k D)."""
    k, D = target.branches, target.width(d)
    if k * D > d:
        raise ValueError(f"k D = {k * D} orthonormal rows do not fit in d = {d}; raise d")
    kw, ka = jax.random.split(key)
    q, r = jnp.linalg.qr(jax.random.normal(kw, (d, k * D), dtype=jnp.float64
                                           if dtype == jnp.float64 else jnp.float32))
    q = q * jnp.sign(jnp.diag(r))[None, :]  # Haar: fix the signs of the QR factor
    W = q.T.reshape(k, D, d).astype(dtype)
    a = jnp.where(jax.random.bernoulli(ka, 0.5, (k, D)), 1.0, -1.0).astype(dtype)
    return Teacher(target, W, a)


@functools.lru_cache(maxsize=32)
def _functions(target: Hierarchical):
    P = lower(target.P.expr, [target.P.variables[0]])
    g = lower(target.g.expr, list(target.g.variables))
    return P, g


def features(teacher: Teacher, x: jax.Array) -> jax.Array:
    """h*(x): (n, k), h*_b = D^(-1/2) sum_i a*_{b,i} P(w*_{b,i} . x)."""
    P, _ = _functions(teacher.target)
    z = jnp.einsum("kid,nd->nki", teacher.W, x)
    return jnp.einsum("nki,ki->nk", P(z[..., None]), teacher.a) / jnp.sqrt(teacher.D)


def sample(teacher: Teacher, n: int, key, dtype=None) -> tuple[jax.Array, jax.Array, jax.Array]:
    """(x, h, y): x ~ N(0, I_d) (n, d), h = h*(x) (n, k), y = g*(h) (n,)."""
    dtype = teacher.W.dtype if dtype is None else dtype
    x = jax.random.normal(key, (n, teacher.d), dtype=dtype)
    h = features(teacher, x)
    _, g = _functions(teacher.target)
    y = g(h)
    return x, h, y
