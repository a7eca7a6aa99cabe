"""The Gram engine's random draws against their laws, and its one-step moments against exact
finite-d formulas (issue 21, section 2).

Draws: Gamma (Marsaglia-Tsang) and chi-square against scipy's laws by Kolmogorov-Smirnov;
Bartlett factors H: the diagonal H_ii^2 ~ chi^2_{df - i}, the strict lower part N(0, 1), and
the Wishart moments E[(H H^T)_ij] = df delta_ij, Var[(H H^T)_ii] = 2 df,
Var[(H H^T)_ij] = df (i != j) (Anderson, Introduction to Multivariate Statistical Analysis,
3rd ed., Cor. 7.2.1 and Thm. 7.3.2); the chain's complement block has df = d - k - p.

Tolerances: means within 5 standard errors (two-sided false-failure probability 6e-7 per
check under the normal approximation, about 40 checks: < 3e-5 per run); KS p-values above
1e-6. The draws are deterministic (fixed keys), so a pass is reproducible.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from escalier.derive import Scenario
from escalier.numerics.simulation._gram import GramChain, run
from escalier.numerics.simulation._gram_draws import Stream, bartlett, bartlett_size, gamma
from escalier.numerics.simulation._normals import philox_state

Z = 5.0


def _state(seed):
    return philox_state(jax.random.key(seed))


def _z(values, mean):
    values = np.asarray(values, float)
    return (values.mean() - mean) / (values.std(ddof=1) / np.sqrt(values.size))


@pytest.fixture(scope="module")
def gamma_draws():
    """n Gamma(alpha) draws for several alpha (one compilation: alpha is traced)."""
    n = 1 << 15

    @jax.jit
    def draw(state, alpha):
        stream = Stream(state, (n,), 1, 2, jnp.float64)
        return gamma(stream, alpha, (), jnp.float64, small=True)

    return lambda alpha: np.asarray(draw(_state(int(alpha * 10)), alpha))


@pytest.mark.parametrize("alpha", [0.4, 1.0, 3.5, 10.0, 2500.0])
def test_gamma_draws_follow_the_gamma_law(gamma_draws, alpha):
    x = gamma_draws(alpha)
    n = x.size
    assert stats.kstest(x, stats.gamma(alpha).cdf).pvalue > 1e-6
    # mean alpha, variance alpha (Var of the sample variance: (mu4 - alpha^2) / n with
    # mu4 = 3 alpha^2 + 6 alpha): 5 standard errors
    assert abs(_z(x, alpha)) < Z
    assert abs(x.var() - alpha) < Z * alpha * np.sqrt(2 * (1 + 3 / alpha) / n)


def test_marsaglia_tsang_log_ratio_against_high_precision():
    # The acceptance test log U < s h(t), h(t) = 3 log1p(t) - 3t + 3t^2/2 - t^3, evaluated
    # by a series for |t| < 0.05 (where h ~ -3t^4/4 cancels catastrophically). At large
    # shapes the whole run of trials uses the series, but a wrong series moves the
    # acceptance probability by only ~s t^4 ~ 1e-5: invisible to the KS and moment tests.
    # So h is checked against mpmath at 40 digits on a grid of t both sides of the switch:
    # the series to a relative 1e-12 (its truncation error is below 1e-19 relative to t^4),
    # the direct form (|t| >= 0.05) to its rounding error, a few ulp of the terms, s * 1e-14
    # * max(1, |t|^3) absolute (measured: 2e-14 at t = 0.0501, s = 833).
    import mpmath

    from escalier.numerics.simulation._gram_draws import _mt_log_ratio

    mpmath.mp.dps = 40
    ts = [-0.9, -0.3, -0.0501, -0.0499, -0.03, -1e-3, -1e-6, 1e-6, 1e-3, 0.02, 0.0499,
          0.0501, 0.4, 2.0]
    s = 833.0
    got = np.asarray(_mt_log_ratio(jnp.asarray(ts, jnp.float64), s))
    for t, g in zip(ts, got, strict=True):
        t = mpmath.mpf(t)
        ref = s * (3 * mpmath.log1p(t) - 3 * t + 3 * t**2 / 2 - t**3)
        tol = 1e-12 * abs(ref) if abs(t) < 0.05 else s * 1e-14 * max(1, abs(t) ** 3)
        assert abs(g - ref) <= tol, float(t)


@pytest.fixture(scope="module")
def factors():
    m, df, n = 3, 7, 40_000
    normals, uniforms = bartlett_size(m, df)

    @jax.jit
    def draw(state):
        return bartlett(Stream(state, (n,), normals, uniforms, jnp.float64), m, df, jnp.float64)

    return m, df, np.asarray(draw(_state(5)))


def test_bartlett_entries_follow_their_laws(factors):
    m, df, H = factors
    assert np.all(np.triu(H, 1) == 0)
    for i in range(m):
        # H_ii^2 ~ chi^2 with df - i degrees of freedom (not df: Bartlett's decomposition)
        assert stats.kstest(H[:, i, i] ** 2, stats.chi2(df - i).cdf).pvalue > 1e-6, i
        assert abs(_z(H[:, i, i] ** 2, df - i)) < Z, i
        for j in range(i):
            assert stats.kstest(H[:, i, j], "norm").pvalue > 1e-6, (i, j)


def test_bartlett_wishart_moments(factors):
    m, df, H = factors
    W = H @ np.swapaxes(H, 1, 2)
    n = W.shape[0]
    for i in range(m):
        for j in range(m):
            mean = df if i == j else 0.0
            var = 2 * df if i == j else df
            # E and Var of the Wishart_m(df, I) entries
            assert abs(W[:, i, j].mean() - mean) < Z * np.sqrt(var / n), (i, j)
            # Var of the sample variance: (mu4 - var^2) / n, mu4 from the chi-square /
            # product-normal fourth moments, bounded here by 12 df^2 + 12 df
            assert abs(W[:, i, j].var() - var) < Z * np.sqrt((12 * df**2 + 12 * df) / n), (i, j)


def test_bartlett_diagonal_at_large_degrees_of_freedom():
    # The chain draws Bartlett factors with df = d - k - p, up to 10^6 and more. At m = 2,
    # df = 2000 and n = 20000 draws, the standard error of the mean of H_ii^2 ~ chi^2_{df - i}
    # is sqrt(2 (df - i) / n) ~ 0.45: a 1% error in the chi-square scale (20) is ~45 standard
    # errors, far beyond what the small-df factors above resolve (~4).
    m, df, n = 2, 2000, 20_000
    normals, uniforms = bartlett_size(m, df)
    H = np.asarray(jax.jit(lambda state: bartlett(Stream(state, (n,), normals, uniforms,
                                                         jnp.float64), m, df, jnp.float64))(
        _state(11)))
    for i in range(m):
        x = H[:, i, i] ** 2
        assert abs(_z(x, df - i)) < Z, i
        # Var chi^2_nu = 2 nu; the sample variance's standard error is about 2 nu sqrt(2 / n)
        assert abs(x.var() / (2 * (df - i)) - 1) < Z * np.sqrt(2 / n), i
    assert abs(_z(H[:, 1, 0], 0)) < Z and abs(H[:, 1, 0].var() - 1) < Z * np.sqrt(2 / n)


@pytest.mark.parametrize(("batch", "p", "reuse"), [(4, 2, 1), (3, 1, 2)])
def test_chain_complement_block_has_d_minus_k_minus_p_degrees(batch, p, reuse):
    # The samples' component outside span(W*, W) lives in d - k - p dimensions: the chain's
    # Gram block of it (Bartlett H H^T, reuse == 1; the batch's complement block H H^T,
    # reuse >= 2) has mean (d - k - p) I.
    d, k, units = 9, 1, 20_000
    teacher = "z1" if k == 1 else "z1 + z2"
    sc = Scenario(teacher, student="linear", p=p, batch=batch)
    chain = GramChain(sc, d, reuse=reuse)
    _, out = jax.jit(lambda state: chain.draw(state, units))(_state(3))
    H = np.asarray(out["H"])
    W = H @ np.swapaxes(H, 1, 2)
    df = d - k - p
    m = W.shape[1]
    for i in range(m):
        assert abs(_z(W[:, i, i], df)) < Z, i
    # and the frame coordinates are standard normals
    g = np.asarray(out["g"]).ravel()
    assert abs(g.mean()) < Z / np.sqrt(g.size) and abs(g.var() - 1) < Z * np.sqrt(2 / g.size)


def test_initial_teacher_overlaps_have_covariance_p_over_d():
    # M0 = W0 W*^T / d with W* = sqrt(d) L_P E*, w_j ~ N(0, s^2 I_d) independent: each row
    # of M0 is N(0, s^2 P / d), rows independent. The full 2 x 2 covariance (pooled over the
    # p = 2 rows and S seeds) against s^2 P / d, each entry within 5 standard errors of the
    # products' sample mean. P is not diagonal: a teacher root that misses the off-diagonal
    # overlap (L_P = diag(sqrt(P_ii))) moves the off-diagonal entry from 0.5 to 0 (~30 s.e.),
    # which the diagonal-only check of tests/numerics/test_gram.py does not see.
    d, s, S = 50, 0.7, 4000
    P = np.array([[2.0, 0.5], [0.5, 1.0]])
    sc = Scenario("z1 + z2", p=2, init_scale=s, P=tuple(map(tuple, P)))
    rows = run(sc, d, 0, _keys(S, 12), 1)["M"][:, 0].reshape(-1, 2) * np.sqrt(d) / s
    for i in range(2):
        for j in range(2):
            assert abs(_z(rows[:, i] * rows[:, j], P[i, j])) < Z, (i, j)


def _keys(seeds, seed):
    return jax.random.key_data(jax.random.split(jax.random.key(seed), seeds))


def _one_step(Q, M, a, *, lr, B, d, noise, loss):
    """Exact E[increment | overlaps] of one SGD step, linear student and teacher (p = k = 1,
    P = 1), mini-batch B, at finite d (derivation: Delta = c_l lambda + c_n nu + sqrt(noise) xi,
    (c_l, c_n) = (-a, 1) for the square loss, (0, 1) for the correlation loss; the increment
    dw = (lr a / (B sqrt d)) sum_mu Delta_mu x_mu; Isserlis gives
    E[(c.x)^2 |x|^2] = (d + 2)|c|^2 and E[Delta_mu Delta_nu x_mu . x_nu] = |c|^2 for mu != nu):
    E[dM] = lr a E[Delta nu] / d, E[w . dw] / d = lr a E[Delta lambda] / d,
    E|dw|^2 / d = lr^2 a^2 ((d + 1 + B) c2 + d noise) / (B d^2), c2 = E[(Delta - noise xi)^2]."""
    cl, cn = (-a, 1.0) if loss == "square" else (0.0 * a, 1.0)
    e_nu = cl * M + cn
    e_lam = cl * Q + cn * M
    c2 = cl**2 * Q + 2 * cl * cn * M + cn**2
    drift_M = lr * a * e_nu / d
    drift_Q = 2 * lr * a * e_lam / d
    square = lr**2 * a**2 * ((d + 1 + B) * c2 + d * noise) / (B * d**2)
    return drift_Q, square, drift_M


@pytest.mark.parametrize(("loss", "batch", "d"), [("square", 4, 6), ("correlation", 3, 5),
                                                  ("square", 1, 5)])
def test_gram_one_step_matches_exact_formula(loss, batch, d):
    # Per seed, residual = increment - exact conditional mean given its own start; the mean
    # of the residuals over S seeds is tested with |z| < 5. Small d makes the complement's
    # share (d - k - p of the d + 1 + B in the squared step) large, so a wrong complement
    # dimension or a batch average without its 1 / B moves z far beyond 5.
    # The second layer is trained too (lr_a): its step uses the first layer's old weights
    # and the first layer's step the old a, so the formulas above hold unchanged, and
    # E[da] = (lr_a / (B d)) E[sum_mu lambda_mu Delta_mu] = lr_a E[Delta lambda] / d with
    # E[Delta lambda] = c_l Q + c_n M (a batch average without its 1 / B is B times that).
    S, lr, noise, lr_a = 6000, 1.5, 0.3, 2.0
    sc = Scenario("z1", student="linear", p=1, lr=lr, batch=batch, noise=noise, loss=loss,
                  a=(0.8,), train_second_layer=True, lr_a=lr_a)
    out = run(sc, d, 1, _keys(S, 7), 1)
    Q0, M0 = out["Q"][:, 0, 0, 0], out["M"][:, 0, 0, 0]
    dQ, dM = out["Q"][:, 1, 0, 0] - Q0, out["M"][:, 1, 0, 0] - M0
    drift_Q, square, drift_M = _one_step(Q0, M0, 0.8, lr=lr, B=batch, d=d, noise=noise,
                                         loss=loss)
    assert abs(_z(dM - drift_M, 0)) < Z
    assert abs(_z(dQ - drift_Q - square, 0)) < Z
    da = out["a"][:, 1, 0] - out["a"][:, 0, 0]
    np.testing.assert_array_equal(out["a"][:, 0, 0], 0.8)
    e_lam = (-0.8 * Q0 + M0) if loss == "square" else M0
    assert abs(_z(da - lr_a * e_lam / d, 0)) < Z


def test_gram_reuse_block_matches_exact_formula():
    # Correlation loss and a linear student: Delta = y does not depend on w, so R steps on one
    # batch move w by exactly R times the one-step increment g. Hence, for the block,
    # E[dM] = R lr a / d and E[dQ] = 2 R lr a M / d + R^2 E|g|^2 / d (exact, finite d).
    S, lr, noise, B, R, d, a = 6000, 1.2, 0.2, 3, 3, 6, 0.9
    sc = Scenario("z1", student="linear", p=1, lr=lr, batch=B, noise=noise,
                  loss="correlation", a=(a,))
    out = run(sc, d, R, _keys(S, 8), R, reuse=R)
    Q0, M0 = out["Q"][:, 0, 0, 0], out["M"][:, 0, 0, 0]
    dQ, dM = out["Q"][:, 1, 0, 0] - Q0, out["M"][:, 1, 0, 0] - M0
    drift_Q, square, drift_M = _one_step(Q0, M0, a, lr=lr, B=B, d=d, noise=noise,
                                         loss="correlation")
    assert abs(_z(dM - R * drift_M, 0)) < Z
    assert abs(_z(dQ - R * drift_Q - R**2 * square, 0)) < Z
    # power: a fresh batch each step would give R (not R^2) times the squared step
    assert abs(_z(dQ - R * drift_Q - R * square, 0)) > 3 * Z
    # The part of w outside the teacher direction (P = 1: Q - M^2 = |w_perp|^2 / d) moves by
    # R g_perp, with E[w_perp . g_perp] = 0 (x_perp is independent of y and w) and
    # E|g_perp|^2 / d = lr^2 a^2 (d - 1) E[Delta^2] / (B d^2), E[Delta^2] = 1 + noise: the
    # student-span and complement blocks of the reuse step.
    Q1, M1 = out["Q"][:, 1, 0, 0], out["M"][:, 1, 0, 0]
    perp = (Q1 - M1**2) - (Q0 - M0**2)
    assert abs(_z(perp - R**2 * lr**2 * a**2 * (d - 1) * (1 + noise) / (B * d**2), 0)) < Z
    # the teacher part: E[dM^2] = 2 R M0 E[g_M] + R^2 E[g_M^2], E[g_M] = lr a / d and
    # E[g_M^2] = lr^2 a^2 E[(sum_mu Delta_mu x1_mu)^2] / (B^2 d^2) = lr^2 a^2 (2 + B + noise)
    # / (B d^2) (E[Delta^2 x1^2] = 3 + noise, E[Delta x1] = 1)
    teacher = M1**2 - M0**2 - 2 * R * M0 * lr * a / d
    assert abs(_z(teacher - R**2 * lr**2 * a**2 * (2 + B + noise) / (B * d**2), 0)) < Z


def _brute_force_spherical(S, d, B, lr, noise, seed):
    """One spherical SGD step (correlation loss, linear student, p = k = 1) in R^d with
    numpy: w ~ N(0, I) projected to |w|^2 = d, teacher e_1; w <- w + (lr / (B sqrt d))
    sum_mu y_mu x_mu, then projected again. Returns (M0, M1)."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((S, d))
    w *= np.sqrt(d) / np.linalg.norm(w, axis=1, keepdims=True)
    x = rng.standard_normal((S, B, d))
    y = x[:, :, 0] + np.sqrt(noise) * rng.standard_normal((S, B))
    w1 = w + lr / (B * np.sqrt(d)) * np.einsum("sb,sbd->sd", y, x)
    w1 *= np.sqrt(d) / np.linalg.norm(w1, axis=1, keepdims=True)
    return w[:, 0] / np.sqrt(d), w1[:, 0] / np.sqrt(d)


