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
each run through the memory recursion. The kernels G[i, s] = E[dF_i / domega_s] (s <= i,
s = i included: F_i depends on omega_i through lambda_i) and Gnu[i] = E[dF_i / dnu], which the
parameter side applies as w_{i+1} = w_i + dt lr (sum_{s <= i} G[i, s] w_s + Gnu[i] w*) + ...,
are estimated in one of three ways (`kernels`):

* pathwise: along each path Lambda(t, s) = d lambda(t) / d h(s) follows the linearised
  memory recursion Lambda(t, s) = 1[t = s] + sum_{s <= u < t} (lr / alpha) dt R(t, u) J(u)
  Lambda(u, s) with J = dF / dlambda, and G = E[J Lambda], Gnu likewise. Exact for smooth
  activations; a jump of sigma' (ReLU) enters J through sigma'' with its Dirac mass smoothed
  to a Gaussian of width SMOOTHING (0.05), which biases it (docs/reuse.md).
* stein: Gaussian integration by parts. F_i is a function of g_i = (omega_0..omega_i, nu)
  (and of the label noise, independent of g), so E[F_i g_i^T] = E[dF_i / dg_i] C_i with C_i
  the covariance of g_i, for the distributional derivative (the Dirac masses included):
  [G[i, 0..i], Gnu[i]] = Cov(F_i, g_i) C_i^{-1}, estimated with the sample covariances (the
  least-squares regression of F_i on g_i with an intercept: exact for F affine in g).
* hybrid: the pathwise estimate for the force F_eps with sigma' smoothed (run along its own
  path: a smooth function of g, so exact) plus the Stein estimate for F - F_eps.

The default (auto) is stein where sigma' jumps and pathwise otherwise (measured: docs/reuse.md).
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

__all__ = ["DmftNotConverged", "DmftSolution", "dmft_kernels", "simulate_matched",
           "solve_dmft"]


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
"""Width eps of the Gaussian smoothing of the jumps of sigma': the kernel of the pathwise
estimator (biased by it), the control variate of the hybrid one (exact at any width)."""

KERNELS = ("auto", "pathwise", "stein", "hybrid")
"""Estimators of the kernels G, Gnu (module docstring; docs/reuse.md §DMFT)."""


def _smoothed_derivative(scenario, eps: float):
    """(sigma'_eps, sigma''_eps, has_jump): sigma' with each jump Heaviside(u) replaced by
    (1 + erf(u / (sqrt(2) eps))) / 2 and each sign(u) by erf(u / (sqrt(2) eps)), so that the
    Dirac masses of sigma'' become Gaussians of width eps, and its derivative, as
    elementwise JAX functions (both exact for smooth activations: has_jump False)."""
    import sympy as sp

    (x,), body = scenario.sigma.variables, scenario.sigma.expr
    e = sp.Float(eps)
    first = sp.diff(body, x)
    smooth = first.replace(sp.Heaviside, lambda u, *rest: (1 + sp.erf(u / (sp.sqrt(2) * e))) / 2)
    smooth = smooth.replace(sp.sign, lambda u: sp.erf(u / (sp.sqrt(2) * e)))
    has_jump = smooth != first
    fn = lower(smooth, (x,))
    d1 = lambda v: fn(jnp.stack([v], -1))  # noqa: E731
    d2 = jax.grad(d1)

    def elementwise(g):
        return lambda v: jax.vmap(g)(v.ravel()).reshape(v.shape)

    return elementwise(d1), elementwise(d2), bool(has_jump)


def _resolve_kernels(kernels: str, scenario) -> str:
    """The estimator `kernels` names; auto: stein where the student's sigma' jumps (ReLU:
    the pathwise kernels would need smoothing), pathwise otherwise."""
    if kernels not in KERNELS:
        raise ValueError(f"kernels must be one of {', '.join(KERNELS)}, got {kernels!r}")
    if kernels != "auto":
        return kernels
    return "stein" if _smoothed_derivative(scenario, SMOOTHING)[2] else "pathwise"


def _stein_solve(cross, cov, T1: int, p: int, k: int):
    """Stein / Novikov regression per time: E[dF(t_i) / dg] for g = (omega(t_0..t_i), nu),
    from the covariances cross[i] = Cov(F(t_i), g) (T1, p, D) and cov = Cov(g) (D, D),
    D = T1 p + k, as cross[i] C_i^{-1} on the causal block (times <= t_i and nu), zero on
    the future times (F(t_i) does not depend on them). Returns (G (T1, T1, p, p),
    Gnu (T1, p, k)). The pseudo-inverse (relative cutoff 1e-12) handles the rank-deficient
    first iterate (Q(t, s) constant in t, s)."""
    D = T1 * p + k
    times = jnp.concatenate([jnp.repeat(jnp.arange(T1), p), jnp.full((k,), -1)])

    def one(i, row):
        m = (times <= i).astype(cov.dtype)
        A = cov * m[:, None] * m[None, :] + jnp.diag(1.0 - m)
        beta = (row * m[None, :]) @ jnp.linalg.pinv(A, rtol=1e-12, hermitian=True)
        return beta * m[None, :]

    beta = jax.vmap(one)(jnp.arange(T1), cross)  # (T1, p, D)
    G = beta[:, :, : T1 * p].reshape(T1, p, T1, p).transpose(0, 2, 1, 3)
    return G, beta[:, :, T1 * p: D]


