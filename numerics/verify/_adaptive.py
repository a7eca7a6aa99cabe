"""The ODE twin of the adaptive loss protocol (escalier.numerics.simulation.AdaptiveLoss):
the correlation-loss ODE until measure(M) reaches the threshold, located by a diffrax event
(root finder on measure(M(t)) - threshold), then the square-loss ODE from the state at the
crossing; a start already at the threshold runs the square-loss ODE throughout. This is the
d -> infinity limit of the engines' switch (the flag turns at the first step past the
threshold, O(1/d) in time after the crossing). docs/batch.md, "Adaptive protocol"."""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["solve_adaptive"]


def solve_adaptive(scenario, protocol, f1, f2, y0, times, *, rtol: float = 1e-8,
                   atol: float = 1e-10, max_steps: int = 100_000):
    """Integrate the adaptive protocol's ODE from each initial state (module docstring;
    the public entry is escalier.numerics.verify.adaptive_ode).

    Args:
        scenario: the Scenario (p, k).
        protocol: an AdaptiveLoss.
        f1, f2: the OdeFunctions of its correlation and square-loss phases.
        y0: (n,) or (B, n) initial states in OdeSystem.state order.
        times: (T,) increasing record times; the integration starts at times[0].
        rtol, atol, max_steps: diffrax step-size control and budget (per phase).

    Returns:
        escalier.numerics.integrate.OdeSolution; event_time is the switching time (nan if
        the threshold is not reached by times[-1]; times[0] if the start is past it).

    Raises:
        ValueError: bad inputs; escalier.numerics.integrate.IntegrationError: a solver failure.
    """
    import jax
    import jax.numpy as jnp

    from escalier.numerics.integrate import IntegrationError, OdeSolution

    if not jax.config.read("jax_enable_x64"):
        raise ValueError("adaptive_ode needs float64: set JAX_ENABLE_X64=1")
    times = np.asarray(times, dtype=np.float64)
    if times.ndim != 1 or times.size < 2 or not np.all(np.diff(times) > 0):
        raise ValueError("times must be a strictly increasing 1-D grid of at least 2 times")
    y0 = np.asarray(y0, dtype=np.float64)
    batched = y0.ndim == 2
    Y0 = y0 if batched else y0[None]
    if Y0.shape[-1] != len(f1.names):
        raise ValueError(f"y0 must have {len(f1.names)} components {list(f1.names)}, got "
                         f"{Y0.shape[-1]}")
    solve = _solver(f1, f2, protocol, scenario.p, scenario.k, max_steps)
    ys, t_switch, codes, steps = jax.device_get(solve(
        jnp.asarray(Y0), jnp.asarray(times), jnp.asarray(rtol), jnp.asarray(atol)))
    if np.any(codes != 0) or not np.all(np.isfinite(ys)):
        raise IntegrationError(
            f"the adaptive ODE failed (diffrax codes {sorted(set(codes.ravel().tolist()))}): "
            f"try a shorter time, a smaller lr or a larger max_steps")
    risk = np.asarray(jax.vmap(jax.vmap(lambda y: f2.risk(y, f2.args)))(jnp.asarray(ys)))
    t_switch = np.where(t_switch > times[-1], np.nan, t_switch)
    unbatch = (lambda a: a) if batched else (lambda a: a[0])
    return OdeSolution(times=times, y=unbatch(ys), names=f1.names, risk=unbatch(risk),
                       event_time=t_switch if batched else float(t_switch[0]),
                       num_steps=unbatch(steps),
                       config={"protocol": protocol.describe(), "rtol": rtol, "atol": atol,
                               "max_steps": max_steps})


@functools.lru_cache(maxsize=16)
def _solver(f1, f2, protocol, p, k, max_steps):
    import diffrax as dfx
    import jax
    import jax.numpy as jnp
    import optimistix as optx

    idx = jnp.asarray([i for i, n in enumerate(f1.names) if n.startswith("M")])

    def measure(y):
        return protocol.measure(y[idx].reshape(p, k))

    event = dfx.Event(lambda t, y, args, **kw: measure(y) - protocol.threshold,
                      root_finder=optx.Newton(rtol=1e-12, atol=1e-12))
    method = dfx.Tsit5()

    def one(y0, ts, rtol, atol):
        controller = dfx.PIDController(rtol=rtol, atol=atol)
        t0, t1 = ts[0], ts[-1]
        at_start = measure(y0) >= protocol.threshold
        save = dfx.SaveAt(subs=[dfx.SubSaveAt(ts=ts), dfx.SubSaveAt(t1=True)])
        s1 = dfx.diffeqsolve(dfx.ODETerm(f1.rhs), method, t0, t1, None, y0, f1.args,
                             saveat=save, stepsize_controller=controller, event=event,
                             max_steps=max_steps, throw=False)
        fired = s1.result == dfx.RESULTS.event_occurred
        t_sw = jnp.where(at_start, t0, jnp.where(fired, s1.ts[1][0], jnp.inf))
        y_sw = jnp.where(at_start, y0, s1.ys[1][0])
        start = jnp.minimum(t_sw, t1 - 1e-9 * (t1 - t0))
        s2 = dfx.diffeqsolve(dfx.ODETerm(f2.rhs), method, start, t1, None, y_sw, f2.args,
                             saveat=dfx.SaveAt(ts=jnp.clip(ts, start, t1)),
                             stepsize_controller=controller, max_steps=max_steps,
                             throw=False)
        after = (ts >= t_sw)[:, None]
        ys = jnp.where(after, s2.ys, s1.ys[0])
        code1 = jnp.where(fired | at_start, 0, s1.result._value)
        code2 = jnp.where(jnp.isfinite(t_sw), s2.result._value, 0)
        steps = s1.stats["num_steps"] + jnp.where(jnp.isfinite(t_sw), s2.stats["num_steps"], 0)
        return ys, t_sw, jnp.maximum(code1, code2), steps

    return jax.jit(jax.vmap(one, (0, None, None, None)))
