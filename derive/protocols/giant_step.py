"""One giant gradient step with a batch of n = d^l samples (docs/theory.md §3.3).

It learns U*_l = sum_{k <= l} Im(C_k); the exponent is the smallest l with U*_l equal to the
relevant subspace (Dandi, Krzakala, Loureiro, Pesce, Stephan, arXiv 2305.18270).
`GiantStep(student="relu")` keeps only the orders k whose Hermite coefficient c_k(sigma) the
student has (module _student).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, final

from ._base import Analysis, Protocol, ProtocolResult
from ._step import Step, batch_cost
from ._student import StudentCoefficients
from ._subspace import giant_step

__all__ = ["GiantStep"]


@final
@dataclass(frozen=True)
class GiantStep(Protocol):
    """One GD step on a batch of n = d^l fresh samples, for growing l."""

    name: ClassVar[str] = "giant_step"
    requires: ClassVar[tuple[str, ...]] = ("online",)
    student: str | None = None

    def analyse(self, analysis: Analysis) -> ProtocolResult:
        online = analysis.result("online")
        relevant = online.data["relevant"]
        ctx = analysis.ctx
        student = None
        if self.student is not None:
            degree = ctx.power(1).degree if ctx.polynomial else ctx.max_degree
            student = StudentCoefficients.of(self.student, max(degree, 1) + 1)
        gs = giant_step(ctx, relevant, analysis.cache, student)
        exponent = gs.exponent
        steps, last = [], analysis.zero()
        for l, space in enumerate(gs.subspaces, start=1):
            if space.dim == last.dim:
                continue
            steps.append(Step(len(steps), l, f"one giant step, n = d^{l}", last, space,
                              batch_cost(l), (), True, f"Im C_{l} adds directions"))
            last = space
        proved = online.proved and exponent is not None
        return ProtocolResult(
            protocol=self.name, title="one giant step", steps=tuple(steps),
            start=analysis.zero(), exponent=exponent, exponent_name="giant-step exponent l",
            proved=proved,
            complexity="?" if exponent is None else f"one step, n = d^{exponent}",
            exact={"giant_step_exponent": proved},
            note="U*_l = sum_{k <= l} Im C_k",
            rows=(("giant-step exponent l", exponent, proved),),
            json={"giant_step_exponent": exponent,
                  "giant_step": [
                      {"l": l + 1, "dimension": u.dim,
                       "basis": [[float(x) for x in row] for row in u.orthonormal_float()]}
                      for l, u in enumerate(gs.subspaces)]},
            data={"subspaces": gs.subspaces})
