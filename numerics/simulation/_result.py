"""The result of a network simulation: the contract shared by every engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from jaxtyping import Float

from escalier.derive import Scenario

__all__ = ["SimulationResult"]


@dataclass(frozen=True)
class SimulationResult:
    """Recorded overlaps of S independent runs (seeds) at T record times.

    Attributes:
        scenario: the Scenario simulated.
        d: input dimension.
        engine: "full" (d-dimensional weights) or "gram" (exact overlap-space chain).
        times: (T,) record times in units t = steps / d.
        Q: (S, T, p, p) student-student overlaps W W^T / d.
        M: (S, T, p, k) student-teacher overlaps W W*^T / d.
        a: (S, T, p) second-layer weights.
        risk: (S, T) population risk computed from the overlaps, or None.
        config: JSON-serialisable configuration that produced the run (seed included).
    """

    scenario: Scenario
    d: int
    engine: str
    times: Float[np.ndarray, " times"]
    Q: Float[np.ndarray, "seeds times p p"]
    M: Float[np.ndarray, "seeds times p k"]
    a: Float[np.ndarray, "seeds times p"]
    risk: Float[np.ndarray, "seeds times"] | None
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def seeds(self) -> int:
        return int(self.Q.shape[0])

    def initial_overlaps(self) -> dict[str, np.ndarray]:
        """Each seed's own initial overlaps, to start the ODE from: Q (S, p, p), M (S, p, k),
        a (S, p) at t = 0."""
        return {"Q": self.Q[:, 0], "M": self.M[:, 0], "a": self.a[:, 0]}

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict with the configuration and every recorded array."""
        return {
            "config": self.config,
            "d": self.d,
            "engine": self.engine,
            "times": self.times.tolist(),
            "Q": self.Q.tolist(),
            "M": self.M.tolist(),
            "a": self.a.tolist(),
            "risk": None if self.risk is None else self.risk.tolist(),
        }
