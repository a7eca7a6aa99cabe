"""DMFT of full-batch gradient flow on n = alpha d samples, solved by sampling.

docs/reuse.md §DMFT; Dandi et al., arXiv 2402.03220 (the multi-pass setting and its DMFT);
the cavity derivation follows Mignacco, Krzakala, Urbani, Zdeborova, arXiv 2006.06098, and
Celentano, Cheng, Montanari, arXiv 2112.07572.

Setting (engines/_reuse.MultiPass in the limit d -> infinity, t = steps / d): the student
rows W (p x d) follow dW/dt = (lr / alpha) F^T X / sqrt(d), with F_mu = a * Delta_e(y_mu,
yhat_mu) * sigma'(lambda_mu) the per-sample force (the Scenario's update) and X the fixed
n x d Gaussian training set. With the teacher rows fixed, two effective processes close the
dynamics (per input coordinate, and per training sample):

    parameter side:  dw/dt = (lr / alpha) zeta(t) + lr int_0^t G(t, s) w(s) ds + lr Gnu(t) w*
    sample side:     lambda(t) = omega(t) + (lr / alpha) int_0^t R(t, s) F(lambda(s), nu) ds

with w(0) ~ N(0, init_scale^2 I_p), w* ~ N(0, P) independent, zeta a centred Gaussian
process with E[zeta(t) zeta(s)^T] = alpha E[F(t) F(s)^T]; (omega, nu) centred Gaussian with
E[omega(t) omega(s)^T] = Q(t, s) = E[w(t) w(s)^T], E[omega(t) nu^T] = M(t) = E[w(t) w*^T],
E[nu nu^T] = P. The kernels close the loop: R(t, s) = delta w(t) / delta h(s) (a field h
added to dw/dt) and G(t, s) = E[delta F(t) / delta omega(s)], Gnu(t) = E[dF(t) / d nu].

Discretisation and iteration. Times t_i = i dt, i = 0..T (explicit Euler, the force at t_i
drives the step to t_{i+1}). The parameter side is linear: w_i = B0_i w(0) + sum_s Bz[i, s]
zeta_s + Bs_i w*, solved exactly by a recursion, which gives Q, M and dt R = (alpha / lr) Bz.
The sample side is sampled: N Monte-Carlo paths of (omega, nu) from the eigen-decomposition
of their covariance (common random numbers: the same standard normals every iteration),
each run through the memory recursion. The kernels are pathwise derivatives: along each path
Lambda(t, s) = d lambda(t) / d h(s) follows the linearised memory recursion
Lambda(t, s) = 1[t = s] + sum_{s <= u < t} (lr / alpha) dt R(t, u) J(u) Lambda(u, s) with
J = dF / dlambda, and G = E[J Lambda], Gnu likewise; a jump of sigma' (ReLU) enters J through
sigma'' with its Dirac mass smoothed to a Gaussian of width SMOOTHING (0.05).
Damped fixed point: (Q, M, R) <- (1 - damping) old + damping new, until
residual = max(|Q' - Q|, |M' - M|) / max(1, |Q|) < tol.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from escalier.numerics.lower import (
    lower,
    residual_function,
    student_functions,
    teacher_function,
)

__all__ = ["DmftNotConverged", "DmftSolution", "simulate_matched", "solve_dmft"]


class DmftNotConverged(ValueError):
    """The damped fixed-point iteration stopped above its tolerance (residual attached)."""

    def __init__(self, message: str, residual: float):
        super().__init__(message)
        self.residual = residual


@dataclass(frozen=True)
class DmftSolution:
    """The DMFT prediction on the time grid.

    Attributes:
        times: (T + 1,) times t (units of simulation steps / d).
        Q: (T + 1, p, p) equal-time student overlaps Q(t, t).
        M: (T + 1, p, k) student-teacher overlaps.
        train_loss, test_loss: (T + 1,) half mean squared errors (train: on the training
            samples, the sample process; test: on fresh samples, omega).
        Q2: (T + 1, T + 1, p, p) the two-time correlation Q(t, s).
        response: (T + 1, T + 1, p, p) dt R(t, s).
        iterations: fixed-point iterations used; residuals: residual after each.
        config: settings (JSON-ready).
    """

    times: np.ndarray
    Q: np.ndarray
    M: np.ndarray
    train_loss: np.ndarray
    test_loss: np.ndarray
    Q2: np.ndarray
    response: np.ndarray
    iterations: int
    residuals: tuple[float, ...]
    config: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"config": self.config, "times": self.times.tolist(), "Q": self.Q.tolist(),
                "M": self.M.tolist(), "train_loss": self.train_loss.tolist(),
                "test_loss": self.test_loss.tolist(), "iterations": self.iterations,
                "residuals": list(self.residuals)}


def _parameter_side(G, Gnu, CF, dt, lr, alpha, s0, P):
    """(Q2, M, Bz) from the kernels: the exact solution of the linear parameter process."""
    T1, p = G.shape[0], G.shape[2]
    k = Gnu.shape[2]
    dtype = G.dtype
    B0 = jnp.zeros((T1, p, p), dtype).at[0].set(jnp.eye(p, dtype=dtype))
    Bz = jnp.zeros((T1, T1, p, p), dtype)
    Bs = jnp.zeros((T1, p, k), dtype)

    def body(i, state):
        B0, Bz, Bs = state
        mask = (jnp.arange(T1) <= i)[:, None, None]
        Gi = G[i] * mask  # G(t_i, s) for s <= t_i
        B0 = B0.at[i + 1].set(B0[i] + dt * lr * jnp.einsum("sab,sbc->ac", Gi, B0))
        Bz_next = Bz[i] + dt * lr * jnp.einsum("sab,subc->uac", Gi, Bz)
        Bz_next = Bz_next.at[i].add(dt * lr / alpha * jnp.eye(p, dtype=dtype))
        Bz = Bz.at[i + 1].set(Bz_next)
        Bs = Bs.at[i + 1].set(Bs[i] + dt * lr * (jnp.einsum("sab,sbc->ac", Gi, Bs) + Gnu[i]))
        return B0, Bz, Bs

    B0, Bz, Bs = jax.lax.fori_loop(0, T1 - 1, body, (B0, Bz, Bs))
    Q2 = (s0**2 * jnp.einsum("iab,jcb->ijac", B0, B0)
          + alpha * jnp.einsum("isab,stbc,jtdc->ijad", Bz, CF, Bz)
          + jnp.einsum("iab,bc,jdc->ijad", Bs, P, Bs))
    M = Bs @ P
    return Q2, M, Bz


SMOOTHING = 0.05
"""Width eps of the Gaussian smoothing of the jumps of sigma' inside the kernel G."""


