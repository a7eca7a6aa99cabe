"""The overlap SDE (escalier.numerics.verify.simulate_sde) against the simulated network, and
its Ornstein-Uhlenbeck limit (docs/noise.md).

Statistics: with N independent paths and N independent seeds (the SDE starts from its own
random weights, drawn with the simulation's law, not from the simulation's), the ratio of
sample variances of one overlap at one time is F(N - 1, N - 1) distributed when the variances
are equal (near-Gaussian overlaps: fluctuations of order d^-1/2). Each ratio must lie in the
two-sided band of total level ALPHA / (number of ratios) (Bonferroni). The ODE from the same
random starts (noise_scale = 0) must fail the same band somewhere: the noise is resolved.
"""

import numpy as np
import pytest
from scipy import stats

from escalier.derive import Scenario
from escalier.numerics.simulation import simulate
from escalier.numerics.verify import (
    diffusion_root,
    ornstein_uhlenbeck,
    overlap_state,
    simulate_sde,
)

ALPHA = 1e-3

# a small initial scale (w ~ N(0, 0.2^2 I)) so that the noise, not the initial spread,
# dominates the variance at the record times
SINGLE = Scenario("erf(z1/sqrt(2))", student="erf", p=1, lr=1.0, init_scale=0.2)
COMMITTEE = Scenario("erf(z1/sqrt(2))", student="erf", p=2, lr=0.5, init_scale=0.2)
LINEAR = Scenario("z1", student="linear", p=2, lr=0.5, a=(1.0, 0.5), init_scale=0.2)
# spherical rows (|w_j|^2 = d after every step), the same committee
SPHERICAL = Scenario("z1", student="linear", p=2, lr=0.5, a=(1.0, 0.5), spherical=True)


def _sim_states(sc, d, time, seeds, n_records, seed=1):
    r = simulate(sc, d, time, seeds=seeds, n_records=n_records, engine="gram", seed=seed,
                 progress=False)
    return r.times, np.asarray(overlap_state(sc, np.asarray(r.Q), np.asarray(r.M),
                                             np.asarray(r.a)))


def variance_table(sc, d, time, seeds, n_records, points=None, dt=0.01):
    """Rows (t, name, var SDE, var sim, ratio, band, var ODE-only) at the record times t > 0."""
    times, sim = _sim_states(sc, d, time, seeds, n_records)
    sde = simulate_sde(sc, d, time, seeds=seeds, n_records=n_records, seed=2, points=points,
                       dt=dt)
    ode = simulate_sde(sc, d, time, seeds=seeds, n_records=n_records, seed=2, points=points,
                       dt=dt, noise_scale=0.0)
    np.testing.assert_allclose(sde.times, times, atol=1e-12)
    n = sim.shape[-1]
    m = n_records * n
    lo, hi = stats.f.ppf([ALPHA / (2 * m), 1 - ALPHA / (2 * m)], seeds - 1, seeds - 1)
    rows = []
    for ti in range(1, n_records + 1):
        for i, name in enumerate(sde.names):
            vs, vm = sde.y[:, ti, i].var(ddof=1), sim[:, ti, i].var(ddof=1)
            vo = ode.y[:, ti, i].var(ddof=1)
            rows.append((float(times[ti]), name, vs, vm, vs / vm, (lo, hi), vo))
    return rows


def _check(rows):
    lo, hi = rows[0][5]
    ratios = np.array([r[4] for r in rows])
    assert np.all((ratios > lo) & (ratios < hi)), [(r[0], r[1], r[4]) for r in rows]
    ode = np.array([r[6] / r[3] for r in rows])
    assert np.any((ode < lo) | (ode > hi)), "the ODE alone passes: the test has no power"


def test_sde_variance_matches_simulation_linear_committee_d500():
    """Linear student p = 2 (a = (1, 0.5)) on y = z1 (every expectation exact, fast),
    eta = 0.5, d = 500, 300 seeds and paths, t = 1, 2."""
    _check(variance_table(LINEAR, 500, 2.0, 300, 2, dt=0.02))


def test_sde_variance_matches_simulation_spherical_committee_d500():
    """Spherical rows at p = 2 (state Q_12, M_11, M_21), linear student, eta = 0.5, d = 500,
    300 seeds and paths, t = 1, 2: the SDE end to end. It has little power on the Q_12
    renormalisation term (Q_12 stays near -1/4 here); that term is guarded by the exact
    one-step covariance in tests/derive/test_overlap_noise.py."""
    _check(variance_table(SPHERICAL, 500, 2.0, 300, 2, dt=0.02))


