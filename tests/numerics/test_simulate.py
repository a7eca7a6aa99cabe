"""The full-engine simulation: reproducibility, shapes, checks, and one-step drift statistics
against closed forms."""


import jax
import numpy as np
import pytest

from escalier.derive import Scenario, Target, targets
from escalier.numerics.simulation import DIVERGENCE_BOUND, SimulationResult, simulate
from escalier.numerics.simulation._full import _chunk_length
from escalier.numerics.simulation._init import initial_state

jax.config.update("jax_enable_x64", True)

COMMITTEE = Scenario(targets.committee("erf", 2), student="erf", p=2, lr=1.0)


def run(scenario=COMMITTEE, d=40, time=2.0, **kw):
    kw.setdefault("seeds", 3)
    kw.setdefault("progress", False)
    return simulate(scenario, d, time, **kw)


def test_shapes_times_and_config():
    r = run(n_records=4, progress=True)
    assert isinstance(r, SimulationResult)
    S, T = 3, 5
    assert r.Q.shape == (S, T, 2, 2) and r.M.shape == (S, T, 2, 2) and r.a.shape == (S, T, 2)
    assert r.risk is None and r.engine == "full" and r.d == 40 and r.seeds == S
    # 2.0 * 40 = 80 steps, 20 per record: times 0, 0.5, ..., 2.0 in units steps / d.
    np.testing.assert_allclose(r.times, [0, 0.5, 1.0, 1.5, 2.0])
    assert r.config["n_steps"] == 80 and r.config["record_every"] == 20
    assert r.config["seed"] == 0 and r.config["dtype"] == "float64"
    assert r.config["scenario"]["student"] == "erf" and r.Q.dtype == np.float64
    # Q is a Gram matrix: symmetric, positive diagonal.
    np.testing.assert_allclose(r.Q, np.swapaxes(r.Q, -1, -2), rtol=0, atol=1e-12)
    init = r.initial_overlaps()
    np.testing.assert_array_equal(init["Q"], r.Q[:, 0])
    np.testing.assert_array_equal(init["a"], np.ones((S, 2)))
    assert r.to_json()["config"]["engine"] == "full"


def test_reproducible_and_seeds_differ():
    a, b = run(seed=7, n_records=4), run(seed=7, n_records=4)
    np.testing.assert_array_equal(a.Q, b.Q)
    np.testing.assert_array_equal(a.M, b.M)
    c = run(seed=8, n_records=4)
    assert not np.allclose(a.M[:, -1], c.M[:, -1])
    # the seeds of one run differ from each other
    assert not np.allclose(a.M[0], a.M[1])


