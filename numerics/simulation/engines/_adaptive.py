"""The adaptive loss protocol of arXiv 2406.02157: correlation loss until an overlap passes a
threshold, then square loss (docs/batch.md, "Adaptive protocol").

Each step uses the correlation loss (Delta_e = y) while the run has not switched and the
square loss (Delta_e = y - yhat) after; the run switches, for good, after the first step
whose new weights have `measure(M) >= threshold` (or at the start if the initial overlaps
already do), with M = W W*^T / d and

    measure(M) = max_{j, r} |M_jr|     (overlap = "max")
               = sqrt(sum_{j, r} M_jr^2)  (overlap = "norm"; both are |m| for p = k = 1).

The Scenario's own `loss` is ignored. Both engines carry the switch as a flag in their
jitted loop (the step of the loss in force, chosen with a select), so a run is, step for
step, the correlation run of the same seed up to the switching step and the square-loss
run of the switched state after it. The ODE twin integrates the correlation ODE up to the
crossing (a diffrax event) and the square-loss ODE from there
(escalier.numerics.verify.adaptive_ode).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar, final

from ._base import TrainingProtocol

__all__ = ["AdaptiveLoss"]

OVERLAPS = ("max", "norm")


@final
@dataclass(frozen=True)
class AdaptiveLoss(TrainingProtocol):
    """Correlation loss until measure(M) >= threshold, then square loss (module docstring).

    Attributes:
        threshold: the switching overlap, in (0, 1).
        overlap: "max" (max_jr |M_jr|) or "norm" (Frobenius norm of M).
    """

    name: ClassVar[str] = "adaptive"
    threshold: float = 0.5
    overlap: str = "max"

    def __post_init__(self):
        t = self.threshold
        if isinstance(t, bool) or not isinstance(t, int | float) or not (
                math.isfinite(t) and 0 < t < 1):
            raise ValueError(f"adaptive loss: threshold must be in (0, 1), got {t!r}")
        if self.overlap not in OVERLAPS:
            raise ValueError(f"adaptive loss: overlap must be one of {OVERLAPS}, got "
                             f"{self.overlap!r}")

    @property
    def steps_per_batch(self) -> int:
        return 1

    def measure(self, M):
        """The switching overlap of M (..., p, k) (jax.numpy; traced in the engines)."""
        import jax.numpy as jnp

        if self.overlap == "max":
            return jnp.max(jnp.abs(M), axis=(-2, -1))
        return jnp.sqrt(jnp.sum(M * M, axis=(-2, -1)))

    def switched(self, M):
        """Whether overlaps M have reached the threshold (boolean, traced)."""
        return self.measure(M) >= self.threshold

    def phases(self, scenario):
        """(correlation Scenario, square Scenario): the two losses of the run."""
        return (dataclasses.replace(scenario, loss="correlation"),
                dataclasses.replace(scenario, loss="square"))

    def describe(self) -> str:
        what = "max |M_jr|" if self.overlap == "max" else "|M|"
        return f"adaptive loss (correlation until {what} >= {self.threshold:g}, then square)"
