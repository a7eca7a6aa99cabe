"""Measured sample complexity of a single-index target: steps until the overlap escapes,
over d and seeds, with the learning rate the information exponent prescribes."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import sympy as sp

from ._fit import ExponentFit, fit_exponent
from ._scaling import ScalingLaw, escape_times, information_exponent, scaling_law

__all__ = ["EscapeScaling", "best_lr", "escape_scaling"]


@dataclass(frozen=True)
class EscapeScaling:
    """Steps to escape (|m| >= threshold) per d and seed, against the predicted law.

    Attributes:
        law: the ScalingLaw of the student-compatible information exponent.
        ds: dimensions.
        lrs: learning rate used at each d (law.lr(lr0, d)).
        ode_times: (n_d,) ODE escape time from m = d^{-1/2} (t units), the time scale used to
            size each simulation.
        horizons: (n_d,) simulated durations (t units).
        steps: (n_d, S) steps to escape, nan where the run did not escape within the horizon.
        counted: (n_d, S) whether a run enters `typical`: every run, or for odd l only the
            runs that start with m > 0 (from m < 0 the drift c m^{l-1} > 0 only brings m back
            to 0 and escape waits for the noise to change its sign; the law is for m > 0).
        typical: (n_d,) typical steps: geometric mean when every seed escaped, else the
            median (nan when fewer than half escaped).
        fit: fitted exponent of `typical` against d (None if fewer than two finite values).
        predicted: the law's log-log slope over ds.
        config: JSON-ready configuration.
    """

    law: ScalingLaw
    ds: tuple[int, ...]
    lrs: tuple[float, ...]
    ode_times: np.ndarray
    horizons: np.ndarray
    steps: np.ndarray
    counted: np.ndarray
    typical: np.ndarray
    fit: ExponentFit | None
    predicted: float
    config: dict[str, Any] = field(default_factory=dict)

    def to_text(self) -> str:
        lines = [f"{'d':>6} {'lr':>10} {'t_ODE':>10} {'horizon':>10} {'escaped/counted':>16} "
                 f"{'typical steps':>14} {'steps / law':>12}"]
        for i, d in enumerate(self.ds):
            s = self.steps[i][self.counted[i]]
            ok = int(np.isfinite(s).sum())
            ratio = self.typical[i] / float(self.law.steps(d))
            lines.append(f"{d:>6} {self.lrs[i]:>10.4g} {self.ode_times[i]:>10.4g} "
                         f"{self.horizons[i]:>10.4g} {ok:>12}/{s.size:<3} "
                         f"{self.typical[i]:>14.4g} {ratio:>12.4g}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "config": self.config, "l": self.law.l, "law": self.law.law,
            "lr_rule": self.law.lr_rule, "d": list(self.ds), "lr": list(self.lrs),
            "ode_times": self.ode_times.tolist(), "horizons": self.horizons.tolist(),
            "steps": [[None if math.isnan(v) else v for v in row] for row in self.steps.tolist()],
            "counted": self.counted.tolist(),
            "typical": [None if math.isnan(v) else v for v in self.typical.tolist()],
            "fit": None if self.fit is None else self.fit.to_json(),
            "predicted_exponent": self.predicted,
        }


def _typical(steps: np.ndarray) -> tuple[float, float | None]:
    ok = np.isfinite(steps)
    if ok.all():
        logs = np.log(steps)
        se = logs.std(ddof=1) / math.sqrt(logs.size) if logs.size > 1 else None
        gm = float(np.exp(logs.mean()))
        return gm, (None if se is None or se == 0 else gm * se)
    if ok.sum() * 2 > steps.size:
        return float(np.median(np.where(ok, steps, np.inf))), None
    return math.nan, None


def _eta_index(fns) -> int:
    names = [s.name for s in fns.system.parameters]
    if "eta" not in names:
        raise ValueError(f"the ODE system has no learning-rate parameter 'eta': {names}")
    return names.index("eta")


def _with_eta(fns, eta: float):
    return fns.args.at[_eta_index(fns)].set(eta)


def best_lr(fns, m0: float) -> float:
    """The learning rate that maximises the ODE's escape rate (dm/dt) / m at m = m0.

    For spherical online SGD, (dm/dt) / m = eta A(m) - eta^2 B(m) (drift, then the noise
    term of order eta^2; THEORY.md section 3), so the best rate is A / (2 B); with
    A ~ c m^{l-2} at m0 = d^{-1/2} it scales as d^{-(l-2)/2} for l >= 3, the rate the
    information exponent prescribes (Ben Arous et al. 2021), with its constant fixed.
    A and B are read off two evaluations of the lowered right-hand side.

    Raises:
        ValueError: no positive drift at m0 (the student cannot escape there).
    """
    import jax.numpy as jnp

    y = jnp.asarray([m0])
    g1 = float(fns.rhs(0.0, y, _with_eta(fns, 1.0))[0]) / m0
    g2 = float(fns.rhs(0.0, y, _with_eta(fns, 2.0))[0]) / m0
    B = (2 * g1 - g2) / 2
    A = g1 + B
    if not (A > 0 and B > 0):
        raise ValueError(f"no positive escape drift at m = {m0:.3g} (A = {A:.3g}, B = {B:.3g})")
    return A / (2 * B)


def escape_scaling(target, student=None, ds=(128, 256, 512, 1024), *, seeds: int = 8,
                   seed: int = 0, lr0: float | None = None, threshold: float = 0.5,
                   budget: float = 10.0, n_records: int = 400, engine: str = "full",
                   loss: str = "correlation", progress: bool = False) -> EscapeScaling:
    """Steps until |m| >= threshold for spherical online SGD on a single-index target.

    The student is one spherical neuron (p = 1, ||w||^2 = d) with activation `student`
    (default: the target's own link), trained with the correlation loss (default) and the
    learning rate of its information exponent l: by default half the rate that maximises the
    ODE's initial escape rate at m = d^{-1/2} (`best_lr`, which scales as d^{-(l-2)/2} for
    l >= 3), halved again while the ODE's noise floor keeps m below the threshold; or
    lr0 * d^{-(l-2)/2} (l >= 3) / lr0 (l <= 2) when lr0 is given. Each
    simulation runs for `budget` times the ODE's escape time from m = d^{-1/2}.

    Args:
        target: single-index Target or text, e.g. "He3(z1)".
        student: activation (default: the target's link f(x)).
        ds: dimensions.
        seeds, seed: runs per d and the PRNG seed.
        lr0: learning-rate prefactor (None: best_lr at each d).
        threshold: escape level of |m|.
        budget: simulated time / ODE escape time.
        n_records: records per run (the resolution of the escape time is horizon / n_records).
        engine: "full" or "gram".
        loss: "correlation" or "square".
        progress: progress bars.

    Returns:
        EscapeScaling.

    Raises:
        ValueError: not single-index, an incompatible student, or an ODE that does not escape
            from m = d^{-1/2} (lower lr0: the noise term lr^2 wins).
    """
    import jax
    from tqdm.auto import tqdm

    from escalier.derive import Scenario, Target
    from escalier.numerics.integrate import Crossing, integrate
    from escalier.numerics.scaling import gram_escape_steps
    from escalier.numerics.simulate import simulate

    from ._compare import ode_functions

    t = Target.parse(target) if isinstance(target, str) else target
    if t.k != 1:
        raise ValueError(f"escalier scaling is for single-index targets (k = 1), got k = {t.k}")
    if student is None:
        student = t.expr.xreplace({t.variables[0]: sp.Symbol("x", real=True)})
    law = scaling_law(information_exponent(t, student))
    if not (0 < threshold < 1):
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    if not budget > 1:
        raise ValueError(f"budget must be > 1 (a multiple of the ODE escape time), got {budget}")
    if lr0 is not None and not lr0 > 0:
        raise ValueError(f"lr0 must be > 0 (or None for the drift-maximising rate), got {lr0}")
    ds = tuple(sorted({int(d) for d in ds}))
    base = Scenario(t, student=student, p=1, lr=1.0, loss=loss, spherical=True)
    fns = ode_functions(base)  # one derivation; the learning rate enters through args
    lrs, ode_times, horizons, steps, counted = [], [], [], [], []
    for d in tqdm(ds, desc="scaling (d)", disable=not progress, leave=False):
        lr = best_lr(fns, d**-0.5) / 2 if lr0 is None else law.lr(lr0, d)
        t_max = 1e3 * float(law.steps(d)) / d + 1e3
        for _ in range(8):
            sol = integrate(fns.rhs, [d**-0.5], [0.0, t_max], _with_eta(fns, lr),
                            names=fns.names, event=Crossing(0, threshold, "up", terminate=True))
            t_ode = sol.event_time
            if math.isfinite(t_ode) or lr0 is not None:
                break
            lr /= 2  # the noise floor of m sits below the threshold: a smaller rate
        if not math.isfinite(t_ode):
            raise ValueError(
                f"the ODE started at m = d^-1/2 (d = {d}) never reaches {threshold} with lr = "
                f"{lr:.4g}: the noise term wins; lower the learning rate")
        horizon = budget * t_ode
        if engine == "gram":
            # exact chain, run in chunks until most seeds escaped (cost independent of d)
            keys = jax.random.split(jax.random.key(seed), seeds)
            s_d, _, mask = gram_escape_steps(
                replace(base, lr=lr), d, keys, threshold, limit=int(math.ceil(horizon * d)),
                counted=(lambda m0: m0 > 0) if law.l % 2 == 1 else
                (lambda m0: np.ones(m0.shape, dtype=bool)))
            counted.append(mask)
            horizons.append(horizon)
            steps.append(s_d)
        else:
            res = simulate(replace(base, lr=lr), d, horizon, seeds=seeds, seed=seed,
                           n_records=n_records, engine=engine, progress=progress)
            m = np.asarray(res.M)[:, :, 0, 0]
            t_esc = escape_times(res.times, m, threshold)
            counted.append(m[:, 0] > 0 if law.l % 2 == 1 else np.ones(m.shape[0], dtype=bool))
            horizons.append(float(res.times[-1]))
            steps.append(t_esc * d)
        lrs.append(lr)
        ode_times.append(t_ode)
    steps = np.array(steps)
    counted = np.array(counted)
    typ = [_typical(s[c]) if c.any() else (math.nan, None)
           for s, c in zip(steps, counted, strict=True)]
    typical = np.array([v for v, _ in typ])
    ok = np.isfinite(typical)
    fit = None
    if ok.sum() >= 2:
        errs = [e for (_, e), k in zip(typ, ok, strict=True) if k]
        yerr = None if any(e is None for e in errs) else np.array(errs)
        fit = fit_exponent(np.array(ds)[ok], typical[ok], yerr)
    config = {"target": str(t.expr), "student": str(student), "d": list(ds), "seeds": seeds,
              "seed": seed, "lr0": lr0, "threshold": threshold, "budget": budget,
              "n_records": n_records, "engine": engine, "loss": loss, "p": 1,
              "spherical": True}
    return EscapeScaling(law, ds, tuple(lrs), np.array(ode_times), np.array(horizons), steps,
                         counted, typical, fit, law.exponent(ds), config)
