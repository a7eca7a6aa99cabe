"""One giant step with n = d^2 samples: the full engine against the gram engine, same run.

    JAX_ENABLE_X64=1 python benchmarks/giant_step.py [--d 200] [--p 4] [--seeds 1]

Both run `simulate(..., protocol=GiantSteps(n=d^2, steps=1, lr=d^1.5))` on the same
Scenario (y = z1 + z1 z2, relu student, correlation loss): the full engine draws the n x d
Gaussian inputs and takes the d-dimensional step (time O(n d p)), the gram engine takes the
exact step in overlap space (time O(n p (p + k)), no d). Each is timed after a warm-up call
that compiles it (best of --repeat); the ratio full / gram is printed.
"""

from __future__ import annotations

import argparse
import math
import os
import time

os.environ.setdefault("JAX_ENABLE_X64", "1")


def _best(fn, repeat):
    fn()  # compile and warm up
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=200)
    parser.add_argument("--p", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import jax

    jax.config.update("jax_enable_x64", True)
    from escalier.derive import Scenario
    from escalier.numerics.simulation import FullEngine, GiantSteps, GramEngine, simulate

    d = args.d
    sc = Scenario("z1 + z1*z2", student="relu", p=args.p, loss="correlation")
    protocol = GiantSteps(n=d * d, steps=1, lr=float(d) ** 1.5)
    times = {}
    for name, engine in (("full", FullEngine()), ("gram", GramEngine())):
        times[name] = _best(lambda e=engine: simulate(sc, d, 1.0, seeds=args.seeds,
                                                      engine=e, protocol=protocol,
                                                      progress=False), args.repeat)
        print(f"{name:>5}: one giant step, d = {d}, n = {d * d}, {args.seeds} seed(s): "
              f"{times[name]:.4f} s")
    print(f"ratio full / gram: {times['full'] / times['gram']:.1f} "
          f"(jax {jax.__version__}, {jax.devices()[0].platform})")


if __name__ == "__main__":
    main()
