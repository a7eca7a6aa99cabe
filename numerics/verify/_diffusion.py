"""The small-overlap diffusion of spherical single-index SGD, its mean escape time, and the
learning rate that minimises it.

Spherical online SGD on y = f(nu) (p = k = 1, ||w||^2 = d, docs/theory.md §4.6, §7.3-7.5) moves the
overlap m by (lr / d) a Delta_e sigma'(lambda) (nu - m lambda) + O(lr^2 / d) per step. Over
t = steps / d this is, to leading order, the diffusion

    dm = mu(m) dt + sqrt(2 D(m)) dW,   mu = the overlap ODE's right-hand side (drift and the
    lr^2 term of the normalisation),   D(m) = lr^2 V(m) / (2 d),
    V(m) = Var[a Delta_e sigma'(lambda) (nu - m lambda)]   ((lambda, nu) unit normals, corr m).

The ODE keeps mu and drops D. For information exponent l >= 3 that is not a small
correction where the escape is decided: with lr = c d^{-(l-2)/2} and x = sqrt(d) m, the drift
c x^{l-1}, the lr^2 term and the noise are all of order one in x on the time scale d^{l-2},
so the escape time is a random multiple of d^{l-1} steps whose law depends on c but not on d,
and the start m0 ~ N(0, 1/d) may have either sign. The ODE alone would also forbid every
c above the one where its lr^2 term beats the drift at m = d^{-1/2}, although the walk still
escapes there (noise-driven), on the same d^{l-1} scale and faster.

`mean_escape_time` solves the backward equation mu T' + D T'' = -1 on (-threshold, threshold)
with T = 0 at both ends (escape is |m| >= threshold), by central differences on a grid
fine enough for the drift, and averages T over the start m0 ~ N(0, 1/d).
`EscapeDiffusion.prefactor` minimises it over the prefactor c (among rates whose per-step move
of m stays below a tenth of the start's scale d^{-1/2}, where the diffusion holds) of the prescribed rate;
`escalier scaling` uses half that c, found at the smallest d, at every d (module
numerics.verify._escape). It is a prediction of the leading-order diffusion, not of the chain itself; the
simulation measures the escape.
"""

from __future__ import annotations

import math

import numpy as np

from ._rates import best_lr, eta_index

__all__ = ["EscapeDiffusion", "LineDiffusion", "ReuseDiffusion", "mean_escape_time",
           "noise_variance"]

_NODES = 64
_V_GRID = 257
_MAX_GRID = 200_001
_MAX_STEP = 0.1


def noise_variance(scenario, ms) -> np.ndarray:
    """V(m) = Var[a Delta_e sigma'(lambda) (nu - m lambda)] for unit normals of correlation m.

    Gauss-Hermite quadrature (64 x 64 nodes; exact for polynomial f and sigma of total
    degree below 64), label noise included; Delta_e = y (correlation loss) or y - a sigma.
    """
    import jax.numpy as jnp

    from escalier.numerics.lower import student_functions, teacher_function

    if scenario.loss not in ("square", "correlation"):
        raise ValueError(f"the escape diffusion covers the square and correlation losses, "
                         f"got {scenario.loss!r}")
    f = teacher_function(scenario)
    sigma, dsigma = student_functions(scenario)
    a = float(scenario.a[0])
    x, w = np.polynomial.hermite_e.hermegauss(_NODES)
    w = w / w.sum()
    ms = np.clip(np.asarray(ms, dtype=float), -1.0, 1.0)
    lam = x[None, :, None] * np.ones((ms.size, 1, 1))
    nu = ms[:, None, None] * x[None, :, None] + np.sqrt(1 - ms**2)[:, None, None] * x[None, None, :]
    lam = np.broadcast_to(lam, nu.shape)
    y = np.asarray(f(jnp.asarray(nu)[..., None]))
    s, ds = np.asarray(sigma(jnp.asarray(lam))), np.asarray(dsigma(jnp.asarray(lam)))
    delta = y - a * s if scenario.loss == "square" else y
    proj = nu - ms[:, None, None] * lam
    ww = w[:, None] * w[None, :]
    g = a * delta * ds * proj
    mean = np.sum(ww * g, axis=(1, 2))
    second = np.sum(ww * g * g, axis=(1, 2))
    if scenario.noise > 0:
        second = second + scenario.noise * np.sum(ww * (a * ds * proj) ** 2, axis=(1, 2))
    return np.maximum(second - mean**2, 0.0)


