"""Counter-based random bits and exact standard normals in pure JAX (fast on CPU).

Bits: SplitMix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number generators",
OOPSLA 2014): the i-th 64-bit word of the stream with seed z0 is mix(z0 + i * 0x9E3779B97F4A7C15),
mix a bijective finaliser; the output passes BigCrush. A stream's state is (seed, counter)
as uint64[2], hashed from the caller's JAX PRNG key by XLA's Philox (`philox_state`), so a
draw is a pure function of (key, counter): no global state, any block of the stream can be
drawn on its own, and distinct keys give unrelated streams. The counter has period 2^64.

Normals: the Box-Muller transform (Box and Muller, Ann. Math. Stat. 29, 1958, 610-611) of
two independent words b1, b2,

    r = sqrt(-2 log u),  u = (k + 1/2) 2^-52,  k = b1 >> 12        (u uniform on (0, 1))
    theta = 2 pi v,      v = (j + 1/2) 2^-54,  j = b2 >> 10        (v uniform on (0, 1))
    (z1, z2) = (r cos theta, r sin theta)

is exactly a pair of independent standard normals for exactly uniform (u, v); here u and v
are the midpoints of 2^52- and 2^54-point grids, so the only departures from N(0, 1) are
this discretisation (|z| <= sqrt(2 * 52 log 2 + 2 log 2) = 8.57 at the extreme k = 0, a
tail probability of 1e-17 that is cut off) and the float64 rounding of the transform.
XLA CPU's float64 log, cos and sin do not vectorise well; here they are polynomials that
do, each accurate to a few ulp (bounds measured over 10^6 points and the extremes in
tests/numerics/test_normals.py against long-double references):

  - `log_unit`: u = 2^e m with m in [sqrt(1/2), sqrt 2), log u = e ln 2 + 2 atanh(s),
    s = (m - 1) / (m + 1), |s| <= 0.1716; the atanh series is cut after s^19
    (remainder < 3e-17 relative); e ln 2 with a Cody-Waite split of ln 2 (ln2_hi has
    32 significant bits, so e ln2_hi is exact). Error <= 3 ulp of log u.
  - `sin_turn`: sin of 2 pi v by quadrant symmetry and the Taylor series of sin on
    [0, pi / 2] cut after phi^23 (remainder < 6e-21), Estrin's scheme; cos theta is the
    sine of a quarter turn more (an integer add on the word). Error <= 3 ulp of 1
    (measured 2.0: rounding of phi and of the polynomial near |sin| = 1).
Floats are made from integers through the 2^52 magic number (bit pattern 0x433 << 52 ORed
with a 52-bit integer, minus 2^52: exact), since AVX2 has no uint64 -> float64 conversion.
Under float32 the normals are drawn in float64 and rounded. Without JAX x64 (no uint64) the
callers keep jax.random or Philox uniforms with `box_muller_uniforms` (jnp.log, cos, sin).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

__all__ = [
    "GOLDEN",
    "box_muller",
    "box_muller_uniforms",
    "log_unit",
    "normals",
    "philox_state",
    "sin_turn",
    "splitmix",
]

GOLDEN = 0x9E3779B97F4A7C15
"""The SplitMix64 increment (odd: the counter -> word map is a bijection of 2^64)."""

_PHILOX = jax.lax.RandomAlgorithm.RNG_PHILOX
_U64 = jnp.uint64
_MANTISSA = (1 << 52) - 1
_TWO52 = 2.0**52
_SQRT2 = math.sqrt(2.0)
_LN2_HI = float.fromhex("0x1.62e42fefap-1")  # ln 2 to 32 bits: e * _LN2_HI exact for |e| < 2^21
_LN2_LO = math.log(2.0) - _LN2_HI  # the rest (as a double; |error| < 2^-90)
_ATANH = [1.0 / (2 * j + 1) for j in range(10)]  # 2 atanh(s) = 2 s sum_j s^(2j) / (2j + 1)
_SIN = [(-1) ** j / math.factorial(2 * j + 1) for j in range(12)]  # sin phi / phi, to phi^22


def philox_state(key):
    """The stream state of one JAX PRNG key (typed or raw uint32[2]).

    XLA's Philox keyed by the caller's key, at counter 0, hashes it into 128 random bits:
    the SplitMix64 (seed, counter) as uint64[2] under x64, else a Philox state uint32[4].
    Distinct keys thus give unrelated streams.
    """
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    key = jnp.ravel(key).astype(jnp.uint32)
    seed = jnp.concatenate([key[:2], jnp.zeros(2, jnp.uint32)]) if key.size < 4 else key[:4]
    _, bits = jax.lax.rng_bit_generator(seed, (4,), jnp.uint32, algorithm=_PHILOX)
    if not jax.config.jax_enable_x64:
        return bits
    wide = bits.astype(jnp.uint64)
    return jnp.stack([(wide[0] << 32) | wide[1], (wide[2] << 32) | wide[3]])


def splitmix(seed, counter, size: int):
    """Words counter, counter + 1, ..., counter + size - 1 of the stream `seed` (uint64)."""
    return _mix(seed + (counter + jnp.arange(size, dtype=jnp.uint64)) * _U64(GOLDEN))


def _mix(z):
    """The SplitMix64 output function (a bijection of uint64)."""
    z = (z ^ (z >> 30)) * _U64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> 27)) * _U64(0x94D049BB133111EB)
    return z ^ (z >> 31)


def _as_f64(bits):
    return jax.lax.bitcast_convert_type(bits, jnp.float64)


def _int52(k):
    """The float64 value of a uint64 k < 2^52 (exact)."""
    return _as_f64(k | _U64(0x4330000000000000)) - _TWO52


def log_unit(k):
    """log((k + 1/2) 2^-52) for uint64 k < 2^52, to <= 3 ulp (see the module docstring)."""
    u = (_int52(k) + 0.5) * 2.0**-52  # exact: k + 1/2 needs 53 bits
    bits = jax.lax.bitcast_convert_type(u, jnp.uint64)
    m = _as_f64((bits & _U64(_MANTISSA)) | _U64(0x3FF0000000000000))  # in [1, 2)
    big = m > _SQRT2
    m = jnp.where(big, 0.5 * m, m)
    e = _int52(bits >> 52) - jnp.where(big, 1022.0, 1023.0)
    s = (m - 1.0) / (m + 1.0)
    s2 = s * s
    poly = _ATANH[-1]
    for c in _ATANH[-2::-1]:
        poly = poly * s2 + c
    return e * _LN2_HI + (e * _LN2_LO + 2.0 * s * poly)


def _estrin(coefficients, y):
    """sum_i c_i y^i by Estrin's scheme (depth log2 of the degree, not the degree)."""
    cs = list(coefficients)
    while len(cs) > 1:
        pairs = [cs[i] + cs[i + 1] * y for i in range(0, len(cs) - 1, 2)]
        cs = pairs + ([cs[-1]] if len(cs) % 2 else [])
        y = y * y
    return cs[0]