@pytest.mark.slow
def test_sde_variance_matches_simulation_spherical_tangent():
    """Tangent-projected steps, then renormalised: the same xi to first order in 1/d (the
    projection removes g_j lambda_j from xi_Qjj, the renormalisation removes it anyway); at
    eta = 1.5 the finite-lr part (eta / n_b) g g matters. The linear committee above, whose
    rows settle at Q_12 = -1/4 (|w_1 + w_2 / 2| = 1), 400 seeds, t = 2, 4. (An erf committee
    on a single erf teacher drives both rows to Q_12 -> 1, the edge of the overlaps' domain,
    where the SDE's noise pushes paths outside it.)"""
    sc = Scenario("z1", student="linear", p=2, lr=1.5, a=(1.0, 0.5), spherical=True,
                  tangent=True)
    _check(variance_table(sc, 500, 4.0, 400, 2, dt=0.02))


@pytest.mark.slow
def test_sde_variance_matches_simulation_minibatch():
    """Mini-batch n_b = 4 (Sigma = eta^2 C / (n_b d), eta / n_b inside xi_Q): linear
    committee, eta = 1.5, d = 500, 400 seeds and paths, t = 1, 2."""
    sc = Scenario("z1", student="linear", p=2, lr=1.5, a=(1.0, 0.5), init_scale=0.2, batch=4)
    _check(variance_table(sc, 500, 2.0, 400, 2, dt=0.02))


@pytest.mark.slow
@pytest.mark.parametrize("d", [500, 2000])
def test_sde_variance_matches_simulation_single_index(d):
    _check(variance_table(SINGLE, d, 4.0, 600, 2, points=16, dt=0.02))


@pytest.mark.slow
@pytest.mark.parametrize("d", [500, 2000])
def test_sde_variance_matches_simulation_committee(d):
    """erf committee student p = 2 on an erf single index teacher (k = 1), eta = 0.5."""
    _check(variance_table(COMMITTEE, d, 4.0, 400, 2, points=8, dt=0.04))


def test_diffusion_root_clips_rounding_and_flags_indefinite():
    import jax.numpy as jnp

    A = np.array([[2.0, 1.0], [1.0, 0.5 + 1e-12]])  # rank one up to rounding
    R, ok = diffusion_root(jnp.asarray(A))
    assert bool(ok)
    np.testing.assert_allclose(np.asarray(R @ R), A, atol=1e-10)
    R, ok = diffusion_root(jnp.asarray([[1.0, 0.0], [0.0, -0.1]]))
    assert not bool(ok) and np.all(np.isnan(np.asarray(R)))


def test_indefinite_covariance_is_an_error_naming_the_state():
    """Outside the overlaps' domain (Q11 = 0.1 < M11^2 = 0.81: Omega not PSD) the linear
    network's C has a negative eigenvalue (-1.47 by the formula); the run must stop with an
    error, not return NaN."""
    sc = Scenario("z1", student="linear", p=1, lr=0.5)
    with pytest.raises(ValueError, match="materially indefinite.*Q11"):
        simulate_sde(sc, 100, 0.5, seeds=4, n_records=1, y0=[0.1, 0.9], dt=0.05)


NOISY = Scenario("erf(z1/sqrt(2))", student="erf", p=1, lr=1.0, noise=0.5)


@pytest.mark.slow
def test_ornstein_uhlenbeck_against_sde():
    """Label noise Delta = 0.5 keeps the noise on at the stable fixed point (p = k = 1).
    The Lyapunov S solves J S + S J^T + D = 0 (checked); started at y*, the SDE's covariance at
    t = 6 equals the OU covariance S - e^{Jt} S e^{J^T t} (d = 2000: the nonlinearity of the
    drift over the O(d^-1/2) spread is negligible); 1500 paths, chi^2 band on each variance."""
    d = 2000
    ou = ornstein_uhlenbeck(NOISY, [1.0, 1.0], d)
    J, S, D = ou.J, ou.S, ou.D
    np.testing.assert_allclose(J @ S + S @ J.T, -D, atol=1e-12 * np.abs(D).max())
    assert np.all(np.linalg.eigvalsh(S) > 0)
    t, N = 6.0, 1500
    run = simulate_sde(NOISY, d, t, seeds=N, n_records=1, y0=ou.y_star, points=12, dt=0.02)
    var = run.y[:, -1].var(axis=0, ddof=1)
    lo, hi = stats.chi2.ppf([ALPHA / 4, 1 - ALPHA / 4], N - 1) / (N - 1)
    ratio = var / np.diag(ou.covariance_at(t))
    assert np.all((ratio > lo) & (ratio < hi)), ratio
    # the transient differs from the stationary S by more than the band: the test sees time
    assert np.any(np.abs(np.diag(ou.covariance_at(t)) / np.diag(S) - 1) > hi - 1)


