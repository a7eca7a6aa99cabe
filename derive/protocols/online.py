"""Online SGD from a random start: the subspace recursion (docs/theory.md §3.2).

U_0 = {0}; k_t = min{k >= 1 : T_k(U_t) != 0}; U_{t+1} = U_t + span Im T_{k_t}(U_t);
leap = max_t k_t; phase t costs d^max(k_t - 1, 1) samples (d log d for k_t = 2)
(Ben Arous, Gheissari, Jagannath 2021, arXiv 2003.10409; Abbe, Boix-Adsera, Misiakiewicz,
COLT 2023, arXiv 2302.11055).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, final

from ._base import Analysis, Protocol, ProtocolResult
from ._step import online_cost
from ._subspace import online_staircase

__all__ = ["Online"]


@final
@dataclass(frozen=True)
class Online(Protocol):
    """Online SGD: one fresh sample per step."""

    name: ClassVar[str] = "online"

    def analyse(self, analysis: Analysis) -> ProtocolResult:
        ctx = analysis.ctx
        res = online_staircase(ctx, analysis.cache)
        steps = res.steps
        leap = max((s.order for s in steps), default=None)
        proved = res.complete and all(s.certified for s in steps) and ctx.scalars.is_exact
        return ProtocolResult(
            protocol=self.name, title="online SGD", steps=steps, start=analysis.zero(),
            exponent=leap, exponent_name="leap", proved=proved,
            complexity="?" if leap is None else online_cost(leap),
            exact={"leap": proved}, note=res.note,
            rows=(("leap (online staircase)", leap, proved),), section="online staircase",
            json={"leap": leap,
                  "staircase": [s.to_json() for s in steps],
                  "information_exponent_per_direction": [
                      {"directions": s.directions(), "information_exponent": s.order}
                      for s in steps]},
            data={"relevant": res.final, "complete": res.complete})
