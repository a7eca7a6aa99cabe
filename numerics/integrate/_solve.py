"""Adaptive, float64 integration of an ODE with diffrax, recorded on a time grid, with an
optional threshold-crossing event (escape times).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ._result import IntegrationError, OdeSolution

__all__ = ["SOLVERS", "Crossing", "integrate"]

SOLVERS = ("tsit5", "dopri5", "dopri8", "kvaerno5")
"""Accepted solver names (diffrax classes Tsit5, Dopri5, Dopri8, Kvaerno5 for stiff systems)."""

_DIRECTIONS = {"up": True, "down": False, "any": None}


@dataclass(frozen=True)
class Crossing:
    """Event: the state component `component` crosses `threshold`.

    Attributes:
        component: index into the state vector, or a component name.
        threshold: the level.
        direction: "up" (from below), "down" (from above) or "any".
        terminate: stop the integration at the crossing (records after it are nan);
            otherwise integrate to the end and locate the first crossing afterwards (exactly:
            a second solve over the record interval that brackets it, so the record grid must
            not skip a crossing and its return).
    """

    component: int | str
    threshold: float
    direction: str = "up"
    terminate: bool = False

    def __post_init__(self):
        if self.direction not in _DIRECTIONS:
            raise ValueError(
                f"direction must be one of {sorted(_DIRECTIONS)}, got {self.direction!r}"
            )
        if not math.isfinite(float(self.threshold)):
            raise ValueError(f"threshold must be finite, got {self.threshold}")


def _check_inputs(y0, times, names, event, solver, rtol, atol, max_steps):
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 1 or times.size < 2:
        raise ValueError(f"times must be a 1-D grid of at least 2 times, got shape {times.shape}")
    if not np.all(np.isfinite(times)) or not np.all(np.diff(times) > 0):
        raise ValueError("times must be finite and strictly increasing")
    y0 = np.asarray(y0, dtype=np.float64)
    if y0.ndim not in (1, 2) or y0.shape[-1] == 0:
        raise ValueError(f"y0 must have shape (n,) or (batch, n), got {y0.shape}")
    if not np.all(np.isfinite(y0)):
        raise ValueError("y0 has non-finite entries")
    n = y0.shape[-1]
    names = tuple(f"y{i}" for i in range(n)) if names is None else tuple(map(str, names))
    if len(names) != n or len(set(names)) != n:
        raise ValueError(f"names must be {n} distinct strings, got {list(names)}")
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; accepted: {SOLVERS}")
    if not (rtol > 0 and atol > 0):
        raise ValueError(f"rtol and atol must be > 0, got rtol={rtol}, atol={atol}")
    if not (isinstance(max_steps, int) and max_steps >= 1):
        raise ValueError(f"max_steps must be an integer >= 1, got {max_steps!r}")
    index = None
    if event is not None:
        if not isinstance(event, Crossing):
            raise ValueError(f"event must be a Crossing, got {type(event).__name__}")
        c = event.component
        if isinstance(c, str):
            if c not in names:
                raise ValueError(f"event component {c!r} is not one of {list(names)}")
            index = names.index(c)
        elif isinstance(c, int | np.integer) and 0 <= c < n:
            index = int(c)
        else:
            raise ValueError(f"event component must be a name or an index in [0, {n}), got {c!r}")
    return y0, times, names, index


def integrate(
    rhs: Callable,
    y0,
    times,
    args=None,
    *,
    risk: Callable | None = None,
    event: Crossing | None = None,
    names: Sequence[str] | None = None,
    solver: str = "tsit5",
    rtol: float = 1e-8,
    atol: float = 1e-10,
    max_steps: int = 100_000,
) -> OdeSolution:
    """Integrate dy/dt = rhs(t, y, args) from y(times[0]) = y0, recorded at `times`.

    Adaptive steps (diffrax PIDController with rtol, atol), float64, vmapped over a batch
    of initial conditions (y0 of shape (B, n); args shared). The recorded values are the
    solver's dense interpolant at `times`.

    Args:
        rhs: diffrax signature f(t, y, args) -> dy/dt, y of shape (n,); JAX-traceable.
        y0: (n,) or (B, n) initial states.
        times: (T,) strictly increasing record times; integration runs times[0] -> times[-1].
        args: pytree passed to rhs and risk (e.g. the ODE parameters).
        risk: optional risk(y, args) -> scalar, recorded along the trajectory.
        event: optional Crossing; its time is found by diffrax's event root finder.
        names: component names (default y0, y1, ...).
        solver: one of SOLVERS.
        rtol, atol: tolerances of the step-size controller.
        max_steps: solver step budget per solve.

    Returns:
        an OdeSolution.

    Raises:
        ValueError: bad inputs (named). Requires float64 (JAX_ENABLE_X64).
        IntegrationError: the solver failed or the state became non-finite; the message names
            the time reached and what to change.

    Reference: P. Kidger, On Neural Differential Equations (2021), diffrax.
    """
    import jax
    import jax.numpy as jnp

    if not jax.config.read("jax_enable_x64"):
        raise ValueError(
            "integrate needs float64: set JAX_ENABLE_X64=1 (or "
            "jax.config.update('jax_enable_x64', True)) before using JAX"
        )
    y0, times, names, index = _check_inputs(y0, times, names, event, solver, rtol, atol,
                                            max_steps)
    batched = y0.ndim == 2
    key = (rhs, risk, event, index, solver, max_steps)
    try:
        fn = _compiled(*key)
    except TypeError:  # an unhashable rhs or risk: compile without the cache
        fn = _compiled.__wrapped__(*key)
    ys, rs, t_end, codes, steps, t_event = jax.device_get(
        fn(jnp.asarray(y0 if batched else y0[None]), args, jnp.asarray(times),
           jnp.asarray(rtol, dtype=jnp.float64), jnp.asarray(atol, dtype=jnp.float64))
    )
    _raise_on_failure(ys, codes, t_end, times, batched, event)
    config = {"solver": solver, "rtol": rtol, "atol": atol, "max_steps": max_steps,
              "event": None if event is None else {
                  "component": names[index], "threshold": float(event.threshold),
                  "direction": event.direction, "terminate": event.terminate}}
    unbatch = (lambda a: a) if batched else (lambda a: a[0])
    return OdeSolution(
        times=times,
        y=unbatch(ys),
        names=names,
        risk=None if risk is None else unbatch(rs),
        event_time=None if event is None else (t_event if batched else float(t_event[0])),
        num_steps=steps if batched else int(steps[0]),
        config=config,
    )


@functools.lru_cache(maxsize=64)
def _compiled(rhs, risk, event, index, solver, max_steps):
    """One jitted, vmapped solve per (rhs, risk, event, solver, max_steps): tolerances, the
    time grid, y0 and args are traced, so sweeps over them reuse the compilation."""
    import jax

    solve = _make_solver(rhs, risk, event, index, solver, max_steps)
    return jax.jit(jax.vmap(solve, in_axes=(0, None, None, None, None)))


def _make_solver(rhs, risk, event, index, solver, max_steps):
    import diffrax as dfx
    import jax
    import jax.numpy as jnp
    import optimistix as optx

    classes = {"tsit5": dfx.Tsit5, "dopri5": dfx.Dopri5, "dopri8": dfx.Dopri8,
               "kvaerno5": dfx.Kvaerno5}
    term, method = dfx.ODETerm(rhs), classes[solver]()
    dfx_event = None
    if event is not None:
        thr = float(event.threshold)
        root = optx.Newton(rtol=1e-12, atol=1e-12)
        dfx_event = dfx.Event(lambda t, y, args, **kw: y[index] - thr, root_finder=root,
                              direction=_DIRECTIONS[event.direction])

    def solve(y0, args, ts, rtol, atol):
        controller = dfx.PIDController(rtol=rtol, atol=atol)
        saveat = dfx.SaveAt(subs=[dfx.SubSaveAt(ts=ts), dfx.SubSaveAt(t1=True)])

        def run(y0, args, t0, t1, save, ev):
            return dfx.diffeqsolve(term, method, t0, t1, None, y0, args, saveat=save,
                                   stepsize_controller=controller, event=ev,
                                   max_steps=max_steps, throw=False)

        stop = event is not None and event.terminate
        sol = run(y0, args, ts[0], ts[-1], saveat, dfx_event if stop else None)
        ys, (t_end,) = sol.ys[0], sol.ts[1]
        code = jnp.where(sol.result == dfx.RESULTS.event_occurred, 0, sol.result._value)
        t_event = jnp.nan
        if stop:
            fired = sol.result == dfx.RESULTS.event_occurred
            t_event = jnp.where(fired, t_end, jnp.nan)
            ys = jnp.where((ts > t_end)[:, None], jnp.nan, ys)
        elif event is not None:
            t_event = _bracketed_crossing(run, dfx, ys, ts, args, index, float(event.threshold),
                                          event.direction, dfx_event)
        rs = jnp.zeros(ts.shape)
        if risk is not None:
            rs = jax.vmap(lambda y: jnp.asarray(risk(y, args), dtype=ys.dtype))(ys)
        return ys, rs, t_end, code, sol.stats["num_steps"], t_event

    return solve


def _bracketed_crossing(run, dfx, ys, ts, args, index, thr, direction, dfx_event):
    """First crossing on the record grid, refined by a terminating solve over its interval."""
    import jax.numpy as jnp

    g = ys[:, index] - thr
    up = (g[:-1] < 0) & (g[1:] >= 0)
    down = (g[:-1] > 0) & (g[1:] <= 0)
    hit = {"up": up, "down": down, "any": up | down}[direction]
    found = jnp.any(hit)
    k = jnp.argmax(hit)
    save = dfx.SaveAt(t1=True)
    sol = run(ys[k], args, ts[k], ts[k + 1], save, dfx_event)
    fired = sol.result == dfx.RESULTS.event_occurred
    # the grid saw a crossing at ts[k+1] exactly (g = 0 there) that the event did not fire on
    t_cross = jnp.where(fired, sol.ts[0], ts[k + 1])
    return jnp.where(found, t_cross, jnp.nan)


def _raise_on_failure(ys, codes, t_end, times, batched, event):
    import diffrax as dfx

    for i in range(ys.shape[0]):
        who = f" (initial condition {i})" if batched else ""
        member = i if batched else None
        if codes[i] != 0:
            msg = _message(dfx, codes[i])
            raise IntegrationError(
                f"ODE integration failed at t = {t_end[i]:.6g} of [{times[0]:g}, {times[-1]:g}]"
                f"{who}: {msg}. If the state blows up there, lower the learning rate or "
                f"integrate to an earlier time; if it is smooth, raise max_steps or loosen "
                f"rtol/atol; for a stiff system use solver='kvaerno5'.",
                float(t_end[i]), member,
            )
        stopped = event is not None and event.terminate
        alive = times <= t_end[i] if stopped else np.ones(times.shape, dtype=bool)
        bad = ~np.all(np.isfinite(ys[i]), axis=-1) & alive
        if np.any(bad):
            t_bad = float(times[np.argmax(bad)])
            raise IntegrationError(
                f"ODE state became non-finite at t = {t_bad:.6g}{who}: the right-hand side "
                f"returned nan or inf. Check the state is inside the domain of the equations "
                f"(e.g. a positive-definite overlap matrix); lower the learning rate.",
                t_bad, member,
            )


def _message(dfx, code) -> str:
    messages = list(getattr(dfx.RESULTS, "_index_to_message", []))
    if 0 <= int(code) < len(messages) and messages[int(code)]:
        return messages[int(code)].rstrip(".")
    return f"solver failure (diffrax result code {int(code)})"
