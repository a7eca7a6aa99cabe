"""`escalier collapse ufm|train` end to end with tiny arguments, and its refusals."""

import json

import pytest

from escalier.numerics.cli import main


def test_ufm_json_keys_and_values(capsys, tmp_path):
    fig = tmp_path / "h.png"
    rc = main(["collapse", "ufm", "--K", "2", "--L", "2", "--width", "3", "--n", "1",
               "--weight-decay", "0.01", "--restarts", "3", "--json", "--plot", str(fig)])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("loss_closed_form", "loss_trained", "restarts_at_optimum", "singular_values",
                "hessian"):
        assert key in out
    assert set(out["hessian"]) == {"W_2", "W_1", "H"}
    for block in out["hessian"].values():
        assert set(block) >= {"rank", "outliers", "outliers_measured"}
        assert block["rank"] == len(block["outliers"]) == len(block["outliers_measured"]) == 4
    assert out["loss_trained"] == pytest.approx(out["loss_closed_form"], rel=1e-6)
    assert 1 <= out["restarts_at_optimum"] <= 3 and fig.stat().st_size > 0


@pytest.mark.slow
def test_ufm_table(capsys):
    assert main(["collapse", "ufm", "--K", "2", "--L", "1", "--width", "2", "--restarts", "2"]) == 0
    text = capsys.readouterr().out
    assert "restarts at the optimum" in text and "W_1" in text


def test_train_json(capsys, tmp_path):
    fig = tmp_path / "nc.png"
    rc = main(["collapse", "train", "--dataset", "digits", "--depth", "2", "--width", "16",
               "--epochs", "4", "--every", "2", "--no-progress", "--json", "--plot", str(fig)])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["epochs"] == [2, 4] and len(out["layers"]) == 2
    assert len(out["layers"][1]["nc3"]) == 2 and out["layers"][0]["nc3"] is None
    assert fig.stat().st_size > 0


def _status(argv):
    try:
        return main(argv)
    except SystemExit as exc:  # argparse's own refusals
        return exc.code


@pytest.mark.parametrize("argv,words", [
    (["ufm", "--K", "1"], "--K"),
    (["ufm", "--K", "4", "--width", "3"], "--width"),
    (["ufm", "--weight-decay", "-0.1"], "--weight-decay"),
    (["ufm", "--weight-decay", "0"], "--weight-decay"),
    (["ufm", "--weight-decay", "nan"], "--weight-decay"),
    (["train", "--dataset", "cifar10"], "not shipped"),
    (["train", "--width", "0"], "--width"),
])
def test_bad_input_is_one_line_exit_2(argv, words, capsys):
    assert _status(["collapse", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert words in err[-1]


def test_value_errors_print_one_line(capsys):
    assert main(["collapse", "ufm", "--K", "4", "--width", "3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("escalier collapse: error:") and "--width" in err[0]


@pytest.mark.slow
def test_ufm_cross_entropy_json(capsys):
    rc = main(["collapse", "ufm", "--loss", "ce", "--K", "3", "--L", "2", "--width", "3",
               "--weight-decay", "0.001", "--restarts", "2", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["numerical"] is True and len(out["dnc_critical_points"]) == 2
    assert set(out["loss_by_rank"]) == {"1", "2"}
