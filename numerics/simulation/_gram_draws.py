"""Exact random draws of the Gram engine: normals, chi-square, Bartlett factors, initial overlaps.

All the randomness comes from a counter-based SplitMix64 stream (`_normals`: Steele, Lea,
Flood, OOPSLA 2014; the output function mix(seed + i * 0x9E3779B97F4A7C15) passes
BigCrush), one stream per seed, its state
(seed, counter) threaded explicitly through the simulation: no global state,
reproducible from the caller's JAX PRNG key (hashed into the seed by XLA's Philox), and
cheap to compile and to run on CPU (jax.random's threefry takes seconds per call site to
compile on CPU and is several times slower per draw). Without JAX x64 (no uint64) the
stream falls back to Philox-4x32-10 through jax.lax.rng_bit_generator. Uniforms are the
midpoints of the 2^-53 (float64) or 2^-24 (float32) grid of (0, 1); normals come from the
Box-Muller transform of `_normals` (vectorised polynomial log and sine of SplitMix64 words,
drawn in float64 and rounded under float32; jnp.log/cos/sin of Philox uniforms without x64).

Bartlett decomposition (Bartlett 1933; Anderson, An Introduction to Multivariate
Statistical Analysis, 3rd ed., Cor. 7.2.1): for an m x m lower-triangular H with
independent entries H_ii = sqrt(chi^2_{df - i}) (i = 0..m-1) and H_ij ~ N(0, 1) (i > j),
H H^T ~ Wishart_m(df, I_m), for any df >= m. Equivalently H is the lower-triangular factor
of the LQ decomposition X = H O of an m x df standard Gaussian matrix X, with O Haar and
independent of H; this is the form the engine uses (rows of X in an orthonormal frame).

Chi-square: chi^2_df = 2 Gamma(df / 2), with Gamma by Marsaglia and Tsang (ACM TOMS 26,
2000, 363-372): exact rejection sampling, one normal and one uniform per trial, acceptance
above 0.95 for shape >= 1 and tending to 1 as the shape grows. The first trial of every
draw comes with the block's randomness; the rare rejected draws loop on fresh trials until
accepted, so every output is exactly Gamma distributed.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from ._normals import box_muller, box_muller_uniforms, philox_state, splitmix

__all__ = ["Stream", "bartlett", "bartlett_size", "gamma", "initial_state", "philox_state",
           "uniforms"]


_PHILOX = jax.lax.RandomAlgorithm.RNG_PHILOX


def uniforms(state, shape, dtype):
    """(new state, uniforms of `shape` on the open interval (0, 1))."""
    size = math.prod(shape)
    if state.dtype == jnp.uint64:
        bits = splitmix(state[0], state[1], size)
        state = state.at[1].add(jnp.uint64(size))
        u = _bits_to_uniforms(bits, dtype)
    elif jnp.dtype(dtype) == jnp.float64:
        state, bits = jax.lax.rng_bit_generator(state, (size,), jnp.uint64, algorithm=_PHILOX)
        u = ((bits >> 11).astype(dtype) + 0.5) * (2.0**-53)
    else:
        state, bits = jax.lax.rng_bit_generator(state, (size,), jnp.uint32, algorithm=_PHILOX)
        u = ((bits >> 8).astype(dtype) + 0.5) * (2.0**-24)
    return state, u.reshape(shape)


def _bits_to_uniforms(bits, dtype):
    if jnp.dtype(dtype) == jnp.float64:
        return ((bits >> 11).astype(dtype) + 0.5) * (2.0**-53)
    return ((bits >> 40).astype(dtype) + 0.5) * (2.0**-24)


class Stream:
    """Normals and uniforms of a block, cut in order from one draw of uniforms.

    Args:
        state: Philox state (uint32[4]); the advanced state is `self.state`.
        batch: leading shape of the block (e.g. (steps,)).
        normals: number of standard normals per batch element.
        uniforms: number of uniforms per batch element.
        dtype: float dtype.
    """

    def __init__(self, state, batch, normals: int, uniforms_: int, dtype):
        half = (normals + 1) // 2
        shape = tuple(batch) + (2 * half + uniforms_,)
        if state.dtype == jnp.uint64:  # SplitMix64 words: polynomial Box-Muller in float64
            size = math.prod(shape)
            bits = splitmix(state[0], state[1], size).reshape(shape)
            self.state = state.at[1].add(jnp.uint64(size))
            z = box_muller(bits[..., :half], bits[..., half:2 * half])
            self._normal = z.reshape(tuple(batch) + (2 * half,))[..., :normals].astype(dtype)
            self._uniform = _bits_to_uniforms(bits[..., 2 * half:], dtype)
        else:
            self.state, u = uniforms(state, shape, dtype)
            z = box_muller_uniforms(u[..., :half], u[..., half:2 * half])
            self._normal = jnp.concatenate(z, axis=-1)[..., :normals]
            self._uniform = u[..., 2 * half:]
        self._batch = tuple(batch)
        self._n = self._u = 0

    def normal(self, shape):
        size = math.prod(shape)
        out = self._normal[..., self._n:self._n + size]
        self._n += size
        if out.shape[-1] != size:
            raise RuntimeError("Stream exhausted: too few normals reserved")
        return out.reshape(self._batch + tuple(shape))

    def uniform(self, shape):
        size = math.prod(shape)
        out = self._uniform[..., self._u:self._u + size]
        self._u += size
        if out.shape[-1] != size:
            raise RuntimeError("Stream exhausted: too few uniforms reserved")
        return out.reshape(self._batch + tuple(shape))


def _mt_log_ratio(t, s):
    """s h(t), h(t) = 3 log1p(t) - 3t + 3t^2/2 - t^3, accurate for small t.

    The Marsaglia-Tsang test log U < x^2/2 + s - s v + s log v, with s = shape - 1/3,
    v = (1 + t)^3, t = x / sqrt(9 s), is log U < s h(t): x^2/2 cancels exactly against
    -9 s t^2 / 2. For |t| < 0.05 the series h(t) = 3 sum_{j >= 4} (-1)^(j+1) t^j / j
    (truncated after t^14, error < 1e-19) avoids the cancellation that would otherwise
    spoil the test at large shape (chi-square with d degrees of freedom, d up to 10^6+).
    """
    series = 0.0
    for j in range(14, 3, -1):  # Horner: t^4 (c4 + t (c5 + ...)), c_j = 3 (-1)^(j+1) / j
        series = series * t + 3.0 * (-1.0) ** (j + 1) / j
    series = series * t**4
    direct = 3.0 * jnp.log1p(t) - 3.0 * t + 1.5 * t * t - t * t * t
    return s * jnp.where(jnp.abs(t) < 0.05, series, direct)


def gamma(stream: Stream, alpha, shape, dtype, small: bool = True):
    """Exact Gamma(alpha, 1) draws of shape batch + shape (Marsaglia-Tsang).

    Args:
        stream: supplies the first trial (one normal and one uniform per draw, plus one
            uniform per draw when some alpha < 1, for Gamma(a) = Gamma(a + 1) U^(1/a)),
            and through its state the further trials of rejected draws.
        alpha: shape parameter(s), > 0, broadcastable to `shape`.
        shape: shape per batch element (static).
        dtype: float dtype.
        small: whether some alpha may be below 1 (static; False saves the extra uniform).
    """
    full = stream._batch + tuple(shape)
    a = jnp.broadcast_to(jnp.asarray(alpha, dtype), full)
    boost = a < 1.0
    s = jnp.where(boost, a + 1.0, a) - 1.0 / 3.0
    c = 1.0 / jnp.sqrt(9.0 * s)

    def trial(x, u):
        t = c * x
        ok = (t > -1.0) & (jnp.log(u) < _mt_log_ratio(jnp.where(t > -1.0, t, 0.0), s))
        return ok, s * (1.0 + t) ** 3

    done, value = trial(stream.normal(shape), stream.uniform(shape))
    boost_u = stream.uniform(shape) if small else None

    batch = 64
    size = math.prod(full)
    s_flat, c_flat = s.reshape(-1), c.reshape(-1)

    def body(carry):  # retry the first `batch` rejected draws with fresh trials
        value, done, state = carry
        (idx,) = jnp.nonzero(~done, size=batch, fill_value=size)
        safe = jnp.minimum(idx, size - 1)
        more = Stream(state, (batch,), 1, 1, dtype)
        x, u = more.normal(()), more.uniform(())
        t = c_flat[safe] * x
        ok = (t > -1.0) & (jnp.log(u) < _mt_log_ratio(jnp.where(t > -1.0, t, 0.0),
                                                       s_flat[safe]))
        new = s_flat[safe] * (1.0 + t) ** 3
        value = value.at[idx].set(jnp.where(ok, new, value[safe]), mode="drop")
        done = done.at[idx].set(ok, mode="drop")
        return value, done, more.state

    value, done, stream.state = jax.lax.while_loop(
        lambda c: ~jnp.all(c[1]), body, (value.reshape(-1), done.reshape(-1), stream.state))
    value = value.reshape(full)
    if boost_u is not None:
        value = jnp.where(boost, value * boost_u ** (1.0 / a), value)
    return value


def bartlett_size(m: int, df: int) -> tuple[int, int]:
    """(normals, uniforms) a Bartlett draw takes from a Stream."""
    return m * (m - 1) // 2 + m, m * (2 if df - m + 1 < 2 else 1)


def bartlett(stream: Stream, m: int, df: int, dtype):
    """Lower-triangular H (shape batch + (m, m)) with H H^T ~ Wishart_m(df, I_m).

    Args:
        stream: supplies the randomness (bartlett_size(m, df) normals and uniforms).
        m: size (static); df: degrees of freedom (static integer >= m).
    """
    if df < m:
        raise ValueError(f"Bartlett factor needs df >= m, got df = {df}, m = {m}")
    dfs = [df - i for i in range(m)]
    low = stream.normal((m * (m - 1) // 2,))
    alpha = jnp.asarray(dfs, dtype) / 2.0
    diag = jnp.sqrt(2.0 * gamma(stream, alpha, (m,), dtype, small=df - m + 1 < 2))
    H = jnp.zeros(stream._batch + (m, m), dtype)
    rows, cols = jnp.tril_indices(m, -1)
    H = H.at[..., rows, cols].set(low)
    return H.at[..., jnp.arange(m), jnp.arange(m)].set(diag)


def initial_state(state, p: int, k: int, d: int, init_scale: float, dtype):
    """(new Philox state, A, B): the initial student in the frame [teacher span, student perp].

    The teacher W* = sqrt(d) L_P E* (E* has k orthonormal rows, P = L_P L_P^T) and the
    student rows w_j ~ N(0, init_scale^2 I_d), independent. Writing W = sqrt(d) (A E* + B F)
    with F p orthonormal rows orthogonal to the teacher span: A = init_scale Z / sqrt(d)
    with Z (p x k) standard Gaussian (the teacher-span coordinates of W), and B =
    init_scale H / sqrt(d) with H H^T ~ Wishart_p(d - k, I) (Bartlett), the Gram matrix
    of the components of the rows in the (d - k)-dimensional complement. Then M = A L_P^T,
    Q = A A^T + B B^T exactly as in the d-dimensional draw.
    """
    normals, uniforms_ = bartlett_size(p, d - k)
    stream = Stream(state, (), p * k + normals, uniforms_, dtype)
    scale = init_scale / math.sqrt(d)
    A = scale * stream.normal((p, k))
    B = scale * bartlett(stream, p, d - k, dtype)
    return stream.state, A, B
