"""Learning-rate schedules in both engines, the finite-step map and the ODE, against hand
derivations.

Linear student sigma(x) = x, target y = z1, a = 1 fixed, square loss, p = k = 1: one SGD step
at step i with rate eta s_i moves M by (eta s_i / (n_b d)) sum_mu (nu - lambda) nu, whose
conditional mean is (eta s_i / d)(P - M) with P = 1. The mean recursion is linear, so exactly

    E[1 - M_n | M_0] = (1 - M_0) prod_{i < n} (1 - eta s_i / d),

and its d -> infinity limit is the ODE dM/dt = eta s(t) (1 - M), solved by
1 - M(t) = (1 - M_0) exp(-eta int_0^t s).
"""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from escalier.derive import Scenario
from escalier.numerics.integrate import integrate
from escalier.numerics.simulation import (
    Constant,
    GiantSteps,
    GramEngine,
    OnlineSGD,
    PowerLaw,
    StepDecay,
    StepsPerBatch,
    simulate,
)
from escalier.numerics.verify import ode_functions

LINEAR = Scenario(target="z1", student="x", p=1, lr=0.5)


def test_factors_by_hand():
    t = np.array([0.0, 0.5, 1.0, 2.5, 4.0])
    np.testing.assert_allclose(PowerLaw(t0=2.0, exponent=0.5).factor(t),
                               (1 + t / 2.0) ** -0.5, rtol=1e-15)
    np.testing.assert_allclose(StepDecay(every=1.0, gamma=0.25).factor(t),
                               [1.0, 1.0, 0.25, 0.0625, 0.25**4], rtol=1e-15)
    assert float(Constant().factor(3.0)) == 1.0 and Constant().constant


@pytest.mark.parametrize("bad", [
    lambda: PowerLaw(t0=0.0), lambda: PowerLaw(exponent=-1.0), lambda: StepDecay(gamma=1.5),
    lambda: StepDecay(every=float("nan")), lambda: OnlineSGD(schedule=0.5),
])
def test_bad_schedules_are_named(bad):
    with pytest.raises(ValueError, match="schedule"):
        bad()


@pytest.mark.parametrize("engine", ["gram", "full"])
def test_mean_follows_the_exact_scheduled_recursion(engine):
    d, time, seeds = 100, 4.0, 256
    schedule = StepDecay(every=1.0, gamma=0.5)
    res = simulate(LINEAR, d, time, seeds=seeds, seed=3, n_records=4, engine=engine,
                   protocol=OnlineSGD(schedule=schedule), progress=False)
    n = int(round(res.times[-1] * d))
    s = 0.5 ** np.floor(np.arange(n) / d)  # s_i = gamma^floor(i / d), step i at time i / d
    m0, mn = res.M[:, 0, 0, 0], res.M[:, -1, 0, 0]
    gap = (1 - mn) - (1 - m0) * np.prod(1 - LINEAR.lr * s / d)
    err = gap.std(ddof=1) / math.sqrt(seeds)
    assert abs(gap.mean()) < 4 * err  # false-failure rate about 6e-5 per engine
    # the test has power: the unscheduled prediction is far outside the band
    wrong = (1 - mn) - (1 - m0) * (1 - LINEAR.lr / d) ** n
    assert abs(wrong.mean()) > 20 * err
    assert res.config["protocol"] == "online, step decay x0.5 every t = 1"


def test_map_follows_the_exact_scheduled_recursion():
    """The finite-step map is the exact expected step: its M follows the recursion above
    with no error but rounding, for each schedule; the unscheduled map does not."""
    from escalier.derive.ode import overlap_map
    from escalier.numerics.batch import iterate_map

    d, n = 50, 200
    system = overlap_map(LINEAR)
    i_m = [str(v) for v in system.state].index("M11")
    y0 = np.zeros(len(system.state))
    y0[[str(v) for v in system.state].index("Q11")] = 1.0
    y0[i_m] = 0.1
    steps = np.arange(n)
    for schedule, s in ((StepDecay(every=1.0, gamma=0.5), 0.5 ** np.floor(steps / d)),
                        (PowerLaw(t0=0.5, exponent=1.5), (1 + steps / d / 0.5) ** -1.5)):
        ys = iterate_map(system, y0, n, {"d": d}, record_every=n // 4, schedule=schedule)
        expected = 0.9 * np.cumprod(1 - LINEAR.lr * s / d)[n // 4 - 1::n // 4]
        np.testing.assert_allclose(1 - ys[1:, i_m], expected, rtol=1e-12)
    plain = iterate_map(system, y0, n, {"d": d})
    assert abs((1 - plain[-1, i_m]) - expected[-1]) > 0.1 * expected[-1]
    with pytest.raises(ValueError, match="learning-rate schedule"):
        iterate_map(system, y0, n, {"d": d}, schedule=0.5)


def test_ode_follows_the_schedule_in_closed_form():
    schedule = PowerLaw(t0=1.5, exponent=1.0)
    fns = ode_functions(LINEAR).scheduled(schedule)
    times = jnp.linspace(0.0, 5.0, 11)
    names = list(fns.names)
    y0 = np.zeros(len(names))
    y0[names.index("Q11")] = 1.0
    sol = integrate(fns.rhs, y0, times, fns.args, names=fns.names)
    m = np.asarray(sol.y)[..., names.index("M11")]
    integral = 1.5 * np.log1p(np.asarray(times) / 1.5)  # int_0^t (1 + u / t0)^-1 du
    np.testing.assert_allclose(1 - m, np.exp(-LINEAR.lr * integral), rtol=1e-7)


def test_engines_that_cannot_run_a_schedule_refuse_it():
    with pytest.raises(ValueError, match="constant learning rate"):
        GramEngine().first_passage(Scenario(target="He3(z1)", student="He3", p=1), 50,
                                   None, None, 10, protocol=OnlineSGD(schedule=PowerLaw()))
    assert GiantSteps(n=10).learning_rate_schedule.constant
    assert "power law" in StepsPerBatch(2, schedule=PowerLaw(2.0, 0.5)).describe()


def test_steps_per_batch_with_a_schedule_agrees_between_engines():
    """Two steps per batch under a step decay: the exact gram chain and the full engine agree
    in mean at every record (two-sample, 4.5 combined standard errors: about 7e-6 false
    failures per record; the step decay halves the drift twice over the run)."""
    sc = Scenario(target="z1", student="tanh", p=1, lr=1.0)
    protocol = StepsPerBatch(2, schedule=StepDecay(every=1.0, gamma=0.5))
    runs = [simulate(sc, 64, 3.0, seeds=192, seed=s, n_records=3, engine=e, protocol=protocol,
                     progress=False) for e, s in (("gram", 1), ("full", 2))]
    (g, f) = (r.M[:, :, 0, 0] for r in runs)
    se = np.sqrt(g.var(0, ddof=1) / len(g) + f.var(0, ddof=1) / len(f))
    assert np.all(np.abs(g.mean(0) - f.mean(0))[1:] < 4.5 * se[1:])
    # and the schedule matters at this precision: an unscheduled gram run is far off
    plain = simulate(sc, 64, 3.0, seeds=192, seed=1, n_records=3, engine="gram",
                     protocol=StepsPerBatch(2), progress=False).M[:, :, 0, 0]
    assert abs(plain.mean(0)[-1] - f.mean(0)[-1]) > 6 * se[-1]
