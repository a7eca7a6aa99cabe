"""Simulation against ODE: run the network at several d, integrate the derived ODE from each
seed's own initial overlaps, and tabulate the deviations (the product's promise, checked)."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from escalier.derive import Scenario
from escalier.numerics.simulation import AdaptiveLoss, Engine, OnlineSGD, TrainingProtocol

from ._adaptive import solve_adaptive
from ._deviation import DeviationTable, deviation_table

__all__ = ["OdeFunctions", "Verification", "VerifyRun", "adaptive_ode", "ode_functions",
           "overlap_state", "verify"]


def _ode_system(scenario):
    from escalier.derive import ode_system

    return ode_system(scenario)


def overlap_state(scenario, Q, M, a):
    """The ODE state vector of given overlaps, in OdeSystem.state order.

    Order (escalier.derive OdeSystem): Q_jl for j <= l (row by row), then M_jr (row by row),
    then a_j when the second layer trains; spherical: Q_jl for j < l only (Q_jj = 1).

    Args:
        scenario: the Scenario.
        Q: (..., p, p), M: (..., p, k), a: (..., p) arrays (numpy or JAX).

    Returns:
        (..., n) array of the same kind.
    """
    import jax.numpy as jnp

    xp = np if all(isinstance(v, np.ndarray) for v in (Q, M, a)) else jnp
    p = scenario.p
    iu, ju = np.triu_indices(p, k=1 if scenario.spherical else 0)
    parts = [Q[..., iu, ju], M.reshape(*M.shape[:-2], -1)]
    if scenario.train_second_layer:
        parts.append(a)
    return xp.concatenate(parts, axis=-1)


@dataclass(frozen=True, eq=False)
class OdeFunctions:
    """The derived ODE of a scenario, lowered to JAX once.

    Attributes:
        system: the OdeSystem (SymPy).
        names: state component names.
        rhs: diffrax-signature rhs(t, y, args).
        risk: risk(y, args) -> scalar.
        args: the parameter vector (defaults of the scenario), passed as `args`.
    """

    system: Any
    names: tuple[str, ...]
    rhs: Any
    risk: Any
    args: Any

    def scheduled(self, schedule) -> OdeFunctions:
        """The ODE under a learning-rate schedule: eta (and eta_a) times schedule.factor(t)
        at time t, the d -> infinity limit of the engines' scheduled update (each step i uses
        the factor at i / d). A constant schedule returns self."""
        import jax.numpy as jnp

        if schedule.constant:
            return self
        names = [s.name for s in self.system.parameters]
        rates = [i for i, n in enumerate(names) if n in ("eta", "eta_a")]
        if not rates:
            raise ValueError(f"the ODE system has no learning-rate parameter (eta) among "
                             f"{names}; a schedule needs it")
        mask = jnp.zeros(len(names)).at[jnp.asarray(rates)].set(1.0)
        rhs = self.rhs

        def scheduled_rhs(t, y, args):
            return rhs(t, y, args * (1.0 + mask * (schedule.factor(t) - 1.0)))

        return dataclasses.replace(self, rhs=scheduled_rhs)

    def risk_of_overlaps(self, scenario):
        """risk_fn(Q, M, P, a) for simulate: the derived risk at the simulated overlaps."""
        def risk_fn(Q, M, P, a):
            return self.risk(overlap_state(scenario, Q, M, a), self.args)

        return risk_fn


def ode_functions(scenario) -> OdeFunctions:
    """Derive the ODE system of a scenario and lower its rhs and risk to JAX.

    Cached per scenario (the same functions, hence one compilation of the integrator, for
    every call with an equal Scenario).

    Raises:
        ValueError: a parameter of the system without a default value.
    """
    try:
        return _ode_functions_cached(scenario)
    except TypeError:  # unhashable scenario
        return _ode_functions(scenario)


@functools.lru_cache(maxsize=16)
def _ode_functions_cached(scenario) -> OdeFunctions:
    return _ode_functions(scenario)


def _ode_functions(scenario) -> OdeFunctions:
    import jax.numpy as jnp

    from escalier.numerics.lower import lower

    system = _ode_system(scenario)
    defaults = dict(system.defaults)
    missing = [str(s) for s in system.parameters if s not in defaults]
    if missing:
        raise ValueError(f"the ODE system has parameters without values: {missing}")
    params = tuple(system.parameters)
    rhs_l = lower(list(system.rhs), system.state, params)
    risk_l = lower(system.risk, system.state, params)
    if params:
        args = jnp.asarray([float(defaults[s]) for s in params], dtype=jnp.float64)
        rhs = lambda t, y, args: rhs_l(y, args)
        risk = lambda y, args: risk_l(y, args)
    else:
        args = None
        rhs = lambda t, y, args: rhs_l(y)
        risk = lambda y, args: risk_l(y)
    names = tuple(s.name for s in system.state)
    return OdeFunctions(system, names, rhs, risk, args)


@dataclass(frozen=True)
class VerifyRun:
    """Simulation and ODE at one d.

    Attributes:
        d: the dimension.
        times: (T,) record times (t = steps / d).
        sim: (S, T, n) simulated overlaps; ode: (S, T, n) each seed's ODE solution.
        sim_risk, ode_risk: (S, T) risks (the derived risk at the simulated overlaps, and
            along the ODE).
        ode_steps: (S,) solver steps.
    """

    d: int
    times: np.ndarray
    sim: np.ndarray
    ode: np.ndarray
    sim_risk: np.ndarray
    ode_risk: np.ndarray
    ode_steps: np.ndarray


@dataclass(frozen=True)
class Verification:
    """The outcome of `verify`: every run and the deviation table (overlaps and risk "R").

    Attributes:
        names: state component names.
        runs: one VerifyRun per d, by increasing d.
        table: DeviationTable over names + ("R",).
        config: JSON-ready configuration (scenario, d, seeds, seed, time, engine, tolerances).
    """

    names: tuple[str, ...]
    runs: tuple[VerifyRun, ...]
    table: DeviationTable
    config: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Configuration, deviation table, and per d the seed means of simulation and ODE."""
        return {
            "config": self.config,
            "names": list(self.names),
            "table": self.table.to_json(),
            "runs": [{
                "d": r.d, "times": r.times.tolist(),
                "sim_mean": r.sim.mean(0).tolist(), "sim_std": r.sim.std(0).tolist(),
                "ode_mean": r.ode.mean(0).tolist(),
                "sim_risk_mean": r.sim_risk.mean(0).tolist(),
                "ode_risk_mean": r.ode_risk.mean(0).tolist(),
            } for r in self.runs],
        }


