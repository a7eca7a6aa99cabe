"""A few gradient steps, each on a fresh batch of n = d^l samples (docs/theory.md §3.3).

U_{t+1} = U_t + sum_{k <= l} Im T_k(U_t); the exponent is the smallest l whose chain learns
every relevant direction (Dandi et al., arXiv 2305.18270). `FewSteps(l=3)` fixes l.
`FewSteps(student="relu")` keeps only the terms the student sees (a term of degree t in the
new directions and m in U_t needs its Hermite coefficient c_(m+t) != 0, module _student)
and says, where the chain stops, which vanishing coefficients stop it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, final

from ._base import Analysis, Protocol, ProtocolResult
from ._step import Step
from ._student import StudentCoefficients
from ._subspace import few_steps, student_block

__all__ = ["FewSteps"]


@final
@dataclass(frozen=True)
class FewSteps(Protocol):
    """A few GD steps with fresh batches of n = d^l; l = None picks the smallest l that works."""

    name: ClassVar[str] = "few_steps"
    requires: ClassVar[tuple[str, ...]] = ("online", "giant_step")
    l: int | None = None
    student: str | None = None

    def __post_init__(self):
        if self.l is not None and (isinstance(self.l, bool) or not isinstance(self.l, int)
                                   or self.l < 1):
            raise ValueError(f"the batch exponent l must be an integer >= 1, got {self.l!r}")

    def analyse(self, analysis: Analysis) -> ProtocolResult:
        online = analysis.result("online")
        relevant = online.data["relevant"]
        chains: dict[int, tuple[Step, ...]] = {}
        blocked: dict[int, dict] = {}
        exponent = None
        ctx = analysis.ctx
        student, top = None, 0
        if self.student is not None:
            degree = ctx.power(1).degree if ctx.polynomial else ctx.max_degree
            top = max(degree, self.l or 1, analysis.result("giant_step").exponent or 1)
            student = StudentCoefficients.of(self.student, top + 1)

        def chain_at(l):
            chain, reaches = few_steps(ctx, l, relevant, analysis.cache, student)
            chains[l] = chain
            if student is not None and not reaches:
                U = chain[-1].after if chain else analysis.zero()
                blocked[l] = {"step": len(chain) + 1, **student_block(ctx, l, U, student)}
            return reaches

        if self.l is None:
            giant = analysis.result("giant_step").exponent
            # a student-aware giant step may find nothing: still try l up to the degree
            upper = giant or (top if student is not None else 0)
            for l in range(1, upper + 1):
                if chain_at(l):
                    exponent = l
                    break
            shown = exponent
        else:
            exponent = self.l if chain_at(self.l) else None
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
                  "few_steps": {str(l): [s.to_json() for s in c] for l, c in chains.items()},
                  **({"few_steps_student": self.student,
                      "few_steps_blocked": {str(l): b for l, b in blocked.items()}}
                     if student is not None else {})},
            data={"chains": chains, "blocked": blocked, "student": self.student})
