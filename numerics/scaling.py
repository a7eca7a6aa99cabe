"""Escape times of single-index online SGD against d, and their fitted exponent.

THEORY.md sections 2-3 (Ben Arous, Gheissari, Jagannath, JMLR 2021, arXiv 2003.10409).
Spherical online SGD on y = f(nu) with one student neuron sigma(lambda), ||w||^2 = d:

    dm/dt = lr E[-dl * (nu - m lambda)] - (lr^2 / (2 n_b)) m E[(dl)^2],   t = steps / d.

With l the information exponent of the correlation (the smallest j with
c_j(f) c_j(sigma) != 0), the drift is ~ lr l! c_l(f) c_l(sigma) l m^(l-1) near the random
start m ~ d^(-1/2), and the noise term ~ lr^2 m. The prescribed learning rate keeps the
drift at least of the order of the noise there:

    lr(d) = c0 d^(-(l - 2) / 2)   (l >= 3),        lr(d) = c0   (l = 1, 2),

with c0 = scenario.lr (the prefactor; BAGJ 2021 take the step size o(d^(-(l-2)/2)) in
these units for l >= 3). Then the escape time from m ~ d^(-1/2) to m = O(1) is
t ~ d^(l-2) (l >= 3), log d (l = 2), O(1) (l = 1), i.e. steps ~ d^(l-1), d log d, d.
With lr = O(1) and l >= 3 the lr^2 m term would dominate lr m^(l-1) at m ~ d^(-1/2) and
the walk would first contract towards m = 0, hence the d-dependent rate.

The prefactor c0 must also keep the fixed point of the drift-noise balance above the
threshold: for He2 with a He2 student, c0 = 0.5 stalls at m ~ 0.43 < 0.5 (the noise term
grows with m) and only fluctuations cross 0.5; c0 = 0.2 escapes cleanly. Measured with
benchmarks/gram_scaling.py (16 seeds, correlation loss, student = target): He3, c0 = 0.5,
d = 10^3..10^4: fitted 2.025 against 2 (300 s on a loaded 2-core machine); He2, c0 = 0.2,
d = 10^3..10^5: fitted 1.147 against 1.111 (the slope of d log d over those d); He4,
c0 = 0.05, d = 100..566: fitted 2.96 against 3 over the six d, but 2.72 on 100..400 and
3.49 on 200..566: with 16 seeds the He4 medians scatter by ~30%, too much for sub-ranges.

`escape_steps` counts, per seed, the first SGD step with |m| >= threshold, simulating with
the exact Gram engine (engine="gram": cost per step independent of d), in chunks of a
lax.scan vmapped over seeds, driven by a host loop until every seed has escaped.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["ScalingResult", "escape_steps", "information_exponent", "predicted_steps"]


def information_exponent(scenario, max_degree: int = 12) -> int:
    """Smallest j >= 1 with c_j(f) c_j(sigma) != 0 for the scenario's target and student.

    The one implementation lives in escalier.numerics.verify (Hermite coefficients from
    escalier.derive.hermite_expansion: exact where they can be, certified zeros otherwise).

    Raises:
        ValueError: not a single-index target, or no nonzero product up to max_degree.
    """
    from .verify import information_exponent as _information_exponent

    if scenario.k != 1:
        raise ValueError(f"escape times are for single-index targets (k = 1), got k = {scenario.k}")
    return _information_exponent(scenario.target, scenario.sigma, max_degree=max_degree)


def predicted_steps(d, exponent: int):
    """The predicted escape steps up to a constant: d^(l-1) (l >= 3), d log d (l = 2), d."""
    d = np.asarray(d, dtype=float)
    if exponent >= 3:
        return d ** (exponent - 1)
    if exponent == 2:
        return d * np.log(d)
    return d


def prescribed_lr(c0: float, d: int, exponent: int) -> float:
    """lr(d) = c0 d^(-(l-2)/2) for l >= 3, c0 otherwise (module docstring)."""
    return c0 * d ** (-(exponent - 2) / 2) if exponent >= 3 else c0


@dataclass(frozen=True)
class ScalingResult:
    """Escape steps over d and seeds with the fitted and predicted exponents.

    Attributes:
        d_values: (n_d,) dimensions.
        steps: (n_d, S) first step with |m| >= threshold per seed (nan: not by max_steps).
        median: (n_d,) median over seeds (censored seeds count as infinite).
        lr: (n_d,) learning rate used at each d.
        exponent: information exponent l of the correlation.
        fitted: slope of the least-squares fit of log(median) against log(d).
        predicted: slope of the same fit applied to the prediction (l - 1 for l >= 3; the
            local slope of d log d over these d for l = 2; 1 for l = 1).
        seconds: (n_d,) wall time per d.
        threshold: the overlap threshold.
    """

    d_values: np.ndarray
    steps: np.ndarray
    median: np.ndarray
    lr: np.ndarray
    exponent: int
    fitted: float
    predicted: float
    seconds: np.ndarray
    threshold: float


def _slope(d, y) -> float:
    return float(np.polyfit(np.log(d), np.log(y), 1)[0])


def escape_steps(scenario, d_values, seeds: int = 8, threshold: float = 0.5,
                 engine: str = "gram", max_steps: int | None = None,
                 exponent: int | None = None, key=0, chunk: int = 1 << 14,
                 dtype=jnp.float64, until: str = "median", progress=None) -> ScalingResult:
    """Online-SGD steps until |m| crosses `threshold`, over d and seeds, and the fit.

    Args:
        scenario: escalier.derive.Scenario with k = 1, p = 1, spherical = True; its lr is the
            prefactor c0 of the prescribed rate lr(d) (module docstring).
        d_values: dimensions (at least two distinct).
        seeds: independent runs per d (vmapped).
        threshold: overlap |m| that counts as escaped.
        engine: "gram" (exact, cost independent of d); "full" needs the d-dimensional
            simulator (escalier.numerics.simulate, not wired here).
        max_steps: give up at this many steps per d (default 1000 x the prediction).
        exponent: information exponent (default: computed by information_exponent).
        key: integer seed or JAX PRNG key.
        chunk: steps per jitted call of the host loop.
        dtype: float64 (default; float32 loses the O(lr / d) increments at large d).
        until: "median" stops a d once more than half of the seeds have escaped (the median
            is then known; the others are reported as nan, i.e. later than the last step
            run), "all" waits for every seed (or max_steps).
        progress: optional callable(d, steps_done, escaped_seeds) called after each chunk.

    Returns:
        ScalingResult.

    Raises:
        ValueError: not single-index spherical SGD, bad d values or threshold, unknown engine,
            or more than half of the seeds not escaped by max_steps at some d.
    """
    from .simulate._gram import GramChain

    if engine != "gram":
        raise ValueError(f"escape_steps supports engine='gram' here, got {engine!r} (the full "
                         f"d-dimensional engine is driven by escalier.numerics.simulate)")
    if scenario.k != 1 or scenario.p != 1 or not scenario.spherical:
        raise ValueError(
            "escape times follow single-index spherical SGD (THEORY.md section 3): need k = 1, "
            f"p = 1, spherical = True; got k = {scenario.k}, p = {scenario.p}, "
            f"spherical = {scenario.spherical}"
        )
    if until not in ("median", "all"):
        raise ValueError(f"until must be 'median' or 'all', got {until!r}")
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    d_values = np.asarray(sorted({int(d) for d in d_values}))
    if d_values.size < 2 or d_values.min() < 4:
        raise ValueError(f"need at least two distinct d >= 4, got {list(d_values)}")
    if not (isinstance(seeds, int) and seeds >= 1):
        raise ValueError(f"seeds must be a positive integer, got {seeds!r}")
    ell = information_exponent(scenario) if exponent is None else int(exponent)
    if isinstance(key, int):
        key = jax.random.PRNGKey(key)
    all_steps, lrs, seconds = [], [], []
    for d in d_values:
        lr = prescribed_lr(scenario.lr, int(d), ell)
        limit = max_steps if max_steps is not None else int(1000 * predicted_steps(d, ell))
        chain = GramChain(dataclasses.replace(scenario, lr=lr), int(d), dtype)
        keys = jax.random.split(key, seeds)  # common random numbers across d
        if jnp.issubdtype(keys.dtype, jax.dtypes.prng_key):
            keys = jax.random.key_data(keys)
        start = time.perf_counter()
        need = seeds if until == "all" else seeds // 2 + 1
        all_steps.append(_run_until_escape(chain, keys, threshold, limit, chunk, d, need,
                                           progress))
        seconds.append(time.perf_counter() - start)
        lrs.append(lr)
    steps = np.asarray(all_steps, dtype=float)
    median = np.median(np.where(np.isnan(steps), np.inf, steps), axis=1)
    if not np.all(np.isfinite(median)):
        bad = [int(d) for d, m in zip(d_values, median, strict=True) if not np.isfinite(m)]
        raise ValueError(f"more than half of the seeds did not escape by max_steps at d = {bad}; "
                         f"raise max_steps or lower the lr prefactor (scenario.lr)")
    return ScalingResult(
        d_values=d_values, steps=steps, median=median, lr=np.asarray(lrs), exponent=ell,
        fitted=_slope(d_values, median), predicted=_slope(d_values, predicted_steps(d_values, ell)),
        seconds=np.asarray(seconds), threshold=threshold,
    )


def _run_until_escape(chain, keys, threshold, limit, chunk, d, need, progress,
                      mask=None) -> np.ndarray:
    """First step with |m| >= threshold per seed (nan if none when the loop stops).

    The loop stops at `limit` steps or once `need` seeds (among `mask`, default all) escaped.
    """
    LP = float(chain._LP[0, 0])

    def one_chunk(carry):
        state, hit, done = carry

        def step(c, r):
            state, hit, j = c
            abc = chain.unit(state[:3], r)
            m = abc[0][0, 0] * LP
            hit = jnp.where((hit < 0) & (jnp.abs(m) >= threshold), done + j + 1, hit)
            return ((*abc, state[3]), hit, j + 1), None

        rng, draws = chain.draw(state[3], chunk)
        (state, hit, _), _ = jax.lax.scan(step, ((*state[:3], rng), hit, 0), draws)
        return state, hit, done + chunk

    init = jax.jit(jax.vmap(chain.init))
    advance = jax.jit(jax.vmap(one_chunk, in_axes=((0, 0, None),), out_axes=(0, 0, None)))
    state = init(jnp.asarray(keys))
    hit = jnp.full((keys.shape[0],), -1, jnp.int64 if jax.config.jax_enable_x64 else jnp.int32)
    done = 0
    m0 = np.abs(np.asarray(state[0][:, 0, 0]) * LP)
    hit = jnp.where(jnp.asarray(m0) >= threshold, 0, hit)
    while done < limit:
        state, hit, done = advance((state, hit, done))
        done = int(done)
        hits = np.asarray(hit) >= 0
        escaped = int(np.sum(hits if mask is None else hits & mask))
        if progress is not None:
            progress(int(d), done, escaped)
        if escaped >= need:
            break
    out = np.asarray(hit, dtype=float)
    out[out < 0] = np.nan
    return out


def gram_escape_steps(scenario, d: int, keys, threshold: float, limit: int,
                      counted=lambda m0: np.ones(m0.shape, dtype=bool),
                      chunk: int = 1 << 14, dtype=jnp.float64):
    """Escape steps of spherical single-index SGD at one d on the exact gram chain.

    Returns (steps, m0, mask): the first step with |m| >= threshold per seed (nan if none when
    the loop stopped: at `limit` steps or once more than half of the seeds selected by
    `counted(m0)` escaped), each seed's initial m, and that selection.
    """
    from .simulate._gram import GramChain

    chain = GramChain(scenario, int(d), dtype)
    keys = jnp.asarray(keys)
    if jnp.issubdtype(keys.dtype, jax.dtypes.prng_key):
        keys = jax.random.key_data(keys)
    m0 = np.asarray(jax.jit(jax.vmap(chain.init))(keys)[0][:, 0, 0]) * float(chain._LP[0, 0])
    mask = np.asarray(counted(m0), dtype=bool)
    need = int(mask.sum()) // 2 + 1
    return _run_until_escape(chain, keys, threshold, limit, chunk, d, need, None, mask), m0, mask
