"""The standard-normal generator of the full and Gram engines (numerics/simulation/_normals.py):
accuracy of the polynomial log and sine against long-double references, and the law of the
normals against N(0, 1) with tolerances from standard errors.

Statistical tolerances: every check is |estimate - exact| < 6 standard errors, a two-sided
false-failure probability of 2e-9 per check (a dozen checks: < 3e-8 per run); the draws are
deterministic (fixed states), so a pass is reproducible.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from escalier.numerics.simulation._normals import (
    log_unit,
    normals,
    philox_state,
    sin_turn,
    splitmix,
)

jax.config.update("jax_enable_x64", True)

LONG = np.finfo(np.longdouble).nmant >= 63  # x87 80-bit long double: 11 bits beyond float64
needs_long = pytest.mark.skipif(not LONG, reason="needs an 80-bit long double reference")
M52 = (1 << 52) - 1
Z = 6.0  # standard errors per check


def words(n, seed=12345):
    return splitmix(jnp.uint64(seed), jnp.uint64(0), n)


@needs_long
def test_log_unit_within_3_ulp():
    k = np.asarray(words(1 << 20) >> 12)
    k = np.concatenate([k, [0, 1, 2, M52, M52 - 1, 1 << 51, (1 << 51) - 1, 3 << 50]]).astype(np.uint64)
    got = np.asarray(jax.jit(log_unit)(jnp.asarray(k))).astype(np.longdouble)
    ref = np.log((k.astype(np.longdouble) + np.longdouble(0.5)) * np.longdouble(2.0**-52))
    ulp = np.spacing(np.abs(ref.astype(np.float64))).astype(np.longdouble)
    assert float(np.max(np.abs(got - ref) / ulp)) <= 3.0


@needs_long
def test_sin_turn_within_3_ulp_of_one():
    b = np.asarray(words(1 << 20, seed=7))
    edges = []
    for q in range(4):  # quadrant boundaries: lowest and highest 52-bit fraction, both sides
        for m in (0, 1, M52 - 1, M52):
            edges.append((q << 62) | (m << 10) | 0x3FF)
    b = np.concatenate([b, np.array(edges, np.uint64)])
    v = ((b >> np.uint64(10)).astype(np.longdouble) + np.longdouble(0.5)) * np.longdouble(2.0**-54)
    two_pi = 2 * np.longdouble("3.14159265358979323846264338327950288")
    got = np.asarray(jax.jit(sin_turn)(jnp.asarray(b))).astype(np.longdouble)
    cos = np.asarray(jax.jit(sin_turn)(jnp.asarray(b) + jnp.uint64(1 << 62))).astype(np.longdouble)
    assert float(np.max(np.abs(got - np.sin(two_pi * v)))) <= 3 * 2.0**-52
    assert float(np.max(np.abs(cos - np.cos(two_pi * v)))) <= 3 * 2.0**-52


def draws(n=1 << 22, key=0):
    return np.asarray(normals(philox_state(jax.random.key(key)), 0, (n // 1024, 1024), jnp.float64))


@pytest.fixture(scope="module")
def z():
    return draws()


def test_moments_and_tails(z):
    x = z.ravel()
    n = x.size
    # exact N(0, 1): mean 0, var 1, skewness 0, excess kurtosis 0; standard errors of the
    # sample estimates: sqrt(1/n), sqrt(2/n), sqrt(6/n), sqrt(24/n) (large-n normal theory)
    assert abs(x.mean()) < Z * math.sqrt(1 / n)
    assert abs(x.var() - 1) < Z * math.sqrt(2 / n)
    assert abs(stats.skew(x)) < Z * math.sqrt(6 / n)
    assert abs(stats.kurtosis(x)) < Z * math.sqrt(24 / n)
    for t in (3.0, 4.0):
        p = 2 * stats.norm.sf(t)
        assert abs(np.mean(np.abs(x) > t) - p) < Z * math.sqrt(p * (1 - p) / n)


def test_kolmogorov_smirnov(z):
    assert stats.kstest(z.ravel(), "norm").pvalue > 1e-6


def corr_ok(a, b):
    return abs(np.corrcoef(a, b)[0, 1]) < Z / math.sqrt(a.size)


def test_no_correlation_within_and_across_pairs(z):
    x = z.ravel()
    assert corr_ok(x[:-1], x[1:])  # lag 1
    cos_half, sin_half = z[:, :512].ravel(), z[:, 512:].ravel()  # the two halves of pairs
    assert corr_ok(cos_half, sin_half)
    assert corr_ok(cos_half**2, sin_half**2)  # independence, not just no correlation


def test_seeds_and_blocks_independent_and_consistent(z):
    other = draws(key=1)
    assert corr_ok(z.ravel(), other.ravel())
    state = philox_state(jax.random.key(0))
    # consecutive rows (steps) of one stream are uncorrelated ...
    assert corr_ok(z[:-1].ravel(), z[1:].ravel())
    # ... and a block drawn at once equals its rows drawn one by one (counter arithmetic)
    row = np.asarray(normals(state, 5 * 1024, (1, 1024), jnp.float64))
    np.testing.assert_array_equal(row[0], z[5])


def test_dtype_and_odd_rows():
    # the pairing of words into (r cos, r sin) is checked against an independent SplitMix64
    # and mpmath in test_normals_exact.py
    state = jnp.array([3, 10], jnp.uint64)
    assert normals(state, 0, (4,), jnp.float32).dtype == jnp.float32
    with pytest.raises(ValueError, match="even"):
        normals(state, 0, (3,), jnp.float64)
