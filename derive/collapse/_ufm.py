"""The deep linear UFM with square loss and weight decay, solved in closed form.

Convention (kept everywhere in escalier.derive.collapse and escalier.numerics.collapse):
K classes, n samples per class, N = K n, width d >= K, factors H (d x N, the free features),
W_1 .. W_{L-1} (d x d), W_L (K x d), targets Y = I_K (x) 1_n^T, and

    f = (1/2N) ||W_L ... W_1 H - Y||_F^2 + (lambda/2) (sum_l ||W_l||_F^2 + ||H||_F^2).

Reduction (Garrod & Keating, arXiv 2404.06106; derived again in docs/collapse.md): at any
critical point the factors are balanced (W_{l+1}^T W_{l+1} = W_l W_l^T, W_1^T W_1 = H H^T),
so all L + 1 factors share their singular values; the product is aligned with Y (von Neumann's
trace inequality) and each of its K singular directions solves the same scalar problem in the
common factor singular value s >= 0,

    g(s) = (s^(L+1) - sqrt(n))^2 / (2N) + (lambda/2) (L+1) s^2,   f = sum_{K directions} g(s_i),

whose critical points are s = 0 and the positive roots of

    p(s) = s^(2L) - sqrt(n) s^(L-1) + N lambda.

The global minimiser takes the root (or 0) of least g in every direction. The Hessian of f in
one block X with the others fixed is exact (f is quadratic in X): with A the product of the
factors above X and B the product below it (B = I_N for X = H),

    vec-Hessian = (1/N) (B B^T) (x) (A^T A) + lambda I,

whose eigenvalues beyond lambda are lambda + s^(2L)/N = sqrt(n) s^(L-1) / N (using p(s) = 0),
K^2 of them for a weight block and K N for the feature block.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

__all__ = ["BlockHessian", "UfmOptimum", "block_names", "singular_value_polynomial",
           "ufm_optimum", "weight_decay_threshold"]

_S = sp.Symbol("s", nonnegative=True)
_TIE = sp.Float("1e-40")
_DIGITS = 60


def _check(K, L, n, weight_decay=None, width=None):
    for name, value, least in (("K", K, 2), ("L", L, 1), ("n", n, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    if width is not None and (isinstance(width, bool) or not isinstance(width, int) or width < K):
        raise ValueError(f"width must be an integer >= K = {K}, got {width!r}")
    if weight_decay is None:
        return None
    lam = _rational(weight_decay)
    if not lam > 0:
        raise ValueError(f"weight_decay must be > 0 (at 0 the minimiser is not isolated), "
                         f"got {weight_decay!r}")
    return lam


def _rational(x) -> sp.Expr:
    """An exact SymPy number: floats are read through their decimal repr (0.005 -> 1/200)."""
    if isinstance(x, float):
        if x != x or x in (float("inf"), float("-inf")):
            raise ValueError(f"weight_decay must be finite, got {x!r}")
        return sp.Rational(repr(x))
    try:
        value = sp.nsimplify(sp.sympify(x), rational=True)
    except (sp.SympifyError, TypeError) as err:
        raise ValueError(f"weight_decay must be a number, got {x!r}") from err
    if not value.is_real or not value.is_finite:
        raise ValueError(f"weight_decay must be a finite real number, got {x!r}")
    return value


def singular_value_polynomial(L: int, n, N, weight_decay, s: sp.Symbol = _S) -> sp.Expr:
    """p(s) = s^(2L) - sqrt(n) s^(L-1) + N lambda.

    g'(s) = (L+1) s p(s) / N, so the non-zero critical singular values of the factors are the
    positive roots of p.
    """
    return s ** (2 * L) - sp.sqrt(n) * s ** (L - 1) + N * weight_decay


def weight_decay_threshold(K: int, L: int, n: int) -> sp.Expr:
    """lambda* above which the zero solution is the global minimiser (exact).

    lambda* = sqrt(n) / (N L) * ((L-1) sqrt(n) / L)^((L-1)/(L+1)); at lambda* the non-zero
    minimiser has s^(L+1) = (L-1) sqrt(n) / L (for L >= 2 the transition is first order:
    s jumps to 0; for L = 1 it is continuous, lambda* = sqrt(n)/N).
    """
    _check(K, L, n)
    N = K * n
    Lr = sp.Integer(L)
    return sp.sqrt(n) / (N * Lr) * ((Lr - 1) * sp.sqrt(n) / Lr) ** ((Lr - 1) / (Lr + 1))


def block_names(L: int) -> list[str]:
    """Blocks from the top: W_L, ..., W_1, H."""
    return [f"W_{l}" for l in range(L, 0, -1)] + ["H"]


@dataclass(frozen=True)
class BlockHessian:
    """The Hessian of f in one block at the global minimiser (exact).

    Eigenvalues: `outlier` with multiplicity `rank` (the rank of Hessian - lambda I) and
    `bulk` = lambda on the remaining `size - rank` directions.
    """

    name: str
    shape: tuple[int, int] | None
    rank: int
    outlier: sp.Expr | None
    bulk: sp.Expr

    def to_json(self) -> dict:
        return {"name": self.name, "shape": self.shape, "rank": self.rank,
                "outliers": [] if self.outlier is None else [float(self.outlier)] * self.rank,
                "outlier": None if self.outlier is None else float(self.outlier),
                "bulk": float(self.bulk)}


@dataclass(frozen=True)
class UfmOptimum:
    """Global minimiser of the deep linear square-loss UFM (all values exact SymPy numbers).

    Attributes:
        K, L, n, width: the setting (width None when not given); N = K n.
        weight_decay: lambda, exact.
        roots: positive roots of p(s), increasing (exact CRootOf / radicals).
        s: the common non-zero singular value of every factor (0 when collapsed to zero).
        loss: the optimal loss K g(s).
        threshold: lambda* (weight_decay_threshold).
        tie: True when the zero solution and the root have the same loss (lambda = lambda*).
        hessian: one BlockHessian per block, from the top (W_L .. W_1, H).
    """

    K: int
    L: int
    n: int
    width: int | None
    weight_decay: sp.Expr
    roots: tuple[sp.Expr, ...]
    s: sp.Expr
    loss: sp.Expr
    threshold: sp.Expr
    tie: bool
    hessian: tuple[BlockHessian, ...]

    @property
    def N(self) -> int:
        return self.K * self.n

    def g(self, s) -> sp.Expr:
        """The per-direction loss g(s)."""
        return _g(self.L, self.n, self.N, self.weight_decay, s)

    def loss_of_rank(self, r: int) -> sp.Expr:
        """Loss of the critical point with r directions at s and K - r at 0."""
        if not 0 <= r <= self.K:
            raise ValueError(f"rank must be in 0..K = {self.K}, got {r}")
        root = self.roots[-1] if self.roots else sp.Integer(0)
        return r * self.g(root) + (self.K - r) * self.g(0)

    def singular_values(self) -> list[list[sp.Expr]]:
        """Non-zero-padded singular values of each factor (K of them; all equal to s)."""
        return [[self.s] * self.K for _ in block_names(self.L)]

    def to_json(self) -> dict:
        return {
            "K": self.K, "L": self.L, "n": self.n, "N": self.N, "width": self.width,
            "weight_decay": float(self.weight_decay),
            "roots": [float(r) for r in self.roots],
            "s": float(self.s), "s_exact": sp.sstr(self.s),
            "loss_closed_form": float(self.loss),
            "lambda_threshold": float(self.threshold),
            "tie": self.tie,
            "singular_values": {name: [float(v) for v in sv] for name, sv in
                                zip(block_names(self.L), self.singular_values(), strict=True)},
            "hessian": {b.name: b.to_json() for b in self.hessian},
        }


def _g(L, n, N, lam, s):
    return (s ** (L + 1) - sp.sqrt(n)) ** 2 / (2 * N) + lam * (L + 1) * s**2 / 2


def ufm_optimum(K: int, L: int, n: int, weight_decay, width: int | None = None) -> UfmOptimum:
    """The global minimiser of the deep linear UFM with square loss (exact).

    Args:
        K: classes (>= 2). L: weight matrices (>= 1; L + 1 factors with H).
        n: samples per class (>= 1). weight_decay: lambda > 0 (floats read as decimals).
        width: d >= K (only fixes the block shapes).

    Returns:
        UfmOptimum. The positive roots of p(s) are found exactly as the positive real roots of
        the rational polynomial (s^(2L) + N lambda)^2 - n s^(2L-2) (same positive roots, as both
        sides of s^(2L) + N lambda = sqrt(n) s^(L-1) are positive there).

    Raises:
        ValueError: on K < 2, L < 1, n < 1, width < K, weight_decay <= 0 or not finite.

    Reference: Garrod & Keating, arXiv 2404.06106 (deep linear UFM, square loss).
    """
    lam = _check(K, L, n, weight_decay, width)
    N = K * n
    s = _S
    rational = sp.Poly(sp.expand((s ** (2 * L) + N * lam) ** 2 - n * s ** (2 * L - 2)), s)
    if all(c.is_rational for c in rational.all_coeffs()):
        roots = sorted({r for r in sp.real_roots(rational) if r.is_positive},
                       key=lambda r: r.evalf(_DIGITS))
    else:  # irrational lambda: roots numerically, to _DIGITS digits
        roots = sorted({sp.Float(r, _DIGITS) for r in sp.Poly(rational, s).nroots(n=_DIGITS)
                        if r.is_real and r > 0}, key=float)
    p = singular_value_polynomial(L, n, N, lam, s)
    roots = [r for r in roots if abs(p.subs(s, r).evalf(_DIGITS)) < sp.Float("1e-30")]
    candidates = [sp.Integer(0), *roots]
    losses = [K * _g(L, n, N, lam, c) for c in candidates]
    values = [v.evalf(_DIGITS) for v in losses]
    best = min(range(len(candidates)), key=lambda i: values[i])
    tie = any(i != best and abs(values[i] - values[best]) < _TIE for i in range(len(values)))
    s_opt = candidates[best]
    hessian = _hessian_blocks(K, L, n, width, lam, s_opt)
    return UfmOptimum(K=K, L=L, n=n, width=width, weight_decay=lam, roots=tuple(roots), s=s_opt,
                      loss=losses[best], threshold=weight_decay_threshold(K, L, n), tie=tie,
                      hessian=hessian)


def _hessian_blocks(K, L, n, width, lam, s) -> tuple[BlockHessian, ...]:
    N = K * n
    d = width
    blocks = []
    for name in block_names(L):
        if name == "H":
            shape = None if d is None else (d, N)
            rank = K * N
        else:
            l = int(name[2:])
            shape = None if d is None else ((K if l == L else d), d)
            rank = K * K
        if s == 0:
            blocks.append(BlockHessian(name, shape, 0, None, lam))
        else:
            outlier = lam + s ** (2 * L) / N
            blocks.append(BlockHessian(name, shape, rank, outlier, lam))
    return tuple(blocks)
