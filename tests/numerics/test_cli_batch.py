"""`escalier batch` and escalier.numerics.batch: the constants of the learning-rate rule
against hand values, the two-regime fit on exact data, the command end to end (tiny)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from escalier.derive import Scenario
from escalier.derive.ode import single_index_constants
from escalier.numerics.batch import fit_knee, learning_rate
from escalier.numerics.cli import main


def test_single_index_constants_of_he3_by_hand():
    """He3 target, He3 student, a = 1, M = 0 (lambda, nu independent), sigma' = 3 He2:
    drift C_3 = 3 * 3! * c_3 s_3 = 18; E[dg/dlambda] = -E[sigma'^2] - E[sigma sigma''] = -18
    (square; 0 for correlation); E[g^2] = 9 (E[He3^2] E[He2^2] + E[(He3 He2)^2]) with
    He3 He2 = He5 + 6 He3 + 6 He1, E[(He3 He2)^2] = 5! + 36 * 3! + 36 = 372: 9 * 384 = 3456
    (square), 9 * 6 * 2 = 108 (correlation)."""
    sq = single_index_constants(Scenario("He3(z1)", student="He3", p=1))
    co = single_index_constants(Scenario("He3(z1)", student="He3", p=1, loss="correlation"))
    assert (sq.l, co.l) == (3, 3)
    np.testing.assert_allclose([sq.drift, sq.noise, sq.self_interaction], [18, 3456, -18],
                               rtol=1e-12)
    np.testing.assert_allclose([co.drift, co.noise, co.self_interaction], [18, 108, 0],
                               atol=1e-12)


def test_fit_knee_recovers_exact_two_regime_data():
    n = np.array([10, 20, 40, 80, 160, 320, 640.0])
    fit = fit_knee(n, 5000 / n + 12.5)
    assert math.isclose(fit["A"], 5000, rel_tol=1e-10) and math.isclose(fit["B"], 12.5,
                                                                        rel_tol=1e-10)
    assert math.isclose(fit["knee"], 400, rel_tol=1e-10)
    # local log-log slope -(A/n) / (A/n + B): about -0.95 over n = 10..40, -0.55 over 160..640
    assert fit["slope_small"] < -0.9 and -0.6 < fit["slope_large"] < -0.5
    assert fit_knee(n, 5000 / n)["knee"] == math.inf
    with pytest.raises(ValueError, match="three batch sizes"):
        fit_knee(n[:3], [1.0, np.nan, 2.0])


def test_learning_rate_rule():
    d, l = 64, 3
    assert math.isclose(learning_rate(128, d, l, "correlation", 0.01, 0.02),
                        d * 0.01 * 128 / d**1.5)
    assert math.isclose(learning_rate(10**5, d, l, "square", 0.01, 0.02), d * 0.02)


def test_command_end_to_end(tmp_path, capsys):
    """Tiny: d = 16, n_b = 32, 128, 512 (d^(3/2) = 64), correlation loss, 2 seeds: the JSON
    carries the rule and one curve per d whose gamma = eta / d follows the rule; T falls with
    n_b on the map (drift-dominated: the same samples n_b T within a factor 2)."""
    out = tmp_path / "knee.json"
    plot = tmp_path / "knee.png"
    assert main(["batch", "He3(z1)", "--d", "16", "--ratios", "0.5", "2", "8", "--loss",
                 "correlation", "--seeds", "2", "--no-progress", "--json", str(out),
                 "--plot", str(plot)]) == 0
    text = capsys.readouterr().out
    assert "information exponent l = 3" in text and "eta0" in text
    data = json.loads(out.read_text())
    (curve,) = data["curves"]
    assert curve["n_b"] == [32, 128, 512]
    eta0 = data["learning_rate"]["eta0"]
    assert math.isclose(eta0, 2 * 0.5 * 18 / 3456, rel_tol=1e-12)
    np.testing.assert_allclose(np.array(curve["lr"]) / 16, eta0 * np.array([32, 128, 512])
                               / 64, rtol=1e-12)
    T = np.array(curve["steps_map"])
    assert np.all(np.diff(T) < 0)
    samples = T * np.array(curve["n_b"])
    assert samples.max() / samples.min() < 2
    # the map's own knee fit is reported beside the gram medians' (one d: no exponent)
    from escalier.numerics.batch import fit_knee

    refit = fit_knee(curve["n_b"], curve["steps_map"])
    assert math.isclose(curve["fit_map"]["A"], refit["A"], rel_tol=1e-12)
    assert "knee_over_d_pow_l_over_2" in data["knee_exponent"]["correlation"]["map"]
    assert "knee (correlation) the map:" in text
    assert plot.stat().st_size > 10_000


def test_command_refuses_bad_input(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["batch", "He3(z1)", "--overlap", "1.5"])
    assert exit_.value.code == 2
    assert main(["batch", "z1*z2", "--d", "16", "--no-progress"]) == 2
    assert "single-index" in capsys.readouterr().err


def test_map_knee_scales_like_d_to_the_l_over_2():
    """The batch-size picture of arXiv 2406.02157 on the finite-step map (d = 128, 256, 512;
    measured: exponent 1.492, slopes -1.01 / -0.38..-0.33 square, -0.99 / -0.79..-0.83 corr.):
    below the knee T ~ 1/n_b (log-log slope -1 +- 0.05, the samples n_b T fixed); the square
    loss's knee scales as d^(l/2) = d^1.5 (fitted exponent within 0.1); the correlation loss
    does not saturate (slope at the largest n_b below -0.7, square above -0.45)."""
    from escalier.numerics.batch import batch_study

    st = batch_study("He3(z1)", [128, 256, 512], use_gram=False)
    assert abs(st.knee_exponent["square"]["exponent"] - 1.5) < 0.05
    for c in st.curves:
        assert abs(c.fit["slope_small"] + 1) < 0.05
        if c.loss == "square":
            assert c.fit["slope_large"] > -0.45
        else:
            assert c.fit["slope_large"] < -0.7
