"""DMFT solve time against Monte-Carlo paths and time steps, beside the multi-pass
simulation it replaces, in the same run.

    JAX_ENABLE_X64=1 python benchmarks/dmft.py [--samples 500 1000 2000] [--steps 10 20 40]
        [--d 500] [--seeds 8]

For tanh(z1) learned by one erf neuron (alpha = 2, lr = 1, t in [0, 2]): the wall time of
escalier.numerics.dmft.solve_dmft (compilation excluded: a warm-up solve at each setting
first; iterations to tol 1e-4 reported) for each (samples, steps), and of the full engine's
multi-pass GD (escalier.numerics.simulation.MultiPass, --seeds runs at --d, compiled first)
as the baseline; prints the ratio DMFT / simulation. The DMFT cost grows as
samples x steps^3 (the pathwise kernels), the simulation's as seeds x alpha d^3 t.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("JAX_ENABLE_X64", "1")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, nargs="+", default=[500, 1000, 2000])
    parser.add_argument("--steps", type=int, nargs="+", default=[10, 20, 40])
    parser.add_argument("--d", type=int, default=500)
    parser.add_argument("--seeds", type=int, default=8)
    args = parser.parse_args(argv)

    import jax

    jax.config.update("jax_enable_x64", True)
    from escalier.derive import Scenario
    from escalier.numerics.dmft import solve_dmft
    from escalier.numerics.simulation import MultiPass, simulate

    sc = Scenario("tanh(z1)", student="erf", p=1, lr=1.0, init_scale=0.5)

    def sim():
        return simulate(sc, args.d, 2.0, seeds=args.seeds, n_records=10, engine="full",
                        protocol=MultiPass(2.0), progress=False)

    sim()
    clock = time.perf_counter()
    sim()
    t_sim = time.perf_counter() - clock
    print(f"baseline: multi-pass GD simulation, d = {args.d}, {args.seeds} runs, t = 2: "
          f"{t_sim:.2f} s")
    print(f"{'samples':>8} {'steps':>6} {'iterations':>10} {'seconds':>8} {'s/iter':>8} "
          f"{'DMFT/sim':>9}")
    for steps in args.steps:
        for n in args.samples:
            solve_dmft(sc, 2.0, 2.0, steps=steps, samples=n, max_iterations=2, tol=1e9)
            clock = time.perf_counter()
            sol = solve_dmft(sc, 2.0, 2.0, steps=steps, samples=n)
            sec = time.perf_counter() - clock
            print(f"{n:>8} {steps:>6} {sol.iterations:>10} {sec:>8.2f} "
                  f"{sec / sol.iterations:>8.3f} {sec / t_sim:>9.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
