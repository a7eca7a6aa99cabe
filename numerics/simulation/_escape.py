"""The exact gram chain of spherical single-index online SGD, run until the overlap escapes.

`gram_escape_steps` counts, per seed, the first SGD step with |m| >= threshold, on the exact
Gram engine (engine="gram": cost per step independent of d), in chunks of a lax.scan
vmapped over seeds, driven by a host loop until enough seeds have escaped. The learning-rate
rule, the fit and the prediction live in escalier.numerics.verify (`escape_scaling`, the
function behind `escalier scaling`).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ._gram import GramChain

__all__ = ["gram_escape_steps"]


@functools.lru_cache(maxsize=32)
def _programs(scenario, d: int, dtype_name: str, reuse: int, threshold: float, chunk: int):
    """(chain, init, advance): the chain and its jitted, seed-vmapped start and chunk of
    steps, compiled once per setting (a sweep or a scaling run calls this at every point)."""
    chain = GramChain(scenario, d, jnp.dtype(dtype_name), reuse)
    LP = float(chain.teacher_root[0, 0])

    def one_chunk(carry):
        state, hit, done = carry

        def step(c, r):
            state, hit, j = c
            abc = chain.unit(state[:3], r)
            m = abc[0][0, 0] * LP
            hit = jnp.where((hit < 0) & (jnp.abs(m) >= threshold), (done + j + 1) * reuse, hit)
            return ((*abc, state[3]), hit, j + 1), None

        rng, draws = chain.draw(state[3], chunk)
        (state, hit, _), _ = jax.lax.scan(step, ((*state[:3], rng), hit, 0), draws)
        return state, hit, done + chunk

    init = jax.jit(jax.vmap(chain.init))
    advance = jax.jit(jax.vmap(one_chunk, in_axes=((0, 0, None),), out_axes=(0, 0, None)))
    return chain, init, advance


def _run_until_escape(chain, init, advance, keys, threshold, limit, need) -> np.ndarray:
    """First step with |m| >= threshold per seed (nan if none when the loop stops).

    The loop stops at `limit` steps or once `need` seeds escaped.
    """
    LP = float(chain.teacher_root[0, 0])
    reuse = chain.reuse  # a unit is `reuse` SGD steps on one sample batch
    state = init(jnp.asarray(keys))
    hit = jnp.full((keys.shape[0],), -1, jnp.int64 if jax.config.jax_enable_x64 else jnp.int32)
    done = 0
    m0 = np.abs(np.asarray(state[0][:, 0, 0]) * LP)
    hit = jnp.where(jnp.asarray(m0) >= threshold, 0, hit)
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
                      reuse: int = 1):
    """Escape steps of spherical single-index SGD at one d on the exact gram chain.

    Args:
        scenario: Scenario with k = 1, p = 1, spherical = True (its lr is used as is).
        d: dimension.
        keys: one JAX PRNG key per seed.
        threshold: escape level of |m|.
        limit: the most steps run.
        chunk: steps per jitted call of the host loop.
        dtype: float64 (float32 loses the O(lr / d) increments at large d).
        need: stop once this many seeds escaped (default: more than half).
        reuse: consecutive steps on each sample batch (StepsPerBatch(k); 1: online SGD);
            the overlap is checked after each batch's k steps, so steps are multiples of k.

    Returns:
        (steps, m0): the first step with |m| >= threshold per seed (nan if none when the loop
        stopped) and each seed's initial overlap.
    """

    if scenario.k != 1 or scenario.p != 1 or not scenario.spherical:
        raise ValueError(
            "escape times follow single-index spherical SGD (docs/theory.md §4.6): need k = 1, "
            f"p = 1, spherical = True; got k = {scenario.k}, p = {scenario.p}, "
            f"spherical = {scenario.spherical}"
        )
    chain, init, advance = _programs(scenario, int(d), jnp.dtype(dtype).name, int(reuse),
                                     float(threshold), int(chunk))
    keys = jnp.asarray(keys)
    if jnp.issubdtype(keys.dtype, jax.dtypes.prng_key):
        keys = jax.random.key_data(keys)
    m0 = np.asarray(init(keys)[0][:, 0, 0]) * float(chain.teacher_root[0, 0])
    if need is None:
        need = keys.shape[0] // 2 + 1
    return _run_until_escape(chain, init, advance, keys, threshold, limit, need), m0
