"""Learning-rate schedules: the factor s(t) multiplying the Scenario's learning rates.

The step taken at step index i (i = 0, 1, ...) uses lr * s(i / d) and lr_a * s(i / d), with
t = steps / d the time of docs/theory.md §1.3; under k steps per batch the k steps of one
batch have consecutive indices. The ODE twin of a schedule replaces eta by eta s(t) in the
right-hand side (`scheduled_parameters`), which is the d -> infinity limit of the same
update. Schedules are frozen dataclasses (hashable: they key the engines' compile caches)
and `factor` is written in jax.numpy, so it is traced inside the jitted loops.
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import ClassVar, final

import jax.numpy as jnp

__all__ = ["Constant", "PowerLaw", "Schedule", "StepDecay", "check_schedule"]


def _positive(owner: str, name: str, value, *, upper: float | None = None) -> None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if isinstance(value, bool) or not math.isfinite(v) or v <= 0 or (upper is not None
                                                                      and v > upper):
        bound = f"in (0, {upper:g}]" if upper is not None else "a positive finite number"
        raise ValueError(f"{owner}: {name} must be {bound}, got {value!r}")


class Schedule(abc.ABC):
    """A learning-rate schedule: s(t) > 0 multiplies lr and lr_a at time t = steps / d."""

    name: ClassVar[str]

    @abc.abstractmethod
    def factor(self, t):
        """s(t) for a time or an array of times (jax.numpy; traceable)."""

    @property
    def constant(self) -> bool:
        """Whether s(t) = 1 for all t (the engines then skip the schedule)."""
        return False

    def describe(self) -> str:
        return self.name


@final
@dataclass(frozen=True)
class Constant(Schedule):
    """s(t) = 1: the Scenario's learning rates throughout."""

    name: ClassVar[str] = "constant"

    def factor(self, t):
        return jnp.ones_like(jnp.asarray(t, dtype=float))

    @property
    def constant(self) -> bool:
        return True


@final
@dataclass(frozen=True)
class PowerLaw(Schedule):
    """s(t) = (1 + t / t0)^(-exponent): constant for t << t0, then decaying like t^-exponent
    (exponent 1: the Robbins-Monro rate 1/t of annealed SGD)."""

    name: ClassVar[str] = "power_law"
    t0: float = 1.0
    exponent: float = 1.0

    def __post_init__(self):
        _positive("power-law schedule", "t0", self.t0)
        _positive("power-law schedule", "exponent", self.exponent)

    def factor(self, t):
        return (1.0 + jnp.asarray(t, dtype=float) / self.t0) ** (-self.exponent)

    def describe(self) -> str:
        return f"power law (1 + t/{self.t0:g})^-{self.exponent:g}"


@final
@dataclass(frozen=True)
class StepDecay(Schedule):
    """s(t) = gamma^floor(t / every): multiplied by gamma every `every` units of time (the
    name of PyTorch's StepLR)."""

    name: ClassVar[str] = "step"
    every: float = 1.0
    gamma: float = 0.5

    def __post_init__(self):
        _positive("step schedule", "every", self.every)
        _positive("step schedule", "gamma", self.gamma, upper=1.0)

    def factor(self, t):
        return self.gamma ** jnp.floor(jnp.asarray(t, dtype=float) / self.every)

    def describe(self) -> str:
        return f"step decay x{self.gamma:g} every t = {self.every:g}"


def check_schedule(schedule) -> Schedule:
    """The schedule, checked to be a Schedule (one error for every caller).

    Raises:
        ValueError: anything else, naming the schedules accepted.
    """
    if not isinstance(schedule, Schedule):
        raise ValueError(f"schedule must be a learning-rate schedule (Constant(), "
                         f"PowerLaw(t0, exponent), StepDecay(every, gamma)), got {schedule!r}")
    return schedule
