"""`escalier scaling` end to end on the exact gram engine, with tiny arguments."""

import json

import numpy as np

from escalier.numerics.cli import main


def test_scaling_cli_writes_json_and_plot(tmp_path, capsys):
    out, fig = tmp_path / "s.json", tmp_path / "s.png"
    rc = main(["scaling", "He2(z1)", "--engine", "gram", "--d", "32", "64", "--seeds", "4",
               "--no-progress", "--json", str(out), "--plot", str(fig)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "information exponent" in text and "l = 2" in text and "fitted exponent" in text
    payload = json.loads(out.read_text())
    assert payload["command"]["engine"] == "gram" and fig.stat().st_size > 10_000
    # the law by hand: steps ~ d log d, slope over d = 32..64 of 1 + log(log 64 / log 32) / log 2
    assert payload["l"] == 2 and payload["law"] == "d log d"
    assert abs(payload["predicted_exponent"] - (1 + np.log(np.log(64) / np.log(32)) / np.log(2))) \
        < 1e-12
    # typical = geometric mean of the per-seed escape steps (every seed escaped here)
    steps = np.array(payload["steps"], float)
    assert np.all(np.isfinite(steps))
    np.testing.assert_allclose(payload["typical"], np.exp(np.log(steps).mean(axis=1)), rtol=1e-12)
    # the fitted exponent is the two-point slope and agrees with the law within 3 standard
    # errors (4 seeds: a standard error of about 0.2)
    fit = payload["fit"]
    slope = np.log(payload["typical"][1] / payload["typical"][0]) / np.log(2)
    assert abs(fit["exponent"] - slope) < 1e-9
    assert abs(fit["exponent"] - payload["predicted_exponent"]) < 3 * fit["stderr"]
    assert f"fitted exponent of steps in d: {fit['exponent']:+.3f}" in text


def test_scaling_cli_refuses_more_than_three_directions(capsys):
    assert main(["scaling", "z1*z2*z3*z4", "--engine", "gram", "--d", "32", "64"]) == 2
    err = capsys.readouterr().err
    assert "at most 3 directions" in err and len(err.strip().splitlines()) == 1
