"""The deep linear UFM with cross-entropy and weight decay: deep-neural-collapse (DNC) critical
points and low-rank solutions (Garrod & Keating, arXiv 2410.23169). Numerical throughout.

Convention: as the square-loss UFM (escalier.numerics.collapse._ufm), blocks (W_L..W_1, H), but

    f = (1/N) sum_i CE(Z_i, y_i) + (lambda/2) sum_blocks ||X||_F^2,  Z = W_L ... W_1 H,

CE(z, c) = log sum_k e^{z_k} - z_c. With balanced factors the regulariser of the product is
(lambda/2)(L+1) sum_i sigma_i(Z)^(2/(L+1)), a Schatten quasi-norm for L >= 2: the source of
the low-rank bias.

DNC ansatz: every factor has K-1 equal singular values s on the simplex-ETF directions and
Z = (s^(L+1)/sqrt n) (I_K - 11^T/K) (x) 1_n^T, so every sample has margin a = s^(L+1)/sqrt n and

    F(s) = log(1 + (K-1) e^{-a}) + (lambda/2)(L+1)(K-1) s^2.

Its positive critical points solve s^(L-1) e^{-a} / (sqrt n (1 + (K-1) e^{-a})) = lambda: for
L >= 2 two of them when lambda is small (the two scales), for L = 1 one. A rank-r competitor is
found by training the model with width r (then rank Z <= r).
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from scipy.optimize import brentq

from ._ufm import factor_product, initial_factors, lbfgs_minimise

__all__ = ["CeUfmReport", "ce_ufm_loss", "ce_ufm_report", "dnc_critical_points", "dnc_params",
           "train_ce_ufm"]


def ce_ufm_loss(params, labels, weight_decay):
    """(1/N) sum_i CE(Z_i, y_i) + (lambda/2) sum ||X||_F^2, with Z = W_L...W_1 H (K x N)."""
    z = factor_product(params)
    ce = jax.nn.logsumexp(z, axis=0) - jnp.take_along_axis(z, labels[None, :], axis=0)[0]
    return jnp.mean(ce) + 0.5 * weight_decay * sum(jnp.sum(x**2) for x in params)


def _labels(K, n):
    return jnp.repeat(jnp.arange(K), n)


def dnc_loss(s, K, L, n, weight_decay):
    """F(s) of the DNC ansatz (numpy)."""
    a = np.asarray(s, dtype=float) ** (L + 1) / np.sqrt(n)
    return np.log1p((K - 1) * np.exp(-a)) + 0.5 * weight_decay * (L + 1) * (K - 1) * s**2


def dnc_critical_points(K: int, L: int, n: int, weight_decay: float) -> list[float]:
    """Positive critical s of F (increasing), by bracketing on a log grid then brentq."""
    def h(s):
        a = s ** (L + 1) / np.sqrt(n)
        return s ** (L - 1) / (np.sqrt(n) * (np.exp(a) + K - 1)) - weight_decay
    # beyond a = 60 h < 0 for any sensible lambda; below s = 1e-8 h is its s -> 0 limit
    s_max = (60 * np.sqrt(n)) ** (1 / (L + 1))
    grid = np.geomspace(1e-8, s_max, 4000)
    vals = np.array([h(s) for s in grid])
    roots = []
    for i in np.flatnonzero(np.sign(vals[:-1]) * np.sign(vals[1:]) < 0):
        roots.append(float(brentq(h, grid[i], grid[i + 1], xtol=1e-15, rtol=1e-15)))
    return roots


def dnc_params(K: int, L: int, width: int, n: int, s: float, key=None):
    """The DNC point with factor singular value s: W_L = s U R_{L-1}^T, W_l = s R_l R_{l-1}^T,
    H = s R_0 V^T, with U (K x K-1) an orthonormal basis of 1-perp, V = (I_K (x) 1_n) U / sqrt n
    and random d x (K-1) frames R_l."""
    if width < K - 1:
        raise ValueError(f"width must be >= K - 1 = {K - 1} for the DNC point, got {width}")
    key = jax.random.PRNGKey(0) if key is None else key
    centred = jnp.eye(K) - jnp.ones((K, K)) / K
    u = jnp.linalg.eigh(centred)[1][:, 1:]  # eigenvalue 0 first, then K-1 ones
    v = jnp.kron(u, jnp.ones((n, 1))) / np.sqrt(n)
    frames = [jnp.linalg.qr(jax.random.normal(k, (width, K - 1)))[0]
              for k in jax.random.split(key, L)]
    blocks = [s * u @ frames[L - 1].T]
    blocks += [s * frames[l] @ frames[l - 1].T for l in range(L - 1, 0, -1)]
    blocks.append(s * frames[0] @ v.T)
    return tuple(blocks)


def train_ce_ufm(K: int, L: int, width: int, n: int, weight_decay: float, *, restarts: int = 20,
                 seed: int = 0, init_scale: float = 1.0, max_iter: int = 5000,
                 tol: float = 1e-10):
    """L-BFGS restarts of the CE UFM (width may be < K: rank Z <= width).

    Returns (losses (R,), grad norms (R,), product singular values (R, min(K, width)),
    params of the best restart).
    """
    labels = _labels(K, n)
    fun = lambda p: ce_ufm_loss(p, labels, weight_decay)

    @jax.jit
    @jax.vmap
    def solve(key):
        p, _ = lbfgs_minimise(fun, initial_factors(key, K, L, width, n, init_scale), max_iter, tol)
        g = jax.grad(fun)(p)
        return p, fun(p), jnp.sqrt(sum(jnp.sum(x**2) for x in g))

    keys = jax.random.split(jax.random.PRNGKey(seed), restarts)
    params, losses, grads = solve(keys)
    losses = np.asarray(losses)
    if not np.isfinite(losses).all():
        raise FloatingPointError("CE UFM training diverged: lower init_scale")
    svals = np.linalg.svd(np.asarray(jax.vmap(factor_product)(params)), compute_uv=False)
    best = int(np.argmin(losses))
    return losses, np.asarray(grads), svals, tuple(np.asarray(x[best]) for x in params)


def _hessian_extremes(params, labels, weight_decay):
    flat, unravel = jax.flatten_util.ravel_pytree(tuple(jnp.asarray(x) for x in params))
    hess = jax.hessian(lambda v: ce_ufm_loss(unravel(v), labels, weight_decay))(flat)
    ev = np.linalg.eigvalsh(np.asarray(hess))
    return float(ev[0]), float(ev[-1]), int(np.sum(ev < -1e-8 * max(1.0, abs(ev[-1]))))


@dataclass(frozen=True)
class CeUfmReport:
    """DNC critical points against trained solutions of every rank (numerical).

    dnc: one dict per DNC critical point (scale s, loss F(s), gradient norm at the constructed
    point, Hessian min/max eigenvalue and count of negative eigenvalues).
    ranks: for r = 1..K-1, the best loss found with width r (rank Z <= r) and with full width.
    """

    K: int
    L: int
    width: int
    n: int
    weight_decay: float
    restarts: int
    dnc: list[dict]
    by_rank: dict[int, float]
    full: dict

    @property
    def dnc_loss(self) -> float | None:
        return min((d["loss"] for d in self.dnc), default=None)

    @property
    def best_low_rank(self) -> tuple[int, float] | None:
        low = {r: v for r, v in self.by_rank.items() if r < self.K - 1}
        if not low:
            return None
        r = min(low, key=low.get)
        return r, low[r]

    @property
    def dnc_is_global(self) -> bool | None:
        """False when a solution of rank < K-1 has a lower loss than every DNC point."""
        if self.dnc_loss is None:
            return None
        low = self.best_low_rank
        best = min(v for v in (self.full["best_loss"], low[1] if low else np.inf))
        return bool(best >= self.dnc_loss - 1e-9 * abs(self.dnc_loss))

    def to_json(self) -> dict:
        low = self.best_low_rank
        return {"setting": {"K": self.K, "L": self.L, "width": self.width, "n": self.n,
                            "weight_decay": self.weight_decay, "restarts": self.restarts,
                            "loss": "ce"},
                "numerical": True,
                "dnc_critical_points": self.dnc,
                "loss_dnc": self.dnc_loss,
                "loss_by_rank": {str(r): v for r, v in self.by_rank.items()},
                "best_low_rank": None if low is None else {"rank": low[0], "loss": low[1]},
                "full_width": self.full,
                "dnc_is_global_minimum": self.dnc_is_global}

    def to_text(self) -> str:
        lines = [f"deep linear UFM, cross-entropy (numerical): K = {self.K}, L = {self.L}, "
                 f"width = {self.width}, n = {self.n}, lambda = {self.weight_decay:g}, "
                 f"{self.restarts} restarts per width"]
        if not self.dnc:
            lines.append("  no DNC critical point (lambda too large)")
        for i, d in enumerate(self.dnc):
            lines.append(f"  DNC point {i + 1}: s = {d['s']:.8g}, margin {d['margin']:.6g}, "
                         f"loss {d['loss']:.10g}, |grad| {d['grad_norm']:.1e}, Hessian eig "
                         f"[{d['hessian_min']:.3e}, {d['hessian_max']:.3e}], "
                         f"{d['negative']} negative")
        for r, v in self.by_rank.items():
            lines.append(f"  best loss with rank <= {r}: {v:.10g}")
        f = self.full
        lines.append(f"  full width: best loss {f['best_loss']:.10g} (rank {f['best_rank']}); "
                     f"ranks reached {f['ranks']}")
        lines.append(f"  DNC is the global minimum: {self.dnc_is_global}")
        return "\n".join(lines)


def ce_ufm_report(K: int, L: int, width: int, n: int, weight_decay: float, *,
                  restarts: int = 20, seed: int = 0, init_scale: float = 1.0,
                  rank_tol: float = 1e-3) -> CeUfmReport:
    """DNC critical points (constructed, with their full Hessian) against L-BFGS restarts at
    every width r = 1..K-1 and at the full width. Numerical.

    Raises ValueError on K < 2, L < 1, n < 1, width < K or weight_decay <= 0.
    """
    for name, value, least in (("K", K, 2), ("L", L, 1), ("n", n, 1), ("width", width, K)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    if not np.isfinite(weight_decay) or weight_decay <= 0:
        raise ValueError(f"weight_decay must be finite and > 0, got {weight_decay!r}")
    labels = _labels(K, n)
    fun = lambda p: ce_ufm_loss(p, labels, weight_decay)
    dnc = []
    for s in dnc_critical_points(K, L, n, weight_decay):
        p = dnc_params(K, L, width, n, s)
        g = jax.grad(fun)(p)
        lo, hi, neg = _hessian_extremes(p, labels, weight_decay)
        dnc.append({"s": s, "margin": s ** (L + 1) / np.sqrt(n),
                    "loss": float(dnc_loss(s, K, L, n, weight_decay)),
                    "loss_check": float(fun(p)),
                    "grad_norm": float(jnp.sqrt(sum(jnp.sum(x**2) for x in g))),
                    "hessian_min": lo, "hessian_max": hi, "negative": neg})
    by_rank = {}
    for r in range(1, K):
        losses, *_ = train_ce_ufm(K, L, r, n, weight_decay, restarts=restarts, seed=seed + r,
                                  init_scale=init_scale)
        by_rank[r] = float(losses.min())
    losses, grads, svals, _ = train_ce_ufm(K, L, width, n, weight_decay, restarts=restarts,
                                           seed=seed, init_scale=init_scale)
    ranks = (svals > rank_tol * svals.max(axis=1, keepdims=True)).sum(axis=1)
    best = int(np.argmin(losses))
    full = {"best_loss": float(losses[best]), "best_rank": int(ranks[best]),
            "ranks": {str(int(r)): int(c) for r, c in zip(*np.unique(ranks, return_counts=True),
                                                          strict=True)},
            "max_grad_norm": float(grads.max())}
    return CeUfmReport(K=K, L=L, width=width, n=n, weight_decay=float(weight_decay),
                       restarts=restarts, dnc=dnc, by_rank=by_rank, full=full)
