"""A toy protocol, written the way a contributor adds one: this module plus one registry line.

"first_leap": a protocol that stops after the first phase of the online staircase (a learner
that only ever sees the lowest non-zero order). Its exponent is the information exponent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, final

from escalier.derive.protocols import Analysis, Protocol, ProtocolResult


@final
@dataclass(frozen=True)
class FirstLeap(Protocol):
    name: ClassVar[str] = "first_leap"
    requires: ClassVar[tuple[str, ...]] = ("online",)

    def analyse(self, analysis: Analysis) -> ProtocolResult:
        online = analysis.result("online")
        steps = online.steps[:1]
        order = steps[0].order if steps else None
        return ProtocolResult(
            protocol=self.name, title="first leap only", steps=steps, start=analysis.zero(),
            exponent=order, exponent_name="first order", proved=online.proved,
            complexity="?" if order is None else steps[0].cost,
            rows=(("first-leap order", order, online.proved),), section="first-leap staircase")
