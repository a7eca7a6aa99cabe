"""Escape steps of single-index spherical SGD against d with the exact Gram engine.

    JAX_ENABLE_X64=1 python benchmarks/gram_scaling.py --target He3 --d 1000 2000 4000 10000

Prints, per d, the prescribed learning rate, the median first step with |m| >= 0.5 over
seeds, the wall time, and the fitted exponent of log(median steps) against log(d) beside
the prediction of the information exponent (THEORY.md section 3; escalier.numerics.scaling).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("JAX_ENABLE_X64", "1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="He3", help="He<l>: the target He_l(z1)")
    parser.add_argument("--student", default=None, help="student activation (default: target)")
    parser.add_argument("--c0", type=float, default=0.5, help="lr prefactor c0")
    parser.add_argument("--d", type=int, nargs="+", default=[1000, 2000, 4000, 10000])
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--until", default="median", choices=["median", "all"])
    args = parser.parse_args()

    from escalier.derive import Scenario
    from escalier.numerics.scaling import escape_steps

    student = args.student or args.target
    sc = Scenario(f"{args.target}(z1)", student=student, p=1, lr=args.c0, spherical=True,
                  loss="correlation")
    start = time.perf_counter()
    r = escape_steps(sc, args.d, seeds=args.seeds, until=args.until, chunk=1 << 16)
    total = time.perf_counter() - start
    print(f"target {args.target}(z1), student {student}, correlation loss, spherical, "
          f"{args.seeds} seeds, information exponent l = {r.exponent}, lr = c0 d^-(l-2)/2 "
          f"for l >= 3 (c0 = {args.c0})")
    print(f"{'d':>8} {'lr':>10} {'median steps':>14} {'steps/pred':>11} {'seconds':>8}")
    from escalier.numerics.scaling import predicted_steps

    for d, lr, m, s in zip(r.d_values, r.lr, r.median, r.seconds, strict=True):
        print(f"{d:>8} {lr:>10.4g} {m:>14.4g} {m / predicted_steps(d, r.exponent):>11.4g} "
              f"{s:>8.1f}")
    print(f"fitted exponent {r.fitted:.3f}, predicted {r.predicted:.3f} "
          f"(difference {r.fitted - r.predicted:+.3f}); total {total:.0f} s")


if __name__ == "__main__":
    main()
