"""`escalier landscape` and `escalier hessian` end to end, with tiny arguments."""

import json
import math

import pytest

from escalier.numerics.cli import main


def test_landscape_pspin_json(capsys, tmp_path):
    fig = tmp_path / "c.png"
    assert main(["landscape", "pspin", "--p", "3", "--k-max", "2", "--json", "--plot", str(fig)]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["p"] == 3
    assert payload["E_inf"] == pytest.approx(2 * math.sqrt(2 / 3), rel=1e-15)
    # ABC 2013: E_0 = 1.656998, E_1 = 1.652873 (p = 3)
    assert payload["E"][:2] == pytest.approx([1.656998, 1.652873], abs=5e-7)
    assert len(payload["E"]) == 3 and len(payload["E_digits"][0]) >= 30
    # Theta_p(-E_inf) = log(p-1)/2 - (p-2)/p, by hand
    assert payload["theta_at_minus_E_inf"] == pytest.approx(math.log(2) / 2 - 1 / 3, abs=1e-15)
    assert fig.stat().st_size > 10_000


@pytest.mark.slow
def test_landscape_sample_json(capsys):
    assert main(["landscape", "sample", "--p", "3", "--N", "12", "--starts", "8", "--gd-steps",
                 "100", "--newton-steps", "30", "--batch", "8", "--k-max", "1", "--json",
                 "--no-progress"]) == 0
    payload = json.loads(capsys.readouterr().out)
    pts = payload["critical_points"]
    assert pts and all(set(q) == {"energy", "index"} for q in pts)
    fr = payload["fraction_beyond_band_edge"]
    assert [f["k"] for f in fr] == [0, 1]
    assert sum(f["n"] for f in fr) == sum(q["index"] <= 1 for q in pts)


@pytest.mark.parametrize("argv, words", [
    (["landscape", "pspin", "--p", "1"], "argument --p: '1' is out of range: need >= 2"),
    (["landscape", "sample", "--N", "2000", "--no-progress"], "GiB"),
    (["hessian", "--dataset", "mnist"], "not shipped"),
    (["hessian", "--ensemble", "goe", "--N", "2"], "argument --N: '2' is out of range: need >= 3"),
    (["hessian", "--p", "200", "--max-params", "1000"], "--max-params"),
])
def test_bad_input_exits_2_with_a_message(argv, words, capsys):
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(argv))
    assert exc.value.code == 2
    assert words in capsys.readouterr().err


def test_hessian_ensemble_poisson_json(capsys):
    assert main(["hessian", "--ensemble", "poisson", "--N", "200", "--samples", "10", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["n_levels"] == 10 * 160
    assert payload["references"]["poisson"] == pytest.approx(2 * math.log(2) - 1)
    r, err = payload["spacing_ratio"], payload["spacing_ratio_error"]
    assert abs(r - payload["references"]["poisson"]) < 4 * err


def test_hessian_network_json(capsys):
    assert main(["hessian", "He2(z1)", "--p", "6", "--d", "12", "--n-train", "100", "--steps",
                 "20", "--json", "--no-progress"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["n_params"] == 12 * 6 + 6
    assert [s["step"] for s in payload["snapshots"]] == [0, 2, 20]
    assert {"spacing_ratio", "spacing_ratio_error", "n_levels", "references"} <= set(payload)
    assert 0 < payload["spacing_ratio"] < 1
    assert payload["references"]["goe_sampled"]["n_levels"] > 0
