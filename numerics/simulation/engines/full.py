"""The full engine: d-dimensional weights, SGD on sampled Gaussian inputs (docs/theory.md §6.1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, final

from .. import _full, _full_giant, _multipass
from ._adaptive import AdaptiveLoss
from ._base import Engine, OnlineSGD, StepsPerBatch
from ._giant import GiantSteps
from ._reuse import SAM, Extragradient, MultiPass, displacement

__all__ = ["FullEngine"]


@final
@dataclass(frozen=True)
class FullEngine(Engine):
    """Simulates W (p x d) directly: cost O(d) per step; online SGD, k steps per batch,
    giant steps, extragradient and SAM, and multi-pass GD (cost O(alpha d^2) per step)."""

    name: ClassVar[str] = "full"
    protocols = (OnlineSGD, StepsPerBatch, GiantSteps, MultiPass, Extragradient, SAM,
                 AdaptiveLoss)

    def run(self, scenario, d, n_steps, keys, record_every, dtype, *, protocol, progress):
        if isinstance(protocol, GiantSteps):
            return _full_giant.run(scenario, d, n_steps, keys, record_every, dtype,
                                   n=protocol.n, lr=protocol.learning_rate(scenario),
                                   normalize_rows=protocol.normalize_rows,
                                   progress=progress)
        if isinstance(protocol, MultiPass):
            return _multipass.run(scenario, d, n_steps, keys, record_every, dtype,
                                  alpha=protocol.alpha, progress=progress)
        return _full.run(scenario, d, n_steps, keys, record_every, dtype,
                         reuse=protocol.steps_per_batch,
                         schedule=protocol.learning_rate_schedule,
                         variant=displacement(protocol),
                         adaptive=protocol if isinstance(protocol, AdaptiveLoss) else None,
                         progress=progress)
