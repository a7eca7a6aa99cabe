"""Hermite tensors, their images and the conditional tensors of a split z = (z_U, z_perp).

Everything is read off the Hermite leading form G(z) = sum_alpha c_alpha z^alpha (see _poly):
its degree-n part is C_n[z, ..., z] / n! with C_n = E[f He_n] (docs/theory.md §1.5).

Conditional tensors. For a subspace U with orthogonal bases b_1..b_r of U and c_1..c_s of
U^perp, substitute z = sum_j x_j b_j + sum_i w_i c_i in G. In normalised rotated coordinates
the coefficient of x^beta w^gamma is c_{(beta, gamma)}(f o Q) times a non-zero scale, so

    T_k(U)(z_U) = E[f He_k(z_perp) | z_U] is not identically 0
        iff  G(x, w) has a non-zero term of w-degree exactly k,

and the span over z_U of Im T_k(U)(z_U) is spanned by the coefficient vectors (over the
monomials x^beta w^gamma, |gamma| = k - 1) of the w-gradient of that part, mapped to R^k by
v -> sum_i v_i c_i / |c_i|^2. For U = {0} this is Im(C_k), the column space of the
k x k^{n-1} unfolding of C_k. The same computation applied to the leading form of y^m gives
E[y^m He_beta(z_U) He_gamma(z_perp)], the witnesses of the generative staircase.

Reference: Abbe, Boix-Adsera, Misiakiewicz, COLT 2023 (arXiv 2302.11055), the subspace
recursion of docs/theory.md §3.2.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction
from typing import TYPE_CHECKING

from ..algebra import Poly, Scalars, Subspace, substitute, taylor_at

if TYPE_CHECKING:  # annotations only: _hermite imports this module
    from ._expansion import Expansion

__all__ = ["conditional_images", "expansion_form", "hermite_image", "scalars_of"]


def scalars_of(expansion: Expansion, atol: float = 1e-9) -> Scalars:
    """The scalar kind in which an expansion's coefficients live (rational, exact or float)."""
    kind = "rational"
    for c in expansion.nonzero():
        if c.exact is None:
            return Scalars("float", atol)
        if not c.exact.is_Rational:
            kind = "exact"
    return Scalars(kind, 0.0)


def expansion_form(expansion: Expansion, scalars: Scalars) -> Poly:
    """The leading form sum_alpha c_alpha z^alpha of an expansion (non-zero coefficients)."""
    form: Poly = {}
    for c in expansion.nonzero():
        if expansion.target.parameters:
            raise ValueError("exponents need numerical parameter values: substitute them first")
        if scalars.kind == "float":
            form[c.alpha] = float(c.value)
        else:
            form[c.alpha] = scalars.convert(c.exact)
    return form


def _split_form(form: Poly, U: Subspace, perp: Subspace, kmax: int) -> tuple[Poly, int]:
    """G(sum_j x_j b_j + sum_i w_i c_i) truncated to w-degree <= kmax; returns (poly, r)."""
    k = U.k
    r = U.dim
    nv = r + perp.dim
    basis = list(U.basis) + list(perp.basis)
    if all(sum(1 for x in b if x != 0) == 1 for b in basis):
        # coordinate-aligned bases: z_l = beta_l u_{pi(l)}, a monomial-wise rescaling
        where = {}
        for j, b in enumerate(basis):
            l = next(i for i, x in enumerate(b) if x != 0)
            where[l] = (j, b[l])
        out: Poly = {}
        for e, c in form.items():
            new = [0] * nv
            for l, a in enumerate(e):
                if a:
                    j, beta = where[l]
                    new[j] = a
                    c = c * beta**a
            if sum(new[r:]) <= kmax:
                out[tuple(new)] = c
        return out, r
    forms: list[Poly] = []
    for l in range(k):
        lin: Poly = {}
        for j, b in enumerate(basis):
            if b[l] != 0:
                e = [0] * nv
                e[j] = 1
                lin[tuple(e)] = b[l]
        forms.append(lin)
    return substitute(form, forms, nv, r, kmax), r


def _point_forms(form: Poly, U: Subspace, perp: Subspace, kmax: int, npoints: int):
    """G(p + sum_i w_i c_i) to w-degree kmax at points p = sum_j x_j b_j of U with
    deterministic pseudo-random integer coordinates x (a witness search: exact values)."""
    rng = random.Random(20240611 + 7 * U.dim)
    s = perp.dim
    ubasis = [_integer_vector(b) for b in U.basis]
    form = _integer_form(form)
    lin = [{tuple(1 if t == i else 0 for t in range(s)): perp.basis[i][l]
            for i in range(s) if perp.basis[i][l] != 0} for l in range(U.k)]
    for _ in range(npoints):
        x = [rng.randint(-97, 97) for _ in range(U.dim)]
        point = [sum(xj * b[l] for xj, b in zip(x, ubasis, strict=True)) for l in range(U.k)]
        taylor = taylor_at(form, point, kmax)
        yield substitute(taylor, lin, s, 0, kmax)


def _integer_vector(v):
    """A positive multiple of a rational vector with integer entries (other kinds unchanged)."""
    if not all(isinstance(x, Fraction | int) for x in v):
        return v
    den = math.lcm(*[Fraction(x).denominator for x in v])
    return [int(Fraction(x) * den) for x in v]


