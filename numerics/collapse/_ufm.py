"""The deep linear unconstrained features model (UFM) in JAX: loss, training, Hessians.

Parameters are a tuple of blocks from the top, (W_L, ..., W_1, H), as in
escalier.derive.collapse.block_names: W_L (K, d), W_l (d, d), H (d, N), N = K n, and

    f = (1/2N) ||W_L ... W_1 H - Y||_F^2 + (lambda/2) sum_blocks ||X||_F^2,  Y = I_K (x) 1_n^T.

Training: full-batch L-BFGS (optax.lbfgs with its zoom line search) in float64, many random
restarts vectorised with jax.vmap. Hessians: jax.hessian block by block, or the structured
Kronecker route (1/N) (B B^T) (x) (A^T A) + lambda I, exact because f is quadratic in each block.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

import jax
import jax.numpy as jnp
import numpy as np
import optax
import optax.tree_utils as otu

__all__ = ["UfmTraining", "block_hessian_eigenvalues", "block_hessians", "kronecker_factors",
           "optimum_params", "product_singular_values", "train_ufm", "ufm_loss", "ufm_targets"]


def ufm_targets(K: int, n: int):
    """Y = I_K (x) 1_n^T, shape (K, K n): the n samples of class c are columns c n .. c n + n - 1."""
    return jnp.kron(jnp.eye(K), jnp.ones((1, n)))


def factor_product(blocks):
    return reduce(jnp.matmul, blocks)


def ufm_loss(params, targets, weight_decay):
    """(1/2N) ||W_L ... W_1 H - Y||_F^2 + (lambda/2) sum ||X||_F^2 over the blocks (top first)."""
    N = targets.shape[1]
    residual = factor_product(params) - targets
    return 0.5 * jnp.sum(residual**2) / N + 0.5 * weight_decay * sum(jnp.sum(x**2) for x in params)


def _shapes(K, L, width, n):
    return [(K, width)] + [(width, width)] * (L - 1) + [(width, K * n)]


def _check(K, L, width, n, weight_decay):
    for name, value, least in (("K", K, 2), ("L", L, 1), ("n", n, 1), ("width", width, K)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    if not np.isfinite(weight_decay) or weight_decay <= 0:
        raise ValueError(f"weight_decay must be finite and > 0, got {weight_decay!r}")


def initial_factors(key, K, L, width, n, scale):
    keys = jax.random.split(key, L + 1)
    return tuple(scale * jax.random.normal(k, s) / np.sqrt(s[1])
                 for k, s in zip(keys, _shapes(K, L, width, n), strict=True))


def lbfgs_minimise(fun, params, max_iter, tol):
    opt = optax.lbfgs()
    value_and_grad = optax.value_and_grad_from_state(fun)

    def step(carry):
        p, state = carry
        value, grad = value_and_grad(p, state=state)
        updates, state = opt.update(grad, state, p, value=value, grad=grad, value_fn=fun)
        return optax.apply_updates(p, updates), state

    def going(carry):
        _, state = carry
        count = otu.tree_get(state, "count")
        err = otu.tree_norm(otu.tree_get(state, "grad"))
        return (count == 0) | ((count < max_iter) & (err >= tol))

    p, state = jax.lax.while_loop(going, step, (params, opt.init(params)))
    return p, otu.tree_get(state, "count")


@dataclass(frozen=True)
class UfmTraining:
    """Restarts of the UFM trained by L-BFGS (numerical, float64).

    losses (R,), grad_norms (R,), iterations (R,), params: tuple of stacked blocks (R, ...),
    singular_values: (R, L+1, K) the K largest singular values of each factor (top first),
    product_ranks (R,): number of product singular values above rank_tol times the largest
    over all restarts.
    """

    K: int
    L: int
    width: int
    n: int
    weight_decay: float
    seed: int
    losses: np.ndarray
    grad_norms: np.ndarray
    iterations: np.ndarray
    params: tuple
    singular_values: np.ndarray
    product_ranks: np.ndarray

    @property
    def best(self) -> int:
        return int(np.argmin(self.losses))

    def params_of(self, i: int) -> tuple:
        return tuple(np.asarray(x[i]) for x in self.params)


def train_ufm(K: int, L: int, width: int, n: int, weight_decay: float, *, restarts: int = 40,
              seed: int = 0, init_scale: float = 1.0, max_iter: int = 5000,
              tol: float = 1e-11, rank_tol: float = 1e-4) -> UfmTraining:
    """Train the UFM from `restarts` random starts (entries N(0, init_scale^2 / fan_in)).

    Raises:
        ValueError: on bad sizes (K < 2, width < K, ...) or weight_decay <= 0.
        FloatingPointError: when a restart ends with a non-finite loss (lower init_scale).
    """
    _check(K, L, width, n, weight_decay)
    if restarts < 1:
        raise ValueError(f"restarts must be >= 1, got {restarts}")
    targets = ufm_targets(K, n)
    fun = lambda p: ufm_loss(p, targets, weight_decay)

    @jax.jit
    @jax.vmap
    def solve(key):
        p, count = lbfgs_minimise(fun, initial_factors(key, K, L, width, n, init_scale), max_iter, tol)
        return p, count, fun(p), otu.tree_norm(jax.grad(fun)(p))

    keys = jax.random.split(jax.random.PRNGKey(seed), restarts)
    params, count, losses, grads = solve(keys)
    losses = np.asarray(losses)
    if not np.isfinite(losses).all():
        raise FloatingPointError("UFM training diverged (non-finite loss): lower init_scale")
    svals = np.stack([np.linalg.svd(np.asarray(x), compute_uv=False)[:, :K] for x in params], 1)
    prod = np.linalg.svd(np.asarray(jax.vmap(factor_product)(params)), compute_uv=False)
    ranks = (prod > rank_tol * max(prod.max(), 1e-300)).sum(axis=1)
    return UfmTraining(K=K, L=L, width=width, n=n, weight_decay=float(weight_decay), seed=seed,
                       losses=losses, grad_norms=np.asarray(grads), iterations=np.asarray(count),
                       params=tuple(np.asarray(x) for x in params), singular_values=svals,
                       product_ranks=ranks)


def product_singular_values(params) -> np.ndarray:
    """Singular values of W_L ... W_1 H."""
    return np.linalg.svd(np.asarray(factor_product(tuple(jnp.asarray(x) for x in params))),
                         compute_uv=False)


def block_hessians(params, targets, weight_decay) -> list[np.ndarray]:
    """The diagonal blocks of jax.hessian of f (the Hessian in each block with the others
    fixed), as (size, size) matrices in the row-major vec of the block."""
    params = tuple(jnp.asarray(x) for x in params)
    full = jax.jit(jax.hessian(ufm_loss))(params, targets, weight_decay)
    return [np.asarray(full[i][i]).reshape(x.size, x.size) for i, x in enumerate(params)]


def kronecker_factors(params, i: int):
    """(A^T A, B B^T) for block i (top first): A = product above it, B = product below it.

    The block Hessian in the row-major vec of X is (1/N) (A^T A) (x) (B B^T) + lambda I.
    """
    params = tuple(jnp.asarray(x) for x in params)
    x = params[i]
    a = factor_product(params[:i]) if i > 0 else jnp.eye(x.shape[0])
    b = factor_product(params[i + 1:]) if i < len(params) - 1 else jnp.eye(x.shape[1])
    return a.T @ a, b @ b.T


def block_hessian_eigenvalues(params, weight_decay, N: int) -> list[np.ndarray]:
    """Eigenvalues of every block Hessian by the Kronecker route (sorted ascending):
    lambda + alpha_i beta_j / N over the eigenvalues alpha of A^T A and beta of B B^T."""
    out = []
    for i in range(len(params)):
        ata, bbt = kronecker_factors(params, i)
        ev = jnp.outer(jnp.linalg.eigvalsh(ata), jnp.linalg.eigvalsh(bbt)).ravel() / N
        out.append(np.sort(np.asarray(weight_decay + ev)))
    return out


def optimum_params(K: int, L: int, width: int, n: int, s: float, key=None):
    """A global minimiser built from the closed-form singular value s (top block first).

    With R_0 .. R_{L-1} random d x K matrices with orthonormal columns and V = Y^T / sqrt(n):
    H = s R_0 V^T, W_l = s R_l R_{l-1}^T (1 <= l < L), W_L = s R_{L-1}^T; the product is
    s^(L+1) Y / sqrt(n) and the factors are balanced.
    """
    key = jax.random.PRNGKey(0) if key is None else key
    frames = [jnp.linalg.qr(jax.random.normal(k, (width, K)))[0]
              for k in jax.random.split(key, L)]
    v_t = ufm_targets(K, n) / np.sqrt(n)
    blocks = [s * frames[L - 1].T]
    blocks += [s * frames[l] @ frames[l - 1].T for l in range(L - 1, 0, -1)]
    blocks.append(s * frames[0] @ v_t)
    return tuple(blocks)
