"""The exponents report: what each training protocol learns about a target, at what cost.

`exponents(target)` gathers (THEORY.md section 2; the definitions there are the
specification):

1. the information exponent IE = min{k : C_k != 0} and its student-aware variant
   min{k : C_k(f) c_k(sigma) != 0};
2. the online staircase (subspace recursion), its leap and costs d^max(k_t - 1, 1);
3. one giant GD step: U*_l = sum_{k <= l} Im C_k, the smallest l learning every relevant
   direction, and the few-step staircases with fresh batches of n = d^l;
4. the generalised staircase under batch reuse, the generative exponent (largest conditional
   order met) and the reuse class "O(d)", "O(d log d)" or "hard";
5. the AMP classes (trivial, easy, hard subspaces) and alpha_c (numerical, labelled so).

Every "vanishes" carries a certificate (exact zero, symmetry) or says "not found up to ...";
`exact` tells which values are proved exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ._amp import alpha_c as _alpha_c
from ._budget import stage
from ._context import Context
from ._generative import reuse_staircase
from ._hermite import hermite_expansion
from ._linalg import MAX_EXACT_SIZE, MAX_FIELD_DEGREE, ExactTooLarge, Subspace
from ._online import ImageCache, few_steps, giant_step, online_staircase
from ._scenario import activation
from ._step import Step, online_cost
from ._target import Target, latent

__all__ = ["AmpReport", "ExponentReport", "exponents"]

REUSE_CLASSES = ("O(d)", "O(d log d)", "hard")


@dataclass(frozen=True)
class AmpReport:
    """AMP weak learnability (Troiani et al., arXiv 2405.15480) at n = alpha d.

    Attributes:
        trivial: span_y E[z | y] (weakly learned at every alpha > 0).
        easy: the images of G(y) = E[z z^T | y] - I outside the trivial subspace.
        hard: the relevant directions in neither.
        alpha_c: 0.0 when the trivial subspace is non-zero, math.inf when no direction is
            trivial or easy, the numerical threshold otherwise; None when not computed.
        alpha_c_error: estimated error of the numerical alpha_c (None otherwise).
        note: how alpha_c was obtained.
    """

    trivial: Subspace
    easy: Subspace
    hard: Subspace
    alpha_c: float | None
    alpha_c_error: float | None
    note: str

    def to_json(self) -> dict:
        def basis(s: Subspace):
            return [[float(x) for x in row] for row in s.orthonormal_float()]

        return {
            "trivial": basis(self.trivial),
            "easy": basis(self.easy),
            "hard": basis(self.hard),
            "alpha_c": None if self.alpha_c is None else
            ("inf" if math.isinf(self.alpha_c) else self.alpha_c),
            "alpha_c_error": self.alpha_c_error,
            "alpha_c_numeric": self.alpha_c is not None and 0 < self.alpha_c < math.inf,
            "note": self.note,
        }


@dataclass(frozen=True)
class ExponentReport:
    """Immutable report of exponents and staircases for one target (see `exponents`)."""

    target: Target
    student: str | None
    information_exponent: int | None
    student_information_exponent: int | None
    leap: int | None
    online: tuple[Step, ...]
    online_note: str
    relevant: Subspace
    giant_step_exponent: int | None
    giant_step_subspaces: tuple[Subspace, ...]
    few_step_exponent: int | None
    few_steps: Mapping[int, tuple[Step, ...]]
    generative_exponent: int | None
    reuse: str | None
    reuse_steps: tuple[Step, ...]
    reuse_note: str
    amp: AmpReport
    exact: Mapping[str, bool]
    max_degree: int
    max_power: int
    notes: tuple[str, ...] = field(default=())

    def complexity(self) -> dict[str, str]:
        """Predicted sample complexity per protocol (in powers of d)."""
        out = {"online": "?" if self.leap is None else online_cost(self.leap)}
        out["giant_step"] = ("?" if self.giant_step_exponent is None
                             else f"one step, n = d^{self.giant_step_exponent}")
        if self.few_step_exponent is None:
            out["few_steps"] = "?"
        else:
            t = len(self.few_steps[self.few_step_exponent])
            out["few_steps"] = (f"{t} step{'s' if t != 1 else ''}, "
                                f"n = d^{self.few_step_exponent}{' each' if t != 1 else ''}")
        out["reuse"] = "?" if self.reuse is None else self.reuse
        a = self.amp.alpha_c
        out["amp"] = ("?" if a is None else "n = alpha d, any alpha > 0" if a == 0 else
                      "not weakly learnable with n = O(d)" if math.isinf(a) else
                      f"n = alpha d, alpha > alpha_c = {a:.4g} (numeric)")
        return out

    def to_json(self) -> dict:
        """JSON-ready dictionary (keys of issue 3 plus details)."""
        return {
            "target": str(self.target),
            "k": self.target.k,
            "student": self.student,
            "information_exponent": self.information_exponent,
            "student_information_exponent": self.student_information_exponent,
            "leap": self.leap,
            "giant_step_exponent": self.giant_step_exponent,
            "few_step_exponent": self.few_step_exponent,
            "generative_exponent": self.generative_exponent,
            "reuse": self.reuse,
            "staircase": [s.to_json() for s in self.online],
            "information_exponent_per_direction": [
                {"directions": s.directions(), "information_exponent": s.order}
                for s in self.online],
            "giant_step": [
                {"l": l + 1, "dimension": u.dim,
                 "basis": [[float(x) for x in row] for row in u.orthonormal_float()]}
                for l, u in enumerate(self.giant_step_subspaces)],
            "few_steps": {str(l): [s.to_json() for s in steps]
                          for l, steps in self.few_steps.items()},
            "reuse_staircase": [s.to_json() for s in self.reuse_steps],
            "amp": self.amp.to_json(),
            "complexity": self.complexity(),
            "exact": dict(self.exact),
            "notes": [self.online_note, self.reuse_note, *self.notes],
            "max_degree": self.max_degree,
            "max_label_power": self.max_power,
        }


def _student_ie(ctx: Context, student, first_orders: set[int], kmax: int):
    sigma = activation(student)
    x = next(iter(sigma.variables))
    expr = sigma.expr.xreplace({x: latent(1)})
    e = hermite_expansion(Target(expr, 1), kmax)
    for k in sorted(first_orders):
        c = e[(k,)]
        if not c.is_zero:
            return k, c.is_exact
    return None, e.exact


def exponents(target: Target | str, *, student=None, max_degree: int | None = None,
              max_power: int | None = None, alpha_c: bool = True) -> ExponentReport:
    """Exponents and staircases of a target for every protocol (THEORY.md section 2).

    Args:
        target: a Target or its text, e.g. "z1 + He3(z2)" (no free parameters).
        student: optional student activation (name in ACTIVATIONS or an expression in x)
            for the student-aware information exponent.
        max_degree: truncation degree of the Hermite expansions of non-polynomial targets
            (default 8; polynomial targets are expanded exactly and completely).
        max_power: largest label power m in the generative witnesses E[y~^m He(z)]
            (default: up to 6 with m * degree <= 12 for polynomials, 3 otherwise, n - 1 for a
            label with n values).
        alpha_c: whether to compute the numerical AMP threshold when it is needed (Monte
            Carlo, n = 2e5, seed 0; about 0.2-0.8 s; see `alpha_c`).

    Returns:
        An immutable ExponentReport.

    Exact arithmetic is kept canonical and bounded: when an exact scalar would grow past
    MAX_EXACT_SIZE nodes, the whole report is recomputed in float64 (Hermite coefficients,
    subspaces) and every value derived from floats is marked not exact, with a note.

    Raises:
        ValueError: bad target (free parameters, unsupported), bad degree or power, unknown
            student activation.

    References: Ben Arous et al. 2021 (arXiv 2003.10409); Abbe et al. 2023 (arXiv 2302.11055);
    Dandi et al. 2023 (arXiv 2305.18270); Damian et al. 2024 (arXiv 2403.05529); Arnaboldi
    et al. 2024 (arXiv 2405.15459); Troiani et al. 2025 (arXiv 2405.15480).
    """
    kwargs = dict(student=student, max_degree=max_degree, max_power=max_power, alpha_c=alpha_c)
    try:
        return _exponents(target, numeric=None, **kwargs)
    except ExactTooLarge as err:
        return _exponents(target, numeric=str(err), **kwargs)


def _exponents(target, *, numeric: str | None, student, max_degree, max_power,
               alpha_c) -> ExponentReport:
    with stage("Hermite expansion of the target"):
        ctx = Context.build(target, max_degree=max_degree, max_power=max_power,
                            numeric=numeric is not None)
    if numeric is not None:
        ctx.notes.append(f"computed in float64, values marked not exact: exact arithmetic "
                         f"outgrew its bounds ({MAX_EXACT_SIZE} nodes, radicals of degree "
                         f"{MAX_FIELD_DEGREE}): {numeric}")
    cache = ImageCache(ctx)
    exact_kind = ctx.scalars.is_exact

    with stage("online staircase"):
        online = online_staircase(ctx, cache)
    steps = online.steps
    ie = steps[0].order if steps else None
    leap = max((s.order for s in steps), default=None)
    relevant = online.final

    with stage("giant step"):
        gs = giant_step(ctx, relevant, cache)
    gs_exp = None
    for l, u in enumerate(gs.subspaces, start=1):
        if relevant.dim > 0 and u.dim == relevant.dim:
            gs_exp = l
            break
    few: dict[int, tuple[Step, ...]] = {}
    few_exp = None
    for l in range(1, (gs_exp or 0) + 1):
        with stage(f"few steps, n = d^{l}"):
            chain, reaches = few_steps(ctx, l, relevant, cache)
        few[l] = chain
        if reaches and few_exp is None:
            few_exp = l
            break

    with stage("batch-reuse staircase"):
        reuse = reuse_staircase(ctx, relevant, online.complete, cache)
    gen = max((s.order for s in reuse.steps), default=None)
    reuse_class = None if gen is None else REUSE_CLASSES[min(gen, 3) - 1]

    student_ie = None
    student_exact = True
    student_name = None
    if student is not None:
        student_name = str(student)
        orders = set()
        U0 = Subspace.zero(ctx.k, ctx.scalars)
        imgs = cache.images(1, U0, U0.complement(), max(ctx.power(1).degree, 1))
        orders = {k for k, v in imgs.items() if v}
        with stage("student-aware information exponent"):
            student_ie, student_exact = _student_ie(ctx, student, orders,
                                                    max(orders, default=1))

    with stage("AMP classes"):
        amp = _amp(ctx, reuse, relevant, cache, alpha_c)

    online_ok = online.complete and all(s.certified for s in steps) and exact_kind
    reuse_ok = reuse.complete and all(s.certified for s in reuse.steps) and \
        all(ctx.power(m).scalars.is_exact for m in range(1, ctx.max_power + 1)
            if m in ctx._powers)
    exact = {
        "information_exponent": bool(steps) and steps[0].certified and exact_kind,
        "leap": online_ok,
        "giant_step_exponent": online_ok and gs_exp is not None,
        "few_step_exponent": online_ok and few_exp is not None,
        "generative_exponent": reuse_ok,
        "reuse": reuse_ok,
        "student_information_exponent": student is not None and exact_kind and student_exact
        and bool(steps) and steps[0].certified,
        "directions": exact_kind,
        "alpha_c": amp.alpha_c is not None and (
            (amp.alpha_c == 0 and amp.trivial.scalars.is_exact)
            or (math.isinf(amp.alpha_c) and reuse_ok)),
    }
    notes = list(ctx.notes)
    if not ctx.polynomial:
        notes.append("non-polynomial target: Hermite expansion truncated at degree "
                     f"{ctx.max_degree}")
    if ctx.values is not None:
        notes.append(f"the label takes finitely many values: {', '.join(map(str, ctx.values))}")
    return ExponentReport(
        target=ctx.target, student=student_name, information_exponent=ie,
        student_information_exponent=student_ie, leap=leap, online=steps,
        online_note=online.note, relevant=relevant, giant_step_exponent=gs_exp,
        giant_step_subspaces=gs.subspaces, few_step_exponent=few_exp,
        few_steps=MappingProxyType(few), generative_exponent=gen, reuse=reuse_class,
        reuse_steps=reuse.steps, reuse_note=reuse.note, amp=amp,
        exact=MappingProxyType(exact), max_degree=ctx.max_degree, max_power=ctx.max_power,
        notes=tuple(notes))


def _amp(ctx: Context, reuse, relevant: Subspace, cache: ImageCache, want_alpha: bool) -> AmpReport:
    scalars = reuse.final.scalars
    U0 = Subspace.zero(ctx.k, scalars)
    perp = U0.complement()
    first, second = [], []
    for m in range(1, ctx.max_power + 1):
        imgs = cache.images(m, U0, perp, 2)
        first += imgs[1]
        second += imgs[2]
    trivial = Subspace.span(ctx.k, first, scalars) if scalars.kind != "float" else \
        Subspace.span(ctx.k, [tuple(float(x) for x in v) for v in first], scalars)
    both = trivial.extend(second if scalars.kind != "float" else
                          [tuple(float(x) for x in v) for v in second])
    easy = both.relative_complement(trivial)
    rel = relevant if relevant.scalars.kind == scalars.kind else \
        Subspace.span(ctx.k, relevant.orthonormal_float().tolist(), scalars)
    hard = Subspace.span(ctx.k, [both.residual(b) for b in rel.basis], scalars)
    if trivial.dim > 0:
        return AmpReport(trivial, easy, hard, 0.0, None,
                         "trivial subspace non-zero: weak recovery at every alpha > 0")
    if easy.dim == 0:
        return AmpReport(trivial, easy, hard, math.inf, None,
                         "E[z | y] and E[z z^T | y] - I vanish (see the reuse certificates): "
                         "no weak recovery at n = O(d)")
    if not want_alpha:
        return AmpReport(trivial, easy, hard, None, None, "alpha_c not computed")
    if ctx.k > 8:
        return AmpReport(trivial, easy, hard, None, None,
                         "alpha_c is computed for at most 8 latent coordinates")
    res = _alpha_c(ctx.target)
    err = res.value_error if math.isfinite(res.value) else None
    return AmpReport(trivial, easy, hard, res.value, err,
                     f"numeric: Monte Carlo, n = {res.samples}, {res.bins} label bins, "
                     f"seed 0; radius {res.radius:.4g} +- {res.error:.2g}")
