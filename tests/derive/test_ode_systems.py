"""Overlap ODE systems beyond the committee: polynomial (exact), multi-index targets,
relu and numeric students, spherical SGD and its Hermite form, initial states, errors.

Monte Carlo references: the d -> infinity per-sample drift of Scenario's update
(d * change of the overlaps with ||x||^2 / d = 1), 400_000 samples, 4.5 standard errors
(false alarm ~7e-6 per component, fixed seeds). Numeric-backend systems add their
quadrature error (checked below 1e-4 here) to the tolerance.
"""

import inspect
import json

import numpy as np
import pytest
import sympy as sp
from scipy.special import erf

from escalier.derive import Scenario, hermite_expansion, targets
from escalier.derive.ode import OdeSystem, hermite_coefficients, ode_system


def _start(system, d, seed):
    """The ODE state of a random start: the one sampler (escalier.numerics.simulation)."""
    import jax

    from escalier.numerics.simulation import initial_weights

    W, W_star, _ = initial_weights(system.scenario, d, jax.random.key(seed))
    return system.initial_state(W, W_star)


def _syms(system):
    return {s.name: s for s in (*system.state, *system.parameters)}


# --- polynomial: exact, against a hand derivation ----------------------------------------

def test_quadratic_student_and_target_match_hand_derivation():
    """sigma(x) = x^2, f(z) = z^2, p = k = 1, label noise Delta:
    dM = eta a E[(nu^2 - a lam^2) 2 lam nu] = 6 eta a M (1 - a Q)    (E[nu^3 lam] = 3M, ...)
    dQ = 4 eta a (Q + 2 M^2 - 3 a Q^2)
         + 4 eta^2 a^2 / n_b (3Q + 12M^2 - 2a(3Q^2 + 12 Q M^2) + 15 a^2 Q^3 + Delta Q)
    R  = (3 - 2a (Q + 2 M^2) + 3 a^2 Q^2) / 2
    using E[nu^4 lam^2] = 3Q + 12M^2, E[nu^2 lam^4] = 3Q^2 + 12QM^2, E[lam^6] = 15Q^3."""
    s = ode_system("z1**2", student="quadratic", p=1, noise=0.5)
    v = _syms(s)
    Q, M, a, eta, n_b, D = (v[k] for k in ("Q11", "M11", "a1", "eta", "n_b", "Delta"))
    hand_Q = 4 * eta * a * (Q + 2 * M**2 - 3 * a * Q**2) + 4 * eta**2 * a**2 / n_b * (
        3 * Q + 12 * M**2 - 2 * a * (3 * Q**2 + 12 * Q * M**2) + 15 * a**2 * Q**3 + D * Q)
    hand_M = 6 * eta * a * M * (1 - a * Q)
    eq = s.equations
    assert s.backend == "wick"
    assert sp.expand(eq[Q] - hand_Q) == 0
    assert sp.expand(eq[M] - hand_M) == 0
    assert sp.expand(s.risk - (3 - 2 * a * (Q + 2 * M**2) + 3 * a**2 * Q**2) / 2) == 0
    for e in s.rhs:
        assert sp.expand(e * n_b).is_polynomial(*s.state, *s.parameters)


def test_linear_student_linear_target_is_the_textbook_system():
    s = ode_system("z1", student="linear", p=1)
    v = _syms(s)
    Q, M, a, eta, n_b = (v[k] for k in ("Q11", "M11", "a1", "eta", "n_b"))
    eq = s.equations
    assert sp.expand(eq[M] - eta * a * (1 - a * M)) == 0
    assert sp.expand(eq[Q] - (2 * eta * a * (M - a * Q)
                              + eta**2 * a**2 * (1 - 2 * a * M + a**2 * Q) / n_b)) == 0


# --- multi-index targets, other students: Monte Carlo -------------------------------------

def _mc_drift(system, y, teacher, student, dstudent, n=400_000, seed=0):
    sc = system.scenario
    p, k = sc.p, sc.k
    iu = np.triu_indices(p)
    Q = np.zeros((p, p))
    Q[iu] = y[: len(iu[0])]
    Q = Q + np.triu(Q, 1).T
    M = np.asarray(y[len(iu[0]): len(iu[0]) + p * k]).reshape(p, k)
    Om = np.block([[Q, M], [M.T, np.asarray(sc.P)]])
    rng = np.random.default_rng(seed)
    w, V = np.linalg.eigh(Om)
    u = rng.standard_normal((n, p + k)) @ (V * np.sqrt(np.clip(w, 0, None))).T
    lam, nu = u[:, :p], u[:, p:]
    a = np.asarray(sc.a)
    yv = teacher(nu)
    err = yv - student(lam) @ a if sc.loss == "square" else yv
    c = a * err[:, None] * dstudent(lam)
    eta = sc.lr
    first = np.einsum("bj,bl->bjl", c, lam)
    second = np.einsum("bj,bl->bjl", c, c) / sc.batch
    dQ = eta * (first + np.swapaxes(first, 1, 2)) + eta**2 * second
    dM = eta * np.einsum("bj,br->bjr", c, nu)
    samples = np.concatenate([dQ[:, iu[0], iu[1]], dM.reshape(n, -1)], axis=1)
    return samples.mean(0), samples.std(0) / np.sqrt(n)