def test_ornstein_uhlenbeck_refuses_unstable_fixed_point():
    """Even target He2 with an He2 student: M = 0 is a fixed point (E[f(nu) nu ...] = 0 by
    parity), unstable in M (information exponent 2): no stationary covariance."""
    sc = Scenario("He2(z1)", student="He2", p=1, lr=0.05)
    from escalier.numerics.verify import fixed_point

    y = fixed_point(sc, [0.4, 0.0])
    assert abs(y[1]) < 1e-12
    with pytest.raises(ValueError, match="not stable.*stationary=False"):
        ornstein_uhlenbeck(sc, y, 500, refine=False)
    # the saddle's transient covariance: at M = 0 the M row of J is (0, lam) (dM/dt is odd
    # in M), so Var M(t) = D_MM (e^{2 lam t} - 1) / (2 lam) by hand, with lam > 0
    ou = ornstein_uhlenbeck(sc, y, 500, refine=False, stationary=False)
    assert ou.S is None and not ou.stable
    with pytest.raises(ValueError, match="covariance_at"):
        _ = ou.std
    i = list(ou.names).index("M11")
    lam = ou.J[i, i]
    assert lam > 0 and np.allclose(np.delete(ou.J[i], i), 0.0, atol=1e-14)
    for t in (0.5, 3.0, 10.0):
        np.testing.assert_allclose(ou.covariance_at(t)[i, i],
                                   ou.D[i, i] * np.expm1(2 * lam * t) / (2 * lam), rtol=1e-10)


def test_transient_covariance_is_the_lyapunov_difference_at_a_stable_point():
    """At a stable point Van Loan's integral equals S - e^{Jt} S e^{J^T t} (exact identity)."""
    from scipy.linalg import expm

    sc = Scenario("z1", student="linear", p=1, lr=0.5, noise=0.2)
    ou = ornstein_uhlenbeck(sc, [1.0, 1.0], 500)
    assert ou.stable
    for t in (0.3, 2.0, 9.0):
        E = expm(ou.J * t)
        np.testing.assert_allclose(ou.covariance_at(t), ou.S - E @ ou.S @ E.T,
                                   rtol=1e-9, atol=1e-12 * np.abs(ou.S).max())


@pytest.mark.slow
def test_saddle_transient_against_sde():
    """At the He2 saddle M = 0 (information exponent 2: M grows like e^{lam t}), started at
    y*, the SDE's variance at t = 2 (d = 4000: the spread stays O(d^-1/2) e^{lam t}, small)
    equals the transient OU covariance; 1500 paths, chi^2 band at level 1e-3 per variance.
    The stationary formula does not exist here; the diffusion alone (J = 0: D t) must fail."""
    sc = Scenario("He2(z1)", student="He2", p=1, lr=0.05)
    from escalier.numerics.verify import fixed_point

    d, t, N = 4000, 2.0, 1500
    ou = ornstein_uhlenbeck(sc, fixed_point(sc, [0.4, 0.0]), d, refine=False,
                            stationary=False)
    run = simulate_sde(sc, d, t, seeds=N, n_records=1, y0=ou.y_star, dt=0.01)
    var = run.y[:, -1].var(axis=0, ddof=1)
    lo, hi = stats.chi2.ppf([ALPHA / 4, 1 - ALPHA / 4], N - 1) / (N - 1)
    ratio = var / np.diag(ou.covariance_at(t))
    print("saddle OU vs SDE: variance ratios", ratio, "band", (lo, hi))
    assert np.all((ratio > lo) & (ratio < hi)), ratio
    flat = var / np.diag(ou.D * t)
    assert np.any((flat < lo) | (flat > hi)), flat


@pytest.mark.slow
def test_ornstein_uhlenbeck_against_simulation():
    """Linear student on y = z1 + label noise 0.2, eta = 0.5 (relaxation rates 0.5 and 0.625:
    at t = 16 the start is forgotten to e^-8): the stationary Lyapunov covariance S against
    the gram simulation's variance across 1000 seeds at d = 500, chi^2 band at level 1e-3."""
    sc = Scenario("z1", student="linear", p=1, lr=0.5, noise=0.2)
    d, N = 500, 1000
    ou = ornstein_uhlenbeck(sc, [1.0, 1.0], d)
    assert 16 * np.min(-ou.eigenvalues.real) > 7.9
    times, sim = _sim_states(sc, d, 16.0, N, 1)
    var = sim[:, -1].var(axis=0, ddof=1)
    lo, hi = stats.chi2.ppf([ALPHA / 4, 1 - ALPHA / 4], N - 1) / (N - 1)
    ratio = var / np.diag(ou.S)
    print("OU vs simulation: variance ratios", ratio, "band", (lo, hi))
    assert np.all((ratio > lo) & (ratio < hi)), ratio
