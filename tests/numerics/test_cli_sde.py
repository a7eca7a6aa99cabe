"""`escalier sde` end to end, with tiny arguments (linear student: exact, fast)."""

import json

import numpy as np
import pytest

from escalier.numerics.cli import main


def test_sde_cli_json_plot_and_ou(tmp_path, capsys):
    out, fig = tmp_path / "s.json", tmp_path / "s.png"
    rc = main(["sde", "z1", "--student", "linear", "--lr", "0.5", "--noise", "0.2",
               "--d", "200", "--seeds", "16", "--time", "1", "--records", "2", "--dt", "0.05",
               "--simulate", "--ou", "--no-progress", "--json", str(out), "--plot", str(fig)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "Ornstein-Uhlenbeck" in text and "var ratio" in text
    payload = json.loads(out.read_text())
    assert fig.stat().st_size > 10_000
    run = payload["runs"][0]
    assert run["names"] == ["Q11", "M11"] and run["d"] == 200
    assert np.asarray(run["std"]).shape == (3, 2)
    # the OU fixed point of linear regression with label noise Delta = 0.2, by hand:
    # dM/dt = eta (1 - M) = 0 -> M = 1; dQ/dt = 2 eta (M - Q) + eta^2 (E[(nu - lambda)^2] +
    # Delta) = 2 eta (1 - Q) + eta^2 (1 - 2 + Q + 0.2) = 0 -> Q = (2 - 0.5 * 0.8) / (2 - 0.5)
    ou = run["ou"]
    np.testing.assert_allclose(ou["y_star"], [(2 - 0.4) / 1.5, 1.0], rtol=1e-10)
    S, J, D = (np.asarray(ou[k]) for k in ("S", "J", "D"))
    np.testing.assert_allclose(J @ S + S @ J.T, -D, atol=1e-12 * np.abs(D).max())


def test_sde_cli_bad_input(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["sde", "z1", "--student", "linear", "--d", "0"])
    assert exit_.value.code == 2 and "--d" in capsys.readouterr().err
    assert main(["sde", "z1", "--student", "linear", "--train-second-layer", "--d", "50",
                 "--seeds", "2", "--time", "0.2", "--records", "1"]) == 2
    assert "second layer" in capsys.readouterr().err