def _second_derivative(scenario):
    """sigma'' as an elementwise JAX function, with each jump Heaviside(u) of sigma' (ReLU)
    replaced by (1 + erf(u / (sqrt(2) eps))) / 2 first, so that its Dirac mass becomes a
    Gaussian of width eps (exact sigma'' for smooth activations)."""
    import sympy as sp

    (x,), body = scenario.sigma.variables, scenario.sigma.expr
    eps = sp.Float(SMOOTHING)
    smooth = sp.diff(body, x).replace(
        sp.Heaviside, lambda u, *rest: (1 + sp.erf(u / (sp.sqrt(2) * eps))) / 2)
    fn = lower(smooth, (x,))
    d2 = jax.grad(lambda v: fn(jnp.stack([v], -1)))
    return lambda v: jax.vmap(d2)(v.ravel()).reshape(v.shape)


@functools.lru_cache(maxsize=8)
def _program(scenario, T: int, dt: float, alpha: float, n_mc: int, seed: int, chunk: int,
             dtype_name: str):
    """The jitted map (Q2, M, Bz) -> (new Q2, M, Bz, train, test) of one iteration."""
    dtype = jnp.dtype(dtype_name)
    p, k, T1 = scenario.p, scenario.k, T + 1
    f = teacher_function(scenario)
    sigma, dsigma = student_functions(scenario)
    residual = residual_function(scenario)
    dres_y = jax.grad(lambda y, yh: residual(y, yh), 0)
    dres_yh = jax.grad(lambda y, yh: residual(y, yh), 1)
    df = jax.grad(lambda nu: f(nu))
    a = jnp.asarray(scenario.a, dtype)
    lr, s0 = float(scenario.lr), float(scenario.init_scale)
    P = jnp.asarray(scenario.P, dtype)
    key = jax.random.key(seed)
    n_chunks = n_mc // chunk
    z = jax.random.normal(key, (n_chunks, chunk, T1 * p + k), dtype)
    xi = math.sqrt(scenario.noise) * jax.random.normal(jax.random.fold_in(key, 1),
                                                       (n_chunks, chunk), dtype)
    d2sigma = _second_derivative(scenario)

    def one(lam, nu, xi):
        """Force F (p,), its Jacobians J = dF/dlambda (p, p), D = dF/dnu (p, k), loss."""
        y = f(nu) + xi
        s, ds = sigma(lam), dsigma(lam)
        yh = s @ a
        delta = residual(y, yh)
        F = a * delta * ds
        J = (a * ds)[:, None] * dres_yh(y, yh) * (a * ds)[None, :] \
            + jnp.diag(a * delta * d2sigma(lam))
        D = (a * ds * dres_y(y, yh))[:, None] * df(nu)[None, :]
        return F, J, D, 0.5 * (y - yh) ** 2

    batch = jax.vmap(one)

    def sample_side(omega, nu, xi, Bz):
        """Paths of one chunk: sums over paths of F F^T, K = dF/dh, dF/dnu, train loss."""
        n = omega.shape[0]

        def step(carry, i):
            Fbuf, JL, JX = carry  # F_u, J_u Lambda[u, s], J_u Xi_u + D_u for u < i
            lam = omega[:, i] + jnp.einsum("uab,nub->na", Bz[i], Fbuf)
            F, J, D, loss = batch(lam, nu, xi)
            Lam = jnp.einsum("uab,nusbc->nsac", Bz[i], JL)
            Lam = Lam.at[:, i].add(jnp.eye(p, dtype=dtype))
            Xi = jnp.einsum("uab,nubc->nac", Bz[i], JX)
            K = jnp.einsum("nab,nsbc->nsac", J, Lam)
            Gnu = jnp.einsum("nab,nbc->nac", J, Xi) + D
            carry = (Fbuf.at[:, i].set(F), JL.at[:, i].set(K), JX.at[:, i].set(Gnu))
            return carry, (F, K.sum(0), Gnu.sum(0), loss.sum())

        init = (jnp.zeros((n, T1, p), dtype), jnp.zeros((n, T1, T1, p, p), dtype),
                jnp.zeros((n, T1, p, k), dtype))
        _, (F, K, Gnu, train) = jax.lax.scan(step, init, jnp.arange(T1))
        F = jnp.swapaxes(F, 0, 1)
        return jnp.einsum("nsa,ntb->stab", F, F), K, Gnu, train

    def iterate(Q2, M, Bz):
        top = Q2.transpose(0, 2, 1, 3).reshape(T1 * p, T1 * p)
        cross = M.reshape(T1 * p, k)
        cov = jnp.block([[top, cross], [cross.T, P]])
        ev, U = jnp.linalg.eigh(0.5 * (cov + cov.T))
        root = (U * jnp.sqrt(jnp.clip(ev, 0.0, None))) @ U.T  # symmetric: continuous in cov
        totals = None
        test = jnp.zeros((T1,), dtype)
        for c in range(n_chunks):
            g = z[c] @ root
            omega = g[:, : T1 * p].reshape(chunk, T1, p)
            nu = g[:, T1 * p:]
            out = sample_side(omega, nu, xi[c], Bz)
            totals = out if totals is None else tuple(x + y for x, y in zip(totals, out,
                                                                              strict=True))
            test = test + jax.vmap(lambda w, nu=nu, x=xi[c]: batch(w, nu, x)[3].sum(), 1)(omega)
        CF, G, Gnu, train = (x / (n_chunks * chunk) for x in totals)
        Q2n, Mn, Bzn = _parameter_side(G, Gnu, CF, dt, lr, alpha, s0, P)
        return Q2n, Mn, Bzn, train, test / (n_chunks * chunk)

    return jax.jit(iterate)


