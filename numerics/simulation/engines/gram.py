"""The gram engine: the exact finite-d Markov chain of the overlaps (docs/theory.md §6.2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, final

from .. import _escape, _gram, _gram_giant, _gram_multipass
from ._adaptive import AdaptiveLoss
from ._base import Engine, EscapeThreshold, OnlineSGD, StepsPerBatch
from ._giant import GiantSteps
from ._reuse import SAM, Extragradient, MultiPass, displacement

__all__ = ["GramEngine"]


@final
@dataclass(frozen=True)
class GramEngine(Engine):
    """Simulates the Gram matrix of [W; W*] exactly: cost per step independent of d; online
    SGD, k steps per batch, giant steps, extragradient and SAM; multi-pass GD exactly too,
    at a cost O(n p (k + p + min(n, d))) per step (n = alpha d: not flat in d); an escape
    threshold as an event stop (online SGD, k steps per batch and extragradient)."""

    name: ClassVar[str] = "gram"
    protocols = (OnlineSGD, StepsPerBatch, GiantSteps, MultiPass, Extragradient, SAM,
                 AdaptiveLoss)

    def check(self, scenario, protocol) -> None:
        super().check(scenario, protocol)
        _gram.check_exact(scenario)

    def run(self, scenario, d, n_steps, keys, record_every, dtype, *, protocol, progress):
        if isinstance(protocol, GiantSteps):
            return _gram_giant.run(scenario, d, n_steps, keys, record_every, dtype,
                                   n=protocol.n, lr=protocol.learning_rate(scenario),
                                   normalize_rows=protocol.normalize_rows,
                                   progress=progress)
        if isinstance(protocol, MultiPass):
            return _gram_multipass.run(scenario, d, n_steps, keys, record_every, dtype,
                                       alpha=protocol.alpha, progress=progress)
        return _gram.run(scenario, d, n_steps, keys, record_every, dtype,
                         reuse=protocol.steps_per_batch,
                         schedule=protocol.learning_rate_schedule,
                         variant=displacement(protocol),
                         adaptive=protocol if isinstance(protocol, AdaptiveLoss) else None,
                         progress=progress)

    def first_passage(self, scenario, d, keys, stop: EscapeThreshold, limit, *,
                      progress=False, protocol=None):
        reuse = 1 if protocol is None else protocol.steps_per_batch
        if protocol is not None:
            self.check(scenario, protocol)
            if not isinstance(protocol, OnlineSGD | StepsPerBatch | Extragradient):
                raise ValueError(f"the escape-time event loop runs online SGD, k steps per "
                                 f"batch and extragradient, got {protocol.describe()!r}; "
                                 f"simulate() over a horizon and escape_times take any "
                                 f"protocol")
            if not protocol.learning_rate_schedule.constant:
                raise ValueError(
                    f"the escape-time event loop runs a constant learning rate, got "
                    f"{protocol.describe()!r}; simulate() over a horizon and escape_times "
                    f"take any schedule")
        return _escape.gram_escape_steps(scenario, d, keys, stop.threshold, limit,
                                         need=stop.need, reuse=reuse,
                                         variant=() if protocol is None
                                         else displacement(protocol))
