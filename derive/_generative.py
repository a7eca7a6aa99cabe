"""Generative exponent and the generalised staircase under batch reuse (THEORY.md section 2).

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

from dataclasses import dataclass

from ._certify import certify_vanishing
from ._context import Context
from ._linalg import Subspace
from ._online import ImageCache
from ._step import Step, reuse_cost

__all__ = ["ReuseResult", "reuse_staircase"]

MAX_ORDER = 6
"""Largest conditional order searched under batch reuse."""


@dataclass(frozen=True)
class ReuseResult:
    steps: tuple[Step, ...]
    final: Subspace
    complete: bool
    note: str


def _mechanism(order: int) -> str:
    return {1: "reuse, first order", 2: "reuse, second order"}.get(
        order, f"reuse, order {order} (hard)")


def reuse_staircase(ctx: Context, relevant: Subspace, relevant_certified: bool,
                    cache: ImageCache | None = None) -> ReuseResult:
    """The generalised staircase under batch reuse, up to the relevant subspace.

    Args:
        ctx: the target context.
        relevant: the subspace f depends on (the end of the online staircase).
        relevant_certified: whether f is proved to depend on nothing else.
        cache: shared image cache.
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
    while not U.is_whole:
        if relevant_certified and U.dim >= relevant.dim and \
                all(U.contains(b) for b in relevant.basis):
            return ReuseResult(tuple(steps), U, True,
                               "every direction the target depends on is learned")
        perp = U.complement()
        certs: list[tuple[bool, str]] = []
        new: list = []
        witness = ""
        order = None
        for k in range(1, top + 1):
            # a proved vanishing needs no witness search (and saves the expensive one)
            proved, text = certify_vanishing(ctx, U, perp, k, "reuse")
            if proved:
                certs.append((True, text))
                continue
            for m in range(1, ctx.max_power + 1):
                imgs = cache.images(m, U, perp, k)[k]
                if imgs:
                    new.extend(_convert(imgs, scalars))
                    if not witness:
                        witness = f"E[y~^{m} He_beta(z_U) He_gamma(z_perp)] != 0, |gamma| = {k}"
                    grown = U.extend(new)
                    if grown.dim == ctx.k or (relevant_certified and all(
                            grown.contains(b) for b in relevant.basis)):
                        break  # nothing more to find: stop the (costly) search over m
            if new:
                order = k
                break
            certs.append((False, text))
        if order is None:
            complete = relevant_certified and U.dim >= relevant.dim
            return ReuseResult(tuple(steps), U, complete,
                               f"no further direction found up to order {top} "
                               f"(label powers m <= {ctx.max_power})")
        after = U.extend(new)
        steps.append(Step(len(steps), order, _mechanism(order), U, after, reuse_cost(order),
                          tuple(t for _, t in certs), all(c for c, _ in certs), witness))
        U = after
    return ReuseResult(tuple(steps), U, True, "every direction learned")


def _convert(vectors, scalars):
    if scalars.kind == "float":
        return [tuple(float(x) for x in v) for v in vectors]
    return [tuple(scalars.convert(x) for x in v) for v in vectors]
