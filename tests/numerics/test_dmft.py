"""The DMFT of multi-pass gradient descent (escalier.numerics.dmft).

1. Linear regression, exact: for sigma(x) = x, f(z) = z1, square loss, no noise, the DMFT's
   Euler grid is gradient descent with step lr dt on the empirical risk, whose Hessian is
   the sample covariance with Marchenko-Pastur spectrum of ratio 1 / alpha (hand derivation:
   w_t - w* = (1 - lr dt S)^t (w_0 - w*), and w_0 is independent of w*), so
   M(t_i) = 1 - int (1 - lr dt x)^i dMP(x) exactly; the kernels are deterministic here, so
   the Monte-Carlo sample count does not enter M.
2. Against the multi-pass simulation (full engine, independent of the DMFT code) at small d
   with a statistical tolerance.
3. The kernel estimators (pathwise derivatives, Stein regression, hybrid) against each other
   for a smooth student, against an exact value at t = 0 and against finite differences of
   an independent numpy forward pass for ReLU.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from escalier.derive import Scenario
from escalier.numerics.cli import main
from escalier.numerics.dmft import DmftNotConverged, dmft_kernels, simulate_matched, solve_dmft


def _mp(alpha, fn):
    g = 1.0 / alpha
    lo, hi = (1 - np.sqrt(g)) ** 2, (1 + np.sqrt(g)) ** 2
    return integrate.quad(lambda x: np.sqrt((hi - x) * (x - lo)) / (2 * np.pi * g * x) * fn(x),
                          lo, hi, epsabs=1e-12)[0]


def _mp_gd(alpha, lr, dt, steps):
    return np.array([1 - _mp(alpha, lambda x, i=i: (1 - lr * dt * x) ** i)
                     for i in range(steps + 1)])


@pytest.mark.slow
def test_linear_regression_training_loss_matches_marchenko_pastur():
    """Training loss of the same GD: (1/2) (1 + s0^2) int x (1 - lr dt x)^(2i) dMP(x)
    (the residual X (w* - w_i) / sqrt(d), w_0 - w* isotropic with variance 1 + s0^2 per
    coordinate). It probes the sample process's memory term (without it, train = test).
    Tolerance: 4 Monte-Carlo standard errors of a mean of (1/2) r^2, r Gaussian:
    4 sqrt(2 / N) relative."""
    sc = Scenario("z1", student="x", p=1, lr=1.0, init_scale=0.5)
    n = 4000
    sol = solve_dmft(sc, 2.0, 2.0, steps=20, samples=n)
    want = np.array([0.5 * 1.25 * _mp(2.0, lambda x, i=i: x * (1 - 0.1 * x) ** (2 * i))
                     for i in range(21)])
    np.testing.assert_allclose(sol.train_loss, want, rtol=4 * np.sqrt(2 / n))
    assert sol.train_loss[-1] < 0.8 * sol.test_loss[-1]


@pytest.mark.parametrize("alpha", [2.0, pytest.param(4.0, marks=pytest.mark.slow)])
@pytest.mark.parametrize("kernels", ["pathwise", "stein"])
def test_linear_regression_matches_marchenko_pastur(alpha, kernels):
    """Both estimators are exact here: F is affine in the Gaussian path, which the Stein
    regression (sample covariances, intercept) recovers exactly from any sample."""
    sc = Scenario("z1", student="x", p=1, lr=1.0, init_scale=0.5)
    sol = solve_dmft(sc, alpha, 2.0, steps=20, samples=200, kernels=kernels)
    assert sol.config["kernels"] == kernels
    want = _mp_gd(alpha, 1.0, 0.1, 20)
    np.testing.assert_allclose(sol.M[:, 0, 0], want, atol=1e-5)


@pytest.mark.slow
def test_dmft_matches_multipass_simulation_small_d():
    """tanh(z1), one erf neuron, alpha = 2, GD with the DMFT's step (simulate_matched: the
    Euler grid is the simulated GD, so only finite d and Monte Carlo remain). Tolerance at
    every grid time: 4 standard errors of the simulation mean (64 runs) plus 0.01 for the
    O(1/d) finite-size bias at d = 128 and the DMFT's Monte-Carlo error (1000 paths)."""
    sc = Scenario("tanh(z1)", student="erf", p=1, lr=1.0, init_scale=0.5)
    sol = solve_dmft(sc, 2.0, 2.0, steps=10, samples=1000)
    r = simulate_matched(sol, sc, 128, seeds=64, seed=3)
    assert r.config["n_steps"] == 10 and np.allclose(r.times * 128, np.arange(11))
    for name, sim, th in (("M", r.M[:, :, 0, 0], sol.M[:, 0, 0]),
                          ("Q", r.Q[:, :, 0, 0], sol.Q[:, 0, 0])):
        se = sim.std(0, ddof=1) / np.sqrt(sim.shape[0])
        assert np.all(np.abs(sim.mean(0) - th) <= 4 * se + 0.01), (name, sim.mean(0), th)
    assert sol.M[-1, 0, 0] > 0.3  # the comparison is not trivially about M = 0


