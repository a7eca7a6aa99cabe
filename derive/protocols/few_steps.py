"""A few gradient steps, each on a fresh batch of n = d^l samples (docs/theory.md §3.3).

U_{t+1} = U_t + sum_{k <= l} Im T_k(U_t); the exponent is the smallest l whose chain learns
every relevant direction (Dandi et al., arXiv 2305.18270). `FewSteps(l=3)` fixes l.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, final

from ._base import Analysis, Protocol, ProtocolResult
from ._step import Step
from ._subspace import few_steps

__all__ = ["FewSteps"]


@final
@dataclass(frozen=True)
class FewSteps(Protocol):
    """A few GD steps with fresh batches of n = d^l; l = None picks the smallest l that works."""

    name: ClassVar[str] = "few_steps"
    requires: ClassVar[tuple[str, ...]] = ("online", "giant_step")
    l: int | None = None

    def __post_init__(self):
        if self.l is not None and (isinstance(self.l, bool) or not isinstance(self.l, int)
                                   or self.l < 1):
            raise ValueError(f"the batch exponent l must be an integer >= 1, got {self.l!r}")

    def analyse(self, analysis: Analysis) -> ProtocolResult:
        online = analysis.result("online")
        relevant = online.data["relevant"]
        chains: dict[int, tuple[Step, ...]] = {}
        exponent = None
        if self.l is None:
            giant = analysis.result("giant_step").exponent
            for l in range(1, (giant or 0) + 1):
                chain, reaches = few_steps(analysis.ctx, l, relevant, analysis.cache)
                chains[l] = chain
                if reaches:
                    exponent = l
                    break
            shown = exponent
        else:
            chain, reaches = few_steps(analysis.ctx, self.l, relevant, analysis.cache)
            chains[self.l] = chain
            exponent = self.l if reaches else None
            shown = self.l
        steps = chains.get(shown, ()) if shown is not None else ()
        proved = online.proved and exponent is not None
        n_steps = len(steps)
        return ProtocolResult(
            protocol=self.name, title="few giant steps", steps=steps, start=analysis.zero(),
            exponent=exponent if self.l is None else shown,
            exponent_name="few-steps exponent l", proved=proved,
            complexity="?" if exponent is None else
            f"{n_steps} step{'s' if n_steps != 1 else ''}, n = d^{exponent} each",
            exact={"few_step_exponent": proved},
            note="U_{t+1} = U_t + sum_{k <= l} Im T_k(U_t)",
            rows=(("few-steps exponent l", exponent, proved),),
            json={"few_step_exponent": exponent,
                  "few_steps": {str(l): [s.to_json() for s in c] for l, c in chains.items()}},
            data={"chains": chains})
