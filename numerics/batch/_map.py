"""Iterating the finite-step overlap map (escalier.derive.ode.overlap_map) as a discrete map.

y_{s+1} = y_s + F(y_s), with F the expected one-step change of the overlaps at finite d
(docs/batch.md). The map is lowered once through escalier.numerics.lower and iterated with
jax.lax.scan; starts broadcast (one trajectory per row of y0).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from escalier.derive.ode import overlap_map
from escalier.numerics.lower import lower
from escalier.numerics.simulation import DIVERGENCE_BOUND, AdaptiveLoss, Constant, check_schedule

__all__ = ["iterate_adaptive_map", "iterate_map", "map_first_passage", "map_function"]


def map_function(system, args: dict | None = None):
    """(F, theta): the lowered one-step increment F(y, theta) and the parameter vector.

    Raises:
        ValueError: not a map (system.kind != "map"), unknown or missing parameters.
    """
    if getattr(system, "kind", None) != "map":
        raise ValueError("iterate a map from escalier.derive.ode.overlap_map (kind 'map'), "
                         "not an ODE system")
    values = {**system.default_args, **(args or {})}
    names = [s.name for s in system.parameters]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ValueError(f"unknown parameters {unknown}; accepted: {names}")
    missing = [n for n in names if n not in values]
    if missing:
        raise ValueError(f"parameters {missing} have no default value: pass them in args "
                         f"(e.g. args={{'d': 256}})")
    F = lower(list(system.rhs), system.state, system.parameters)
    theta = jnp.asarray([float(values[n]) for n in names])
    return F, theta


def iterate_map(system, y0, n_steps: int, args: dict | None = None,
                record_every: int = 1, *, schedule=None) -> np.ndarray:
    """The map iterated n_steps times from y0, recorded every record_every steps.

    Args:
        system: an OdeSystem of kind "map".
        y0: (n_state,) or (S, n_state) starts.
        n_steps: number of SGD steps, a multiple of record_every.
        args: parameter values (d is required unless given a default).
        record_every: steps between records.
        schedule: a learning-rate schedule (escalier.numerics.simulation: Constant, PowerLaw,
            StepDecay); step i (from 0) uses eta s(i / d), as the engines do under
            OnlineSGD(schedule=...). None: the constant eta.

    Returns:
        (T, n_state) or (T, S, n_state) with T = n_steps // record_every + 1 (record 0 = y0).

    Raises:
        ValueError: bad counts, not a Schedule, or a divergence (naming the step; lower eta).
    """
    _check_counts(n_steps, record_every)
    schedule = Constant() if schedule is None else check_schedule(schedule)
    F, theta = map_function(system, args)
    y0 = _start(system, y0, theta.dtype)
    go = _scanner(system, int(n_steps // record_every), int(record_every), schedule)
    return _finite(np.asarray(go(y0, theta)), record_every)


def iterate_adaptive_map(scenario, protocol, y0, n_steps: int, args: dict | None = None,
                         record_every: int = 1, *, points: int | None = None):
    """The finite-step map of an AdaptiveLoss run (escalier.numerics.simulation): the
    correlation-loss map until protocol.switched(M) after a step (or at the start), the
    square-loss map from then on, as the engines do it step by step (docs/batch.md).

    Args:
        scenario: the Scenario (its loss is ignored: the protocol's two phases are used).
        protocol: an AdaptiveLoss.
        y0, n_steps, args, record_every: as in iterate_map (d is required in args).
        points: Gauss-Hermite nodes per dimension (escalier.derive.ode.overlap_map).

    Returns:
        (ys, switch_step): ys as in iterate_map; switch_step (one per start) the number of
        steps taken before the square loss applies (0: the start is past the threshold; nan:
        not switched within n_steps).

    Raises:
        ValueError: bad counts, not an AdaptiveLoss, or a divergence (lower eta).
    """
    if not isinstance(protocol, AdaptiveLoss):
        raise ValueError(f"iterate_adaptive_map needs an AdaptiveLoss protocol, got "
                         f"{protocol!r}")
    _check_counts(n_steps, record_every)
    correlation, square = protocol.phases(scenario)
    first, second = (overlap_map(sc, points=points) for sc in (correlation, square))
    F1, theta1 = map_function(first, args)
    _, theta2 = map_function(second, args)
    y0 = _start(first, y0, theta1.dtype)
    go = _adaptive_scanner(first, second, protocol, scenario.p, scenario.k,
                           int(n_steps // record_every), int(record_every))
    ys, when = go(y0, theta1, theta2)
    when = np.asarray(when, dtype=float)
    return _finite(np.asarray(ys), record_every), np.where(when < 0, np.nan, when)


def _check_counts(n_steps, record_every):
    for name, v, low in (("n_steps", n_steps, 0), ("record_every", record_every, 1)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")
    if n_steps % record_every:
        raise ValueError(f"n_steps = {n_steps} must be a multiple of record_every = "
                         f"{record_every}")


def _start(system, y0, dtype):
    y0 = jnp.asarray(y0, dtype=dtype)
    if y0.shape[-1] != len(system.state):
        raise ValueError(f"y0 must have {len(system.state)} entries per start, got {y0.shape}")
    return y0


def _finite(ys, record_every):
    """ys unchanged, or the divergence as a ValueError naming the steps."""
    bad = ~np.isfinite(ys) | (np.abs(np.nan_to_num(ys)) > DIVERGENCE_BOUND)
    if bad.any():
        first = int(np.argmax(bad.reshape(len(ys), -1).any(axis=1)))
        raise ValueError(f"the map diverged between steps {(first - 1) * record_every} and "
                         f"{first * record_every}: try a smaller learning rate eta")
    return ys


@functools.lru_cache(maxsize=16)
def _scanner(system, n_records, every, schedule):
    """The jitted iteration of one map (compiled once per system, record layout and
    schedule); under a schedule, step i sets eta to eta s(i / d) in theta."""
    F = lower(list(system.rhs), system.state, system.parameters)
    names = [s.name for s in system.parameters]
    i_eta, i_d = names.index("eta"), names.index("d")

    def theta_at(theta, i):
        if schedule.constant:
            return theta
        return theta.at[i_eta].multiply(schedule.factor(i / theta[i_d]))

    @jax.jit
    def go(y0, theta):
        def step(c, _):
            y, i = c
            return (y + F(y, theta_at(theta, i)), i + 1), None

        def record(c, _):
            c, _ = jax.lax.scan(step, c, None, length=every)
            return c, c[0]

        _, ys = jax.lax.scan(record, (y0, jnp.zeros((), theta.dtype)), None, length=n_records)
        return jnp.concatenate([y0[None], ys])

    return go


@functools.lru_cache(maxsize=16)
def _adaptive_scanner(first, second, protocol, p, k, n_records, every):
    """The jitted adaptive iteration: a flag carried with y picks each step's map."""
    F1 = lower(list(first.rhs), first.state, first.parameters)
    F2 = lower(list(second.rhs), second.state, second.parameters)
    idx = jnp.asarray([i for i, s in enumerate(first.state) if str(s).startswith("M")])

    def switched(y):
        return protocol.switched(y[idx].reshape(p, k))

    def one(y0, theta1, theta2):
        def step(c, _):
            y, on, n, when = c
            y = jnp.where(on, y + F2(y, theta2), y + F1(y, theta1))
            now = on | switched(y)
            when = jnp.where(now & ~on, n + 1, when)
            return (y, now, n + 1, when), None

        def record(c, _):
            c, _ = jax.lax.scan(step, c, None, length=every)
            return c, c[0]

        on = switched(y0)
        c0 = (y0, on, jnp.asarray(0), jnp.where(on, 0, -1))
        c, ys = jax.lax.scan(record, c0, None, length=n_records)
        return jnp.concatenate([y0[None], ys]), c[3]

    def go(y0, theta1, theta2):
        if y0.ndim == 1:
            return one(y0, theta1, theta2)
        ys, when = jax.vmap(one, in_axes=(0, None, None))(y0, theta1, theta2)
        return jnp.swapaxes(ys, 0, 1), when

    return jax.jit(go)


def map_first_passage(system, y0, threshold: float, max_steps: int, args: dict | None = None,
                      *, index: int = -1, lr=None) -> np.ndarray:
    """Steps until the map's component `index` first reaches `threshold` (|y_index| >=
    threshold), NaN when not within max_steps (or when the map leaves the finite range).

    Args:
        system: an OdeSystem of kind "map".
        y0: (n_state,) start.
        threshold: level of |y[index]|.
        max_steps: the horizon.
        args: parameter values (d required).
        index: the component watched (default: the last, M_1k for p = 1).
        lr: optional array of learning rates eta, one passage time each (vmapped).

    Returns:
        float array of steps, shape () or lr's shape.
    """
    if isinstance(max_steps, bool) or not isinstance(max_steps, int | np.integer) or max_steps < 1:
        raise ValueError(f"max_steps must be an integer >= 1, got {max_steps!r}")
    F, theta = map_function(system, args)
    i_eta = [s.name for s in system.parameters].index("eta")
    etas = theta[i_eta] if lr is None else jnp.asarray(lr, dtype=theta.dtype)
    go = _passage(system, int(index), float(threshold), int(max_steps))
    return np.asarray(go(jnp.asarray(y0, dtype=theta.dtype), theta, etas))


@functools.lru_cache(maxsize=16)
def _passage(system, index, thr, max_steps):
    """The jitted first passage of one map (compiled once per system and horizon)."""
    F = lower(list(system.rhs), system.state, system.parameters)
    i_eta = [s.name for s in system.parameters].index("eta")

    def passage(y0, theta, eta):
        th = theta.at[i_eta].set(eta)

        def cond(c):
            y, s = c
            return (s < max_steps) & (jnp.abs(y[index]) < thr) & jnp.all(jnp.isfinite(y))

        def body(c):
            y, s = c
            return y + F(y, th), s + 1

        y, s = jax.lax.while_loop(cond, body, (y0, jnp.asarray(0)))
        ok = jnp.isfinite(y[index]) & (jnp.abs(y[index]) >= thr)
        return jnp.where(ok, s.astype(theta.dtype), jnp.nan)

    return jax.jit(jnp.vectorize(passage, signature="(n),(m),()->()"))