@functools.lru_cache(maxsize=8)
def _program(scenario, T: int, dt: float, alpha: float, n_mc: int, seed: int, chunk: int,
             dtype_name: str, kernels: str = "pathwise", smoothing: float = SMOOTHING):
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
    dsigma_eps, d2sigma_eps, _ = _smoothed_derivative(scenario, smoothing)

    def force(dsig_force):
        """(lam, nu, xi) -> force F = a Delta(y, yhat) g(lambda) (p,), its Jacobians
        J = dF/dlambda (p, p) and D = dF/dnu (p, k), and the loss, for g = dsig_force:
        dsigma (the pathwise estimator, sigma'' smoothed in J) or dsigma_eps (the control
        force of the hybrid: continuous, so its J has no Dirac mass); sigma is exact in yhat."""
        def one(lam, nu, xi):
            y = f(nu) + xi
            s, ds, g = sigma(lam), dsigma(lam), dsig_force(lam)
            yh = s @ a
            delta = residual(y, yh)
            F = a * delta * g
            J = (a * g)[:, None] * dres_yh(y, yh) * (a * ds)[None, :] \
                + jnp.diag(a * delta * d2sigma_eps(lam))
            D = (a * g * dres_y(y, yh))[:, None] * df(nu)[None, :]
            return F, J, D, 0.5 * (y - yh) ** 2
        return one

    batch = jax.vmap(force(dsigma))
    batch_eps = jax.vmap(force(dsigma_eps))

    def propagate(step_force):
        """A scan over the grid of one force along its own path, with (pathwise = True) the
        linearised memory recursion: Lambda[i, s] = 1[i = s] + sum_u Bz[i, u] J_u Lambda[u, s]
        (K = J Lambda = dF_i / domega_s), Xi likewise for nu."""

        def run(omega, nu, xi, Bz, pathwise):
            n = omega.shape[0]

            def step(carry, i):
                Fbuf, JL, JX = carry
                lam = omega[:, i] + jnp.einsum("uab,nub->na", Bz[i], Fbuf)
                F, J, Dn, loss = step_force(lam, nu, xi)
                if pathwise:
                    Lam = jnp.einsum("uab,nusbc->nsac", Bz[i], JL)
                    Lam = Lam.at[:, i].add(jnp.eye(p, dtype=dtype))
                    Xi = jnp.einsum("uab,nubc->nac", Bz[i], JX)
                    K = jnp.einsum("nab,nsbc->nsac", J, Lam)
                    Gn = jnp.einsum("nab,nbc->nac", J, Xi) + Dn
                    JL, JX = JL.at[:, i].set(K), JX.at[:, i].set(Gn)
                    sums = (K.sum(0), Gn.sum(0))
                else:
                    sums = (jnp.zeros((T1, p, p), dtype), jnp.zeros((p, k), dtype))
                return (Fbuf.at[:, i].set(F), JL, JX), (F, *sums, loss.sum())

            shape = (n, T1, T1, p, p) if pathwise else (n, 0, 0, p, p)
            shape_x = (n, T1, p, k) if pathwise else (n, 0, p, k)
            init = (jnp.zeros((n, T1, p), dtype), jnp.zeros(shape, dtype),
                    jnp.zeros(shape_x, dtype))
            _, (F, K, Gn, train) = jax.lax.scan(step, init, jnp.arange(T1))
            return jnp.swapaxes(F, 0, 1), K, Gn, train  # F: (n, T1, p)

        return run

    run_exact = propagate(batch)
    run_eps = propagate(batch_eps)

    def sample_side(omega, nu, xi, Bz):
        """Paths of one chunk: sums over paths of F F^T, of the pathwise kernels, of the
        train loss, and the sums for the Stein regression (F - F_eps, g, g g^T, (F - F_eps)
        g^T)."""
        n = omega.shape[0]
        F, K, Gn, train = run_exact(omega, nu, xi, Bz, kernels == "pathwise")
        if kernels == "hybrid":
            Fe, K, Gn, _ = run_eps(omega, nu, xi, Bz, True)
            R = F - Fe
        elif kernels == "stein":
            R = F
        else:
            return jnp.einsum("nsa,ntb->stab", F, F), K, Gn, train, ()
        g = jnp.concatenate([omega.reshape(n, T1 * p), nu], 1)
        stein = (R.sum(0), g.sum(0), g.T @ g, jnp.einsum("nia,nd->iad", R, g))
        return jnp.einsum("nsa,ntb->stab", F, F), K, Gn, train, stein

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
            totals = out if totals is None else jax.tree.map(lambda x, y: x + y, totals, out)
            test = test + jax.vmap(lambda w, nu=nu, x=xi[c]: batch(w, nu, x)[3].sum(), 1)(omega)
        N = n_chunks * chunk
        CF, G, Gnu, train = (x / N for x in totals[:4])
        if kernels != "pathwise":
            sR, sg, sgg, sRg = totals[4]
            # sample covariances on both sides (means removed): the least-squares
            # regression of R on g, exact when R is affine in g
            cov_g = (sgg - jnp.outer(sg, sg) / N) / (N - 1)
            cross_Rg = (sRg - jnp.einsum("ia,d->iad", sR, sg) / N) / (N - 1)
            dG, dGnu = _stein_solve(cross_Rg, cov_g, T1, p, k)
            G, Gnu = G + dG, Gnu + dGnu
        Q2n, Mn, Bzn = _parameter_side(G, Gnu, CF, dt, lr, alpha, s0, P)
        return Q2n, Mn, Bzn, train, test / N, G, Gnu

    return jax.jit(iterate)


