"""`escalier odes`: argument handling, the three emitters, the emitted module runs alone."""

import argparse
import subprocess
import sys

import pytest

from escalier.numerics.cli import _odes


def _run(argv):
    # a refusal by the argument layer is raised (not printed and exited) as the app does
    parser = argparse.ArgumentParser(exit_on_error=False)
    _odes.add_arguments(parser)
    try:
        args = parser.parse_args(argv)
    except argparse.ArgumentError as err:
        raise ValueError(str(err)) from None
    return _odes.run(args)


def test_latex_to_stdout(capsys):
    assert _run(["erf(z1/sqrt(2)) + erf(z2/sqrt(2))", "--student", "erf", "--p", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("\\begin{aligned}") and "\\frac{d M_{22}}{dt}" in out


def test_sympy_emit_with_options(capsys):
    assert _run(["z1 + z1*z2", "--student", "relu", "--p", "2", "--loss", "correlation",
                 "--batch", "8", "--noise", "0.1", "--emit", "sympy"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("dQ11/dt = ") and lines[-1].startswith("R = ")
    assert "Delta" in "\n".join(lines)


def test_jax_emit_to_file_runs_alone(tmp_path):
    out = tmp_path / "ode.py"
    assert _run(["He3(z1)", "--student", "erf", "--p", "1", "--spherical", "--emit", "jax",
                 "-o", str(out)]) == 0
    code = ("import importlib.util, sys; spec = importlib.util.spec_from_file_location('m', "
            f"{str(out)!r}); m = importlib.util.module_from_spec(spec); "
            "spec.loader.exec_module(m); import jax.numpy as jnp; "
            "print(float(m.rhs(0.0, jnp.asarray([0.3]), None)[0]))")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=tmp_path)
    from escalier.derive.ode import ode_system

    expected = ode_system("He3(z1)", student="erf", p=1, spherical=True).evaluate([0.3])[0]
    assert float(res.stdout) == pytest.approx(expected, rel=1e-5)  # float32 by default


@pytest.mark.parametrize("argv,match", [
    (["z1", "--emit", "fortran"], "--emit"),
    (["z1", "--loss", "hinge"], "loss"),
    (["z1", "--p", "2", "--tangent"], "spherical"),
    (["z1 +", "--p", "1"], "parse"),
])
def test_bad_input_is_a_value_error(argv, match):
    with pytest.raises(ValueError, match=match):
        _run(argv)


def test_registered_in_the_app(capsys):
    from escalier.numerics.cli import main

    assert main(["odes", "z1", "--student", "linear", "--p", "1", "--emit", "sympy"]) == 0
    assert "dM11/dt" in capsys.readouterr().out
    assert main(["odes", "z1", "--emit", "nope"]) == 2
