"""Online SGD and giant-step staircases (docs/theory.md §3.2-3.3).

Online (Abbe, Boix-Adsera, Misiakiewicz, COLT 2023, arXiv 2302.11055), the subspace
recursion: U_0 = {0}; k_t = min{k >= 1 : T_k(U_t) != 0}; U_{t+1} = U_t + span Im T_{k_t}(U_t).
Leap = max_t k_t; phase t costs d^max(k_t - 1, 1) samples (d log d for k_t = 2).

Giant step (Dandi, Krzakala, Loureiro, Pesce, Stephan, arXiv 2305.18270): one step with
n = Theta(d^l) learns U*_l = sum_{k <= l} Im(C_k); a few steps with fresh batches of
n = Theta(d^l): U_{t+1} = U_t + sum_{k <= l} Im T_k(U_t).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..algebra import Subspace
from ..hermite import conditional_images
from ._certify import certify_vanishing
from ._context import Context
from ._step import Step, batch_cost, online_cost
from ._student import StudentCoefficients

__all__ = ["GiantStepSubspaces", "ImageCache", "few_steps", "giant_step", "online_staircase",
           "student_block"]


class ImageCache:
    """conditional_images of the label power m at U, cached by (m, basis)."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self._cache: dict = {}

    def images(self, m: int, U: Subspace, perp: Subspace, kmax: int) -> dict[int, list]:
        key = (m, U.basis, kmax)
        if key not in self._cache:
            lp = self.ctx.power(m)
            # symbolic where an empty answer must be an exact zero (the online tensor, a finite
            # family of label functions); witness points for the higher label powers
            symbolic = m == 1 or (self.ctx.finite_family and lp.complete)
            self._cache[key] = conditional_images(lp.form, U, kmax, lp.scalars, perp,
                                                  mode="symbolic" if symbolic else "points")
        return self._cache[key]


@dataclass(frozen=True)
class OnlineResult:
    steps: tuple[Step, ...]
    final: Subspace
    complete: bool
    note: str


def _max_order(ctx: Context) -> int:
    return ctx.power(1).degree if ctx.polynomial else ctx.max_degree


def online_staircase(ctx: Context, cache: ImageCache | None = None) -> OnlineResult:
    """The online staircase of ctx.target (see the module docstring)."""
    cache = cache or ImageCache(ctx)
    scalars = ctx.power(1).scalars
    U = Subspace.zero(ctx.k, scalars)
    kmax = max(_max_order(ctx), 1)
    steps: list[Step] = []
    while not U.is_whole:
        perp = U.complement()
        imgs = cache.images(1, U, perp, kmax)
        found = next((k for k in range(1, kmax + 1) if imgs[k]), None)
        upto = found - 1 if found is not None else kmax
        certs = [certify_vanishing(ctx, U, perp, j, "online") for j in range(1, upto + 1)]
        if found is None:
            # the certificates cover the orders 1..kmax only: past the degree of a truncated
            # expansion nothing is known, so only a complete expansion proves that f
            # depends on U alone (else sign(z1*z2*z3) at max_degree 2 would be "constant")
            complete = all(c for c, _ in certs) and ctx.power(1).complete
            note = ("f depends only on the learned subspace (every T_k vanishes: "
                    + certs[-1][1].split(": ", 1)[1] + ")") if complete else \
                f"no further direction found up to degree {kmax}"
            if complete and ctx.polynomial:
                note = "f depends only on the learned subspace (complete exact expansion)"
            return OnlineResult(tuple(steps), U, complete, note)
        after = U.extend(imgs[found])
        steps.append(Step(len(steps), found, f"online leap {found}", U, after,
                          online_cost(found), tuple(t for _, t in certs),
                          all(c for c, _ in certs),
                          f"T_{found}(U_{len(steps)}) != 0"))
        U = after
    return OnlineResult(tuple(steps), U, True, "every direction learned")


@dataclass(frozen=True)
class GiantStepSubspaces:
    """U*_l = sum_{k <= l} Im(C_k) for l = 1..L and the smallest l with U*_l = U_final."""

    subspaces: tuple[Subspace, ...]
    exponent: int | None


