"""Generative exponent and the generalised staircase under batch reuse (docs/theory.md §3.4).

Single index (Damian, Pillaud-Vivien, Lee, Bruna, COLT 2024, arXiv 2403.05529):
k* = min{k >= 1 : E[He_k(z) | y] is not 0 as a function of y}.

Multi-index, batch reuse (Dandi et al., ICML 2024, arXiv 2402.03220; Arnaboldi et al.,
arXiv 2405.15459): given the learned U, new directions come at first order (O(d)) from
span E[z_perp | y, z_U], at second order (O(d log d)) from the images of
E[He_2(z_perp) | y, z_U] when the first vanishes, and otherwise at the smallest order k >= 3
with E[He_k(z_perp) | y, z_U] != 0 ("hard": not in O(d log d)). The generative exponent of a
multi-index target is the largest order met along this staircase (staircase form of the
generative leap, Damian, Lee, Bruna, arXiv 2506.05500).

Witnesses: E[y~^m He_beta(z_U) He_gamma(z_perp)] != 0 for some m (Gaussian moments, exact for
polynomial targets) proves the order is at most |gamma| and the spanned directions are new.
Vanishing: see _certify (exact zero, symmetry, or "not found up to ...").
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from ..algebra import Subspace
from ._certify import certify_vanishing
from ._context import Context
from ._step import Step, reuse_cost
from ._subspace import ImageCache
from ._symmetry import symmetric_tensor_space_dim

__all__ = ["ReuseResult", "reuse_staircase"]

MAX_ORDER = 6
"""Largest conditional order searched under batch reuse."""


@dataclass(frozen=True)
class ReuseResult:
    """The batch-reuse staircase.

    Attributes:
        steps: the steps found.
        final: the subspace learned at the end.
        complete: whether every relevant direction is learned (proved).
        note: how the search ended.
        searched: for every order that was searched without a witness and without a
            certificate of vanishing, (step, order, largest label power m searched, text).
        witness_powers: for every step, the label powers m whose moments gave its new
            directions (a step is proved when these powers' coefficients are exact).
    """

    steps: tuple[Step, ...]
    final: Subspace
    complete: bool
    note: str
    searched: tuple[tuple[int, int, int, str], ...] = ()
    witness_powers: tuple[tuple[int, ...], ...] = ()


SEARCH_SECONDS = 10.0
"""Time budget of the witness search beyond the label powers of the context's max_power."""

MAX_TERMS = 400_000
"""Largest predicted number of monomials of y~^m the witness search expands."""


def _mechanism(order: int) -> str:
    return {1: "reuse, first order", 2: "reuse, second order"}.get(
        order, f"reuse, order {order} (hard)")


def _predicted_terms(ctx: Context, m: int) -> int:
    """An upper bound on the number of monomials of y~^m: at most the monomials of degree
    <= m deg in k variables, and at most the multisets of m terms of y~."""
    if not ctx.polynomial or ctx._poly is None:
        return 0
    deg = max((sum(e) for e in ctx._poly), default=0)
    return min(math.comb(m * deg + ctx.k, ctx.k), math.comb(len(ctx._poly) + m - 1, m))


class _Search:
    """Which label powers m to try at an order: those whose parity the symmetries admit, up
    to ctx.max_power always, and beyond it (to ctx.power_limit) while the time budget and the
    size of y~^m allow."""

    def __init__(self, ctx: Context, seconds: float):
        self.ctx = ctx
        self.start = time.monotonic()
        self.seconds = seconds
        self.stop_reason = ""
        self.reached = ctx.max_power

    def powers(self, U: Subspace, perp: Subspace, k: int):
        ctx = self.ctx
        admitted = {p: symmetric_tensor_space_dim(ctx.symmetries, U, perp, k, p)[0] > 0
                    for p in (0, 1)}
        top = max(ctx.max_power, ctx.power_limit or 0)
        for m in range(1, top + 1):
            if m > ctx.max_power:
                if time.monotonic() - self.start > self.seconds:
                    self.stop_reason = f"time budget of {self.seconds:g} s spent"
                    return
                if _predicted_terms(ctx, m) > MAX_TERMS:
                    self.stop_reason = f"y~^{m} would have more than {MAX_TERMS} terms"
                    return
            self.reached = max(self.reached, m)
            if admitted[m % 2]:
                yield m

    @staticmethod
    def parity_text(ctx: Context, U: Subspace, perp: Subspace, k: int) -> str:
        out = []
        for p, name in ((1, "odd"), (0, "even")):
            dim, used = symmetric_tensor_space_dim(ctx.symmetries, U, perp, k, p)
            if dim == 0:
                out.append(f"{name} m excluded by symmetry ({used[0] if used else ''})")
        return "; ".join(out)


def reuse_staircase(ctx: Context, relevant: Subspace, relevant_certified: bool,
                    cache: ImageCache | None = None,
                    seconds: float = SEARCH_SECONDS) -> ReuseResult:
    """The generalised staircase under batch reuse, up to the relevant subspace.

    At each stage the orders k = 1, 2, ... are tried in turn; an order is done when its
    vanishing is certified (exact zero or symmetry) or when the witnesses
    E[y~^m He_beta(z_U) He_gamma(z_perp)], |gamma| = k, are found non-zero for some m. The
    label powers m tried are those whose parity the target's signed-permutation symmetries
    admit (a symmetry S fixing U with y~(S z) = tau y~(z) forces S^{(k)} H = tau^m H), up to
    ctx.max_power, and for polynomial targets on to ctx.power_limit while the time budget
    (`seconds`) and the size of y~^m allow; ctx.max_power is raised to the largest power
    searched. An order with neither a witness nor a certificate is recorded in `searched`.

    Args:
        ctx: the target context.
        relevant: the subspace f depends on (the end of the online staircase).
        relevant_certified: whether f is proved to depend on nothing else.
        cache: shared image cache.
        seconds: time budget for label powers beyond ctx.max_power.
    """
    cache = cache or ImageCache(ctx)
    ctx.settle_powers()
    scalars = ctx.power(1).scalars
    for m in range(2, ctx.max_power + 1 if not ctx.polynomial else 1):
        sc = ctx.power(m).scalars
        if sc.kind == "float" and scalars.kind != "float":
            scalars = sc
        elif sc.kind == "exact" and scalars.kind == "rational":
            scalars = sc
    U = Subspace.zero(ctx.k, scalars)
    top = min(MAX_ORDER, ctx.max_degree if not ctx.polynomial else MAX_ORDER)
    steps: list[Step] = []
    searched: list[tuple[int, int, int, str]] = []
    witness_powers: list[tuple[int, ...]] = []
    search = _Search(ctx, seconds)

    def result(complete: bool, note: str) -> ReuseResult:
        ctx.max_power = search.reached
        return ReuseResult(tuple(steps), U, complete, note, tuple(searched),
                           tuple(witness_powers))

    while not U.is_whole:
        if relevant_certified and U.dim >= relevant.dim and \
                all(U.contains(b) for b in relevant.basis):
            return result(True, "every direction the target depends on is learned")
        perp = U.complement()
        certs: list[tuple[bool, str]] = []
        new: list = []
        witnessed: list[int] = []  # every power whose images joined `new`
        witness = ""
        order = None
        for k in range(1, top + 1):
            # a proved vanishing needs no witness search (and saves the expensive one)
            proved, text = certify_vanishing(ctx, U, perp, k, "reuse")
            if proved:
                certs.append((True, text))
                continue
            last = 0
            used: list[int] = []
            for m in search.powers(U, perp, k):
                last = m
                imgs = cache.images(m, U, perp, k)[k]
                if imgs:
                    witnessed.append(m)
                    before = U.extend(new).dim
                    new.extend(_convert(imgs, scalars))
                    grown = U.extend(new)
                    if grown.dim > before:
                        used.append(m)
                    if grown.dim == ctx.k or (relevant_certified and all(
                            grown.contains(b) for b in relevant.basis)):
                        break  # nothing more to find: stop the (costly) search over m
            if new:
                order = k
                witness = _witness(ctx, U, k, used)
                break
            reached = max(last, search.reached if not search.stop_reason else last)
            text = _not_found(ctx, k, reached, search, U, perp)
            searched.append((len(steps), k, reached, text))
            certs.append((False, text))
        if order is None:
            complete = relevant_certified and U.dim >= relevant.dim
            return result(complete, f"no further direction found up to order {top} "
                                    f"(label powers m <= {search.reached})")
        after = U.extend(new)
        witness_powers.append(tuple(witnessed))
        steps.append(Step(len(steps), order, _mechanism(order), U, after, reuse_cost(order),
                          tuple(t for _, t in certs), all(c for c, _ in certs), witness))
        U = after
    return result(True, "every direction learned")


def _witness(ctx: Context, U: Subspace, k: int, used: list[int]) -> str:
    """The non-zero moments that showed the new directions; exact values of E[y~^m z] at the
    first stage (U = {0}, k = 1) of a polynomial target."""
    if U.dim == 0 and k == 1 and ctx.polynomial:
        parts = []
        for m in used:
            form = ctx.power(m).form
            # power 1 keeps y~'s own coefficients (Context.build); the powers m >= 2 are
            # those of the integer multiple c y~ (ctx._poly), so E[y~^m z] is theirs / c^m
            scale = _label_scale(ctx) ** m if m > 1 else Fraction(1)
            vec = [form.get(tuple(int(i == j) for j in range(ctx.k)), 0) / scale
                   for i in range(ctx.k)]
            parts.append(f"E[y~^{m} z] = ({', '.join(_show(x) for x in vec)})")
        return "; ".join(parts)
    ms = ", ".join(map(str, used))
    return f"E[y~^m He_beta(z_U) He_gamma(z_perp)] != 0 with |gamma| = {k} for m = {ms}"


def _label_scale(ctx: Context) -> Fraction:
    """The positive factor c with ctx._poly = c y~ (integer coefficients for rational
    targets; 1 otherwise); ctx.power(m).form is the leading form of c^m y~^m for m >= 2."""
    if ctx.scalars.kind != "rational":
        return Fraction(1)  # exact and float coefficients are kept as they are (Context.build)
    poly = sp.Poly(ctx.centred, *ctx.target.variables)
    for e, c in ctx._poly.items():
        ref = sp.Rational(poly.coeff_monomial(e))
        if ref != 0:
            return Fraction(c) / Fraction(int(ref.p), int(ref.q))
    return Fraction(1)


def _show(x) -> str:
    if isinstance(x, Fraction):
        return str(x.numerator) if x.denominator == 1 else f"{x.numerator}/{x.denominator}"
    return str(x)


def _not_found(ctx: Context, k: int, reached: int, search: _Search, U: Subspace,
               perp: Subspace) -> str:
    lp = ctx.power(1)
    deg = ctx.max_degree if not ctx.polynomial else "all"
    kind = "numerically zero" if lp.scalars.kind == "float" else "not found"
    extra = [t for t in (_Search.parity_text(ctx, U, perp, k), search.stop_reason) if t]
    more = f"; {'; '.join(extra)}" if extra else ""
    return (f"order {k}: {kind} up to degree {deg}, label powers m <= {reached}{more} "
            f"(not a proof of vanishing)")


def _convert(vectors, scalars):
    return [tuple(scalars.convert(x) for x in v) for v in vectors]
