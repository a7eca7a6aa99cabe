"""Trajectories of wide committees: the full overlap ODE by index pattern, or the reduced
large-width ODE (arXiv 2302.05882), integrated by `integrate`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._result import OdeSolution
from ._solve import integrate

__all__ = ["WideTrajectory", "wide_trajectory"]


@dataclass(frozen=True)
class WideTrajectory:
    """Overlaps of a wide committee along time.

    Attributes:
        times: (T,) record times in the scaled time t' = eta t / p.
        Q: (T, p, p) student overlaps (for the reduced system: its closure).
        M: (T, p, k) student-teacher overlaps.
        q: (T, p) orthogonal norms Q_jj - M_j^T P^-1 M_j.
        risk: (T,) population risk E[(f - yhat)^2] / 2.
        reduced: which system.
        solution: the OdeSolution of the integrator (its state vector).
    """

    times: np.ndarray
    Q: np.ndarray
    M: np.ndarray
    q: np.ndarray
    risk: np.ndarray
    reduced: bool
    solution: OdeSolution


def wide_trajectory(rhs, M0, q0, a, eta, times, *, n_b=1.0, noise=0.0, reduced=False,
                    solver="tsit5", rtol=1e-9, atol=1e-11, max_steps=100_000) -> WideTrajectory:
    """Integrate a committee from M0 (p, k) and q0 (p,), the initial state of the closure
    Q(0) = M0 P^-1 M0^T + diag(q0) (exact at t = 0 for both systems), recorded at `times`
    in the scaled time t' = eta t / p.

    Args:
        rhs: an escalier.numerics.lower.WideRhs (its widths p, k; loss; patterns).
        M0, q0: initial overlaps; a: second layer (p,); eta: learning rate; n_b: batch size;
        noise: label-noise variance Delta.
        times: (T,) increasing record times t'.
        reduced: integrate the reduced system (state M, q: p (k + 1) numbers) instead of
            the full one (state Q upper triangle, M: p (p + 1) / 2 + p k numbers).
        solver, rtol, atol, max_steps: passed to `integrate`.

    Raises:
        IntegrationError: the solver failed (the message says what to change).
    """
    import jax.numpy as jnp

    p, k = rhs.p, rhs.k
    M0, q0 = jnp.asarray(M0, float), jnp.asarray(q0, float)
    a = jnp.asarray(a, float)
    iu = np.triu_indices(p)
    scale = p / eta

    if reduced:
        def unpack(y):
            return y[:p * k].reshape(p, k), y[p * k:]

        def f(t, y, args):
            dM, dq = rhs.reduced(*unpack(y), a, eta, n_b, noise)
            return jnp.concatenate([dM.ravel(), dq])

        def risk(y, args):
            M, q = unpack(y)
            return rhs.risk(rhs.closure(M, q), M, a, noise)

        y0 = jnp.concatenate([M0.ravel(), q0])
        names = [f"M_{j}{r}" for j in range(p) for r in range(k)] + [f"q_{j}" for j in range(p)]
    else:
        def unpack(y):
            Q = jnp.zeros((p, p), y.dtype).at[iu].set(y[:len(iu[0])])
            return Q + jnp.triu(Q, 1).T, y[len(iu[0]):].reshape(p, k)

        def f(t, y, args):
            dQ, dM = rhs(*unpack(y), a, eta, n_b, noise)
            return scale * jnp.concatenate([dQ[iu], dM.ravel()])

        def risk(y, args):
            return rhs.risk(*unpack(y), a, noise)

        y0 = jnp.concatenate([rhs.closure(M0, q0)[iu], M0.ravel()])
        names = [f"Q_{j}{m}" for j, m in zip(*iu, strict=True)] + [f"M_{j}{r}" for j in range(p)
                                                       for r in range(k)]
    sol = integrate(f, y0, times, risk=risk, names=names, solver=solver, rtol=rtol, atol=atol,
                    max_steps=max_steps)
    ys = jnp.asarray(sol.y)
    Qs, Ms, qs = [], [], []
    Pinv = jnp.linalg.inv(rhs.P)
    for y in ys:
        if reduced:
            M, q = unpack(y)
            Q = rhs.closure(M, q)
        else:
            Q, M = unpack(y)
            q = jnp.diagonal(Q) - jnp.einsum("jr,rs,js->j", M, Pinv, M)
        Qs.append(Q)
        Ms.append(M)
        qs.append(q)
    return WideTrajectory(np.asarray(sol.times), np.asarray(Qs), np.asarray(Ms),
                          np.asarray(qs), np.asarray(sol.risk), reduced, sol)