STUDENTS = {
    "erf": (lambda x: erf(x / np.sqrt(2)), lambda x: np.sqrt(2 / np.pi) * np.exp(-(x**2) / 2)),
    "relu": (lambda x: np.maximum(x, 0), lambda x: (x > 0).astype(float)),
    "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2),
}
TARGETS = {
    "z1 + z1*z2": lambda nu: nu[:, 0] + nu[:, 0] * nu[:, 1],
    "erf(z1) + erf(z2)/2": lambda nu: erf(nu[:, 0]) + erf(nu[:, 1]) / 2,
    "He3(z1) + tanh(z2)": lambda nu: nu[:, 0] ** 3 - 3 * nu[:, 0] + np.tanh(nu[:, 1]),
    "relu(z1) - relu(z2)": lambda nu: np.maximum(nu[:, 0], 0) - np.maximum(nu[:, 1], 0),
}


@pytest.mark.parametrize("target,student,loss,backend", [
    ("z1 + z1*z2", "erf", "square", "closed-form"),
    ("z1 + z1*z2", "relu", "correlation", "closed-form"),
    ("erf(z1) + erf(z2)/2", "erf", "square", "closed-form"),
    ("He3(z1) + tanh(z2)", "erf", "correlation", "numeric"),
    ("relu(z1) - relu(z2)", "relu", "square", "numeric"),
    pytest.param("z1 + z1*z2", "tanh", "square", "numeric", marks=pytest.mark.slow),
])
def test_multi_index_rhs_against_monte_carlo(target, student, loss, backend):
    s = ode_system(target, student=student, p=2, loss=loss, lr=0.7, batch=2)
    assert s.backend == backend
    y = _start(s, 8, 3)  # a small d gives an O(1) generic overlap point
    mean, se = _mc_drift(s, y, TARGETS[target], *STUDENTS[student])
    rhs = s.evaluate(y)
    quad = 1e-4 if backend == "numeric" else 0.0
    assert np.all(np.abs(mean - rhs) <= 4.5 * se + quad), (mean - rhs) / se


def test_risk_against_monte_carlo():
    s = ode_system("z1 + z1*z2", student="relu", p=2)
    y = _start(s, 8, 5)
    rng = np.random.default_rng(0)
    Q = np.array([[y[0], y[1]], [y[1], y[2]]])
    M = y[3:7].reshape(2, 2)
    Om = np.block([[Q, M], [M.T, np.eye(2)]])
    u = rng.multivariate_normal(np.zeros(4), Om, size=400_000)
    r = (u[:, 2] + u[:, 2] * u[:, 3] - np.maximum(u[:, :2], 0).sum(1)) ** 2 / 2
    assert abs(s.evaluate_risk(y) - r.mean()) <= 4.5 * r.std() / np.sqrt(len(r))


# --- spherical SGD and the Hermite form ------------------------------------------------------

def test_spherical_rhs_against_monte_carlo_of_projected_step():
    """One step w <- sqrt(d) (w + eta c x / sqrt(d)) / ||.||, c = a Delta_e sigma'(lambda):
    d (m' - m) with ||x||^2/d = 1 at d = 10^6 (O(1/d) bias negligible)."""
    s = ode_system("He3(z1)", student="erf", p=1, spherical=True, lr=0.8, noise=0.2)
    m0 = 0.4
    rng = np.random.default_rng(11)
    n, d, eta = 400_000, 1e6, 0.8
    lam = rng.standard_normal(n)
    nu = m0 * lam + np.sqrt(1 - m0**2) * rng.standard_normal(n)
    yv = nu**3 - 3 * nu + np.sqrt(0.2) * rng.standard_normal(n)
    c = (yv - erf(lam / np.sqrt(2))) * np.sqrt(2 / np.pi) * np.exp(-(lam**2) / 2)
    norm2 = 1 + 2 * eta * c * lam / d + eta**2 * c**2 / d
    samples = d * ((m0 + eta * c * nu / d) / np.sqrt(norm2) - m0)
    (rhs,) = s.evaluate([m0])
    assert abs(samples.mean() - rhs) <= 4.5 * samples.std() / np.sqrt(n)


