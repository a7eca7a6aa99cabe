"""GiantSteps through `simulate`: the full d-dimensional engine against the gram engine, in
distribution (docs/giant.md).

Both engines run the same protocol object from their own random streams; every overlap
entry (Q upper triangle, M, a) before and after the step(s) is compared with the two-sample
z tests of _gram_reference (means and variances). False-failure budget: each comparison
runs 2 x (number of statistics) tests at level 1e-3 / (2 x statistics) each (Bonferroni),
so correct engines fail it with probability at most 1e-3 (normal approximation, 300+ seeds
per side). Power: the same comparison rejects a gram step with its learning rate off by
10 % (test_power_wrong_learning_rate).
"""

from __future__ import annotations

import numpy as np
import pytest
from _gram_reference import full_giant_step, statistics, two_sample_failures

from escalier.derive import Scenario
from escalier.numerics.simulation import FullEngine, GiantSteps, GramEngine, simulate

ALPHA = 1e-3
SC = Scenario("He2(z1) + z1", student="relu", p=2, noise=0.5, train_second_layer=True)


def _runs(sc, d, protocol, seeds, engine, seed):
    r = simulate(sc, d, 1.0, seeds=seeds, seed=seed, engine=engine, protocol=protocol,
                 progress=False)
    return {"Q": r.Q, "M": r.M, "a": r.a}


def _failures(x, y):
    names, sx = statistics(x)
    _, sy = statistics(y)
    return two_sample_failures(sx, sy, names, alpha=ALPHA)


def test_one_giant_step_full_and_gram_agree_in_distribution():
    # n = d^2 / 4 samples, lr = d: the update is of the order of the weights
    d, n, seeds = 40, 400, 300
    protocol = GiantSteps(n=n, steps=1, lr=40.0)
    full = _runs(SC, d, protocol, seeds, FullEngine(), 1)
    gram = _runs(SC, d, protocol, seeds, GramEngine(), 2)
    assert full["Q"].shape == (seeds, 2, 2, 2)
    assert _failures(full, gram) == []


@pytest.mark.slow
def test_one_giant_step_matches_the_independent_reference():
    # the tests' own d-dimensional step (_gram_reference.full_giant_step, no engine code)
    d, n, seeds = 40, 400, 300
    ref = full_giant_step(SC, d, n, 40.0, seeds, seed=4)
    ref = {k: np.stack([ref[k + "0"], ref[k]], axis=1) for k in "QMa"}
    full = _runs(SC, d, GiantSteps(n=n, lr=40.0), seeds, FullEngine(), 3)
    assert _failures(ref, full) == []


def test_power_wrong_learning_rate():
    d, n, seeds = 40, 400, 300
    full = _runs(SC, d, GiantSteps(n=n, lr=40.0), seeds, FullEngine(), 1)
    gram = _runs(SC, d, GiantSteps(n=n, lr=44.0), seeds, GramEngine(), 2)
    assert _failures(full, gram) != []


@pytest.mark.slow
def test_three_giant_steps_agree_in_distribution():
    sc = Scenario("z1 + z1*z2", student="relu", p=3, loss="correlation")
    protocol = GiantSteps(n=2000, steps=3, lr=60.0)
    full = _runs(sc, 60, protocol, 400, FullEngine(), 5)
    gram = _runs(sc, 60, protocol, 400, GramEngine(), 6)
    assert full["Q"].shape[1] == 4 and gram["Q"].shape[1] == 4  # exactly `steps` steps
    assert _failures(full, gram) == []


def test_giant_steps_refuse_bad_input():
    for bad in (dict(n=0), dict(n=10, steps=0), dict(n=10, lr=-1.0), dict(n=1.5)):
        with pytest.raises(ValueError, match="giant steps"):
            GiantSteps(**bad)
