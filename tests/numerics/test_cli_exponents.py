"""`escalier exponents` and `escalier staircase`: output, JSON keys, plot, errors."""

import argparse
import json

import pytest

from escalier.numerics.cli import _exponents, _staircase


def _run(module, argv, capsys):
    parser = argparse.ArgumentParser()
    parser.add_argument("--debug", action="store_true")
    module.add_arguments(parser)
    code = module.run(parser.parse_args(argv))
    return code, capsys.readouterr().out


def test_exponents_table(capsys):
    code, out = _run(_exponents, ["z1 + He3(z2)", "--student", "relu", "--no-alpha-c"], capsys)
    assert code == 0
    assert "leap (online staircase)  3" in out
    assert "student-aware IE (relu)" in out
    assert "online leap 3" in out and "d^2" in out


def test_exponents_json_keys(capsys):
    code, out = _run(_exponents, ["sign(z1*z2*z3)", "--json"], capsys)
    data = json.loads(out)
    assert data["information_exponent"] == 3
    assert data["generative_exponent"] == 3
    assert data["reuse"] == "hard"
    assert data["leap"] == 3 and data["giant_step_exponent"] == 3
    assert isinstance(data["exact"], dict) and data["exact"]["reuse"] is True
    step = data["staircase"][0]
    assert step["leap"] == 3 and step["cost"] == "d^2" and len(step["directions"]) == 3
    assert data["amp"]["alpha_c"] == "inf"


def test_staircase_plot(tmp_path, capsys):
    out_file = tmp_path / "chain.png"
    code, out = _run(_staircase, ["z1 + z1*z2", "--protocol", "online", "--plot",
                                  str(out_file)], capsys)
    assert code == 0 and out_file.stat().st_size > 1000
    assert "U0 (dim 0) -> U1 (dim 1): leap 1" in out


def test_staircase_json(capsys):
    code, out = _run(_staircase, ["tanh(z1) + tanh(z2)", "--protocol", "reuse", "--json"],
                     capsys)
    data = json.loads(out)
    assert [e["leap"] for e in data["edges"]] == [1, 2]
    # numerical coefficients: the exponent is not proved, so it is given only as a bound
    assert data["graph"]["class"] is None and data["graph"]["exponent"] is None
    bound = data["graph"]["exponent_bound"]
    assert (bound["proved"], bound["relation"], bound["value"], bound["reuse"]) == \
        (False, "<=", 2, "O(d log d)")


def test_staircase_bad_plot_name(tmp_path):
    parser = argparse.ArgumentParser()
    _staircase.add_arguments(parser)
    with pytest.raises(ValueError, match="png"):
        _staircase.run(parser.parse_args(["z1", "--plot", str(tmp_path / "x.txt")]))


def test_registered_commands_resolve_to_their_modules(capsys):
    # every registered command imports, names itself as registered, and runs through main;
    # the default command (no arguments) is the exponents report of the default target
    import importlib

    from escalier.numerics.cli import _app, main

    for name, (module, *_) in _app.COMMANDS.items():
        mod = importlib.import_module(module, "escalier.numerics.cli")
        assert getattr(mod, "NAME", name) == name
        assert callable(mod.run) and callable(mod.add_arguments)
    assert main(["staircase", "z1 + z1*z2", "--protocol", "online"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "z1 + z1*z2: online staircase (exponent 1)"


def test_no_arguments_shows_the_exponents_report(capsys):
    from escalier.numerics.cli import main

    assert main([]) == 0
    out = capsys.readouterr().out
    assert "information exponent" in out and "z1 + z1*z2 + z1*z2*z3" in out


def test_main_bad_target_exits_2(capsys):
    from escalier.numerics.cli import main

    assert main(["exponents", "z1 + a*z2"]) == 2
    assert "parameters" in capsys.readouterr().err
    assert main(["staircase", "z1", "--protocol", "online", "--plot", "/nonexistent/x.png"]) == 2
