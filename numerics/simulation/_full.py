"""The full engine: online SGD on the real two-layer network in d dimensions.

One step (derive/_scenario.py, docs/theory.md §1.2 and §6.1), for a fresh batch X (n_b x d):

    U = X [W; W*]^T / sqrt(d)          (one matmul: lambda = U[:, :p], nu = U[:, p:])
    y = f(nu) + sqrt(noise) xi,  yhat = sigma(lambda) a
    Delta_e = y - yhat (square loss), y (correlation) or y exp(-y yhat) (exponential)
    W <- W + (lr / (n_b sqrt(d))) (a * Delta_e * sigma'(lambda))^T X
    a <- a + (lr_a / (n_b d)) sigma(lambda)^T Delta_e                (train_second_layer)
    spherical: w_j <- sqrt(d) w_j / ||w_j|| (each row); tangent: the step of w_j first loses
    its component along w_j, Delta w_j <- Delta w_j - (Delta w_j . w_j / d) w_j

The data: seed i's data key is hashed into a SplitMix64 stream state (`_normals.philox_state`),
and step s takes the n_pad normals of words [s n_pad, (s + 1) n_pad) of that stream
(n_pad = n_b (d + 1 if noise) rounded up to even; Box-Muller with vectorised polynomial
log and sine, exact to float64 rounding, `_normals`), drawn in float64 and rounded to the
run's dtype. Without x64 (no uint64) step s draws jax.random.normal(fold_in(data_key_i, s)).
Either way the stream does not depend on how the run is cut into records, chunks or blocks.
Steps are run as nested lax.scans (records > chunks > steps), vmapped over seeds; the
normals of a chunk of steps are drawn in one call so the RNG works on long vectors, and
only a chunk (at most CHUNK_ELEMENTS numbers per seed) is ever in memory. The host sees the state only
between blocks of records (progress bar, early stop on divergence).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np

from escalier.derive import Scenario
from escalier.numerics.lower import residual_function, student_functions, teacher_function

from ._blocks import DIVERGENCE_BOUND, block_size, progress_bar, record_blocks
from ._init import initial_state, overlaps
from ._normals import normals, philox_state
from ._variant import check_variant

__all__ = ["CHUNK_ELEMENTS", "DIVERGENCE_BOUND", "run", "step_function"]

CHUNK_ELEMENTS = 1 << 16
"""Most random numbers drawn at once per seed (a chunk of steps' data)."""



def _networks(scenario: Scenario) -> tuple[Callable, Callable, Callable]:
    sigma, dsigma = student_functions(scenario)
    teacher = teacher_function(scenario)
    return (lambda *nu: teacher(jnp.stack(nu, axis=-1))), sigma, dsigma


def step_function(scenario: Scenario, d: int, dtype) -> Callable:
    """One SGD step (V, a), X[, scale] -> (V, a) for one seed; X is (n_b, d) or (n_b, d + 1)
    with the label noise in the last column when scenario.noise > 0; `scale` multiplies both
    learning rates (a learning-rate schedule's factor at this step; default 1)."""
    f, sigma, dsigma = _networks(scenario)
    p, k, B = scenario.p, scenario.k, scenario.batch
    inv_sqrt_d = 1.0 / math.sqrt(d)
    lr_w = scenario.lr / (B * math.sqrt(d))
    lr_a = scenario.lr_a / (B * d)
    noise_std = math.sqrt(scenario.noise)
    residual = residual_function(scenario)
    sqrt_d = math.sqrt(d)

    def step(carry, X, scale=1.0):
        V, a = carry
        x = X[:, :d] if scenario.noise > 0 else X
        U = (x @ V.T) * inv_sqrt_d
        lam, nu = U[:, :p], U[:, p:]
        y = f(*[nu[:, r] for r in range(k)])
        y = jnp.broadcast_to(jnp.asarray(y, X.dtype), (B,))
        if scenario.noise > 0:
            y = y + noise_std * X[:, d]
        s = sigma(lam)
        delta = residual(y, s @ a)
        g = (delta[:, None] * dsigma(lam)) * a  # (n_b, p)
        step_w = (scale * lr_w) * (g.T @ x)
        if scenario.tangent:  # the step's component along w_j removed (||w_j||^2 = d)
            step_w = step_w - (jnp.sum(step_w * V[:p], axis=1, keepdims=True) / d) * V[:p]
        W = V[:p] + step_w
        if scenario.spherical:
            W = W * (sqrt_d / jnp.linalg.norm(W, axis=1, keepdims=True))
        V = V.at[:p].set(W)
        if scenario.train_second_layer:
            a = a + (scale * lr_a) * (s.T @ delta)
        return (V, a), None

    return step


def _chunk_length(record_every: int, per_step: int) -> int:
    """Largest divisor of record_every whose chunk holds at most CHUNK_ELEMENTS numbers."""
    best = 1
    for c in range(1, record_every + 1):
        if c * per_step > CHUNK_ELEMENTS:
            break
        if record_every % c == 0:
            best = c
    return best


@functools.lru_cache(maxsize=32)
def _start(scenario: Scenario, d: int, dtype_name: str):
    """Jitted: keys (S,) -> (V, a, data, Q0, M0); seed i's key splits into its
    initial-condition key and its data key; data is the key's SplitMix64 stream state
    (philox_state) under x64, else the key itself."""
    dtype = jnp.dtype(dtype_name)

    def one_seed(key):
        init_key, data_key = jax.random.split(key)
        V, a = initial_state(scenario, d, init_key, dtype)
        Q, M = overlaps(V, scenario.p)
        data = philox_state(data_key) if jax.config.jax_enable_x64 else data_key
        return V, a, data, Q, M

    return jax.jit(jax.vmap(one_seed))


@functools.lru_cache(maxsize=32)
def _block(
    scenario: Scenario,
    d: int,
    record_every: int,
    n_rec: int,
    dtype_name: str,
    draw_only: bool = False,
    reuse: int = 1,
    schedule=None,
    variant: tuple = (),
    adaptive=None,
):
    """Jitted: (V, a, flag, data, first_step) -> ((V, a, flag), (Q, M, a) at n_rec
    records), all vmapped over seeds; flag: an AdaptiveLoss run's switch (adaptive: the
    protocol; each step is the correlation or the square-loss step, chosen by the flag,
    which turns True after the first step with adaptive.switched(M)); unused otherwise.
    draw_only: the same data drawn the same way, but a step only takes
    the dot product of its batch with the first student row (the least work that keeps
    every number drawn): the random-number floor of the benchmark. reuse: SGD steps taken
    on each drawn batch (one *unit*; record_every counts units, first_step counts units).
    schedule: a learning-rate Schedule (None: constant); step i uses its factor at i / d."""
    dtype = jnp.dtype(dtype_name)
    p, B = scenario.p, scenario.batch
    width = d + (1 if scenario.noise > 0 else 0)
    chunk = _chunk_length(record_every, B * width)
    n_chunks = record_every // chunk
    step = step_function(scenario, d, dtype)
    if draw_only:

        def step(carry, X, scale=1.0):
            V, a = carry
            X = jax.lax.optimization_barrier(X)  # drawn as in the simulation, not fused
            return (V.at[0, 0].add(jnp.sum(X[:, :d] @ V[0])), a), None

    if variant:
        # displaced gradient: extragradient or SAM (engines/_reuse.py); the raw steps are
        # those of the unprojected scenario, the sphere (spherical extragradient) after
        base_step = step_function(replace(scenario, spherical=False), d, dtype)
        sqrt_d = math.sqrt(d)

        def step(carry, X, scale=1.0):
            V, a = carry
            (V1, a1), _ = base_step(carry, X, scale)  # V1 - V = lr s g(V)
            if variant[0] == "sam":
                dW = V1[: scenario.p] - V[: scenario.p]
                radius = variant[1] * sqrt_d / jnp.maximum(jnp.linalg.norm(dW), 1e-300)
                Vd, ad = V.at[: scenario.p].add(-radius * dW), a  # ascent: against g
            else:  # look-ahead at probe x the step
                Vd, ad = V + variant[1] * (V1 - V), a + variant[1] * (a1 - a)
            (V2, a2), _ = base_step((Vd, ad), X, scale)
            V = V + (V2 - Vd)
            if scenario.spherical:
                W = V[: scenario.p]
                V = V.at[: scenario.p].set(W * (sqrt_d / jnp.linalg.norm(W, axis=1,
                                                                         keepdims=True)))
            return (V, a + (a2 - ad)), None

    if adaptive is not None:
        before, after = (step_function(sc, d, dtype) for sc in adaptive.phases(scenario))

        def step(carry, X, scale=1.0):
            V, a, flag = carry
            new = jax.tree.map(lambda x, y: jnp.where(flag, x, y),
                               after((V, a), X, scale)[0], before((V, a), X, scale)[0])
            return (*new, flag | adaptive.switched(overlaps(new[0], p)[1])), None
    else:
        plain = step

        def step(carry, X, scale=1.0):
            return (*plain(carry[:2], X, scale)[0], carry[2]), None

    def unit(carry, xs):
        """The `reuse` steps of unit u on its batch X (steps u reuse + i, i < reuse)."""
        X, u = xs

        def one(i, c):
            if schedule is None:
                return step(c, X)[0]
            return step(c, X, schedule.factor((u * reuse + i) / d).astype(dtype))[0]

        if reuse == 1:
            return one(0, carry), None
        return jax.lax.fori_loop(0, reuse, one, carry), None

    offsets = jnp.arange(chunk)
    n_pad = _per_step_words(B, width)

    def draw(data, c):
        """The data of steps c chunk + [0, chunk): (chunk, B, width)."""
        if jax.config.jax_enable_x64:  # step s: words [s n_pad, (s + 1) n_pad) of the stream
            z = normals(data, c * chunk * n_pad, (chunk, n_pad), dtype)
            return z[:, : B * width].reshape(chunk, B, width)
        keys = jax.vmap(jax.random.fold_in, (None, 0))(data, c * chunk + offsets)
        return jax.vmap(lambda k: jax.random.normal(k, (B, width), dtype))(keys)

    def one_seed(V, a, flag, key, first):
        def chunk_body(carry, c):
            X = draw(key, c)
            carry, _ = jax.lax.scan(unit, carry, (X, c * chunk + offsets))
            return carry, None

        def record_body(carry, r):
            base = first + r * record_every
            carry, _ = jax.lax.scan(chunk_body, carry, base // chunk + jnp.arange(n_chunks))
            V, a = carry[:2]
            Q, M = overlaps(V, p)
            return carry, (Q, M, a)

        return jax.lax.scan(record_body, (V, a, flag), jnp.arange(n_rec))

    return jax.jit(jax.vmap(one_seed, (0, 0, 0, 0, None)))


def _per_step_words(batch: int, width: int) -> int:
    """SplitMix64 words (= normals) per step: batch * width rounded up to even."""
    return batch * width + (batch * width) % 2




def run(
    scenario: Scenario,
    d: int,
    n_steps: int,
    keys: jax.Array,
    record_every: int,
    dtype: str,
    *,
    reuse: int = 1,
    schedule=None,
    variant: tuple = (),
    adaptive=None,
    progress: bool = False,
) -> dict[str, np.ndarray]:
    """Run the full engine (the engine interface of `_api`, plus a progress bar).

    reuse: consecutive SGD steps on each fresh batch (StepsPerBatch(k); 1: online SGD).
    Unit u (= steps u reuse .. (u + 1) reuse - 1) takes the batch the online run would take
    at step u, so n_steps and record_every must be multiples of reuse.
    schedule: a learning-rate Schedule (None or constant: the Scenario's rates throughout).
    adaptive: an AdaptiveLoss protocol (correlation, then square loss; the Scenario's loss
    is ignored), or None.

    Records after a divergence (non-finite or beyond DIVERGENCE_BOUND, checked between
    blocks) are NaN and the run stops there; the API edge turns that into a ValueError.

    Returns:
        dict with Q (S, T, p, p), M (S, T, p, k), a (S, T, p), T = n_steps / record_every + 1.
    """
    if jax.config.jax_enable_x64:
        words = n_steps * _per_step_words(scenario.batch, d + (1 if scenario.noise > 0 else 0))
        if words >= 2**64:
            raise ValueError(
                f"the full engine draws fewer than 2^64 numbers per run (the period of its "
                f"SplitMix64 stream), got {n_steps} steps; use the gram engine"
            )
    elif n_steps >= 2**32:
        raise ValueError(
            f"the full engine takes fewer than 2^32 steps per run without x64 (data keys are "
            f"fold_in(key, step) with a 32-bit step), got {n_steps}; use the gram engine or a "
            f"shorter time"
        )
    if record_every % reuse or n_steps % reuse:
        raise ValueError(f"n_steps = {n_steps} and record_every = {record_every} must be "
                         f"multiples of the steps per batch ({reuse})")
    dtype = jnp.dtype(dtype)
    n_rec = n_steps // record_every
    V, a, data_keys, Q0, M0 = _start(scenario, d, dtype.name)(keys)
    per_block = block_size(n_rec)
    if schedule is not None and schedule.constant:
        schedule = None
    variant = check_variant(variant, scenario)
    if adaptive is not None and (variant or reuse != 1):
        raise ValueError("the adaptive loss protocol is online SGD (one step per batch)")
    fn = _block(scenario, d, record_every // reuse, per_block, dtype.name, reuse=reuse,
                schedule=schedule, variant=tuple(variant), adaptive=adaptive)
    flag = (adaptive.switched(M0) if adaptive is not None
            else jnp.zeros(M0.shape[0], dtype=bool))

    def next_block(done):
        nonlocal V, a, flag
        (V, a, flag), recs = fn(V, a, flag, data_keys, done * (record_every // reuse))
        return recs

    return record_blocks(next_block, (Q0, M0, a), n_rec, per_block, record_every,
                         progress_bar(progress, n_steps, "full", scenario, d))








def rng_floor(
    scenario: Scenario, d: int, n_steps: int, record_every: int, seeds: int, dtype: str
) -> Callable[[], None]:
    """A compiled, warmed-up function that draws exactly the data of a full-engine run
    (same keys, chunks, nested scans and vmap over seeds) and only consumes it with one
    matrix-vector product per step (`_block(..., draw_only=True)`): the time
    floor of any full simulation with this generator (benchmarks/simulate.py)."""
    n_rec = n_steps // record_every
    fn = _block(scenario, d, record_every, n_rec, jnp.dtype(dtype).name, draw_only=True)
    keys = jax.random.split(jax.random.key(0), seeds)
    V, a, data_keys, _, _ = _start(scenario, d, jnp.dtype(dtype).name)(keys)
    flag = jnp.zeros(seeds, dtype=bool)
    jax.block_until_ready(fn(V, a, flag, data_keys, 0))
    return lambda: jax.block_until_ready(fn(V, a, flag, data_keys, 0))