def test_stream_does_not_depend_on_recording():
    # The data of step s come from fold_in(key, s): recording more often (other chunking,
    # other blocks) gives the same trajectory to rounding.
    a, b = run(n_records=1), run(n_records=4)
    np.testing.assert_allclose(a.Q[:, -1], b.Q[:, -1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a.M[:, 1], b.M[:, -1], rtol=1e-12, atol=1e-12)


def test_initial_condition_teacher_overlaps_exact_and_student_law():
    P = ((2.0, 0.5), (0.5, 1.0))
    sc = Scenario(targets.committee("erf", 2), p=3, P=P, init_scale=0.5)
    V, a = initial_state(sc, 300, jax.random.key(1), np.float64)
    V = np.asarray(V)
    np.testing.assert_allclose(V[3:] @ V[3:].T / 300, P, rtol=0, atol=1e-12)
    # student rows iid N(0, 0.25 I): Q_jj = 0.25 chi2_300 / 300 has sd 0.25 sqrt(2/300)
    # ~ 0.02; 6 sd bounds.
    Q = V[:3] @ V[:3].T / 300
    assert np.all(np.abs(np.diag(Q) - 0.25) < 0.13)
    assert np.all(np.abs(Q[np.triu_indices(3, 1)]) < 6 * 0.25 / np.sqrt(300))
    np.testing.assert_array_equal(np.asarray(a), [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="positive semi-definite"):
        Scenario(targets.committee("erf", 2), P=((1.0, 2.0), (2.0, 1.0))).teacher_factor()
    # a singular P (two coinciding teacher directions) is allowed: the PSD root
    L = Scenario(targets.committee("erf", 2), P=((1.0, 1.0), (1.0, 1.0))).teacher_factor()
    np.testing.assert_allclose(L @ L.T, [[1.0, 1.0], [1.0, 1.0]], atol=1e-12)


def test_spherical_keeps_norm():
    sc = Scenario(Target.parse("He3(z1)"), student="He3", p=1, lr=0.3, spherical=True)
    r = run(sc, d=64, time=3.0, n_records=3)
    np.testing.assert_allclose(r.Q[..., 0, 0], 1.0, rtol=0, atol=1e-12)


def test_float32_on_request():
    r = run(dtype="float32", time=1.0)
    assert r.Q.dtype == np.float32 and r.M.dtype == np.float32 and r.a.dtype == np.float32
    assert np.all(np.isfinite(r.Q))


def test_divergence_raises_with_step_and_advice():
    # Linear regression with lr = 10: dQ/dt has the term lr^2 (P - 2M + Q) > 0 growing
    # like Q, so Q grows exponentially past DIVERGENCE_BOUND well before t = 20.
    sc = Scenario(Target.parse("z1"), student="linear", p=1, lr=10.0)
    with pytest.raises(ValueError, match=r"diverged.*step \d+ \(t = .*smaller learning rate"):
        run(sc, d=32, time=20.0, n_records=20)
    assert DIVERGENCE_BOUND > 1e6


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"d": 1}, "d must be an integer >= 2"),
        ({"d": 10.5}, "d must be an integer"),
        ({"time": -1.0}, "time must be a positive"),
        ({"seeds": 0}, "seeds must be an integer >= 1"),
        ({"n_records": 0}, "n_records"),
        ({"engine": "bogus"}, r"unknown engine 'bogus'; accepted: \['full', 'gram'\]"),
        ({"dtype": "float16"}, r"unknown dtype 'float16'; accepted"),
        ({"risk_fn": 3}, "risk_fn must be a function"),
    ],
)
def test_bad_input(kwargs, match):
    args = {"d": 40, "time": 1.0} | kwargs
    with pytest.raises(ValueError, match=match):
        simulate(COMMITTEE, args.pop("d"), args.pop("time"), progress=False, **args)


def test_risk_fn_on_records():
    # risk_fn(Q, M, P, a) is evaluated on every record of every seed (vmapped); a function
    # using all four arguments checks the wiring against the same formula in NumPy.
    def risk(Q, M, P, a):
        return Q[0, 1] + 2 * M[1, 0] * P[0, 0] + a[1] ** 3 - Q[1, 1] * a[0]

    r = run(n_records=4, risk_fn=risk)
    assert r.risk.shape == (3, 5)
    want = r.Q[..., 0, 1] + 2 * r.M[..., 1, 0] + r.a[..., 1] ** 3 - r.Q[..., 1, 1] * r.a[..., 0]
    np.testing.assert_allclose(r.risk, want, rtol=1e-12)


def _one_step_expectations(Q, M, a, *, lr, lr_a, B, d, noise, loss):
    """Exact E[increment | initial overlaps] of one SGD step for a linear student and
    teacher (p = k = 1, P = 1), at finite d.

    Delta_e = c_l lambda + c_n nu + sqrt(noise) xi with (c_l, c_n) = (-a, 1) (square loss)
    or (0, 1) (correlation). With dw = (lr a / (B sqrt d)) sum_mu Delta_mu x_mu:
      E[dM] = (lr a / d) E[Delta nu],  E[da] = (lr_a / d) E[Delta lambda],
      E[dQ] = (2 lr a / d) E[Delta lambda] + E|dw|^2 / d, and by Isserlis
      E[(c.x)^2 |x|^2] = (d + 2) |c|^2, E[Delta_mu Delta_nu x_mu . x_nu] = |c|^2 (mu != nu):
      E|dw|^2 / d = lr^2 a^2 ((d + 1 + B) c2 + d noise) / (B d^2), c2 = E[(Delta - noise)^2].
    """
    cl, cn = (-a, 1.0) if loss == "square" else (0.0 * a, 1.0)
    e_nu = cl * M + cn * 1.0
    e_lam = cl * Q + cn * M
    c2 = cl**2 * Q + 2 * cl * cn * M + cn**2
    dM = lr * a * e_nu / d
    da = lr_a * e_lam / d
    dQ = 2 * lr * a * e_lam / d + lr**2 * a**2 * ((d + 1 + B) * c2 + d * noise) / (B * d**2)
    return dQ, dM, da


