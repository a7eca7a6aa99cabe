"""`escalier depth` end to end with tiny arguments: JSON keys, plot, and one-line errors."""

import json

import pytest

from escalier.numerics.cli import main


def test_depth_cli_json_keys_and_plot(tmp_path, capsys):
    fig = tmp_path / "depth.png"
    rc = main(["depth", "--eps", "0.5", "--P", "He2(z)", "--g", "z", "--d", "16",
               "--kappa", "1.5", "2", "--seeds", "1", "--learners", "two_layer", "kernel",
               "--n-test", "200", "--no-progress", "--json", "--plot", str(fig)])
    assert rc == 0
    payload = json.loads(capsys.readouterr().out)
    # P = He2 (deg 2), g* = z, eps = 1/2: three-layer max(1.5, 1.0) = 1.5; y is a degree-2
    # polynomial of the D coordinates: two-layer max(1.5, 2 * 0.5) = 1.5; kernel: degree 2
    assert payload["predicted"]["three_layer"] == pytest.approx(1.5)
    assert payload["predicted"]["two_layer"] == pytest.approx(1.5)
    assert payload["predicted"]["kernel"] == pytest.approx(2.0)
    assert "vanishing" in payload["predicted"]["level"]
    rec = payload["measured"]["kernel"]["16"]
    assert rec["kappa"] == [1.5, 2.0] and rec["n"] == [64, 256]
    assert len(rec["median"]) == 2 and all(e >= 0 for e in rec["median"])
    assert set(payload["measured"]) == {"two_layer", "kernel"}
    # thresholds: the first kappa whose median is at most half-way between E y^2 and the
    # predicted plateau, recomputed here from the JSON's own numbers
    for lr in ("two_layer", "kernel"):
        plateau = dict(map(tuple, payload["steps"][lr]))[payload["first_drop"][lr]]
        level = 0.5 * (payload["measured_second_moment"]["16"] + plateau)
        rec = payload["measured"][lr]["16"]
        hits = [k for k, e in zip(rec["kappa"], rec["median"], strict=True) if e <= level]
        assert payload["measured_threshold"][lr]["16"] == (hits[0] if hits else None)
    assert fig.stat().st_size > 10_000


def test_depth_cli_predict_only_table(capsys):
    assert main(["depth", "--P", "He2(z)", "--g", "z", "--predict-only"]) == 0
    out = capsys.readouterr().out
    assert "three_layer" in out and "level 1: span(W*)" in out


@pytest.mark.parametrize("argv,message", [
    (["--P", "z**2"], "zero Gaussian mean"),
    (["--P", "tanh(z)"], "polynomial"),
    (["--g", "foo(z)"], "unknown function"),
    (["--learners", "transformer", "--d", "16", "--kappa", "1"], "unknown learner"),
])
def test_depth_cli_bad_input_is_one_line(argv, message, capsys):
    argv = ["depth", *argv] if "--learners" in argv else ["depth", "--predict-only", *argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("escalier depth: error:") and message in err and "\n" not in err


def test_depth_cli_eps_out_of_range(capsys):
    with pytest.raises(SystemExit) as err:
        main(["depth", "--eps", "1.5", "--predict-only"])
    assert err.value.code == 2


def test_depth_cli_paper_schedule_and_gd_second_layer(capsys):
    """The protocol options reach the learners and are echoed in the JSON config: with
    --first-layer paper the three-layer run at d = 16 takes int(15 ln 16 / 0.7) = 59 first-layer
    steps (finite test error), with --second-layer gd --layer2-steps 20 its second layer."""
    rc = main(["depth", "--P", "He2(z)", "--g", "z", "--d", "16", "--kappa", "1.5",
               "--seeds", "1", "--learners", "three_layer", "--n-test", "200", "--no-progress",
               "--first-layer", "paper", "--second-layer", "gd", "--layer2-steps", "20",
               "--json"])
    assert rc == 0
    payload = json.loads(capsys.readouterr().out)
    cfg = payload["config"]
    assert (cfg["first_layer"], cfg["second_layer"], cfg["layer2_steps"]) == ("paper", "gd", 20)
    err = payload["measured"]["three_layer"]["16"]["median"][0]
    assert 0 <= err < 10


def test_depth_cli_rejects_zero_layer2_steps(capsys):
    with pytest.raises(SystemExit) as err:
        main(["depth", "--second-layer", "gd", "--layer2-steps", "0", "--predict-only"])
    assert err.value.code == 2
