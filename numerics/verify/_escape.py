"""Measured sample complexity of one spherical neuron on a single- or multi-index target:
samples until the projection on the teacher subspace escapes, over d and seeds, with the
learning rate the protocol's exponent prescribes, or the runs' outcome at a sample budget
when the protocol has no law to measure."""

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
from ._reuse_rate import MAX_K
from ._scaling import ScalingLaw, escape_times, information_exponent, scaling_law

if TYPE_CHECKING:
    from escalier.derive import Target
    from escalier.numerics.simulation import Engine, TrainingProtocol

__all__ = ["MAX_K", "EscapeScaling", "best_lr", "check_scaling_target", "default_student",
           "escape_scaling"]


@dataclass(frozen=True)
class EscapeScaling:
    """Steps to escape (|M_1.|_P >= threshold; |m| for a single-index target) per d and
    seed, against the predicted law, or against a sample budget (`sample_budget`).

    Every run counts, whatever the sign of its start m0 ~ N(0, 1/d): with the prescribed
    rate the fluctuations of sqrt(d) m are of order one where the escape is decided, so a
    run that starts with m0 < 0 (from where, for odd l, the drift alone would only bring m
    back to 0) escapes on the same d^{l-1} scale (numerics.verify._diffusion).

    Attributes:
        law: the ScalingLaw measured (information exponent online, generative exponent under
            reuse); None on the budget path (no law: the runs are only counted).
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
        predicted_threshold: for a d log d law, the slope of d ln(threshold sqrt(d / k)),
            the law with the offset of a fixed threshold (ScalingLaw.threshold_exponent);
            nan otherwise.
        diffusion_exponent: log-log slope of d x diffusion_times over ds (the diffusion's
            finite-d prediction for the same learning rates; nan for a single d).
        seconds: (n_d,) wall time of the simulations per d.
        config: JSON-ready configuration.
        sample_budget: (n_d,) the samples each run was given on the budget path
            (C d ln d), None when a law is measured; there, `fit` is None (no extrapolation).
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
    sample_budget: np.ndarray | None = None
    predicted_threshold: float = math.nan

    @property
    def budget_reached(self) -> bool:
        """Budget path: whether some run at some d had not escaped when its budget ran out."""
        return self.sample_budget is not None and bool((~np.isfinite(self.steps)).any())

    def escaped(self) -> np.ndarray:
        """(n_d,) runs that escaped at each d."""
        return np.isfinite(self.steps).sum(axis=1)

    def budget_lines(self) -> list[str]:
        """Budget path: one line per d, 'not learned within N samples' or 'learned'."""
        out = []
        for i, d in enumerate(self.ds):
            e, n = int(self.escaped()[i]), self.steps.shape[1]
            what = ("learned (more than half the runs escaped)" if 2 * e > n else
                    "not learned")
            out.append(f"d = {d}: {what} within {self.sample_budget[i]:.4g} samples "
                       f"({self.config.get('sample_budget_factor'):g} x d ln d): {e}/{n} runs "
                       f"escaped; the time budget was reached"
                       if e < n else f"d = {d}: learned within {self.sample_budget[i]:.4g} "
                       f"samples: {e}/{n} runs escaped")
        return out

    def to_text(self) -> str:
        if self.law is None:
            lines = [f"{'d':>6} {'lr':>10} {'budget (samples)':>17} {'escaped':>9} "
                     f"{'median samples':>15} {'seconds':>8}"]
            for i, d in enumerate(self.ds):
                s = self.steps[i]
                ok = int(np.isfinite(s).sum())
                lines.append(f"{d:>6} {self.lrs[i]:>10.4g} {self.sample_budget[i]:>17.4g} "
                             f"{ok:>5}/{s.size:<3} {self.typical[i]:>15.4g} "
                             f"{self.seconds[i]:>8.1f}")
            return "\n".join(lines)
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
        reuse = self.config.get("reuse", k > 1)
        if self.law is None:
            return [f"budget path: {self.config.get('budget_reason')}; each run is given "
                    f"{self.config.get('sample_budget_factor'):g} x d ln d samples"
                    + (f" (SGD steps / {k})" if k > 1 else "")
                    + "; the runs are counted, no law is fitted or extrapolated"]
        if reuse:
            how = (f"batch reuse ({k} steps per sample)" if k > 1 else
                   f"{self.config.get('protocol')} (one displaced step per sample)")
            model = ("mean escape time (samples / d) of the reuse diffusion at that d (the "
                     "reuse ODE's drift, its per-sample noise, the random start m0 ~ N(0, "
                     "1/d)); the ODE's own times are in the JSON (reuse_ode_times)"
                     if self.config.get("k_target", 1) == 1 else
                     "escape time (samples / d) of the d -> infinity reuse ODE at that d")
            out = [f"{how}: 'typical steps' and 'steps / law' count samples"
                   + (f" (SGD steps / {k})" if k > 1 else "")
                   + f"; t_diffusion = {model}; horizon = samples given / d"]
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
                   "back to m = 0 and escapes later, by fluctuations."
                   if self.law.l % 2 and k == 1 and self.config.get("k_target", 1) == 1
                   else "")
            out.append(f"{missing} of {total} runs did not reach the threshold: {why}; the "
                       f"typical value is then the median over all runs.{odd}")
        return out

    def to_json(self) -> dict[str, Any]:
        budget = self.sample_budget is not None
        return {
            "config": self.config, "l": None if self.law is None else self.law.l,
            "law": None if self.law is None else self.law.law,
            "lr_rule": self.config.get("lr_rule"), "d": list(self.ds),
            "budget_reached": self.budget_reached,
            "sample_budget": self.sample_budget.tolist() if budget else None,
            "escaped": self.escaped().tolist(),
            "lr": list(self.lrs), "diffusion_times": [None if math.isnan(v) else v
                                for v in self.diffusion_times.tolist()],
            "horizons": self.horizons.tolist(), "seconds": self.seconds.tolist(),
            "steps": [[None if math.isnan(v) else v for v in row] for row in self.steps.tolist()],
            "typical": [None if math.isnan(v) else v for v in self.typical.tolist()],
            "fit": None if self.fit is None else self.fit.to_json(),
            "predicted_exponent": None if math.isnan(self.predicted) else self.predicted,
            "predicted_exponent_at_threshold": None if math.isnan(self.predicted_threshold)
            else self.predicted_threshold,
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




def check_scaling_target(target) -> None:
    """Refuse a target of more than MAX_K directions (one line naming what is accepted)."""
    if target.k > MAX_K:
        raise ValueError(
            f"escalier scaling measures one spherical neuron on targets of at most {MAX_K} "
            f"directions; got k = {target.k} ({target.text or target.expr}): the rate rules "
            f"integrate over k + 1 Gaussian variables (run `escalier simulate` instead)")


def escape_scaling(target: Target | str, student: str | sp.Expr | None = None,
                   ds: Sequence[int] = (128, 256, 512, 1024), *, seeds: int = 8,
                   seed: int = 0, lr0: float | None = None, threshold: float = 0.5,
                   budget: float = 10.0, n_records: int = 400, engine: str | Engine = "full",
                   loss: str = "correlation", progress: bool = False,
                   protocol: TrainingProtocol | None = None,
                   sample_budget: float | None = None) -> EscapeScaling:
    """Samples until one spherical neuron's projection on the teacher subspace,
    |M_1.|_P = sqrt(M_1. P^+ M_1.^T) (|m| for a single-index target), reaches `threshold`.

    The student is one spherical neuron (p = 1, ||w||^2 = d) with activation `student`,
    trained with the correlation loss (default). Single-index targets (k = 1): default
    student the target's own link (online), ReLU or x^2/2 (reuse, see below); rate
    lr = lr0 d^{-(l-2)/2} (l >= 3) or lr0 (l <= 2) for the student-compatible information
    exponent l (Ben Arous, Gheissari, Jagannath 2021), lr0 (when not given) half the
    prefactor minimising the mean escape time of the small-overlap diffusion (ODE drift
    plus SGD noise, numerics.verify._diffusion) at the smallest d: the fastest rate
    minimises the time at that d but its finite-d corrections (the lr^2 term at m = O(1))
    bend the measured slope below the law; half of it keeps them small (He3: predicted
    slope 1.98 over d = 10^3..10^4 against 1.88 at the optimum). Each simulation runs for
    `budget` times the diffusion's mean escape time.

    Multi-index targets (2 <= k <= MAX_K, P = I; docs/reuse.md "Multi-index targets"):
    default student He_l, l the target's information exponent (e.g. He3 for z1*z2*z3),
    under both protocols; the same rules evaluated on the line M_1. = m u through the
    symmetric direction u = (1, ..., 1)/sqrt(k) of the teacher subspace, from the start's
    scale sqrt(k / d) (`LineDiffusion` online, `reuse_rate` under reuse).

    Budget path: under reuse, a target whose generative exponent is above 2 (the exponents
    report gives no O(d) or O(d log d) reuse law, e.g. sign(z1*z2*z3)), or any target when
    `sample_budget` is given: every run gets C d ln d samples (C = sample_budget, default
    `budget`), the runs that escaped are counted and no law is fitted; the result says the
    budget was reached. The rate there: the protocol's rule when it has one; under reuse
    without a law, the online rule's rate at the smallest d, held at every d.

    Args:
        target: Target or text, e.g. "He3(z1)" or "z1*z2*z3".
        student: activation (default: see above).
        ds: dimensions.
        seeds, seed: runs per d and the PRNG seed.
        lr0: learning-rate prefactor (None: the rule above).
        threshold: escape level of |M_1.|_P.
        budget: simulated time / the rule model's escape time (and the default C of the
            budget path).
        n_records: records per run (the resolution of the escape time is horizon / n_records).
        engine: an Engine or its registry name ("full", "gram"); an engine with event stops
            (gram) runs each d until most seeds escaped, the others over the horizon.
        loss: "correlation" or "square".
        progress: progress bars.
        protocol: OnlineSGD() (default) or StepsPerBatch(k) (batch reuse, batch size 1:
            each sample is used for k consecutive steps). Under reuse the law is that of the
            generative exponent of the exponents report (d for 1, d log d for 2), the default
            single-index student is a ReLU neuron (generative exponent 1) or x^2/2 (2), the
            rate is lr0 at every d (`reuse_rate`: half the rate minimising the escape time of
            the d -> infinity reuse ODE; the reuse effect is the O(lr) shift of a sample's
            pre-activation between its steps, so lr must not shrink with d) and each run is
            given budget x the ODE's escape time. Steps in the result are always *samples*
            (SGD steps / k).
        sample_budget: C of the budget path (None: only when the protocol has no law).

    Returns:
        EscapeScaling (law None and sample_budget set on the budget path).

    Raises:
        ValueError: more than MAX_K directions, p > 1 or non-identity P, an incompatible
            student, or a learning rate at which the rule's model does not escape (lower
            lr0: the lr^2 term wins).
    """
    from escalier.derive import Scenario, Target
    from escalier.numerics.simulation import (
        Extragradient,
        OnlineSGD,
        StepsPerBatch,
        resolve_engine,
    )

    t = Target.parse(target) if isinstance(target, str) else target
    check_scaling_target(t)
    protocol = OnlineSGD() if protocol is None else protocol
    if not isinstance(protocol, OnlineSGD | StepsPerBatch | Extragradient):
        raise ValueError(f"escape scaling runs OnlineSGD(), StepsPerBatch(k) or "
                         f"Extragradient(probe), got {protocol!r}")
    k_reuse = protocol.steps_per_batch
    probe = float(protocol.probe) if isinstance(protocol, Extragradient) else None
    reuse = k_reuse > 1 or probe is not None
    predictions = protocol_predictions(t)
    gen = predictions["generative_exponent"]
    if student is None:
        student = default_student(t, protocol, predictions)
    no_law = reuse and (gen is None or gen > 2)
    if sample_budget is not None and not sample_budget > 0:
        raise ValueError(f"sample_budget must be > 0 (samples per d ln d), got {sample_budget}")
    if no_law and sample_budget is None:
        sample_budget = budget
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
    base = Scenario(t, student=student, p=1, lr=1.0, loss=loss, spherical=True)
    if t.k > 1 and not np.array_equal(np.asarray(base.P, float), np.eye(t.k)):
        raise ValueError(f"multi-index scaling takes orthonormal teacher rows (P = I), got "
                         f"{base.P}")
    if reuse and not no_law:
        law = scaling_law(gen)
    else:  # online; on the reuse budget path only its rate rule is used (below)
        law = scaling_law(information_exponent(t, student))
    config = {"target": str(t.expr), "student": str(student), "d": list(ds), "seeds": seeds,
              "seed": seed, "threshold": threshold, "budget": budget, "n_records": n_records,
              "engine": eng.name, "loss": loss, "p": 1, "k_target": t.k, "spherical": True,
              "protocol": protocol.describe(), "predictions": predictions,
              "escape_measure": ("|m|" if t.k == 1 else
                                 "|M_1.| = sqrt(sum_r M_1r^2) (projection on the teacher "
                                 "subspace)")}
    if reuse and not no_law:
        rate = _reuse_rule(base, threshold, ds, k_reuse, lr0, probe)
        runs = _reuse_runs
    else:
        rate = _online_rule(base, law, threshold, ds, lr0, reuse_held=reuse)
        runs = _online_runs
    config.update(lr0=rate["lr0"], lr_rule=rate["rule"])
    if reuse:
        config.update(reuse=True, steps_per_batch=k_reuse, unit="samples")
    if probe is not None:
        config.update(probe=probe)
    if sample_budget is not None:
        config.update(sample_budget_factor=float(sample_budget), budget_reason=(
            f"under {protocol.describe()} the exponents report gives generative exponent "
            f"{gen} (reuse: {predictions['reuse']}), no O(d) or O(d log d) law to measure"
            if no_law else f"sample budget {sample_budget:g} x d ln d requested"))
    out = runs(base, law, protocol, rate, ds, seeds, seed, threshold, budget, eng, progress,
               n_records, sample_budget)
    lrs, model_times, horizons, steps, seconds = out
    steps = np.array(steps)
    model_times = np.array(model_times)
    if sample_budget is not None:
        typical = np.array([_typical(s)[0] for s in steps])
        return EscapeScaling(None, ds, tuple(lrs), model_times, np.array(horizons), steps,
                             typical, None, math.nan, math.nan, np.array(seconds), config,
                             np.array(horizons) * np.array(ds))
    typical, fit = _typical_fit(ds, steps)
    slope = (_slope(ds, np.array(ds) * model_times)
             if len(ds) >= 2 and np.isfinite(model_times).all() else math.nan)
    if "ode_times" in rate:
        config.update(reuse_ode_times=rate["ode_times"], reuse_ode_exponent=(
            _slope(ds, np.array(ds) * np.array(rate["ode_times"]))
            if len(ds) >= 2 and np.isfinite(rate["ode_times"]).all() else None))
    return EscapeScaling(law, ds, tuple(lrs), model_times, np.array(horizons), steps, typical,
                         fit, law.exponent(ds), slope, np.array(seconds), config,
                         predicted_threshold=law.threshold_exponent(ds, threshold, t.k))


def default_student(target, protocol=None, predictions=None):
    """The default student of an escape measurement (docs/reuse.md): single-index online, the
    target's own link f(x); multi-index, He_l (l the target's information exponent); under
    k steps per sample (single-index), ReLU for generative exponent 1 and x^2/2 for 2; under
    extragradient, x^2/2 for generative exponent 2 (any k). `predictions`: the target's
    `protocol_predictions` (computed here when needed and not given)."""
    from escalier.numerics.simulation import Extragradient

    t = target
    probe = isinstance(protocol, Extragradient)
    reuse = probe or (protocol is not None and protocol.steps_per_batch > 1)
    if t.k == 1 and not reuse:
        return t.expr.xreplace({t.variables[0]: sp.Symbol("x", real=True)})
    predictions = protocol_predictions(t) if predictions is None else predictions
    gen = predictions["generative_exponent"]
    if probe and gen == 2:
        # displaced SGD on generative exponent 2: an even neuron has no odd correlation with
        # the target, so the growth is the look-ahead's alone, c1 = lr^2 (probe
        # E[He2(u.nu) y^2] E[He2 sigma'^2] / 2 - E[y^2] E[sigma'^2] / 2) + O(lr^3) > 0 for
        # x^2/2 (docs/reuse.md "Displaced SGD")
        return "x**2/2"
    if t.k > 1:
        l_t = predictions["information_exponent"]
        if l_t is None:
            raise ValueError(f"the exponents report gives no information exponent for "
                             f"{t.text or t.expr}: choose a student")
        return f"He{l_t}"
    # reuse: a ReLU neuron (the paper's, arXiv 2405.15459 Fig. 1) for generative exponent 1;
    # for 2 the growth of m needs E[He2(x) sigma'(x)^2] != 0, which ReLU lacks, so the
    # quadratic neuron (docs/reuse.md "The reuse rate rule")
    return "x**2/2" if gen == 2 else "relu"


def _online_rule(base, law, threshold, ds, lr0, reuse_held=False) -> dict[str, Any]:
    """The online rate rule: lr0 (given, or half the diffusion-optimal prefactor at ds[0])
    and the model that predicts each d's escape time. `reuse_held`: the budget path under
    reuse without a law, where the rate found at ds[0] is held at every d."""
    from ._compare import ode_functions
    from ._diffusion import EscapeDiffusion, LineDiffusion

    if base.k == 1:
        model = EscapeDiffusion(ode_functions(base), base, threshold)
        where = ""
    else:
        model = LineDiffusion(base, threshold)
        where = (f" along the symmetric line M_1. = m (1, ..., 1)/sqrt({base.k}) of the "
                 f"teacher subspace, start m0 ~ N(0, {base.k}/d)")
    if reuse_held and lr0 is not None:  # --lr under reuse: the rate at every d
        return {"lr0": lr0, "rule": f"lr = lr0 = {lr0:.4g} at every d (given)", "model": None,
                "law": None}
    if lr0 is None:
        c_opt, _ = model.prefactor(law, ds[0])
        lr0 = c_opt / 2
        rule = (f"{law.lr_rule} with lr0 = {lr0:.4g}: half the prefactor minimising the mean "
                f"escape time of the small-overlap diffusion{where} at d = {ds[0]}")
    else:
        rule = f"{law.lr_rule} with lr0 = {lr0:.4g} (given)"
    if reuse_held:
        lr_held = law.lr(lr0, ds[0])
        rule = (f"lr = {lr_held:.4g} at every d (no reuse law: the online rule's rate at "
                f"d = {ds[0]}, {rule})")
        return {"lr0": lr_held, "rule": rule, "model": None, "law": None}
    return {"lr0": lr0, "rule": rule, "model": model, "law": law}


def _reuse_rule(base, threshold, ds, k, lr0, probe=None) -> dict[str, Any]:
    """The reuse rate rule (`reuse_rate`), or lr0 given, held at every d; `probe`: one
    extragradient step per sample with look-ahead probe x lr (the same rule on its ODE)."""
    from ._reuse_rate import reuse_rate

    if lr0 is None:
        rate = reuse_rate(base, threshold, ds[0], k, probe=probe)
        return {"lr0": rate.lr, "rule": rate.describe(), "direction": rate.config["direction"],
                "probe": probe, "ode_times": []}
    return {"lr0": lr0, "rule": f"lr = lr0 = {lr0:.4g} at every d (given)", "direction": None,
            "probe": probe, "ode_times": []}


def _first_passage(eng, sc, d, seeds, seed, threshold, need, limit_steps, horizon, protocol,
                   k, n_records, progress, cut):
    """Samples to escape per seed at one d: the engine's event loop (gram, up to limit_steps
    SGD steps) or a simulation over `horizon` (t = steps / d) and `escape_times` (full);
    steps / k. `cut`: escapes past limit_steps (the event loop runs in chunks) count as not
    escaped (the budget path)."""
    import jax

    from escalier.numerics.simulation import EscapeThreshold, simulate

    if eng.has_events:
        keys = jax.random.split(jax.random.key(seed), seeds)
        s_d, _ = eng.first_passage(sc, d, keys, EscapeThreshold(threshold, need),
                                   limit=int(math.ceil(limit_steps)),
                                   protocol=protocol)
        s_d = np.asarray(s_d, float)
        if cut:
            s_d[s_d > limit_steps] = np.nan
        return s_d / k, horizon
    res = simulate(sc, d, horizon, seeds=seeds, seed=seed, n_records=n_records,
                   engine=eng, protocol=protocol, progress=progress)
    t_esc = escape_times(res.times, np.asarray(res.M)[:, :, 0, :], threshold, sc.P)
    return t_esc * d / k, float(res.times[-1])


def _online_runs(base, law, protocol, rate, ds, seeds, seed, threshold, budget, eng,
                 progress, n_records, sample_budget):
    """Per d: (lr, model time, horizon, samples per seed, seconds) under the online rule
    (or, on the reuse budget path, its rate held)."""
    from tqdm.auto import tqdm

    k = protocol.steps_per_batch
    model, lr0 = rate["model"], rate["lr0"]
    lrs, times, horizons, steps, seconds = [], [], [], [], []
    for d in tqdm(ds, desc="scaling (d)", disable=not progress, leave=False):
        lr = lr0 if model is None else law.lr(lr0, d)
        t_pred = math.nan if model is None else model.time(lr, d)
        if model is not None and sample_budget is None:
            if not math.isfinite(t_pred):
                raise ValueError(
                    f"with lr = {lr:.4g} at d = {d} the small-overlap diffusion never reaches "
                    f"|M_1.| = {threshold}: lower the learning rate (--lr)")
            if t_pred * d < 1:
                raise ValueError(
                    f"with lr = {lr:.4g} at d = {d} the small-overlap diffusion predicts an "
                    f"escape within {t_pred * d:.2g} SGD steps (t = {t_pred:.3g}, in units of "
                    f"steps / d): the rate is far outside the small-step regime the diffusion "
                    f"and the law describe; lower the learning-rate prefactor (--lr, now "
                    f"lr0 = {lr0:.4g})")
        if sample_budget is not None:
            horizon, need = sample_budget * math.log(d) * k, seeds
        else:
            horizon, need = budget * t_pred, median_error_need(seeds)
        limit = horizon * d
        clock = time.perf_counter()
        s_d, horizon = _first_passage(eng, replace(base, lr=lr), d, seeds, seed, threshold,
                                      need, limit, horizon, protocol, k, n_records, progress,
                                      sample_budget is not None)
        seconds.append(time.perf_counter() - clock)
        if sample_budget is None and not np.isfinite(s_d).any():
            raise ValueError(
                f"no run escaped (|M_1.| >= {threshold}) at d = {d} with lr = {lr:.4g} within "
                f"{horizon * d:.4g} steps (t = {horizon:.4g}, {budget:g} times the "
                f"diffusion's mean escape time): the learning rate is outside the regime the "
                f"diffusion describes (lower --lr, now lr0 = {lr0:.4g}) or the horizon is too "
                f"short (raise --budget)")
        lrs.append(lr)
        times.append(t_pred)
        horizons.append(horizon / k)
        steps.append(s_d)
    return lrs, times, horizons, steps, seconds


def _reuse_runs(base, law, protocol, rate, ds, seeds, seed, threshold, budget, eng, progress,
                n_records, sample_budget):
    """Per d under StepsPerBatch(k) or Extragradient: (lr, model time, horizon, samples per
    seed, seconds); the model: the reuse diffusion's mean escape time for a single-index
    target, the reuse ODE's escape time (along the symmetric line) for a multi-index one
    (on the line one side is a trap that off-line runs leave: docs/reuse.md); the ODE
    times are appended to rate["ode_times"]."""
    from tqdm.auto import tqdm

    from ._diffusion import ReuseDiffusion
    from ._reuse_rate import reuse_escape_time

    k = protocol.steps_per_batch
    lr0, probe = rate["lr0"], rate["probe"]
    diffusion = (ReuseDiffusion(base, threshold, lr0, k, probe=probe)
                 if base.k == 1 and sample_budget is None else None)
    lrs, times, horizons, steps, seconds = [], [], [], [], []
    for d in tqdm(ds, desc="scaling (d)", disable=not progress, leave=False):
        t_ode = reuse_escape_time(base, lr0, threshold, d, k, direction=rate["direction"],
                                  probe=probe)
        rate["ode_times"].append(t_ode)
        t_model = t_ode if diffusion is None else diffusion.time(lr0, d)
        if sample_budget is not None:
            samples, need = sample_budget * d * math.log(d), seeds
        else:
            longest = max(t_ode, t_model) if math.isfinite(t_model) else t_ode
            samples = (budget * longest * d if math.isfinite(longest)
                       else budget * 10 * float(law.steps(d)))
            need = median_error_need(seeds)
        clock = time.perf_counter()
        s_d, _ = _first_passage(eng, replace(base, lr=lr0), d, seeds, seed, threshold, need,
                                samples * k, samples * k / d, protocol, k, n_records,
                                progress, sample_budget is not None)
        seconds.append(time.perf_counter() - clock)
        if sample_budget is None and not np.isfinite(s_d).any():
            raise ValueError(
                f"no run reached |M_1.| >= {threshold} at d = {d} under "
                f"{protocol.describe()} with lr = {lr0:.4g} within {samples:.4g} samples "
                f"({budget:g} x the reuse ODE's escape time, or 10 x {law.law} if it has "
                f"none); the time budget was reached (raise --budget, or change --lr or "
                f"--threshold: a reuse run can settle at a weak-recovery overlap below it)")
        lrs.append(lr0)
        times.append(t_model)
        horizons.append(samples / d)
        steps.append(s_d)
    return lrs, times, horizons, steps, seconds


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
