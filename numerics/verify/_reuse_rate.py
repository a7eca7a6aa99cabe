"""The learning-rate rule of batch reuse: the d -> infinity drift of a spherical neuron
trained with k steps on each sample, and the rate that minimises its escape time.

docs/reuse.md "The reuse rate rule". One spherical neuron (||w||^2 = d), one sample x
with pre-activations (lambda, nu) = (w x, w* x) / sqrt(d), label y = f(nu), used for k
consecutive steps w <- sqrt(d) (w + lr g_i x / sqrt(d)) / ||...|| with
g_i = a Delta_e(l_i) sigma'(l_i). Since ||x||^2 / d -> 1, the i-th step sees the
pre-activation l_i = lambda + lr (g_1 + ... + g_{i-1}) (the O(1) shift that makes the
second step a non-correlational query: Dandi et al., arXiv 2402.03220; Arnaboldi et al.,
arXiv 2405.15459), and the overlap m = w w* / d moves per sample by

    (1/d) [ lr G nu - m (lr G lambda + lr^2 G^2 / 2) ],   G = g_1 + ... + g_k

(expanding the normalisation to O(1/d); the per-step normalisations telescope to this).
In time t = samples / d the overlap follows dm/dt = F(m; lr), F the Gaussian average of
the bracket over (nu, lambda) with correlation m, up to O(d^{-1/2}) fluctuations. Two
facts fix the rule:

- generative exponent 1 (He3): F(0) != 0, so |m| grows at a d-independent rate from any
  start: O(d) samples; the contraction m lr^2 E[G^2] / 2 stops it at a fixed point m*,
  which must lie beyond the threshold.
- generative exponent 2 (He4): F(m) ~ c1 m, |m| grows from m0 ~ d^{-1/2} like
  m0 exp(c1 t): d log d samples. The growth term is O(lr^2) only when the student has
  E[He2(lambda) sigma'(lambda)^2] != 0 (small-lr expansion: c1 = lr^2 (E[He2(nu) y^2]
  E[He2(lambda) sigma'^2] / 2 - 2 E[y^2] E[sigma'^2]) + O(lr^3) for the correlation loss),
  the same order as the contraction, so not every student escapes (a spherical ReLU
  neuron does not: E[He2 sigma'^2] = 0 and c1 < 0 at every rate).

The rate: lr = lr_opt / 2, lr_opt = argmin over a log grid of the escape time T(lr) of
this ODE from |m0| = d^{-1/2} (both signs; T = the slower one) to |m| = threshold, T = the
integral of dm / F(m) along the path (infinite if F vanishes before the threshold). The
optimum sits next to the rate where the fixed point m* falls below the threshold; half of
it (the online rule's convention, numerics.verify.escape_scaling) keeps m* well above the
threshold, so finite-d fluctuations do not stall the runs. It is computed once per target,
student and threshold, not tuned per case; the measured samples are then compared with
T(lr) d at each d.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from escalier.derive.gaussian import hermite_rule

__all__ = ["ReuseRate", "reuse_drift", "reuse_escape_time", "reuse_rate"]

_NODES = 80  # Gauss-Hermite nodes per dimension (ReLU's jump: O(1/n) quadrature error)


def _functions(scenario):
    import jax.numpy as jnp

    from escalier.numerics.lower import student_functions, teacher_function

    f = teacher_function(scenario)
    sigma, dsigma = student_functions(scenario)
    return ((lambda x: np.asarray(f(jnp.asarray(x)[..., None]))),
            (lambda x: np.asarray(sigma(jnp.asarray(x)))),
            (lambda x: np.asarray(dsigma(jnp.asarray(x)))))


def reuse_drift(scenario, m, lr: float, k: int = 2, nodes: int = _NODES) -> np.ndarray:
    """dm/dt (t = samples / d) of a spherical neuron under k steps per sample, d -> inf.

    Args:
        scenario: single-index Scenario, p = 1 (its student, loss and a are used).
        m: overlap(s) in (-1, 1).
        lr: first-layer learning rate.
        k: steps per sample (1: online SGD).
        nodes: Gauss-Hermite nodes per dimension.

    Returns:
        F(m) with the shape of m.
    """
    if scenario.k != 1 or scenario.p != 1:
        raise ValueError(f"the reuse drift is for one neuron on a single-index target, got "
                         f"k = {scenario.k}, p = {scenario.p}")
    if scenario.loss not in ("correlation", "square"):
        raise ValueError(f"the reuse drift covers the correlation and square losses, got "
                         f"{scenario.loss!r}")
    f, sigma, dsigma = _functions(scenario)
    x, w = hermite_rule(nodes, 1)
    z, w = np.asarray(x[:, 0]), np.asarray(w)
    nu, xi = z[:, None], z[None, :]
    weight = (w[:, None] * w[None, :])[None]
    y = f(z)[:, None][None]
    a = float(np.ravel(scenario.a)[0])
    ms = np.atleast_1d(np.asarray(m, float))
    lam = ms[:, None, None] * nu[None] + np.sqrt(1 - ms**2)[:, None, None] * xi[None]
    G = np.zeros_like(lam)
    loc = lam
    for _ in range(int(k)):
        delta = y if scenario.loss == "correlation" else y - a * sigma(loc)
        g = a * delta * dsigma(loc)
        G = G + g
        loc = loc + lr * g
    mm = ms[:, None, None]
    bracket = lr * G * nu[None] - mm * (lr * G * lam + lr**2 * G**2 / 2)
    out = np.sum(weight * bracket, axis=(1, 2))
    return out.reshape(np.shape(m)) if np.ndim(m) else float(out[0])


def reuse_escape_time(scenario, lr: float, threshold: float, d: int, k: int = 2,
                      points: int = 30) -> float:
    """Escape time (t = samples / d) of dm/dt = F(m; lr) from |m0| = d^{-1/2} to |m| =
    threshold: the slower of the two starts +-d^{-1/2}; inf if F vanishes on the way."""
    m0 = 1 / math.sqrt(d)
    if not 0 < m0 < threshold < 1:
        raise ValueError(f"need d^(-1/2) < threshold < 1, got d = {d}, threshold = {threshold}")
    times = []
    for start in (m0, -m0):
        s = math.copysign(1.0, reuse_drift(scenario, start, lr, k))
        if s * start > 0:  # moving away from 0 on its side: geometric grid in |m|
            path = s * np.geomspace(m0, threshold, points)
        else:  # crosses m = 0 towards the other side
            path = np.linspace(start, s * threshold, 2 * points)
        F = reuse_drift(scenario, path, lr, k)
        if np.any(F * s <= 0):
            times.append(math.inf)
            continue
        times.append(float(np.trapezoid(1 / np.abs(F), s * path)))
    return max(times)


@dataclass(frozen=True)
class ReuseRate:
    """The reuse rate rule's result.

    Attributes:
        lr: the chosen learning rate (half the argmin of `times` over `grid`).
        time: its ODE escape time (t = samples / d) at `d`.
        d: the dimension of the start |m0| = d^{-1/2}.
        grid, times: the rates tried and their escape times (inf: no escape).
        config: JSON-ready description.
    """

    lr: float
    time: float
    d: int
    grid: np.ndarray
    times: np.ndarray
    config: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        return (f"lr = {self.lr:.4g} at every d: half the rate ({self.config['ode_optimal_lr']:.4g}) "
                f"minimising the escape time of the d -> infinity reuse ODE dm/dt = F(m; lr) "
                f"from |m0| = d^-1/2 (d = {self.d}) to the threshold (log grid "
                f"{self.grid[0]:.3g}..{self.grid[-1]:.3g}; docs/reuse.md)")


def reuse_rate(scenario, threshold: float, d: int, k: int = 2,
               grid=None) -> ReuseRate:
    """The reuse learning-rate rule (module docstring): half the argmin of T(lr) on a grid.

    Raises:
        ValueError: no rate on the grid escapes (the student's reuse drift has a stable
            fixed point below the threshold at every rate).
    """
    grid = np.geomspace(1e-3, 1.0, 13) if grid is None else np.asarray(grid, float)
    times = np.array([reuse_escape_time(scenario, float(lr), threshold, d, k) for lr in grid])
    if not np.isfinite(times).any():
        raise ValueError(
            f"under {k} steps per sample no learning rate in {grid[0]:.3g}..{grid[-1]:.3g} "
            f"lets a spherical {scenario.student} neuron reach |m| = {threshold} in the "
            f"d -> infinity reuse ODE (its drift has a stable point below the threshold): "
            f"lower --threshold, or choose a student whose sigma'^2 has a second Hermite "
            f"component (e.g. --student 'x**2/2' for even targets; a ReLU neuron has none)")
    best = float(grid[int(np.argmin(times))])
    lr = best / 2
    return ReuseRate(lr, reuse_escape_time(scenario, lr, threshold, d, k), int(d), grid, times,
                     {"threshold": threshold, "k": k, "d": int(d), "ode_optimal_lr": best})