@pytest.mark.parametrize("k,student", [(1, "erf"), (2, "relu"), (3, "erf"), (4, "relu"),
                                       (5, "tanh")])
def test_hermite_form_leading_power_is_information_exponent_minus_one(k, student):
    s = ode_system(targets.hermite(k), student=student, p=1, spherical=True)
    hf = s.hermite_form(max_degree=8)
    assert hf.leading_power == k - 1
    # and the series really starts there: d/dm^(k-1) at 0 is non-zero, lower ones vanish
    series = sp.expand(hf.first_order)
    m = hf.m
    for j in range(k - 1):
        assert abs(float(series.coeff(m, j).subs(_syms(s)["eta"], 1).subs(
            _syms(s)["a1"], 1))) < 1e-12
    assert series.coeff(m, k - 1) != 0


def test_hermite_form_is_exact_for_polynomials():
    """f = He3 + z, sigma = x^3 + x: the Mehler series is finite and must equal the
    spherical system's right-hand side identically (square loss, label noise)."""
    s = ode_system("He3(z1) + z1", student="x**3 + x", p=1, spherical=True, noise=0.3)
    hf = s.hermite_form(max_degree=10)
    assert sp.expand(hf.drift - s.rhs[0]) == 0
    assert hf.leading_power == 0


def test_hermite_form_converges_to_the_closed_form_for_erf():
    s = ode_system("erf(z1/sqrt(2))", student="erf", p=1, spherical=True, loss="correlation")
    hf = s.hermite_form(max_degree=21)
    v = _syms(s)
    vals = {v["eta"]: 0.5, v["n_b"]: 1, v["a1"]: 1}
    for m0 in (0.1, 0.4, 0.7):
        series = float(hf.drift.subs(vals).subs(hf.m, m0))
        (exact,) = s.evaluate([m0], {"eta": 0.5})
        assert series == pytest.approx(exact, abs=1e-6 * (1 + abs(exact)))


def test_univariate_coefficients_agree_with_hermite_expansion():
    """Our route (Gaussian engine) against escalier.derive.hermite_expansion."""
    x = sp.Symbol("x", real=True)
    for text, expr in [("erf(z1/sqrt(2))", sp.erf(x / sp.sqrt(2))), ("relu(z1)", sp.Max(x, 0)),
                       ("z1**4 - z1", x**4 - x)]:
        ours = hermite_coefficients(expr, x, 7)
        theirs = hermite_expansion(text, 7)
        for n in range(8):
            assert float(ours[n]) == pytest.approx(theirs[(n,)].value, abs=1e-12)


def test_hermite_coefficients_of_erf_are_exact_and_known():
    """By hand, with E[g He_k] = E[g^(k)] and g' = sqrt(2/pi) exp(-x^2/2):
    c_1 = E[g'] = sqrt(2/pi) / sqrt 2 = 1/sqrt(pi);
    c_3 = E[g^(3)] / 3! = sqrt(2/pi) E[(x^2 - 1) exp(-x^2/2)] / 6
        = sqrt(2/pi) (1/(2 sqrt 2) - 1/sqrt 2) / 6 = -1 / (12 sqrt(pi)); even ones vanish."""
    x = sp.Symbol("x", real=True)
    c = hermite_coefficients(sp.erf(x / sp.sqrt(2)), x, 4)
    assert sp.simplify(c[1] - 1 / sp.sqrt(sp.pi)) == 0
    assert sp.simplify(c[3] + 1 / (12 * sp.sqrt(sp.pi))) == 0
    assert c[0] == 0 and c[2] == 0 and c[4] == 0


def test_hermite_form_rejects_other_systems():
    with pytest.raises(ValueError, match="spherical"):
        ode_system("z1", p=1).hermite_form()
    with pytest.raises(ValueError, match="spherical"):
        ode_system("z1*z2", p=1, spherical=True).hermite_form()


# --- initial states ------------------------------------------------------------------------