def test_non_convergence_is_an_error_naming_what_to_change():
    sc = Scenario("tanh(z1)", student="erf", p=1, lr=1.0, init_scale=0.5)
    with pytest.raises(DmftNotConverged, match="residual .* raise --max-iterations") as err:
        solve_dmft(sc, 2.0, 1.0, steps=5, samples=100, max_iterations=2, tol=1e-12)
    assert err.value.residual > 1e-12
    with pytest.raises(ValueError, match="second layer"):
        solve_dmft(Scenario("tanh(z1)", p=1, train_second_layer=True), 2.0, 1.0)


def test_cli_dmft(tmp_path, capsys):
    out = tmp_path / "d.json"
    code = main(["dmft", "tanh(z1)", "--student", "erf", "--p", "1", "--alpha", "2",
                 "--lr", "1", "--time", "0.5", "--steps", "5", "--samples", "100",
                 "--kernels", "stein", "--no-progress", "--json", str(out)])
    assert code == 0
    text = capsys.readouterr().out
    assert "converged in" in text and "train" in text
    import json
    data = json.loads(out.read_text())
    assert len(data["times"]) == 6 and data["config"]["alpha"] == 2.0
    assert data["config"]["kernels"] == "stein"
    try:
        code = main(["dmft", "tanh(z1)", "--alpha", "0"])
    except SystemExit as stop:
        code = stop.code
    assert code == 2


@pytest.mark.slow
def test_large_alpha_approaches_the_online_ode():
    """alpha -> infinity: multi-pass gradient flow becomes population gradient flow, which is
    the online-SGD ODE without its O(lr^2) noise term: the ODE of escalier.derive at
    lr = 0.01 integrated to t / 0.01 (relative O(lr) from that term). tanh(z1), one erf
    neuron, t <= 2. Tolerance 0.01 on M and Q at alpha = 64 (the Euler grid dt = 0.1 gives
    about 0.005, finite alpha O(1/alpha)); and alpha = 4 is farther from the ODE than
    alpha = 64 (the approach)."""
    q_ode, m_ode = _online_ode("erf")
    sc = Scenario("tanh(z1)", student="erf", p=1, lr=1.0, init_scale=0.5)
    dev = {}
    for alpha in (4.0, 64.0):
        sol = solve_dmft(sc, alpha, 2.0, steps=20, samples=1000)
        dev[alpha] = max(np.max(np.abs(sol.M[:, 0, 0] - m_ode)),
                         np.max(np.abs(sol.Q[:, 0, 0] - q_ode)))
    assert dev[64.0] < 0.01
    assert dev[4.0] > 2 * dev[64.0]


@pytest.mark.slow
def test_large_alpha_relu_approaches_the_online_ode():
    """The ReLU student at alpha -> infinity (the jump of sigma' enters the DMFT only
    through the finite-alpha response and memory terms, which vanish like 1/alpha): one
    ReLU neuron on tanh(z1), init 0.5, t <= 2, 4000 paths, default (Stein) kernels; within
    0.01 of the online ODE at lr = 0.01 at alpha = 64 (measured with the pathwise kernels
    0.0070 on M, 0.0054 on Q: the Euler-grid level of the erf test above). It located the
    pathwise kernels' ReLU bias at alpha = 2 in the finite-alpha (response and memory)
    terms, not in the population part."""
    q_ode, m_ode = _online_ode("relu")
    sc = Scenario("tanh(z1)", student="relu", p=1, lr=1.0, init_scale=0.5)
    sol = solve_dmft(sc, 64.0, 2.0, steps=20, samples=4000)
    assert np.max(np.abs(sol.M[:, 0, 0] - m_ode)) < 0.01
    assert np.max(np.abs(sol.Q[:, 0, 0] - q_ode)) < 0.01


def _online_ode(student):
    """(Q, M) of the online-SGD ODE of tanh(z1) at lr = 0.01, integrated to t / 0.01 for the
    DMFT's times t = 0, 0.1, ..., 2 (population gradient flow up to O(lr)), from Q = 0.25,
    M = 0 (init_scale 0.5)."""
    from escalier.numerics.integrate import integrate
    from escalier.numerics.verify import ode_functions, overlap_state

    small = Scenario("tanh(z1)", student=student, p=1, lr=0.01, init_scale=0.5)
    fns = ode_functions(small)
    y0 = np.asarray(overlap_state(small, np.array([[[0.25]]]), np.array([[[0.0]]]),
                                  np.array([[1.0]])))
    ode = integrate(fns.rhs, y0, np.linspace(0, 2.0 / 0.01, 21), fns.args, names=fns.names)
    y = np.asarray(ode.y).reshape(21, -1)
    return y[:, fns.names.index("Q11")], y[:, fns.names.index("M11")]


