"""Engines are objects: a new one is one module plus one registry line, and then runs through
simulate, verify and the command line; engines refuse the protocols they cannot run."""

import json

import numpy as np
import pytest
from _toy_engine import NumpyEngine

from escalier.derive import Scenario, targets
from escalier.numerics.cli import main
from escalier.numerics.simulation import (
    ENGINES,
    FullEngine,
    GramEngine,
    OnlineSGD,
    StepsPerBatch,
    TrainingProtocol,
    simulate,
)

SC = Scenario(targets.committee("erf", 2), student="erf", p=2, lr=0.5, noise=0.01)


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(ENGINES, "numpy", NumpyEngine)  # the one registry line


def test_toy_engine_agrees_with_the_full_engine(toy):
    # two independent implementations of the same SGD: the means over 24 seeds of M at
    # t = 2 agree within 5 standard errors of their difference
    kw = dict(seeds=24, seed=3, n_records=4, progress=False)
    toy_run = simulate(SC, 100, 2.0, engine="numpy", **kw)
    full = simulate(SC, 100, 2.0, engine=FullEngine(), **kw)
    assert toy_run.engine == "numpy" and toy_run.config["engine"] == "numpy"
    a, b = toy_run.M[:, -1], full.M[:, -1]
    se = np.sqrt(a.var(axis=0, ddof=1) / len(a) + b.var(axis=0, ddof=1) / len(b))
    assert np.all(np.abs(a.mean(axis=0) - b.mean(axis=0)) < 5 * se + 1e-12)
    assert np.all(np.abs(toy_run.M[:, 0]) < 0.5)  # a random start, not a copy of the teacher


def test_toy_engine_on_the_command_line(toy, tmp_path, capsys):
    out = tmp_path / "v.json"
    code = main(["verify", "--d", "40", "80", "--seeds", "2", "--time", "0.5", "--engine",
                 "numpy", "--json", str(out)])
    assert code == 0
    data = json.loads(out.read_text())
    assert data["config"]["engine"] == "numpy"


def test_engines_refuse_what_they_cannot_run(toy):
    class Unknown(TrainingProtocol):
        name = "unknown"
        steps_per_batch = 1

    with pytest.raises(ValueError, match="engine 'full' cannot run the training protocol "
                                         "'unknown'"):
        simulate(SC, 50, 1.0, engine="full", protocol=Unknown(), progress=False)
    with pytest.raises(ValueError, match="engine 'numpy' runs erf committees only"):
        simulate(Scenario("He2(z1)", p=1), 50, 1.0, engine="numpy", progress=False)
    with pytest.raises(ValueError, match="unknown engine 'nope'"):
        simulate(SC, 50, 1.0, engine="nope")
    try:  # an argparse refusal: exit status 2 (returned or raised as SystemExit)
        code = main(["verify", "--engine", "nope"])
    except SystemExit as stop:
        code = stop.code
    assert code == 2
    assert not FullEngine().has_events and GramEngine().has_events
    with pytest.raises(ValueError, match="integer >= 1"):
        StepsPerBatch(0)


def test_gram_engine_runs_steps_per_batch_and_reports_the_protocol():
    res = simulate(SC, 60, 1.0, engine=GramEngine(), protocol=StepsPerBatch(2), seeds=2,
                   n_records=5, progress=False)
    assert res.config["protocol"] == "2 steps per batch"
    assert res.config["record_every"] % 2 == 0
    online = simulate(SC, 60, 1.0, engine=GramEngine(), protocol=OnlineSGD(), seeds=2,
                      n_records=5, progress=False)
    assert online.config["protocol"] == "online"
