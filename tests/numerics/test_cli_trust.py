"""The command line can be trusted (issue 10): time budgets name the stage, argparse errors
are one line, bad numbers are refused before any work, broken pipes are quiet."""

import subprocess
import sys
import time

import pytest

from escalier.numerics.cli import main
from escalier.numerics.cli._common import BudgetExceeded, time_budget


def _main(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- class 1: a time budget, honoured with the stage named; progress on stderr ------------


def test_timeout_names_the_stage(capsys):
    # a target used nowhere else (no warm cache: its derivation takes about a second cold)
    # and a budget of 1 ms (the timer's floor is 10 ms)
    code, out, err = _main(["exponents", "sign(z1) + tanh(z2) + z1*z2*z3/7", "--timeout",
                            "0.001"], capsys)
    assert code == 2
    assert err.startswith("escalier exponents: error: time budget of 0.001 s spent while "
                          "computing: ")
    assert "--timeout" in err and len(err.strip().splitlines()) == 1


def test_time_budget_reports_progress_then_stops(capsys):
    with pytest.raises(BudgetExceeded, match="busy stage"):
        from escalier.derive._budget import stage

        with time_budget("test", 0.35, progress_after=0.1, every=0.1), stage("busy stage"):
            end = time.monotonic() + 5
            while time.monotonic() < end:
                pass
    err = capsys.readouterr().err
    assert "escalier test: still working after" in err and "(stage: busy stage)" in err


def test_time_budget_leaves_fast_work_alone():
    with time_budget("test", 5.0):
        x = sum(range(1000))
    assert x == 499500


# --- class 3: one-line argparse errors, options refused before any work -------------------


@pytest.mark.parametrize("argv", [
    ["exponents", "z1", "--max-degree", "x"],
    ["exponents", "z1", "--timeout", "-1"],
    ["exponents", "z1", "--timeout", "nan"],
    ["exponents", "--no-such-option"],
    ["nosuchcommand"],
])
def test_argparse_errors_are_one_line(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "error:" in err and "usage:" not in err


def test_broken_pipe_is_quiet():
    # `escalier hermite ... | head -1`: the reader closes the pipe early
    code = ("import sys\nfrom escalier.numerics.cli import main\n"
            "sys.exit(main(['hermite', 'He2(z1) + z1*z2*z3 + z4**3', '--max-degree', '6']))")
    with subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as proc:
        proc.stdout.readline()
        proc.stdout.close()
        err = proc.stderr.read().decode()
        proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err, err


@pytest.mark.parametrize("argv", [
    ["odes", "z1", "--noise", "inf", "--emit", "jax"],
    ["odes", "z1", "--lr", "0"],
    ["odes", "z1", "--p", "0"],
    ["verify", "--noise", "nan"],
    ["verify", "--noise", "-1"],
    ["verify", "--lr", "inf"],
    ["verify", "--lr", "0"],
    ["verify", "--time", "-5"],
    ["verify", "--seeds", "0"],
    ["verify", "--d", "100", "0"],
    ["verify", "--rtol", "nan"],
    ["scaling", "He3(z1)", "--lr", "-1"],
    ["scaling", "He3(z1)", "--threshold", "1.5"],
    ["scaling", "He3(z1)", "--budget", "1"],
    ["scaling", "He3(z1)", "--d", "1"],
    ["scaling", "He3(z1)", "--seeds", "0"],
    ["exponents", "z1", "--max-degree", "0"],
    ["staircase", "z1", "--l", "0"],
])
def test_bad_numbers_are_refused_before_any_work(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # no banner, no table
    err = captured.err.strip()
    assert len(err.splitlines()) == 1 and "error: argument --" in err


# --- parameters: --set on every command that needs numbers ---------------------------------


def test_set_gives_parameters_values(capsys):
    code, out, _ = _main(["exponents", "c*z1 + beta*z1*z2", "--set", "c=1", "--set",
                          "beta=0.5", "--no-alpha-c"], capsys)
    assert code == 0
    assert "leap (online staircase)  1" in out and "c = 1" in out and "beta = 1/2" in out
    code, out, _ = _main(["hermite", "c*He2(z1)", "--set", "c=3"], capsys)
    assert code == 0 and "(2,)" in out and " 3 " in out


@pytest.mark.parametrize(("argv", "fragment"), [
    (["exponents", "c*z1 + z2"], "--set c=VALUE"),
    (["exponents", "c*z1", "--set", "d=1"], "--set d: not a parameter of the target"),
    (["exponents", "c*z1", "--set", "c=inf"], "not a finite real number"),
    (["exponents", "c*z1", "--set", "c"], "NAME=VALUE"),
    (["odes", "c*z1", "--p", "1"], "--set c=VALUE"),
])
def test_missing_or_bad_settings_are_one_line_errors(argv, fragment, capsys):
    code, _, err = _main(argv, capsys)
    assert code == 2 and fragment in err and len(err.strip().splitlines()) == 1


def test_hermite_names_the_parameters(capsys):
    import json

    code, out, _ = _main(["hermite", "c*z1 + beta"], capsys)
    assert code == 0 and "parameters  beta, c" in out
    code, out, _ = _main(["hermite", "c*z1 + beta", "--json"], capsys)
    assert json.loads(out)["parameters"] == ["beta", "c"]
