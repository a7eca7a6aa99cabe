"""Critical points of the spherical pure p-spin glass, found numerically (JAX).

H(sigma) = N^{-(p-1)/2} sum_{i1..ip} J_{i1..ip} sigma_i1 ... sigma_ip, J i.i.d. N(0, 1), on the
sphere |sigma|^2 = N (Auffinger, Ben Arous & Cerny, CPAM 2013, arXiv 1003.1129); energies
are per site, u = H / N. With P = I - sigma sigma^T / N the tangent projector,

    Riemannian gradient  grad_R H = P grad H,
    Riemannian Hessian   Hess_R H = P (hess H) P - (sigma . grad H / N) P,

and the index of a critical point is the number of negative eigenvalues of Hess_R on the
(N-1)-dimensional tangent space (spanned by the last N-1 columns of the Householder
reflection that maps e_1 to sigma / |sigma|). H depends on J only through its symmetric
part S (`symmetrize`), which the functions below take: grad H and hess H are contractions
of S with sigma (cost N^p each), not automatic derivatives.

The search: Riemannian gradient descent (step, then retraction to the sphere) for a number
of steps that differs between starts, then Newton's method on the Riemannian gradient in
tangent coordinates (step length capped), which converges to the nearest critical point of
whatever index; only points with |grad_R H| / sqrt(N) below a tolerance are returned.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import partial, reduce

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["CriticalPoints", "coupling_bytes", "energy", "find_critical_points",
           "riemannian_gradient", "riemannian_hessian", "sample_couplings", "search_bytes",
           "symmetrize", "tangent_basis"]

DEFAULT_BUDGET_BYTES = 2 * 1024**3


def coupling_bytes(n: int, p: int) -> int:
    """Bytes of the float64 coupling tensor: 8 N^p."""
    return 8 * n**p


def search_bytes(n: int, p: int, batch: int) -> int:
    """Estimated peak bytes of a search: the couplings and their symmetric part (three
    N^p tensors while symmetrizing) and, per point of a batch, the partial contractions
    (N^(p-1)) and the N x N Hessian, Householder reflection and solver workspace."""
    return 3 * coupling_bytes(n, p) + 8 * batch * (n ** (p - 1) + 4 * n * n)


def _check(n, p):
    if isinstance(p, bool) or not isinstance(p, int) or p < 2:
        raise ValueError(f"p must be an integer >= 2 (the p-spin interaction order), got {p!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"N must be an integer >= 2, got {n!r}")


def sample_couplings(key, n: int, p: int, budget_bytes: int = DEFAULT_BUDGET_BYTES) -> jax.Array:
    """J with i.i.d. N(0, 1) entries, shape (N,) * p, float64.

    Raises:
        ValueError: p < 2, N < 2, or 8 N^p bytes above ``budget_bytes`` (the message gives
            the estimate and the largest N that fits).
    """
    _check(n, p)
    need = coupling_bytes(n, p)
    if need > budget_bytes:
        n_max = int((budget_bytes / 8) ** (1 / p))
        raise ValueError(f"N = {n}, p = {p} needs {need / 2**30:.2f} GiB for the couplings, above "
                         f"the budget of {budget_bytes / 2**30:.2f} GiB; use N <= {n_max}")
    return jax.random.normal(key, (n,) * p, dtype=jnp.float64)


def symmetrize(j) -> jax.Array:
    """The symmetric part S = (1/p!) sum over permutations of J (H depends on J only through it)."""
    perms = list(itertools.permutations(range(j.ndim)))
    return sum(jnp.transpose(j, perm) for perm in perms) / len(perms)


def _contract(s, sigma, times: int):
    """S contracted with sigma on its last ``times`` axes."""
    return reduce(lambda t, _: t @ sigma, range(times), s)


def _hamiltonian(s, sigma):
    """Total energy H(sigma) = N^{-(p-1)/2} S[sigma, ..., sigma] (not per site)."""
    n, p = s.shape[0], s.ndim
    return _contract(s, sigma, p) / n ** ((p - 1) / 2)


def _euclidean_gradient(s, sigma):
    """grad H = p N^{-(p-1)/2} S[., sigma, ..., sigma] (S symmetric)."""
    n, p = s.shape[0], s.ndim
    return p * _contract(s, sigma, p - 1) / n ** ((p - 1) / 2)


def _euclidean_hessian(s, sigma):
    """hess H = p (p-1) N^{-(p-1)/2} S[., ., sigma, ..., sigma] (S symmetric)."""
    n, p = s.shape[0], s.ndim
    return p * (p - 1) * _contract(s, sigma, p - 2) / n ** ((p - 1) / 2)


def energy(s, sigma):
    """Energy per site u = H(sigma) / N, for symmetrized couplings ``s`` (`symmetrize`)."""
    return _hamiltonian(s, sigma) / s.shape[0]


def riemannian_gradient(s, sigma):
    """P grad H(sigma), P = I - sigma sigma^T / |sigma|^2 (an N-vector orthogonal to sigma)."""
    g = _euclidean_gradient(s, sigma)
    return g - sigma * (sigma @ g) / (sigma @ sigma)


def tangent_basis(sigma):
    """An N x (N-1) orthonormal basis of the tangent space at sigma (Householder)."""
    n = sigma.shape[0]
    u = sigma / jnp.linalg.norm(sigma)
    sign = jnp.where(u[0] >= 0, 1.0, -1.0)
    v = u + sign * jnp.eye(n, dtype=u.dtype)[0]
    h = jnp.eye(n, dtype=u.dtype) - 2 * jnp.outer(v, v) / (v @ v)
    return h[:, 1:]


def riemannian_hessian(s, sigma):
    """Hess_R H in tangent coordinates: B^T hess H B - (sigma . grad H / |sigma|^2) I_{N-1}."""
    g = _euclidean_gradient(s, sigma)
    b = tangent_basis(sigma)
    shift = (sigma @ g) / (sigma @ sigma)
    return b.T @ _euclidean_hessian(s, sigma) @ b - shift * jnp.eye(b.shape[1], dtype=b.dtype)


def _retract(x):
    return x * jnp.sqrt(x.shape[0]) / jnp.linalg.norm(x)


@partial(jax.jit, static_argnames=("gd_max", "newton_steps"))
def _search(s, starts, gd_steps, lr, max_step, gd_max: int, newton_steps: int):
    def one(x0, n_gd):
        def gd(i, x):
            return jnp.where(i < n_gd, _retract(x - lr * riemannian_gradient(s, x)), x)

        x = jax.lax.fori_loop(0, gd_max, gd, _retract(x0))

        def newton(_, x):
            b = tangent_basis(x)
            g = b.T @ riemannian_gradient(s, x)
            delta = -jnp.linalg.solve(riemannian_hessian(s, x), g)
            norm = jnp.linalg.norm(delta)
            delta = delta * jnp.minimum(1.0, max_step / jnp.maximum(norm, 1e-300))
            return _retract(x + b @ delta)

        x = jax.lax.fori_loop(0, newton_steps, newton, x)
        eig = jnp.linalg.eigvalsh(riemannian_hessian(s, x))
        grad = jnp.linalg.norm(riemannian_gradient(s, x)) / jnp.sqrt(x.shape[0])
        return x, energy(s, x), jnp.sum(eig < 0), grad, jnp.min(jnp.abs(eig))

    return jax.vmap(one)(starts, gd_steps)


@dataclass(frozen=True)
class CriticalPoints:
    """Critical points found by `find_critical_points` (converged ones only, distinct).

    Attributes:
        sigma: (n_points, N) points on the sphere |sigma|^2 = N.
        energy: (n_points,) energies per site u = H / N.
        index: (n_points,) number of negative eigenvalues of the Riemannian Hessian.
        grad_norm: (n_points,) |grad_R H| / sqrt(N) (numerical zero: below ``tol``).
        min_abs_eig: (n_points,) smallest |eigenvalue| of the Riemannian Hessian (how far
            the point is from degenerate, i.e. how well defined its index is).
        n_starts, n_converged: starts run, and starts that converged (before de-duplication).
        config: the search settings.
    """

    sigma: np.ndarray
    energy: np.ndarray
    index: np.ndarray
    grad_norm: np.ndarray
    min_abs_eig: np.ndarray
    n_starts: int
    n_converged: int
    config: dict

    def fraction_beyond(self, band_edges) -> list[dict]:
        """For each index k with a band edge E_k: the fraction of index-k points with
        u < -E_k, the energies where the annealed complexity Theta_{k,p} is negative."""
        out = []
        for k, e_k in enumerate(band_edges):
            sel = self.index == k
            n = int(sel.sum())
            frac = float(np.mean(self.energy[sel] < -float(e_k))) if n else None
            out.append({"k": k, "band_edge": -float(e_k), "n": n, "fraction": frac})
        return out


def find_critical_points(key, j, starts: int, *, gd_steps: int = 1000, newton_steps: int = 60,
                         lr: float = 0.1, max_step: float = 2.0, tol: float = 1e-9,
                         batch: int = 25, budget_bytes: int = DEFAULT_BUDGET_BYTES,
                         progress: bool = False) -> CriticalPoints:
    """Critical points of the p-spin Hamiltonian with couplings ``j`` (as sampled by
    `sample_couplings`; symmetrized here) from random starts.

    Start s runs Riemannian gradient descent (step ``lr``) for a number of steps spread
    geometrically over [1, gd_steps] across the starts (short runs stop high in the
    landscape, where Newton finds saddles of large index; long runs approach the minima),
    then ``newton_steps`` Newton steps on the Riemannian gradient, each of tangent length
    at most ``max_step``. Points with |grad_R H| / sqrt(N) >= ``tol`` are dropped; points
    closer than 1e-6 sqrt(N) to an earlier one are merged.

    Raises:
        ValueError: bad sizes or settings, or a search batch above ``budget_bytes``.
    """
    n, p = int(j.shape[0]), j.ndim
    _check(n, p)
    for name, v in (("starts", starts), ("gd_steps", gd_steps), ("newton_steps", newton_steps),
                    ("batch", batch)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    for name, v in (("lr", lr), ("max_step", max_step), ("tol", tol)):
        if not (np.isfinite(v) and v > 0):
            raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
    batch = min(batch, starts)
    need = search_bytes(n, p, batch)
    if need > budget_bytes:
        raise ValueError(f"a search batch of {batch} points at N = {n}, p = {p} needs about "
                         f"{need / 2**30:.2f} GiB, above the budget of "
                         f"{budget_bytes / 2**30:.2f} GiB; lower --batch or N")
    sym = symmetrize(j)
    k_start, k_order = jax.random.split(key)
    x0 = jax.random.normal(k_start, (starts, n), dtype=jnp.float64)
    steps = np.unique(np.geomspace(1, gd_steps, starts).round().astype(int))
    steps = np.resize(steps, starts)
    steps = np.asarray(jax.random.permutation(k_order, steps))
    results = []
    chunks = range(0, starts, batch)
    if progress:
        from tqdm.auto import tqdm

        chunks = tqdm(chunks, desc=f"critical points N={n}", unit="batch", leave=False)
    for lo in chunks:
        hi = min(lo + batch, starts)
        results.append(_search(sym, x0[lo:hi], jnp.asarray(steps[lo:hi]), lr, max_step,
                               gd_max=gd_steps, newton_steps=newton_steps))
    x, u, idx, g, m = (np.concatenate([np.asarray(r[i]) for r in results]) for i in range(5))
    ok = np.isfinite(g) & (g < tol)
    x, u, idx, g, m = x[ok], u[ok], idx[ok], g[ok], m[ok]
    keep = []
    for i in range(len(u)):
        if all(np.linalg.norm(x[i] - x[k]) > 1e-6 * np.sqrt(n) for k in keep):
            keep.append(i)
    keep = np.asarray(keep, dtype=int)
    config = dict(N=n, p=p, starts=starts, gd_steps=gd_steps, newton_steps=newton_steps, lr=lr,
                  max_step=max_step, tol=tol)
    return CriticalPoints(sigma=x[keep], energy=u[keep], index=idx[keep].astype(int),
                          grad_norm=g[keep], min_abs_eig=m[keep], n_starts=starts,
                          n_converged=int(ok.sum()), config=config)