def adaptive_ode(scenario, protocol, y0, times, *, rtol: float = 1e-8, atol: float = 1e-10,
                 max_steps: int = 100_000):
    """The ODE of an AdaptiveLoss run: the correlation-loss ODE until protocol.measure(M)
    reaches the threshold (a diffrax event), then the square-loss ODE (numerics/verify/
    _adaptive.py). y0: (n,) or (B, n) in OdeSystem.state order; returns an OdeSolution whose
    event_time is the switching time (nan: not reached; times[0]: the start is past it).

    Raises:
        ValueError: bad inputs; IntegrationError: a solver failure.
    """
    correlation, square = protocol.phases(scenario)
    return solve_adaptive(scenario, protocol, ode_functions(correlation),
                          ode_functions(square), y0, times, rtol=rtol, atol=atol,
                          max_steps=max_steps)


def verify(scenario: Scenario, ds: Sequence[int], time: float, *, seeds: int = 8,
           seed: int = 0, n_records: int = 100, engine: str | Engine = "full",
           protocol: TrainingProtocol | None = None, rtol: float = 1e-8, atol: float = 1e-10,
           progress: bool = False) -> Verification:
    """Simulate the network at each d and compare it with its ODE, seed by seed.

    For each d: `simulate(scenario, d, time, seeds, seed, engine)`; the derived ODE is
    integrated (vmapped over seeds) from each seed's own initial overlaps on the simulation's
    record times; the table holds mean_s max_t |sim - ode| per overlap and for the risk,
    with standard errors across seeds, and its fitted exponent in d (theory: about -1/2).

    Args:
        scenario: escalier.derive.Scenario (the one definition of both twins).
        ds: dimensions (distinct).
        time: duration in t = steps / d.
        seeds, seed: number of runs and the PRNG seed (same seed at every d).
        n_records: records after t = 0.
        engine: simulation engine ("full" or "gram").
        protocol: OnlineSGD (default) with an optional learning-rate schedule, which the ODE
            follows (OdeFunctions.scheduled), or AdaptiveLoss (adaptive_ode); the ODE
            describes online SGD only.
        rtol, atol: ODE tolerances.
        progress: progress bars (over d, and the simulations').

    Returns:
        Verification.

    Raises:
        ValueError: bad input, or a diverging simulation (from simulate).
        IntegrationError: the ODE solver failed.
    """
    from escalier.numerics.integrate import integrate
    from escalier.numerics.simulation import simulate

    ds = sorted({int(d) for d in ds})
    if not ds:
        raise ValueError("give at least one dimension d")
    protocol = OnlineSGD() if protocol is None else protocol
    adaptive = isinstance(protocol, AdaptiveLoss)
    if not isinstance(protocol, OnlineSGD) and not adaptive:
        raise ValueError(f"verify compares online SGD with its ODE; got the training protocol "
                         f"{protocol.describe() if isinstance(protocol, TrainingProtocol) else protocol!r}")
    if adaptive:  # names and risk are the same in both phases
        fns = ode_functions(protocol.phases(scenario)[1])
    else:
        fns = ode_functions(scenario).scheduled(protocol.learning_rate_schedule)
    risk_fn = fns.risk_of_overlaps(scenario)
    from tqdm.auto import tqdm

    runs, sims, odes = [], [], []
    for d in tqdm(ds, desc="verify (d)", disable=not progress, leave=False):
        res = simulate(scenario, d, time, seeds=seeds, seed=seed, n_records=n_records,
                       engine=engine, protocol=protocol, risk_fn=risk_fn, progress=progress)
        sim = np.asarray(overlap_state(scenario, res.Q, res.M, res.a))
        if adaptive:
            sol = adaptive_ode(scenario, protocol, sim[:, 0], res.times, rtol=rtol, atol=atol)
        else:
            sol = integrate(fns.rhs, sim[:, 0], res.times, fns.args, risk=fns.risk,
                            names=fns.names, rtol=rtol, atol=atol)
        sim_risk = np.asarray(res.risk)
        runs.append(VerifyRun(d, np.asarray(res.times), sim, sol.y, sim_risk, sol.risk,
                              np.asarray(sol.num_steps)))
        sims.append(np.concatenate([sim, sim_risk[..., None]], axis=-1))
        odes.append(np.concatenate([sol.y, sol.risk[..., None]], axis=-1))
    table = deviation_table((*fns.names, "R"), ds, sims, odes)
    config = {"scenario": scenario.to_json(), "d": ds, "time": float(time),
              "seeds": seeds, "seed": seed, "n_records": n_records, "engine": engine,
              "protocol": protocol.describe(),
              "rtol": rtol, "atol": atol, "ode_backend": getattr(fns.system, "backend", None)}
    return Verification(fns.names, tuple(runs), table, config)
