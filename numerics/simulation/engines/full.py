"""The full engine: d-dimensional weights, SGD on sampled Gaussian inputs (docs/theory.md §6.1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, final

from .. import _full, _full_giant
from ._base import Engine, OnlineSGD
from ._giant import GiantSteps

__all__ = ["FullEngine"]


@final
@dataclass(frozen=True)
class FullEngine(Engine):
    """Simulates W (p x d) directly: cost O(d) per step; online SGD and giant steps."""

    name: ClassVar[str] = "full"
    protocols = (OnlineSGD, GiantSteps)

    def run(self, scenario, d, n_steps, keys, record_every, dtype, *, protocol, progress):
        if isinstance(protocol, GiantSteps):
            return _full_giant.run(scenario, d, n_steps, keys, record_every, dtype,
                                   n=protocol.n, lr=protocol.learning_rate(scenario),
                                   progress=progress)
        return _full.run(scenario, d, n_steps, keys, record_every, dtype, progress=progress)
