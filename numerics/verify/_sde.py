"""The leading-order SDE of the overlaps, integrated with diffrax, and its Ornstein-Uhlenbeck
limit around a fixed point (docs/noise.md).

    dy = rhs(y) dt + sqrt(Sigma(y)) dB,   Sigma = eta^2 C(y) / (n_b d)   (Ito)

y = (Q_jl (j <= l), M_jr) (spherical rows: Q_jl (j < l), M_jr), rhs the overlap ODE, C the
covariance of the per-sample update (escalier.derive.ode.overlap_noise). sqrt(Sigma) is the
symmetric square root V diag(sqrt(max(w, 0))) V^T of the eigen-decomposition C = V diag(w) V^T:
eigenvalues down to -EIG_TOL max|w| are rounding and clipped to 0; below that C is materially
indefinite (a derivation or quadrature failure, or a state outside the overlaps' domain) and
the solve fails with an error naming the state. The scheme is Euler-Maruyama (diffrax.Euler,
which converges to the Ito solution; Heun would converge to the Stratonovich one) with a fixed
step dt on a Brownian path per seed (diffrax.UnsafeBrownianPath, or VirtualBrownianTree).

Around a fixed point y* of rhs with Jacobian J, the linearised SDE dz = J z dt + sqrt(D) dB,
D = Sigma(y*), is an Ornstein-Uhlenbeck process; started at y* its covariance at time t is
int_0^t e^{Js} D e^{J^T s} ds. When every eigenvalue of J has negative real part it tends to
the stationary covariance S solving the Lyapunov equation J S + S J^T + D = 0 (of order
eta^2 / (n_b d)); at a saddle (a plateau) only the transient exists.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["EIG_TOL", "OrnsteinUhlenbeck", "SdeFunctions", "SdeRun", "diffusion_root",
           "fixed_point", "initial_overlaps", "ornstein_uhlenbeck", "sde_functions", "simulate_sde"]

EIG_TOL = 1e-8
"""Relative tolerance for negative eigenvalues of C (clipped to 0 above -EIG_TOL max|w|)."""


@dataclass(frozen=True, eq=False)
class SdeFunctions:
    """The drift and the per-sample covariance of a scenario, lowered to JAX once.

    Attributes:
        noise: the OverlapNoise (SymPy).
        names: state component names.
        rhs: drift rhs(t, y, args) (the ODE's right-hand side).
        covariance: C(y, args) -> (n, n).
        args: default parameter vector (the scenario's eta, n_b, ...).
        eta, n_b: the scenario's learning rate and batch size.
    """

    noise: Any
    names: tuple[str, ...]
    rhs: Any
    covariance: Any
    args: Any
    eta: float
    n_b: float

    def diffusion(self, y, d: int):
        """Sigma(y) = eta^2 C(y) / (n_b d) at the default parameters (numpy)."""
        C = np.asarray(self.covariance(np.asarray(y, dtype=float), self.args))
        return self.eta**2 * C / (self.n_b * d)


def sde_functions(scenario, *, finite_lr: bool = True, points: int | None = None) -> SdeFunctions:
    """Derive the drift and covariance of a scenario and lower them (cached per scenario).

    Args:
        scenario: an escalier.derive.Scenario (first layer only; spherical rows at any p).
        finite_lr: keep the finite-learning-rate part of the covariance (see overlap_noise).
        points: Gauss-Hermite nodes per dimension for covariance terms without a closed form
            (for erf: the E[g^4]-type moments of the eta^2 part; each costs points^m
            evaluations per step and path, m their number of variables).
    """
    try:
        return _cached(scenario, bool(finite_lr), points)
    except TypeError:  # unhashable scenario
        return _sde_functions(scenario, bool(finite_lr), points)


@functools.lru_cache(maxsize=8)
def _cached(scenario, finite_lr, points):
    return _sde_functions(scenario, finite_lr, points)


def _sde_functions(scenario, finite_lr, points):
    import jax.numpy as jnp

    from escalier.derive.ode import overlap_noise
    from escalier.numerics.lower import lower

    noise = overlap_noise(scenario, finite_lr=finite_lr, points=points)
    ode = noise.ode
    defaults = dict(ode.defaults)
    params = tuple(ode.parameters)
    missing = [str(s) for s in params if s not in defaults]
    if missing:
        raise ValueError(f"the overlap system has parameters without values: {missing}")
    n = len(ode.state)
    iu = np.triu_indices(n)
    rhs_l = lower(list(ode.rhs), ode.state, params)
    cov_l = lower([noise.covariance[i][j] for i, j in zip(*iu, strict=True)], ode.state, params)
    rows, cols = jnp.asarray(iu[0]), jnp.asarray(iu[1])

    def covariance(y, args):
        upper = cov_l(y, args)
        C = jnp.zeros((n, n), upper.dtype).at[rows, cols].set(upper)
        return C + jnp.triu(C, 1).T

    args = jnp.asarray([float(defaults[s]) for s in params], dtype=jnp.float64)
    names = tuple(s.name for s in ode.state)
    return SdeFunctions(noise, names, lambda t, y, args: rhs_l(y, args), covariance, args,
                        float(scenario.lr), float(scenario.batch))


def diffusion_root(C, tol: float = EIG_TOL):
    """The symmetric square root of a covariance matrix (JAX, traceable), and a flag.

    Returns:
        (R, ok): R = V diag(sqrt(max(w, 0))) V^T with C = V diag(w) V^T; ok is False when
        min w < -tol max|w| (materially indefinite; then R is NaN).
    """
    import jax.numpy as jnp

    C = (C + C.T) / 2
    w, V = jnp.linalg.eigh(C)
    scale = jnp.max(jnp.abs(w))
    ok = w[0] >= -tol * jnp.maximum(scale, 1e-300)
    R = (V * jnp.sqrt(jnp.clip(w, 0.0, None))) @ V.T
    return jnp.where(ok, R, jnp.nan), ok


@dataclass(frozen=True)
class SdeRun:
    """Paths of the overlap SDE.

    Attributes:
        names: state component names.
        times: (T,) record times (t = steps / d).
        y: (S, T, n) paths.
        d: dimension; config: the settings (JSON-ready).
    """

    names: tuple[str, ...]
    times: np.ndarray
    y: np.ndarray
    d: int
    config: dict = field(default_factory=dict)

    @property
    def mean(self) -> np.ndarray:
        """(T, n) mean over paths."""
        return self.y.mean(axis=0)

    @property
    def std(self) -> np.ndarray:
        """(T, n) standard deviation over paths (ddof = 1)."""
        return self.y.std(axis=0, ddof=1) if self.y.shape[0] > 1 else np.zeros(self.y.shape[1:])

    def to_json(self) -> dict:
        return {"names": list(self.names), "d": self.d, "times": self.times.tolist(),
                "mean": self.mean.tolist(), "std": self.std.tolist(), "config": self.config}


def initial_overlaps(scenario, d: int, seeds: int, seed: int = 0) -> np.ndarray:
    """(S, n) initial states of random weights at dimension d (the simulation's law:
    escalier.numerics.simulation.initial_weights), one per seed of the split of key(seed)."""
    import jax

    from escalier.derive import ode_system
    from escalier.numerics.simulation import initial_weights

    system = ode_system(scenario)
    keys = jax.random.split(jax.random.key(seed), seeds)
    out = []
    for key in keys:
        W, Ws, _ = initial_weights(scenario, int(d), jax.random.split(key)[0])
        out.append(system.initial_state(W, Ws))
    return np.asarray(out)


def simulate_sde(scenario, d: int, time: float, *, seeds: int = 64, seed: int = 0,
                 n_records: int = 50, dt: float = 0.01, y0=None, finite_lr: bool = True,
                 brownian: str = "unsafe", tol: float = EIG_TOL,
                 points: int | None = None, noise_scale: float = 1.0) -> SdeRun:
    """Integrate the overlap SDE (module docstring) on `seeds` independent Brownian paths.

    Args:
        scenario: the Scenario (its lr and batch give eta and n_b).
        d: input dimension (sets the noise scale eta^2 / (n_b d)).
        time: duration in t = steps / d.
        seeds: number of paths.
        seed: PRNG seed (Brownian paths, and the initial states when y0 is None).
        n_records: record times after t = 0 (evenly spaced).
        dt: Euler-Maruyama step (fixed); the records are rounded onto it.
        y0: (n,) or (seeds, n) initial states; default: each path starts from the overlaps of
            its own random weights at dimension d (initial_overlaps), as the simulation does.
        finite_lr: include the finite-learning-rate part of the covariance.
        brownian: "unsafe" (UnsafeBrownianPath, fast, fixed steps) or "tree"
            (VirtualBrownianTree, tolerance dt / 4).
        tol: relative tolerance for negative eigenvalues of C (diffusion_root).
        points: quadrature nodes per dimension for covariance terms without closed form
            (sde_functions).
        noise_scale: multiplies sqrt(Sigma) (1: the SDE; 0: the ODE from the same starts,
            for comparisons).

    Returns:
        SdeRun (paths (S, T, n), T = n_records + 1).

    Raises:
        ValueError: bad input, or a non-finite path: C materially indefinite (naming the
            state) or the drift blowing up (lower the learning rate or dt).
    """
    import jax
    import jax.numpy as jnp

    if not (isinstance(d, int | np.integer) and d >= 1):
        raise ValueError(f"d must be a positive integer, got {d!r}")
    if not (time > 0 and dt > 0 and math.isfinite(time)):
        raise ValueError(f"time and dt must be positive, got time = {time}, dt = {dt}")
    if brownian not in ("unsafe", "tree"):
        raise ValueError(f"brownian must be 'unsafe' or 'tree', got {brownian!r}")
    fns = sde_functions(scenario, finite_lr=finite_lr, points=points)
    n = len(fns.names)
    steps = max(int(math.ceil(time / dt / n_records)), 1) * n_records
    h = time / steps
    ts = np.linspace(0.0, time, n_records + 1)
    if y0 is None:
        y0 = initial_overlaps(scenario, d, seeds, seed)
    y0 = np.broadcast_to(np.asarray(y0, dtype=float), (seeds, n)).copy()
    scale = float(noise_scale) * fns.eta / math.sqrt(fns.n_b * d)
    keys = jax.random.split(jax.random.fold_in(jax.random.key(seed), 1), seeds)
    solve = _solver(fns, n, brownian, float(tol))
    ys = np.asarray(solve(jnp.asarray(y0), keys, fns.args, jnp.asarray(ts), h, scale,
                          int(steps)))
    bad = ~np.all(np.isfinite(ys), axis=-1)
    if np.any(bad):
        s, t = np.argwhere(bad)[0]
        # the last finite record of that path (its start when the first record is lost)
        last = y0[s] if t == 0 else ys[s, t - 1]
        C = np.asarray(fns.covariance(jnp.asarray(last), fns.args))
        w = np.linalg.eigvalsh((C + C.T) / 2)
        why = (f"the update covariance C is materially indefinite near the state "
               f"{dict(zip(fns.names, np.round(last, 6).tolist(), strict=True))} (eigenvalues "
               f"{w[0]:.3g} .. {w[-1]:.3g}; tolerance {tol:g} relative)"
               if w[0] < -tol * np.abs(w).max() else
               "the path blows up (drift or noise too strong: lower the learning rate or "
               "the step dt; for heavy-tailed updates the finite-lr part of C grows fast, "
               "try finite_lr=False / --leading-order)")
        since, until = (0.0, ts[1]) if t == 0 else (ts[t - 1], ts[t])
        raise ValueError(f"SDE path {s} became non-finite between t = {since:.4g} and "
                         f"{until:.4g}: {why}")
    config = {"d": int(d), "time": float(time), "seeds": int(seeds), "seed": int(seed),
              "dt": h, "finite_lr": bool(finite_lr), "brownian": brownian,
              "eta": fns.eta, "n_b": fns.n_b, "scheme": "Euler-Maruyama (Ito)",
              "diffusion": "eta^2 C / (n_b d)", "backend": fns.noise.backend,
              "points": points, "noise_scale": float(noise_scale)}
    return SdeRun(fns.names, ts, ys, int(d), config)


@functools.lru_cache(maxsize=8)
def _solver(fns, n, brownian, tol):
    import diffrax as dfx
    import jax
    import jax.numpy as jnp

    def one(y0, key, args, ts, h, scale, steps):
        def diffusion(t, y, args):
            R, _ = diffusion_root(fns.covariance(y, args), tol)
            return scale * R

        t1 = ts[-1]
        if brownian == "unsafe":
            bm = dfx.UnsafeBrownianPath(shape=(n,), key=key)
        else:
            bm = dfx.VirtualBrownianTree(0.0, t1, tol=h / 4, shape=(n,), key=key)
        terms = dfx.MultiTerm(dfx.ODETerm(fns.rhs), dfx.ControlTerm(diffusion, bm))
        sol = dfx.diffeqsolve(terms, dfx.Euler(), 0.0, t1, h, y0, args,
                              saveat=dfx.SaveAt(ts=ts), max_steps=steps + 16, throw=False,
                              adjoint=dfx.ForwardMode())
        ok = sol.result == dfx.RESULTS.successful
        return jnp.where(ok, sol.ys, jnp.nan)

    batched = jax.vmap(one, in_axes=(0, 0, None, None, None, None, None))
    return jax.jit(lambda y0, keys, args, ts, h, scale, steps: batched(
        y0, keys, args, ts, h, scale, steps), static_argnums=(6,))


@dataclass(frozen=True)
class OrnsteinUhlenbeck:
    """The linearised SDE at a fixed point y* (module docstring).

    Attributes:
        names: state names; y_star: (n,) the fixed point; residual: |rhs(y*)|_inf.
        J: (n, n) Jacobian of the drift; eigenvalues: its eigenvalues.
        D: (n, n) diffusion matrix Sigma(y*) = eta^2 C(y*) / (n_b d).
        S: (n, n) stationary covariance, J S + S J^T + D = 0; None at an unstable fixed point
            (a saddle such as a plateau), where only the transient covariance exists.
        d: dimension.
    """

    names: tuple[str, ...]
    y_star: np.ndarray
    residual: float
    J: np.ndarray
    eigenvalues: np.ndarray
    D: np.ndarray
    S: np.ndarray | None
    d: int

    @property
    def stable(self) -> bool:
        """Whether every eigenvalue of J has a negative real part."""
        return self.S is not None

    @property
    def std(self) -> np.ndarray:
        """(n,) stationary standard deviations sqrt(diag S).

        Raises:
            ValueError: an unstable fixed point (no stationary covariance).
        """
        if self.S is None:
            raise ValueError("no stationary covariance at an unstable fixed point: use "
                             "covariance_at(t), the transient covariance")
        return np.sqrt(np.diag(self.S))

    def covariance_at(self, t: float) -> np.ndarray:
        """Cov[z(t)] of the linearised SDE started at z(0) = 0 (y(0) = y*):
        int_0^t e^{J s} D e^{J^T s} ds, by Van Loan's block exponential (exact for any J:
        at a stable point it equals S - e^{J t} S e^{J^T t} and tends to S; at a saddle it
        grows like e^{2 Re(lambda) t} along the escape direction)."""
        from scipy.linalg import expm

        n = len(self.J)
        block = np.zeros((2 * n, 2 * n))
        block[:n, :n], block[:n, n:], block[n:, n:] = -self.J, self.D, self.J.T
        E = expm(block * float(t))
        cov = E[n:, n:].T @ E[:n, n:]
        return (cov + cov.T) / 2


def fixed_point(scenario, y_guess, *, tol: float = 1e-12, finite_lr: bool = True,
                points: int | None = None) -> np.ndarray:
    """A zero of the drift near y_guess (scipy.optimize.root, JAX Jacobian).

    Raises:
        ValueError: no convergence (residual above 1e-9): start closer (integrate the ODE to
            long times first).
    """
    import jax
    import jax.numpy as jnp
    from scipy.optimize import root

    fns = sde_functions(scenario, finite_lr=finite_lr, points=points)
    f = jax.jit(lambda y: fns.rhs(0.0, y, fns.args))
    jac = jax.jit(jax.jacfwd(lambda y: fns.rhs(0.0, y, fns.args)))
    sol = root(lambda y: np.asarray(f(jnp.asarray(y))), np.asarray(y_guess, dtype=float),
               jac=lambda y: np.asarray(jac(jnp.asarray(y))), tol=tol)
    res = float(np.max(np.abs(np.asarray(f(jnp.asarray(sol.x))))))
    if not res < 1e-9:
        raise ValueError(f"no fixed point of the drift found near {np.asarray(y_guess)} "
                         f"(residual {res:.3g}): start closer, e.g. from the ODE's state at a "
                         f"long time")
    return np.asarray(sol.x)


def ornstein_uhlenbeck(scenario, y_star, d: int, *, finite_lr: bool = True,
                       refine: bool = True, points: int | None = None,
                       stationary: bool = True) -> OrnsteinUhlenbeck:
    """The Ornstein-Uhlenbeck limit of the overlap SDE at a fixed point.

    Args:
        scenario: the Scenario.
        y_star: the fixed point (or a guess, refined by fixed_point when refine).
        d: dimension.
        finite_lr: finite-learning-rate covariance.
        refine: solve rhs(y) = 0 from y_star first.
        points: quadrature nodes for covariance terms without closed form (sde_functions).
        stationary: require a stable fixed point (a stationary covariance S). False also
            accepts a saddle (a plateau: an escape direction), with S = None and the
            transient covariance_at(t), the linear start of the escape.

    Raises:
        ValueError: y* not a fixed point (residual > 1e-9), or, when stationary, J not stable
            (an eigenvalue with real part >= 0): then no stationary covariance exists.
    """
    import jax
    import jax.numpy as jnp
    from scipy.linalg import solve_continuous_lyapunov

    fns = sde_functions(scenario, finite_lr=finite_lr, points=points)
    y = fixed_point(scenario, y_star, finite_lr=finite_lr, points=points) if refine else np.asarray(
        y_star, dtype=float)
    res = float(np.max(np.abs(np.asarray(fns.rhs(0.0, jnp.asarray(y), fns.args)))))
    if not res < 1e-9:
        raise ValueError(f"y* is not a fixed point of the drift (|rhs| = {res:.3g})")
    J = np.asarray(jax.jacfwd(lambda v: fns.rhs(0.0, v, fns.args))(jnp.asarray(y)))
    ev = np.linalg.eigvals(J)
    D = fns.diffusion(y, d)
    if np.max(ev.real) >= 0:
        if not stationary:
            return OrnsteinUhlenbeck(fns.names, y, res, J, ev, D, None, int(d))
        i = int(np.argmax(ev.real))
        raise ValueError(f"the fixed point is not stable: the drift's Jacobian has the "
                         f"eigenvalue {ev[i]:.4g} (real part >= 0); a stationary "
                         f"Ornstein-Uhlenbeck limit needs every real part < 0 (a plateau is a "
                         f"saddle; its transient covariance is, in Python, "
                         f"ornstein_uhlenbeck(..., stationary=False).covariance_at(t))")
    S = solve_continuous_lyapunov(J, -D)
    S = (S + S.T) / 2
    return OrnsteinUhlenbeck(fns.names, y, res, J, ev, D, S, int(d))
