"""`escalier wide`: at p = 1 the reduced large-width ODE and the full ODE are the same system
(no off-diagonal overlaps), so --compare must report deviations at the integrator's
tolerance; bad input is one line and exit status 2."""

from __future__ import annotations

import json

import pytest

from escalier.numerics.cli import main


@pytest.mark.slow  # two diffrax compilations: ~66 s on the loaded machine
def test_compare_at_p1_is_exact(tmp_path, capsys):
    out = tmp_path / "w.json"
    status = main(["wide", "erf(z1/sqrt(2)) + erf(z2/sqrt(2))", "--p", "1", "--a0", "2",
                   "--compare", "--records", "3", "--t-max", "1", "--json", str(out)])
    assert status == 0
    data = json.loads(out.read_text())
    dev = data["max_deviation"]
    assert dev["risk"] < 1e-8 and dev["M"] < 1e-8 and dev["q"] < 1e-8  # rtol 1e-9 solves
    assert data["full"]["risk"][-1] < data["full"]["risk"][0]  # it learns
    assert "max |reduced - full|" in capsys.readouterr().out


def test_refuses_a_non_committee(capsys):
    assert main(["wide", "z1*z2", "--p", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "committee" in err[0]
