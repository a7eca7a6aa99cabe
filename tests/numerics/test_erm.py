"""ERM on Gaussian mixtures: the replica fixed point against independent references.

References used: the Marchenko-Pastur law (ridge on isotropic data, integrated here with
scipy.integrate.quad); the exact least-squares identity E||(I - P) xi||^2 = n - d; the
estimators fitted on sampled data (numpy / scikit-learn); exact moment identities of the
Gaussian equivalent.
"""

import math

import numpy as np
import pytest
from scipy import integrate

from escalier.numerics.erm import (
    FixedPointError,
    Hinge,
    LinearTeacher,
    Logistic,
    SignTeacher,
    Square,
    fit_estimator,
    learning_curve,
    mixture_from_spec,
    simulate_erm,
    solve_fixed_point,
    teacher_from_spec,
)


def ridge_test_error_marchenko_pastur(alpha, lam, noise):
    """E(y - yhat)^2 of ridge on x ~ N(0, I_d), y = theta.x/sqrt d + sqrt(noise) xi, ||theta||^2 = d.

    w = (X^T X / d + lam)^{-1} X^T y / sqrt d = (S + mu)^{-1}(S theta + ...), S = X^T X / n,
    mu = lam / alpha; the error is noise + mu^2 int dMP / (x + mu)^2 + (noise / alpha)
    int x dMP / (x + mu)^2 with MP the Marchenko-Pastur law of ratio gamma = 1 / alpha (an atom
    1 - alpha at 0 when alpha < 1). Derived by hand; integrated with scipy.
    """
    g = 1.0 / alpha
    mu = lam / alpha
    lo, hi = (1 - math.sqrt(g)) ** 2, (1 + math.sqrt(g)) ** 2
    dens = lambda x: math.sqrt(max((hi - x) * (x - lo), 0.0)) / (2 * math.pi * g * x)
    i1 = integrate.quad(lambda x: dens(x) / (x + mu) ** 2, lo, hi, epsabs=1e-13, epsrel=1e-12)[0]
    i1 += max(0.0, 1 - alpha) / mu**2
    i2 = integrate.quad(lambda x: x * dens(x) / (x + mu) ** 2, lo, hi, epsabs=1e-13,
                        epsrel=1e-12)[0]
    return noise + mu**2 * i1 + noise / alpha * i2


@pytest.mark.parametrize("lam", [0.05, 1.0])
def test_ridge_fixed_point_matches_marchenko_pastur(lam):
    mix = mixture_from_spec("mean=0")
    teacher = LinearTeacher(noise=0.3)
    for fp in learning_curve(mix, Square(), teacher, [0.5, 1.0, 3.0], lam):
        ref = ridge_test_error_marchenko_pastur(fp.alpha, lam, 0.3)
        assert abs(fp.test_error - ref) < 1e-7, (fp.alpha, fp.test_error, ref)


@pytest.mark.parametrize("lam", [0.1, 1.0])
def test_ridge_on_sign_labels_matches_linearised_marchenko_pastur(lam):
    """Square loss, y = sign(nu), x ~ N(0, I): asymptotically y acts as kappa nu + noise of
    variance 1 - kappa^2, kappa = E[y nu] = sqrt(2/pi) (the nonlinear part of a single-index
    target is noise for ridge on isotropic data), so with S = X^T X / n ~ MP(1/alpha),
    mu = lam / alpha: m = kappa (1 - mu int dMP/(x+mu)) and
    q = kappa^2 int x^2 dMP/(x+mu)^2 + (1 - kappa^2)/alpha int x dMP/(x+mu)^2.
    This exercises the sign teacher's conditional law and Stein weights in the channel."""
    kappa = math.sqrt(2 / math.pi)
    mix = mixture_from_spec("mean=0")
    for alpha in (0.5, 2.0):
        fp = solve_fixed_point(mix, Square(), SignTeacher(), alpha, lam)
        mu = lam / alpha
        m = kappa * (1 - mu * marchenko_pastur_integral(lambda x, mu=mu: 1 / (x + mu), alpha))
        q = kappa**2 * marchenko_pastur_integral(lambda x, mu=mu: x**2 / (x + mu) ** 2, alpha) + (
            1 - kappa**2) / alpha * marchenko_pastur_integral(lambda x, mu=mu: x / (x + mu) ** 2,
                                                              alpha)
        assert abs(fp.m[0] - m) < 1e-6 and abs(fp.q[0] - q) < 1e-6, (alpha, fp.m, m, fp.q, q)


