"""The sweep's real task kinds (escape on the gram engine, simulate) against direct calls of
the engines, and the seed axis sharded over 4 XLA host devices against one device."""

import json
import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest
import sympy as sp
import xarray as xr

from escalier.derive import Scenario, Target
from escalier.numerics.simulation import EscapeThreshold, GramEngine, simulate
from escalier.numerics.sweep import Sweep, run_sweep


@pytest.mark.slow  # two gram-chain compilations, about 30 s on two loaded cores
def test_escape_task_rate_rule_and_numbers(tmp_path):
    s = Sweep("escape", fixed={"target": "He3(z1)", "max_steps": 400, "seed": 3},
              axes={"d": [16, 36], "lr": [0.8], "seeds": 4})
    run_sweep(s, tmp_path / "e.zarr", workers=0, progress=False)
    ds = xr.open_zarr(tmp_path / "e.zarr").load()
    # He3 with its own link: information exponent l = 3, lr = lr0 d^{-(l-2)/2} (hand-written)
    np.testing.assert_allclose(ds["lr_used"].sel(lr=0.8).values, [0.8 / 4, 0.8 / 6], rtol=1e-15)
    keys = jax.random.split(jax.random.key(3), 4)
    target = Target.parse("He3(z1)")
    link = target.expr.subs(target.variables[0], sp.Symbol("x", real=True))
    for d in (16, 36):
        sc = Scenario(target, student=link, p=1, lr=0.8 / np.sqrt(d),
                      loss="correlation", spherical=True)
        steps, m0 = GramEngine().first_passage(sc, d, keys, EscapeThreshold(0.5, 4), limit=400)
        steps = np.where(steps <= 400, steps, np.nan)
        got = ds["escape_steps"].sel(d=d, lr=0.8).values
        np.testing.assert_array_equal(got, steps)
        np.testing.assert_array_equal(ds["m0"].sel(d=d, lr=0.8).values, m0)
        # m0 ~ N(0, 1/d) on the sphere: |m0| < 1 always, and the escapes are after step 0
        # unless |m0| >= 1/2 already
        assert np.all(np.abs(m0) < 1)
        assert np.all((got == 0) == (np.abs(m0) >= 0.5))


def test_escape_task_multi_index_equals_the_event_loop(tmp_path):
    """z1*z2*z3: default student He3 (information exponent 3, the link of no single
    direction), lr = lr0 d^{-1/2}, escape of |M_1.| = |(M_11, M_12, M_13)| (P = I), the
    stored m0 the start's |M_1.|; against GramEngine.first_passage called directly."""
    s = Sweep("escape", fixed={"target": "z1*z2*z3", "max_steps": 300, "seed": 2,
                               "threshold": 0.6},
              axes={"d": [16], "lr": [1.0], "seeds": 3})
    run_sweep(s, tmp_path / "m.zarr", workers=0, progress=False)
    ds = xr.open_zarr(tmp_path / "m.zarr").load()
    np.testing.assert_allclose(ds["lr_used"].values.ravel(), [1.0 / 4], rtol=1e-15)
    sc = Scenario("z1*z2*z3", student="He3", p=1, lr=0.25, loss="correlation",
                  spherical=True)
    keys = jax.random.split(jax.random.key(2), 3)
    steps, M0 = GramEngine().first_passage(sc, 16, keys, EscapeThreshold(0.6, 3), limit=300)
    np.testing.assert_array_equal(ds["escape_steps"].values.ravel(),
                                  np.where(steps <= 300, steps, np.nan))
    assert M0.shape == (3, 3)
    assert np.all((steps >= 1) & (steps <= 300))  # all escape, none at the start (|M0| < 0.6)
    np.testing.assert_allclose(ds["m0"].values.ravel(), np.sqrt(np.sum(M0**2, axis=1)),
                               rtol=1e-14)


@pytest.mark.slow  # one gram compilation per point
def test_simulate_task_equals_simulate(tmp_path):
    s = Sweep("simulate", fixed={"target": "He2(z1)", "p": 1, "time": 1.0, "n_records": 4,
                                 "lr": 0.5},
              axes={"d": [8, 12], "seeds": 3})
    run_sweep(s, tmp_path / "s.zarr", workers=0, progress=False)
    ds = xr.open_zarr(tmp_path / "s.zarr").load()
    for d in (8, 12):
        r = simulate(Scenario("He2(z1)", p=1, lr=0.5), d, 1.0, seeds=3, seed=0, n_records=4,
                     engine="gram", progress=False)
        np.testing.assert_array_equal(ds["M"].sel(d=d).values, r.M)
        np.testing.assert_array_equal(ds["Q"].sel(d=d).values, r.Q)
        np.testing.assert_array_equal(ds["time"].sel(d=d).values, r.times)


SHARDED = textwrap.dedent("""
    import json, sys
    import jax
    jax.config.update("jax_enable_x64", True)
    import numpy as np
    from escalier.numerics.sweep import EscapeTask, SimulateTask, Sweep, run_sweep, seed_keys

    out = {"devices": len(jax.devices())}
    def params(task, **fixed):
        return next(Sweep(task, fixed=fixed).points()).params

    tasks = {
        "escape": (EscapeTask(), params("escape", target="He3(z1)", d=16, lr=1.0,
                                        max_steps=300)),
        "simulate": (SimulateTask(), params("simulate", target="He2(z1)", p=1, d=8, time=1.0,
                                            n_records=4, lr=0.5)),
    }
    for name, (kind, params) in tasks.items():
        sharded, n = seed_keys(0, 8)
        single, n1 = seed_keys(0, 8, devices=jax.devices()[:1])
        a, b = kind.run(params, sharded), kind.run(params, single)
        out[name] = {"n": n, "n1": n1, "shards": len(sharded.sharding.device_set),
                     "equal": all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)}
    r = run_sweep(Sweep("escape", fixed={"target": "He3(z1)", "max_steps": 300},
                        axes={"d": [16], "lr": [1.0], "seeds": 6}), sys.argv[1], workers=0,
                  progress=False)
    out["report_devices"] = list(r.devices)
    print(json.dumps(out))
""")


@pytest.mark.slow  # a subprocess with 4 host devices, four gram compilations
def test_seed_axis_sharded_over_four_devices_equals_one_device(tmp_path):
    env = {**os.environ, "JAX_PLATFORMS": "cpu",
           "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    r = subprocess.run([sys.executable, "-c", SHARDED, str(tmp_path / "x.zarr")], env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["devices"] == 4
    for name in ("escape", "simulate"):
        assert out[name] == {"n": 4, "n1": 1, "shards": 4, "equal": True}, name
    assert out["report_devices"] == [3]  # 6 seeds: the largest divisor <= 4 devices
