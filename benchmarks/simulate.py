"""Benchmark: escalier's jitted network simulation against a plain NumPy loop of the same SGD.

Same run, same process: d = 1000, p = 4 erf students (erf(x / sqrt 2)) on the erf committee
teacher with k = 4 hidden units, square loss, lr = 1, batch 1 and 64 (docs/theory.md §1).
Prints SGD steps per second (summed over seeds: a seed-step is one SGD update of one
network) for

  - escalier    simulate(...) after compilation (float64 unless --dtype float32),
  - numpy       a plain NumPy loop of the same update, one seed after another,
  - rng floor   the Gaussian data alone, drawn exactly as the simulation draws them
                (same generator, keys, chunks and vmap over seeds) and summed: the floor for
                any full simulation with this generator (numerics/simulation/_normals.py:
                SplitMix64 words and a Box-Muller transform with vectorised polynomial log
                and sine, drawn in float64 also for --dtype float32; NumPy draws its data
                with its ziggurat, default_rng().standard_normal),

and the ratios escalier / numpy and escalier / rng floor. Goals of issue 5: >= 3x numpy and
>= 70% of the floor. Each rate is given twice: per wall-clock second and per CPU second of
the process (all threads; robust to other jobs sharing the machine, fair when JAX uses
more than one core since it charges every thread).

    .venv/bin/python benchmarks/simulate.py [--d 1000 ...] [--p 4] [--batch 1 64] [--seeds 1 8]
        [--steps N] [--dtype float64] [--engine full] [--no-numpy]

`--engine gram --d 1000 10000 100000 1000000 --no-numpy` times the exact Gram engine through
the same `simulate` entry point (the rng-floor columns are then n/a: that engine draws O(1)
numbers per step, independent of d).

`--engines --d 1000 10000 100000 1000000` (issue 6) times both engines of `simulate` on the
same scenario (batch 1, one seed, float64) and prints their steps per second and the ratio
gram / full: the Gram engine's cost should be flat in d.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import math
import time as clock

import numpy as np
from scipy.special import erf


def numpy_sgd(d, p, k, batch, lr, n_steps, record_every, rng):
    """The reference loop: online SGD on the erf committee, plain NumPy, one seed."""
    W = rng.standard_normal((p, d))
    Wstar = np.linalg.qr(rng.standard_normal((d, k)))[0].T * math.sqrt(d)
    a = np.ones(p)
    V = np.concatenate([W, Wstar])
    lr_w = lr / (batch * math.sqrt(d))
    c = math.sqrt(2 / math.pi)
    records = []
    for step in range(n_steps):
        X = rng.standard_normal((batch, d))
        U = X @ V.T / math.sqrt(d)
        lam, nu = U[:, :p], U[:, p:]
        y = erf(nu / math.sqrt(2)).sum(axis=1)
        delta = y - erf(lam / math.sqrt(2)) @ a
        g = delta[:, None] * (c * np.exp(-0.5 * lam * lam)) * a
        V[:p] += lr_w * (g.T @ X)
        if (step + 1) % record_every == 0:
            records.append(V[:p] @ V.T / d)
    return records


def best_of(fn, repeat):
    """(best wall-clock seconds, best CPU seconds of this process, all threads) over repeats."""
    wall, cpu = [], []
    for _ in range(repeat):
        w0, c0 = clock.perf_counter(), clock.process_time()
        fn()
        wall.append(clock.perf_counter() - w0)
        cpu.append(clock.process_time() - c0)
    return np.array([min(wall), min(cpu)])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--d", type=int, nargs="+", default=[1000])
    parser.add_argument("--p", type=int, default=4)
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 8])
    parser.add_argument(
        "--steps",
        type=int,
        default=None,
        help="SGD steps per escalier run (default: max(200, 10^7 / (batch d)): 10^4 at d = 1000)",
    )
    parser.add_argument(
        "--numpy-steps",
        type=int,
        default=None,
        help="steps of the NumPy loop (default: max(20, 2 10^7 / (batch d)))",
    )
    parser.add_argument("--no-numpy", action="store_true", help="skip the NumPy loop (large d)")
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    parser.add_argument("--engine", default="full")
    parser.add_argument("--engines", action="store_true",
                        help="compare the full and gram engines over --d (batch 1, one seed)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    import jax

    if args.dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    from escalier.derive import Scenario, targets
    from escalier.numerics.simulation import simulate
    from escalier.numerics.simulation._full import rng_floor

    p, k = args.p, args.k
    if args.engines:
        compare_engines(args, Scenario, targets, simulate)
        return
    print(
        f"jax {jax.__version__} on {jax.devices()[0].platform}, p = {p}, k = {k}, "
        f"dtype {args.dtype}, engine {args.engine}"
    )
    header = (
        f"{'clock':>5} {'d':>8} {'batch':>5} {'seeds':>5} {'escalier':>10} {'numpy':>10} "
        f"{'ratio':>6} {'rng floor':>10} {'of floor':>8}"
    )
    print(header + "   (SGD steps per second, summed over seeds)")
    for d, batch in itertools.product(args.d, args.batch):
        sc = Scenario(targets.committee("erf", k), student="erf", p=p, lr=1.0, batch=batch)
        steps = args.steps or max(200, int(1e7 / (batch * d)))
        t_sim = steps / d
        if args.no_numpy:
            numpy_rate = np.array([np.nan, np.nan])
        else:
            n_np = args.numpy_steps or max(20, int(2e7 / (batch * d)))
            rng = np.random.default_rng(0)
            numpy_sgd(d, p, k, batch, 1.0, 2, 2, rng)  # warm-up
            run_np = functools.partial(numpy_sgd, d, p, k, batch, 1.0, n_np, max(1, n_np // 10), rng)
            numpy_rate = n_np / best_of(run_np, args.repeat)
        for seeds in args.seeds:
            sim = functools.partial(
                simulate,
                sc,
                d,
                t_sim,
                seeds=seeds,
                n_records=10,
                engine=args.engine,
                dtype=args.dtype,
                progress=False,
            )

            r = sim()  # compile
            n_steps = r.config["n_steps"] * seeds
            rate = n_steps / best_of(sim, args.repeat)
            if args.engine == "full":
                floor_fn = rng_floor(sc, d, r.config["n_steps"], r.config["record_every"], seeds, args.dtype)
                floor = n_steps / best_of(floor_fn, args.repeat)
            else:
                floor = None
            for i, name in enumerate(("wall", "cpu")):
                floor_s = (
                    f"{'n/a':>10} {'n/a':>8}"
                    if floor is None
                    else (f"{floor[i]:10.0f} {rate[i] / floor[i]:8.0%}")
                )
                print(
                    f"{name:>5} {d:8d} {batch:5d} {seeds:5d} {rate[i]:10.0f} {numpy_rate[i]:10.0f} "
                    f"{rate[i] / numpy_rate[i]:6.2f} {floor_s}",
                    flush=True,
                )


def compare_engines(args, Scenario, targets, simulate):
    """Steps per second of simulate(engine="full") and simulate(engine="gram") over d."""
    sc = Scenario(targets.committee("erf", args.k), student="erf", p=args.p, lr=1.0, batch=1)
    print(f"p = {args.p}, k = {args.k}, batch 1, one seed, {args.dtype}: SGD steps per second")
    print(f"{'clock':>5} {'d':>8} {'full':>10} {'gram':>10} {'gram/full':>10}")
    for d in args.d:
        rates = {}
        for engine, steps in (("full", max(200, int(2e7 / d))), ("gram", 200_000)):
            run = functools.partial(simulate, sc, d, steps / d, seeds=1, n_records=10,
                                    engine=engine, dtype=args.dtype, progress=False)
            r = run()  # compile
            rates[engine] = r.config["n_steps"] / best_of(run, args.repeat)
        for i, name in enumerate(("wall", "cpu")):
            print(f"{name:>5} {d:8d} {rates['full'][i]:10.0f} {rates['gram'][i]:10.0f} "
                  f"{rates['gram'][i] / rates['full'][i]:10.0f}", flush=True)


if __name__ == "__main__":
    main()
