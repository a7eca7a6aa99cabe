"""Giant full-batch GD steps on the real d-dimensional network (docs/giant.md).

From the random start (`_init.initial_state`, the full engine's law), each step draws n
fresh samples x ~ N(0, I_d) and takes one gradient step of the Scenario's update with the
n samples averaged (first layer at learning rate lr, the second layer moving by
lr_a / (n d) when the Scenario trains it, spherical projection when asked):

    W' = W + (lr / n) C^T X / sqrt(d),   C_mu j = a_j Delta_e^mu sigma'(lambda_j^mu).

The sums C^T X (p x d) and sigma(lambda)^T Delta_e are accumulated over blocks of samples
(memory O(block d) per seed, time O(n d (p + k))). The data are plain jax.random normals,
keyed by (seed, step, block); the gram engine's `_gram_giant` runs the same steps exactly in
law at a cost independent of d.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from escalier.numerics.lower import student_functions, teacher_function

from ._blocks import progress_bar
from ._init import initial_state, overlaps

__all__ = ["BLOCK_ELEMENTS", "giant_step_weights", "run"]

BLOCK_ELEMENTS = 1 << 21
"""Most normals drawn at once per seed (a block of samples: block x (d + 1))."""


def step_function(scenario, d: int, n: int, dtype, normalize_rows: bool = False):
    """(V, a, key, lr) -> (V', a', X^T y / n): one giant step on n fresh samples for one
    seed at learning rate lr (a traced scalar: no recompilation per lr); V = [W; W*]."""
    f = teacher_function(scenario)
    sigma, dsigma = student_functions(scenario)
    p, k = scenario.p, scenario.k
    width = d + (1 if scenario.noise > 0 else 0)
    size = max(1, min(n, BLOCK_ELEMENTS // width))
    n_blocks = -(-n // size)
    inv_sqrt_d = 1.0 / math.sqrt(d)
    noise_std = math.sqrt(scenario.noise)
    square = scenario.loss == "square"

    def step(V, a, key, lr):
        """(V', a', X^T y / n) of one giant step (y: the labels, noise included)."""

        def body(i, carry):
            g_sum, a_sum, v_sum = carry
            X = jax.random.normal(jax.random.fold_in(key, i), (size, width), dtype)
            x = X[:, :d]
            U = (x @ V.T) * inv_sqrt_d
            lam, nu = U[:, :p], U[:, p:]
            y = jnp.broadcast_to(jnp.asarray(f(jnp.stack([nu[:, r] for r in range(k)], -1)),
                                             dtype), (size,))
            if scenario.noise > 0:
                y = y + noise_std * X[:, d]
            s = sigma(lam)
            delta = y - s @ a if square else y
            mask = (i * size + jnp.arange(size) < n).astype(dtype)
            delta = delta * mask
            C = (delta[:, None] * dsigma(lam)) * a
            return g_sum + C.T @ x, a_sum + s.T @ delta, v_sum + (y * mask) @ x

        zeros = (jnp.zeros((p, d), dtype), jnp.zeros((p,), dtype), jnp.zeros((d,), dtype))
        g_sum, a_sum, v_sum = jax.lax.fori_loop(0, n_blocks, body, zeros)
        W = V[:p] + (lr / n) * g_sum * inv_sqrt_d
        if scenario.spherical or normalize_rows:
            W = W * (math.sqrt(d) / jnp.linalg.norm(W, axis=1, keepdims=True))
        if scenario.train_second_layer:
            a = a + scenario.lr_a / (n * d) * a_sum
        return V.at[:p].set(W), a, v_sum / n

    return step


@functools.lru_cache(maxsize=16)
def _program(scenario, d, dtype_name, n, record_every, n_rec, weights, normalize_rows=False):
    """Jitted, seed-vmapped: (keys, lr) -> records (and weights); cached across calls."""
    dtype = jnp.dtype(dtype_name)
    step = step_function(scenario, d, n, dtype, normalize_rows)
    p = scenario.p

    def one(key, lr):
        init_key, data_key = jax.random.split(key)
        V, a = initial_state(scenario, d, init_key, dtype)
        V0 = V

        def record(carry, r):
            def inner(i, c):
                return step(c[0], c[1], jax.random.fold_in(data_key, r * record_every + i), lr)

            carry = jax.lax.fori_loop(0, record_every, inner, carry)
            Q, M = overlaps(carry[0], p)
            return carry, (Q, M, carry[1])

        v0 = jnp.zeros((d,), dtype)
        (V, a, v), recs = jax.lax.scan(record, (V, a, v0), jnp.arange(n_rec))
        Q0, M0 = overlaps(V0, p)
        first = (Q0, M0, jnp.asarray(scenario.a, dtype))
        out = tuple(jnp.concatenate([x0[None], xs]) for x0, xs in zip(first, recs, strict=True))
        extra = (V[:p], V[p:], V0[:p], v) if weights else ()
        return out + extra

    return jax.jit(jax.vmap(one, in_axes=(0, None)))


def run(scenario, d: int, n_steps: int, keys, record_every: int, dtype, *, n: int, lr: float,
        progress: bool = False, weights: bool = False,
        normalize_rows: bool = False) -> dict[str, np.ndarray]:
    """`n_steps` giant steps of n fresh samples each (the engine interface of _api: Q, M, a at
    steps 0, record_every, ..., n_steps). weights=True also returns the final W (S, p, d),
    W* (S, k, d), the initial W0 (S, p, d) and v = X^T y / n (S, d) of the last step."""
    if scenario.tangent:
        raise ValueError("giant steps take the plain step then renormalise (spherical); "
                         "tangent-projected giant steps are not implemented: use tangent=False")
    if isinstance(n, bool) or not (isinstance(n, int | np.integer) and n >= 1):
        raise ValueError(f"n (samples per giant step) must be a positive integer, got {n!r}")
    if not math.isfinite(lr):
        raise ValueError(f"lr must be finite, got {lr}")
    program = _program(scenario, int(d), jnp.dtype(dtype).name, int(n), int(record_every),
                       n_steps // record_every, bool(weights), bool(normalize_rows))
    bar = progress_bar(progress, n_steps, "full", scenario, int(d))
    res = [np.asarray(x) for x in program(keys, jnp.asarray(float(lr), jnp.dtype(dtype)))]
    if bar is not None:
        bar.update(n_steps)
        bar.close()
    out = {"Q": res[0], "M": res[1], "a": res[2]}
    if weights:
        out.update(W=res[3], Wstar=res[4], W0=res[5], v=res[6])
    return out


def giant_step_weights(scenario, d: int, n: int, lr: float, seeds: int = 1, seed: int = 0,
                       dtype: str = "float64") -> dict[str, np.ndarray]:
    """One giant step in d dimensions, returning the weights themselves (for spectra):
    W0, W (S, p, d) before and after, W* (S, k, d), a (S, p) and v = X^T y / n (S, d).
    Seed i uses jax.random.split(jax.random.key(seed), seeds)[i], as `simulate`."""
    keys = jax.random.split(jax.random.key(seed), seeds)
    out = run(scenario, int(d), 1, keys, 1, dtype, n=n, lr=lr, weights=True)
    return {"W0": out["W0"], "W": out["W"], "Wstar": out["Wstar"], "a": out["a"][:, -1],
            "v": out["v"]}
