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

Multi-index targets (k <= MAX_K teacher directions, P = I): the same ODE on the line
M_1. = m u of the teacher subspace (u = (1, ..., 1)/sqrt(k) by default), with nu replaced by
u.nu in the drift term, from |m0| = sqrt(k / d), the faster of the two starts
(`reuse_escape_time`; docs/reuse.md "Multi-index targets").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from escalier.derive.gaussian import hermite_rule

__all__ = ["MAX_K", "ReuseRate", "line_moments", "reuse_drift", "reuse_escape_time",
           "reuse_rate", "start_overlap"]

_NODES = 80  # Gauss-Hermite nodes per dimension (ReLU's jump: O(1/n) quadrature error)


def _functions(scenario):
    import jax.numpy as jnp

    from escalier.numerics.lower import student_functions, teacher_function

    f = teacher_function(scenario)
    sigma, dsigma = student_functions(scenario)
    return ((lambda x: np.asarray(f(jnp.asarray(x)))),
            (lambda x: np.asarray(sigma(jnp.asarray(x)))),
            (lambda x: np.asarray(dsigma(jnp.asarray(x)))))


MAX_K = 3
"""Largest number of teacher directions of the quadrature (nodes^(k+1) points), hence of
`escape_scaling` and the sweep's escape task."""


def _nodes(k: int) -> int:
    """Gauss-Hermite nodes per dimension: 80 for k = 1, fewer in k + 1 dimensions (16 for
    k = 2, 3: exact for polynomial integrands of degree < 32 in each variable, e.g. two
    steps of a He3 neuron on z1*z2*z3 (degree 16); 65536 points at k = 3)."""
    return _NODES if k == 1 else 16


def _direction(scenario, direction) -> np.ndarray:
    """The unit vector u of the line M_1. = m u in the teacher coordinates (k,)."""
    k = scenario.k
    u = np.ones(k) if direction is None else np.asarray(direction, float).ravel()
    if u.shape != (k,) or not np.all(np.isfinite(u)) or not np.linalg.norm(u) > 0:
        raise ValueError(f"direction must be a non-zero vector of k = {k} entries, got "
                         f"{direction!r}")
    return u / np.linalg.norm(u)


def line_moments(scenario, m, lr: float, k: int = 2, nodes: int | None = None,
                 direction=None, probe: float | None = None) -> np.ndarray:
    """Gaussian averages of one sample's k steps on the line M_1. = m u (d -> inf).

    With teacher pre-activations nu (k-dim standard normal, P = I), the neuron's
    lambda = m u.nu + sqrt(1 - m^2) xi, its shifted pre-activations l_i and the summed
    gradient factor G = g_1 + ... + g_k (module docstring), returns per m the four averages
    E[G u.nu], E[G lambda], E[G^2] and E[G^2 (u.nu - m lambda)^2]. With `probe` (one
    extragradient step per sample, look-ahead probe x lr; k must be 1): G = g(lambda +
    probe lr g(lambda)), the gradient factor at the look-ahead point alone (the look-ahead
    moves the pre-activation by probe lr g as ||x||^2 / d -> 1; it is not a step).

    Args:
        scenario: Scenario with p = 1, k <= MAX_K teacher directions and P = I (its
            student, loss and a are used).
        m: overlap(s) in (-1, 1).
        lr: first-layer learning rate (enters G only when k > 1).
        k: steps per sample (1: online SGD).
        nodes: Gauss-Hermite nodes per dimension (default `_nodes`).
        direction: u, k entries (normalised here; default (1, ..., 1) / sqrt(k)).
        probe: the extragradient look-ahead as a multiple of lr (None: plain steps).

    Returns:
        (4,) + shape of m.
    """
    if probe is not None and (int(k) != 1 or not probe > 0):
        raise ValueError(f"an extragradient step takes one step per sample (k = 1) and a "
                         f"look-ahead probe > 0, got k = {k}, probe = {probe!r}")
    kt = scenario.k
    if scenario.p != 1 or kt > MAX_K:
        raise ValueError(f"the reuse drift is for one neuron on a target of at most {MAX_K} "
                         f"directions, got k = {kt}, p = {scenario.p}")
    if scenario.loss not in ("correlation", "square"):
        raise ValueError(f"the reuse drift covers the correlation and square losses, got "
                         f"{scenario.loss!r}")
    if not np.array_equal(np.asarray(scenario.P, float), np.eye(kt)):
        raise ValueError(f"the reuse drift takes orthonormal teacher rows (P = I), got P = "
                         f"{[list(r) for r in scenario.P]}")
    u = _direction(scenario, direction)
    f, sigma, dsigma = _functions(scenario)
    n = _nodes(kt) if nodes is None else int(nodes)
    z, wz = hermite_rule(n, kt)  # teacher pre-activations nu (n^k, k)
    x, wx = hermite_rule(n, 1)
    xi = np.asarray(x[:, 0])[None, :]
    nu_u = (np.asarray(z) @ u)[:, None]
    weight = np.asarray(wz)[:, None] * np.asarray(wx)[None, :]
    y = f(np.asarray(z))[:, None]
    a = float(np.ravel(scenario.a)[0])
    ms = np.atleast_1d(np.asarray(m, float))
    out = np.empty((4, ms.size))
    for i, mi in enumerate(ms.ravel()):  # one m at a time: n^(k+1) points each
        lam = mi * nu_u + math.sqrt(1 - mi**2) * xi
        def g_at(loc):
            delta = y if scenario.loss == "correlation" else y - a * sigma(loc)
            return a * delta * dsigma(loc)

        if probe is not None:
            G = g_at(lam + probe * lr * g_at(lam))
        else:
            G = np.zeros_like(lam)
            loc = lam
            for _ in range(int(k)):
                g = g_at(loc)
                G = G + g
                loc = loc + lr * g
        G2 = G * G
        out[:, i] = [np.sum(weight * G * nu_u), np.sum(weight * G * lam), np.sum(weight * G2),
                     np.sum(weight * G2 * (nu_u - mi * lam) ** 2)]
    return out.reshape((4, *np.shape(m)))


