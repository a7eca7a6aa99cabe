"""Multi-pass full-batch GD in the full engine: one fixed training set per seed.

Seed i's key splits as in the online full engine into its initial-condition key (the same
initial weights and teacher) and a data key; the training set X (n x d, plus the label-noise
column when noise > 0) is jax.random.normal(data key, (n, d [+ 1])), drawn once. Every step
is `_full.step_function` with batch n applied to that same X (engines/_reuse.MultiPass).
Memory: S n d numbers; refused beyond MULTIPASS_MEMORY_BYTES.
"""

from __future__ import annotations

import functools
from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np

from ._blocks import block_size, progress_bar, record_blocks
from ._full import step_function
from ._init import initial_state, overlaps

__all__ = ["MULTIPASS_MEMORY_BYTES", "run"]

MULTIPASS_MEMORY_BYTES = 4 << 30
"""Largest training-set memory (all seeds, S n (d + 1) numbers of 8 bytes) a multi-pass run
may hold; beyond it the full engine refuses with the numbers."""


@functools.lru_cache(maxsize=16)
def _program(scenario, d: int, n: int, record_every: int, n_rec: int, dtype_name: str):
    dtype = jnp.dtype(dtype_name)
    sc = replace(scenario, batch=n)
    step = step_function(sc, d, dtype)
    width = d + (1 if scenario.noise > 0 else 0)

    def start(key):
        init_key, data_key = jax.random.split(key)
        V, a = initial_state(scenario, d, init_key, dtype)
        X = jax.random.normal(data_key, (n, width), dtype)
        Q, M = overlaps(V, scenario.p)
        return V, a, X, Q, M

    def block(V, a, X):
        def record(carry, _):
            carry = jax.lax.fori_loop(0, record_every, lambda _, c: step(c, X)[0], carry)
            Q, M = overlaps(carry[0], scenario.p)
            return carry, (Q, M, carry[1])

        return jax.lax.scan(record, (V, a), None, length=n_rec)

    return jax.jit(jax.vmap(start)), jax.jit(jax.vmap(block))


def run(scenario, d: int, n_steps: int, keys, record_every: int, dtype: str, *, alpha: float,
        progress: bool = False) -> dict[str, np.ndarray]:
    """Multi-pass GD records Q (S, T, p, p), M (S, T, p, k), a (S, T, p) (the engine
    interface of `_api`); n = round(alpha d) samples per seed.

    Raises:
        ValueError: the training sets of all seeds exceed MULTIPASS_MEMORY_BYTES.
    """
    n = max(1, round(float(alpha) * d))
    S = int(keys.shape[0])
    need = S * n * (d + 1) * 8
    if need > MULTIPASS_MEMORY_BYTES:
        raise ValueError(
            f"multi-pass GD keeps the training sets in memory: {S} seeds x n = {n} x d = {d} "
            f"numbers = {need / 2**30:.1f} GiB > {MULTIPASS_MEMORY_BYTES / 2**30:.0f} GiB; use "
            f"fewer seeds, a smaller alpha or a smaller d")
    n_rec = n_steps // record_every
    per_block = block_size(n_rec)
    start, block = _program(scenario, d, n, record_every, per_block, jnp.dtype(dtype).name)
    V, a, X, Q0, M0 = start(keys)

    def next_block(done):
        nonlocal V, a
        (V, a), recs = block(V, a, X)
        return recs

    return record_blocks(next_block, (Q0, M0, a), n_rec, per_block, record_every,
                         progress_bar(progress, n_steps, "full, multi-pass", scenario, d))