def sin_turn(b):
    """sin(2 pi (j + 1/2) 2^-54), j = b >> 10, for uint64 words b, to <= 3 ulp of 1.

    The top 2 bits of b are the quadrant q, the next 52 give g in (0, 1); phi = (pi / 2) g
    for even q, (pi / 2) (1 - g) for odd q (1 - g exactly, by complementing the 52 bits),
    and sin = (-1)^(q >= 2) sin(phi), sin(phi) from its Taylor series on [0, pi / 2] cut
    after phi^23 (remainder < 6e-21). cos(2 pi v) is sin_turn(b + 2^62) (a quarter turn).
    """
    m = (b >> 10) & _U64(_MANTISSA)
    odd = (b >> 62) & _U64(1)
    m = m ^ ((_U64(0) - odd) & _U64(_MANTISSA))
    phi = (_int52(m) + 0.5) * (math.pi / 2 * 2.0**-52)
    s = _estrin(_SIN, phi * phi) * phi
    sign = b & _U64(1 << 63)
    return _as_f64(jax.lax.bitcast_convert_type(s, jnp.uint64) ^ sign)


def box_muller(b1, b2):
    """Pairs of independent N(0, 1) (float64) from uint64 words b1, b2 of one shape.

    Returns an array of shape b1.shape[:-1] + (2, b1.shape[-1]): row 0 is r cos theta,
    row 1 is r sin theta (written as one broadcast elementwise loop so that XLA
    vectorises it; a concatenate would not be).
    """
    r = jnp.sqrt(-2.0 * log_unit(b1 >> 12))
    quarter = jnp.array([[1 << 62], [0]], jnp.uint64)  # cos = sin of a quarter turn more
    return r[..., None, :] * sin_turn(b2[..., None, :] + quarter)


def box_muller_uniforms(u1, u2):
    """Box-Muller from uniforms on (0, 1) with jnp.log, cos, sin: the path without x64."""
    r = jnp.sqrt(-2.0 * jnp.log(u1))
    theta = 2.0 * math.pi * u2
    return r * jnp.cos(theta), r * jnp.sin(theta)


def normals(state, counter, shape, dtype):
    """Standard normals of `shape` (last axis n even) from the words counter + [0, prod(shape))
    of the stream `state` (uint64[2]: seed, base counter).

    Row i of the last axis (flattening the leading axes) uses words [i n, (i + 1) n) after
    `counter`: the first n / 2 give the radii, the last n / 2 the angles, and the row is
    (r cos theta, r sin theta). So a block of rows drawn at once equals the rows drawn one
    by one. Drawn in float64, cast to dtype.
    """
    *batch, n = shape
    if n % 2:
        raise ValueError(f"the last axis of a block of normals must be even, got {n}")
    half = n // 2
    rows = math.prod(batch)
    index = (jnp.arange(rows, dtype=jnp.uint64) * _U64(n))[:, None] + jnp.arange(
        half, dtype=jnp.uint64
    )
    start = state[1] + jnp.asarray(counter).astype(jnp.uint64)
    b1 = _mix(state[0] + (start + index) * _U64(GOLDEN))
    b2 = _mix(state[0] + (start + _U64(half) + index) * _U64(GOLDEN))
    return box_muller(b1, b2).reshape(shape).astype(dtype)
