"""Multi-pass full-batch GD in the gram engine: the training set kept in the frame, exactly.

The protocol (engines/_reuse.MultiPass): one fixed set X of n = round(alpha d) samples per
seed and, at every step, the Scenario's update with the whole set as the batch (eps =
lr / (n d)). This is the kept batch of the gram chain's batch reuse (_gram.py docstring,
docs/theory.md §6.4) never released: with the frame E* (teacher), F (student's initial
complement) and O_n (the set's complement directions),

    X = G* E* + [GF, X_c] [F; O_n],      W = sqrt(d) (A E* + B_x [F; O_n]),

G* (n x k) and GF (n x p) standard Gaussian, X_c (n x q), q = min(n, d - k - p), the
lower-triangular Bartlett factor of the set's complement part (a standard Gaussian
n x (d - k - p) block when n > d - k - p), all drawn once. Every step is

    lambda = G* A^T + [GF, X_c] B_x^T,   A += eps C^T G*,   B_x += eps C^T [GF, X_c],

(C_mu j = a_j Delta_e^mu sigma'(lambda_j^mu)), the second layer and the spherical
projection as in the chain; Q = A A^T + B_x B_x^T, M = A L_P^T. Since the weights move in
span(W*, W0, rows of X), no new direction ever appears and the chain is exact at every d.

The Gram form (used when n <= d - k - p, where X_c is the n x n Bartlett factor): with
Z = [G*, GF, X_c] and K = Z Z^T (n x n, computed once, n^2 (n + k + p) multiply-adds), the
step only needs lambda, and

    lambda += eps K C,   M += eps C^T nu,   Q += eps (C^T lambda + lambda^T C) + eps^2 C^T K C

(nu = G* L_P^T the teacher's pre-activations; the spherical projection divides lambda and M
by sqrt(Q) and sets Q = 1): n^2 p multiply-adds per step instead of 2 n p (n + k + p), in
the same memory. Q is then accumulated rather than formed as A A^T + B_x B_x^T (rounding
grows like the number of steps times the unit roundoff).

What this costs, and why it cannot be flat in d. The n x n Gram matrix X X^T / d of the
training set enters every step (lambda moves by (lr / n) (X X^T / d) C), and for n <= d its
n (n + 1) / 2 Wishart entries are all free parameters of the trajectory, so an exact
simulation must hold O(n^2) numbers; for n > d the set spans R^d and nothing is saved over
d-dimensional weights. Here: memory n (k + p + 1 + q) numbers per seed (the frame
coordinates, the labels' noise and X_c), q = min(n, d - k - p); time per step
2 n p (k + p + q) multiply-adds. At alpha = n / d this is about alpha min(alpha, 1) d^2 p
against the full engine's 2 alpha d^2 p: a factor about 1 / alpha cheaper below alpha = 1
(2 / alpha with the Gram form), the same order above. Runs whose sets exceed
MULTIPASS_MEMORY_BYTES (S seeds in all) are refused with the numbers.
"""

from __future__ import annotations

import functools
from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np

from ._blocks import block_size, progress_bar, record_blocks
from ._gram import GramChain, as_keys
from ._multipass import MULTIPASS_MEMORY_BYTES

__all__ = ["memory_bytes", "run"]


def memory_bytes(scenario, d: int, n: int, seeds: int) -> int:
    """Bytes of the kept training sets of `seeds` runs: S n (k + p + 1 + q) float64 numbers,
    q = min(n, d - k - p) (module docstring)."""
    q = min(n, d - scenario.k - scenario.p)
    return seeds * n * (scenario.k + scenario.p + 1 + q) * 8