def marchenko_pastur_integral(f, alpha):
    """int f dMP for S = X^T X / n, X n x d standard Gaussian, d / n = 1 / alpha (with the atom
    (1 - alpha)_+ at 0), by scipy.integrate.quad on the density."""
    g = 1.0 / alpha
    lo, hi = (1 - math.sqrt(g)) ** 2, (1 + math.sqrt(g)) ** 2
    dens = lambda x: math.sqrt(max((hi - x) * (x - lo), 0.0)) / (2 * math.pi * g * x)
    value = integrate.quad(lambda x: f(x) * dens(x), lo, hi, epsabs=1e-13, epsrel=1e-12)[0]
    return value + (max(0.0, 1 - alpha) * f(0.0) if alpha < 1 else 0.0)


@pytest.mark.parametrize("loss", [Square(), Logistic(), Hinge()], ids=lambda l: l.name)
def test_prox_operators_against_scipy(loss):
    """h = argmin (h - omega)^2 / (2V) + l(y, h) by scipy's bounded Brent; dh/domega by finite
    differences; and prox(y, V l'(y, 0)) = 0, the cut used by the training error."""
    import jax
    import jax.numpy as jnp
    from scipy.optimize import minimize_scalar

    rng = np.random.default_rng(0)
    n = 40
    y, omega, V = rng.choice([-1.0, 1.0], n), rng.normal(0, 2, n), rng.uniform(0.05, 5, n)
    eps = 1e-6
    prox = jax.jit(loss.prox)
    h, dh = (np.asarray(x) for x in prox(jnp.asarray(y), jnp.asarray(omega), jnp.asarray(V)))
    hp = np.asarray(prox(jnp.asarray(y), jnp.asarray(omega + eps), jnp.asarray(V))[0])
    hm = np.asarray(prox(jnp.asarray(y), jnp.asarray(omega - eps), jnp.asarray(V))[0])
    cut = np.asarray(prox(jnp.asarray(y), jnp.asarray(V * np.asarray(loss.slope_at_zero(y))),
                          jnp.asarray(V))[0])
    values = np.asarray(jax.jit(loss.value)(jnp.asarray(y)[:, None],
                                             jnp.asarray(np.linspace(-30, 30, 7))[None, :]))
    assert np.all(np.isfinite(values))
    for i in range(n):
        obj = lambda t, i=i: (t - omega[i]) ** 2 / (2 * V[i]) + _loss_value(loss, y[i], t)
        ref = minimize_scalar(obj, bounds=(omega[i] - 20, omega[i] + 20), method="bounded",
                              options={"xatol": 1e-11}).x
        assert abs(h[i] - ref) < 1e-6, (loss.name, y[i], omega[i], V[i], h[i], ref)
        if abs(hp[i] - hm[i] - 2 * eps * dh[i]) > 1e-6:  # only at a kink of the hinge prox
            assert np.min(np.abs(np.asarray(loss.kinks(V[i])) - omega[i])) < 1e-5
    assert np.max(np.abs(cut)) < 1e-9


def _loss_value(loss, y, h):
    """The loss written out again in plain Python (independent of the JAX code)."""
    if loss.name == "ridge":
        return 0.5 * (y - h) ** 2
    if loss.name == "logistic":
        return math.log1p(math.exp(-y * h)) if -y * h < 30 else -y * h
    return max(0.0, 1 - y * h)


DESIGNS = [
    ("mean=0", "linear"),
    ("p=0.3,mean=2,var=1/3;p=0.7,mean=-1,var=2/0.5", "linear:align=0.8"),
    ("mean=1.5/0,var=4/1;mean=-1.5/1,var=1/4;mean=0/-2,var=0.5", "linear:align=0.5,block=1"),
]


@pytest.mark.parametrize("spec,target", DESIGNS)
def test_least_squares_training_error_is_strongly_universal(spec, target):
    """Pesce et al., arXiv 2302.08923: min-norm least squares has training error
    Delta (1 - 1/alpha)_+ for any full-rank design (here: mixtures with means along the
    teacher and cluster-dependent diagonal covariances)."""
    noise = 0.5
    _, align, block = teacher_from_spec(target)
    mix = mixture_from_spec(spec, align=align, block=block)
    teacher = LinearTeacher(noise=noise)
    for alpha in (1.5, 3.0):
        fp = solve_fixed_point(mix, Square(), teacher, alpha, 0.0)
        assert abs(fp.train_error - noise * (1 - 1 / alpha)) < 1e-7
    fp = solve_fixed_point(mix, Square(), teacher, 0.5, 1e-7)  # the interpolation limit
    assert fp.train_error < 1e-6