def solve_dmft(scenario, alpha: float, time: float, *, steps: int = 30, samples: int = 2000,
               damping: float = 0.5, tol: float = 1e-4, max_iterations: int = 200,
               seed: int = 0, progress: bool = False) -> DmftSolution:
    """Solve the DMFT of multi-pass GD (module docstring) for a Scenario.

    Args:
        scenario: the Scenario (its lr, loss, student, target, P, noise, init_scale; fixed
            second layer a). The matching simulation is simulate(scenario, d, time,
            protocol=MultiPass(alpha), engine="full").
        alpha: samples per dimension n / d.
        time: horizon in t = steps / d.
        steps: time steps T of the grid (dt = time / T).
        samples: Monte-Carlo paths of the sample process.
        damping: weight of the new iterate.
        tol: convergence tolerance on the residual.
        max_iterations: iterations before DmftNotConverged.
        seed: seed of the (common) random numbers.
        progress: a tqdm bar over iterations.

    Raises:
        ValueError: bad settings (a trained second layer, non-positive numbers).
        DmftNotConverged: no convergence within max_iterations (the residual and what to
            change are in the message), or a non-finite iterate.
    """
    from tqdm.auto import tqdm

    if scenario.train_second_layer:
        raise ValueError("the DMFT here keeps the second layer fixed: use a Scenario with "
                         "train_second_layer=False")
    if scenario.spherical:
        raise ValueError("the DMFT here has no spherical constraint: use spherical=False")
    for name, v in (("alpha", alpha), ("time", time)):
        if not (math.isfinite(float(v)) and float(v) > 0):
            raise ValueError(f"{name} must be a positive number, got {v!r}")
    if not (0 < damping <= 1):
        raise ValueError(f"damping must be in (0, 1], got {damping}")
    if not jax.config.jax_enable_x64:
        raise ValueError("the DMFT solver runs in float64: enable jax_enable_x64 first")
    T, p, k = int(steps), scenario.p, scenario.k
    dt = float(time) / T
    chunk = min(int(samples), 500)
    samples = chunk * max(1, round(int(samples) / chunk))
    fn = _program(scenario, T, dt, float(alpha), samples, int(seed), chunk, "float64")
    s0 = float(scenario.init_scale)
    Q2 = jnp.asarray(np.broadcast_to(s0**2 * np.eye(p), (T + 1, T + 1, p, p)).copy())
    M = jnp.zeros((T + 1, p, k))
    Bz = jnp.zeros((T + 1, T + 1, p, p))
    residuals = []
    bar = tqdm(total=max_iterations, desc="dmft (fixed point)", disable=not progress,
               leave=False)
    res = math.inf
    it = 0
    for it in range(1, max_iterations + 1):
        Q2n, Mn, Bzn, train, test = fn(Q2, M, Bz)
        scale = max(1.0, float(jnp.max(jnp.abs(Q2n))))
        res = float(max(jnp.max(jnp.abs(Q2n - Q2)), jnp.max(jnp.abs(Mn - M)))) / scale
        if not math.isfinite(res):
            bar.close()
            raise DmftNotConverged(
                f"the DMFT iteration produced non-finite overlaps at iteration {it}: the "
                f"dynamics diverges at lr = {scenario.lr:g}; lower the learning rate (--lr) "
                f"or the horizon (--time)", res)
        residuals.append(res)
        Q2, M, Bz = ((1 - damping) * Q2 + damping * Q2n, (1 - damping) * M + damping * Mn,
                     (1 - damping) * Bz + damping * Bzn)
        bar.update(1)
        bar.set_postfix(residual=f"{res:.2e}")
        if res < tol:
            break
    bar.close()
    if res >= tol:
        raise DmftNotConverged(
            f"the DMFT fixed point did not converge in {max_iterations} iterations: residual "
            f"{res:.3g} > tol {tol:g}; raise --max-iterations, lower --damping (now "
            f"{damping:g}), or shorten --time / lower --lr (long horizons at large rates "
            f"converge slowly)", res)
    Q2n, Mn, Bzn, train, test = fn(Q2, M, Bz)
    idx = np.arange(T + 1)
    Q2 = np.asarray(Q2)
    config = {"scenario": scenario.to_json(), "alpha": float(alpha), "time": float(time),
              "steps": T, "dt": dt, "samples": int(samples), "damping": damping, "tol": tol,
              "smoothing": SMOOTHING, "seed": seed}
    return DmftSolution(np.arange(T + 1) * dt, Q2[idx, idx], np.asarray(M), np.asarray(train),
                        np.asarray(test), Q2, np.asarray(Bz) * float(alpha) / scenario.lr,
                        it, tuple(residuals), config)


def simulate_matched(solution: DmftSolution, scenario, d: int, seeds: int = 8, seed: int = 0,
                     *, progress: bool = False):
    """The multi-pass simulation whose d -> infinity limit is this Euler-grid solution.

    GD on n = alpha d samples with one step per grid step, of size lr dt in t (Scenario
    lr' = lr dt d, time = steps / d, a record per step): the DMFT's discretisation is then
    that of the simulated GD, so the deviation measures finite d and Monte Carlo only.

    Returns:
        The SimulationResult (records at the solution's grid times, in grid units).
    """
    from dataclasses import replace

    from escalier.numerics.simulation import MultiPass, simulate

    T = len(solution.times) - 1
    dt = float(solution.config["dt"])
    sc = replace(scenario, lr=float(scenario.lr) * dt * d)
    return simulate(sc, d, T / d, seeds=seeds, seed=seed, n_records=T, engine="full",
                    protocol=MultiPass(float(solution.config["alpha"])), progress=progress)
