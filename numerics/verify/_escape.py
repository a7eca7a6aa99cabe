"""Measured sample complexity of a single-index target: steps until the overlap escapes,
over d and seeds, with the learning rate the information exponent prescribes."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy as sp

from ._fit import ExponentFit, fit_exponent
from ._rates import best_lr
from ._scaling import ScalingLaw, escape_times, information_exponent, scaling_law

if TYPE_CHECKING:
    from escalier.derive import Target
    from escalier.numerics.simulation import Engine, TrainingProtocol

__all__ = ["EscapeScaling", "best_lr", "escape_scaling"]


@dataclass(frozen=True)
class EscapeScaling:
    """Steps to escape (|m| >= threshold) per d and seed, against the predicted law.

    Every run counts, whatever the sign of its start m0 ~ N(0, 1/d): with the prescribed
    rate the fluctuations of sqrt(d) m are of order one where the escape is decided, so a
    run that starts with m0 < 0 (from where, for odd l, the drift alone would only bring m
    back to 0) escapes on the same d^{l-1} scale (numerics.verify._diffusion).

    Attributes:
        law: the ScalingLaw of the student-compatible information exponent.
        ds: dimensions.
        lrs: learning rate used at each d (law.lr(lr0, d)).
        diffusion_times: (n_d,) mean escape time (t units) of the small-overlap diffusion at
            that rate, the time scale used to size each simulation (a numerical prediction).
        horizons: (n_d,) simulated durations (t units).
        steps: (n_d, S) steps to escape, nan where the run did not escape within the horizon.
        typical: (n_d,) typical steps: geometric mean when every seed escaped, else the
            median (nan when fewer than half escaped).
        fit: fitted exponent of `typical` against d (None if fewer than two finite values).
        predicted: the law's log-log slope over ds.
        diffusion_exponent: log-log slope of d x diffusion_times over ds (the diffusion's
            finite-d prediction for the same learning rates; nan for a single d).
        seconds: (n_d,) wall time of the simulations per d.
        config: JSON-ready configuration.
    """

    law: ScalingLaw
    ds: tuple[int, ...]
    lrs: tuple[float, ...]
    diffusion_times: np.ndarray
    horizons: np.ndarray
    steps: np.ndarray
    typical: np.ndarray
    fit: ExponentFit | None
    predicted: float
    diffusion_exponent: float
    seconds: np.ndarray
    config: dict[str, Any] = field(default_factory=dict)

    def to_text(self) -> str:
        lines = [f"{'d':>6} {'lr':>10} {'t_diffusion':>11} {'horizon':>10} {'escaped':>9} "
                 f"{'typical steps':>14} {'steps / law':>12} {'seconds':>8}"]
        for i, d in enumerate(self.ds):
            s = self.steps[i]
            ok = int(np.isfinite(s).sum())
            ratio = self.typical[i] / float(self.law.steps(d))
            lines.append(f"{d:>6} {self.lrs[i]:>10.4g} {self.diffusion_times[i]:>11.4g} "
                         f"{self.horizons[i]:>10.4g} {ok:>5}/{s.size:<3} "
                         f"{self.typical[i]:>14.4g} {ratio:>12.4g} {self.seconds[i]:>8.1f}")
        return "\n".join(lines)

    def notes(self) -> list[str]:
        """Plain-language explanations of the table: units, and why runs did not escape."""
        k = self.config.get("steps_per_batch", 1)
        if k > 1:
            out = [f"batch reuse ({k} steps per sample): 'typical steps' and 'steps / law' count "
                   f"samples (SGD steps / {k}); t_diffusion = escape time (samples / d) of the "
                   f"d -> infinity reuse ODE at that d; horizon = samples given / d"]
        else:
            out = ["t_diffusion and horizon are in units of t = SGD steps / d; typical steps "
                   "are SGD steps (one sample each)"]
        total = self.steps.size
        missing = int((~np.isfinite(self.steps)).sum())
        if missing:
            seeds = self.steps.shape[1]
            if self.config.get("engine") == "gram":
                why = (f"the gram engine stops at each d once at least {median_error_need(seeds)} of "
                       f"{seeds} runs escaped (enough for the median and its order-statistic "
                       f"error), so the slower runs are cut off there, not failed")
            else:
                why = (f"each run is simulated up to the horizon ({self.config.get('budget')} "
                       f"times t_diffusion); the escape time of one run is random with an O(1) "
                       f"relative spread and a long right tail")
            odd = (" For an odd link (l odd) a run that starts with m0 < 0 is first driven "
                   "back to m = 0 and escapes later, by fluctuations." if self.law.l % 2 and k == 1 else "")
            out.append(f"{missing} of {total} runs did not reach the threshold: {why}; the "
                       f"typical value is then the median over all runs.{odd}")
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "config": self.config, "l": self.law.l, "law": self.law.law,
            "lr_rule": self.config.get("lr_rule", self.law.lr_rule), "d": list(self.ds),
            "lr": list(self.lrs), "diffusion_times": self.diffusion_times.tolist(),
            "horizons": self.horizons.tolist(), "seconds": self.seconds.tolist(),
            "steps": [[None if math.isnan(v) else v for v in row] for row in self.steps.tolist()],
            "typical": [None if math.isnan(v) else v for v in self.typical.tolist()],
            "fit": None if self.fit is None else self.fit.to_json(),
            "predicted_exponent": self.predicted,
            "diffusion_exponent": None if math.isnan(self.diffusion_exponent)
            else self.diffusion_exponent,
            "notes": self.notes(),
        }


def _typical_fit(ds, counts):
    """Per d the typical count (median with its error, `_typical`) and the power-law fit of
    the typical counts against d (None with fewer than two finite points)."""
    typ = [_typical(c) for c in counts]
    typical = np.array([v for v, _ in typ])
    ok = np.isfinite(typical)
    if ok.sum() < 2:
        return typical, None
    errs = [e for (_, e), good in zip(typ, ok, strict=True) if good]
    yerr = None if any(e is None for e in errs) else np.array(errs)
    return typical, fit_exponent(np.array(ds)[ok], typical[ok], yerr)


def _typical(steps: np.ndarray) -> tuple[float, float | None]:
    ok = np.isfinite(steps)
    if ok.all():
        logs = np.log(steps)
        se = logs.std(ddof=1) / math.sqrt(logs.size) if logs.size > 1 else None
        gm = float(np.exp(logs.mean()))
        return gm, (None if se is None or se == 0 else gm * se)
    if ok.sum() * 2 > steps.size:
        # the median, with the distribution-free standard error of its logarithm: half the
        # log-spread of the order statistics n/2 -+ sqrt(n)/2 (a ~68% interval), when known
        x = np.sort(np.where(ok, steps, np.inf))
        med = float(np.median(x))
        n = x.size
        lo, hi = math.floor(n / 2 - math.sqrt(n) / 2), math.ceil(n / 2 + math.sqrt(n) / 2) - 1
        lo, hi = max(lo, 0), min(hi, n - 1)
        if hi > lo and np.isfinite(x[hi]):
            se = (math.log(x[hi]) - math.log(x[lo])) / 2
            return med, (med * se if se > 0 else None)
        return med, None
    return math.nan, None


def median_error_need(seeds: int) -> int:
    """Escaped runs needed for the median and its order-statistic error (`_typical`)."""
    return min(seeds, math.ceil(seeds / 2 + math.sqrt(seeds) / 2))


def escape_scaling(target: Target | str, student: str | sp.Expr | None = None,
                   ds: Sequence[int] = (128, 256, 512, 1024), *, seeds: int = 8,
                   seed: int = 0, lr0: float | None = None, threshold: float = 0.5,
                   budget: float = 10.0, n_records: int = 400, engine: str | Engine = "full",
                   loss: str = "correlation", progress: bool = False,
                   protocol: TrainingProtocol | None = None) -> EscapeScaling:
    """Steps until |m| >= threshold for spherical online SGD on a single-index target.

    The student is one spherical neuron (p = 1, ||w||^2 = d) with activation `student`
    (default: the target's own link), trained with the correlation loss (default) and the
    learning rate its information exponent l prescribes, lr = lr0 d^{-(l-2)/2} (l >= 3) or
    lr0 (l <= 2) (Ben Arous, Gheissari, Jagannath 2021). The prefactor lr0, when not given,
    is half the one that minimises the mean escape time of the small-overlap diffusion
    (ODE drift plus SGD noise, numerics.verify._diffusion) at the smallest d: the fastest
    rate minimises the time at that d but its finite-d corrections (the lr^2 term at
    m = O(1)) bend the measured slope below the law; half of it keeps them small
    (He3: predicted slope 1.98 over d = 10^3..10^4 against 1.88 at the optimum). Each
    simulation runs for `budget` times the diffusion's mean escape time.

    Args:
        target: single-index Target or text, e.g. "He3(z1)".
        student: activation (default: the target's link f(x)).
        ds: dimensions.
        seeds, seed: runs per d and the PRNG seed.
        lr0: learning-rate prefactor (None: half the diffusion-optimal one, see above).
        threshold: escape level of |m|.
        budget: simulated time / the diffusion's mean escape time.
        n_records: records per run (the resolution of the escape time is horizon / n_records).
        engine: an Engine or its registry name ("full", "gram"); an engine with event stops
            (gram) runs each d until most seeds escaped, the others over the horizon.
        loss: "correlation" or "square".
        progress: progress bars.
        protocol: OnlineSGD() (default) or StepsPerBatch(k) (batch reuse, batch size 1:
            each sample is used for k consecutive steps). Under reuse the law is that of the
            generative exponent of the exponents report (d for 1, d log d for 2), the default
            student is a ReLU neuron (generative exponent 1) or x^2/2 (2), the rate is lr0 at
            every d (`reuse_rate`: half the rate minimising the escape time of the
            d -> infinity reuse ODE; the reuse effect is the O(lr) shift of a sample's
            pre-activation between its steps, so lr must not shrink with d) and each run is
            given budget x the ODE's escape time. Steps in the result are always *samples*
            (SGD steps / k).

    Returns:
        EscapeScaling.

    Raises:
        ValueError: not single-index, an incompatible student, or a learning rate at which
            the small-overlap diffusion does not escape (lower lr0: the lr^2 term wins).
    """
    import jax
    from tqdm.auto import tqdm

    from escalier.derive import Scenario, Target
    from escalier.numerics.simulation import (
        EscapeThreshold,
        OnlineSGD,
        StepsPerBatch,
        resolve_engine,
        simulate,
    )

    from ._compare import ode_functions
    from ._diffusion import EscapeDiffusion

    t = Target.parse(target) if isinstance(target, str) else target
    if t.k != 1:
        raise ValueError(
            f"escalier scaling measures single-index targets (k = 1: one spherical neuron, "
            f"online or StepsPerBatch(k)); got k = {t.k} ({t.text or t.expr}): multi-index "
            f"scaling (p >= k neurons, time for the subspace overlap) is not implemented; "
            f"run the multi-index protocols with `escalier simulate` instead")
    protocol = OnlineSGD() if protocol is None else protocol
    if student is None and getattr(protocol, "steps_per_batch", 1) > 1:
        # reuse: a ReLU neuron (the paper's, arXiv 2405.15459 Fig. 1) for generative
        # exponent 1; for 2 the growth of m needs E[He2(x) sigma'(x)^2] != 0, which ReLU
        # lacks, so the quadratic neuron (docs/reuse.md "The reuse rate rule")
        gen = protocol_predictions(t)["generative_exponent"] if t.k == 1 else None
        student = "x**2/2" if gen == 2 else "relu"
    if student is None:
        student = t.expr.xreplace({t.variables[0]: sp.Symbol("x", real=True)})
    if not isinstance(protocol, OnlineSGD | StepsPerBatch):
        raise ValueError(f"escape scaling runs OnlineSGD() or StepsPerBatch(k), got "
                         f"{protocol!r}")
    k_reuse = protocol.steps_per_batch
    predictions = protocol_predictions(t)
    if k_reuse == 1:
        law = scaling_law(information_exponent(t, student))
    else:
        gen = predictions["generative_exponent"]
        if gen is None or gen > 2:
            raise ValueError(
                f"the exponents report gives generative exponent {gen} for {t.text or t.expr} "
                f"(batch-reuse class {predictions['reuse']}): no O(d) or O(d log d) law to "
                f"measure under reuse")
        law = scaling_law(gen)
    if not (0 < threshold < 1):
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    if not budget > 1:
        raise ValueError(f"budget must be > 1 (a multiple of the diffusion's mean escape time), "
                         f"got {budget}")
    if not (isinstance(seeds, int) and seeds >= 1):
        raise ValueError(f"seeds must be a positive integer, got {seeds!r}")
    if lr0 is not None and not lr0 > 0:
        raise ValueError(f"lr0 must be > 0 (or None for the diffusion rule), got {lr0}")
    ds = tuple(sorted({int(d) for d in ds}))
    eng = resolve_engine(engine)
    engine = eng.name
    base = Scenario(t, student=student, p=1, lr=1.0, loss=loss, spherical=True)
    if k_reuse > 1:
        return _reuse_scaling(base, law, protocol, predictions, ds, seeds, seed, lr0,
                              threshold, budget, eng, progress)
    fns = ode_functions(base)  # one derivation; the learning rate enters through args
    model = EscapeDiffusion(fns, base, threshold)
    if lr0 is None:
        c_opt, _ = model.prefactor(law, ds[0])
        lr0 = c_opt / 2
        lr_rule = (f"{law.lr_rule} with lr0 = {lr0:.4g}: half the prefactor minimising the "
                   f"mean escape time of the small-overlap diffusion at d = {ds[0]}")
    else:
        lr_rule = f"{law.lr_rule} with lr0 = {lr0:.4g} (given)"
    lrs, pred_times, horizons, steps, seconds = [], [], [], [], []
    for d in tqdm(ds, desc="scaling (d)", disable=not progress, leave=False):
        lr = law.lr(lr0, d)
        t_pred = model.time(lr, d)
        if not math.isfinite(t_pred):
            raise ValueError(
                f"with lr = {lr:.4g} at d = {d} the small-overlap diffusion never reaches |m| = "
                f"{threshold}: lower the learning rate (--lr)")
        if t_pred * d < 1:
            raise ValueError(
                f"with lr = {lr:.4g} at d = {d} the small-overlap diffusion predicts an escape "
                f"within {t_pred * d:.2g} SGD steps (t = {t_pred:.3g}, in units of steps / d): "
                f"the rate is far outside the small-step regime the diffusion and the law "
                f"describe; lower the learning-rate prefactor (--lr, now lr0 = {lr0:.4g})")
        horizon = budget * t_pred
        clock = time.perf_counter()
        if eng.has_events:
            # exact chain, run in chunks until most seeds escaped (cost independent of d)
            keys = jax.random.split(jax.random.key(seed), seeds)
            s_d, _ = eng.first_passage(replace(base, lr=lr), d, keys,
                                       EscapeThreshold(threshold, median_error_need(seeds)),
                                       limit=int(math.ceil(horizon * d)))
            horizons.append(horizon)
            steps.append(s_d)
        else:
            res = simulate(replace(base, lr=lr), d, horizon, seeds=seeds, seed=seed,
                           n_records=n_records, engine=eng, progress=progress)
            m = np.asarray(res.M)[:, :, 0, 0]
            t_esc = escape_times(res.times, m, threshold)
            horizons.append(float(res.times[-1]))
            steps.append(t_esc * d)
        if not np.isfinite(steps[-1]).any():
            raise ValueError(
                f"no run escaped (|m| >= {threshold}) at d = {d} with lr = {lr:.4g} within "
                f"{horizons[-1] * d:.4g} steps (t = {horizons[-1]:.4g}, {budget:g} times the "
                f"diffusion's mean escape time): the learning rate is outside the regime the "
                f"diffusion describes (lower --lr, now lr0 = {lr0:.4g}) or the horizon is too "
                f"short (raise --budget)")
        lrs.append(lr)
        pred_times.append(t_pred)
        seconds.append(time.perf_counter() - clock)
    steps = np.array(steps)
    typical, fit = _typical_fit(ds, steps)
    config = {"target": str(t.expr), "student": str(student), "d": list(ds), "seeds": seeds,
              "seed": seed, "lr0": lr0, "threshold": threshold, "budget": budget,
              "n_records": n_records, "engine": engine, "loss": loss, "p": 1,
              "spherical": True, "protocol": protocol.describe(), "predictions": predictions}
    pred_times = np.array(pred_times)
    diffusion = _slope(ds, np.array(ds) * pred_times) if len(ds) >= 2 else math.nan
    config["lr_rule"] = lr_rule
    return EscapeScaling(law, ds, tuple(lrs), pred_times, np.array(horizons), steps,
                         typical, fit, law.exponent(ds), diffusion, np.array(seconds), config)


def _slope(x, y) -> float:
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def protocol_predictions(target) -> dict[str, Any]:
    """The exponents report's sample laws for online SGD and batch reuse (escalier.derive.
    exponents): {"information_exponent", "online", "generative_exponent", "reuse"}."""
    from escalier.derive import exponents

    r = exponents(target, protocols=["online", "reuse"], alpha_c=False)
    online = r.online[0].cost if r.online else None
    return {"information_exponent": r.information_exponent, "online": online,
            "generative_exponent": r.generative_exponent, "reuse": r.reuse}


def _reuse_scaling(base, law, protocol, predictions, ds, seeds, seed, lr0, threshold, budget,
                   eng, progress) -> EscapeScaling:
    """escape_scaling under StepsPerBatch(k): steps counted in samples (steps / k)."""
    import jax
    from tqdm.auto import tqdm

    from escalier.numerics.simulation import EscapeThreshold, simulate

    from ._reuse_rate import reuse_escape_time, reuse_rate

    k = protocol.steps_per_batch
    if lr0 is None:
        rate = reuse_rate(base, threshold, ds[0], k)
        lr0 = rate.lr
        lr_rule = rate.describe()
    else:
        lr_rule = f"lr = lr0 = {lr0:.4g} at every d (given)"
    horizons, samples, seconds, ode_times = [], [], [], []
    for d in tqdm(ds, desc="scaling (d)", disable=not progress, leave=False):
        sc = replace(base, lr=lr0)
        t_ode = reuse_escape_time(base, lr0, threshold, d, k)
        ode_times.append(t_ode)
        budget_samples = (budget * t_ode * d if math.isfinite(t_ode)
                          else budget * 10 * float(law.steps(d)))
        clock = time.perf_counter()
        if eng.has_events:
            keys = jax.random.split(jax.random.key(seed), seeds)
            s_d, _ = eng.first_passage(sc, d, keys,
                                       EscapeThreshold(threshold, median_error_need(seeds)),
                                       limit=int(math.ceil(budget_samples * k)),
                                       protocol=protocol)
            s_d = np.asarray(s_d) / k
        else:
            res = simulate(sc, d, budget_samples * k / d, seeds=seeds, seed=seed,
                           n_records=400, engine=eng, protocol=protocol, progress=progress)
            s_d = escape_times(res.times, np.asarray(res.M)[:, :, 0, 0], threshold) * d / k
        seconds.append(time.perf_counter() - clock)
        horizons.append(budget_samples / d)
        samples.append(s_d)
        if not np.isfinite(s_d).any():
            raise ValueError(
                f"no run reached |m| >= {threshold} at d = {d} under {protocol.describe()} "
                f"with lr = {lr0:.4g} within {budget_samples:.4g} samples ({budget:g} x the "
                f"reuse ODE's escape time, or 10 x {law.law} if it has none); the time budget "
                f"was reached (raise --budget, or change --lr or --threshold: a reuse run can "
                f"settle at a weak-recovery overlap below it)")
    samples = np.array(samples)
    typical, fit = _typical_fit(ds, samples)
    config = {"target": str(base.target.expr), "student": str(base.student), "d": list(ds),
              "seeds": seeds, "seed": seed, "lr0": lr0, "threshold": threshold,
              "budget": budget, "engine": eng.name, "loss": base.loss, "p": 1,
              "spherical": True, "protocol": protocol.describe(), "steps_per_batch": k,
              "predictions": predictions, "lr_rule": lr_rule, "unit": "samples"}
    ode = np.array(ode_times)
    slope = (_slope(ds, np.array(ds) * ode) if len(ds) >= 2 and np.isfinite(ode).all()
             else math.nan)
    return EscapeScaling(law, ds, tuple(lr0 for _ in ds), ode, np.array(horizons), samples,
                         typical, fit, law.exponent(ds), slope, np.array(seconds), config)