def test_least_squares_identity_on_sampled_mixture():
    """The identity itself, exact at finite d: E||(I - P) xi||^2 Delta / n = Delta (n - d) / n."""
    noise, d, n, seeds = 0.5, 40, 100, 60
    mix = mixture_from_spec("p=0.3,mean=3,var=1/4;p=0.7,mean=-1,var=0.2/1", align=0.9)
    teacher = LinearTeacher(noise=noise)
    res = []
    for k in range(seeds):
        rng = np.random.default_rng([7, k])
        X, clusters, nu = mix.sample(n, mix.signal_vectors(d, rng), rng)
        y = teacher.sample(nu, clusters, None, rng)
        w = fit_estimator(Square(), X, y, 0.0)
        res.append(np.mean((y - X @ w / math.sqrt(d)) ** 2))
    # per seed: noise * chi2(n - d) / n, standard deviation noise sqrt(2 (n - d)) / n
    sd = noise * math.sqrt(2 * (n - d)) / n / math.sqrt(seeds)
    assert abs(np.mean(res) - noise * (n - d) / n) < 4 * sd


def test_gaussian_equivalent_matches_first_and_second_moments():
    mix = mixture_from_spec("p=0.2,mean=2/1,var=1/3;p=0.5,mean=-1/0.5,var=2/1;p=0.3,mean=0/-2",
                            align=0.6)
    ge = mix.gaussian_equivalent(nodes=6)
    for a, b in zip(mix.moments(), ge.moments(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-12)
    # and the sampler draws the moments the formulas use (Monte Carlo, 5 sigma)
    rng = np.random.default_rng(3)
    d, n = 60, 200_000
    X, clusters, nu = mix.sample(n, mix.signal_vectors(d, rng), rng)
    for c in range(mix.n_clusters):
        sel = nu[clusters == c]
        sd = math.sqrt(mix.teacher_variances()[c] / sel.size)
        assert abs(sel.mean() - mix.teacher_means()[c]) < 5 * sd
        assert abs(sel.var() / mix.teacher_variances()[c] - 1) < 5 * math.sqrt(2 / sel.size)


def test_error_integrals_match_bivariate_normal_cdf():
    """Misclassification rates at a logistic fixed point against scipy's bivariate normal CDF:
    test P(sign omega != sign nu); training P(y h < 0) with h < 0 iff omega < -V y / 2."""
    from scipy.special import ndtr
    from scipy.stats import multivariate_normal

    mix = mixture_from_spec("p=0.3,mean=2,var=1/2;p=0.7,mean=-1,var=0.5/1.5", align=0.6)
    fp = solve_fixed_point(mix, Logistic(), SignTeacher(), 1.5, 0.1)
    t, rho = mix.teacher_means(), mix.teacher_variances()
    test = train = 0.0
    for c in range(mix.n_clusters):
        law = multivariate_normal(mean=[fp.s[c], t[c]], cov=[[fp.q[c], fp.m[c]],
                                                              [fp.m[c], rho[c]]])
        p_omega = lambda x, c=c: ndtr((x - fp.s[c]) / math.sqrt(fp.q[c]))  # P(omega < x)
        p_nu_neg = ndtr(-t[c] / math.sqrt(rho[c]))
        # P(omega < x, nu > 0) + P(omega > -x, nu < 0) at x = 0 (test) and V / 2 (train)
        wrong = lambda x, law=law, p_omega=p_omega, p_nu_neg=p_nu_neg: (
            p_omega(-x) - law.cdf([-x, 0.0]) + p_nu_neg - law.cdf([x, 0.0]))
        test += mix.weights[c] * wrong(0.0)
        train += mix.weights[c] * wrong(fp.V[c] / 2)
    assert abs(fp.test_error - test) < 1e-8 and abs(fp.train_error - train) < 1e-8


def _close(theory, sim, slack):
    """|simulation - theory| <= 3 standard errors + slack (finite-d bias allowance)."""
    for key in ("train_error", "test_error"):
        gap = abs(getattr(sim, key) - getattr(theory, key))
        assert gap <= 3 * sim.stderr[key] + slack, (key, getattr(theory, key), getattr(sim, key),
                                                    sim.stderr[key])


CASES = [  # (loss, mixture, teacher spec, lambda, alpha)
    (Square(), "p=0.4,mean=2,var=1/2;p=0.6,mean=-1.5", "linear:align=0.7,noise=0.2", 0.1, 2.0),
    (Logistic(), "mean=1.5;mean=-1.5", "sign:align=0.8", 0.1, 2.0),
    (Hinge(), "mean=1.5,var=2/1;mean=-1.5,var=1/0.5", "sign:align=0.6,noise=0.1", 0.1, 2.0),
]


@pytest.mark.parametrize("case", CASES, ids=["ridge", "logistic", "hinge"])
def test_theory_matches_simulation_small_d(case):
    loss, spec, target, lam, alpha = case
    teacher, align, block = teacher_from_spec(target)
    mix = mixture_from_spec(spec, align=align, block=block)
    fp = solve_fixed_point(mix, loss, teacher, alpha, lam)
    sim = simulate_erm(mix, loss, teacher, alpha, lam, 200, seeds=3, seed=1)
    _close(fp, sim, slack=0.02 if teacher.classification else 0.05)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=["ridge", "logistic", "hinge"])