class EscapeDiffusion:
    """The small-overlap diffusion of one scenario (module docstring), built once and
    evaluated at any learning rate and d.

    Args:
        fns: the lowered overlap ODE of `scenario` (p = k = 1, spherical), with parameter eta.
        scenario: the Scenario (its lr is ignored).
        threshold: escape level of |m|.
    """

    def __init__(self, fns, scenario, threshold: float):
        import jax
        import jax.numpy as jnp

        self.threshold = threshold
        self._k = 1  # the start m0 ~ N(0, k / d)
        self._fns = fns
        i = eta_index(fns)
        self._rhs = jax.jit(jax.vmap(
            lambda m, eta: fns.rhs(0.0, m[None], fns.args.at[i].set(eta))[0], (0, None)))
        self._jnp = jnp
        grid = np.linspace(-threshold, threshold, _V_GRID)
        self._v_grid, self._v = grid, noise_variance(scenario, grid)

    def _mu(self, m, eta):
        """The drift mu(m) at rate eta (the overlap ODE's right-hand side)."""
        return np.asarray(self._rhs(self._jnp.asarray(m), eta), dtype=float)

    def _centre(self, d: int) -> float:
        """The rate maximising the drift at the start m = d^{-1/2}."""
        return best_lr(self._fns, d**-0.5)

    def max_lr(self, d: int) -> float:
        """The largest rate whose per-step move of m, lr sqrt(V) / d, stays below
        _MAX_STEP times the start's scale d^{-1/2}: beyond it the walk is not a diffusion."""
        return _MAX_STEP * math.sqrt(d / max(float(self._v.max()), 1e-300))

    def time(self, eta: float, d: int) -> float:
        theta = self.threshold
        # grid: resolve the start's scale d^{-1/2} and keep the cell Peclet number <= 1
        h = min(0.05 / math.sqrt(d / self._k), theta / 200)
        for _ in range(4):
            n = min(int(2 * theta / h) + 1, _MAX_GRID)
            m = np.linspace(-theta, theta, n)
            h = m[1] - m[0]
            mu = self._mu(m, eta)
            D = 0.5 * eta**2 * np.interp(m, self._v_grid, self._v) / d
            if not np.all(D[1:-1] > 0):
                return math.inf
            peclet = np.max(np.abs(mu) * h / D)
            if peclet <= 1 or n == _MAX_GRID:
                break
            h = h / (1.5 * peclet)
        T = _solve(mu, D, h)
        if not np.all(np.isfinite(T)) or T.min() < -1e-9 * max(1.0, T.max()):
            return math.inf
        start = np.exp(-0.5 * (d / self._k) * m**2)  # m0 ~ N(0, k / d)
        return float(np.sum(start * T) / np.sum(start))

    def prefactor(self, law, d: int, centre: float | None = None) -> tuple[float, float]:
        """The prefactor c of the prescribed rate law.lr(c, d) (c (l <= 2), c d^{-(l-2)/2}
        (l >= 3)) that minimises the mean escape time at this d, and that time.

        Args:
            law: the ScalingLaw of the information exponent.
            d: dimension.
            centre: centre of the search (default: the prefactor of the ODE's
                drift-maximising rate at m = d^{-1/2}); the search covers 10^-2 to 10^2 times
                it on a log grid, then refines around the best point, among rates up to
                `max_lr(d)`.

        Raises:
            ValueError: the diffusion escapes at no rate of the search.
        """
        unit = law.lr(1.0, d)
        if centre is None:
            centre = self._centre(d) / unit
        grid = centre * np.logspace(-2, 2, 33)
        grid = grid[grid * unit <= self.max_lr(d)]
        if grid.size == 0:
            raise ValueError(f"at d = {d} every rate of the search moves m by more than "
                             f"{_MAX_STEP} d^(-1/2) per step, where the diffusion does not "
                             f"hold")
        T = np.array([self.time(float(c) * unit, int(d)) for c in grid])
        if not np.isfinite(T).any():
            raise ValueError(f"the small-overlap diffusion does not escape at d = {d} for any "
                             f"learning rate in [{grid[0] * unit:.3g}, {grid[-1] * unit:.3g}]")
        fine = grid[int(np.argmin(T))] * np.logspace(-0.125, 0.125, 9)
        fine = fine[fine * unit <= self.max_lr(d)]
        Tf = np.array([self.time(float(c) * unit, int(d)) for c in fine])
        k = int(np.argmin(Tf))
        return float(fine[k]), float(Tf[k])


