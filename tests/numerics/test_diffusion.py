"""The small-overlap diffusion of spherical single-index SGD (numerics.verify._diffusion):
its noise variance against hand-derived values and Monte Carlo, its escape-time solver
against the closed form for constant coefficients, and its mean escape time against the
exact gram chain."""

import math

import numpy as np
import pytest

from escalier.derive import Scenario

HE3 = Scenario("He3(z1)", student="He3", p=1, lr=1.0, loss="correlation", spherical=True)


def test_noise_variance_he3_at_zero_overlap_is_hand_derived():
    """Correlation loss, He3 target and student: -dl = 3 He3(nu) He2(lambda); at m = 0,
    V = 9 E[He3(nu)^2 nu^2] E[He2(lambda)^2] = 9 * 42 * 2 = 756 (E[He3^2 nu^2] =
    E[nu^8 - 6 nu^6 + 9 nu^4] = 105 - 90 + 27)."""
    from escalier.numerics.verify._diffusion import noise_variance

    assert noise_variance(HE3, [0.0])[0] == pytest.approx(756.0, rel=1e-10)


def test_noise_variance_matches_monte_carlo_with_label_noise():
    """erf student, square loss, label noise 0.3, m = 0.4: V against 4e6 Monte Carlo
    samples; the tolerance is 6 standard errors of the sample variance."""
    from escalier.numerics.verify._diffusion import noise_variance

    sc = Scenario("tanh(z1)", student="erf", p=1, lr=1.0, loss="square", noise=0.3,
                  spherical=True)
    m = 0.4
    rng = np.random.default_rng(3)
    n = 4_000_000
    lam = rng.standard_normal(n)
    nu = m * lam + math.sqrt(1 - m**2) * rng.standard_normal(n)
    from scipy.special import erf

    y = np.tanh(nu) + math.sqrt(0.3) * rng.standard_normal(n)
    s = erf(lam / math.sqrt(2))
    ds = math.sqrt(2 / math.pi) * np.exp(-lam**2 / 2)
    g = (y - s) * ds * (nu - m * lam)
    v_mc = g.var()
    se = math.sqrt((np.mean((g - g.mean()) ** 4) - v_mc**2) / n)
    assert abs(noise_variance(sc, [m])[0] - v_mc) < 6 * se


@pytest.mark.parametrize("mu", [0.0, 0.7, -2.0])
def test_escape_solver_matches_closed_form_for_constant_coefficients(mu):
    """mu T' + D T'' = -1 on (L, R), T(L) = T(R) = 0: for mu = 0, T = (x - L)(R - x) / (2 D);
    otherwise T = [(R - L) (1 - e^{-mu (x - L) / D}) / (1 - e^{-mu (R - L) / D}) - (x - L)]
    / mu (substitute: the exponential solves the homogeneous equation)."""
    from escalier.numerics.verify._diffusion import _solve

    L, R, D, n = -0.5, 0.5, 0.05, 4001
    x = np.linspace(L, R, n)
    T = _solve(np.full(n, mu), np.full(n, D), x[1] - x[0])
    if mu == 0:
        exact = (x - L) * (R - x) / (2 * D)
    else:
        exact = (R - L) * np.expm1(-mu * (x - L) / D) / np.expm1(-mu * (R - L) / D) - (x - L)
        exact = exact / mu
    np.testing.assert_allclose(T, exact, rtol=1e-5, atol=1e-8)


def test_diffusion_prefactor_follows_the_exponent_scaling():
    """For l = 3 with lr = c d^{-1/2} the rescaled diffusion does not depend on d, so the
    optimal prefactor converges in d and the mean escape time in steps grows as d^2 (slope
    2 within the finite-d corrections, which shrink from 10^3 to 10^5)."""
    from escalier.numerics.verify import ode_functions
    from escalier.numerics.verify._diffusion import EscapeDiffusion
    from escalier.numerics.verify._scaling import scaling_law

    fns = ode_functions(HE3)
    model = EscapeDiffusion(fns, HE3, 0.5)
    law = scaling_law(3)
    c = 0.4
    ds = np.array([1e3, 1e4, 1e5])
    steps = np.array([model.time(law.lr(c, int(d)), int(d)) * d for d in ds])
    slopes = np.diff(np.log(steps)) / np.diff(np.log(ds))
    assert abs(slopes[0] - 2) < 0.03 and abs(slopes[1] - 2) < abs(slopes[0] - 2) + 1e-3


@pytest.mark.slow
def test_diffusion_mean_escape_time_matches_the_gram_chain():
    """He3 at d = 400, lr = 0.4 d^{-1/2}: the mean escape time (t units) of 256 exact gram
    chains, all run to escape, against the diffusion's prediction. The diffusion is the
    leading order in d^{-1/2} (~5% at d = 400); the tolerance adds 4 standard errors of the
    mean (a false failure ~1e-4)."""
    import jax

    from escalier.numerics.simulation import gram_escape_steps
    from escalier.numerics.verify import ode_functions
    from escalier.numerics.verify._diffusion import mean_escape_time

    d, lr = 400, 0.4 / math.sqrt(400)
    fns = ode_functions(HE3)
    predicted = mean_escape_time(fns, HE3, lr, d)
    keys = jax.random.split(jax.random.key(11), 256)
    steps, _ = gram_escape_steps(Scenario("He3(z1)", student="He3", p=1, lr=lr,
                                             loss="correlation", spherical=True),
                                    d, keys, 0.5, limit=int(40 * predicted * d), need=256)
    assert np.all(np.isfinite(steps))
    t = steps / d
    se = t.std(ddof=1) / math.sqrt(t.size)
    assert abs(t.mean() - predicted) < 0.1 * predicted + 4 * se, (t.mean(), se, predicted)
