"""A 64-point sweep of gram-engine escape runs (He3, d x lr prefactor, 8 seeds each): wall time
of `run_sweep` on a LocalCluster with 1 and 2 worker processes against a plain Python loop of
the same calls, in this process; then the per-task overhead of the scheduler and the store.

Run: python benchmarks/sweep.py [--d 16 24 32 48 64 96 128 192] [--lr 0.5 ...] [--seeds 8]
     [--max-steps 20000] [--workers 1 2] [--noop 64]

Baseline: for each point, the Scenario and GramEngine().first_passage call the escape task
makes (escalier's public API), one after the other in this process, results kept in a list.
Sweep: `run_sweep(spec, DIR, workers=N)` (LocalCluster of N worker processes started by the
call, results written to a fresh Zarr store per task), timed end to end: cluster start-up and
store writes included. The numbers of every run are checked equal to the loop's. Each task
compiles its own gram chain (d and the learning rate are constants of the compiled chain),
so the work is dominated by XLA compilation, which parallelises across processes.

Overhead: `--noop` tasks that return at once, through run_sweep on one worker (per task:
submit, schedule, run, send back, write the region) and through bare Dask futures on a warm
cluster (client.submit + result).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import tempfile
import time

import numpy as np

os.environ.setdefault("JAX_ENABLE_X64", "1")


def loop(points, seeds):
    """The same calls as the sweep's escape task, in a plain loop (public API only)."""
    import jax
    import sympy as sp

    from escalier.derive import Scenario, Target
    from escalier.numerics.simulation import EscapeThreshold, GramEngine

    out = []
    for p in points:
        t = Target.parse(p["target"])
        link = t.expr.xreplace({t.variables[0]: sp.Symbol("x", real=True)})
        lr = p["lr"] / math.sqrt(p["d"])  # He3: l = 3, lr = lr0 d^{-1/2}
        sc = Scenario(t, student=link, p=1, lr=lr, loss="correlation", spherical=True)
        keys = jax.random.split(jax.random.key(p["seed"]), seeds)
        steps, _ = GramEngine().first_passage(sc, p["d"], keys, EscapeThreshold(0.5, seeds),
                                              limit=p["max_steps"])
        out.append(np.where(steps <= p["max_steps"], steps, np.nan))
    return out


def main(argv=None) -> int:
    import jax

    jax.config.update("jax_enable_x64", True)
    import xarray as xr

    from escalier.numerics.sweep import TASKS, Observable, Param, Sweep, TaskKind, run_sweep

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--d", type=int, nargs="+", default=[16, 24, 32, 48, 64, 96, 128, 192])
    ap.add_argument("--lr", type=float, nargs="+",
                    default=[0.5, 0.7, 1.0, 1.4, 2.0, 2.8, 4.0, 5.6])
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--max-steps", type=int, default=20000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--noop", type=int, default=64, help="no-op tasks for the overhead")
    args = ap.parse_args(argv)

    spec = Sweep("escape", fixed={"target": "He3(z1)", "max_steps": args.max_steps},
                 axes={"d": args.d, "lr": args.lr, "seeds": args.seeds})
    points = list(spec.points())
    n = len(points)
    print(f"{n} points (d = {args.d}, lr0 = {args.lr}), {args.seeds} seeds each, He3 escape on "
          f"the gram engine, max {args.max_steps} steps; {os.cpu_count()} CPU cores, load "
          f"average {os.getloadavg()[0]:.1f} at the start")
    clock = time.perf_counter()
    ref = loop([p.params for p in points], args.seeds)
    t_loop = time.perf_counter() - clock
    print(f"plain Python loop of the same calls: {t_loop:.1f} s ({t_loop / n:.2f} s per point)")

    tmp = tempfile.mkdtemp(prefix="escalier-bench-sweep-")
    rows = []
    try:
        for w in args.workers:
            path = os.path.join(tmp, f"w{w}.zarr")
            clock = time.perf_counter()
            r = run_sweep(spec, path, workers=w, progress=False)
            t = time.perf_counter() - clock
            ds = xr.open_zarr(path).load()
            got = [ds["escape_steps"].values[p.index] for p in points]
            same = all(np.array_equal(a, b, equal_nan=True) for a, b in zip(got, ref, strict=True))
            rows.append((w, t, same, r.failed))
            busy = float(ds["seconds"].sum())  # the tasks' own wall time, summed over workers
            print(f"run_sweep, LocalCluster({w} worker process(es)): {t:.1f} s; loop / sweep = "
                  f"{t_loop / t:.2f}; numbers equal to the loop's: {same}; failed: {r.failed}; "
                  f"tasks' summed time / wall = {busy / t:.2f} (concurrency reached); "
                  f"load average {os.getloadavg()[0]:.1f}")

        class Noop(TaskKind):
            name = "noop"
            parameters = {"i": Param("int>=0", 0, "index")}

            def observables(self, params, seeds):
                return {"x": Observable(("seed",), (seeds,), "zeros")}

            def run(self, params, keys):
                return {"x": np.zeros(len(keys))}

        TASKS["noop"] = Noop
        def noop_sweep(k, workers):
            path = os.path.join(tmp, f"noop-{k}-{workers}.zarr")
            clock = time.perf_counter()
            run_sweep(Sweep("noop", axes={"i": list(range(k)), "seeds": 2}), path,
                      workers=workers, progress=False)
            return time.perf_counter() - clock

        N = args.noop
        t_inline = (noop_sweep(N, 0) - noop_sweep(1, 0)) / (N - 1)
        t_dask = (noop_sweep(N, 1) - noop_sweep(1, 1)) / (N - 1)
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=":0") as cl, \
                Client(cl) as client:
            client.submit(abs, -1).result()
            clock = time.perf_counter()
            for i in range(N):
                client.submit(abs, -i, pure=False).result()
            t_bare = (time.perf_counter() - clock) / N
        print(f"per-task overhead ({N} no-op tasks against 1, cluster start-up and the "
              f"worker's imports cancelling): run_sweep in this process (the store's region "
              f"writes) {1e3 * t_inline:.0f} ms; run_sweep on LocalCluster(1 process) "
              f"{1e3 * t_dask:.0f} ms (so the scheduler adds {1e3 * (t_dask - t_inline):.0f} "
              f"ms); a bare Dask future round trip on a warm cluster {1e3 * t_bare:.1f} ms")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if all(same and not failed for _, _, same, failed in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
