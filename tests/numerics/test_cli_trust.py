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
    code, out, err = _main(["exponents", "sign(z1) + tanh(z2) + z1*z2", "--timeout", "0.05"],
                           capsys)
    assert code == 2
    assert err.startswith("escalier exponents: error: time budget of 0.05 s spent while "
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
