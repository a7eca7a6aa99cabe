"""Batch reuse in both engines: k steps per batch (StepsPerBatch) run by the full
d-dimensional engine and by the exact gram chain agree in distribution, and the exponential
loss is simulated as its residual y exp(-y yhat) prescribes.

False-failure budget: each two-sample comparison runs mean and variance z tests on every
overlap entry at every record (the helpers of _gram_reference), Bonferroni-corrected to
level ALPHA = 1e-3 in all, so a correct pair of engines fails one comparison with
probability at most 1e-3 (normal approximation, sound at 400+ seeds per side).
"""

from __future__ import annotations

import jax
import numpy as np
import pytest
from _gram_reference import full_sgd, statistics, two_sample_failures

from escalier.derive import Scenario, ode_system
from escalier.numerics.simulation import (
    FullEngine,
    GramEngine,
    OnlineSGD,
    StepsPerBatch,
    simulate,
)

ALPHA = 1e-3

CASES = {
    # two neurons, square loss, label noise, batch 4 used for 3 steps
    "square": (Scenario("z1*z2 + z1", student="erf", p=2, lr=2.0, batch=4, noise=0.1,
                        init_scale=0.7), 3, 2.0),
    # the paper's two steps per batch on He3, one spherical neuron, correlation loss
    "he3": (Scenario("He3(z1)", student="He3", p=1, lr=0.5, spherical=True,
                     loss="correlation"), 2, 3.0),
    # exponential loss on a sign-like target, both layers trained
    "exponential": (Scenario("tanh(2*z1)", student="tanh", p=2, lr=1.5, batch=2,
                             loss="exponential", train_second_layer=True, lr_a=1.0,
                             init_scale=0.5), 2, 2.0),
}


def _runs(name, d, seeds):
    sc, k, time = CASES[name]
    out = {}
    for engine in (FullEngine(), GramEngine()):
        r = simulate(sc, d, time, seeds=seeds, seed=5 if engine.name == "full" else 6,
                     n_records=2, engine=engine, protocol=StepsPerBatch(k), progress=False)
        out[engine.name] = {"Q": r.Q, "M": r.M, "a": r.a}
    return out


def _failures(runs):
    names, x = statistics(runs["full"])
    _, y = statistics(runs["gram"])
    return two_sample_failures(x, y, names, alpha=ALPHA)


def test_steps_per_batch_full_matches_gram_d64():
    assert _failures(_runs("square", 64, 500)) == []


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_steps_per_batch_full_matches_gram_d256(name):
    assert _failures(_runs(name, 256, 400)) == []


@pytest.mark.slow
@pytest.mark.parametrize("name", ["he3", "exponential"])
def test_steps_per_batch_full_matches_gram_d64_more(name):
    assert _failures(_runs(name, 64, 500)) == []


def test_full_engine_reuse_is_k_times_one_step_for_a_constant_gradient():
    """Hand derivation: with a linear student and the correlation loss the gradient
    a y x / sqrt(d) does not depend on w, so k steps on one batch with rate lr equal one
    step with rate k lr on the same batch. The full engine's unit u takes the batch its
    online run takes at step u, so StepsPerBatch(3) at lr over 3N steps must equal online
    SGD at 3 lr over N steps, to rounding."""
    sc = Scenario("z1 + z2", student="x", p=2, lr=0.3, loss="correlation")
    d = 32
    k = 3
    r3 = simulate(sc, d, 3.0, seeds=3, n_records=2, engine="full", protocol=StepsPerBatch(k),
                  progress=False)
    r1 = simulate(Scenario("z1 + z2", student="x", p=2, lr=0.9, loss="correlation"), d, 1.0,
                  seeds=3, n_records=2, engine="full", protocol=OnlineSGD(), progress=False)
    assert r3.config["n_steps"] == 3 * r1.config["n_steps"]
    np.testing.assert_allclose(r3.M[:, -1], r1.M[:, -1], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r3.Q[:, -1], r1.Q[:, -1], rtol=1e-10, atol=1e-12)
    # and reuse is not a fresh batch: online SGD at lr over 3N steps differs
    r_online = simulate(sc, d, 3.0, seeds=3, n_records=2, engine="full", progress=False)
    assert np.max(np.abs(r_online.M[:, -1] - r3.M[:, -1])) > 1e-3


def test_exponential_loss_full_engine_matches_hand_written_sgd():
    """The full engine against the independent d-dimensional SGD of _gram_reference (its
    own residual y exp(-y yhat), jax.random data), in distribution, 2 steps per batch."""
    sc, _, _ = CASES["exponential"]
    d, seeds, every = 64, 500, 64
    ref = full_sgd(sc, d, 2 * every, every, seeds, seed=9, reuse=2)
    r = simulate(sc, d, 2.0, seeds=seeds, seed=2, n_records=2, engine="full",
                 protocol=StepsPerBatch(2), progress=False)
    assert r.config["record_every"] == every
    names, x = statistics(ref)
    _, y = statistics({"Q": r.Q, "M": r.M, "a": r.a})
    assert two_sample_failures(x, y, names, alpha=ALPHA) == []


def test_ode_refuses_the_exponential_loss():
    with pytest.raises(ValueError, match="square and correlation"):
        ode_system(Scenario("tanh(z1)", student="tanh", p=1, loss="exponential"))


@pytest.mark.slow
def test_exponential_residual_differs_from_correlation():
    """Power check: the exponential loss's runs are not the correlation loss's (same keys)."""
    sc, _, _ = CASES["exponential"]
    from dataclasses import replace
    a = simulate(sc, 64, 2.0, seeds=4, n_records=1, engine="full", progress=False)
    b = simulate(replace(sc, loss="correlation"), 64, 2.0, seeds=4, n_records=1,
                 engine="full", progress=False)
    assert np.max(np.abs(a.M[:, -1] - b.M[:, -1])) > 1e-2
    assert jax.config.jax_enable_x64
