"""The engine interface, training protocols and stop conditions of `simulate`.

An engine turns a Scenario, a dimension d and one PRNG key per seed into recorded overlaps
Q (S, T, p, p), M (S, T, p, k), a (S, T, p) at steps 0, record_every, ..., n_steps
(t = steps / d, docs/theory.md §1.3). Every engine draws its initial condition with the law of
`initial_state` (w_j ~ N(0, init_scale^2 I_d), spherical rows normalised, W* W*^T / d = P
exactly) and must agree in distribution with the full d-dimensional simulation. An engine
that cannot run a training protocol or a stop condition exactly refuses it with a
ValueError naming both (`Engine.check`). A diverging run may stop early and fill the
remaining records with NaN; `simulate` turns that into a ValueError naming the step.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import Any, ClassVar, final

import numpy as np

from escalier.derive import Scenario

from ._schedule import Constant, Schedule, check_schedule

__all__ = ["Engine", "EscapeThreshold", "Horizon", "OnlineSGD", "StepsPerBatch",
           "StopCondition", "TrainingProtocol"]


class TrainingProtocol(abc.ABC):
    """How the data are used: what a step sees (the update itself is the Scenario's)."""

    name: ClassVar[str]

    @property
    @abc.abstractmethod
    def steps_per_batch(self) -> int:
        """Consecutive SGD steps taken on one mini-batch of scenario.batch samples."""

    def total_steps(self, time: float, d: int) -> int:
        """Steps of a run over `time` (t = steps / d) at dimension d."""
        return max(1, math.ceil(time * d))

    @property
    def learning_rate_schedule(self) -> Schedule:
        """The learning-rate schedule (Constant() unless the protocol carries one)."""
        return getattr(self, "schedule", None) or Constant()

    def describe(self) -> str:
        return self.name

    def _with_schedule(self, text: str) -> str:
        schedule = self.learning_rate_schedule
        return text if schedule.constant else f"{text}, {schedule.describe()}"


@final
@dataclass(frozen=True)
class OnlineSGD(TrainingProtocol):
    """Online SGD: every step draws a fresh mini-batch of scenario.batch samples; `schedule`
    multiplies the learning rates (engines/_schedule.py; default constant)."""

    name: ClassVar[str] = "online"
    schedule: Schedule = Constant()

    def __post_init__(self):
        check_schedule(self.schedule)

    @property
    def steps_per_batch(self) -> int:
        return 1

    def describe(self) -> str:
        return self._with_schedule(self.name)


@final
@dataclass(frozen=True)
class StepsPerBatch(TrainingProtocol):
    """k consecutive SGD steps on each fresh mini-batch (k = 2: "two steps per batch",
    Dandi et al., arXiv 2402.03220), then a fresh batch."""

    name: ClassVar[str] = "steps_per_batch"
    k: int = 2
    schedule: Schedule = Constant()

    def __post_init__(self):
        if isinstance(self.k, bool) or not isinstance(self.k, int | np.integer) or self.k < 1:
            raise ValueError(f"steps per batch k must be an integer >= 1, got {self.k!r}")
        check_schedule(self.schedule)

    @property
    def steps_per_batch(self) -> int:
        return int(self.k)

    def describe(self) -> str:
        return self._with_schedule(f"{self.k} steps per batch")


class StopCondition:
    """When a run stops (base class of Horizon and EscapeThreshold)."""


@final
@dataclass(frozen=True)
class Horizon(StopCondition):
    """Run until the time horizon (t = steps / d) given to `simulate`."""


@final
@dataclass(frozen=True)
class EscapeThreshold(StopCondition):
    """Stop each seed at its first step with |M_1.|_P >= threshold, and the run once `need`
    seeds have escaped (default: more than half); one spherical neuron (p = 1), any k.

    |M_1.|_P = sqrt(M_1. P^+ M_1.^T) is the norm of the neuron's projection on the teacher
    subspace over sqrt(d) (escalier.numerics.simulation.teacher_projection): |m| for a
    single-index teacher, sqrt(sum_r M_1r^2) for orthonormal teacher rows (P = I)."""

    threshold: float = 0.5
    need: int | None = None

    def __post_init__(self):
        if not (math.isfinite(self.threshold) and 0 < self.threshold < 1):
            raise ValueError(f"escape threshold must be in (0, 1), got {self.threshold!r}")
        if self.need is not None and (not isinstance(self.need, int) or self.need < 1):
            raise ValueError(f"need must be an integer >= 1, got {self.need!r}")


class Engine(abc.ABC):
    """A simulation engine (abstract). Concrete engines are small final classes with a
    registry name, `run`, and optionally `first_passage` for event stops."""

    name: ClassVar[str]
    protocols: ClassVar[tuple[type[TrainingProtocol], ...]] = (OnlineSGD,)

    def check(self, scenario: Scenario, protocol: TrainingProtocol) -> None:
        """Refuse a protocol this engine cannot run exactly (ValueError naming both)."""
        if not isinstance(protocol, self.protocols):
            ok = ", ".join(p.name for p in self.protocols)
            raise ValueError(f"engine {self.name!r} cannot run the training protocol "
                             f"{protocol.describe()!r} exactly; it runs: {ok}")

    @abc.abstractmethod
    def run(self, scenario: Scenario, d: int, n_steps: int, keys, record_every: int,
            dtype: str, *, protocol: TrainingProtocol, progress: bool) -> dict[str, Any]:
        """Q (S, T, p, p), M (S, T, p, k), a (S, T, p) at steps 0, record_every, ..., n_steps.

        Args:
            scenario: the Scenario (its docstring fixes the update).
            d: input dimension.
            n_steps: total SGD steps, a multiple of record_every.
            keys: (S,) typed JAX PRNG keys, one per seed.
            record_every: steps between records.
            dtype: "float64" or "float32".
            protocol: the training protocol (already checked).
            progress: show a progress bar.
        """

    @property
    def has_events(self) -> bool:
        """Whether this engine implements `first_passage` (event stops)."""
        return type(self).first_passage is not Engine.first_passage

    def first_passage(self, scenario: Scenario, d: int, keys, stop: EscapeThreshold,
                      limit: int, *, progress: bool = False,
                      protocol: TrainingProtocol | None = None):
        """(steps, m0): each seed's first step with |M_1.|_P >= threshold (nan if none
        within `limit` steps) and its initial overlaps (M_11 for k = 1, else the row M_1.),
        under `protocol` (default online SGD).
        Engines without an event loop refuse."""
        raise ValueError(f"engine {self.name!r} has no event stop ({type(stop).__name__}); "
                         f"use simulate() over a horizon and escape_times, or engine 'gram'")