def _integer_form(form: Poly) -> Poly:
    """A positive multiple of a rational polynomial with integer coefficients (same zeros and
    spans; Python ints are much faster than Fractions)."""
    if all(type(c) is int for c in form.values()):
        return form
    if not all(isinstance(c, Fraction | int) for c in form.values()):
        return form
    den = math.lcm(*[Fraction(c).denominator for c in form.values()]) if form else 1
    return {e: int(Fraction(c) * den) for e, c in form.items()}


def conditional_images(form: Poly, U: Subspace, kmax: int, scalars: Scalars,
                       perp: Subspace | None = None, mode: str = "symbolic",
                       keep=None) -> dict[int, list[tuple]]:
    """Ambient vectors spanning span_{z_U} Im T_k(U)(z_U), for k = 1..kmax.

    Args:
        form: the Hermite leading form of the function (f, or a power of the label).
        U: the learned subspace (orthogonal basis).
        kmax: the largest order wanted.
        scalars: the scalar kind (zero test).
        perp: U's orthogonal complement (computed when not given).
        mode: "symbolic" (substitute z = sum x_j b_j + sum w_i c_i with symbolic x: the
            result is the whole span, and an empty list is an exact zero when the form is
            complete and exact) or "points" (x at dim(U^perp) + 2 pseudo-random integer
            points: every vector returned is an exact witness, the span is a lower bound
            that is generically the whole span; an empty list proves nothing).
        keep: optional (t, m) -> bool, "symbolic" mode only: keep only the terms of degree t
            in the complement and m in U (a student whose Hermite coefficient of order
            m + t vanishes cannot see the term, docs/theory.md §3.3).

    Returns:
        {k: vectors}; an empty list means that no term of w-degree k was found non-zero.
    """
    if mode not in ("symbolic", "points"):
        raise ValueError(f"mode must be 'symbolic' or 'points', got {mode!r}")
    if keep is not None and mode != "symbolic":
        raise ValueError("conditional_images: keep needs mode='symbolic'")
    if perp is None:
        perp = U.complement()
    out: dict[int, list[tuple]] = {k: [] for k in range(1, kmax + 1)}
    if perp.dim == 0:
        return out
    # positive integer multiples of the basis vectors: same subspaces, faster arithmetic
    U = Subspace(U.k, tuple(tuple(_integer_vector(b)) for b in U.basis), U.scalars)
    perp = Subspace(perp.k, tuple(tuple(_integer_vector(b)) for b in perp.basis), perp.scalars)
    form = _integer_form(form)
    if mode == "points" and U.dim > 0:
        parts = [(p, 0) for p in _point_forms(form, U, perp, kmax, perp.dim + 2)]
    else:
        parts = [_split_form(form, U, perp, kmax)]
    s = perp.dim
    norms = [sum(x * x for x in c) for c in perp.basis]
    if scalars.kind == "float":
        scale = max([abs(v) for v in form.values()] + [1.0])
        zero = lambda v: abs(v) <= scalars.atol * scale
    else:
        zero = scalars.is_zero
    for split, r in parts:
        grads: dict[tuple[int, tuple], list] = {}
        for e, c in split.items():
            t = sum(e[r:])
            if t == 0 or t > kmax or zero(c):
                continue
            if keep is not None and not keep(t, sum(e[:r])):
                continue
            for i in range(s):
                a = e[r + i]
                if a == 0:
                    continue
                key = e[: r + i] + (a - 1,) + e[r + i + 1:]
                vec = grads.setdefault((t, key), [0] * s)
                vec[i] = vec[i] + c * a
        for (t, _), vec in grads.items():
            if all(zero(v) for v in vec):
                continue
            amb = [0] * U.k
            for i, v in enumerate(vec):
                if v == 0:
                    continue
                w = v / norms[i] if not isinstance(v, int) else Fraction(v) / norms[i]
                for l in range(U.k):
                    if perp.basis[i][l] != 0:
                        amb[l] = amb[l] + w * perp.basis[i][l]
            out[t].append(tuple(scalars.convert(x) if not isinstance(x, float) else x
                                for x in amb))
    return out


def hermite_image(expansion: Expansion, k: int) -> Subspace:
    """Im(C_k): the column space of the k x k^{n-1} unfolding of C_k = E[f He_k].

    Exact (orthogonal basis with rational or SymPy entries) when the coefficients are exact;
    otherwise floats, with coefficients below 1e-9 (relative) taken as zero.

    Args:
        expansion: a Hermite expansion with max_degree >= k.
        k: the tensor order, k >= 1.

    Raises:
        ValueError: k < 1 or k beyond the expansion's degree.
    """
    if k < 1 or k > expansion.max_degree:
        raise ValueError(f"k must be in 1..{expansion.max_degree} (the expansion degree), got {k}")
    scalars = scalars_of(expansion)
    form = expansion_form(expansion, scalars)
    U = Subspace.zero(expansion.k, scalars)
    vecs = conditional_images(form, U, k, scalars)[k]
    return Subspace.span(expansion.k, vecs, scalars)