def reuse_drift(scenario, m, lr: float, k: int = 2, nodes: int | None = None,
                direction=None, probe: float | None = None) -> np.ndarray:
    """dm/dt (t = samples / d) of a spherical neuron under k steps per sample, d -> inf,
    along the line M_1. = m u of the teacher subspace (u = `direction`).

    Each row M_1r moves by (1/d)[lr G nu_r - M_1r (lr G lambda + lr^2 G^2 / 2)] per sample
    (module docstring); the result is F(m) = u.(its average) = lr E[G u.nu]
    - m (lr E[G lambda] + lr^2 E[G^2] / 2) (`line_moments`), the drift of m = u.M_1. on the
    line. For k = 1 (u = 1) it is the drift of m itself.

    Args:
        scenario: Scenario with p = 1, at most MAX_K teacher directions, P = I.
        m: overlap(s) in (-1, 1).
        lr: first-layer learning rate.
        k: steps per sample (1: online SGD).
        nodes: Gauss-Hermite nodes per dimension (default: 80 for one teacher direction,
            24 for two or three).
        direction: u (default (1, ..., 1) / sqrt(k): see docs/reuse.md "Multi-index").
        probe: one extragradient step per sample with look-ahead probe x lr (k = 1; None:
            k plain steps): G is then the look-ahead gradient factor (`line_moments`).

    Returns:
        F(m) with the shape of m.
    """
    out = drift_from_moments(m, lr, line_moments(scenario, m, lr, k, nodes, direction, probe))
    return out if np.ndim(m) else float(out)


def drift_from_moments(m, lr: float, moments) -> np.ndarray:
    """F(m) = lr E[G u.nu] - m (lr E[G lambda] + lr^2 E[G^2] / 2) from `line_moments`."""
    Gnu, Glam, G2, _ = moments
    return lr * Gnu - np.asarray(m, float) * (lr * Glam + lr**2 * G2 / 2)


def start_overlap(scenario, d: int) -> float:
    """The start's scale on the line: sqrt(k / d), the typical |M_1.| of a random neuron
    (d^{-1/2} for one teacher direction)."""
    return math.sqrt(scenario.k / d)


