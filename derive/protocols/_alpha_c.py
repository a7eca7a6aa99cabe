"""AMP weak learnability threshold alpha_c (numerical, Monte Carlo).

Troiani et al., AISTATS 2025 (arXiv 2405.15480), n = alpha d samples (docs/theory.md §3.5):
the trivial subspace span_y E[z | y] is weakly learned for every alpha > 0; with
G(y) = E[z z^T | y] - I = E[He_2(z) | y] and no trivial subspace,

    alpha_c^{-1} = sup_{M PSD, ||M||_F = 1} || E_y[G(y) M G(y)] ||_F,

and the easy subspace (the images of G(y)) is learned for alpha > alpha_c; hard directions are
learned by neither. The map F(M) = E_y[G M G] is self-adjoint for the Frobenius product and
maps the PSD cone into itself, so (Krein-Rutman) the supremum is its spectral radius,
attained at a PSD eigenvector; we compute that radius on symmetric matrices.

Numerics. F only needs K = E_y[vec G(y) vec G(y)^T]. We draw n latent samples (explicit seed),
sort them by y, cut B bins of equal counts and fit G in each bin by a linear function of y,
cross-fitted: each sample is in half A or half B, K = sum_b P_b E_b[G_A G_B^T] symmetrised,
which removes the upward bias of squared noisy fits. Binning projects G on piecewise-linear
functions of y (a downward bias that vanishes as B grows). `error` adds the change from B/2
to B bins, two standard errors (from the spread of the estimates on four quarters of the
sample) and a noise floor 3 sqrt(B) E||He_2||^2 / n. Checks (tests): y = z^2
gives 1/2; y = z1 z2 gives 0.59375 (Bessel-function quadrature).

A polynomial projection of G on the label (Lanczos) was tried first and dropped: for
products such as z1 z2 z3 the conditional law is singular at y = 0 and the projection was
still 40% off at degree 64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy import special

from ..targets import Target

__all__ = ["AlphaC", "alpha_c"]


@dataclass(frozen=True)
class AlphaC:
    """alpha_c = 1 / lambda with lambda the spectral radius of F (numerical).

    Attributes:
        value: alpha_c (math.inf when lambda is below its error: no easy direction seen).
        radius: lambda.
        error: estimated error on lambda (binning change, two standard errors, noise floor).
        samples: Monte Carlo sample size n.
        bins: number of label bins B.
    """

    value: float
    radius: float
    error: float
    samples: int
    bins: int

    @property
    def value_error(self) -> float:
        """Propagated error on alpha_c (first order)."""
        if not math.isfinite(self.value):
            return math.inf
        return self.error / self.radius**2


def _np_heaviside(x, h0=0.5):
    return np.heaviside(x, h0)


def _radius(kmat: np.ndarray, k: int) -> float:
    """Spectral radius on symmetric matrices of F(M)_{ad} = sum_{bc} K[(a,b),(c,d)] M_{bc}."""
    kt = kmat.reshape(k, k, k, k)
    sym = []
    for a in range(k):
        for b in range(a, k):
            e = np.zeros((k, k))
            if a == b:
                e[a, a] = 1.0
            else:
                e[a, b] = e[b, a] = 1 / math.sqrt(2)
            sym.append(e)
    images = [np.einsum("abcd,bc->ad", kt, e) for e in sym]
    mat = np.array([[float(np.sum(ea * fb)) for fb in images] for ea in sym])
    mat = (mat + mat.T) / 2
    return float(np.max(np.abs(np.linalg.eigvalsh(mat))))


def _binned(he2: np.ndarray, y: np.ndarray, wa: np.ndarray, wb: np.ndarray, bins: int,
            k: int) -> float:
    """Cross-fitted piecewise-linear estimate of the radius.

    Rows of he2 (and y) sorted by the label are cut into `bins` equal contiguous blocks; in
    each block and each half (0/1 weights wa, wb) He_2 is regressed on y - ybar_b:
    G(y) ~ alpha + beta (y - ybar_b). Then E_b[G_A G_B^T] = alpha_A alpha_B^T
    + beta_A beta_B^T Var_b(y), exactly, since y - ybar_b has mean 0 in the block.
    """
    n = he2.shape[0]
    if n % bins:
        raise ValueError(f"{n} samples do not split into {bins} equal bins")
    m = n // bins
    h = he2[:n].reshape(bins, m, k * k)
    yy = y[:n].reshape(bins, m)
    wall = (wa[:n] + wb[:n]).reshape(bins, m)
    call = np.maximum(wall.sum(axis=1), 1.0)
    ybar = ((wall * yy).sum(axis=1) / call)[:, None]
    dy = yy - ybar
    var = (wall * dy * dy).sum(axis=1) / call
    fits = []
    for w in (wa[:n].reshape(bins, m), wb[:n].reshape(bins, m)):
        c = w.sum(axis=1)
        safe = np.maximum(c, 1.0)
        my = (w * dy).sum(axis=1) / safe
        mh = np.einsum("bm,bmi->bi", w, h) / safe[:, None]
        vy = (w * dy * dy).sum(axis=1) / safe - my**2
        cov = np.einsum("bm,bmi->bi", w * dy, h) / safe[:, None] - my[:, None] * mh
        beta = np.where(vy[:, None] > 1e-300, cov / np.where(vy > 1e-300, vy, 1.0)[:, None], 0.0)
        alpha = mh - beta * my[:, None]
        fits.append((alpha, beta, c))
    (aa, ba, ca), (ab, bb, cb) = fits
    ok = (ca > 1) & (cb > 1)
    p = call[ok] / float(np.sum(call[ok]))
    kmat = (np.einsum("b,bi,bj->ij", p, aa[ok], ab[ok])
            + np.einsum("b,bi,bj->ij", p * var[ok], ba[ok], bb[ok]))
    return _radius((kmat + kmat.T) / 2, k)


def alpha_c(target: Target | str, samples: int = 200_000, bins: int = 200,
            seed: int = 0) -> AlphaC:
    """The AMP weak-recovery threshold alpha_c of a target with E[z | y] = 0 (Monte Carlo).

    alpha_c^{-1} = sup_{M PSD, ||M||_F = 1} ||E_y[G(y) M G(y)]||_F, G(y) = E[z z^T | y] - I.

    Args:
        target: the target (at most 8 latent coordinates, no free parameters).
        samples: Monte Carlo sample size.
        bins: number of equal-count label bins.
        seed: seed of the explicit random generator (the value is reproducible).

    Returns:
        AlphaC (value math.inf when the radius is not above its error).

    Raises:
        ValueError: more than 4 coordinates, free parameters, bad sizes, or a target that is
            not finite on the samples.

    Reference: Troiani et al., arXiv 2405.15480 (check the theorem number before citing).
    """
    if isinstance(target, str):
        target = Target.parse(target)
    if target.parameters:
        raise ValueError("alpha_c needs numerical parameter values: substitute them first")
    k = target.k
    if k > 8:
        raise ValueError(
            f"alpha_c is computed for targets of at most 8 latent coordinates, got k = {k}")
    if not isinstance(samples, int) or samples < 10_000:
        raise ValueError(f"samples must be an integer >= 10000, got {samples!r}")
    if not isinstance(bins, int) or bins % 2 or not 4 <= bins <= samples // 100:
        raise ValueError(f"bins must be an even integer in 4..samples/100, got {bins!r}")
    samples -= samples % (2 * bins)  # every bin (of B and of B/2) gets the same count
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((samples, k))
    func = sp.lambdify(target.variables, target.expr,
                       modules=[{"Heaviside": _np_heaviside, "erf": special.erf}, "numpy"])
    with np.errstate(all="ignore"):
        y = np.broadcast_to(np.asarray(func(*z.T), dtype=float), (samples,))
    if not np.all(np.isfinite(y)):
        raise ValueError("the target is not finite on the Monte Carlo samples")
    order = np.argsort(y, kind="stable")
    z = z[order]
    y = np.ascontiguousarray(y[order])
    he2 = (np.einsum("na,nb->nab", z, z) - np.eye(k)[None]).reshape(samples, k * k)
    half = rng.permutation(np.arange(samples) % 2).astype(float)
    other = 1.0 - half
    lam = _binned(he2, y, half, other, bins, k)
    coarse = _binned(he2, y, half, other, bins // 2, k)
    # statistical error: four independent quarters of the sample, each cross-fitted
    group = rng.permutation(np.arange(samples) % 4)
    quarters = [_binned(he2, y, half * (group == g), other * (group == g), bins // 2, k)
                for g in range(4)]
    se = float(np.std(quarters, ddof=1)) / 2
    # noise floor: the cross-fitted K fluctuates at the scale of the plug-in bias,
    # (bins / samples) E||He_2||^2, divided by sqrt(bins)
    floor = 3 * math.sqrt(bins) / samples * float(np.mean(np.sum(he2 * he2, axis=1)))
    err = abs(lam - coarse) + 2 * se + floor
    value = math.inf if lam <= err else 1.0 / lam
    return AlphaC(value, lam, err, samples, bins)
