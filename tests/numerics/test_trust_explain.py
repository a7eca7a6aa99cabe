"""Divergence reported as an error, and explanations where the numbers surprise (issue 10,
classes 3 and 4): escape runs at a learning rate far outside the diffusion regime, runs that
did not escape, deviation exponents far from -1/2."""

import math

import numpy as np
import pytest

from escalier.numerics.verify import DeviationTable, EscapeScaling, escape_scaling
from escalier.numerics.verify._fit import fit_exponent
from escalier.numerics.verify._scaling import scaling_law


def test_huge_learning_rate_is_an_error_naming_the_setting():
    with pytest.raises(ValueError) as info:
        escape_scaling("He3(z1)", ds=(100,), seeds=2, lr0=1e6, engine="gram")
    message = str(info.value)
    assert "--lr" in message and "lr0 = 1e+06" in message and "d = 100" in message
    assert "SGD steps" in message


def _escape(steps, engine):
    law = scaling_law(3)
    steps = np.asarray(steps, dtype=float)
    n = steps.shape[0]
    return EscapeScaling(law, tuple(100 * 2**i for i in range(n)), (0.1,) * n,
                         np.ones(n), np.full(n, 10.0), steps, np.ones(n), None, 2.0, 2.0,
                         np.zeros(n), {"engine": engine, "budget": 10.0})


def test_unescaped_runs_are_explained():
    r = _escape([[10.0, math.nan, 12.0, 11.0], [40.0, 41.0, 39.0, 44.0]], "gram")
    notes = r.notes()
    assert "units of t = SGD steps / d" in notes[0]
    assert notes[1].startswith("1 of 8 runs did not reach the threshold")
    assert "gram engine stops at each d once at least 3 of 4 runs escaped" in notes[1]
    assert "m0 < 0" in notes[1]  # l = 3 is odd
    full = _escape([[10.0, math.nan]], "full").notes()[1]
    assert "up to the horizon (10.0 times t_diffusion)" in full
    assert len(_escape([[10.0, 11.0]], "full").notes()) == 1  # all escaped: units only
    assert r.to_json()["notes"] == notes


def test_flat_deviation_exponents_are_explained():
    ds = (100, 400, 1600)
    halving = [1.0, 0.5, 0.25]  # exponent -1/2
    flat = [0.30, 0.29, 0.28]  # exponent about -0.03, as for the risk at a plateau escape
    mean = np.array([halving, flat]).T
    fits = (fit_exponent(np.array(ds), mean[:, 0]), fit_exponent(np.array(ds), mean[:, 1]))
    table = DeviationTable(("Q11", "R"), ds, mean, np.full_like(mean, 0.01), fits)
    notes = table.notes()
    assert len(notes) == 1 and notes[0].startswith("R: the largest deviation")
    assert "plateau" in notes[0] and "-1/2" in notes[0]
    assert table.to_json()["notes"] == notes
    only_good = DeviationTable(("Q11",), ds, mean[:, :1], np.full((3, 1), 0.01), fits[:1])
    assert only_good.notes() == []
