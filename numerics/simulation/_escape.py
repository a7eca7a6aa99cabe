"""The exact gram chain of one spherical neuron, run until it escapes towards the teacher.

`gram_escape_steps` counts, per seed, the first SGD step at which the norm of the student's
projection on the teacher subspace, |M_1.|_P = sqrt(M_1. P^+ M_1.^T) (`_subspace`; |m| for
a single-index teacher), reaches the threshold, on the exact Gram engine (engine="gram":
cost per step independent of d), in chunks of a lax.scan vmapped over seeds, driven by a
host loop until enough seeds have escaped. The learning-rate rule, the fit and the
prediction live in escalier.numerics.verify (`escape_scaling`, the function behind
`escalier scaling`).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ._gram import GramChain
from ._subspace import subspace_metric, teacher_projection

__all__ = ["gram_escape_steps"]


@functools.lru_cache(maxsize=32)
def _programs(scenario, d: int, dtype_name: str, reuse: int, threshold: float, chunk: int,
              variant: tuple = ()):
    """(chain, init, advance, measure): the chain, its jitted, seed-vmapped start and chunk
    of steps, and the escape measure of a state, compiled once per setting (a sweep or a
    scaling run calls this at every point)."""
    chain = GramChain(scenario, d, jnp.dtype(dtype_name), reuse, variant=variant)
    LP = jnp.asarray(chain.teacher_root, chain.dtype)
    metric = jnp.asarray(subspace_metric(scenario.P), chain.dtype)

    def measure(A):  # A (p, k) frame coordinates -> |M_1.|_P of the first student row
        return teacher_projection((A @ LP.T)[0], metric)

    def one_chunk(carry):
        state, hit, done = carry

        def step(c, r):
            state, hit, j = c
            abc = chain.unit(state[:3], r)
            hit = jnp.where((hit < 0) & (measure(abc[0]) >= threshold), (done + j + 1) * reuse,
                            hit)
            return ((*abc, state[3]), hit, j + 1), None

        rng, draws = chain.draw(state[3], chunk)
        (state, hit, _), _ = jax.lax.scan(step, ((*state[:3], rng), hit, 0), draws)
        return state, hit, done + chunk

    init = jax.jit(jax.vmap(chain.init))
    advance = jax.jit(jax.vmap(one_chunk, in_axes=((0, 0, None),), out_axes=(0, 0, None)))
    return chain, init, advance, jax.jit(jax.vmap(measure))


def _run_until_escape(chain, init, advance, measure, keys, threshold, limit,
                      need) -> np.ndarray:
    """First step with |M_1.|_P >= threshold per seed (nan if none when the loop stops).

    The loop stops at `limit` steps or once `need` seeds escaped.
    """
    reuse = chain.reuse  # a unit is `reuse` SGD steps on one sample batch
    state = init(jnp.asarray(keys))
    hit = jnp.full((keys.shape[0],), -1, jnp.int64 if jax.config.jax_enable_x64 else jnp.int32)
    done = 0
    hit = jnp.where(measure(state[0]) >= threshold, 0, hit)
    while done * reuse < limit:
        before = done * reuse
        state, hit, done = advance((state, hit, done))
        done = int(done)
        finite = np.all(np.isfinite(np.asarray(state[0]).reshape(keys.shape[0], -1)), axis=1)
        if not finite.all():
            raise ValueError(
                f"the gram chain diverged (non-finite overlaps) in seed(s) "
                f"{np.flatnonzero(~finite).tolist()} between step {before} and step "
                f"{done * reuse}; "
                f"lower the learning rate (lr = {float(chain.scenario.lr):g}, set by --lr)")
        if int(np.sum(np.asarray(hit) >= 0)) >= need:
            break
    out = np.asarray(hit, dtype=float)
    out[out < 0] = np.nan
    return out


def gram_escape_steps(scenario, d: int, keys, threshold: float, limit: int,
                      chunk: int = 1 << 14, dtype=jnp.float64, need: int | None = None,
                      reuse: int = 1, variant: tuple = ()):
    """Escape steps of one spherical neuron at one d on the exact gram chain.

    Escape: |M_1.|_P = sqrt(M_1. P^+ M_1.^T) >= threshold, the norm of the neuron's
    projection on the teacher subspace over sqrt(d) (|m| when k = 1).

    Args:
        scenario: Scenario with p = 1, spherical = True, any k (its lr is used as is).
        d: dimension.
        keys: one JAX PRNG key per seed.
        threshold: escape level of |M_1.|_P.
        limit: the most steps run.
        chunk: steps per jitted call of the host loop.
        dtype: float64 (float32 loses the O(lr / d) increments at large d).
        need: stop once this many seeds escaped (default: more than half).
        reuse: consecutive steps on each sample batch (StepsPerBatch(k); 1: online SGD);
            the overlap is checked after each batch's k steps, so steps are multiples of k.
        variant: displaced steps, () or ("extragradient", probe) (GramChain; one step per
            sample, spherical).

    Returns:
        (steps, m0): the first step with |M_1.|_P >= threshold per seed (nan if none when
        the loop stopped) and each seed's initial overlaps: M_11, shape (S,), when k = 1
        (signed, as single-index callers use it), else the row M_1., shape (S, k).
    """

    if scenario.p != 1 or not scenario.spherical:
        raise ValueError(
            "escape times follow one spherical neuron (docs/theory.md §4.6): need p = 1 and "
            f"spherical = True; got p = {scenario.p}, spherical = {scenario.spherical}"
        )
    chain, init, advance, measure = _programs(scenario, int(d), jnp.dtype(dtype).name,
                                              int(reuse), float(threshold), int(chunk),
                                              tuple(variant))
    keys = jnp.asarray(keys)
    if jnp.issubdtype(keys.dtype, jax.dtypes.prng_key):
        keys = jax.random.key_data(keys)
    A0 = np.asarray(init(keys)[0])  # (S, p, k)
    M0 = A0[:, 0, :] @ np.asarray(chain.teacher_root).T
    if need is None:
        need = keys.shape[0] // 2 + 1
    steps = _run_until_escape(chain, init, advance, measure, keys, threshold, limit, need)
    return steps, (M0[:, 0] if scenario.k == 1 else M0)
