"""Hermite expansions f = sum_alpha c_alpha He_alpha(z), c_alpha = E[f He_alpha] / alpha!.

Routes, per additive term of f (docs/theory.md §1.4 and §2):

- the polynomial part: exact through the monomial -> Hermite change of basis;
- separable products g_1(z_i1) g_2(z_i2) ... (after sign(prod) -> prod sign, |prod| -> prod |.|,
  exp(sum) -> prod exp): products of exact univariate integrals (derive/hermite/_univariate.py);
- ridge functions g(v . z): E[g(v.z) He_alpha(z)] = v^alpha r^{-n} E[g(r u) He_n(u)], r = |v|,
  n = |alpha| (Stein's identity along v);
- everything else: Gauss-Hermite quadrature on the coordinates the term involves (float64
  tensor grid, or mpmath at a requested precision for one or two coordinates), with an error
  bound from two grid sizes. Such a coefficient has exact = None.

A coefficient is called zero when it is exactly zero, when a parity symmetry of the term
proves it (recorded in `status`), or when a numerical value is below `tol` (recorded too).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

import mpmath
import numpy as np
import scipy.special
import sympy as sp

from ..gaussian import hermite_rule
from ..targets import Target, hermite_he
from ._univariate import exact_moments, monomial_to_hermite

__all__ = ["Coefficient", "Expansion", "hermite_expansion"]

Alpha = tuple[int, ...]


@dataclass(frozen=True)
class Coefficient:
    """One Hermite coefficient c_alpha = E[f He_alpha] / alpha!.

    Attributes:
        alpha: the multi-index.
        exact: the exact value (SymPy), or None when only a numerical value is known.
        value: float value (None when it depends on symbolic parameters).
        error: estimated bound on |value - true value| (0 for exact values; for quadrature
            a heuristic from two grids, docs/theory.md §2.2).
        status: "exact", "numeric", "zero (exact)", "zero (parity in z2)" or
            "zero (below tolerance 1e-12)".
    """

    alpha: Alpha
    exact: sp.Expr | None
    value: float | None
    error: float
    status: str

    @property
    def is_zero(self) -> bool:
        return self.status.startswith("zero")

    @property
    def is_exact(self) -> bool:
        return self.exact is not None

    @property
    def degree(self) -> int:
        return sum(self.alpha)


PRECISION_RANGE = (8, 60)
"""Accepted `precision` of hermite_expansion, in significant digits (mpmath)."""


def _alpha_factorial(alpha: Alpha) -> int:
    return math.prod(math.factorial(a) for a in alpha)


def _alphas(k: int, max_degree: int) -> Iterator[Alpha]:
    for n in range(max_degree + 1):
        for combo in itertools.combinations_with_replacement(range(k), n):
            alpha = [0] * k
            for i in combo:
                alpha[i] += 1
            yield tuple(alpha)


@dataclass(frozen=True)
class Expansion:
    """The Hermite expansion of a target up to `max_degree` (immutable).

    Index with a multi-index: ``expansion[(1, 0, 2)]`` -> Coefficient.
    """

    target: Target
    max_degree: int
    coefficients: Mapping[Alpha, Coefficient] = field(repr=False)
    complete: bool = False
    notes: tuple[str, ...] = ()

    def __getitem__(self, alpha) -> Coefficient:
        alpha = tuple(int(a) for a in alpha)
        if len(alpha) != self.target.k:
            raise ValueError(f"multi-index {alpha} must have k = {self.target.k} entries")
        if alpha in self.coefficients:
            return self.coefficients[alpha]
        if self.complete or sum(alpha) <= self.max_degree:
            return Coefficient(alpha, sp.Integer(0), 0.0, 0.0, "zero (exact)")
        raise KeyError(f"degree {sum(alpha)} is beyond max_degree = {self.max_degree}")

    def __iter__(self) -> Iterator[Coefficient]:
        return iter(self.coefficients.values())

    @property
    def k(self) -> int:
        return self.target.k

    @property
    def exact(self) -> bool:
        """Whether every coefficient is exact."""
        return all(c.is_exact for c in self.coefficients.values())

    def nonzero(self) -> list[Coefficient]:
        """The coefficients not known to vanish, by degree then multi-index."""
        return sorted((c for c in self.coefficients.values() if not c.is_zero),
                      key=lambda c: (c.degree, tuple(-a for a in c.alpha)))

    def degree_mass(self, n: int) -> sp.Expr | float:
        """E[(P_n f)^2] = sum_{|alpha| = n} alpha! c_alpha^2 (exact when the coefficients are)."""
        cs = [c for c in self.coefficients.values() if c.degree == n and not c.is_zero]
        if all(c.is_exact for c in cs):
            return sp.nsimplify(sum((_alpha_factorial(c.alpha) * c.exact**2 for c in cs),
                                    sp.Integer(0))) if not cs else \
                sp.simplify(sum(_alpha_factorial(c.alpha) * c.exact**2 for c in cs))
        return float(sum(_alpha_factorial(c.alpha) * c.value**2 for c in cs))

    def tensor_entry(self, indices: tuple[int, ...]) -> Coefficient:
        """The coefficient c_alpha(i) behind the tensor entry (C_n)_{i1..in} = alpha! c_alpha,
        with alpha(i) the counts of each index in (i1..in)."""
        alpha = [0] * self.k
        for i in indices:
            alpha[i] += 1
        return self[tuple(alpha)]

    def image(self, k: int):
        """Im(C_k), the column space of the unfolding of C_k, as a Subspace: its rank is
        `.dim`, `.orthonormal()` an orthonormal basis (exact when the coefficients are)."""
        from ._tensor import hermite_image

        return hermite_image(self, k)

    def _repr_latex_(self) -> str:
        from .._display import expansion_latex

        return expansion_latex(self)

    def _repr_html_(self) -> str:
        from .._display import html_table

        # value None: a coefficient that depends on a symbolic parameter (its exact form shows)
        rows = [[c.alpha, "" if c.exact is None else c.exact,
                 "" if c.value is None else f"{c.value:.8g}",
                 f"{c.error:.2g}", c.status] for c in self.nonzero()]
        return html_table(["alpha", "exact", "value", "error", "status"], rows,
                          caption=f"Hermite expansion of {self.target} up to degree "
                                  f"{self.max_degree}" + (" (complete)" if self.complete else ""))

    def to_sympy(self) -> sp.Expr:
        """sum_alpha c_alpha He_alpha(z) over the exact coefficients."""
        zs = self.target.variables
        total = sp.Integer(0)
        for c in self.nonzero():
            if c.exact is None:
                raise ValueError("to_sympy needs exact coefficients; this expansion has numeric ones")
            total += c.exact * sp.Mul(*[hermite_he(a, z) for a, z in zip(c.alpha, zs, strict=True)])
        return total

    def to_json(self) -> dict:
        """{"target", "variables", "max_degree", "complete", "coefficients": [...]} (non-zero)."""
        return {
            "target": str(self.target),
            "variables": [str(v) for v in self.target.variables],
            "parameters": [str(p) for p in self.target.parameters],
            "max_degree": self.max_degree,
            "complete": self.complete,
            "notes": list(self.notes),
            "coefficients": [
                {
                    "alpha": list(c.alpha),
                    "exact": None if c.exact is None else str(c.exact),
                    "value": c.value,
                    "error": c.error,
                    "status": c.status,
                }
                for c in self.nonzero()
            ],
        }


# --- term decomposition --------------------------------------------------------------------


def _split_products(expr: sp.Expr) -> sp.Expr:
    """sign(a b) -> sign(a) sign(b), |a b| -> |a| |b|, exp(a + b) -> exp(a) exp(b)."""

    def rule(e):
        if isinstance(e, sp.sign | sp.Abs) and e.args[0].is_Mul:
            return sp.Mul(*[e.func(f) for f in e.args[0].args])
        if isinstance(e, sp.exp) and e.args[0].is_Add:
            return sp.Mul(*[sp.exp(a) for a in e.args[0].args])
        return e

    return expr.replace(lambda e: isinstance(e, sp.sign | sp.Abs | sp.exp), rule)


def _free_vars(e: sp.Expr, zs) -> frozenset:
    return frozenset(e.free_symbols & set(zs))


def _groups(factors: list[sp.Expr], zs) -> list[tuple[frozenset, sp.Expr]]:
    """Merge factors sharing variables into independent groups (connected components)."""
    groups: list[tuple[frozenset, sp.Expr]] = []
    for f in factors:
        vs = _free_vars(f, zs)
        merged_vars, merged_expr = vs, f
        rest = []
        for gv, ge in groups:
            if gv & merged_vars:
                merged_vars |= gv
                merged_expr *= ge
            else:
                rest.append((gv, ge))
        groups = [*rest, (merged_vars, merged_expr)]
    return groups


def _ridge(expr: sp.Expr, vars_: tuple[sp.Symbol, ...]):
    """expr = g(v . z) with a linear argument? -> (g as a function of a symbol t, v) or None."""
    heads = [a for a in sp.preorder_traversal(expr) if isinstance(a, sp.Function | sp.Pow)
             and _free_vars(a, vars_)]
    args = set()
    for h in heads:
        if isinstance(h, sp.Function):
            args.add(sp.expand(h.args[0]) if len(h.args) == 1 else None)
    args.discard(None)
    if len(args) != 1:
        return None
    lin = args.pop()
    if not lin.is_polynomial(*vars_) or sp.Poly(lin, *vars_).total_degree() != 1:
        return None
    poly = sp.Poly(lin, *vars_)
    if poly.coeff_monomial(1) != 0:
        return None
    v = [poly.coeff_monomial(z) for z in vars_]
    t = sp.Dummy("t", real=True)
    g = expr.subs(lin, t)
    if g.free_symbols & set(vars_):
        return None
    return g, v, t


# --- numerical quadrature ------------------------------------------------------------------


@lru_cache(maxsize=32)
def _gh_rule(n: int):
    """The one-dimensional probabilists' Gauss-Hermite rule (escalier.derive.gaussian's)."""
    nodes, weights = hermite_rule(n, 1)
    return nodes[:, 0], weights


def _he_table(x: np.ndarray, nmax: int) -> np.ndarray:
    out = np.empty((nmax + 1, *x.shape))
    out[0] = 1.0
    if nmax >= 1:
        out[1] = x
    for n in range(1, nmax):
        out[n + 1] = x * out[n] - n * out[n - 1]
    return out


def _grid_moments(func, m: int, nmax: int, n_nodes: int, size: bool = False):
    """E[h(z) He_beta(z)] for every beta in {0..nmax}^m on an n_nodes^m Gauss-Hermite grid;
    with `size`, the pair (moments, the grid sums of |h w He_beta|: the size of the summed
    terms) from the same evaluation of h."""
    x, w = _gh_rule(n_nodes)
    grids = np.meshgrid(*([x] * m), indexing="ij")
    weights = np.ones_like(grids[0]) if m else np.ones(())
    for i in range(m):
        weights = weights * w.reshape([-1 if j == i else 1 for j in range(m)])
    with np.errstate(all="ignore"):
        vals = np.broadcast_to(np.asarray(func(*grids), dtype=float), grids[0].shape)
    if not np.all(np.isfinite(vals)):
        raise ValueError("the target is not finite on the quadrature grid")
    he = _he_table(x, nmax)  # (nmax+1, n_nodes)
    t = vals * weights

    def contract(t, he):
        for _ in range(m):  # contract one axis at a time: result axes become degrees
            t = np.tensordot(t, he, axes=([0], [1]))
        return t

    if size:
        return contract(t, he), contract(np.abs(t), np.abs(he))
    return contract(t, he)


_NODES = {1: (150, 240), 2: (120, 180), 3: (40, 60), 4: (24, 32)}
_SAFETY = {1: 1.0, 2: 1.0, 3: 10.0, 4: 10.0}
_SAFETY_JUMP = 10.0
# jumps, and kinks (|z|, max, min: exp(-|z1|)'s grid difference is 0.6 of its error too)
_JUMPS = (sp.Heaviside, sp.sign, sp.Piecewise, sp.floor, sp.ceiling, sp.Abs, sp.Max, sp.Min)


def _numeric_moments(expr: sp.Expr, vars_: tuple[sp.Symbol, ...], nmax: int):
    """Moment table and an error estimate from two Gauss-Hermite grids (float64).

    The estimate is the difference of the two grids, times SAFETY[m]: with one or two
    coordinates the difference bounds the error of the finer grid (checked against
    mpmath and 300-node grids: at most half of it on tanh(z1 + 1/2), tanh(z1 z2 + z1/2));
    with three or four the grids are coarse and their convergence is not monotone, and the
    difference underestimated the error by up to 6x on tanh(z1 z2 z3 + z2/2) (against a
    200-node grid), hence the factor 10 (tests/derive/test_hermite_numeric.py). A jump
    (Heaviside, sign, a Piecewise) slows Gauss-Hermite to O(1/nodes), where the difference
    of the two grids is 0.6 of the finer grid's error (heaviside(z1 + sin z1), whose exact
    coefficients are those of heaviside(z1): reported 4.1e-4 against a true 6.8e-4 on c_1
    with the factor 1), so a term with a jump gets the factor 10 at every m
    (tests/derive/test_hermite_mutations.py). A kink (Abs, Max, Min) converges at the same
    rate: exp(-|z1|) was reported 8.2e-4 against a true 1.37e-3 on c_0 with the factor 1
    (tests/derive/test_hermite_expansion_mutations.py), so it gets the factor 10 too.
    The floor 1e-15 (1 + S), S the grid sum of |h w He_beta|, is float64's rounding of the
    grid sums: the two grids can round alike, and the rounding scales with the summed terms,
    not with the result (sqrt(10**12 + tanh(z1)): c_5 ~ 2.9e-9 is a sum of terms of size
    10^6, rounded by 1.4e-12, where a floor 1e-15 (1 + |value|) reported 8.6e-14;
    tests/derive/test_hermite_expansion_mutations.py)."""
    m = len(vars_)
    if m > 4:
        raise ValueError(
            f"the term {expr} couples {m} coordinates non-separably; numerical quadrature "
            f"is supported for at most 4 coupled coordinates"
        )
    func = sp.lambdify(vars_, expr, modules=[_NUMPY_EXTRA, "numpy"])
    lo, hi = _NODES[m]
    coarse = _grid_moments(func, m, nmax, lo)
    fine, size = _grid_moments(func, m, nmax, hi, size=True)
    safety = max(_SAFETY[m], _SAFETY_JUMP) if expr.has(*_JUMPS) else _SAFETY[m]
    err = safety * np.abs(fine - coarse) + 1e-15 * (1 + size)
    return fine, err


def _np_heaviside(x, h0=0.5):
    return np.heaviside(x, h0)


# lambdify's "numpy" printer maps erf to math.erf, which fails on arrays
_NUMPY_EXTRA = {"erf": scipy.special.erf, "erfc": scipy.special.erfc, "Heaviside": _np_heaviside}


def _mp_moments(expr: sp.Expr, var: sp.Symbol, nmax: int, digits: int):
    """E[g He_n] for n <= nmax with mpmath at `digits` significant digits (one coordinate)."""
    func = sp.lambdify(var, expr, modules="mpmath")
    out, err = [], []
    with mpmath.workdps(digits + 10):
        norm = 1 / mpmath.sqrt(2 * mpmath.pi)
        for n in range(nmax + 1):
            def integrand(x, n=n):
                return func(x) * mpmath.exp(-x * x / 2) * norm * _mp_he(n, x)

            val, e = mpmath.quad(integrand, [-mpmath.inf, -5, 0, 5, mpmath.inf], error=True)
            out.append(val)
            err.append(float(e) + float(abs(val)) * 10.0 ** (-digits))
    return out, err


def _mp_he(n, x):
    a, b = mpmath.mpf(1), x
    if n == 0:
        return a
    for k in range(1, n):
        a, b = b, x * b - k * a
    return b


# --- the expansion -------------------------------------------------------------------------


def _symmetries(expr: sp.Expr, gv: tuple[sp.Symbol, ...]) -> list[tuple[str, object]]:
    """Sign flips and swaps of coordinates under which expr is even or odd (structural check).

    Returns ("flip", (indices, parity)) and ("swap", (i, j)) entries: under a flip of the
    coordinates S, E[f He_beta] = parity (-1)^{sum_S beta} E[f He_beta], so it vanishes when
    the two signs differ; under an antisymmetric swap of z_i and z_j it vanishes when
    beta_i = beta_j.
    """
    out: list[tuple[str, object]] = []
    m = len(gv)
    for size in range(1, m + 1):
        for subset in itertools.combinations(range(m), size):
            flipped = expr.xreplace({gv[i]: -gv[i] for i in subset})
            if sp.expand(flipped - expr) == 0:
                out.append(("flip", (subset, 1)))
            elif sp.expand(flipped + expr) == 0:
                out.append(("flip", (subset, -1)))
    for i, j in itertools.combinations(range(m), 2):
        swapped = expr.xreplace({gv[i]: gv[j], gv[j]: gv[i]})
        if sp.expand(swapped + expr) == 0:
            out.append(("swap", (i, j)))
    return out


def _symmetry_zero(beta: Alpha, gv, symmetries) -> str:
    for kind, data in symmetries:
        if kind == "flip":
            subset, parity = data
            if (-1) ** sum(beta[i] for i in subset) != parity:
                names = ", ".join(str(gv[i]) for i in subset)
                return f"parity in {names}" if len(subset) == 1 else f"parity in ({names}) jointly"
        elif beta[data[0]] == beta[data[1]]:
            return f"antisymmetry under {gv[data[0]]} <-> {gv[data[1]]}"
    return ""


class _Accumulator:
    """Sums contributions E[f He_alpha] over terms: exact parts and numeric parts apart."""

    def __init__(self, alphas: list[Alpha]):
        self.exact: dict[Alpha, sp.Expr] = {a: sp.Integer(0) for a in alphas}
        self.num: dict[Alpha, float] = {a: 0.0 for a in alphas}
        self.err: dict[Alpha, float] = {a: 0.0 for a in alphas}
        self.numeric: set[Alpha] = set()
        self.parity_note: dict[Alpha, str] = {}
        self.float64_terms: set[str] = set()


def hermite_expansion(target: Target | str, max_degree: int = 6, *, tol: float = 1e-12,
                      precision: int | None = None) -> Expansion:
    """The Hermite expansion of a target to total degree `max_degree`.

    c_alpha = E[f(z) He_alpha(z)] / alpha!,  He_alpha(z) = prod_i He_{alpha_i}(z_i).

    Args:
        target: a Target or the text of one.
        max_degree: largest total degree |alpha| (polynomials are expanded completely when
            their degree does not exceed it).
        tol: a numerical coefficient is reported as zero (status "zero (below tolerance
            ...)") only when both |value| <= tol and its error bound <= tol: a zero is never
            certified by a tolerance looser than the quadrature's own accuracy; a coefficient
            whose error bound exceeds tol stays "numeric", with that error.
        precision: significant digits (PRECISION_RANGE) for the numerical one-coordinate
            integrals (including ridge terms g(v.z)), through mpmath; terms that couple
            several coordinates non-separably always use float64 Gauss-Hermite grids, and the
            expansion's `notes` say so when a precision was asked for (default: float64
            Gauss-Hermite everywhere).

    Returns:
        An immutable Expansion.

    Raises:
        ValueError: bad target or degree, or a term that couples more than 4 coordinates
            non-separably (no quadrature is attempted there).
    """
    if isinstance(target, str):
        target = Target.parse(target)
    if not isinstance(max_degree, int) or max_degree < 0:
        raise ValueError(f"max_degree must be an integer >= 0, got {max_degree!r}")
    if max_degree > 40:
        raise ValueError(f"max_degree must be at most 40, got {max_degree}")
    if not (isinstance(tol, float | int) and 0 < tol <= 1e-6):
        raise ValueError(f"tol must be a number in (0, 1e-6] (the largest |c| certified as zero), "
                         f"got {tol!r}")
    lo, hi = PRECISION_RANGE
    if precision is not None and (isinstance(precision, bool) or not isinstance(precision, int)
                                  or not lo <= precision <= hi):
        raise ValueError(f"precision must be an integer number of digits in {lo}..{hi} (or "
                         f"None for float64 quadrature), got {precision!r}")
    zs = target.variables
    k = target.k
    alphas = list(_alphas(k, max_degree))
    acc = _Accumulator(alphas)

    expr = sp.expand(_split_products(target.expr), deep=False, power_exp=False, log=False)
    poly_part, other = sp.Integer(0), []
    for term in sp.Add.make_args(expr):
        if term.is_polynomial(*zs):
            poly_part += term
        else:
            other.append(term)
    complete = False
    if poly_part != 0:
        complete = sp.Poly(poly_part, *zs).total_degree() <= max_degree and not other
        _add_polynomial(poly_part, zs, acc, max_degree)
    for term in other:
        _add_term(term, zs, acc, max_degree, precision)

    coefficients: dict[Alpha, Coefficient] = {}
    has_params = bool(target.parameters)
    # symmetries of the whole target prove zeros that term-by-term quadrature cannot
    global_syms = _symmetries(target.expr, zs) if acc.numeric and k <= 6 else []
    for alpha in acc.numeric:
        note = _symmetry_zero(alpha, zs, global_syms)
        if note:
            acc.parity_note[alpha] = note
            acc.num[alpha] = acc.err[alpha] = 0.0
            acc.exact[alpha] = sp.Integer(0)
    for alpha in alphas:
        fact = _alpha_factorial(alpha)
        ex = acc.exact[alpha]
        note = acc.parity_note.get(alpha)
        if alpha not in acc.numeric:
            ex = sp.nsimplify(ex) if ex.is_Rational else _tidy(ex)
            if ex == 0:
                if note is not None:
                    coefficients[alpha] = Coefficient(alpha, sp.Integer(0), 0.0, 0.0,
                                                      f"zero ({note})")
                continue
            val = None if ex.free_symbols else float(ex / fact)
            coefficients[alpha] = Coefficient(alpha, ex / fact, val, 0.0, "exact")
            continue
        exact_val = float(ex) if not ex.free_symbols else math.nan
        if has_params and ex != 0:
            raise ValueError("numerical coefficients need parameter values: substitute them first")
        value = (exact_val + acc.num[alpha]) / fact
        err = acc.err[alpha] / fact
        if note is not None and ex == 0 and acc.num[alpha] == 0.0 and acc.err[alpha] == 0.0:
            coefficients[alpha] = Coefficient(alpha, sp.Integer(0), 0.0, 0.0, f"zero ({note})")
        elif abs(value) <= tol and err <= tol:
            coefficients[alpha] = Coefficient(alpha, None, 0.0, max(err, abs(value)),
                                              f"zero (below tolerance {tol:.1e})")
        else:
            coefficients[alpha] = Coefficient(alpha, None, value, err, "numeric")
    notes = ()
    if precision is not None and acc.float64_terms:
        notes = (f"precision {precision} digits applies to one-coordinate integrals; "
                 f"{', '.join(sorted(acc.float64_terms))} coupled several coordinates and used "
                 f"float64 Gauss-Hermite grids (errors as shown)",)
    return Expansion(target, max_degree, MappingProxyType(coefficients), complete, notes)


def _tidy(ex: sp.Expr) -> sp.Expr:
    ex = sp.expand(ex)
    if ex.has(sp.exp, sp.erf, sp.sin, sp.cos) and sp.count_ops(ex) < 60:
        ex = sp.simplify(ex)
    return ex


def _add_polynomial(poly_expr: sp.Expr, zs, acc: _Accumulator, max_degree: int) -> None:
    poly = sp.Poly(poly_expr, *zs)
    for monom, coeff in poly.terms():
        per_var = [monomial_to_hermite(m) for m in monom]
        for combo in itertools.product(*per_var):
            alpha = tuple(j for j, _ in combo)
            if sum(alpha) > max_degree:
                continue
            c = coeff * sp.Mul(*[c for _, c in combo])
            acc.exact[alpha] += c * _alpha_factorial(alpha)  # stored as E[f He_alpha]


def _add_term(term: sp.Expr, zs, acc: _Accumulator, max_degree: int, precision) -> None:
    coeff, rest = term.as_independent(*zs, as_Add=False)
    factors = list(sp.Mul.make_args(rest))
    groups = _groups(factors, zs)
    # per group: {beta restricted to group vars: (exact or None, numeric value, error)}
    tables = []
    for gvars, gexpr in groups:
        gv = tuple(z for z in zs if z in gvars)
        tables.append((gv, _group_moments(gexpr, gv, max_degree, precision)))
        if len(gv) > 1 and any(t[0] is None for t in tables[-1][1].values()) and \
                _ridge(gexpr, gv) is None:
            acc.float64_terms.add(str(gexpr))
    index = {z: i for i, z in enumerate(zs)}
    c = float(coeff) if not coeff.free_symbols else None
    for alpha in acc.exact:
        used = set()
        parts = []
        for gv, table in tables:
            parts.append(table[tuple(alpha[index[z]] for z in gv)])
            used.update(index[z] for z in gv)
        if any(alpha[i] != 0 for i in range(len(zs)) if i not in used):
            continue  # E[He_n(z_i)] = 0 for a coordinate the term does not involve
        notes = [p[3] for p in parts if p[3]]
        if all(p[0] is not None for p in parts):
            contribution = coeff * sp.Mul(*[p[0] for p in parts])
            acc.exact[alpha] += contribution
            if notes and contribution == 0:
                acc.parity_note.setdefault(alpha, notes[0])
            continue
        if c is None:
            raise ValueError("numerical coefficients need parameter values: substitute them first")
        # numeric product, with first-order propagation of the quadrature errors
        vals = [float(p[0]) if p[0] is not None else p[1] for p in parts]
        errs = [0.0 if p[0] is not None else p[2] for p in parts]
        num_prod = c * math.prod(vals)
        err_prod = abs(c) * sum(e * math.prod(abs(v) for j, v in enumerate(vals) if j != i)
                                for i, e in enumerate(errs))
        acc.numeric.add(alpha)
        acc.num[alpha] += num_prod
        acc.err[alpha] += err_prod
        if notes and num_prod == 0.0:
            acc.parity_note.setdefault(alpha, notes[0])


def _group_moments(expr: sp.Expr, gv: tuple[sp.Symbol, ...], nmax: int, precision):
    """{beta: (exact | None, value, error, note)} for every beta with |beta| <= nmax."""
    betas = list(_alphas(len(gv), nmax))
    if len(gv) == 1:
        z = gv[0]
        ex = exact_moments(expr, z, nmax)
        if ex is not None:
            return {(n,): (ex[n], None, 0.0, "") for n in range(nmax + 1)}
        return _numeric_group(expr, gv, betas, nmax, precision)
    ridge = _ridge(expr, gv)
    if ridge is not None:
        g, v, t = ridge
        r = sp.sqrt(sum(vi**2 for vi in v))
        u = sp.Dummy("u", real=True)
        univ = exact_moments(g.subs(t, r * u), u, nmax)
        if univ is None:
            num = _numeric_group(g.subs(t, r * u), (u,), [(n,) for n in range(nmax + 1)],
                                 nmax, precision)
        out = {}
        for beta in betas:
            n = sum(beta)
            vpow = sp.Mul(*[vi**b for vi, b in zip(v, beta, strict=True)])
            scale = vpow / r**n
            if univ is not None:
                out[beta] = (sp.expand(scale * univ[n]), None, 0.0, "")
            else:
                _, val, err, note = num[(n,)]
                s = float(scale)
                out[beta] = (sp.Integer(0) if s == 0 else None, s * val, abs(s) * err,
                             note if s else "ridge direction")
        return out
    return _numeric_group(expr, gv, betas, nmax, precision)


def _numeric_group(expr, gv, betas, nmax, precision):
    symmetries = _symmetries(expr, gv)
    if precision is not None and len(gv) == 1:
        vals, errs = _mp_moments(expr, gv[0], nmax, precision)
        table = np.array([float(v) for v in vals])
        errt = np.array(errs)
    else:
        table, errt = _numeric_moments(expr, gv, nmax)
    out = {}
    for beta in betas:
        note = _symmetry_zero(beta, gv, symmetries)
        if note:
            out[beta] = (sp.Integer(0), 0.0, 0.0, note)
        else:
            out[beta] = (None, float(table[beta]), float(errt[beta]), "")
    return out
