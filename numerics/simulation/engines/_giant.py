"""Giant steps: a few full-batch GD steps, each on a fresh batch of n samples (docs/giant.md).

Dandi, Krzakala, Loureiro, Pesce, Stephan, arXiv 2305.18270: one step on n = Theta(d^l)
samples learns the subspace U*_l, a few steps the staircase of linearly connected
directions (escalier.derive: GiantStep, FewSteps). Both engines run this protocol: the full
engine in d dimensions, the gram engine exactly in law at a cost independent of d.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, final

import numpy as np

from ._base import TrainingProtocol

__all__ = ["GiantSteps"]


@final
@dataclass(frozen=True)
class GiantSteps(TrainingProtocol):
    """`steps` full-batch GD steps from the random start, each on n fresh samples:
    W <- W + (lr / n) C^T X / sqrt(d) (the Scenario's update with the batch n and, if given,
    the learning rate `lr` instead of Scenario.lr). The run takes exactly `steps` steps
    whatever time `simulate` is given; record times are steps / d as for every protocol.
    normalize_rows=True rescales every row to |w_j|^2 = d after each step (the row span is
    unchanged; the pre-activations keep unit variance, so each step sees the student's
    Hermite coefficients at unit variance, docs/giant.md §1.3)."""

    name: ClassVar[str] = "giant_steps"
    n: int
    steps: int = 1
    lr: float | None = None
    normalize_rows: bool = False

    def __post_init__(self):
        for name in ("n", "steps"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise ValueError(f"giant steps: {name} must be an integer >= 1, got {v!r}")
        if self.lr is not None and not (isinstance(self.lr, int | float | np.floating)
                                        and math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"giant steps: lr must be a positive finite number, got "
                             f"{self.lr!r}")
        if not isinstance(self.normalize_rows, bool):
            raise ValueError(f"giant steps: normalize_rows must be a bool, got "
                             f"{self.normalize_rows!r}")

    @property
    def steps_per_batch(self) -> int:
        return 1

    def total_steps(self, time: float, d: int) -> int:
        return int(self.steps)

    def learning_rate(self, scenario) -> float:
        """The first-layer learning rate of each step (lr, else Scenario.lr)."""
        return float(scenario.lr if self.lr is None else self.lr)

    def describe(self) -> str:
        lr = "" if self.lr is None else f", lr = {self.lr:g}"
        rows = ", rows renormalised" if self.normalize_rows else ""
        return f"{self.steps} giant step(s) of n = {self.n}{lr}{rows}"
