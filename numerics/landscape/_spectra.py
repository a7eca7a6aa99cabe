"""Level statistics: the adjacent spacing ratio, and GOE / Poisson reference ensembles.

For ordered levels e_1 <= ... <= e_n with spacings s_i = e_{i+1} - e_i, the adjacent spacing
ratio is r_i = min(s_i, s_{i+1}) / max(s_i, s_{i+1}) in [0, 1]; its mean needs no
unfolding (Oganesyan & Huse, PRB 2007; Atas, Bogomolny, Giraud & Roux, PRL 110, 084101,
2013, arXiv 1212.5611). References: Poisson levels (independent) give <r> = 2 ln 2 - 1
exactly; the GOE gives <r> = 0.5307(1) at large N (Atas et al., Table 1, numerics at
N = 1000), not the 3 x 3 surmise 4 - 2 sqrt 3 = 0.53590.

GOE normalisation: M = (A + A^T) / sqrt(2N), A with i.i.d. N(0, 1) entries, so off-diagonal
entries have variance 1/N, diagonal ones 2/N, and the eigenvalue density tends to the
semicircle sqrt(4 - x^2) / (2 pi) on [-2, 2].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["R_GOE", "R_GOE_SURMISE", "R_POISSON", "SpacingRatio", "goe_levels", "goe_matrix",
           "poisson_levels", "spacing_ratio", "spacing_ratios"]

R_POISSON = 2 * math.log(2) - 1
R_GOE = 0.5307  # Atas et al. PRL 2013, Table 1 (large-N numerics, error 1e-4)
R_GOE_SURMISE = 4 - 2 * math.sqrt(3)  # the 3 x 3 Wigner-like surmise (Atas et al. eq. 8)

_BLOCK = 20


def spacing_ratios(levels, bulk: float = 1.0) -> np.ndarray:
    """The ratios r_i of one spectrum (sorted here), keeping the central ``bulk`` fraction.

    Args:
        levels: 1-D array of real levels (at least 3 after the bulk cut).
        bulk: the fraction of levels kept, centred on the median (0 < bulk <= 1).

    Raises:
        ValueError: bad bulk, fewer than 3 levels, non-finite levels, or two equal levels
            (a zero spacing makes a ratio 0/0: degenerate levels are not a spectrum to test).
    """
    e = np.sort(np.asarray(levels, dtype=float).ravel())
    if not (0 < bulk <= 1):
        raise ValueError(f"bulk must be in (0, 1], got {bulk}")
    if not np.all(np.isfinite(e)):
        raise ValueError("levels must be finite")
    n = len(e)
    drop = int(round(n * (1 - bulk) / 2))
    e = e[drop:n - drop]
    if len(e) < 3:
        raise ValueError(f"need at least 3 levels after the bulk cut, got {len(e)}")
    s = np.diff(e)
    lo, hi = np.minimum(s[:-1], s[1:]), np.maximum(s[:-1], s[1:])
    if np.any(hi == 0):
        raise ValueError("two consecutive zero spacings (degenerate levels): the ratio is 0/0")
    return lo / hi


@dataclass(frozen=True)
class SpacingRatio:
    """The mean adjacent spacing ratio with its standard error.

    Attributes:
        mean: <r> over all ratios of all spectra.
        stderr: its standard error: across spectra when there are several (the per-spectrum
            means are independent), otherwise from means of consecutive blocks of 20 ratios
            (neighbouring ratios share a spacing, so they are not independent).
        n_levels: number of levels used (after the bulk cut), over all spectra.
        n_ratios: number of ratios averaged.
    """

    mean: float
    stderr: float
    n_levels: int
    n_ratios: int


def spacing_ratio(spectra, bulk: float = 1.0) -> SpacingRatio:
    """<r> with its error, for one spectrum (1-D) or several (a 2-D array or a list).

    Raises:
        ValueError: as `spacing_ratios`, or too few ratios for an error (one spectrum with
            fewer than 2 blocks of 20 ratios).
    """
    if isinstance(spectra, np.ndarray | jax.Array) and np.ndim(spectra) == 1:
        spectra = [spectra]
    ratios = [spacing_ratios(s, bulk) for s in spectra]
    n_levels = sum(len(r) + 2 for r in ratios)
    allr = np.concatenate(ratios)
    if len(ratios) > 1:
        means = np.array([r.mean() for r in ratios])
        weights = np.array([len(r) for r in ratios], dtype=float)
        mean = float(np.average(means, weights=weights))
        stderr = float(np.std(means, ddof=1) / math.sqrt(len(means)))
    else:
        nb = len(allr) // _BLOCK
        if nb < 2:
            raise ValueError(f"need at least {2 * _BLOCK} ratios for an error, got {len(allr)}")
        blocks = allr[: nb * _BLOCK].reshape(nb, _BLOCK).mean(axis=1)
        mean = float(allr.mean())
        stderr = float(np.std(blocks, ddof=1) / math.sqrt(nb))
    return SpacingRatio(mean=mean, stderr=stderr, n_levels=n_levels, n_ratios=len(allr))


def _check_sizes(n, samples):
    for name, v in (("N", n), ("samples", samples)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 3:
            raise ValueError(f"{name} must be an integer >= 3, got {v!r}")


def goe_matrix(key, n: int, samples: int = 1) -> jax.Array:
    """``samples`` GOE matrices (A + A^T) / sqrt(2N), shape (samples, N, N), float64."""
    _check_sizes(n, max(samples, 3))
    a = jax.random.normal(key, (samples, n, n), dtype=jnp.float64)
    return (a + jnp.swapaxes(a, -1, -2)) / jnp.sqrt(2.0 * n)


def goe_levels(key, n: int, samples: int, chunk: int = 16) -> np.ndarray:
    """Eigenvalues of ``samples`` GOE(N) matrices, shape (samples, N).

    The matrices are drawn with JAX in chunks; the eigenvalues come from LAPACK through
    numpy (several times faster than JAX's batched eigvalsh on CPU).
    """
    _check_sizes(n, samples)
    keys = jax.random.split(key, -(-samples // chunk))
    out = [np.linalg.eigvalsh(np.asarray(goe_matrix(k, n, min(chunk, samples - i * chunk))))
           for i, k in enumerate(keys)]
    return np.concatenate(out)


def poisson_levels(key, n: int, samples: int) -> np.ndarray:
    """``samples`` sequences of N independent uniform levels on [0, 1], sorted: (samples, N)."""
    _check_sizes(n, samples)
    return np.sort(np.asarray(jax.random.uniform(key, (samples, n), dtype=jnp.float64)), axis=1)
