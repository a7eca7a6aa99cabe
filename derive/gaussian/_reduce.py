"""The one routine consuming the closed-form table: E[prod of factors] for u ~ N(0, K).

Factors are triples (kind, index, s): kind in the table's KINDS, or "delta" (Dirac delta),
or "w" (the Gaussian weight exp(-s x^2 / 2)). The routine first looks the whole product up
in CLOSED_FORMS; otherwise it applies exact Gaussian identities that shrink the product:

- a Gaussian weight is absorbed into the covariance:
  E[F exp(-s u_v^2/2)] = (1 + s K_vv)^{-1/2} E'[F],  K' = K - s K_v K_v^T / (1 + s K_vv);
  g'(x) = sqrt(2/pi) exp(-x^2/2) is such a weight;
- a delta conditions: E[F delta(u_v)] = (2 pi K_vv)^{-1/2} E[F | u_v = 0];
- relu(x) = x step(x);
- Stein's lemma removes a polynomial factor: E[u_i H] = sum_j K_ij E[d_j H], with
  d g = g', d step = delta, d x = 1;
- what is left is a monomial (Isserlis) or a product found in the table;
- an odd integrand (only g and x factors, odd count) is 0.

Each step is exact, so the result is exact; None means "no closed form found".
"""

from __future__ import annotations

import sympy as sp

from ._table import CLOSED_FORMS, KINDS
from ._wick import wick_moment

__all__ = ["reduce_factors"]

_ODD = {"g", "lin"}
_EVEN = {"dg", "w", "delta"}
_DERIVATIVE = {"g": "dg", "step": "delta", "lin": None}


def _merge(factors):
    """Merge factors of one variable: step^2 = step, relu step = relu, relu^2 = x relu."""
    out, by_var = [], {}
    for f in factors:
        by_var.setdefault(f[1], []).append(f)
    for v, fs in by_var.items():
        kinds = [f[0] for f in fs]
        n_step, n_relu = kinds.count("step"), kinds.count("relu")
        others = [f for f in fs if f[0] not in ("step", "relu")]
        if n_relu:
            others += [("lin", v, None)] * (n_relu - 1) + [("relu", v, None)]
        elif n_step:
            others.append(("step", v, None))
        out.extend(others)
    return out


def _is_odd(factors) -> bool:
    kinds = [f[0] for f in factors]
    if any(k not in _ODD | _EVEN for k in kinds):
        return False
    return sum(k in _ODD for k in kinds) % 2 == 1


def reduce_factors(factors, K: sp.Matrix) -> sp.Expr | None:
    """E[prod factors(u)] for u ~ N(0, K), exact, or None when no closed form is found.

    Args:
        factors: sequence of (kind, index into K, s) triples (module docstring).
        K: symmetric SymPy Matrix.
    """
    key = (tuple(sorted(factors, key=str)), sp.ImmutableMatrix(K))
    if key not in _MEMO:
        if len(_MEMO) >= _MEMO_SIZE:  # bounded: start afresh rather than grow
            _MEMO.clear()
        _MEMO[key] = _reduce(list(factors), K)
    return _MEMO[key]


_MEMO: dict = {}
_MEMO_SIZE = 4096


def _reduce(factors, K: sp.Matrix) -> sp.Expr | None:
    factors = _merge(factors)
    if _is_odd(factors):
        return sp.Integer(0)
    if not factors:
        return sp.Integer(1)
    kinds = tuple(sorted(f[0] for f in factors))
    row = CLOSED_FORMS.get(kinds)
    if row is not None:
        slots = [f[1] for f in sorted(factors, key=lambda f: f[0])]
        return row.evaluate(K.extract(slots, slots))
    for i, (kind, v, _) in enumerate(factors):
        if kind == "relu":
            rest = factors[:i] + factors[i + 1:] + [("lin", v, None), ("step", v, None)]
            return reduce_factors(rest, K)
    for i, (kind, v, s) in enumerate(factors):
        if kind in ("dg", "w"):
            c, s = (sp.sqrt(2 / sp.pi), sp.Integer(1)) if kind == "dg" else (1, s)
            denom = 1 + s * K[v, v]
            r = reduce_factors(factors[:i] + factors[i + 1:],
                               K - s * K[:, v] * K[v, :] / denom)
            return None if r is None else c / sp.sqrt(denom) * r
    for i, (kind, v, _) in enumerate(factors):
        if kind == "delta":
            rest = factors[:i] + factors[i + 1:]
            same = [f[0] for f in rest if f[1] == v]
            if any(k in ("step", "delta") for k in same):
                return None  # step(0) or delta(0): not a function
            if same:
                return sp.Integer(0)  # x, g(x), relu(x) vanish at x = 0
            r = reduce_factors(rest, K - K[:, v] * K[v, :] / K[v, v])
            return None if r is None else r / sp.sqrt(2 * sp.pi * K[v, v])
    lins = [f for f in factors if f[0] == "lin"]
    heads = [f for f in factors if f[0] != "lin"]
    if not heads:
        exps = [0] * K.shape[0]
        for f in lins:
            exps[f[1]] += 1
        return wick_moment(exps, K)
    if not lins or any(f[0] not in KINDS for f in heads):
        return None
    i = lins[0][1]
    rest = factors[:]
    rest.remove(lins[0])
    total = sp.Integer(0)
    for m, (kind, v, _) in enumerate(rest):
        if K[i, v] == 0:
            continue
        d = _DERIVATIVE.get(kind, False)
        if d is False:
            return None
        new = rest[:m] + ([] if d is None else [(d, v, None)]) + rest[m + 1:]
        r = reduce_factors(new, K)
        if r is None:
            return None
        total += K[i, v] * r
    return total
