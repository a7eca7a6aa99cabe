"""`escalier erm` end to end with tiny arguments: JSON keys, plot, and one-line errors."""

import json

import pytest

from escalier.numerics.cli import main


def test_erm_cli_json_keys_and_plot(tmp_path, capsys):
    fig = tmp_path / "erm.png"
    rc = main(["erm", "--loss", "logistic", "--lambda", "0.1", "--mixture",
               "mean=1.5;mean=-1.5", "--teacher", "sign:align=0.5", "--alpha", "1", "2",
               "--simulate", "--d", "60", "--seeds", "2", "--no-progress", "--json",
               "--plot", str(fig)])
    assert rc == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["alpha"] == [1.0, 2.0]
    for key in ("train_error", "test_error"):
        assert len(payload[key]) == 2
        assert len(payload["gaussian_equivalent"][key]) == 2
        assert len(payload["simulation"][key]) == 2
        assert len(payload["simulation"]["stderr"][key]) == 2
    assert all(0 <= e <= 0.5 for e in payload["test_error"])
    assert fig.stat().st_size > 10_000


def test_erm_cli_table(capsys):
    assert main(["erm", "--loss", "ridge", "--teacher", "linear:noise=0.5", "--mixture",
                 "mean=1;mean=-1", "--alpha", "2"]) == 0
    out = capsys.readouterr().out
    assert "mean squared error" in out and "GE test" in out


@pytest.mark.parametrize("argv,message", [
    (["--mixture", "mean=1,var=-1;mean=-1"], "variances must be > 0"),
    (["--mixture", "mean=1,colour=red"], "bad cluster field"),
    (["--teacher", "quadratic"], "unknown teacher"),
    (["--loss", "hinge", "--teacher", "linear"], "classification loss"),
    (["--lambda", "0"], "--lambda 0"),
    (["--max-iter", "3"], "did not converge"),
])
def test_erm_cli_errors_are_one_line(argv, message, capsys):
    assert main(["erm", "--alpha", "2", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("escalier erm: error:") and message in err and "\n" not in err


@pytest.mark.parametrize("argv", [["--alpha", "0"], ["--alpha", "nan"], ["--damping", "1"],
                                  ["--lambda", "-1"], ["--seeds", "0"]])
def test_erm_cli_rejects_bad_numbers_at_parse_time(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(["erm", *argv])
    assert info.value.code == 2
