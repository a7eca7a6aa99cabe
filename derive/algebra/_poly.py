"""Sparse polynomials as {exponent tuple: coefficient}, and the Hermite leading form.

The Hermite leading form of g is the polynomial

    G(z) = sum_alpha c_alpha(g) z^alpha = E_xi[g(z + xi)],  xi ~ N(0, I),

(the Gaussian smoothing e^{Delta/2} g; its Taylor coefficients are the Hermite coefficients
c_alpha = E[d^alpha g] / alpha!). Its degree-n homogeneous part is C_n[z, ..., z] / n! with
C_n = E[g He_n] the Hermite tensor, so rotations of z act on G by substitution: the Hermite
coefficients of g(Q z) are those of G(Q z). Coefficients may be Fractions, SymPy expressions
or floats (any field with + and *).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from fractions import Fraction

import sympy as sp

__all__ = ["Poly", "from_sympy", "leading_form", "mul", "power", "substitute"]

Exps = tuple[int, ...]
Poly = dict[Exps, object]


def from_sympy(expr: sp.Expr, variables: Sequence[sp.Symbol], convert) -> Poly:
    """A polynomial SymPy expression as a sparse dict, coefficients passed through convert."""
    p = sp.Poly(sp.expand(expr), *variables)
    return {tuple(m): convert(c) for m, c in p.terms() if c != 0}


def _add_to(out: Poly, exps: Exps, c) -> None:
    if exps in out:
        s = out[exps] + c
        if s == 0 and not isinstance(s, float):
            del out[exps]
        else:
            out[exps] = s
    else:
        out[exps] = c


def mul(p: Poly, q: Poly) -> Poly:
    out: Poly = {}
    for e1, c1 in p.items():
        for e2, c2 in q.items():
            _add_to(out, tuple(a + b for a, b in zip(e1, e2, strict=True)), c1 * c2)
    return out


def power(p: Poly, m: int, k: int) -> Poly:
    out: Poly = {(0,) * k: Fraction(1) if _is_fraction_poly(p) else 1}
    for _ in range(m):
        out = mul(out, p)
    return out


def _is_fraction_poly(p: Poly) -> bool:
    return all(isinstance(c, Fraction) for c in p.values())


def leading_form(p: Poly) -> Poly:
    """G = E_xi[p(z + xi)] = sum_j (Delta / 2)^j p / j!, exact for polynomials."""
    out: Poly = {}
    for exps, c in p.items():
        # E[prod_i (z_i + xi_i)^{a_i}] = prod_i sum_j binom(a_i, 2j) (2j - 1)!! z_i^{a_i - 2j}
        factors = []
        for a in exps:
            terms = []
            for j in range(a // 2 + 1):
                terms.append((a - 2 * j, _smooth_coeff(a, j)))
            factors.append(terms)
        for combo in itertools.product(*factors):
            e = tuple(t[0] for t in combo)
            w = 1
            for t in combo:
                w *= t[1]
            _add_to(out, e, c * w)
    return out


def _smooth_coeff(a: int, j: int) -> int:
    # binom(a, 2j) (2j-1)!! = a! / ((a - 2j)! j! 2^j)
    num = 1
    for t in range(a - 2 * j + 1, a + 1):
        num *= t
    den = 1
    for t in range(1, j + 1):
        den *= 2 * t
    return num // den


def substitute(p: Poly, forms: Sequence[Poly], nvars: int, split: int, max_tail: int) -> Poly:
    """p(L_1(u), ..., L_k(u)) with linear forms L_i in nvars variables, keeping only the terms
    whose degree in the variables u[split:] is at most max_tail."""

    def tail(e: Exps) -> int:
        return sum(e[split:])

    def tmul(a: Poly, b: Poly) -> Poly:
        out: Poly = {}
        for e1, c1 in a.items():
            t1 = tail(e1)
            for e2, c2 in b.items():
                if t1 + tail(e2) > max_tail:
                    continue
                _add_to(out, tuple(x + y for x, y in zip(e1, e2, strict=True)), c1 * c2)
        return out

    one = {(0,) * nvars: 1}
    cache: dict[tuple[int, int], Poly] = {}

    def pw(i: int, a: int) -> Poly:
        if a == 0:
            return one
        key = (i, a)
        if key not in cache:
            cache[key] = tmul(pw(i, a - 1), forms[i])
        return cache[key]

    out: Poly = {}
    for exps, c in p.items():
        term: Poly = {(0,) * nvars: c}
        for i, a in enumerate(exps):
            if a:
                term = tmul(term, pw(i, a))
                if not term:
                    break
        for e, v in term.items():
            _add_to(out, e, v)
    return out


def taylor_at(p: Poly, point: Sequence, order: int) -> Poly:
    """The Taylor polynomial of p at `point` in the shift h, to total degree `order`:
    p(point + h) = sum_{|j| <= order} d^j p(point) h^j / j! + O(|h|^{order + 1})."""
    k = len(point)
    out: Poly = {}
    binoms: dict[tuple[int, int], list] = {}
    for exps, c in p.items():
        per_var = []
        for l, a in enumerate(exps):
            key = (l, a)
            if key not in binoms:
                x = point[l]
                binoms[key] = [(j, _binom(a, j) * x ** (a - j)) for j in range(min(a, order) + 1)
                               if x != 0 or j == a]
            per_var.append(binoms[key])
        partial: list[tuple[tuple, int, object]] = [((), 0, c)]
        for l in range(k):
            nxt = []
            for e, deg, v in partial:
                for j, b in per_var[l]:
                    if deg + j <= order:
                        nxt.append(((*e, j), deg + j, v * b))
            partial = nxt
        for e, _, v in partial:
            _add_to(out, e, v)
    return out


def _binom(a: int, j: int) -> int:
    out = 1
    for t in range(j):
        out = out * (a - t) // (t + 1)
    return out
