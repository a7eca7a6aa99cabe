"""The full engine: d-dimensional weights, SGD on sampled Gaussian inputs (docs/theory.md §6.1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, final

from .. import _full
from ._base import Engine, OnlineSGD, StepsPerBatch

__all__ = ["FullEngine"]


@final
@dataclass(frozen=True)
class FullEngine(Engine):
    """Simulates W (p x d) directly: cost O(d) per step; online SGD and k steps per batch."""

    name: ClassVar[str] = "full"
    protocols = (OnlineSGD, StepsPerBatch)

    def run(self, scenario, d, n_steps, keys, record_every, dtype, *, protocol, progress):
        return _full.run(scenario, d, n_steps, keys, record_every, dtype,
                         reuse=protocol.steps_per_batch, progress=progress)
