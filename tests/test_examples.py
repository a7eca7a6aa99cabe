"""Every example runs end to end with tiny arguments (numpyro's test_examples habit)."""

import pathlib
import runpy

import pytest

import escalier.numerics.simulate as simulate_pkg

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"

def _has_ode_system() -> bool:
    import escalier.derive

    if hasattr(escalier.derive, "ode_system"):
        return True
    try:
        from escalier.derive.ode import ode_system  # noqa: F401
    except ImportError:
        return False
    return True


TINY = {
    "saad_solla_plateau.py": ["--d", "30", "--time", "3", "--seeds", "2", "--records", "15"],
    "collapse_digits.py": ["--epochs", "6", "--every", "2", "--width", "16", "--depth", "2"],
    "ce_low_rank_boundary.py": ["--K", "2", "--L", "2", "--restarts", "1"],
    "ufm_hessian_spectrum.py": ["--K", "2", "--L", "2", "--width", "3", "--n", "1",
                                "--restarts", "2"],
}


def test_every_example_has_tiny_arguments():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(TINY)


@pytest.mark.parametrize("name", sorted(TINY))
def test_example_runs(name, tmp_path, capsys):
    if not hasattr(simulate_pkg, "simulate") or not _has_ode_system():
        pytest.skip("needs escalier.numerics.simulate.simulate and the ODE systems")
    module = runpy.run_path(str(EXAMPLES / name), run_name="example")
    out = tmp_path / "figure.png"
    assert module["main"]([*TINY[name], "--out", str(out)]) == 0
    assert out.stat().st_size > 10_000
    assert "wrote" in capsys.readouterr().out
