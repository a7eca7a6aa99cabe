"""The adaptive loss protocol (AdaptiveLoss: correlation loss until an overlap threshold, then
square loss; arXiv 2406.02157): exact identities against the two single-loss runs in both
engines, and its ODE (adaptive_ode) against the simulation (slow)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from escalier.derive import Scenario
from escalier.numerics.simulation import AdaptiveLoss, FullEngine, GramEngine, simulate
from escalier.numerics.simulation._gram import GramChain
from escalier.numerics.verify import adaptive_ode, overlap_state

SC = Scenario("He2(z1) + He1(z1)", student="He2", p=1, lr=0.4, spherical=True)
PROTOCOL = AdaptiveLoss(0.35)


@pytest.mark.parametrize("engine", ["gram", "full"])
def test_before_the_switch_the_run_is_the_correlation_run(engine):
    """Same seed, a record every step: the adaptive run equals the correlation-loss run
    exactly up to the first record with |m| >= threshold (the step that crosses it is still
    a correlation step), and differs from the step after it on."""
    d, steps = 64, 192
    kw = dict(seeds=4, seed=5, n_records=steps, engine=engine, progress=False)
    ad = simulate(SC, d, steps / d, protocol=PROTOCOL, **kw)
    co = simulate(dataclasses.replace(SC, loss="correlation"), d, steps / d, **kw)
    m_ad, m_co = ad.M[:, :, 0, 0], co.M[:, :, 0, 0]
    crossed = 0
    for s in range(m_ad.shape[0]):
        hit = np.flatnonzero(np.abs(m_co[s]) >= PROTOCOL.threshold)
        last = hit[0] if len(hit) else steps
        np.testing.assert_array_equal(m_ad[s, :last + 1], m_co[s, :last + 1])
        if len(hit) and last + 1 <= steps:
            crossed += 1
            assert m_ad[s, last + 1] != m_co[s, last + 1]
    assert crossed >= 2


def test_after_the_switch_the_run_is_the_square_loss_run_from_the_switched_state():
    """Gram chain, one unit per call (so every call draws the same numbers): the adaptive
    chain's state after the switch equals the square-loss chain advanced from the state at
    the switch with the same random stream, step for step (to 1e-13: the two are compiled
    separately)."""
    d = 64
    co_sc, sq_sc = PROTOCOL.phases(SC)
    co, sq = GramChain(co_sc, d), GramChain(sq_sc, d)
    switch = (sq, PROTOCOL)
    adv_ad = jax.jit(lambda s: co.advance(s, 1, 1, switch=switch))
    adv_co = jax.jit(lambda s: co.advance(s, 1, 1))
    adv_sq = jax.jit(lambda s: sq.advance(s, 1, 1))
    state = co.init(jax.random.key(3))
    ad = (*state, PROTOCOL.switched(co.observe(state)[1]))
    ref, switched_at = state, None
    for step in range(300):
        new = adv_ad(ad)
        if switched_at is None:
            ref = adv_co(ref)
            np.testing.assert_array_equal(np.asarray(new[0]), np.asarray(ref[0]))
            if bool(new[4]):
                switched_at = step
                ref = new[:4]
        else:
            ref = adv_sq(ref)
            np.testing.assert_allclose(np.asarray(new[0]), np.asarray(ref[0]), rtol=1e-13,
                                       atol=1e-15)
        ad = new
    assert switched_at is not None and switched_at < 250


@pytest.mark.slow
def test_adaptive_ode_switches_at_the_crossing():
    """The ODE is the correlation ODE up to the event and the square-loss ODE after it: at
    the switching time t_s the state equals the correlation solution and
    |m(t_s)| = threshold; from a start past the threshold it is the square-loss ODE.
    (Slow only for its five diffrax compilations, about 100 s on a loaded machine.)"""
    from escalier.numerics.integrate import integrate
    from escalier.numerics.verify import ode_functions

    co, sq = (ode_functions(s) for s in PROTOCOL.phases(SC))
    times = np.linspace(0.0, 4.0, 41)
    sol = adaptive_ode(SC, PROTOCOL, [[0.1], [0.5]], times)
    t_s = sol.event_time[0]
    assert 0 < t_s < 4 and sol.event_time[1] == 0.0
    ref = integrate(co.rhs, [0.1], np.array([0.0, t_s]), co.args)
    assert abs(ref.y[-1, 0] - PROTOCOL.threshold) < 1e-7
    before = times < t_s
    ref_co = integrate(co.rhs, [0.1], times, co.args)
    np.testing.assert_allclose(sol.y[0, before], ref_co.y[before], rtol=1e-6, atol=1e-8)
    later = times[times > t_s]
    ref_sq = integrate(sq.rhs, ref.y[-1], np.concatenate([[t_s], later]), sq.args)
    np.testing.assert_allclose(sol.y[0, times > t_s], ref_sq.y[1:], rtol=1e-6, atol=1e-8)
    ref_sq1 = integrate(sq.rhs, [0.5], times, sq.args)
    np.testing.assert_allclose(sol.y[1], ref_sq1.y, rtol=1e-6, atol=1e-8)


def test_engines_accept_and_validate_the_protocol():
    assert isinstance(PROTOCOL, tuple(FullEngine.protocols))
    assert isinstance(PROTOCOL, tuple(GramEngine.protocols))
    for bad in (0.0, 1.0, float("nan")):
        with pytest.raises(ValueError, match="threshold"):
            AdaptiveLoss(bad)
    with pytest.raises(ValueError, match="overlap"):
        AdaptiveLoss(0.5, overlap="mean")
    from escalier.numerics.simulation import EscapeThreshold

    with pytest.raises(ValueError, match="runs online SGD, k steps per batch and extragradient"):
        GramEngine().first_passage(SC, 64, jax.random.split(jax.random.key(0), 2),
                                   EscapeThreshold(0.5), 100, protocol=PROTOCOL)
    M = jnp.array([[0.3, -0.4]])
    assert float(AdaptiveLoss(0.5, "max").measure(M)) == pytest.approx(0.4)
    assert float(AdaptiveLoss(0.5, "norm").measure(M)) == pytest.approx(0.5)


@pytest.mark.slow
def test_adaptive_ode_matches_the_simulation():
    """Erf committee p = k = 2, spherical, lr = 1, switch at max |M_jr| = 0.3, full engine
    at d = 500 and 2000, 16 seeds, t = 3: each seed's ODE from its own start; the mean of
    sim - ODE within 4.5 standard errors at every record, and the mean sup deviation
    falls with d (fluctuations O(d^-1/2))."""
    from escalier.numerics.verify import verify

    sc = Scenario("erf(z1/sqrt(2)) + erf(z2/sqrt(2))", student="erf", p=2, lr=1.0,
                  spherical=True)
    v = verify(sc, [500, 2000], 3.0, seeds=16, engine="full", protocol=AdaptiveLoss(0.3),
               n_records=30, progress=False)
    for r in v.runs:
        diff = r.sim - r.ode
        se = diff.std(0, ddof=1) / np.sqrt(diff.shape[0])
        assert np.all(np.abs(diff.mean(0))[1:] < 4.5 * se[1:] + 1e-3)
    assert np.all(v.table.mean[1] < 0.8 * v.table.mean[0])
    assert overlap_state(sc, np.eye(2), np.zeros((2, 2)), np.ones(2)).shape == (5,)


# the finite-step map of the protocol (escalier.numerics.batch.iterate_adaptive_map) ---------

def test_adaptive_map_is_the_correlation_map_then_the_square_map():
    """Exact identity: the adaptive map equals the correlation-loss map up to the first
    step whose result reaches the threshold (that step is still a correlation step), and
    the square-loss map iterated from the state there afterwards; the reported switch step
    is that step."""
    from escalier.derive.ode import overlap_map
    from escalier.numerics.batch import iterate_adaptive_map, iterate_map

    d, n, y0 = 64, 160, np.array([0.2])
    protocol = AdaptiveLoss(0.3)  # the correlation map settles near 0.337 at d = 64
    co_sc, sq_sc = protocol.phases(SC)
    ys, when = iterate_adaptive_map(SC, protocol, y0, n, {"d": d})
    co = iterate_map(overlap_map(co_sc), y0, n, {"d": d})
    hit = np.flatnonzero(np.abs(co[:, 0]) >= protocol.threshold)
    assert len(hit) and hit[0] < n - 10, "the correlation map must cross in this check"
    s = int(hit[0])
    assert when == s
    np.testing.assert_allclose(ys[:s + 1], co[:s + 1], rtol=1e-13, atol=1e-15)
    sq = iterate_map(overlap_map(sq_sc), ys[s], n - s, {"d": d})
    np.testing.assert_allclose(ys[s:], sq, rtol=1e-12, atol=1e-14)
    assert np.max(np.abs(ys[s + 1:] - co[s + 1:])) > 1e-3  # the switch changed the run


@pytest.mark.slow
def test_adaptive_map_approaches_the_adaptive_ode_like_one_over_d():
    """The map iterated over t d steps against adaptive_ode at time t (the same protocol,
    derived and integrated independently, switch located by a diffrax event): the largest
    deviation over t in [0, 4] (switch near t = 2.6) shrinks like 1/d, the map's finite-d
    correction: it must fall by more than 3 from d = 500 to 2000 (1/d gives 4; measured
    0.157 -> 0.037), and the switch times approach the ODE's."""
    from escalier.numerics.batch import iterate_adaptive_map

    y0, T = np.array([0.2]), 4.0
    devs, gaps = [], []
    for d in (500, 2000):
        every = d // 10
        ys, when = iterate_adaptive_map(SC, PROTOCOL, y0, int(T * d), {"d": d}, every)
        times = np.arange(len(ys)) * every / d
        sol = adaptive_ode(SC, PROTOCOL, y0, times)
        devs.append(np.max(np.abs(ys[:, 0] - sol.y[:, 0])))
        gaps.append(abs(float(when) / d - float(sol.event_time)))
    assert devs[1] < devs[0] / 3, devs
    assert gaps[1] < gaps[0] / 2, gaps
