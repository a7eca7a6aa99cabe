"""`escalier hermite` and the command line's contract (exit codes, JSON, no tracebacks)."""

import json
import subprocess
import sys

import pytest

from escalier.numerics.cli import main


def test_hermite_json(capsys):
    assert main(["hermite", "z1**3 + c*z1*z2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["target"] == "z1**3 + c*z1*z2" and out["variables"] == ["z1", "z2"]
    by_alpha = {tuple(c["alpha"]): c for c in out["coefficients"]}
    assert by_alpha[(1, 0)]["exact"] == "3" and by_alpha[(1, 0)]["value"] == 3.0
    assert by_alpha[(3, 0)]["exact"] == "1" and by_alpha[(1, 1)]["exact"] == "c"
    assert by_alpha[(1, 1)]["value"] is None
    assert set(by_alpha[(1, 0)]) >= {"alpha", "exact", "value", "error"}


def test_hermite_table_marks_numeric_values(capsys):
    assert main(["hermite", "tanh(z1)", "--max-degree", "3"]) == 0
    out = capsys.readouterr().out
    assert "numeric, +/-" in out and "parity in z1" in out and "L2 mass per degree" in out


@pytest.mark.parametrize("bad", ["foo(z1)", "x + z1", "exp(z1**2)"])
def test_errors_exit_2_with_one_line(bad, capsys):
    assert main(["hermite", bad]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("escalier hermite: error:") and "\n" not in err
    assert "Traceback" not in err


def test_console_script_version_and_help():
    out = subprocess.run([sys.executable, "-m", "escalier.numerics.cli", "--version"],
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("escalier ")
    proc = subprocess.run([sys.executable, "-m", "escalier.numerics.cli", "hermite", "z0"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "z0" in proc.stderr
    helptext = subprocess.run([sys.executable, "-m", "escalier.numerics.cli", "--help"],
                              capture_output=True, text=True, check=True).stdout
    assert "hermite" in helptext


def test_debug_shows_the_traceback():
    with pytest.raises(ValueError, match="unknown function"):
        main(["hermite", "foo(z1)", "--debug"])