def _state(target, student, *, time=2.0, steps=10, **kw):
    """A converged DMFT state (Q, M, R) to evaluate kernels at (cheap: few paths)."""
    sc = Scenario(target, student=student, lr=1.0, init_scale=0.5, **kw)
    return sc, solve_dmft(sc, 2.0, time, steps=steps, samples=500, tol=1e-3, kernels="stein")


def test_relu_kernel_at_time_zero_has_the_dirac_mass():
    """t = 0, one ReLU neuron, square loss, target f = z1^2 + z1: lambda_0 = omega_0 ~
    N(0, s0^2) independent of nu (M(0) = 0), F_0 = (f(nu) - relu(omega_0)) H(omega_0), so by
    hand G[0, 0] = E[dF_0 / domega_0] = -P(omega_0 > 0) + E[f] phi(0) / s0 = -1/2 + 2 phi(0)
    (the second term is the Dirac mass of sigma'': 0.80, which the a.e. derivative misses)
    and Gnu[0] = E[H(omega_0) f'(nu)] = 1/2. Tolerance: 4 standard errors of the Stein
    regression on omega_0, sqrt(Var F_0 / (N s0^2)) (Var F_0 = E[H (f - omega)^2] - E[F]^2
    by Monte Carlo here), and likewise for nu with Var nu = 1. (The hybrid estimator is
    checked against finite differences below: its smoothed pathwise part has its own
    noise, which this tolerance does not cover.)"""
    sc = Scenario("z1**2 + z1", student="relu", p=1, lr=1.0, init_scale=0.5)
    sol = solve_dmft(sc, 2.0, 0.2, steps=2, samples=500, tol=1e-3)
    n = 8000
    G, Gnu = dmft_kernels(sol, sc, kernels="stein", samples=n, seed=1)
    rng = np.random.default_rng(0)
    w, nu = 0.5 * rng.standard_normal(10**6), rng.standard_normal(10**6)
    F0 = (nu**2 + nu - np.maximum(w, 0)) * (w > 0)
    se = np.sqrt(F0.var() / n)
    phi0 = 1 / np.sqrt(2 * np.pi)
    assert abs(G[0, 0, 0, 0] - (-0.5 + 2 * phi0)) < 4 * se / 0.5, G[0, 0, 0, 0]
    assert abs(Gnu[0, 0, 0] - 0.5) < 4 * se, Gnu[0, 0, 0]
    assert 4 * se / 0.5 < 0.2  # the Dirac term (0.80) is resolved


def _seeds(sol, sc, kernels, seeds, samples=4000):
    """(mean, standard error over seeds) of the row sums sum_s G[i, s] and of Gnu[i]."""
    out = [dmft_kernels(sol, sc, kernels=kernels, samples=samples, seed=10 + s)
           for s in range(seeds)]
    rows = np.array([o[0].sum(1) for o in out])
    gnu = np.array([o[1] for o in out])
    return ((x.mean(0), x.std(0, ddof=1) / np.sqrt(seeds)) for x in (rows, gnu))


@pytest.mark.slow
def test_stein_kernels_equal_pathwise_kernels_for_a_smooth_student():
    """erf students (two neurons, a = (1, 1/2), target tanh(z1 + z2): the nu block has
    k = 2): the pathwise derivatives are exact, the Stein regression is an independent
    estimator of the same E[dF(t_i)/dg]. Compared on what the parameter side uses, the row
    sums sum_s G[i, s] (the single entries G[i, s] of the regression are noisy: omega(t_i)
    given the past varies by O(lr dt)) and Gnu[i], at every grid time. Tolerance: 4 standard
    errors of the difference (seeds: 4 Stein, 2 pathwise of 4000 paths, pooled over the
    entries) plus 0.002 for the O(1/N) bias of the regression."""
    sc, sol = _state("tanh(z1 + z2)", "erf", p=2, a=(1.0, 0.5), steps=4, time=1.0)
    (rs, rs_se), (gs, gs_se) = _seeds(sol, sc, "stein", 4)
    (rp, rp_se), (gp, gp_se) = _seeds(sol, sc, "pathwise", 2)
    for name, a, b, se in (("rows", rs, rp, np.hypot(rs_se, rp_se)),
                           ("Gnu", gs, gp, np.hypot(gs_se, gp_se))):
        pooled = np.sqrt(np.mean(se**2))
        assert np.max(np.abs(a - b)) < 4 * pooled + 0.002, (name, a - b, pooled)
    assert np.min(np.abs(rp)) > 0.05 and np.min(np.abs(gp)) > 0.05  # not trivially zero


