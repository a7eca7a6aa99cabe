"""Learning curves: the fixed point along a list of alpha, each started from the previous one."""

from __future__ import annotations

import numpy as np

from ._losses import Loss
from ._mixture import Mixture
from ._state_evolution import FixedPoint, solve_fixed_point
from ._teachers import Teacher

__all__ = ["learning_curve"]


def learning_curve(mix: Mixture, loss: Loss, teacher: Teacher, alphas, lam: float,
                   **options) -> list[FixedPoint]:
    """`solve_fixed_point` at each alpha (in the order given), continuing from the previous
    fixed point when the alphas are increasing; options go to `solve_fixed_point`.

    Raises:
        ValueError, FixedPointError: as `solve_fixed_point`, naming the failing alpha.
    """
    alphas = [float(a) for a in np.atleast_1d(np.asarray(alphas, dtype=float))]
    if not alphas:
        raise ValueError("no alpha given")
    out: list[FixedPoint] = []
    for alpha in alphas:
        init = out[-1].state() if out and alpha >= out[-1].alpha else None
        out.append(solve_fixed_point(mix, loss, teacher, alpha, lam, init=init, **options))
    return out