def giant_step(ctx: Context, target_space: Subspace, cache: ImageCache | None = None,
               student: StudentCoefficients | None = None) -> GiantStepSubspaces:
    """One giant GD step: the learned subspaces U*_l and the smallest l learning target_space
    (with a student: only the orders k with c_k(sigma) != 0, module _student)."""
    cache = cache or ImageCache(ctx)
    scalars = ctx.power(1).scalars
    U0 = Subspace.zero(ctx.k, scalars)
    kmax = max(_max_order(ctx), 1)
    if student is None:
        imgs = cache.images(1, U0, U0.complement(), kmax)
    else:
        imgs = conditional_images(ctx.power(1).form, U0, kmax, scalars, U0.complement(),
                                  mode="symbolic", keep=student.keep)
    out = []
    U = U0
    exponent = None
    for l in range(1, kmax + 1):
        U = U.extend(imgs[l])
        out.append(U)
        if exponent is None and U.dim >= target_space.dim and target_space.dim > 0:
            exponent = l
    return GiantStepSubspaces(tuple(out), exponent)


def few_steps(ctx: Context, l: int, target_space: Subspace,
              cache: ImageCache | None = None, student: StudentCoefficients | None = None
              ) -> tuple[tuple[Step, ...], bool]:
    """Few GD steps with fresh batches of n = d^l: U_{t+1} = U_t + sum_{k <= l} Im T_k(U_t).

    With a student, only the terms it sees enter the images (a term of degree t in the new
    directions and m in U_t needs c_(m+t)(sigma) != 0, module _student).

    Returns:
        (steps, reaches) with reaches whether the chain learns target_space.
    """
    if not isinstance(l, int) or l < 1:
        raise ValueError(f"the batch exponent l must be an integer >= 1, got {l!r}")
    cache = cache or ImageCache(ctx)
    scalars = ctx.power(1).scalars
    U = Subspace.zero(ctx.k, scalars)
    kmax = max(_max_order(ctx), l)
    steps: list[Step] = []
    while U.dim < target_space.dim:
        perp = U.complement()
        if student is None:
            imgs = cache.images(1, U, perp, kmax)
        else:
            imgs = conditional_images(ctx.power(1).form, U, kmax, scalars, perp,
                                      mode="symbolic", keep=student.keep)
        vecs = [v for k in range(1, l + 1) for v in imgs.get(k, [])]
        after = U.extend(vecs)
        if after.dim == U.dim:
            return tuple(steps), False
        orders = [k for k in range(1, l + 1) if imgs.get(k)]
        witness = "Im T_k(U_t) != 0 for k in " + str(orders)
        if student is not None:
            witness += f" (seen by the student {student.name})"
        steps.append(Step(len(steps), l, f"giant step {len(steps) + 1}, n = d^{l}", U, after,
                          batch_cost(l), (), True, witness))
        U = after
    return tuple(steps), True


def student_block(ctx: Context, l: int, U: Subspace, student: StudentCoefficients) -> dict:
    """Why the student's few-steps chain stops at U: the (t, m) degrees of the terms that
    would move the weights out of U at batch exponent l and the coefficient orders m + t
    they need, every one of them zero for this student (JSON-ready)."""
    perp = U.complement()
    kmax = max(_max_order(ctx), l)
    needed = set()
    for t in range(1, l + 1):
        for m in range(0, kmax + 1):
            one = conditional_images(ctx.power(1).form, U, kmax, ctx.power(1).scalars, perp,
                                     mode="symbolic", keep=lambda tt, mm, t=t, m=m:
                                     (tt, mm) == (t, m))
            if one.get(t):
                needed.add((t, m))
    orders = sorted({t + m for t, m in needed})
    zero = [j for j in orders if not student.nonzero(j)]
    if not needed:
        reason = "no term of the target moves the weights out of U (for any student)"
    else:
        reason = (f"the terms that would move the weights out of the learned subspace need the "
                  f"Hermite coefficients c_j(sigma), j in {orders} (sigma' coefficients of order "
                  f"{[j - 1 for j in orders]}), and the student {student.name} has c_j = 0 for "
                  f"j in {zero}")
    return {"terms": [{"t": t, "m": m, "order": t + m, "student_nonzero": student.nonzero(t + m)}
                      for t, m in sorted(needed)],
            "needed_orders": orders, "vanishing_orders": zero, "reason": reason}
