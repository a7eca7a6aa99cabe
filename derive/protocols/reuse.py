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

from ._base import Analysis, Protocol, ProtocolResult
from ._step import reuse_class
from ._witness import reuse_staircase

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
        # proved: the staircase is complete, every lower order at every step is certified
        # to vanish, and the label powers whose moments witnessed each step are exact (a
        # numerical power elsewhere, e.g. y^2 of erf(z1), does not weaken a witness from y)
        proved = res.complete and all(s.certified for s in res.steps) and \
            all(ctx.power(m).scalars.is_exact for ms in res.witness_powers for m in ms)
        bound = generative_bound(gen, cls, proved, res)
        complexity = ("?" if cls is None else cls if proved else
                      f"<= {cls}, not proved" if bound["relation"] == "<=" else
                      f"{cls} or more, not proved")
        start = res.steps[0].before if res.steps else analysis.zero()
        return ProtocolResult(
            protocol=self.name, title="batch reuse", steps=res.steps, start=start,
            exponent=gen, exponent_name="generative exponent", proved=proved,
            complexity=complexity,
            exact={"generative_exponent": proved, "reuse": proved}, note=res.note,
            # an unproved value is shown as a bound, never as a plain number
            rows=(("generative exponent", bound["text"], None),
                  ("batch reuse class", complexity, None)),
            section="batch-reuse staircase",
            json={"generative_exponent": gen if proved else None,
                  "reuse": cls if proved else None,
                  "generative_exponent_bound": bound,
                  "reuse_staircase": [s.to_json() for s in res.steps]},
            data={"result": res, "class": cls, "bound": bound})


def generative_bound(gen: int | None, cls: str | None, proved: bool, res) -> dict:
    """The generative exponent as what is proved about it.

    Returns:
        {"proved", "relation", "value", "reuse", "text"}: relation "=" when proved, "<="
        when a witness staircase reaches every relevant direction but some lower order was
        neither found nor proved to vanish (the value found is then an upper bound),
        "undetermined" when the staircase did not reach every relevant direction.
    """
    if proved:
        text = str(gen) if gen is not None else "none (the target is constant)"
        return {"proved": True, "relation": "=", "value": gen, "reuse": cls, "text": text}
    if gen is None or not res.complete:
        text = ("not determined" + ("" if gen is None else f" (orders up to {gen} found)")
                + f"; {res.note}")
        return {"proved": False, "relation": "undetermined", "value": gen, "reuse": None,
                "text": text}
    reasons = []
    for step, order, m, _ in res.searched:
        where = "" if step == 0 else f" at step {step + 1}"
        reasons.append(f"{_ordinal(order)} order not found{where} up to m = {m}")
    if not reasons:
        reasons.append("numerical coefficients")
    return {"proved": False, "relation": "<=", "value": gen, "reuse": cls,
            "text": f"<= {gen}, not proved; {'; '.join(reasons)}"}


def _ordinal(k: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(k, f"{k}th")
