"""Exact rational SOS certificates: rounding a numerical Gram matrix and checking it exactly.

A certificate of p >= gamma on R^n (with multiplier power s) is a rational symmetric matrix G
with

    (1 + |x|^2)^s (p(x) - gamma) = m(x)^T G m(x)     (an identity of polynomials)
    G = L D L^T, D >= 0                                (exact LDL^T over QQ)

so the left side is sum_i D_i (L^T m)_i^2, a sum of squares. Rounding follows Peyrl & Parrilo
(Theor. Comput. Sci. 409, 269, 2008): round the numerical G to rationals, then project it
exactly onto the affine space of matrices satisfying the identity. The projection for the
coefficient constraints alone is closed form: the entries G_ij with m_i m_j = x^g share the
residual of the coefficient of x^g equally. When the bound is tight the Gram matrix is
singular and rounding breaks positivity; then the known kernel (e.g. m(x*) at the
minimisers) is imposed exactly: G = Z H Z^T with Z spanning its orthogonal complement, and H
is projected onto the identity by an exact least-squares solve.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy as sp
from sympy.polys.matrices import DomainMatrix

from ._polynomial import sos_target

__all__ = ["ExactCertificate", "exact_psd", "rationalise", "round_certificate"]


def rationalise(x: float, max_denominator: int) -> Fraction:
    """The closest fraction to x with denominator <= max_denominator."""
    return Fraction(float(x)).limit_denominator(max_denominator)


def ldl(G) -> tuple[list[list[Fraction]], list[Fraction]] | None:
    """Exact LDL^T of a symmetric rational matrix, or None when it is not PSD.

    Elimination without pivoting: a negative pivot proves G is not PSD; a zero pivot is
    allowed only when the rest of its column is zero (a PSD matrix with G_kk = 0 has a zero
    row k). Every Schur complement of a PSD matrix is PSD, so this decides PSD-ness exactly.
    """
    n = len(G)
    A = [[Fraction(v) for v in row] for row in G]
    L = [[Fraction(int(i == j)) for j in range(n)] for i in range(n)]
    D = [Fraction(0)] * n
    for k in range(n):
        d = A[k][k]
        if d < 0:
            return None
        if d == 0:
            if any(A[i][k] != 0 for i in range(k + 1, n)):
                return None
            continue
        D[k] = d
        for i in range(k + 1, n):
            if A[i][k] == 0:
                continue
            lik = A[i][k] / d
            L[i][k] = lik
            Ai, Ak = A[i], A[k]
            for j in range(k + 1, n):
                if Ak[j]:
                    Ai[j] -= lik * Ak[j]
    return L, D


def exact_psd(G) -> bool:
    """Whether a symmetric rational matrix is positive semidefinite (exact)."""
    if any(G[i][j] != G[j][i] for i in range(len(G)) for j in range(i)):
        return False
    return ldl(G) is not None


def _gram_coefficients(basis, G) -> dict:
    out: dict[tuple[int, ...], Fraction] = {}
    n = len(basis)
    for i in range(n):
        for j in range(n):
            if G[i][j]:
                key = tuple(a + b for a, b in zip(basis[i], basis[j], strict=True))
                out[key] = out.get(key, Fraction(0)) + G[i][j]
    return {k: v for k, v in out.items() if v != 0}


def _rhs(b: dict, c: dict, gamma: Fraction) -> dict:
    out = dict(b)
    for k, v in c.items():
        out[k] = out.get(k, Fraction(0)) - gamma * v
    return {k: v for k, v in out.items() if v != 0}


@dataclass(frozen=True)
class ExactCertificate:
    """(1 + |x|^2)^s (p - gamma) = m^T G m with G rational and PSD: p >= gamma on R^n.

    Attributes:
        poly: the polynomial p (sympy.Poly over QQ).
        gamma: the certified lower bound (exact rational).
        multiplier: s.
        basis: exponent tuples of the monomials m.
        gram: G as a tuple of rows of Fractions.
    """

    poly: sp.Poly
    gamma: Fraction
    multiplier: int
    basis: tuple[tuple[int, ...], ...]
    gram: tuple[tuple[Fraction, ...], ...]

    def verify(self) -> bool:
        """Check the identity coefficient by coefficient and PSD-ness by exact LDL^T."""
        b, c = sos_target(self.poly, self.multiplier)
        if _gram_coefficients(self.basis, self.gram) != _rhs(b, c, self.gamma):
            return False
        return exact_psd(self.gram)

    def squares(self) -> list[tuple[sp.Rational, sp.Expr]]:
        """The decomposition as (weight d_i > 0, polynomial l_i): sum d_i l_i^2."""
        factors = ldl(self.gram)
        if factors is None:
            raise ValueError("the Gram matrix is not PSD: not a certificate")
        L, D = factors
        gens = self.poly.gens
        mono = [sp.Mul(*(g**e for g, e in zip(gens, m, strict=True))) for m in self.basis]
        out = []
        n = len(self.basis)
        for k in range(n):
            if D[k] == 0:
                continue
            lin = sum((sp.Rational(L[i][k].numerator, L[i][k].denominator) * mono[i]
                       for i in range(k, n) if L[i][k] != 0), sp.Integer(0))
            out.append((sp.Rational(D[k].numerator, D[k].denominator), sp.expand(lin)))
        return out

    def as_expr(self) -> sp.Expr:
        """sum_i d_i l_i^2 as an (unexpanded) SymPy expression."""
        return sp.Add(*(d * l**2 for d, l in self.squares()))


def _project_closed_form(basis, G, target) -> list[list[Fraction]]:
    """Orthogonal projection of G onto {A(G) = target} (the Peyrl-Parrilo closed form)."""
    n = len(basis)
    groups: dict[tuple[int, ...], list[tuple[int, int]]] = {}
    for i in range(n):
        for j in range(n):
            key = tuple(a + b for a, b in zip(basis[i], basis[j], strict=True))
            groups.setdefault(key, []).append((i, j))
    extra = set(target) - set(groups)
    if extra:
        raise ValueError(f"monomials {sorted(extra)[:3]} cannot be reached by the basis")
    G = [list(row) for row in G]
    for key, pairs in groups.items():
        r = target.get(key, Fraction(0)) - sum(G[i][j] for i, j in pairs)
        if r:
            share = r / len(pairs)
            for i, j in pairs:
                G[i][j] += share
    return G


def _complement(kernel, n) -> list[list[Fraction]]:
    """A rational basis (columns, n x (n - rank)) of the vectors orthogonal to the kernel rows."""
    K = DomainMatrix([[sp.QQ(v.numerator, v.denominator) for v in row] for row in kernel],
                     (len(kernel), n), sp.QQ)
    null = K.nullspace().to_Matrix()  # rows span {v : K v = 0}
    return [[Fraction(int(null[r, i].p), int(null[r, i].q)) for r in range(null.rows)]
            for i in range(n)]


def _project_face(basis, H0, Z, target):
    """H nearest H0 (Frobenius, upper entries) with Z H Z^T satisfying the identity, or None."""
    n, k = len(Z), len(H0)
    unknowns = [(a, b) for a in range(k) for b in range(a, k)]
    keys: dict[tuple[int, ...], int] = {}
    for i in range(n):
        for j in range(n):
            keys.setdefault(tuple(x + y for x, y in zip(basis[i], basis[j], strict=True)), len(keys))
    if set(target) - set(keys):
        return None
    slot = {(a, b): u for u, (a, b) in enumerate(unknowns)}
    nz = [[(a, v) for a, v in enumerate(Z[i]) if v] for i in range(n)]
    rows = [dict() for _ in keys]
    # coefficient of x^g in m^T Z H Z^T m = sum_{i j in g} sum_{a b} Z_ia H_ab Z_jb, with the
    # unknown H_ab = H_ba shared by the ordered pairs (a, b) and (b, a)
    for i in range(n):
        for j in range(n):
            row = rows[keys[tuple(x + y for x, y in zip(basis[i], basis[j], strict=True))]]
            for a, za in nz[i]:
                for b, zb in nz[j]:
                    u = slot[(a, b) if a <= b else (b, a)]
                    row[u] = row.get(u, Fraction(0)) + za * zb
    h0 = [H0[a][b] for a, b in unknowns]
    resid = []
    for key, g in keys.items():
        resid.append(target.get(key, Fraction(0)) - sum(w * h0[u] for u, w in rows[g].items()))
    m = len(keys)
    QQ = sp.QQ

    def q(v):
        return QQ(v.numerator, v.denominator)

    # sparse (SDM) matrices: A is m x unknowns with a few entries per row
    A = DomainMatrix({g: {u: q(w) for u, w in rows[g].items() if w} for g in range(m) if rows[g]},
                     (m, len(unknowns)), QQ)
    # minimum-norm correction: delta = A^T lam, (A A^T) lam = r (consistent when feasible)
    AAt = (A * A.transpose()).to_sdm()
    aug = {i: dict(row) for i, row in AAt.items()}
    for g, v in enumerate(resid):
        if v:
            aug.setdefault(g, {})[m] = q(v)
    rref, pivots = DomainMatrix(aug, (m, m + 1), QQ).rref()
    if m in pivots:
        return None  # inconsistent: the kernel guess is wrong
    last = rref.to_sdm()
    lam = {col: last.get(row, {}).get(m, QQ(0)) for row, col in enumerate(pivots)}
    lam_m = DomainMatrix({g: {0: v} for g, v in lam.items() if v}, (m, 1), QQ)
    delta = (A.transpose() * lam_m).to_sdm()
    H = [[Fraction(0)] * k for _ in range(k)]
    for u, (a, b) in enumerate(unknowns):
        d = delta.get(u, {}).get(0, QQ(0))
        v = h0[u] + Fraction(int(d.numerator), int(d.denominator))
        H[a][b] = H[b][a] = v
    return H


def _pinv_sandwich(Z, G):
    """(Z^T Z)^{-1} Z^T G Z (Z^T Z)^{-1} in floating point (mpmath matrices): only the starting
    point of the exact projection, so its accuracy does not matter for correctness."""
    import mpmath

    Zm = mpmath.matrix(Z)
    Gm = mpmath.matrix(G)
    ZtZ = Zm.T * Zm
    P = mpmath.inverse(ZtZ) * Zm.T
    H = P * Gm * P.T
    return [[float(H[a, b]) for b in range(H.cols)] for a in range(H.rows)]


def round_certificate(poly: sp.Poly, gamma: Fraction, basis, gram, multiplier: int = 0,
                      kernel=None, max_denominator: int = 10**6) -> ExactCertificate | None:
    """Round a numerical Gram matrix to an exact certificate of p >= gamma, or None.

    Args:
        poly: p over QQ.
        gamma: the rational bound to certify (take it slightly below the numerical optimum
            unless a kernel is given for a tight bound).
        basis: exponent tuples of the Gram basis m.
        gram: the numerical Gram matrix (floats, N x N).
        multiplier: s in (1 + |x|^2)^s (p - gamma).
        kernel: optional exact rational vectors v with G v = 0 to impose (rows of Fractions).
        max_denominator: rounding of the entries of G.

    Returns:
        ExactCertificate whose verify() is True, or None when rounding failed.
    """
    b, c = sos_target(poly, multiplier)
    target = _rhs(b, c, Fraction(gamma))
    n = len(basis)
    G = [[rationalise(gram[i][j], max_denominator) for j in range(n)] for i in range(n)]
    G = [[(G[i][j] + G[j][i]) / 2 for j in range(n)] for i in range(n)]
    if not kernel:
        try:
            G = _project_closed_form(basis, G, target)
        except ValueError:
            return None
    else:
        Z = _complement(kernel, n)
        k = len(Z[0]) if Z and Z[0] else 0
        if k == 0:
            return None
        # H0 = Z^+ G Z^+T in floats (only a starting point: the projection is exact)
        Zf = [[float(v) for v in row] for row in Z]
        H0f = _pinv_sandwich(Zf, [[float(v) for v in row] for row in G])
        H0 = [[rationalise(H0f[a][bb], max_denominator) for bb in range(k)] for a in range(k)]
        H0 = [[(H0[a][bb] + H0[bb][a]) / 2 for bb in range(k)] for a in range(k)]
        H = _project_face(basis, H0, Z, target)
        if H is None:
            return None
        nz = [[(a, v) for a, v in enumerate(Z[i]) if v] for i in range(n)]
        G = [[sum((za * H[a][bb] * zb for a, za in nz[i] for bb, zb in nz[j]), Fraction(0))
              for j in range(n)] for i in range(n)]
    cert = ExactCertificate(poly=poly, gamma=Fraction(gamma), multiplier=multiplier,
                            basis=tuple(map(tuple, basis)), gram=tuple(tuple(r) for r in G))
    return cert if cert.verify() else None
