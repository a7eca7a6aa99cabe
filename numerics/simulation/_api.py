"""`simulate`: the network twin of a Scenario, run by an engine object, checked at the edge.

Engines, training protocols and stop conditions are objects (escalier.numerics.simulation.
engines): `simulate(scenario, d, time, engine=GramEngine(), protocol=StepsPerBatch(2))`.
A registry name ("full", "gram") is accepted for the engine and resolved through ENGINES.
Time is t = steps / d (docs/theory.md §1.3).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from escalier.derive import Scenario

from ._blocks import DIVERGENCE_BOUND
from ._result import SimulationResult
from .engines import ENGINES, Engine, OnlineSGD, TrainingProtocol

__all__ = ["DTYPES", "resolve_engine", "simulate"]

DTYPES = ("float64", "float32")


def resolve_engine(engine: str | Engine) -> Engine:
    """An Engine object from an Engine or a registry name.

    Raises:
        ValueError: an unknown name or a value that is not an Engine.
    """
    if isinstance(engine, Engine):
        return engine
    if isinstance(engine, str) and engine in ENGINES:
        return ENGINES[engine]()
    raise ValueError(f"unknown engine {engine!r}; accepted: {list(ENGINES)} or an Engine object")


def _check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def simulate(
    scenario: Scenario,
    d: int,
    time: float,
    *,
    seeds: int = 8,
    seed: int = 0,
    n_records: int = 100,
    engine: str | Engine = "full",
    protocol: TrainingProtocol | None = None,
    dtype: str = "float64",
    risk_fn: Callable | None = None,
    progress: bool = True,
    keys=None,
) -> SimulationResult:
    """Simulate the two-layer network of `scenario` in d dimensions under a training protocol.

    The update is the one written in escalier.derive.Scenario's docstring (plain SGD with
    learning rate lr on w_j, mini-batch average, second-layer step lr_a / d, spherical
    projection, label noise, square or correlation loss); t = steps / d.

    Args:
        scenario: teacher, student and protocol (the same object the ODE is derived from).
        d: input dimension (>= k).
        time: duration in units t = steps / d; the run takes ceil(time * d) steps, rounded
            up to a whole number of records.
        seeds: number of independent runs S (vmapped).
        seed: the PRNG seed; seed i uses jax.random.split(jax.random.key(seed), S)[i].
        n_records: number of records after t = 0 (T = n_records + 1 in all, or fewer when
            the run has fewer steps than n_records).
        engine: an Engine (FullEngine(): d-dimensional weights; GramEngine(): the exact
            overlap-space chain), or its registry name "full" / "gram".
        protocol: the training protocol (default OnlineSGD(); StepsPerBatch(k) takes k steps
            on each fresh batch; GiantSteps, MultiPass, Extragradient, SAM; AdaptiveLoss
            (correlation loss until an overlap threshold, then square loss); OnlineSGD and
            StepsPerBatch take a learning-rate `schedule`); an engine that cannot run it
            exactly refuses it.
        dtype: "float64" (default; needs jax_enable_x64) or "float32".
        risk_fn: optional JAX function risk_fn(Q, M, P, a) -> scalar, evaluated on every
            record (vmapped) to fill `risk`.
        progress: show a progress bar (every engine: SGD steps done / total).
        keys: optional (S,) typed PRNG keys, one per seed, in place of the split of `seed`
            (then seeds = S); they may be sharded across devices (jax.sharding), and the
            vmapped run follows their sharding (escalier.numerics.sweep.seed_keys).

    Returns:
        SimulationResult with times (T,), Q (S, T, p, p), M (S, T, p, k), a (S, T, p),
        risk (S, T) or None, and a JSON-ready config. Result.Q[:, 0], M[:, 0], a[:, 0] are
        each seed's own initial overlaps (see SimulationResult.initial_overlaps).

    Raises:
        ValueError: bad input (naming the value and what is accepted), or a divergence
            (non-finite or |overlap| > DIVERGENCE_BOUND), naming the step and time reached
            and suggesting a smaller learning rate.
    """
    if not isinstance(scenario, Scenario):
        raise ValueError(f"scenario must be an escalier.derive.Scenario, got {type(scenario)}")
    d = _check_int("d", d, max(1, scenario.k))
    seeds = _check_int("seeds", seeds, 1)
    seed = _check_int("seed", seed, 0)
    n_records = _check_int("n_records", n_records, 1)
    try:
        time = float(time)
    except (TypeError, ValueError):
        raise ValueError(f"time must be a positive number, got {time!r}") from None
    if not (math.isfinite(time) and time > 0):
        raise ValueError(f"time must be a positive finite number (units t = steps / d), got {time}")
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; accepted: {list(DTYPES)}")
    if dtype == "float64" and not jax.config.jax_enable_x64:
        raise ValueError(
            "dtype='float64' needs JAX's 64-bit mode: run "
            "jax.config.update('jax_enable_x64', True) first (or set JAX_ENABLE_X64=1), "
            "or pass dtype='float32'"
        )
    if risk_fn is not None and not callable(risk_fn):
        raise ValueError(f"risk_fn must be a function risk_fn(Q, M, P, a), got {risk_fn!r}")
    eng = resolve_engine(engine)
    protocol = OnlineSGD() if protocol is None else protocol
    if not isinstance(protocol, TrainingProtocol):
        raise ValueError(f"protocol must be a TrainingProtocol (OnlineSGD(), StepsPerBatch(k)), "
                         f"got {protocol!r}")
    eng.check(scenario, protocol)
    engine = eng.name

    n_steps = protocol.total_steps(time, d)
    unit = protocol.steps_per_batch
    record_every = unit * math.ceil(math.ceil(n_steps / n_records) / unit)
    n_steps = record_every * math.ceil(n_steps / record_every)
    if keys is None:
        keys = jax.random.split(jax.random.key(seed), seeds)
    elif getattr(keys, "ndim", None) != 1 or len(keys) < 1:
        raise ValueError(f"keys must be a 1-d array of PRNG keys (one per seed), got shape "
                         f"{getattr(keys, 'shape', None)}")
    else:
        seeds = len(keys)
    out = eng.run(scenario, d, n_steps, keys, record_every, dtype, protocol=protocol,
                  progress=progress)
    Q, M, a = (np.asarray(out[name]) for name in ("Q", "M", "a"))
    T = n_steps // record_every + 1
    times = np.arange(T) * (record_every / d)
    _check_shapes(Q, M, a, seeds, T, scenario, engine)
    _check_divergence(Q, M, a, times, record_every, scenario)

    risk = None
    if risk_fn is not None:
        risk = _risk(risk_fn, Q, M, a, scenario, dtype)
        if not np.all(np.isfinite(risk)):
            raise ValueError("risk_fn returned non-finite values on finite overlaps")
    config = {
        "scenario": scenario.to_json(),
        "d": d,
        "time": float(times[-1]),
        "time_requested": time,
        "n_steps": n_steps,
        "record_every": record_every,
        "seeds": seeds,
        "seed": seed,
        "engine": engine,
        "protocol": protocol.describe(),
        "dtype": dtype,
        "jax": jax.__version__,
    }
    return SimulationResult(scenario, d, engine, times, Q, M, a, risk, config)


def _check_shapes(Q, M, a, S, T, scenario, engine):
    p, k = scenario.p, scenario.k
    want = {"Q": (S, T, p, p), "M": (S, T, p, k), "a": (S, T, p)}
    got = {"Q": Q.shape, "M": M.shape, "a": a.shape}
    if got != want:  # an engine bug, not a user error
        raise RuntimeError(f"engine {engine!r} returned shapes {got}, expected {want}")


def _check_divergence(Q, M, a, times, record_every, scenario):
    bad = np.zeros(Q.shape[:2], dtype=bool)
    for x in (Q, M, a):
        flat = x.reshape(*x.shape[:2], -1)
        bad |= ~np.all(np.isfinite(flat), axis=-1)
        bad |= np.any(np.abs(np.nan_to_num(flat)) > DIVERGENCE_BOUND, axis=-1)
    if not bad.any():
        return
    first = int(np.argmax(bad.any(axis=0)))
    which = np.flatnonzero(bad[:, first]).tolist()
    good = first - 1
    raise ValueError(
        f"the simulation diverged (non-finite or |overlap| > {DIVERGENCE_BOUND:g}) in seed(s) "
        f"{which}: finite at step {good * record_every} (t = {times[good]:g}), diverged by "
        f"step {first * record_every} (t = {times[first]:g}); try a smaller learning rate "
        f"than lr = {scenario.lr:g}"
        + (f" (or lr_a = {scenario.lr_a:g})" if scenario.train_second_layer else "")
    )


def _risk(risk_fn, Q, M, a, scenario, dtype):
    P = jnp.asarray(scenario.P, dtype)
    inner = jax.vmap(risk_fn, (0, 0, None, 0))
    fn = jax.jit(jax.vmap(inner, (0, 0, None, 0)))
    return np.asarray(fn(jnp.asarray(Q), jnp.asarray(M), P, jnp.asarray(a)))