class LineDiffusion(EscapeDiffusion):
    """The small-overlap diffusion of online SGD on a multi-index target, along the line
    M_1. = m u of the teacher subspace (u: the symmetric direction by default; docs/reuse.md
    "Multi-index targets").

    On the line, the d -> infinity drift of m = u.M_1. is mu(m) = lr E[G (u.nu - m lambda)]
    - lr^2 m E[G^2] / 2 (G = a Delta_e sigma'(lambda), one step per sample; the reuse drift
    of `reuse_drift` with k = 1) and the per-step noise of m has variance
    lr^2 V(m) / d^2 with V(m) = Var[G (u.nu - m lambda)]: the single-index diffusion with
    these two functions (for k = 1 and u = 1 they are the ODE's and `noise_variance`'s).
    Both are tabulated on a grid of m once (quadrature of `line_moments`) and interpolated.
    The start is m0 ~ N(0, k / d), the typical |M_1.| of a random neuron.

    Args:
        scenario: Scenario, p = 1, k <= MAX_K, P = I, spherical (its lr is ignored).
        threshold: escape level of |m|.
        direction: u (default (1, ..., 1) / sqrt(k)).
        points: grid points in (-threshold, threshold).
    """

    def __init__(self, scenario, threshold: float, direction=None, points: int = 65):
        from ._reuse_rate import line_moments

        self.threshold = threshold
        self._k = scenario.k
        grid = np.linspace(-threshold, threshold, points)
        Gnu, Glam, G2, G2proj = line_moments(scenario, grid, 1.0, 1, direction=direction)
        self._v_grid = grid
        self._first = Gnu - grid * Glam  # E[G (u.nu - m lambda)]
        self._second = grid * G2 / 2
        self._v = np.maximum(G2proj - self._first**2, 0.0)

    def _mu(self, m, eta):
        return (eta * np.interp(m, self._v_grid, self._first)
                - eta**2 * np.interp(m, self._v_grid, self._second))

    def _centre(self, d: int) -> float:
        m0 = math.sqrt(self._k / d)
        first = float(np.interp(m0, self._v_grid, self._first))
        second = float(np.interp(m0, self._v_grid, self._second))
        return first / (2 * second) if first > 0 and second > 0 else 1.0 / math.sqrt(d)


class ReuseDiffusion(LineDiffusion):
    """The small-overlap diffusion of batch reuse at one learning rate: the reuse ODE's
    drift F(m; lr) (`reuse_drift`: k steps per sample, or one extragradient step with
    look-ahead probe x lr) plus the per-sample noise of m, variance
    lr^2 Var[G (u.nu - m lambda)] / d^2 (G the sample's summed gradient factor,
    `line_moments`), i.e. D(m) = lr^2 V(m) / (2 d) in t = samples / d; the start
    m0 ~ N(0, k_teacher / d). Its mean escape time is the finite-d prediction of the
    measured samples: the ODE alone starts every run at |m0| = d^{-1/2} exactly and
    ignores the noise, which at the reuse rates shortens the escape at small d (He4 under
    two steps per sample: docs/reuse.md). G depends on lr, so the tables are built at
    one rate; `time(lr, d)` must be called with that rate.

    Args:
        scenario: Scenario, p = 1, k <= MAX_K, P = I, spherical (its lr is ignored).
        threshold: escape level of |m|.
        lr: the learning rate.
        k: steps per sample (ignored with probe).
        probe: extragradient look-ahead as a multiple of lr (None: k plain steps).
        direction: u (default (1, ..., 1) / sqrt(k_teacher)).
        points: grid points in (-threshold, threshold).
    """

    def __init__(self, scenario, threshold: float, lr: float, k: int = 2,
                 probe: float | None = None, direction=None, points: int = 129):
        from ._reuse_rate import drift_from_moments, line_moments

        self.threshold = threshold
        self._k = scenario.k
        self._lr = float(lr)
        grid = np.linspace(-threshold, threshold, points)
        moments = line_moments(scenario, grid, lr, 1 if probe else k, direction=direction,
                               probe=probe)
        Gnu, Glam, _, G2proj = moments
        first = Gnu - grid * Glam  # E[G (u.nu - m lambda)]
        self._v_grid = grid
        self._drift = drift_from_moments(grid, lr, moments)  # reuse_drift on the grid
        self._v = np.maximum(G2proj - first**2, 0.0)

    def _mu(self, m, eta):
        if eta != self._lr:
            raise ValueError(f"this reuse diffusion is tabulated at lr = {self._lr:g}, got "
                             f"{eta:g}")
        return np.interp(m, self._v_grid, self._drift)


def _solve(mu, D, h):
    """T with mu T' + D T'' = -1 inside, T = 0 at both ends (central differences)."""
    from scipy.linalg import solve_banded

    inner = slice(1, -1)
    lower = D[inner] / h**2 - mu[inner] / (2 * h)
    diag = -2 * D[inner] / h**2
    upper = D[inner] / h**2 + mu[inner] / (2 * h)
    n = diag.size
    ab = np.zeros((3, n))
    ab[0, 1:] = upper[:-1]
    ab[1] = diag
    ab[2, :-1] = lower[1:]
    T = np.zeros(n + 2)
    T[1:-1] = solve_banded((1, 1), ab, -np.ones(n))
    return T


def mean_escape_time(fns, scenario, eta: float, d: int, threshold: float = 0.5) -> float:
    """Mean time (t = steps / d) for |m| to reach `threshold` from m0 ~ N(0, 1/d), in the
    small-overlap diffusion (module docstring); inf when it does not escape."""
    return EscapeDiffusion(fns, scenario, threshold).time(eta, d)
