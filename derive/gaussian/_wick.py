"""Isserlis / Wick: Gaussian moments as exact polynomials in the covariance entries."""

from __future__ import annotations

from functools import cache

import sympy as sp

__all__ = ["wick_moment"]


def wick_moment(exponents, covariance) -> sp.Expr:
    """E[prod_i u_i^{n_i}] for u ~ N(0, C), exactly (Isserlis 1918).

    Formula: the recursion E[u_i u^b] = sum_j C_ij b_j E[u^(b - e_j)] (Stein's lemma on a
    monomial), which sums over all pairings without listing them; zero for odd total degree.

    Args:
        exponents: non-negative integers n_1..n_m.
        covariance: m x m symmetric SymPy Matrix (symbols or numbers).

    Returns:
        A polynomial in the entries of C.

    Raises:
        ValueError: negative exponents or a covariance of the wrong shape.
    """
    exps = tuple(int(n) for n in exponents)
    C = sp.Matrix(covariance)
    if any(n < 0 for n in exps):
        raise ValueError(f"exponents must be >= 0, got {exps}")
    if C.shape != (len(exps), len(exps)):
        raise ValueError(f"covariance must be {len(exps)} x {len(exps)}, got {C.shape}")

    # work with one placeholder per distinct entry: expanding products of large entries
    # (covariances updated by the reduction rules) is what would cost
    entries = {}
    for i in range(C.shape[0]):
        for j in range(C.shape[1]):
            e = C[i, j]
            if not (e.is_Symbol or e.is_Number):
                entries.setdefault(e, sp.Dummy(f"c{i}{j}"))
    back = {d: e for e, d in entries.items()}
    C = C.xreplace(entries)

    @cache
    def moment(b: tuple[int, ...]) -> sp.Expr:
        if sum(b) % 2:
            return sp.Integer(0)
        if sum(b) == 0:
            return sp.Integer(1)
        i = next(j for j, n in enumerate(b) if n)
        rest = list(b)
        rest[i] -= 1
        total = sp.Integer(0)
        for j, n in enumerate(rest):
            if n and C[i, j] != 0:
                lower = list(rest)
                lower[j] -= 1
                total += n * C[i, j] * moment(tuple(lower))
        return sp.expand(total)

    return moment(exps).xreplace(back)
