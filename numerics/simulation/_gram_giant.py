"""One giant full-batch GD step on n samples, exactly, at a cost growing with n but not d.

docs/theory.md §3.3 and §6.5 (Dandi, Krzakala, Loureiro, Pesce, Stephan, arXiv 2305.18270).
From the random start, one gradient step on a batch X of n fresh samples,

    W' = W + (lr / n) C^T X / sqrt(d),   C_mu j = a_j Delta_e^mu sigma'(lambda_j^mu),

is, in the frame of the Gram engine (see _gram), A' = A + eps C^T G*, and
B' B'^T = (B + eps C^T GF)(B + eps C^T GF)^T + eps^2 C^T X_perp X_perp^T C with
eps = lr / (n d). X_perp (n x (d - k - p), standard Gaussian in the complement) is
independent of C, so C^T X_perp X_perp^T C ~ Wishart_p(d - k - p, C^T C): a p x p draw,
Sigma^(1/2) H H^T Sigma^(1/2) with Sigma = C^T C and H the Bartlett factor. The step thus
needs only the sums C^T G* (p x k), C^T GF (p x p), C^T C (p x p) and sum Delta_e sigma(lambda)
over the n samples, accumulated in chunks: memory O(chunk), time O(n (p + k) p), no d.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._blocks import progress_bar
from ._gram import GramChain, as_keys, check_exact, row_factor, sphere_rows
from ._gram_draws import Stream, bartlett, bartlett_size

__all__ = ["giant_step", "run"]


def giant_step(scenario, d: int, n: int, lr: float, key, *, dtype=jnp.float64,
               chunk: int = 1 << 16, inputs: str | None = None, optimizer: str | None = None,
               covariance: Any = None) -> dict[str, np.ndarray]:
    """One full-batch gradient step on n fresh samples from the random start, exact in law.

    The update is the Scenario's (module docstring) with the first-layer learning rate
    `lr` and the n samples averaged: W' = W + (lr / n) sum_mu C_mu x_mu / sqrt(d); the second
    layer (if trained) moves by (lr_a / (n d)) sum_mu Delta_e^mu sigma(lambda^mu);
    spherical projection after the step when the Scenario asks for it.

    Args:
        scenario: escalier.derive.Scenario (its batch size is ignored: the batch is n).
        d: input dimension, >= k + 2p.
        n: number of samples (any positive integer; n = d^2 and beyond is fine).
        lr: first-layer learning rate of the step (for a giant step typically ~ d^(1/2)..d).
        key: one JAX PRNG key (raw uint32[2] or typed) or an (S, 2) array of raw keys.
        dtype: jnp.float64 (default) or jnp.float32.
        chunk: samples per accumulation block (memory only).
        inputs, optimizer, covariance: refused unless exact (see _gram.check_exact).

    Returns:
        dict of numpy arrays Q0, M0, a0 (before) and Q, M, a (after), with a leading seed
        axis when `key` is an (S, 2) array.

    Raises:
        ValueError: inexact settings, n < 1, d too small, bad keys.
    """
    check_exact(scenario, inputs=inputs, optimizer=optimizer, covariance=covariance)
    _check_step(scenario, int(d), n, lr)
    chain = GramChain(scenario, int(d), dtype)
    key_arr = jnp.asarray(key) if not isinstance(key, jax.Array) else key
    single = (key_arr.ndim == 1 and not jnp.issubdtype(key_arr.dtype, jax.dtypes.prng_key)) or (
        key_arr.ndim == 0)
    keys = as_keys(key_arr[None] if single else key_arr)
    step = _step_function(chain, int(n), int(chunk))

    def one(key):
        A, B, a, rng = chain.init(key)
        A1, B1, a1, _ = step((A, B, a, rng), float(lr))
        Q0, M0, _ = chain.observe((A, B, a))
        Q1, M1, _ = chain.observe((A1, B1, a1))
        return {"Q0": Q0, "M0": M0, "a0": a, "Q": Q1, "M": M1, "a": a1}

    out = jax.jit(jax.vmap(one))(keys)
    out = {name: np.asarray(v[0] if single else v) for name, v in out.items()}
    if not all(np.all(np.isfinite(v)) for v in out.values()):
        raise FloatingPointError(f"the giant step produced non-finite overlaps (lr = {lr}); "
                                 f"try a smaller learning rate")
    return out


def _check_step(scenario, d: int, n, lr) -> None:
    if isinstance(n, bool) or not (isinstance(n, int | np.integer) and n >= 1):
        raise ValueError(f"n (samples in the giant step) must be a positive integer, got {n!r}")
    if not np.isfinite(lr):
        raise ValueError(f"lr must be finite, got {lr}")
    p, k = scenario.p, scenario.k
    if d < k + 2 * p:
        raise ValueError(f"d = {d} is too small for an exact giant step: need d >= k + 2p = "
                         f"{k + 2 * p}")


def _step_function(chain: GramChain, n: int, chunk: int, normalize_rows: bool = False):
    """((A, B, a, rng), lr) -> (A', B', a', rng'): one giant step on n fresh samples (module
    docstring) at learning rate lr (may be traced), accumulated over ceil(n / chunk) blocks
    with the tail masked; normalize_rows: every row rescaled to Q_jj = 1 after the step."""
    scenario, d, dt = chain.scenario, chain.d, chain.dtype
    p, k = scenario.p, scenario.k
    size = min(n, chunk)
    n_chunks = -(-n // size)
    noise = scenario.noise > 0
    df = chain.df

    def step(state, lr):
        A, B, a, rng = state

        def body(i, carry):
            rng, s_star, s_f, s_cc, s_a = carry
            stream = Stream(rng, (size,), k + p + (1 if noise else 0), 0, dt)
            g = stream.normal((k + p,))
            xi = stream.normal(()) if noise else None
            gs, gf = g[:, :k], g[:, k:]
            C, s, delta, _ = chain._gradient(A, B, a, gs, gf, xi)
            mask = (i * size + jnp.arange(size) < n).astype(dt)
            C = C * mask[:, None]
            return (stream.state, s_star + C.T @ gs, s_f + C.T @ gf, s_cc + C.T @ C,
                    s_a + s.T @ (delta * mask))

        zeros = (jnp.zeros((p, k), dt), jnp.zeros((p, p), dt), jnp.zeros((p, p), dt),
                 jnp.zeros((p,), dt))
        rng, s_star, s_f, s_cc, s_a = jax.lax.fori_loop(0, n_chunks, body, (rng, *zeros))
        normals, uniforms = bartlett_size(p, df)
        stream = Stream(rng, (), normals, uniforms, dt)
        H = bartlett(stream, p, df, dt)
        w, V = jnp.linalg.eigh(s_cc)
        root = (V * jnp.sqrt(jnp.clip(w, 0.0))) @ V.T
        eps = lr / (n * d)
        A1 = A + eps * s_star
        B1 = row_factor(jnp.concatenate([B + eps * s_f, eps * (root @ H)], axis=1))
        a1 = a + scenario.lr_a / (n * d) * s_a if scenario.train_second_layer else a
        if normalize_rows:
            q = jnp.sqrt(jnp.sum(A1 * A1, axis=1) + jnp.sum(B1 * B1, axis=1))[:, None]
            A1, B1 = A1 / q, B1 / q
        if scenario.spherical:
            A1, B1 = sphere_rows(A1, B1)
        return A1, B1, a1, stream.state

    return step


@functools.lru_cache(maxsize=16)
def _program(scenario, d, dtype_name, n, chunk, record_every, n_rec, normalize_rows=False):
    """Jitted, seed-vmapped: (keys, lr) -> (Q, M, a) records (cached: repeated calls skip the
    compilation, whatever lr)."""
    chain = GramChain(scenario, d, jnp.dtype(dtype_name))
    step = _step_function(chain, n, chunk, normalize_rows)

    def one(key, lr):
        state = chain.init(key)

        def record(state, _):
            state = jax.lax.fori_loop(0, record_every, lambda i, s: step(s, lr), state)
            return state, chain.observe(state[:3])

        _, recs = jax.lax.scan(record, state, None, length=n_rec)
        first = chain.observe(state[:3])
        return tuple(jnp.concatenate([x0[None], xs]) for x0, xs in zip(first, recs,
                                                                        strict=True))

    return jax.jit(jax.vmap(one, in_axes=(0, None)))


def run(scenario, d: int, n_steps: int, keys, record_every: int, dtype, *, n: int, lr: float,
        chunk: int = 1 << 16, progress: bool = False,
        normalize_rows: bool = False) -> dict[str, np.ndarray]:
    """`n_steps` consecutive giant steps, each on n fresh samples, from the random start (the
    engine interface of _api: Q, M, a at steps 0, record_every, ..., n_steps).

    Each step is the one of `giant_step`, taken from the state the previous one left: the
    frame argument of the module docstring holds at every step (the new batch is independent
    of the past and rotation invariant in the complement of the span of [W*; W]).
    """
    check_exact(scenario)
    if scenario.tangent:
        raise ValueError("giant steps take the plain step then renormalise (spherical); "
                         "tangent-projected giant steps are not implemented: use tangent=False")
    _check_step(scenario, int(d), n, lr)
    program = _program(scenario, int(d), jnp.dtype(dtype).name, int(n), int(chunk),
                       int(record_every), n_steps // record_every, bool(normalize_rows))
    bar = progress_bar(progress, n_steps, "gram", scenario, int(d))
    Q, M, a = (np.asarray(x) for x in program(as_keys(keys), jnp.asarray(float(lr),
                                                                         jnp.dtype(dtype))))
    if bar is not None:
        bar.update(n_steps)
        bar.close()
    return {"Q": Q, "M": M, "a": a}
