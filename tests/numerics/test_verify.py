"""The simulated network against its derived ODE (verify) and the `escalier verify` command."""

import json

import numpy as np
import pytest

from escalier.derive import Scenario, targets

SCENARIO = Scenario(targets.committee("erf", 2), student="erf", p=2, lr=1.0)
D, TIME, SEEDS = 400, 2.0, 16


@pytest.fixture(scope="module")
def verification():
    from escalier.numerics.verify import verify

    return verify(SCENARIO, [D], TIME, seeds=SEEDS, seed=3, n_records=20)


def test_simulation_follows_its_ode(verification):
    """Mean over seeds of sim - ODE at the final time is 0 up to its standard error.

    Each seed's ODE starts from that seed's overlaps, so sim - ODE is the fluctuation of
    online SGD: mean zero up to a bias O(1/d) (0.0025 here), standard deviation
    O(sqrt(t / d)) across independent seeds. A wrong drift (e.g. a wrong eta^2 term) gives
    an O(t) bias. With 8 quantities checked at 4 standard errors the false-alarm rate is
    below 1e-3 (Gaussian tails); the bias term adds 1/d to the allowance.
    """
    run = verification.runs[0]
    diff = np.concatenate([run.sim - run.ode, (run.sim_risk - run.ode_risk)[..., None]], -1)
    final = diff[:, -1]
    mean, se = final.mean(0), final.std(0, ddof=1) / np.sqrt(SEEDS)
    assert np.all(np.abs(mean) < 4 * se + 1.0 / D), (mean, se)


def test_deviation_is_of_order_inverse_square_root_of_d(verification):
    """max_t |sim - ODE| is O(d^-1/2): its seed mean stays below 3 / sqrt(d) = 0.15.

    Over t <= 2 the overlaps diffuse with variance ~ t E[increment^2] / d, with
    E[increment^2] <= 2 for these O(1) overlaps and lr = 1 (Q has the largest); the sup over
    the 20 records of a Brownian-like path is ~1.3 standard deviations: about 2.6 / sqrt(d)
    at most, so 3 / sqrt(d) fails only for an O(1) error.
    """
    table = verification.table
    assert table.ds == (D,)
    assert np.all(table.mean < 3 / np.sqrt(D)), table.to_text()
    assert verification.names == ("Q11", "Q12", "Q22", "M11", "M12", "M21", "M22")


def test_verify_command_writes_json_and_plot(tmp_path, verification):
    import argparse

    from escalier.numerics.cli import _verify

    parser = argparse.ArgumentParser()
    _verify.add_arguments(parser)
    out_json, out_png = tmp_path / "v.json", tmp_path / "v.png"
    # the fixture's configuration: the compiled simulation and ODE are reused
    args = parser.parse_args(["--d", str(D), "--time", str(TIME), "--seeds", str(SEEDS),
                              "--seed", "3", "--records", "20", "--no-progress",
                              "--json", str(out_json), "--plot", str(out_png)])
    assert _verify.run(args) == 0
    data = json.loads(out_json.read_text())
    assert data["config"]["d"] == [D] and data["config"]["seeds"] == SEEDS
    assert data["table"]["names"][-1] == "R" and len(data["table"]["mean"][0]) == 8
    # the table is the library's, for the same seeds (reproducible), and its deviations are
    # O(d^-1/2) (see test_deviation_is_of_order_inverse_square_root_of_d)
    np.testing.assert_allclose(np.array(data["table"]["mean"]), verification.table.mean,
                               rtol=1e-10, atol=1e-14)
    assert np.all(np.array(data["table"]["mean"]) < 3 / np.sqrt(D))
    assert data["command"]["time"] == TIME
    assert out_png.stat().st_size > 10_000


def test_verify_rejects_bad_input():
    from escalier.numerics.verify import verify

    with pytest.raises(ValueError, match="at least one dimension"):
        verify(SCENARIO, [], 1.0)


def test_best_lr_matches_the_hand_derived_drift():
    """He2 target, He2 student, spherical, correlation loss: by hand (docs/theory.md §4),
    dm/dt = 4 eta m - 4 eta m^3 - eta^2 m (16 m^2 + 4), so (dm/dt)/m = eta A - eta^2 B with
    A = 4 - 4 m^2, B = 4 + 16 m^2 and the best rate is A / (2 B)."""
    from escalier.numerics.verify import best_lr, ode_functions

    sc = Scenario("He2(z1)", student="He2", p=1, loss="correlation", spherical=True)
    fns = ode_functions(sc)
    for m in (1e-3, 0.1, 0.3):
        assert best_lr(fns, m) == pytest.approx((4 - 4 * m**2) / (2 * (4 + 16 * m**2)),
                                                rel=1e-9)


@pytest.mark.slow
def test_escape_scaling_he2_end_to_end():
    """Steps to |m| = 1/2 for He2 grow like d log d: over d = 64..256 the fitted exponent
    must be within 3 standard errors (or 0.4) of the predicted 1.2."""
    from escalier.numerics.verify import escape_scaling

    r = escape_scaling("He2(z1)", ds=(64, 128, 256), seeds=8, seed=1, n_records=200)
    assert r.law.l == 2 and np.all(np.isfinite(r.typical))
    assert abs(r.fit.exponent - r.predicted) < max(3 * r.fit.stderr, 0.4), r.to_text()
