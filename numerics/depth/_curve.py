"""Test error against kappa = log n / log d for each learner and d (docs/depth.md)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import jax
import numpy as np

from escalier.derive.targets import Hierarchical

from ._learners import LEARNER_NAMES, DepthConfig, fit_predict
from ._sample import draw_teacher, sample

__all__ = ["DepthCurves", "depth_curves", "measured_threshold", "samples_at"]


def samples_at(d: int, kappa: float) -> int:
    """n = round(d^kappa)."""
    return max(int(round(d ** float(kappa))), 2)


@dataclass(frozen=True)
class DepthCurves:
    """`errors` maps a learner, then d, to an array (len(kappas), seeds) of test MSEs;
    `second_moment` maps d to the empirical E y^2 of its test samples (averaged over seeds)."""

    kappas: tuple[float, ...]
    ds: tuple[int, ...]
    learners: tuple[str, ...]
    errors: dict
    second_moment: dict
    seeds: int

    def median(self, learner: str, d: int) -> np.ndarray:
        return np.median(self.errors[learner][d], axis=1)

    def to_json(self) -> dict:
        return {lr: {str(d): {"kappa": list(self.kappas),
                              "n": [samples_at(d, k) for k in self.kappas],
                              "median": self.median(lr, d).tolist(),
                              "errors": np.asarray(self.errors[lr][d]).tolist()}
                     for d in self.ds} for lr in self.learners}


def depth_curves(target: Hierarchical, ds: Sequence[int], kappas: Sequence[float], *,
                 learners: Sequence[str] = LEARNER_NAMES, seeds: int = 3, seed: int = 0,
                 n_test: int = 2000, config: DepthConfig | None = None,
                 progress: Callable[[str], None] | None = None) -> DepthCurves:
    """Train every learner on the same data (one teacher and one training set per d, kappa
    and seed) and record the test MSE on n_test fresh samples (validation: n_test more)."""
    cfg = config or DepthConfig()
    bad = [lr for lr in learners if lr not in LEARNER_NAMES]
    if bad:
        raise ValueError(f"unknown learner(s) {bad}; accepted: {', '.join(LEARNER_NAMES)}")
    errors = {lr: {d: np.zeros((len(kappas), seeds)) for d in ds} for lr in learners}
    moment = {}
    for d in ds:
        D = target.branches * target.width(d)  # teacher directions in all
        ms = []
        for s in range(seeds):
            key = jax.random.fold_in(jax.random.PRNGKey(seed), 7919 * d + s)
            kt, kv, ktest, kdata, kl = jax.random.split(key, 5)
            teacher = draw_teacher(target, d, kt, cfg.jdtype)
            xv, _, yv = sample(teacher, n_test, kv)
            xt, _, yt = sample(teacher, n_test, ktest)
            ms.append(float(np.mean(np.asarray(yt) ** 2)))
            for i, kappa in enumerate(kappas):
                n = samples_at(d, kappa)
                tag = int(round(1000 * kappa))  # the draws depend on kappa, not on the grid
                x, _, y = sample(teacher, n, jax.random.fold_in(kdata, tag))
                data = (x, y, xv, yv, xt, yt)
                for lr in learners:
                    if progress is not None:
                        progress(f"d={d} kappa={kappa:g} n={n} seed={s} {lr}")
                    errors[lr][d][i, s] = fit_predict(lr, data, jax.random.fold_in(kl, tag),
                                                      cfg, D, target.degree)
        moment[d] = float(np.mean(ms))
    return DepthCurves(tuple(float(k) for k in kappas), tuple(ds), tuple(learners), errors,
                       moment, seeds)


def measured_threshold(kappas: Sequence[float], errors: Sequence[float], level: float) -> float | None:
    """The smallest kappa of the grid whose error is <= level (None if none)."""
    for k, e in zip(kappas, errors, strict=True):
        if e <= level and math.isfinite(e):
            return float(k)
    return None
