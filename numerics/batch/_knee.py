"""Iterations to a target overlap against batch size: the batch-size knee (docs/batch.md).

Spherical single-index SGD (p = k = 1, ||w||^2 = d) on a target of information exponent l
(student-compatible, from the Hermite form), started at |m| ~ d^{-1/2}, run to |m| >= m_target.
Learning rate (the scaling of Arnaboldi et al., arXiv 2406.02157, in this project's units
gamma = eta / d, i.e. the step on the unit-norm weight w / sqrt(d)):

    gamma(n_b) = eta0 n_b / d^{l/2},      eta0 = 2 eps |C_l| / E[g^2]  (square loss's E[g^2]),
    square loss: gamma <= gamma_max = kappa / |E[d g / d lambda]|_{Q = 1, M = 0}.

eta0 makes the noise shrink (gamma^2 d E[g^2] m / (2 n_b) per step) eps times the drift
gamma C_l m^{l-1} at m = d^{-1/2}, the scaling that keeps the samples n_b T fixed; the same
eta0 serves both losses. The cap: the square loss's self-interaction contracts w radially
by 1 + gamma E[d g / d lambda] per step, which must stay >= 1 - kappa; the correlation loss
has no such term and keeps gamma growing (constants: escalier.derive.ode.
single_index_constants). Then
T ~ d^{l/2} / (gamma C_l (1 - eps)) ~ d^{l-1} / n_b while gamma grows (fixed total samples n_b T), and T stops
improving once gamma is capped, at n_b ~ (gamma_max / eta0) d^{l/2}: the knee.

T(n_b) is measured on the exact gram engine (median, over the seeds that start with m0 > 0,
of the first step with |m| >= m_target; escalier.numerics.simulation.gram_escape_steps) and by iterating the
finite-step map from m = d^{-1/2} (escalier.numerics.batch.map_first_passage).
Fit per d and loss: T = A / n_b + B by least squares on relative residuals (linear in A, B),
knee n_k = A / B where the two regimes cross (none when B <= 0), and across d the exponent
of n_k ~ d^kappa against l / 2.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import jax
import numpy as np

from escalier.derive import Scenario
from escalier.derive.ode import overlap_map, single_index_constants
from escalier.numerics.simulation import gram_escape_steps

from ._map import map_first_passage

__all__ = ["BatchCurve", "BatchStudy", "batch_study", "fit_knee", "learning_rate"]

_MEMORY = 1 << 21  # samples x steps drawn per jitted chunk and seed


def learning_rate(n_b: int, d: int, l: int, loss: str, eta0: float,
                  gamma_max: float) -> float:
    """eta = d gamma(n_b) (module docstring): gamma = eta0 n_b / d^{l/2}, capped at
    gamma_max for the square loss."""
    gamma = eta0 * n_b / d ** (l / 2)
    if loss == "square":
        gamma = min(gamma, gamma_max)
    return d * gamma


@dataclass(frozen=True)
class BatchCurve:
    """T(n_b) at one d and loss.

    Attributes:
        d, loss: the setting.
        n_b: batch sizes.
        lr: the learning rates eta used (gamma = eta / d).
        steps_gram: median first-passage step over seeds (NaN: not reached by half).
        quartiles: (25%, 75%) of the gram first-passage steps (unreached = +inf).
        steps_map: first-passage step of the map from m = d^{-1/2} (NaN: not reached).
        fit: fit_knee of the gram medians (A, B, knee, slopes); of the map without gram runs.
        fit_map: fit_knee of the map's passage steps (empty without the map).
    """

    d: int
    loss: str
    n_b: tuple[int, ...]
    lr: tuple[float, ...]
    steps_gram: tuple[float, ...]
    quartiles: tuple[tuple[float, float], ...]
    steps_map: tuple[float, ...]
    fit: dict = field(default_factory=dict)
    fit_map: dict = field(default_factory=dict)


@dataclass(frozen=True)
class BatchStudy:
    """The knee study: curves per (loss, d) and the knee exponent per loss."""

    target: str
    student: str
    l: int
    m_target: float
    eps: float
    eta0: float
    gamma_max: float
    kappa: float
    seeds: int
    curves: tuple[BatchCurve, ...]
    knee_exponent: dict

    def to_json(self) -> dict:
        def clean(v):
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, tuple | list):
                return [clean(x) for x in v]
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            return v

        return clean({
            "target": self.target, "student": self.student, "information_exponent": self.l,
            "m_target": self.m_target, "seeds": self.seeds,
            "learning_rate": {
                "rule": "gamma = eta / d = eta0 * n_b / d^(l/2), eta0 = 2 eps |C_l| / E[g^2]; "
                        "square loss capped at gamma_max = kappa / |E[dg/dlambda]| (Q=1, M=0); "
                        "arXiv 2406.02157",
                "eps": self.eps, "eta0": self.eta0, "gamma_max": self.gamma_max, "kappa": self.kappa},
            "curves": [{"d": c.d, "loss": c.loss, "n_b": list(c.n_b), "lr": list(c.lr),
                        "steps_gram_median": list(c.steps_gram),
                        "steps_gram_quartiles": [list(q) for q in c.quartiles],
                        "steps_map": list(c.steps_map), "fit": c.fit, "fit_map": c.fit_map,
                        "d_pow_l_over_2": c.d ** (self.l / 2)} for c in self.curves],
            "knee_exponent": self.knee_exponent,
        })


def fit_knee(n_b, steps) -> dict:
    """T = A / n_b + B by least squares on relative residuals (A, B linear), the knee
    n_k = A / B (inf when B <= 0 up to rounding), and the log-log slopes of the first and last three points.

    Raises:
        ValueError: fewer than three finite points.
    """
    n = np.asarray(n_b, float)
    T = np.asarray(steps, float)
    ok = np.isfinite(T) & (T > 0)
    if ok.sum() < 3:
        raise ValueError(f"need at least three batch sizes that reach the target to fit, got "
                         f"{int(ok.sum())}: raise --max-steps or lower --eps")
    n, T = n[ok], T[ok]
    X = np.stack([1 / n, np.ones_like(n)], axis=1) / T[:, None]
    (A, B), *_ = np.linalg.lstsq(X, np.ones_like(T), rcond=None)
    ln, lT = np.log(n), np.log(T)
    first = float(np.polyfit(ln[:3], lT[:3], 1)[0])
    last = float(np.polyfit(ln[-3:], lT[-3:], 1)[0])
    knee = float(A / B) if B > 1e-9 * T.min() else math.inf  # no floor: no knee
    return {"A": float(A), "B": float(B), "knee": knee, "slope_small": first,
            "slope_large": last}


def _fit_or_empty(sizes, steps) -> dict:
    try:
        return fit_knee(sizes, steps)
    except ValueError:
        return {}


def _knee_exponent(fits, l) -> dict:
    """knee / d^(l/2) per d and the exponent of knee ~ d^x over the d with a finite knee."""
    good = [(d, f["knee"]) for d, f in fits if math.isfinite(f.get("knee", math.nan))
            and f["knee"] > 0]
    entry = {"knee_over_d_pow_l_over_2": {str(d): k / d ** (l / 2) for d, k in good},
             "exponent": math.nan}
    if len(good) >= 2:
        x, y = np.log([g[0] for g in good]), np.log([g[1] for g in good])
        entry["exponent"] = float(np.polyfit(x, y, 1)[0])
    return entry


def _gram_steps(sc, d, n_b, lr, m_target, seeds, seed, limit):
    """Median and quartiles of the first step with |m| >= m_target over the seeds that start
    with m0 > 0 (the drift C_l m^{l-1} of an odd l pushes m up: a negative start must first
    cross m = 0 by noise, a different, slower event), or over all seeds for even l."""
    sc = Scenario(sc.target, student=sc.sigma.expr, p=1, spherical=True, loss=sc.loss,
                  batch=int(n_b), lr=float(lr))
    keys = jax.random.split(jax.random.key(seed), seeds)
    chunk = int(max(1, min(1 << 12, _MEMORY // max(1, n_b), limit)))
    steps, m0 = gram_escape_steps(sc, d, keys, m_target, int(limit), chunk=chunk, need=seeds)
    use = m0 > 0
    s = np.where(np.isfinite(steps), steps, np.inf)[use if use.any() else slice(None)]
    med = float(np.median(s))
    q = (float(np.quantile(s, 0.25, method="lower")),
         float(np.quantile(s, 0.75, method="higher")))
    return (med if math.isfinite(med) else math.nan), q


def batch_study(target: str, ds, *, student: str = "He3", losses=("square", "correlation"),
                n_b=None, ratios=(1 / 4, 1 / 2, 1, 2, 4, 8, 16, 32), m_target: float = 0.5,
                eps: float = 0.5, kappa: float = 0.5, seeds: int = 12, seed: int = 0,
                max_steps: int = 10**6, use_map: bool = True, use_gram: bool = True,
                progress=None) -> BatchStudy:
    """T(n_b) for each d and loss (module docstring).

    Args:
        target: a single-index target in z1 (e.g. "He3(z1)").
        ds: dimensions.
        student: activation (He3 default: matches He3's order).
        losses: "square" and/or "correlation".
        n_b: explicit batch sizes (every d), else round(r d^{l/2}) for r in ratios.
        m_target: the target overlap |m|.
        eps: noise-to-drift ratio at m = d^{-1/2} that fixes eta0 (module docstring).
        kappa: square loss: gamma <= kappa / |E[dg/dlambda]|.
        seeds, seed: gram seeds and PRNG seed.
        max_steps: the most steps per run.
        use_map: also iterate the finite-step map.
        use_gram: run the gram engine (False: the map alone, fitted in its place).
        progress: optional callable(message) after each point.

    Raises:
        ValueError: bad input (naming it), a learning rate that diverges.
    """
    for name, v in (("m_target", m_target), ("eps", eps), ("kappa", kappa)):
        if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a positive number, got {v!r}")
    if not (use_map or use_gram):
        raise ValueError("nothing to measure: use_map and use_gram are both off")
    if not (m_target < 1 and kappa < 1 and eps < 1):
        raise ValueError("m_target, eps and kappa must be below 1")
    bad = [x for x in losses if x not in ("square", "correlation")]
    if bad or not losses:
        raise ValueError(f"unknown loss {bad}; accepted: square, correlation")
    base = Scenario(target, student=student, p=1, spherical=True)
    if base.k != 1:
        raise ValueError(f"the batch study is for single-index targets in z1, got k = {base.k}")
    const = single_index_constants(base)
    l = const.l
    eta0 = 2 * eps * abs(const.drift) / const.noise
    gmax = kappa / abs(const.self_interaction) if const.self_interaction else math.inf
    curves = []
    for loss in losses:
        sc = Scenario(target, student=student, p=1, spherical=True, loss=loss)
        mp = overlap_map(sc) if use_map else None
        for d in ds:
            sizes = (sorted({int(x) for x in n_b}) if n_b is not None else
                     sorted({max(1, round(r * d ** (l / 2))) for r in ratios}))
            lrs = [learning_rate(nb, d, l, loss, eta0, gmax) for nb in sizes]
            med, quart, tmap = [], [], []
            for nb, lr in zip(sizes, lrs, strict=True):
                if mp is not None:
                    tmap.append(float(map_first_passage(
                        mp, [d ** -0.5], m_target, max_steps,
                        {"d": float(d), "n_b": float(nb), "eta": lr})))
                else:
                    tmap.append(math.nan)
                # the gram runs are cut at 10 times the map's passage (or max_steps)
                cap = max_steps if not math.isfinite(tmap[-1]) else int(
                    min(max_steps, 10 * tmap[-1] + 100))
                if use_gram:
                    m, q = _gram_steps(sc, d, nb, lr, m_target, seeds, seed, cap)
                else:
                    m, q = math.nan, (math.nan, math.nan)
                med.append(m)
                quart.append(q)
                if progress is not None:
                    progress(f"{loss} d={d} n_b={nb}: T_gram={m:g} T_map={tmap[-1]:g}")
            fit_map = _fit_or_empty(sizes, tmap) if use_map else {}
            fit = _fit_or_empty(sizes, med) if use_gram else fit_map
            curves.append(BatchCurve(d, loss, tuple(sizes), tuple(lrs), tuple(med),
                                     tuple(quart), tuple(tmap), fit, fit_map))
    knee = {}
    for loss in losses:
        mine = [c for c in curves if c.loss == loss]
        entry = _knee_exponent([(c.d, c.fit) for c in mine], l)
        if use_map and use_gram:
            entry["map"] = _knee_exponent([(c.d, c.fit_map) for c in mine], l)
        entry["expected"] = l / 2
        knee[loss] = entry
    return BatchStudy(base.target.text, str(base.sigma.expr), l, m_target, eps, eta0, gmax,
                      kappa, seeds, tuple(curves), knee)
