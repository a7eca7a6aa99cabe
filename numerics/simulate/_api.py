"""`simulate`: the network twin of a Scenario, by engine, with checks at the API edge.

The engine interface (every engine implements it; "full" in _full.py, "gram" in _gram.py):

    run(scenario, d, n_steps, keys, record_every, dtype) -> dict(Q=..., M=..., a=...)

    scenario      escalier.derive.Scenario (the update is fixed by its docstring)
    d             int, input dimension
    n_steps       int, total SGD steps, a multiple of record_every
    keys          (S,) typed JAX PRNG key array, one key per seed (jax.random.key / split);
                  the engine derives everything random (initial condition, data) from it
    record_every  int, steps between records
    dtype         "float64" or "float32" (a string; jnp.dtype(dtype) gives the dtype)

    returns Q (S, T, p, p), M (S, T, p, k), a (S, T, p) as numpy or jax arrays, recorded at
    steps 0, record_every, 2 * record_every, ..., n_steps (T = n_steps / record_every + 1).
    The initial condition must have the law of the full engine's (_init.py): w_j iid
    N(0, init_scale^2 I_d) (spherical: normalised to ||w||^2 = d), W* W*^T / d = P exactly,
    a = scenario.a. An engine may stop early after a divergence and fill the remaining
    records with NaN; `simulate` turns any non-finite or exploding record into a ValueError.

Time is t = steps / d (THEORY.md section 1).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from escalier.derive import Scenario

from . import _full
from ._full import DIVERGENCE_BOUND
from ._result import SimulationResult

__all__ = ["DTYPES", "ENGINES", "engine_runner", "scenario_config", "simulate"]

ENGINES = ("full", "gram")
DTYPES = ("float64", "float32")


def engine_runner(engine: str) -> Callable:
    """The `run` function of an engine (see module docstring).

    Raises:
        ValueError: unknown engine, or the gram engine is not installed in this build.
    """
    if engine == "full":
        return _full.run
    if engine == "gram":
        try:
            from . import _gram
        except ImportError as err:
            raise ValueError(
                f"engine 'gram' is not available in this build ({err}); use engine='full'"
            ) from None
        return _gram.run
    raise ValueError(f"unknown engine {engine!r}; accepted: {list(ENGINES)}")


def scenario_config(scenario: Scenario) -> dict[str, Any]:
    """A JSON-ready description of a Scenario."""
    return {
        "target": str(scenario.target.expr),
        "student": str(scenario.student),
        "p": scenario.p,
        "k": scenario.k,
        "lr": scenario.lr,
        "loss": scenario.loss,
        "batch": scenario.batch,
        "noise": scenario.noise,
        "a": list(scenario.a),
        "train_second_layer": scenario.train_second_layer,
        "lr_a": scenario.lr_a,
        "spherical": scenario.spherical,
        "P": [list(row) for row in scenario.P],
        "init_scale": scenario.init_scale,
    }


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
    engine: str = "full",
    dtype: str = "float64",
    risk_fn: Callable | None = None,
    progress: bool = True,
) -> SimulationResult:
    """Simulate online SGD on the two-layer network of `scenario` in d dimensions.

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
        engine: "full" (d-dimensional weights) or "gram" (exact overlap-space chain).
        dtype: "float64" (default; needs jax_enable_x64) or "float32".
        risk_fn: optional JAX function risk_fn(Q, M, P, a) -> scalar, evaluated on every
            record (vmapped) to fill `risk`.
        progress: show a progress bar (full engine).

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
    run = engine_runner(engine)

    n_steps = max(1, math.ceil(time * d))
    record_every = math.ceil(n_steps / n_records)
    n_steps = record_every * math.ceil(n_steps / record_every)
    keys = jax.random.split(jax.random.key(seed), seeds)
    if engine == "full":
        out = run(scenario, d, n_steps, keys, record_every, dtype, progress=progress)
    else:
        out = run(scenario, d, n_steps, keys, record_every, dtype)
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
        "scenario": scenario_config(scenario),
        "d": d,
        "time": float(times[-1]),
        "time_requested": time,
        "n_steps": n_steps,
        "record_every": record_every,
        "seeds": seeds,
        "seed": seed,
        "engine": engine,
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