def test_initial_state_is_reproducible_and_consistent():
    s = ode_system("z1 + z1*z2", student="relu", p=3, P=((1.0, 0.5), (0.5, 2.0)))
    y1, y2 = _start(s, 2000, 7), _start(s, 2000, 7)
    assert np.array_equal(y1, y2)
    assert not np.array_equal(y1, _start(s, 2000, 8))
    # Q ~ I, M ~ 0 at large d: fluctuations of order 1/sqrt(d) ~ 0.022; 6 sigma bound
    Q = np.array([y1[0], y1[3], y1[5]])
    assert np.all(np.abs(Q - 1) < 6 * np.sqrt(2 / 2000))
    rng = np.random.default_rng(0)
    W, Ws = rng.standard_normal((3, 50)), rng.standard_normal((2, 50))
    y = s.initial_state(W=W, W_star=Ws)
    Qd, Md = W @ W.T / 50, W @ Ws.T / 50
    np.testing.assert_allclose(y, [Qd[0, 0], Qd[0, 1], Qd[0, 2], Qd[1, 1], Qd[1, 2], Qd[2, 2],
                                   *Md.ravel()], rtol=1e-14)


def test_initial_state_spherical_and_trained_layer():
    s = ode_system("He3(z1)", student="erf", p=1, spherical=True, train_second_layer=True,
                   a=(0.5,))
    y = _start(s, 1000, 1)
    assert [v.name for v in s.state] == ["M11", "a1"]
    assert abs(y[0]) < 6 / np.sqrt(1000) and y[1] == 0.5


def test_ode_system_from_scenario_and_errors():
    sc = Scenario(target="z1 + z1*z2", student="relu", p=2, lr=0.3)
    s = ode_system(sc)
    assert isinstance(s, OdeSystem) and s.default_args["eta"] == 0.3
    with pytest.raises(ValueError, match="either a Scenario"):
        ode_system(sc, p=3)
    with pytest.raises(ValueError, match="loss"):
        ode_system("z1", loss="hinge")
    with pytest.raises(ValueError, match="W must be 2 x d"):
        s.initial_state(np.ones((3, 5)), np.ones((2, 5)))
    with pytest.raises(ValueError, match="unknown parameters"):
        s.evaluate(_start(s, 100, 0), {"lr": 1.0})
    with pytest.raises(ValueError, match="entries"):
        s.evaluate([0.0])
    with pytest.raises(ValueError, match="Target"):
        ode_system(3.0)


def test_latex_and_sympy_printers():
    s = ode_system(targets.committee("erf", 2), p=2)
    # the plain-text printer reads back to the same expressions (numerically, at a random
    # point of state and parameters)
    lines = s.to_sympy().splitlines()
    assert len(lines) == len(s.state) + 1
    symbols = {x.name: x for e in (*s.rhs, s.risk) for x in e.free_symbols}
    rng = np.random.default_rng(0)
    point = {x: sp.Float(v) for x, v in zip(symbols.values(),
                                             rng.uniform(0.2, 0.6, len(symbols)), strict=True)}
    for line, state, rhs in zip(lines, s.state, s.rhs, strict=False):
        name, expr = line.split(" = ", 1)
        assert name == f"d{state}/dt"
        back = sp.parse_expr(expr, local_dict=symbols)
        assert abs(float((back - rhs).xreplace(point).evalf(20))) < 1e-12, name
    name, expr = lines[-1].split(" = ", 1)
    assert name == "R"
    assert abs(float((sp.parse_expr(expr, local_dict=symbols) - s.risk)
                     .xreplace(point).evalf(20))) < 1e-12
    # LaTeX: one aligned row per equation, in state order, each SymPy's LaTeX of its rhs
    tex = s.latex()
    assert tex.startswith("\\begin{aligned}\n") and tex.endswith("\n\\end{aligned}")
    rows = tex[len("\\begin{aligned}\n"):-len("\n\\end{aligned}")].split(" \\\\\n")
    assert len(rows) == len(s.state) + 1
    for row, state, rhs in zip(rows, s.state, s.rhs, strict=False):
        assert row == f"\\frac{{d {sp.latex(state)}}}{{dt}} &= {sp.latex(rhs)}"
    assert rows[-1] == f"R &= {sp.latex(s.risk)}"


def test_scenario_json_round_trip_and_one_option_list():
    sc = Scenario("z1 + c*z1*z2".replace("c", "3/2"), student="tanh", p=3, lr=0.5, batch=4,
                  noise=0.1, a=(1.0, -1.0, 0.5), train_second_layer=True, lr_a=0.2,
                  P=((1.0, 0.3), (0.3, 1.0)), init_scale=0.7)
    data = json.loads(json.dumps(sc.to_json()))
    assert Scenario.from_json(data) == sc
    assert set(data) == {"target", "k", *Scenario.options()}
    # ode_system's keyword defaults are the Scenario's (one list of options)
    sig = inspect.signature(ode_system)
    assert {n: sig.parameters[n].default for n in Scenario.options()} == Scenario.options()
    with pytest.raises(ValueError, match="unknown Scenario keys"):
        Scenario.from_json({**data, "lr_b": 1})