@pytest.mark.parametrize("loss", ["square", "correlation"])
def test_one_step_drift_matches_closed_form(loss):
    # S independent seeds, one step each. For every seed the residual
    # (increment - exact conditional mean given its own initial overlaps) has mean 0; we
    # test the mean over seeds against its standard error with |z| < 4.5 (a false failure
    # has probability ~1e-5 per statistic). Power check: the same statistic with the
    # 1 / n_b factor of the noise term dropped (batch treated as 1) is far off (|z| > 8).
    d, B, S, lr, lr_a, noise = 20, 4, 4000, 0.8, 0.6, 0.3
    sc = Scenario(
        Target.parse("z1"),
        student="linear",
        p=1,
        lr=lr,
        batch=B,
        noise=noise,
        loss=loss,
        a=(0.7,),
        train_second_layer=True,
        lr_a=lr_a,
    )
    r = simulate(sc, d, 1.0 / d, seeds=S, n_records=1, progress=False)
    assert r.config["n_steps"] == 1
    Q, M, a = r.Q[:, 0, 0, 0], r.M[:, 0, 0, 0], r.a[:, 0, 0]
    inc = {"Q": r.Q[:, 1, 0, 0] - Q, "M": r.M[:, 1, 0, 0] - M, "a": r.a[:, 1, 0] - a}
    exp = dict(
        zip(
            "QMa",
            _one_step_expectations(Q, M, a, lr=lr, lr_a=lr_a, B=B, d=d, noise=noise, loss=loss),
            strict=True,
        )
    )

    def z(residual):
        return residual.mean() / (residual.std(ddof=1) / np.sqrt(S))

    for name in "QMa":
        assert abs(z(inc[name] - exp[name])) < 4.5, name
    wrong_Q = _one_step_expectations(Q, M, a, lr=lr, lr_a=lr_a, B=1, d=d, noise=noise, loss=loss)[0]
    assert abs(z(inc["Q"] - wrong_Q)) > 8


def test_float64_needs_x64_mode():
    jax.config.update("jax_enable_x64", False)
    try:
        with pytest.raises(ValueError, match="jax_enable_x64"):
            run()
    finally:
        jax.config.update("jax_enable_x64", True)


def test_many_steps_mean_follows_exact_linear_recursion():
    # Linear student and teacher (p = k = 1, a = 1, P = 1, square loss, batch B, noise D):
    # the one-step conditional means are affine in (M, Q) (see _one_step_expectations):
    #   E[M'] = M + (lr / d)(1 - M)
    #   E[Q'] = Q + (2 lr / d)(M - Q) + lr^2 ((d + 1 + B)(1 - 2M + Q) + d D) / (B d^2)
    # so E[(M_s, Q_s) | start] is this affine map iterated s times, at finite d, exactly.
    # The run spans two records of 512 steps, each made of four chunks of 128 steps, so the
    # test covers the nested scans. Per-record z-tests over S seeds with |z| < 4.5.
    d, B, S, lr, noise = 64, 4, 100, 0.5, 0.2
    sc = Scenario(Target.parse("z1"), student="linear", p=1, lr=lr, batch=B, noise=noise)
    r = simulate(sc, d, 16.0, seeds=S, n_records=2, progress=False)
    assert r.config["record_every"] == 512 and _chunk_length(512, B * (d + 1)) == 128
    M, Q = r.M[:, 0, 0, 0].copy(), r.Q[:, 0, 0, 0].copy()
    c = lr**2 / (B * d**2)
    for s in range(1, 1025):
        M, Q = (
            M + (lr / d) * (1 - M),
            Q + (2 * lr / d) * (M - Q) + c * ((d + 1 + B) * (1 - 2 * M + Q) + d * noise),
        )
        if s % 512 == 0:
            for name, sim, mean in (("M", r.M[:, s // 512, 0, 0], M), ("Q", r.Q[:, s // 512, 0, 0], Q)):
                res = sim - mean
                z = res.mean() / (res.std(ddof=1) / np.sqrt(S))
                assert abs(z) < 4.5, (name, s, z)
    # the recursion moved far from the start, so the test has power
    assert np.all(M > 0.99)
