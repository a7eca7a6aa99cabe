"""Every example runs end to end with tiny arguments (numpyro's test_examples habit)."""

import pathlib
import runpy

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"

TINY = {
    "batch_size_knee.py": ["--d", "16", "--ratios", "0.5", "2", "8", "--seeds", "2",
                           "--loss", "correlation"],
    "saad_solla_plateau.py": ["--d", "30", "--time", "3", "--seeds", "2", "--records", "15"],
    "sos_committee.py": ["--starts", "2", "--time", "20", "--local", "5", "--no-exact"],
    "erm_universality.py": ["--d", "60", "--seeds", "1", "--alphas", "0.5", "2"],
    "pspin_banding.py": ["--N", "12", "16", "--starts", "8", "--gd-steps", "100", "--k-max", "1"],
    "hessian_local_statistics.py": ["--p", "4", "--n-train", "300", "--steps", "30"],
    "collapse_digits.py": ["--epochs", "6", "--every", "2", "--width", "16", "--depth", "2"],
    "ce_low_rank_boundary.py": ["--K", "2", "--L", "2", "--restarts", "1"],
    "depth_advantage.py": ["--d", "16", "--kappa", "2", "--seeds", "1"],
    "reuse_advantage.py": ["--d", "256", "--samples", "2", "--seeds", "2", "--records", "4"],
    "dmft_vs_simulation.py": ["--d", "24", "--time", "0.4", "--steps", "4", "--samples",
                              "100", "--seeds", "2"],
    "giant_step_subspaces.py": ["--d", "30", "--seeds", "2", "--alpha", "2"],
    "spiked_spectrum.py": ["--p", "60", "--d", "80"],
    "ridge_after_step.py": ["--p", "40", "--d", "40", "--seeds", "2", "--alphas-ridge", "1",
                            "2"],
    "ufm_hessian_spectrum.py": ["--K", "2", "--L", "2", "--width", "3", "--n", "1",
                                "--restarts", "2"],
    "sweep_he3_escape.py": ["--d", "16", "--lr", "1", "--seeds", "4", "--max-steps",
                            "3000", "--workers", "0"],
}


def test_every_example_has_tiny_arguments():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(TINY)


@pytest.mark.parametrize("name", sorted(TINY))
def test_example_runs(name, tmp_path, capsys):
    module = runpy.run_path(str(EXAMPLES / name), run_name="example")
    out = tmp_path / "figure.png"
    assert module["main"]([*TINY[name], "--out", str(out)]) == 0
    assert out.stat().st_size > 10_000
    assert "wrote" in capsys.readouterr().out
