"""AMP weak learnability: trivial, easy and hard subspaces, and alpha_c (numerical).

Troiani et al., AISTATS 2025 (arXiv 2405.15480), n = alpha d samples (THEORY.md section 2):
the trivial subspace span_y E[z | y] is weakly learned for every alpha > 0; with
G(y) = E[z z^T | y] - I = E[He_2(z) | y] and no trivial subspace,

    alpha_c^{-1} = sup_{M PSD, ||M||_F = 1} || E_y[G(y) M G(y)] ||_F,

and the easy subspace (the images of G(y)) is learned for alpha > alpha_c; hard directions are
learned by neither. The map F(M) = E_y[G M G] is self-adjoint for the Frobenius product and
maps the PSD cone into itself, so (Krein-Rutman) the supremum is its spectral radius,
attained at a PSD eigenvector; we compute that radius on symmetric matrices.

Numerics: E_y[G M G] needs the conditional law of z given y. G is projected on orthonormal
polynomials p_j(y) of the label (Lanczos on a Gauss-Hermite tensor grid of the latent
coordinates: 200, 80, 30, 14 nodes per axis for k = 1..4),
G_M(y) = sum_{j <= M} E[He_2(z) p_j(y)] p_j(y); the radius of F_M increases with
M to that of F (Bessel), and M is doubled until the relative change is below 1e-6. The value is
labelled numeric; `error` is the last change. Check: y = z^2 gives alpha_c = 1/2 exactly
(G(y) = y - 1 is linear in y).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy import special

from ._target import Target

__all__ = ["alpha_c"]

_NODES = {1: 200, 2: 80, 3: 30, 4: 14}


@dataclass(frozen=True)
class AlphaC:
    """alpha_c = 1 / lambda with lambda the spectral radius of F (numerical).

    Attributes:
        value: alpha_c (math.inf when F = 0 numerically).
        radius: lambda.
        error: estimated error on lambda (last change in the polynomial degree M).
        degree: the final M.
    """

    value: float
    radius: float
    error: float
    degree: int


def _np_heaviside(x, h0=0.5):
    return np.heaviside(x, h0)


def _grid(target: Target):
    k = target.k
    if k not in _NODES:
        raise ValueError(
            f"alpha_c is computed for targets of at most 4 latent coordinates, got k = {k}")
    n = _NODES[k]
    x, w = np.polynomial.hermite_e.hermegauss(n)
    w = w / math.sqrt(2 * math.pi)
    grids = np.meshgrid(*([x] * k), indexing="ij")
    weights = np.ones_like(grids[0])
    for i in range(k):
        weights = weights * w.reshape([-1 if j == i else 1 for j in range(k)])
    keep = weights.ravel() > 1e-300
    z = np.stack([g.ravel()[keep] for g in grids], axis=1)
    func = sp.lambdify(target.variables, target.expr,
                       modules=[{"Heaviside": _np_heaviside, "erf": special.erf}, "numpy"])
    with np.errstate(all="ignore"):
        y = np.broadcast_to(np.asarray(func(*z.T), dtype=float), (z.shape[0],)).copy()
    if not np.all(np.isfinite(y)):
        raise ValueError("the target is not finite on the quadrature grid")
    return z, weights.ravel()[keep], y


def _lanczos(y: np.ndarray, w: np.ndarray, m: int) -> np.ndarray:
    """Orthonormal polynomials p_0..p_{m'} (m' <= m) of y in L^2(w), as columns (Stieltjes,
    with full re-orthogonalisation)."""
    scale = math.sqrt(float(np.sum(w * y * y))) or 1.0
    t = y / scale
    rows = np.empty((m + 1, y.shape[0]))  # row j = p_j at the nodes (contiguous rows)
    rows[0] = 1.0
    size = 1
    for j in range(m):
        q = t * rows[j]
        # full re-orthogonalisation (einsum: BLAS threads stall on a loaded machine)
        q = q - np.einsum("j,jn->n", np.einsum("jn,n->j", rows[:size], w * q), rows[:size])
        nq = math.sqrt(float(np.dot(w, q * q)))
        if nq < 1e-10:
            break
        rows[j + 1] = q / nq
        size += 1
    return np.ascontiguousarray(rows[:size].T)


def _radius(coef: np.ndarray, k: int) -> float:
    """Spectral radius on symmetric matrices of F_M(M) = E[G_M M G_M], from the coefficients
    a_j = E[He_2(z) p_j(y)] (rows j <= M): K[(a,b),(c,d)] = E[G_ab G_cd] = sum_j a_j,ab a_j,cd
    by the orthonormality of the p_j."""
    kmat = coef.T @ coef
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
    # F(M)_{ad} = sum_{bc} K[(a,b),(c,d)] M_{bc}
    images = [np.einsum("abcd,bc->ad", kt, e) for e in sym]
    mat = np.array([[float(np.sum(ea * fb)) for fb in images] for ea in sym])
    mat = (mat + mat.T) / 2
    return float(np.max(np.abs(np.linalg.eigvalsh(mat))))


def alpha_c(target: Target | str, max_degree: int = 24, rtol: float = 1e-6) -> AlphaC:
    """The AMP weak-recovery threshold alpha_c of a target with E[z | y] = 0 (numerical).

    alpha_c^{-1} = sup_{M PSD, ||M||_F = 1} ||E_y[G(y) M G(y)]||_F, G(y) = E[z z^T | y] - I.

    Args:
        target: the target (at most 4 latent coordinates, no free parameters).
        max_degree: largest polynomial degree in y of the projection of G.
        rtol: relative change at which the doubling of the degree stops.

    Returns:
        AlphaC (value math.inf when G vanishes numerically: no easy direction).

    Raises:
        ValueError: more than 4 coordinates, free parameters, or a non-finite target.

    Reference: Troiani et al., arXiv 2405.15480 (check the theorem number before citing).
    """
    if isinstance(target, str):
        target = Target.parse(target)
    if target.parameters:
        raise ValueError("alpha_c needs numerical parameter values: substitute them first")
    z, w, y = _grid(target)
    k = target.k
    he2 = np.einsum("na,nb->nab", z, z) - np.eye(k)[None]
    full = _lanczos(y, w, max_degree)
    n = he2.shape[0]
    coef_full = np.einsum("nj,nm->jm", full * w[:, None], he2.reshape(n, k * k))
    last = None
    degree = 2
    err = math.inf
    while True:
        lam = _radius(coef_full[: degree + 1], k)
        if last is not None:
            err = abs(lam - last)
            if err <= rtol * max(lam, 1e-300) or full.shape[1] <= degree or degree >= max_degree:
                break
        last = lam
        degree *= 2
    value = math.inf if lam < 1e-10 else 1.0 / lam
    return AlphaC(value, lam, err, min(degree, full.shape[1] - 1))
