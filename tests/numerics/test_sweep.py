"""Sweeps: the spec, the store, resuming, failures, the command line (with the cheap toy task,
whose numbers are written independently in _toy_task.expected)."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import xarray as xr
from _toy_task import ToyTask, expected

from escalier.numerics.cli import main
from escalier.numerics.sweep import TASKS, Sweep, run_sweep, sweep_status

HERE = pathlib.Path(__file__).resolve().parent


@pytest.fixture
def toy(monkeypatch):
    monkeypatch.setitem(TASKS, "toy", ToyTask)  # registering a task kind is one line
    return ToyTask


def toy_sweep(**fixed):
    return Sweep("toy", fixed={"seed": 7, **fixed}, axes={"x": [0.0, 1.0, 2.5], "n": [2, 3],
                                                          "seeds": 4})


def check_against_formula(path, sweep):
    ds = xr.open_zarr(path).load()
    for x in sweep.axes["x"]:
        for n in sweep.axes["n"]:
            value, curve = expected(x, n, sweep.fixed["seed"], sweep.seeds)
            np.testing.assert_allclose(ds["value"].sel(x=x, n=n).values, value, rtol=1e-14)
            np.testing.assert_allclose(ds["curve"].sel(x=x, n=n).values[:, :n], curve,
                                       rtol=1e-14, atol=1e-15)
            assert np.isnan(ds["curve"].sel(x=x, n=n).values[:, n:]).all()  # padded


# -- the spec ----------------------------------------------------------------------------------


SPEC = """
task = "toy"
description = "a toy sweep"
[fixed]
seed = 7
[axes]
x = [0.0, 1.0, 2.5]
n = [2, 3]
seeds = 4
"""


def test_toml_spec_is_the_python_object(toy, tmp_path):
    path = tmp_path / "toy.toml"
    path.write_text(SPEC)
    s = Sweep.from_toml(path)
    assert s == Sweep("toy", {"seed": 7}, {"x": [0.0, 1.0, 2.5], "n": [2, 3], "seeds": 4},
                      description="a toy sweep")
    assert Sweep.from_dict(s.to_dict()) == s
    assert s.grid_axes == ("x", "n") and s.shape == (3, 2) and len(s) == 6 and s.seeds == 4
    points = list(s.points())
    assert [p.index for p in points][:3] == [(0, 0), (0, 1), (1, 0)]
    assert points[1].params == {"x": 0.0, "seed": 7, "n": 3, "sleep": 0.0, "fail": 1e9}
    assert points[2].params["x"] == 1.0 and points[2].params["n"] == 2
    # keys: one per configuration, stable across processes, changed by any parameter
    assert len({p.key for p in points}) == 6
    assert Sweep("toy", {"seed": 8}, s.axes).task_key(points[0].params) == points[0].key
    assert s.task_key({**points[0].params, "seed": 8}) != points[0].key


@pytest.mark.parametrize("data, where", [
    ({"task": "nope"}, "task: unknown task 'nope'; accepted: ["),
    ({"task": "toy", "axes": {"x": [1.0]}, "colour": 1}, "colour: unknown key; accepted: task,"),
    ({"task": "toy", "fixed": {"y": 1}, "axes": {"x": [1.0]}}, "fixed.y: unknown parameter; "
                                                               "accepted: x, n, sleep, fail, seed"),
    ({"task": "toy", "axes": {"x": 1.0}}, "axes.x: must be a non-empty list of values, got 1.0"),
    ({"task": "toy", "axes": {"x": []}}, "axes.x: must be a non-empty list"),
    ({"task": "toy", "axes": {"x": [1.0, -2.0]}}, "axes.x[1]: must be a number >= 0, got -2.0"),
    ({"task": "toy", "axes": {"x": [1.0, 1]}}, "axes.x: values must not repeat"),
    ({"task": "toy", "fixed": {"x": 1.0}, "axes": {"x": [2.0]}}, "axes.x: also given in [fixed]"),
    ({"task": "toy", "axes": {"x": [1.0], "seeds": 0}}, "axes.seeds: must be an integer >= 1"),
    ({"task": "toy", "axes": {"x": [1.0], "seed": [0, 1]}}, "axes.seed: the base PRNG seed "
                                                            "cannot be an axis"),
    ({"task": "toy", "fixed": {"n": 2.5}, "axes": {"x": [1.0]}}, "fixed.n: must be an integer"),
    ({"task": "toy"}, "fixed: task 'toy' needs ['x'] (in [fixed] or [axes])"),
    ({"task": "escape", "fixed": {"target": "z1*z2*z3*z4", "lr": 1.0}, "axes": {"d": [8]}},
     "task 'escape' takes targets of at most 3 directions"),
])
def test_bad_spec_is_one_line_naming_the_key(toy, data, where):
    with pytest.raises(ValueError) as err:
        Sweep.from_dict(data)
    assert where in str(err.value) and "\n" not in str(err.value)


def test_bad_spec_on_the_command_line_is_exit_status_2(toy, tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('task = "toy"\n[axes]\nx = [1.0]\nd = [3]\n')
    assert main(["sweep", "run", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("escalier sweep: error: axes.d: unknown parameter") and "\n" not in err
    path.write_text("task = \n")
    assert main(["sweep", "run", str(path)]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    assert main(["sweep", "status", str(tmp_path / "none.zarr")]) == 2
    assert "no sweep store" in capsys.readouterr().err


# -- running and storing ---------------------------------------------------------------------


def test_run_twice_the_second_does_nothing(toy, tmp_path):
    s = toy_sweep()
    out = tmp_path / "s.zarr"
    first = run_sweep(s, out, workers=0, progress=False)
    assert (first.total, first.already_done, first.ran, first.failed) == (6, 0, 6, 0)
    check_against_formula(out, s)
    stamp = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    second = run_sweep(s, out, workers=0, progress=False)
    assert (second.already_done, second.ran) == (6, 0)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == stamp


def test_reload_with_xarray_carries_the_configuration(toy, tmp_path):
    from escalier.derive import __version__

    s = toy_sweep()
    out = tmp_path / "s.zarr"
    run_sweep(s, out, workers=0, progress=False)
    ds = xr.open_zarr(out)  # all a user needs
    assert Sweep.from_dict(json.loads(ds.attrs["escalier_sweep"])) == s
    assert ds.attrs["escalier_version"] == __version__ and ds.attrs["task"] == "toy"
    assert ds["value"].dims == ("x", "n", "seed") and ds["curve"].dims[-1] == "record"
    assert list(ds["x"].values) == [0.0, 1.0, 2.5]
    assert (ds["status"].values == 1).all() and (ds["devices"].values == 1).all()
    keys = {p.index: p.key for p in s.points()}
    assert all(ds["task_key"].values[i] == k for i, k in keys.items())


def test_axis_changing_a_shape_is_padded_with_nan(toy, tmp_path):
    s = Sweep("toy", fixed={"x": 1.0}, axes={"n": [2, 4], "seeds": 2})
    out = tmp_path / "p.zarr"
    run_sweep(s, out, workers=0, progress=False)
    curve = xr.open_zarr(out)["curve"].load()
    assert curve.sizes["record"] == 4
    _, c2 = expected(1.0, 2, 0, 2)
    np.testing.assert_allclose(curve.sel(n=2).values[:, :2], c2, rtol=1e-14)
    assert np.isnan(curve.sel(n=2).values[:, 2:]).all()
    assert np.isfinite(curve.sel(n=4).values).all()


def test_a_raising_task_is_recorded_and_the_others_complete(toy, tmp_path):
    s = toy_sweep(fail=1.0)
    out = tmp_path / "f.zarr"
    r = run_sweep(s, out, workers=0, progress=False)
    assert (r.ran, r.failed) == (6, 2)
    assert r.failures[0] == ({"x": 1.0, "n": 2}, "RuntimeError: toy failure at x = 1.0")
    st = sweep_status(out)
    assert (st.done, st.failed, st.pending) == (4, 2, 0)
    assert [c for c, _ in st.failures] == [{"x": 1.0, "n": 2}, {"x": 1.0, "n": 3}]
    ds = xr.open_zarr(out).load()
    assert np.isnan(ds["value"].sel(x=1.0).values).all()
    for x in (0.0, 2.5):
        np.testing.assert_allclose(ds["value"].sel(x=x, n=3).values, expected(x, 3, 7, 4)[0],
                                   rtol=1e-14)
    again = run_sweep(s, out, workers=0, progress=False)  # failures are not retried ...
    assert (again.ran, again.skipped_failed) == (0, 2)
    retried = run_sweep(s, out, workers=0, progress=False, retry_failed=True)  # ... unless asked
    assert (retried.ran, retried.failed) == (2, 2)


def test_another_sweep_in_the_same_store_is_refused(toy, tmp_path):
    out = tmp_path / "s.zarr"
    run_sweep(toy_sweep(), out, workers=0, progress=False)
    with pytest.raises(ValueError, match="holds another sweep"):
        run_sweep(toy_sweep(seed=8), out, workers=0, progress=False)
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "file").write_text("x")
    with pytest.raises(ValueError, match="not a sweep store"):
        run_sweep(toy_sweep(), tmp_path / "junk", workers=0, progress=False)


def test_a_second_writer_is_refused(toy, tmp_path):
    from escalier.numerics.sweep import lock_store

    out = tmp_path / "s.zarr"
    with lock_store(out):  # as a sweep running in another process holds it
        with pytest.raises(ValueError, match="another process is writing the sweep store"):
            run_sweep(toy_sweep(), out, workers=0, progress=False)
    assert run_sweep(toy_sweep(), out, workers=0, progress=False).ran == 6  # released


@pytest.mark.slow  # about 30 s on two loaded cores: a subprocess imports JAX, then is killed
def test_killed_sweep_resumes_and_equals_an_uninterrupted_run(toy, tmp_path):
    spec = tmp_path / "kill.toml"
    spec.write_text('task = "toy"\n[fixed]\nsleep = 0.3\nn = 3\n[axes]\n'
                    'x = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]\nseeds = 3\n')
    killed = tmp_path / "killed.zarr"
    proc = subprocess.Popen([sys.executable, str(HERE / "_sweep_script.py"), str(spec),
                             str(killed), "0"], env={**os.environ, "JAX_PLATFORMS": "cpu"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    done = 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
        try:
            done = int((xr.open_zarr(killed)["status"].values == 1).sum())
        except Exception:  # not created yet
            continue
        if done >= 3:
            break
    assert proc.poll() is None, "the sweep ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 3 <= done < 10
    sweep = Sweep.from_toml(spec)
    resumed = run_sweep(sweep, killed, workers=0, progress=False)
    assert resumed.already_done >= done and resumed.ran == 10 - resumed.already_done
    whole = tmp_path / "whole.zarr"
    run_sweep(sweep, whole, workers=0, progress=False)
    a, b = xr.open_zarr(killed).load(), xr.open_zarr(whole).load()
    for name in ("value", "curve", "status", "task_key"):
        assert a[name].equals(b[name]), name  # exactly
    assert a.attrs == b.attrs


# -- Dask ----------------------------------------------------------------------------------


@pytest.mark.slow  # about 30 s on two loaded cores: two worker processes import JAX
def test_local_cluster_with_two_worker_processes_equals_this_process(toy, tmp_path):
    s = toy_sweep()
    run_sweep(s, tmp_path / "inline.zarr", workers=0, progress=False)
    r = run_sweep(s, tmp_path / "dask.zarr", workers=2, progress=False)
    assert r.executor == "LocalCluster(2 processes)" and r.ran == 6
    a, b = xr.open_zarr(tmp_path / "inline.zarr").load(), xr.open_zarr(tmp_path / "dask.zarr").load()
    assert a["value"].equals(b["value"]) and a["curve"].equals(b["curve"])
    workers = set(b["worker"].values.ravel().tolist())
    assert len(workers) <= 2 and all(w != f"{os.uname().nodename}:{os.getpid()}" for w in workers)


def test_a_running_scheduler_by_address_with_a_failing_task(toy, tmp_path):
    from distributed import LocalCluster

    s = toy_sweep(fail=2.5)
    inline = run_sweep(s, tmp_path / "inline.zarr", workers=0, progress=False)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                      dashboard_address=":0") as cluster:
        r = run_sweep(s, tmp_path / "remote.zarr", scheduler=cluster.scheduler_address,
                      progress=False)
        # the same scheduler through a scheduler file (what `dask scheduler --scheduler-file`
        # writes: JSON with its address)
        sched = tmp_path / "scheduler.json"
        sched.write_text(json.dumps({"address": cluster.scheduler_address}))
        f = run_sweep(s, tmp_path / "file.zarr", scheduler=str(sched), progress=False)
    assert r.executor == f"scheduler {cluster.scheduler_address}"
    assert (r.ran, r.failed) == (6, 2) and (f.ran, f.failed) == (6, 2)
    assert sorted(r.failures, key=str) == sorted(inline.failures, key=str)  # the task's own error
    a = xr.open_zarr(tmp_path / "inline.zarr").load()
    for other in ("remote.zarr", "file.zarr"):
        b = xr.open_zarr(tmp_path / other).load()
        for name in ("value", "curve", "status", "error"):
            assert a[name].equals(b[name]), (other, name)


# -- the command line ------------------------------------------------------------------------


def test_command_line_run_status_plot(toy, tmp_path, capsys):
    spec = tmp_path / "toy.toml"
    spec.write_text(SPEC)
    out = tmp_path / "cli.zarr"
    assert main(["sweep", "run", str(spec), "--out", str(out), "--workers", "0",
                 "--no-progress", "--json", str(tmp_path / "r.json")]) == 0
    assert "6 run now (0 failed)" in capsys.readouterr().out
    assert json.loads((tmp_path / "r.json").read_text())["ran"] == 6
    assert main(["sweep", "status", str(out)]) == 0
    text = capsys.readouterr().out
    assert "6/6 done, 0 failed, 0 pending" in text and "JAX devices per task: 1" in text
    png = tmp_path / "v.png"
    assert main(["sweep", "plot", str(out), "--x", "x", "--y", "value", "--hue", "n",
                 "--out", str(png)]) == 0
    assert png.stat().st_size > 10_000
    assert main(["sweep", "plot", str(out), "--x", "x", "--y", "value", "--out",
                 str(png)]) == 2
    assert "axis 'n' has 2 values: select one with --sel n=VALUE" in capsys.readouterr().err
    assert main(["sweep", "plot", str(out), "--x", "x", "--y", "value", "--sel", "n=3",
                 "--out", str(png)]) == 0
    assert main(["sweep", "plot", str(out), "--x", "d", "--y", "value", "--out", str(png)]) == 2
    assert "--x 'd' is not an axis of the sweep; axes: ['x', 'n']" in capsys.readouterr().err
