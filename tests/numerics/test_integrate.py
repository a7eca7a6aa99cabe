"""ODE integration against closed-form solutions: a linear system (matrix exponential), the
logistic equation and its exact crossing time, tolerance proportionality, vmapped initial
conditions, and the failure paths."""

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from escalier.numerics.integrate import Crossing, IntegrationError, integrate


def _linear_problem():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(3, 3))
    A = A - A.T - 0.3 * np.eye(3) + 0.2 * rng.normal(size=(3, 3))
    y0 = rng.normal(size=3)
    return A, y0


def _linear(t, y, A):
    return A @ y


def test_linear_system_matches_expm_and_error_is_proportional_to_tolerance():
    A, y0 = _linear_problem()
    ts = np.linspace(0.0, 5.0, 11)
    exact = np.array([scipy.linalg.expm(A * t) @ y0 for t in ts])
    tols = np.array([1e-5, 1e-7, 1e-9, 1e-11])
    errs = []
    for tol in tols:  # one compilation: tolerances are traced
        sol = integrate(_linear, y0, ts, jnp.asarray(A), rtol=tol, atol=tol / 100)
        errs.append(np.abs(sol.y - exact).max())
    errs = np.array(errs)
    # Global error of an embedded pair under a PI controller is proportional to the
    # tolerance (Hairer, Norsett, Wanner I, II.4): slope 1 in log-log, within +-0.2, and
    # never more than the tolerance itself (the constant is ~0.05 here).
    slope = np.polyfit(np.log(tols), np.log(errs), 1)[0]
    assert 0.8 < slope < 1.2, (errs, slope)
    assert np.all(errs < tols)
    assert errs[-1] < 1e-11


@pytest.mark.slow
def test_dopri8_matches_expm():
    A, y0 = _linear_problem()
    ts = np.linspace(0.0, 5.0, 6)
    exact = np.array([scipy.linalg.expm(A * t) @ y0 for t in ts])
    sol = integrate(_linear, y0, ts, jnp.asarray(A), solver="dopri8", rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(sol.y, exact, atol=1e-10)
    assert sol.y.dtype == np.float64


R, K = 1.3, 2.0


def _logistic(t, y, args):
    return R * y * (1 - y / K)


def _logistic_exact(t, y0):
    return K / (1 + (K / y0 - 1) * np.exp(-R * t))


def _logistic_crossing(y0, c):
    """Exact time at which the logistic solution from y0 reaches c (nan if never)."""
    with np.errstate(invalid="ignore"):
        return np.log((K / y0 - 1) / (K / c - 1)) / R


@pytest.mark.parametrize(
    ("terminate", "direction", "threshold", "starts"),
    [
        # up through 1: the third start is above 1 already, the fourth crosses after t = 6
        (False, "up", 1.0, [0.01, 0.3, 1.9, 1e-4]),
        # down through 3 (starts above K = 2 decay to K): the third starts below 3, the
        # fourth (3.0001) crosses at once, the second (8) later than the first (5)
        (True, "down", 3.0, [5.0, 8.0, 2.5, 3.0001]),
    ],
)
def test_logistic_vmapped_with_exact_crossing_time(terminate, direction, threshold, starts):
    y0 = np.array(starts)[:, None]
    ts = np.linspace(0.0, 6.0, 31)
    sol = integrate(_logistic, y0, ts, names=["m"], risk=lambda y, a: (K - y[0]) ** 2,
                    event=Crossing("m", threshold, direction, terminate=terminate),
                    rtol=1e-10, atol=1e-12)
    t_star = _logistic_crossing(y0[:, 0], threshold)
    t_star[(t_star > ts[-1]) | ~(t_star > 0)] = np.nan
    assert sol.batched and sol.y.shape == (4, 31, 1)
    assert np.isnan(sol.event_time[2]) and np.isnan(t_star[2])
    np.testing.assert_allclose(sol.event_time, t_star, rtol=1e-8)  # nan where nan
    exact = _logistic_exact(ts[None, :], y0)
    got = sol["m"]
    if terminate:  # records after the crossing are nan, the others exact
        after = ts[None, :] > np.nan_to_num(t_star, nan=np.inf)[:, None]
        assert after.any() and np.all(np.isnan(got[after]))
        np.testing.assert_allclose(got[~after], exact[~after], rtol=1e-8)
    else:
        np.testing.assert_allclose(got, exact, rtol=1e-8)
        np.testing.assert_allclose(sol.risk, (K - exact) ** 2, rtol=1e-7, atol=1e-12)


def test_blow_up_raises_with_the_time():
    # y' = y^2, y(0) = 1 blows up at t = 1.
    with pytest.raises(IntegrationError, match=r"failed at t = 1\b.*lower the learning rate") as e:
        integrate(lambda t, y, a: y**2, [1.0], np.linspace(0.0, 2.0, 5), max_steps=2000)
    assert e.value.time == pytest.approx(1.0, abs=1e-3)


def test_nan_right_hand_side_raises_with_the_time():
    rhs = lambda t, y, a: jnp.where(t > 0.5, jnp.nan, 1.0) * y
    with pytest.raises(IntegrationError, match=r"t = 0.5\b") as e:
        integrate(rhs, [[1.0], [2.0]], np.linspace(0.0, 1.0, 5), max_steps=500)
    assert e.value.member == 0


def test_bad_inputs():
    ts = np.linspace(0.0, 1.0, 3)
    f = lambda t, y, a: -y
    with pytest.raises(ValueError, match="strictly increasing"):
        integrate(f, [1.0], ts[::-1])
    with pytest.raises(ValueError, match="y0 has non-finite"):
        integrate(f, [np.nan], ts)
    with pytest.raises(ValueError, match="unknown solver 'euler'"):
        integrate(f, [1.0], ts, solver="euler")
    with pytest.raises(ValueError, match="event component 'q'"):
        integrate(f, [1.0], ts, event=Crossing("q", 0.5))
    with pytest.raises(ValueError, match="direction"):
        Crossing(0, 0.5, "sideways")
    with pytest.raises(ValueError, match="names must be 1"):
        integrate(f, [1.0], ts, names=["a", "b"])
