"""Batch reuse (data repetition): the generalised staircase (docs/theory.md §3.4).

A new direction given U costs O(d) when E[z_perp | y, z_U] != 0 (first order), O(d log d)
when only E[He_2(z_perp) | y, z_U] != 0 (second order); higher conditional orders are hard.
The generative exponent reported is the largest conditional order met along the staircase
(Dandi et al., arXiv 2402.03220; Arnaboldi et al., arXiv 2405.15459; Damian et al.,
arXiv 2403.05529 and 2506.05500).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, final

from .._generative import reuse_staircase
from .._step import reuse_class
from ._base import Analysis, Protocol, ProtocolResult

__all__ = ["Reuse"]


@final
@dataclass(frozen=True)
class Reuse(Protocol):
    """Two (or more) gradient steps on each batch: a label transform, so the generative
    exponent governs the cost."""

    name: ClassVar[str] = "reuse"
    requires: ClassVar[tuple[str, ...]] = ("online",)

    def analyse(self, analysis: Analysis) -> ProtocolResult:
        ctx = analysis.ctx
        online = analysis.result("online")
        res = reuse_staircase(ctx, online.data["relevant"], online.data["complete"],
                              analysis.cache)
        gen = max((s.order for s in res.steps), default=None)
        cls = None if gen is None else reuse_class(gen)
        proved = res.complete and all(s.certified for s in res.steps) and \
            all(ctx.power(m).scalars.is_exact for m in range(1, ctx.max_power + 1)
                if m in ctx._powers)
        start = res.steps[0].before if res.steps else analysis.zero()
        return ProtocolResult(
            protocol=self.name, title="batch reuse", steps=res.steps, start=start,
            exponent=gen, exponent_name="generative exponent", proved=proved,
            complexity="?" if cls is None else cls,
            exact={"generative_exponent": proved, "reuse": proved}, note=res.note,
            rows=(("generative exponent", gen, proved), ("batch reuse class", cls, proved)),
            section="batch-reuse staircase",
            json={"generative_exponent": gen, "reuse": cls,
                  "reuse_staircase": [s.to_json() for s in res.steps]},
            data={"result": res, "class": cls})
