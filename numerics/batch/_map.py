"""Iterating the finite-step overlap map (escalier.derive.ode.overlap_map) as a discrete map.

y_{s+1} = y_s + F(y_s), with F the expected one-step change of the overlaps at finite d
(docs/batch.md). The map is lowered once through escalier.numerics.lower and iterated with
jax.lax.scan; starts broadcast (one trajectory per row of y0).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from escalier.numerics.lower import lower
from escalier.numerics.simulation import DIVERGENCE_BOUND

__all__ = ["iterate_map", "map_function"]


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
                record_every: int = 1) -> np.ndarray:
    """The map iterated n_steps times from y0, recorded every record_every steps.

    Args:
        system: an OdeSystem of kind "map".
        y0: (n_state,) or (S, n_state) starts.
        n_steps: number of SGD steps, a multiple of record_every.
        args: parameter values (d is required unless given a default).
        record_every: steps between records.

    Returns:
        (T, n_state) or (T, S, n_state) with T = n_steps // record_every + 1 (record 0 = y0).

    Raises:
        ValueError: bad counts, or a divergence (naming the step; lower eta).
    """
    for name, v, low in (("n_steps", n_steps, 0), ("record_every", record_every, 1)):
        if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")
    if n_steps % record_every:
        raise ValueError(f"n_steps = {n_steps} must be a multiple of record_every = "
                         f"{record_every}")
    F, theta = map_function(system, args)
    y0 = jnp.asarray(y0, dtype=theta.dtype)
    if y0.shape[-1] != len(system.state):
        raise ValueError(f"y0 must have {len(system.state)} entries per start, got {y0.shape}")
    ys = np.asarray(_scan(F, y0, theta, int(n_steps // record_every), int(record_every)))
    bad = ~np.isfinite(ys) | (np.abs(np.nan_to_num(ys)) > DIVERGENCE_BOUND)
    if bad.any():
        first = int(np.argmax(bad.reshape(len(ys), -1).any(axis=1)))
        raise ValueError(f"the map diverged between steps {(first - 1) * record_every} and "
                         f"{first * record_every}: try a smaller learning rate eta")
    return ys


def _scan(F, y0, theta, n_records, every):
    @jax.jit
    def go(y0, theta):
        def step(y, _):
            return y + F(y, theta), None

        def record(y, _):
            y, _ = jax.lax.scan(step, y, None, length=every)
            return y, y

        _, ys = jax.lax.scan(record, y0, None, length=n_records)
        return jnp.concatenate([y0[None], ys])

    return go(y0, theta)
