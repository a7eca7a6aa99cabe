"""The Gram engine against an independent full d-dimensional SGD, in distribution.

Each case runs the exact overlap-space chain and the plain d-dimensional simulation of
_gram_reference.full_sgd (written from Scenario's docstring, data drawn with jax.random)
over many seeds, and compares the mean and the variance of every overlap entry (Q upper
triangle, M, a) at every record time with two-sample z tests. False-failure budget: each
case runs 2 x (number of statistics) tests at level 1e-3 / (2 x statistics) each
(Bonferroni), so a correct engine fails a case with probability at most 1e-3 (up to the
normal approximation of the z statistics, sound at 600+ seeds per side). Power: the same
test rejects a chain that drops the complement's Wishart block (test_power_*).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _gram_reference import full_giant_step, full_sgd, statistics, two_sample_failures

from escalier.derive import Scenario
from escalier.numerics.simulation import _gram, simulate
from escalier.numerics.simulation._gram import GramChain, run
from escalier.numerics.simulation._gram_giant import giant_step

ALPHA = 1e-3
SEEDS = 600


def _keys(seeds, seed=11):
    return jax.random.key_data(jax.random.split(jax.random.key(seed), seeds))


CASES = {
    # online SGD, two teacher directions with a non-identity P, label noise, both layers
    "online": dict(
        scenario=Scenario("erf(z1/sqrt(2)) + erf(z2/sqrt(2))", p=2, lr=2.0, noise=0.2,
                          train_second_layer=True, lr_a=4.0, P=((1.0, 0.3), (0.3, 1.5)),
                          init_scale=0.5),
        time=3.0, records=3, reuse=1),
    # mini-batch larger than p (QR branch of the Wishart block), correlation loss, relu
    "minibatch": dict(
        scenario=Scenario("He2(z1) + z1*z2", student="relu", p=3, lr=1.5, batch=8,
                          loss="correlation", init_scale=0.7),
        time=2.0, records=2, reuse=1),
    # mini-batch no larger than p (Bartlett branch), square loss, tanh
    "smallbatch": dict(
        scenario=Scenario("tanh(z1) + z2**2", student="tanh", p=3, lr=2.0, batch=2),
        time=3.0, records=3, reuse=1),
    # batch reuse: each batch of 4 used for 3 consecutive steps
    "reuse": dict(
        scenario=Scenario("z1*z2 + z1", student="erf", p=2, lr=3.0, batch=4, noise=0.1),
        time=3.0, records=3, reuse=3),
    # single-index spherical SGD (projection after every step)
    "spherical": dict(
        scenario=Scenario("He3(z1) + He1(z1)", student="He3", p=1, lr=0.5, spherical=True,
                          loss="correlation"),
        time=3.0, records=3, reuse=1),
    # spherical p = 2 (every row renormalised), square loss, erf committee
    "spherical2": dict(
        scenario=Scenario("erf(z1/sqrt(2)) + erf(z2/sqrt(2))", p=2, lr=2.0, spherical=True),
        time=3.0, records=3, reuse=1),
    # spherical p = 3 with tangent-projected steps, mini-batch > p (QR branch), relu
    "tangent": dict(
        scenario=Scenario("He2(z1) + z1*z2", student="relu", p=3, lr=1.5, batch=5,
                          spherical=True, tangent=True),
        time=2.0, records=2, reuse=1),
}


def _case(name, d):
    case = CASES[name]
    reuse = case["reuse"]
    every = int(round(case["time"] * d / case["records"] / reuse)) * reuse
    return case["scenario"], every * case["records"], every, reuse


@functools.cache
def _reference(name, d, seeds):
    sc, n_steps, every, reuse = _case(name, d)
    return full_sgd(sc, d, n_steps, every, seeds, seed=3, reuse=reuse)


def _compare(name, d, seeds=SEEDS):
    sc, n_steps, every, reuse = _case(name, d)
    ref = _reference(name, d, seeds)
    gram = run(sc, d, n_steps, _keys(seeds), every, reuse=reuse)
    names, x = statistics(ref)
    _, y = statistics(gram)
    return ref, gram, two_sample_failures(x, y, names, alpha=ALPHA)


def test_gram_matches_full_simulation_d64():
    _, _, failures = _compare("online", 64)
    assert failures == []


@pytest.mark.slow
@pytest.mark.parametrize("name", ["minibatch", "smallbatch", "reuse", "spherical",
                                  "spherical2", "tangent"])
def test_gram_matches_full_simulation_d64_more(name):
    _, _, failures = _compare(name, 64)
    assert failures == []


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_gram_matches_full_simulation_d256(name):
    _, _, failures = _compare(name, 256, seeds=500)
    assert failures == []


def test_power_dropping_the_wishart_block_is_detected(monkeypatch):
    """A chain that forgets the samples' component outside span(V) must fail the test.

    That component adds (lr/n_b)^2 C^T X_perp X_perp^T C / d^2 to Q each step, O(lr^2 t) over
    time t: the two-sample test has to see it, or it could not see real errors either.
    """
    d, name = 64, "online"
    sc, n_steps, every, reuse = _case(name, d)
    ref = _reference(name, d, SEEDS)
    draw = GramChain.draw

    def no_complement(self, rng, size):
        rng, out = draw(self, rng, size)
        return rng, {**out, "H": jnp.zeros_like(out["H"])}

    monkeypatch.setattr(GramChain, "draw", no_complement)
    _gram._program.cache_clear()
    try:
        broken = run(sc, d, n_steps, _keys(SEEDS), every, reuse=reuse)
    finally:
        _gram._program.cache_clear()
    names, x = statistics(ref)
    _, y = statistics(broken)
    failures = two_sample_failures(x, y, names, alpha=ALPHA)
    assert any(f.startswith("Q") for f in failures)


def _giant_compare(d, n, lr, seeds):
    sc = Scenario("He2(z1) + z1", student="relu", p=2, noise=0.5, train_second_layer=True)
    ref = full_giant_step(sc, d, n, lr, seeds, seed=5)
    gram = giant_step(sc, d, n, lr, _keys(seeds), chunk=1000)
    pack = lambda out: {k: np.stack([out[k + "0"], out[k]], axis=1) for k in "QMa"}
    names, x = statistics(pack(ref))
    _, y = statistics(pack(gram))
    return two_sample_failures(x, y, names, alpha=ALPHA)


def test_giant_step_matches_full_simulation_d64():
    # n = d^2 / 4 samples in one step (chunked accumulation with a masked tail: 1024 / 1000)
    assert _giant_compare(64, 1024, 64.0, 300) == []


@pytest.mark.slow
def test_giant_step_matches_full_simulation_d256():
    assert _giant_compare(256, 4 * 256, 256.0, 300) == []


def test_initial_condition_moments_are_exact():
    """M0 ~ N(0, s^2 P / d) entrywise and E[Q0] = s^2 I, Var[Q0_jj] = 2 s^4 / d (chi-square).

    At S = 4000 seeds, the standard error of the mean of Q0_11 is sqrt(2/d)/sqrt(S) s^2; we
    allow 5 standard errors (a correct engine fails with probability < 1e-5 per check).
    """
    d, s, S = 50, 0.7, 4000
    sc = Scenario("z1 + z2", p=2, init_scale=s, P=((2.0, 0.5), (0.5, 1.0)))
    out = run(sc, d, 0, _keys(S), 1)
    Q0, M0 = out["Q"][:, 0], out["M"][:, 0]
    se = s**2 * np.sqrt(2 / d) / np.sqrt(S)
    assert abs(Q0[:, 0, 0].mean() - s**2) < 5 * se
    assert abs(Q0[:, 0, 0].var() - 2 * s**4 / d) < 5 * (2 * s**4 / d) * np.sqrt(2 / S) * 1.2
    # Cov(M0_j) = s^2 P / d: compare the variance of each column with 5 standard errors
    P = np.array(sc.P)
    for r in range(2):
        v = M0[:, 0, r].var()
        assert abs(v - s**2 * P[r, r] / d) < 5 * (s**2 * P[r, r] / d) * np.sqrt(2 / S)


def test_reproducible_from_keys():
    sc = CASES["smallbatch"]["scenario"]
    a = run(sc, 100, 40, _keys(3, seed=1), 20)
    _gram._program.cache_clear()  # recompiled: same numbers from the same keys
    b = run(sc, 100, 40, _keys(3, seed=1), 20)
    c = run(sc, 100, 40, _keys(3, seed=2), 20)
    np.testing.assert_array_equal(a["Q"], b["Q"])
    assert not np.allclose(a["Q"][:, -1], c["Q"][:, -1])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(inputs="rademacher"), "isotropic Gaussian"),
        (dict(covariance=np.diag([1.0, 2.0])), "isotropic"),
        (dict(optimizer="adam"), "coordinate-wise"),
        (dict(reuse=0), "reuse"),
    ],
)
def test_refuses_what_cannot_be_exact(kwargs, match):
    sc = CASES["online"]["scenario"]
    with pytest.raises(ValueError, match=match):
        run(sc, 64, 10, _keys(2), 10, **kwargs)


def test_refuses_bad_input():
    sc = CASES["online"]["scenario"]
    with pytest.raises(ValueError, match="multiple of record_every"):
        run(sc, 64, 15, _keys(2), 10)
    with pytest.raises(ValueError, match="multiple of reuse"):
        run(sc, 64, 30, _keys(2), 10, reuse=3)
    with pytest.raises(ValueError, match="too small"):
        run(sc, 4, 10, _keys(2), 10)
    with pytest.raises(ValueError, match="keys"):
        run(sc, 64, 10, np.zeros((2, 3), np.uint32), 10)
    with pytest.raises(ValueError, match="semi-definite"):
        run(Scenario("z1 + z2", p=1, P=((1.0, 2.0), (2.0, 1.0))), 64, 10, _keys(2), 10)
    with pytest.raises(ValueError, match="adam"):
        giant_step(sc, 64, 100, 1.0, _keys(2), optimizer="adam")


def test_divergence_is_reported_through_simulate():
    sc = Scenario("He3(z1)", student="He3", p=1, lr=200.0)
    with pytest.raises(ValueError, match="smaller learning rate"):
        simulate(sc, 32, time=6.0, seeds=2, engine="gram", n_records=2, progress=False)


def test_simulate_dispatches_to_gram_with_typed_keys():
    """The public simulate(engine="gram") call: typed keys, dtype string, shapes, times."""
    sc = CASES["smallbatch"]["scenario"]
    res = simulate(sc, 100, time=0.4, seeds=3, engine="gram", n_records=2, progress=False)
    assert res.engine == "gram" and res.Q.shape == (3, 3, 3, 3)
    np.testing.assert_allclose(res.times, [0.0, 0.2, 0.4])


def test_check_exact_reads_scenario_attributes():
    class Adam:
        optimizer = "adam"

    with pytest.raises(ValueError, match="Adam"):
        _gram.check_exact(Adam())
