"""Multi-pass full-batch GD: gram-engine steps per second against the full engine, same run.

    JAX_ENABLE_X64=1 python benchmarks/multipass.py [--d 1000 10000] [--alpha 0.5 2]
        [--p 2] [--seeds 1] [--work 4e9] [--steps S1 S2]

Both engines run `simulate(..., protocol=MultiPass(alpha))` on the same Scenario
(y = z1 z2 + tanh(z1), k = 2, p erf neurons, square loss) at each d and alpha: the full
engine holds the n x d training set (n = alpha d) and takes d-dimensional GD steps (2 n d p
multiply-adds per step), the gram engine holds the set's frame coordinates
(n x (k + p + min(n, d - k - p))) and takes the exact step there (2 n p (k + p + min(n, d))
per step; simulation/_gram_multipass.py). Steps per second are measured by differencing:
each engine runs S1 and S2 = 4 S1 steps (one record each, both compiled by a warm-up call
first; S2 = max(20, work / (n d p)) so that a run does about --work multiply-adds, or
--steps S1 S2), and steps/s = (S2 - S1) / (wall(S2) - wall(S1)), so the one-time draw of the set and
the start are excluded (reported separately as the S1 run's wall time). Wall and CPU
(process) seconds are both printed: on a shared machine the wall time depends on the load.
The ratios gram / full of steps per second, by wall time and by CPU time, are printed per
(d, alpha) (on a loaded machine trust the CPU one: the wall differences can be swamped by
the start). From the operation
counts it is about d / (k + p + min(n, d)): ~1 / alpha for alpha < 1, ~1 for alpha >= 1
(both engines then read an n x ~d block twice per step).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("JAX_ENABLE_X64", "1")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--alpha", type=float, nargs="+", default=[0.5, 2.0])
    parser.add_argument("--p", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--work", type=float, default=4e9)
    parser.add_argument("--steps", type=int, nargs=2, default=None, metavar=("S1", "S2"))
    args = parser.parse_args(argv)
    if args.steps is not None and not 0 < args.steps[0] < args.steps[1]:
        parser.error("--steps S1 S2 needs 0 < S1 < S2")

    import jax

    jax.config.update("jax_enable_x64", True)
    from escalier.derive import Scenario
    from escalier.numerics.simulation import MultiPass, simulate

    sc = Scenario("z1*z2 + tanh(z1)", student="erf", p=args.p, lr=1.0, init_scale=0.5)

    def timed(engine, d, alpha, steps):
        clock, cpu = time.perf_counter(), time.process_time()
        simulate(sc, d, steps / d, seeds=args.seeds, n_records=1, engine=engine,
                 protocol=MultiPass(alpha), progress=False)
        return time.perf_counter() - clock, time.process_time() - cpu

    print(f"multi-pass GD, Scenario y = z1 z2 + tanh(z1), k = 2, p = {args.p} erf neurons, "
          f"{args.seeds} seed(s), float64; steps/s by differencing runs of S1 and S2 steps")
    print(f"{'d':>6} {'alpha':>5} {'n':>6} {'S1':>5} {'S2':>5} {'engine':>6} {'start s':>8} "
          f"{'steps/s':>9} {'cpu s/step':>10} {'gram/full wall':>14} {'gram/full cpu':>13}")
    for d in args.d:
        for alpha in args.alpha:
            n = MultiPass(alpha).samples(d)
            if args.steps is None:
                s2 = max(20, round(args.work / (n * d * args.p)))
                s1 = s2 // 4
            else:
                s1, s2 = args.steps
            rate, cpu = {}, {}
            for engine in ("full", "gram"):
                timed(engine, d, alpha, s1)  # compile both programs
                timed(engine, d, alpha, s2)
                w1, c1 = timed(engine, d, alpha, s1)
                w2, c2 = timed(engine, d, alpha, s2)
                # nan when the start's variation swamps the steps (loaded machine)
                rate[engine] = (s2 - s1) / (w2 - w1) if w2 > w1 else float("nan")
                cpu[engine] = (c2 - c1) / (s2 - s1)
                ratio = (f"{rate['gram'] / rate['full']:>14.2f} {cpu['full'] / cpu['gram']:>13.2f}"
                         if engine == "gram" else "")
                print(f"{d:>6} {alpha:>5g} {n:>6} {s1:>5} {s2:>5} {engine:>6} {w1:>8.2f} "
                      f"{rate[engine]:>9.2f} {cpu[engine]:>10.2e} {ratio}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
