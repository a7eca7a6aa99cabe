"""Population-risk certificates and the `escalier sos` command."""

import json

import numpy as np
import pytest
import sympy as sp

from escalier.numerics.cli import main
from escalier.numerics.sos import certify_risk, risk_polynomial


def test_phase_retrieval_risk_polynomial_by_hand():
    # y = z^2, yhat = (w.x/sqrt d)^2 with w = u w* + l w_perp: lambda = u nu + l xi, and
    # E[(nu^2 - lambda^2)^2]/2 = (3 + 3(u^2+l^2)^2 - 2(u^2+l^2) - 4u^2)/2 (Isserlis, by hand)
    rp = risk_polynomial("z1**2", "quadratic", 1)
    u, l = rp.poly.gens
    q = u**2 + l**2
    hand = (3 + 3 * q**2 - 2 * q - 4 * u**2) / 2
    assert sp.expand(rp.poly.as_expr() - hand) == 0


def test_phase_retrieval_risk_monte_carlo():
    # the same risk by Monte Carlo on (nu, xi) ~ N(0, I): independent of Wick's theorem
    rp = risk_polynomial("z1**2", "quadratic", 1)
    rng = np.random.default_rng(0)
    nu, xi = rng.standard_normal((2, 400_000))
    f = sp.lambdify(rp.poly.gens, rp.poly.as_expr())
    for u, l in [(0.3, 0.8), (1.0, 0.0), (-0.5, 1.2)]:
        mc = np.mean((nu**2 - (u * nu + l * xi) ** 2) ** 2) / 2
        se = np.std((nu**2 - (u * nu + l * xi) ** 2) ** 2) / 2 / np.sqrt(nu.size)
        assert abs(f(u, l) - mc) <= 5 * se + 1e-12


def test_phase_retrieval_global_minimum_zero_certified():
    cert = certify_risk("z1**2", "quadratic", 1, fixed_points=2, ode_time=500.0, lr=0.1)
    res = cert.sos
    assert res.status == "optimal" and abs(res.lower_bound) < 1e-6
    # the teacher (Q = 1, M = +-1) is recovered, and the risk is 0 there (hand: 3 + 3 - 2 - 4)
    assert len(cert.minimisers) == 2
    for m in cert.minimisers:
        assert m["Q11"] == pytest.approx(1.0, abs=1e-3) and abs(m["M11"]) == pytest.approx(1.0, abs=1e-3)
    assert res.exact is not None and res.exact.gamma == 0
    for fp in cert.fixed_points:
        assert fp.risk >= res.lower_bound - 1e-6


def test_committee_p2_k2_certified_nonnegative():
    cert = certify_risk("z1**2 + z2**2", "quadratic", 2, exact=False)
    assert cert.sos.status == "optimal" and abs(cert.sos.lower_bound) < 1e-6
    # the teacher itself (U = I, L = 0) has risk 0: the bound is attained
    rp = cert.risk
    at_teacher = rp.poly.eval(tuple(1 if str(g) in ("u1_1", "u2_2") else 0 for g in rp.poly.gens))
    assert at_teacher == 0


def test_non_polynomial_student_is_rejected():
    with pytest.raises(ValueError, match="not a polynomial"):
        risk_polynomial("z1**2", "erf", 1)


def test_cli_json_keys(capsys):
    rc = main(["sos", "x^4 + y^4 - 4*x*y + 1", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    for key in ("lower_bound", "status", "exact_certificate", "minimisers"):
        assert key in out
    assert out["status"] == "optimal" and out["exact_certificate"] is True
    assert out["exact_lower_bound"] == "-1"
    assert len(out["minimisers"]) == 2


def test_cli_infeasible_is_a_result_not_an_error(capsys):
    rc = main(["sos", "x^4*y^2 + x^2*y^4 - 3*x^2*y^2 + 1", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 1 and out["status"] == "infeasible" and out["lower_bound"] is None


@pytest.mark.parametrize("argv", [["sos", "x^3 + y^2"], ["sos"], ["sos", "sin(x)"],
                                  ["sos", "x^4", "--risk", "z1**2"]])
def test_cli_bad_input_exit_2(argv, capsys):
    assert main(argv) == 2
    assert "escalier sos: error:" in capsys.readouterr().err


def test_cli_rejects_bad_options_at_the_argument_layer(capsys):
    with pytest.raises(SystemExit) as err:
        main(["sos", "x^4", "--degree", "5"])
    assert err.value.code == 2


def test_cli_risk_table(capsys):
    assert main(["sos", "--risk", "z1**2", "--student", "quadratic", "--p", "1"]) == 0
    out = capsys.readouterr().out
    assert "lower bound" in out and "Q11 = 1" in out


def test_cli_sphere(capsys):
    rc = main(["sos", "x + y", "--eq", "x^2 + y^2 - 1", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0 and abs(out["lower_bound"] + np.sqrt(2)) < 1e-6
    assert out["equalities"] == ["x^2 + y^2 - 1"] and out["exact_certificate"] is False


def test_unrepresentable_target_bound_and_fixed_points():
    # y = z1^2 - z2^2 = x^T T x, yhat = (w.x)^2/d = x^T S x (S PSD rank 1): with A = T - S,
    # E[(x^T A x)^2] = (tr A)^2 + 2 tr A^2 (Isserlis), minimised at S = diag(2/3, 0) to
    # R = (4/9 + 2/9 + 2) / 2 = 4/3 (hand derivation)
    cert = certify_risk("z1**2 - z2**2", "quadratic", 1, fixed_points=3, ode_time=500.0,
                        exact=False)
    assert cert.sos.lower_bound == pytest.approx(4 / 3, abs=1e-6)
    assert cert.fixed_points and all(not fp.above_minimum for fp in cert.fixed_points)
    # at finite lr the eta^2 noise term lifts the ODE's fixed points above the minimum
    finite = certify_risk("z1**2 - z2**2", "quadratic", 1, fixed_points=2, ode_time=500.0,
                          exact=False, small_lr=False, lr=0.05)
    assert finite.fixed_points and all(fp.above_minimum for fp in finite.fixed_points)


@pytest.mark.slow
def test_committee_p2_k2_exact_certificate():
    # R >= 0 proved over QQ: the squares must expand back to the risk polynomial exactly
    cert = certify_risk("z1**2 + z2**2", "quadratic", 2)
    ex = cert.sos.exact
    assert ex is not None and ex.gamma == 0 and ex.verify()
    assert sp.expand(sum(d * q**2 for d, q in ex.squares()) - cert.risk.poly.as_expr()) == 0
