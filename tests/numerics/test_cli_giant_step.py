"""`escalier giant-step` end to end with tiny arguments: JSON keys, plots, one-line errors."""

import json

import pytest

from escalier.numerics.cli import main


def test_student_aware_reason_in_json(capsys):
    assert main(["giant-step", "z1 + z1*z2 + z1*z2*z3", "--steps", "3", "--d", "20",
                 "--seeds", "2", "--normalize-rows", "--no-progress", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [s["predicted_learned"] for s in out["subspaces"]] == [True, True, False]
    assert "c_j = 0 for j in [3]" in out["subspaces"][2]["reason"] and out["normalize_rows"]


def test_subspaces_json_keys_and_plot(tmp_path, capsys):
    fig = tmp_path / "ov.png"
    assert main(["giant-step", "z1 + z1*z2", "--d", "20", "--seeds", "2", "--alpha", "2",
                 "--no-progress", "--json", "--plot", str(fig)]) == 0
    out = json.loads(capsys.readouterr().out)
    subs = out["subspaces"]
    assert [s["predicted_learned"] for s in subs] == [True, False]
    assert subs[0]["direction"] == [1.0, 0.0]
    for s in subs:
        assert set(s) >= {"direction", "predicted_learned", "overlap", "overlap_stderr"}
        assert 0 <= s["overlap"] <= 1 + 1e-9
    assert out["n"] == 40 and fig.stat().st_size > 10_000


def test_spike_json_keys_and_table(tmp_path, capsys):
    fig = tmp_path / "sv.png"
    assert main(["giant-step", "z1", "--spike", "--p", "40", "--d", "60", "--seeds", "2",
                 "--ridge", "1", "--cov-samples", "1000", "--plot", str(fig)]) == 0
    text = capsys.readouterr().out
    assert "top singular value" in text and "alignment" in text
    assert "ridge test error" in text and "(theory)" in text
    assert "feature covariance" in text
    assert fig.stat().st_size > 10_000
    assert main(["giant-step", "z1", "--spike", "--p", "40", "--d", "60", "--lr", "0.3",
                 "--seeds", "2", "--cov-samples", "2000", "--ridge", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    spike = out["spike"]
    assert set(spike) >= {"alignment_predicted", "alignment_measured", "alignment_stderr",
                          "outlier_predicted", "outlier_measured", "bulk_edge", "threshold_lr",
                          "feature_cov_top_predicted", "feature_cov_top_measured"}
    assert set(out["ridge"]) >= {"random_features_theory", "one_step_theory"}
    # relu below threshold: top covariance eigenvalue = mu1^2 (1 + sqrt(c))^2 + mu_*^2,
    # c = 2/3, mu1 = 1/2, mu_*^2 = 1/4 - 1/(2 pi)
    edge = (1 + (2 / 3) ** 0.5) ** 2 / 4 + 0.25 - 1 / (2 * 3.141592653589793)
    assert spike["feature_cov_top_predicted"] == pytest.approx(edge, rel=1e-9)
    # y = z1: c1 = 1, E y^2 = 1, alpha = 2: alignment 2 / 3; lr 0.3 is below the threshold
    assert spike["alignment_predicted"] == pytest.approx(2 / 3)
    assert spike["outlier_predicted"] is None and spike["threshold_lr"] > 0.3


@pytest.mark.parametrize("argv,message", [
    (["z1", "--d", "5", "--p", "4"], "--d must be >= k + 2p"),
    (["z1", "--spike", "--steps", "2", "--p", "10", "--d", "20"], "--spike is one step"),
    (["z1", "--alpha", "-1"], "out of range"),
    (["z1 + c*z2"], "free parameters"),
    (["z1", "--n-exponent", "9", "--d", "1000"], "beyond this command"),
])
def test_bad_input_is_one_line_and_status_2(argv, message, capsys):
    try:
        code = main(["giant-step", *argv, "--no-progress"])
    except SystemExit as err:  # argparse's own checks
        code = err.code
    assert code == 2
    assert message in capsys.readouterr().err