def solve_dmft(scenario, alpha: float, time: float, *, steps: int = 30, samples: int = 2000,
               damping: float = 0.5, tol: float = 1e-4, max_iterations: int = 200,
               seed: int = 0, kernels: str = "auto", smoothing: float = SMOOTHING,
               progress: bool = False) -> DmftSolution:
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
        kernels: estimator of G, Gnu: "pathwise" (derivatives through the linearised
            recursion; sigma'' smoothed to width `smoothing` where sigma' jumps, which biases
            it), "stein" (Gaussian integration by parts alone, a regression of F(t_i) on the
            path: exact in expectation for any activation; single entries G[i, s] are noisy,
            their sums over s are not),
            "hybrid" (pathwise on the smoothed force plus a Stein correction for the rest:
            exact in expectation), or "auto": stein where sigma' jumps (ReLU), else pathwise
            (docs/reuse.md §DMFT: the measurement behind this choice).
        smoothing: width eps of the smoothed jumps of sigma' (pathwise: the bias; hybrid:
            the control variate only).
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
    kernels = _resolve_kernels(kernels, scenario)
    if not (math.isfinite(float(smoothing)) and float(smoothing) > 0):
        raise ValueError(f"smoothing must be a positive number, got {smoothing!r}")
    T, p, k = int(steps), scenario.p, scenario.k
    dt = float(time) / T
    chunk = min(int(samples), 500)
    samples = chunk * max(1, round(int(samples) / chunk))
    fn = _program(scenario, T, dt, float(alpha), samples, int(seed), chunk, "float64",
                  kernels, float(smoothing))
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
        Q2n, Mn, Bzn, train, test, _, _ = fn(Q2, M, Bz)
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
    Q2n, Mn, Bzn, train, test, _, _ = fn(Q2, M, Bz)
    idx = np.arange(T + 1)
    Q2 = np.asarray(Q2)
    config = {"scenario": scenario.to_json(), "alpha": float(alpha), "time": float(time),
              "steps": T, "dt": dt, "samples": int(samples), "damping": damping, "tol": tol,
              "kernels": kernels, "smoothing": float(smoothing), "seed": seed}
    return DmftSolution(np.arange(T + 1) * dt, Q2[idx, idx], np.asarray(M), np.asarray(train),
                        np.asarray(test), Q2, np.asarray(Bz) * float(alpha) / scenario.lr,
                        it, tuple(residuals), config)


def dmft_kernels(solution: DmftSolution, scenario, *, kernels: str = "auto",
                 samples: int = 2000, seed: int = 0, smoothing: float = SMOOTHING):
    """The kernels (G, Gnu) that one iteration estimates at a solution's state (Q, M, R).

    G[i, s] = E[dF(t_i) / domega(t_s)] (s <= i, zero above) and Gnu[i] = E[dF(t_i) / dnu],
    the derivatives the discretised parameter side uses (module docstring), by the chosen
    estimator (solve_dmft's `kernels`) from `samples` paths drawn with `seed`. For checking
    the estimators against each other and against exact values.

    Returns:
        (G (T + 1, T + 1, p, p), Gnu (T + 1, p, k)) as numpy arrays.
    """
    kernels = _resolve_kernels(kernels, scenario)
    cfg = solution.config
    T, alpha, dt = int(cfg["steps"]), float(cfg["alpha"]), float(cfg["dt"])
    chunk = min(int(samples), 500)
    samples = chunk * max(1, round(int(samples) / chunk))
    fn = _program(scenario, T, dt, alpha, samples, int(seed), chunk, "float64", kernels,
                  float(smoothing))
    Bz = jnp.asarray(solution.response) * scenario.lr / alpha
    out = fn(jnp.asarray(solution.Q2), jnp.asarray(solution.M), Bz)
    return np.asarray(out[5]), np.asarray(out[6])


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
