"""Symmetry certificates for vanishing conditional moments.

A signed permutation S of the coordinates (S z)_i = s_i z_{p(i)} with

    f(S z) - m = tau (f(z) - m),   tau in {+1, -1},  m = E[f],

leaves the law of z invariant, so the joint law of (y~, z) with y~ = y - m is invariant under
(y~, z) -> (tau y~, S z). If S also fixes every vector of a subspace U, then for every power m
of the label and every order k the tensor H(z_U) = E[y~^m He_k(z_perp) | z_U] (a symmetric
k-tensor on U^perp) satisfies S^{(k)} H = tau^m H. When the only symmetric k-tensor on U^perp
satisfying all these constraints is 0, the conditional moment vanishes identically: that is
the certificate (docs/theory.md §3.7: "a symmetry of the joint law of (y, z_U) that flips
z_perp"). Only signed permutations of the coordinates in which the target is written are
searched (all 2^k k! of them for k <= 4, sign flips and transpositions beyond).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy as sp

from ..algebra import Poly, Subspace, mul

__all__ = ["SignedPermutation", "find_symmetries", "symmetric_tensor_space_dim"]


@dataclass(frozen=True)
class SignedPermutation:
    """(S z)_i = signs[i] * z_{perm[i]}, with the label action tau (+1 or -1)."""

    perm: tuple[int, ...]
    signs: tuple[int, ...]
    tau: int

    def matrix(self) -> list[list[int]]:
        k = len(self.perm)
        return [[self.signs[i] if j == self.perm[i] else 0 for j in range(k)] for i in range(k)]

    def apply(self, v) -> tuple:
        """S v for a vector v."""
        return tuple(self.signs[i] * v[self.perm[i]] for i in range(len(v)))

    def fixes(self, U: Subspace) -> bool:
        for b in U.basis:
            sb = self.apply(b)
            if U.scalars.kind == "float":
                if max(abs(float(x) - float(y)) for x, y in zip(sb, b, strict=True)) > 1e-12:
                    return False
            elif any(sp.simplify(x - y) != 0 if isinstance(x, sp.Expr) else x != y
                     for x, y in zip(sb, b, strict=True)):
                return False
        return True

    def __str__(self) -> str:
        k = len(self.perm)
        images = ", ".join(f"{'-' if self.signs[i] < 0 else ''}z{self.perm[i] + 1}"
                           for i in range(k))
        return f"z -> ({images}), y~ -> {'' if self.tau > 0 else '-'}y~"


def _candidates(k: int):
    if k <= 4:
        for perm in itertools.permutations(range(k)):
            for signs in itertools.product((1, -1), repeat=k):
                yield perm, signs
        return
    ident = tuple(range(k))
    for signs in itertools.product((1, -1), repeat=k):
        if sum(1 for s in signs if s < 0) <= 2:
            yield ident, signs
    for i, j in itertools.combinations(range(k), 2):
        perm = list(ident)
        perm[i], perm[j] = j, i
        yield tuple(perm), (1,) * k


def _act_poly(p: Poly, perm, signs) -> Poly:
    out = {}
    for e, c in p.items():
        new = [0] * len(e)
        sign = 1
        for i, a in enumerate(e):
            new[perm[i]] += a
            if signs[i] < 0 and a % 2:
                sign = -sign
        out[tuple(new)] = c * sign
    return out


def _canonical(expr: sp.Expr) -> sp.Expr:
    expr = expr.replace(lambda e: isinstance(e, sp.Heaviside),
                        lambda e: (1 + sp.sign(e.args[0])) / 2)
    return sp.expand(expr)


def find_symmetries(centred, variables, polynomial: Poly | None) -> tuple[SignedPermutation, ...]:
    """The signed permutations S with y~(S z) = +- y~(z), y~ = f - E[f].

    Args:
        centred: the SymPy expression of y~ (used when polynomial is None).
        variables: (z1, ..., zk).
        polynomial: y~ as a sparse polynomial (fast exact check), or None.
    """
    k = len(variables)
    out = []
    base = None if polynomial is not None else _canonical(centred)
    for perm, signs in _candidates(k):
        if perm == tuple(range(k)) and all(s == 1 for s in signs):
            continue
        if polynomial is not None:
            acted = _act_poly(polynomial, perm, signs)
            if acted == polynomial:
                out.append(SignedPermutation(perm, signs, 1))
            elif acted == {e: -c for e, c in polynomial.items()}:
                out.append(SignedPermutation(perm, signs, -1))
            continue
        rep = {variables[i]: signs[i] * variables[perm[i]] for i in range(k)}
        acted = _canonical(centred.xreplace(rep))
        if sp.expand(acted - base) == 0:
            out.append(SignedPermutation(perm, signs, 1))
        elif sp.expand(acted + base) == 0:
            out.append(SignedPermutation(perm, signs, -1))
    return tuple(out)


def _monomials(s: int, k: int):
    return [tuple(sum(1 for x in combo if x == i) for i in range(s))
            for combo in itertools.combinations_with_replacement(range(s), k)]


def symmetric_tensor_space_dim(symmetries, U: Subspace, perp: Subspace, order: int,
                               parity: int) -> tuple[int, list[SignedPermutation]]:
    """Dimension of {H symmetric order-tensor on U^perp : S^{(order)} H = tau_S^parity H for
    every S fixing U pointwise}, and the symmetries used.

    Computed on homogeneous polynomials h(w) = H[w, ..., w] in the coordinates w of an
    orthogonal basis c_i of U^perp: h(A w) = tau^parity h(w), A_ji = (S c_i . c_j) / |c_j|^2,
    in the subspace's scalar kind (exact for exact kinds). The admissible space is cut down
    one symmetry at a time and the search stops as soon as it is {0}.
    """
    fixing = [S for S in symmetries if S.fixes(U)]
    s = perp.dim
    if s == 0:
        return 0, fixing
    monos = _monomials(s, order)
    index = {m: i for i, m in enumerate(monos)}
    nm = len(monos)
    scalars = perp.scalars
    cs = perp.basis
    norms = [sum(x * x for x in c) for c in cs]
    zero = scalars.convert(0)
    one = scalars.convert(1)
    space = [[one if i == j else zero for i in range(nm)] for j in range(nm)]  # basis rows
    used: list[SignedPermutation] = []
    generated = {(tuple(range(U.k)), (1,) * U.k, 1)}
    for S in fixing:
        if not space:
            break
        if (S.perm, S.signs, S.tau) in generated:
            continue  # a product of symmetries already imposed: no new constraint
        generated = _closure(generated, [*used, S])
        A = [[sum(a * b for a, b in zip(S.apply(cs[i]), cs[j], strict=True)) / norms[j]
              for i in range(s)] for j in range(s)]
        sign = S.tau**parity
        lin = [{tuple(1 if t == i else 0 for t in range(s)): A[j][i] for i in range(s)
                if not scalars.is_zero(A[j][i])} for j in range(s)]
        acted = []
        for m in monos:
            poly: Poly = {(0,) * s: one}
            for j in range(s):
                for _ in range(m[j]):
                    poly = mul(poly, lin[j])
            vec = [zero] * nm
            for mono, c in poly.items():
                vec[index[mono]] = vec[index[mono]] + c
            acted.append(vec)
        # D_j = (action - sign) applied to the current basis vector v_j
        cols = []
        for v in space:
            d = [zero] * nm
            for n, vn in enumerate(v):
                if scalars.is_zero(vn):
                    continue
                for r in range(nm):
                    d[r] = d[r] + vn * acted[n][r]
                d[n] = d[n] - sign * vn
            cols.append(d)
        null = _nullspace([[cols[j][r] for j in range(len(space))] for r in range(nm)],
                          len(space), scalars)
        if len(null) < len(space):
            used.append(S)
        space = [[sum((a * v[n] for a, v in zip(coef, space, strict=True)), zero)
                  for n in range(nm)] for coef in null]
    return len(space), (used or fixing)


def _compose(a, b):
    """(S_a S_b) z for signed permutations given as (perm, signs, tau)."""
    pa, sa, ta = a
    pb, sb, tb = b
    return (tuple(pb[pa[i]] for i in range(len(pa))),
            tuple(sa[i] * sb[pa[i]] for i in range(len(pa))), ta * tb)


def _closure(elements: set, generators: list[SignedPermutation]) -> set:
    gens = [(g.perm, g.signs, g.tau) for g in generators]
    out = set(elements)
    frontier = list(out)
    while frontier:
        nxt = []
        for e in frontier:
            for g in gens:
                c = _compose(e, g)
                if c not in out:
                    out.add(c)
                    nxt.append(c)
        frontier = nxt
    return out


def _nullspace(rows: list[list], ncols: int, scalars) -> list[list]:
    """A basis of {a : rows a = 0} by Gaussian elimination in the scalar kind."""
    rows = [list(r) for r in rows]
    pivots: list[int] = []
    rank = 0
    for col in range(ncols):
        pivot = None
        best = 0.0
        for i in range(rank, len(rows)):
            if not scalars.is_zero(rows[i][col]):
                if scalars.kind != "float":
                    pivot = i
                    break
                if abs(rows[i][col]) > best:
                    pivot, best = i, abs(rows[i][col])
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        p = rows[rank][col]
        rows[rank] = [x / p for x in rows[rank]]
        for i in range(len(rows)):
            if i != rank and not scalars.is_zero(rows[i][col]):
                f = rows[i][col]
                rows[i] = [a - f * b for a, b in zip(rows[i], rows[rank], strict=True)]
                if scalars.kind == "exact":
                    rows[i] = [sp.expand(a) for a in rows[i]]
        pivots.append(col)
        rank += 1
    free = [c for c in range(ncols) if c not in pivots]
    zero = scalars.convert(0)
    one = scalars.convert(1)
    out = []
    for f in free:
        a = [zero] * ncols
        a[f] = one
        for r, pc in enumerate(pivots):
            a[pc] = -rows[r][f]
        out.append(a)
    return out