def reuse_escape_time(scenario, lr: float, threshold: float, d: int, k: int = 2,
                      points: int = 30, direction=None, probe: float | None = None) -> float:
    """Escape time (t = samples / d) of dm/dt = F(m; lr) (along the line M_1. = m u) from
    |m0| = sqrt(k_teacher / d) (`start_overlap`) to |m| = threshold; inf if F vanishes on
    the way. Single index: the slower of the two starts +-m0 (a run starts on either side).
    Multi-index: the faster one; on the line the side where F points back to 0 ends at
    F(0) = 0, but off the line no run is trapped there (for z1*z2*z3, flipping the sign of
    one coordinate of M_1. moves it to the other side; docs/reuse.md "Multi-index")."""
    m0 = start_overlap(scenario, d)
    if not 0 < m0 < threshold < 1:
        raise ValueError(f"need sqrt(k / d) < threshold < 1, got k = {scenario.k}, d = {d}, "
                         f"threshold = {threshold}")
    times = []
    for start in (m0, -m0):
        s = math.copysign(1.0, reuse_drift(scenario, start, lr, k, direction=direction,
                                           probe=probe))
        if s * start > 0:  # moving away from 0 on its side: geometric grid in |m|
            path = s * np.geomspace(m0, threshold, points)
        else:  # crosses m = 0 towards the other side
            path = np.linspace(start, s * threshold, 2 * points)
        F = reuse_drift(scenario, path, lr, k, direction=direction, probe=probe)
        if np.any(F * s <= 0):
            times.append(math.inf)
            continue
        times.append(float(np.trapezoid(1 / np.abs(F), s * path)))
    return max(times) if scenario.k == 1 else min(times)


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
        u = self.config.get("direction")
        line = ("" if u is None or len(u) == 1 else
                f" along the symmetric line M_1. = m ({', '.join(f'{v:.3g}' for v in u)}) of "
                f"the teacher subspace")
        start = "d^-1/2" if u is None or len(u) == 1 else f"sqrt({len(u)}/d)"
        return (f"lr = {self.lr:.4g} at every d: half the rate ({self.config['ode_optimal_lr']:.4g}) "
                f"minimising the escape time of the d -> infinity reuse ODE dm/dt = F(m; lr)"
                f"{line} from |m0| = {start} (d = {self.d}) to the threshold (log grid "
                f"{self.grid[0]:.3g}..{self.grid[-1]:.3g}; docs/reuse.md)")


def reuse_rate(scenario, threshold: float, d: int, k: int = 2,
               grid=None, direction=None, probe: float | None = None) -> ReuseRate:
    """The reuse learning-rate rule (module docstring): half the argmin of T(lr) on a grid;
    for a multi-index target, T along the line M_1. = m u (`direction`, default the
    symmetric direction (1, ..., 1) / sqrt(k): docs/reuse.md "Multi-index targets").

    Raises:
        ValueError: no rate on the grid escapes (the student's reuse drift has a stable
            fixed point below the threshold at every rate).
    """
    grid = np.geomspace(1e-3, 1.0, 13) if grid is None else np.asarray(grid, float)
    u = None if scenario.k == 1 else _direction(scenario, direction)
    times = np.array([reuse_escape_time(scenario, float(lr), threshold, d, k, direction=u,
                                        probe=probe) for lr in grid])
    if not np.isfinite(times).any():
        how = (f"{k} steps per sample" if probe is None else
               f"extragradient with look-ahead {probe:g} x lr")
        raise ValueError(
            f"under {how} no learning rate in {grid[0]:.3g}..{grid[-1]:.3g} "
            f"lets a spherical {scenario.student} neuron reach |m| = {threshold} in the "
            f"d -> infinity reuse ODE (its drift has a stable point below the threshold): "
            f"lower --threshold, or choose a student whose sigma'^2 has a second Hermite "
            f"component (e.g. --student 'x**2/2' for even targets; a ReLU neuron has none)")
    best = float(grid[int(np.argmin(times))])
    lr = best / 2
    return ReuseRate(lr, reuse_escape_time(scenario, lr, threshold, d, k, direction=u,
                                           probe=probe), int(d),
                     grid, times, {"threshold": threshold, "k": k, "d": int(d),
                                   "ode_optimal_lr": best, "probe": probe,
                                   "direction": None if u is None else u.tolist()})
