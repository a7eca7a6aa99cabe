"""Verification helpers on synthetic data with known answers: exponent fits, deviation
tables, escape times, scaling laws, information exponents and the state ordering."""

import math

import numpy as np
import pytest

from escalier.derive import Scenario
from escalier.numerics.verify import (
    deviation_table,
    escape_times,
    fit_exponent,
    information_exponent,
    overlap_state,
    scaling_law,
    sup_deviation,
)


def test_fit_recovers_an_exact_power_law():
    x = np.array([100.0, 200.0, 400.0, 800.0])
    fit = fit_exponent(x, 3.0 * x**-0.5)
    assert fit.exponent == pytest.approx(-0.5, abs=1e-12)
    assert fit.prefactor == pytest.approx(3.0, rel=1e-10)
    assert fit.stderr < 1e-10


def test_fit_standard_error_matches_the_spread_of_fits():
    # y = 2 x^-0.5 exp(s eps), yerr = s y: the reported stderr must match the empirical
    # spread of the fitted slopes over 4000 data sets to within 5% (the relative sampling
    # error of a standard deviation from 4000 draws is 1/sqrt(2*4000) ~ 1.1%).
    rng = np.random.default_rng(1)
    x = np.array([128.0, 256.0, 512.0, 1024.0, 2048.0])
    s = np.array([0.05, 0.08, 0.1, 0.12, 0.2])
    slopes, errs = [], []
    for _ in range(4000):
        y = 2 * x**-0.5 * np.exp(s * rng.standard_normal(x.size))
        f = fit_exponent(x, y, s * y)
        slopes.append(f.exponent)
        errs.append(f.stderr)
    assert np.mean(slopes) == pytest.approx(-0.5, abs=0.01)
    assert np.std(slopes) == pytest.approx(np.mean(errs), rel=0.05)


def test_fit_rejects_bad_values():
    with pytest.raises(ValueError, match="positive"):
        fit_exponent([1, 2], [1, -1])
    with pytest.raises(ValueError, match="distinct"):
        fit_exponent([2, 2], [1, 3])
    with pytest.raises(ValueError, match="length >= 2"):
        fit_exponent([2], [1])


def test_sup_deviation_by_hand():
    ode = np.zeros((2, 3, 2))
    sim = ode.copy()
    sim[0, 1, 0], sim[0, 2, 0] = 0.3, -0.5  # seed 0, component 0: max |.| = 0.5
    sim[1, 0, 0] = 0.1                        # seed 1, component 0: 0.1
    sim[:, 2, 1] = [0.2, 0.4]
    mean, se = sup_deviation(sim, ode)
    np.testing.assert_allclose(mean, [0.3, 0.3])
    np.testing.assert_allclose(
        se, [np.std([0.5, 0.1], ddof=1) / np.sqrt(2), np.std([0.2, 0.4], ddof=1) / np.sqrt(2)]
    )
    with pytest.raises(ValueError, match="finite"):
        sup_deviation(sim + np.nan, ode)


def test_deviation_table_finds_the_inverse_square_root():
    # Brownian deviations of size d^{-1/2}: the sup over time scales like d^{-1/2} exactly in
    # law, so the fitted exponent must be -1/2 within 3 standard errors (and the standard
    # error must be small enough, < 0.1, for the check to mean something).
    rng = np.random.default_rng(0)
    ds, S, T = [250, 500, 1000, 2000, 4000], 64, 200
    sims, odes = [], []
    for d in ds:
        ode = np.tile(np.linspace(0, 1, T)[None, :, None], (S, 1, 2))
        walk = np.cumsum(rng.standard_normal((S, T, 2)), axis=1) / np.sqrt(T)
        sims.append(ode + walk / np.sqrt(d))
        odes.append(ode)
    table = deviation_table(["M11", "Q11"], ds, sims, odes)
    for fit in table.fits:
        assert fit.stderr < 0.1
        assert abs(fit.exponent + 0.5) < 3 * fit.stderr
    text = table.to_text()
    assert "M11" in text and "d = 4000" in text
    assert table.to_json()["d"] == ds


def test_escape_times():
    times = np.array([0.0, 1.0, 2.0, 3.0])
    m = np.array([[0.1, 0.2, 0.6, 0.9], [0.0, -0.55, 0.0, 0.0], [0.1, 0.1, 0.1, 0.4]])
    got = escape_times(times, m, 0.5)
    np.testing.assert_array_equal(got[:2], [2.0, 1.0])
    assert math.isnan(got[2])


def test_scaling_laws():
    ds = np.array([128, 256, 512, 1024])
    assert scaling_law(1).exponent(ds) == pytest.approx(1.0)
    assert scaling_law(3).exponent(ds) == pytest.approx(2.0)
    assert scaling_law(4).law == "d^3"
    # d log d: local slope 1 + 1/log d, at the geometric centre d = 362 of the range
    assert scaling_law(2).exponent(ds) == pytest.approx(1 + 1 / np.log(362.0), abs=0.005)
    assert scaling_law(2).lr(0.5, 1000) == 0.5
    assert scaling_law(3).lr(0.5, 1024) == pytest.approx(0.5 / 32)
    with pytest.raises(ValueError):
        scaling_law(0)


def test_information_exponent():
    assert information_exponent("He3(z1)", "He3") == 3
    assert information_exponent("He2(z1)", "relu") == 2  # c_2(relu) = 1/(2 sqrt(2 pi))
    assert information_exponent("z1**3", "erf") == 1     # z^3 = He3 + 3 He1
    assert information_exponent("He4(z1)", "He4") == 4
    with pytest.raises(ValueError, match="cannot learn"):
        information_exponent("He2(z1)", "erf")  # erf is odd: c_2 = 0
    # multi-index: the lowest degree of a non-zero Hermite tensor the student shares
    assert information_exponent("z1*z2*z3", "He3") == 3
    assert information_exponent("z1*z2 + z3", "erf") == 1
    with pytest.raises(ValueError, match="cannot learn"):
        information_exponent("z1*z2", "erf")  # degree 2 only, erf is odd


def test_overlap_state_order():
    sc = Scenario("z1 + z2", p=2, train_second_layer=True)
    Q = np.array([[1.0, 2.0], [2.0, 3.0]])
    M = np.array([[4.0, 5.0], [6.0, 7.0]])
    a = np.array([8.0, 9.0])
    np.testing.assert_array_equal(overlap_state(sc, Q, M, a), [1, 2, 3, 4, 5, 6, 7, 8, 9])
    sph = Scenario("He3(z1)", student="He3", p=1, spherical=True)
    got = overlap_state(sph, np.ones((5, 1, 1)), np.full((5, 1, 1), 0.3), np.ones((5, 1)))
    assert got.shape == (5, 1) and np.all(got == 0.3)
