"""Approximate message passing at n = alpha d: weak learnability (docs/theory.md §3.5).

Trivial subspace span_y E[z | y] (any alpha > 0); easy subspace: the images of
G(y) = E[z z^T | y] - I outside it (alpha > alpha_c); hard: the relevant directions in
neither (Troiani et al., AISTATS 2025, arXiv 2405.15480). alpha_c is numerical.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, final

from ..algebra import Subspace
from ._alpha_c import alpha_c as _alpha_c
from ._base import Analysis, Protocol, ProtocolResult

__all__ = ["Amp", "AmpReport"]


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


@final
@dataclass(frozen=True)
class Amp(Protocol):
    """AMP with n = alpha d samples: trivial, easy and hard subspaces and alpha_c."""

    name: ClassVar[str] = "amp"
    requires: ClassVar[tuple[str, ...]] = ("online", "reuse")

    def analyse(self, analysis: Analysis) -> ProtocolResult:
        ctx = analysis.ctx
        reuse = analysis.result("reuse")
        amp = _classes(ctx, reuse.data["result"], analysis.result("online").data["relevant"],
                       analysis.cache, analysis.alpha_c)
        a = amp.alpha_c
        proved = a is not None and ((a == 0 and amp.trivial.scalars.is_exact)
                                    or (math.isinf(a) and reuse.proved))
        complexity = ("?" if a is None else "n = alpha d, any alpha > 0" if a == 0 else
                      "not weakly learnable with n = O(d)" if math.isinf(a) else
                      f"n = alpha d, alpha > alpha_c = {a:.4g} (numeric)")
        steps = ()
        return ProtocolResult(
            protocol=self.name, title="AMP, n = alpha d", steps=steps, start=analysis.zero(),
            exponent=a, exponent_name="alpha_c", proved=proved, complexity=complexity,
            exact={"alpha_c": proved}, note=amp.note, json={"amp": amp.to_json()},
            data={"report": amp})


def _classes(ctx, reuse, relevant: Subspace, cache, want_alpha: bool) -> AmpReport:
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
