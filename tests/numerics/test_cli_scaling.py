"""`escalier scaling` end to end on the exact gram engine, with tiny arguments."""

import json

from escalier.numerics.cli import main


def test_scaling_cli_writes_json_and_plot(tmp_path, capsys):
    out, fig = tmp_path / "s.json", tmp_path / "s.png"
    rc = main(["scaling", "He2(z1)", "--engine", "gram", "--d", "32", "64", "--seeds", "4",
               "--no-progress", "--json", str(out), "--plot", str(fig)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "information exponent" in text and "l = 2" in text and "fitted exponent" in text
    payload = json.loads(out.read_text())
    assert payload["command"]["engine"] == "gram" and fig.stat().st_size > 0


def test_scaling_cli_refuses_multi_index(capsys):
    assert main(["scaling", "z1*z2", "--engine", "gram", "--d", "32", "64"]) == 2
    assert "single" in capsys.readouterr().err