def _relu_forces(omega, nu, Bz):
    """F(t_i) of one ReLU neuron (a = 1, square loss, f = tanh) along each path of the
    discretised sample process lambda_i = omega_i + sum_{u < i} Bz[i, u] F_u (numpy,
    independent of the solver's JAX code)."""
    y = np.tanh(nu)
    F = np.zeros_like(omega)
    for i in range(omega.shape[1]):
        lam = omega[:, i] + F[:, :i] @ Bz[i, :i]
        F[:, i] = (y - np.maximum(lam, 0)) * (lam > 0)
    return F


@pytest.mark.slow
def test_relu_kernels_match_finite_differences():
    """One ReLU neuron on tanh(z1), alpha = 2, t <= 2, 10 steps: at a converged state, the
    row sums sum_{s <= i} G[i, s] = d/dh E[F_i(omega + h 1)] and Gnu[i] = d/dh E[F_i(nu + h)]
    by central differences (h = 0.05, common random numbers, 8 x 20000 paths of the exact
    Gaussian process through a numpy forward pass: E[F] is smooth in h, so the jumps of
    F are included; the O(h^2) bias is below 0.005) against the Stein and hybrid estimators
    (4 seeds of 4000 paths). Tolerance: 4 standard errors of the difference plus 0.01 (the
    FD bias and the regression's O(1/N) bias). The smoothed pathwise estimator misses the
    late row sums by about 0.12 (measured) and is not held to this."""
    sc, sol = _state("tanh(z1)", "relu", p=1)
    T1 = len(sol.times)
    Bz = sol.response[..., 0, 0] * sc.lr / 2.0
    cov = np.block([[sol.Q2[..., 0, 0], sol.M[:, :, 0]], [sol.M[:, :, 0].T, np.eye(1)]])
    ev, U = np.linalg.eigh(cov)
    root = U * np.sqrt(np.clip(ev, 0, None))
    rng = np.random.default_rng(0)
    h, rows, gnus = 0.05, [], []
    for _ in range(8):
        g = rng.standard_normal((20000, T1 + 1)) @ root.T
        om, nu = g[:, :T1], g[:, T1]
        rows.append([np.mean(_relu_forces(om + h * (np.arange(T1) <= i), nu, Bz)[:, i]
                             - _relu_forces(om - h * (np.arange(T1) <= i), nu, Bz)[:, i])
                     / (2 * h) for i in range(T1)])
        gnus.append(np.mean(_relu_forces(om, nu + h, Bz) - _relu_forces(om, nu - h, Bz), 0)
                    / (2 * h))
    fd = [(np.mean(x, 0), np.std(x, 0, ddof=1) / np.sqrt(8)) for x in (rows, gnus)]
    for kernels in ("stein", "hybrid"):
        est = list(_seeds(sol, sc, kernels, 4))
        for name, (a, a_se), (b, b_se) in zip(("rows", "Gnu"), est, fd, strict=True):
            a, a_se = a[:, 0, 0] if a.ndim == 3 else a, a_se[:, 0, 0] if a_se.ndim == 3 else a_se
            assert np.all(np.abs(a - b) < 4 * np.hypot(a_se, b_se) + 0.01), (kernels, name,
                                                                               a - b)


@pytest.mark.slow
def test_relu_dmft_matches_multipass_simulation():
    """One ReLU neuron on tanh(z1), alpha = 2, t <= 2, 10 steps, default kernels (Stein):
    the mean of 4 solver seeds of 4000 paths against 64 matched runs at d = 500, at every
    grid time. Tolerance: 4 standard errors of the difference (seeds and runs) plus 0.006
    for the finite-d bias at d = 500 (measured on this setting at 20 steps: Q(2) at
    d = 500, 1000, 2000 within 0.002, M(2) within 0.005, of each other). The pathwise
    kernels (sigma'' smoothed) were 0.024 above the simulation on Q(2) at 20 steps."""
    sc = Scenario("tanh(z1)", student="relu", p=1, lr=1.0, init_scale=0.5)
    sols = [solve_dmft(sc, 2.0, 2.0, steps=10, samples=4000, tol=1e-3, seed=s)
            for s in range(4)]
    assert sols[0].config["kernels"] == "stein"
    r = simulate_matched(sols[0], sc, 500, seeds=64, seed=3)
    for name, sim, th in (("M", r.M[:, :, 0, 0], np.array([s.M[:, 0, 0] for s in sols])),
                          ("Q", r.Q[:, :, 0, 0], np.array([s.Q[:, 0, 0] for s in sols]))):
        se = np.hypot(sim.std(0, ddof=1) / np.sqrt(sim.shape[0]),
                      th.std(0, ddof=1) / np.sqrt(th.shape[0]))
        dev = np.abs(sim.mean(0) - th.mean(0))
        assert np.all(dev <= 4 * se + 0.006), (name, dev, se)