def test_theory_matches_simulation_d1000(case):
    loss, spec, target, lam, _ = case
    teacher, align, block = teacher_from_spec(target)
    mix = mixture_from_spec(spec, align=align, block=block)
    for fp in learning_curve(mix, loss, teacher, [0.5, 1.0, 2.0], lam):
        sim = simulate_erm(mix, loss, teacher, fp.alpha, lam, 1000, seeds=4, seed=2)
        _close(fp, sim, slack=0.006 if teacher.classification else 0.015)


def test_universal_case_mixture_equals_gaussian_equivalent():
    """Teacher orthogonal to the means, equal covariances: one Gaussian is enough."""
    teacher = SignTeacher(noise=0.1)
    mix = mixture_from_spec("p=0.3,mean=2;p=0.7,mean=-1", align=0.0)
    for loss in (Logistic(), Hinge()):
        a = solve_fixed_point(mix, loss, teacher, 2.0, 0.1)
        b = solve_fixed_point(mix.gaussian_equivalent(), loss, teacher, 2.0, 0.1)
        assert abs(a.test_error - b.test_error) < 1e-6
        assert abs(a.train_error - b.train_error) < 1e-6


def test_non_universal_case_simulation_follows_the_mixture():
    """Teacher aligned with the means (cosine 0.8): the Gaussian equivalent's test error is off
    by more than the simulation's error, and the simulation follows the mixture's formula."""
    teacher = SignTeacher()
    mix = mixture_from_spec("mean=1.5;mean=-1.5", align=0.8)
    a = solve_fixed_point(mix, Logistic(), teacher, 1.0, 0.1)
    b = solve_fixed_point(mix.gaussian_equivalent(), Logistic(), teacher, 1.0, 0.1)
    sim = simulate_erm(mix, Logistic(), teacher, 1.0, 0.1, 300, seeds=3, seed=5)
    err = 3 * sim.stderr["test_error"] + 0.01
    assert abs(sim.test_error - a.test_error) < err
    assert abs(sim.test_error - b.test_error) > 2 * err


def test_bad_input_and_non_convergence_are_errors():
    mix = mixture_from_spec("mean=1;mean=-1")
    with pytest.raises(ValueError, match="variances must be > 0"):
        mixture_from_spec("mean=1,var=-1;mean=-1")
    with pytest.raises(ValueError, match="alpha"):
        solve_fixed_point(mix, Logistic(), SignTeacher(), 0.0, 0.1)
    with pytest.raises(ValueError, match="lambda = 0"):
        solve_fixed_point(mix, Logistic(), SignTeacher(), 2.0, 0.0)
    with pytest.raises(ValueError, match="classification loss"):
        solve_fixed_point(mix, Hinge(), LinearTeacher(), 2.0, 0.1)
    with pytest.raises(FixedPointError, match=r"residual .* after 3 iterations.*--max-iter"):
        solve_fixed_point(mix, Logistic(), SignTeacher(), 2.0, 0.1, max_iter=3)


def test_fixed_point_matches_the_sympy_closed_form():
    """The damped iteration against escalier.derive.erm's exact ridge solution (isotropic)."""
    from escalier.derive.erm import ridge_isotropic

    closed = ridge_isotropic()
    mix = mixture_from_spec("mean=0")
    for alpha, lam in [(0.5, 0.2), (2.0, 0.05)]:
        fp = solve_fixed_point(mix, Square(), LinearTeacher(noise=0.4), alpha, lam, tol=1e-13)
        exact = closed.evaluate(alpha, lam, 0.4)
        for key, value in (("V", fp.V[0]), ("m", fp.m[0]), ("q", fp.q[0]),
                           ("test_error", fp.test_error), ("train_error", fp.train_error)):
            assert abs(value - float(exact[key])) < 1e-9, (key, value, exact[key])


@pytest.mark.slow
def test_non_universal_case_covariances_aligned_with_the_teacher():
    """Cluster covariances that differ on the block carrying the teacher (2 vs 0.5): the teacher's
    field has cluster-dependent variance, the Gaussian equivalent averages it away, and the
    simulation follows the mixture."""
    teacher = SignTeacher(noise=0.1)
    mix = mixture_from_spec("mean=1,var=2/0.5;mean=-1,var=0.5/2", block=1)
    a = solve_fixed_point(mix, Logistic(), teacher, 1.0, 0.05)
    b = solve_fixed_point(mix.gaussian_equivalent(), Logistic(), teacher, 1.0, 0.05)
    sim = simulate_erm(mix, Logistic(), teacher, 1.0, 0.05, 600, seeds=4, seed=3)
    err = 3 * sim.stderr["test_error"] + 0.006
    assert abs(sim.test_error - a.test_error) < err
    assert abs(sim.test_error - b.test_error) > err and abs(a.test_error - b.test_error) > 2 * err