@functools.lru_cache(maxsize=16)
def _program(scenario, d: int, n: int, record_every: int, n_rec: int, dtype_name: str):
    """Jitted, seed-vmapped start(key) -> (state, batch, first record),
    block(state, batch) -> (state, n_rec records of record_every steps), and
    frame(key) -> ((A, B_x, a), (G*, [GF, X_c], xi)): the frame coordinates start(key) is
    built from (the Gram form's state and data are functions of them)."""
    chain = GramChain(replace(scenario, batch=n), d, jnp.dtype(dtype_name), keep_batch=True)
    k, p = scenario.k, scenario.p
    eps, eps_a = scenario.lr / (n * d), scenario.lr_a / (n * d)

    dense = n <= chain.df  # the Gram form (module docstring): n^2 p per step, not 2 n^2 p

    def frame(key):
        A, B, a, rng = chain.init(key)
        _, draws = chain.draw(rng, 1)
        g, H = draws["g"][0], draws["H"][0]
        gs, gx = g[:, :k], jnp.concatenate([g[:, k:], H], axis=1)
        xi = draws["xi"][0] if "xi" in draws else None
        Bx = jnp.concatenate([B, jnp.zeros((p, chain.q), chain.dtype)], axis=1)
        return (A, Bx, a), (gs, gx, xi)

    def start(key):
        (A, Bx, a), (gs, gx, xi) = frame(key)
        first = chain.observe((A, Bx, a))
        if not dense:
            return (A, Bx, a), (gs, gx, xi), first
        nu, y = chain.labels(gs, xi)
        K = gs @ gs.T + gx @ gx.T
        return (gs @ A.T + gx @ Bx.T, *first), (K, nu, y), first

    def dense_step(state, data):
        lam, Q, M, a = state
        K, nu, y = data
        C, s, delta = chain.coefficients(lam, y, a)
        # w_j <- r_j w_j + eps sum_mu C_mu j x_mu, r_j the tangent shrink (1 without it)
        r = jnp.broadcast_to(jnp.ravel(jnp.asarray(chain._tangent(C, lam, eps), chain.dtype)),
                             (C.shape[1],))
        KC = K @ C
        CLr = (C.T @ lam) * r[None, :]  # (C^T lam)_jl r_l = r_l u_j . w_l
        Q = r[:, None] * Q * r[None, :] + eps * (CLr + CLr.T) + eps**2 * (C.T @ KC)
        M = r[:, None] * M + eps * (C.T @ nu)
        lam = lam * r[None, :] + eps * KC
        if scenario.train_second_layer:
            a = a + eps_a * (s.T @ delta)
        if scenario.spherical:  # the chain's w_j <- sqrt(d) w_j / ||w_j|| (every row)
            norm = jnp.sqrt(jnp.diagonal(Q))
            lam, Q, M = lam / norm[None, :], Q / jnp.outer(norm, norm), M / norm[:, None]
        return lam, Q, M, a

    def block(state, batch):
        if dense:
            step, observe = (lambda _, s: dense_step(s, batch)), (lambda s: s[1:])
        else:
            gs, gx, xi = batch
            step = lambda _, s: chain.kept_step(*s, gs, gx, xi, eps, eps_a)  # noqa: E731
            observe = chain.observe

        def record(state, _):
            state = jax.lax.fori_loop(0, record_every, step, state)
            return state, observe(state)

        return jax.lax.scan(record, state, None, length=n_rec)

    return jax.jit(jax.vmap(start)), jax.jit(jax.vmap(block)), jax.jit(jax.vmap(frame))


def run(scenario, d: int, n_steps: int, keys, record_every: int, dtype, *, alpha: float,
        progress: bool = False) -> dict[str, np.ndarray]:
    """Multi-pass GD records Q (S, T, p, p), M (S, T, p, k), a (S, T, p) in the gram engine
    (the engine interface of `_api`); n = max(1, round(alpha d)) samples per seed.

    Raises:
        ValueError: d < k + p, or the kept sets of all seeds exceed MULTIPASS_MEMORY_BYTES
            (one line naming seeds, alpha and d).
    """
    d = int(d)
    n = max(1, round(float(alpha) * d))
    keys = as_keys(keys)
    S = int(keys.shape[0])
    need = memory_bytes(scenario, d, n, S)
    if need > MULTIPASS_MEMORY_BYTES:
        q = min(n, d - scenario.k - scenario.p)
        raise ValueError(
            f"multi-pass GD in the gram engine keeps each training set's frame coordinates: "
            f"{S} seeds x n = {n} x (k + p + 1 + min(n, d - k - p) = "
            f"{scenario.k + scenario.p + 1 + q}) numbers = {need / 2**30:.1f} GiB > "
            f"{MULTIPASS_MEMORY_BYTES / 2**30:.0f} GiB (memory O(n min(n, d)) per seed); use "
            f"fewer seeds, a smaller alpha or a smaller d")
    n_rec = n_steps // record_every
    per_block = block_size(n_rec)
    start, block, _ = _program(scenario, d, n, record_every, per_block,
                               jnp.dtype(dtype).name)
    state, batch, first = start(keys)

    def next_block(done):
        nonlocal state
        state, recs = block(state, batch)
        return recs

    return record_blocks(next_block, first, n_rec, per_block, record_every,
                         progress_bar(progress, n_steps, "gram, multi-pass", scenario, d))
