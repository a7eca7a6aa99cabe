"""The result of an ODE integration, and the error raised when the solver fails."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["IntegrationError", "OdeSolution"]


class IntegrationError(RuntimeError):
    """The solver failed (step-size collapse, max_steps, non-finite state).

    Attributes:
        time: the time the failing solve reached.
        member: index of the failing initial condition in a batch (None if unbatched).
    """

    def __init__(self, message: str, time: float, member: int | None = None):
        super().__init__(message)
        self.time = time
        self.member = member


@dataclass(frozen=True)
class OdeSolution:
    """Trajectories of an ODE on a time grid, for one or a batch of initial conditions.

    Attributes:
        times: (T,) record times.
        y: (T, n), or (B, T, n) for B initial conditions: every state component. After a
            terminating event the later records are nan.
        names: the n component names (`solution["M11"]` is y[..., names.index("M11")]).
        risk: (T,) or (B, T) risk along the trajectory, or None when no risk was given.
        event_time: time of the first crossing of the event (float, or (B,) array); nan
            where the threshold is never crossed before times[-1]; None without an event.
        num_steps: accepted + rejected solver steps (int, or (B,) array).
        config: the solver settings (solver, rtol, atol, max_steps, event), JSON-ready.
    """

    times: np.ndarray
    y: np.ndarray
    names: tuple[str, ...]
    risk: np.ndarray | None = None
    event_time: float | np.ndarray | None = None
    num_steps: int | np.ndarray = 0
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def batched(self) -> bool:
        """Whether the solution holds a batch of initial conditions (leading axis)."""
        return self.y.ndim == 3

    def __getitem__(self, name: str) -> np.ndarray:
        """The trajectory of one named component: (T,) or (B, T)."""
        if name not in self.names:
            raise KeyError(f"no component {name!r}; components: {list(self.names)}")
        return self.y[..., self.names.index(name)]
