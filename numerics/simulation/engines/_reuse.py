"""Data-reuse training protocols beyond k steps per batch (docs/reuse.md).

`MultiPass(alpha)`: full-batch gradient descent on one fixed training set of n = alpha d
samples, drawn once per seed and used at every step (Dandi et al., arXiv 2402.03220, the
multi-pass setting their dynamical mean-field theory describes). One step is the Scenario's
update with the whole set as the batch,

    w_j <- w_j + (lr / n) sum_mu a_j Delta_e^mu sigma'(lambda_j^mu) x^mu / sqrt(d),

so the overlaps move by O(lr / d) per step and, with t = steps / d as for online SGD, the
d -> infinity limit at fixed t and alpha is gradient flow on the empirical risk with rate
lr (the time of escalier.numerics.dmft). scenario.batch is not used. The full engine
holds the S training sets and refuses beyond 4 GiB (simulation._multipass); the gram engine
keeps each set's frame coordinates, S n (k + p + 1 + min(n, d - k - p)) numbers, under
the same budget (simulation._gram_multipass).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar, final

from ._base import TrainingProtocol

__all__ = ["SAM", "Extragradient", "MultiPass", "displacement"]


def _check_positive(value, what: str) -> None:
    """A protocol's positive finite parameter, or one line naming it."""
    try:
        ok = math.isfinite(float(value)) and float(value) > 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{what} must be a positive number, got {value!r}")


@final
@dataclass(frozen=True)
class MultiPass(TrainingProtocol):
    """Full-batch GD on a fixed set of n = round(alpha d) samples (module docstring)."""

    name: ClassVar[str] = "multipass"
    alpha: float = 2.0

    def __post_init__(self):
        _check_positive(self.alpha, "alpha (samples / d)")

    @property
    def steps_per_batch(self) -> int:
        return 1

    def samples(self, d: int) -> int:
        """n = max(1, round(alpha d))."""
        return max(1, round(float(self.alpha) * d))

    def describe(self) -> str:
        return f"multi-pass GD, n = {self.alpha:g} d"


@final
@dataclass(frozen=True)
class Extragradient(TrainingProtocol):
    """Extragradient (displaced) SGD: on each fresh batch, the Scenario's step is taken from
    w with the gradient evaluated at the look-ahead point w' = w + probe x (that step at w):

        w' = w + probe lr g(w; X),   w <- w + lr g(w'; X)

    (g: the Scenario's descent direction; the second layer likewise, with probe lr_a).
    probe = 1 is classical extragradient; the displaced SGD of Arnaboldi et al. (arXiv
    2405.15459, their DisplacedSGD) takes a look-ahead larger than the step (probe = 10 in
    their He4 runs), so the second gradient queries the label through an O(1) shift of the
    pre-activation while the step itself stays small. With Scenario.spherical the update is
    w <- sqrt(d) (w + lr g(w'; X)) / ||.||, the look-ahead point w' not projected."""

    name: ClassVar[str] = "extragradient"
    probe: float = 1.0

    def __post_init__(self):
        _check_positive(self.probe, "the look-ahead rate (probe, a multiple of the step's "
                                    "learning rate)")

    @property
    def steps_per_batch(self) -> int:
        return 1

    def describe(self) -> str:
        if float(self.probe) == 1.0:
            return "extragradient"
        return f"extragradient (look-ahead {float(self.probe):g} x lr)"


@final
@dataclass(frozen=True)
class SAM(TrainingProtocol):
    """Sharpness-aware minimisation (Foret et al., arXiv 2010.01412) on each fresh batch:
    the gradient is evaluated at the adversarial (loss-ascent) point w_adv = w - rho g / ||g||
    (g the descent direction of all first-layer weights, ||.|| the Frobenius norm of
    W / sqrt(d), so rho is in units of the overlaps; the second layer is not displaced), and
    the Scenario's step is taken from w with it. Not spherical."""

    name: ClassVar[str] = "sam"
    rho: float = 0.05

    def __post_init__(self):
        if not (isinstance(self.rho, int | float) and math.isfinite(self.rho) and self.rho > 0):
            raise ValueError(f"SAM radius rho must be a positive number, got {self.rho!r}")

    @property
    def steps_per_batch(self) -> int:
        return 1

    def describe(self) -> str:
        return f"SAM (rho = {self.rho:g})"


def displacement(protocol: TrainingProtocol) -> tuple:
    """The engines' name for a protocol's displaced gradient evaluation: ("sam", rho),
    ("extragradient", probe), or () for plain steps (the `variant` of both engines' runs)."""
    if isinstance(protocol, SAM):
        return ("sam", float(protocol.rho))
    if isinstance(protocol, Extragradient):
        return ("extragradient", float(protocol.probe))
    return ()