def test_gram_spherical_step_matches_brute_force():
    # Spherical projection: Q = 1 after every step, and the law of M after one step equals
    # that of an independent d-dimensional numpy simulation (two-sample z tests on the mean
    # and the mean square of M1 and of the increment, |z| < 5).
    S, d, B, lr, noise = 20_000, 6, 3, 2.0, 0.3
    sc = Scenario("z1", student="linear", p=1, lr=lr, batch=B, noise=noise,
                  loss="correlation", spherical=True, a=(1.0,))
    out = run(sc, d, 1, _keys(S, 9), 1)
    np.testing.assert_allclose(out["Q"][:, :, 0, 0], 1.0, rtol=1e-12)
    g0, g1 = out["M"][:, 0, 0, 0], out["M"][:, 1, 0, 0]
    b0, b1 = _brute_force_spherical(S, d, B, lr, noise, seed=4)
    for x, y in ((g1, b1), (g1 - g0, b1 - b0), (g1**2, b1**2)):
        z = (x.mean() - y.mean()) / np.sqrt(x.var(ddof=1) / S + y.var(ddof=1) / S)
        assert abs(z) < Z


@pytest.mark.slow
def test_gram_many_steps_follow_the_exact_linear_recursion():
    # Linear student and teacher (p = k = 1, a = 1, P = 1, square loss, batch B, noise D): the
    # one-step conditional means are affine in (M, Q) (see _one_step), so E[(M_s, Q_s) | start]
    # is the affine map iterated s times, at finite d, exactly:
    #   E[M'] = M + (lr / d)(1 - M)
    #   E[Q'] = Q + (2 lr / d)(M - Q) + lr^2 ((d + 1 + B)(1 - 2M + Q) + d D) / (B d^2).
    # Per-record z tests over S seeds with |z| < 5, at two records of 256 steps.
    d, B, S, lr, noise = 16, 4, 400, 0.5, 0.2
    sc = Scenario("z1", student="linear", p=1, lr=lr, batch=B, noise=noise, a=(1.0,))
    out = run(sc, d, 512, _keys(S, 10), 256)
    M, Q = out["M"][:, 0, 0, 0].copy(), out["Q"][:, 0, 0, 0].copy()
    c = lr**2 / (B * d**2)
    for s in range(1, 513):
        M, Q = (M + (lr / d) * (1 - M),
                Q + (2 * lr / d) * (M - Q) + c * ((d + 1 + B) * (1 - 2 * M + Q) + d * noise))
        if s % 256 == 0:
            for sim, mean in ((out["M"][:, s // 256, 0, 0], M), (out["Q"][:, s // 256, 0, 0], Q)):
                assert abs(_z(sim - mean, 0)) < Z, s
    # the recursion moved far from the start (M from ~0 to ~1), so the test has power
    assert np.all(M > 0.99)
