"""Escape steps of single-index spherical SGD against d with the exact Gram engine.

    python benchmarks/gram_scaling.py --target He3 --d 1000 2000 4000 10000 [--seeds 48]
        [--lr LR0] [--student S]

Runs escalier.numerics.verify.escape_scaling (the function behind `escalier scaling`) with
engine="gram" and prints, per d, the learning rate, the diffusion's mean escape time, the
typical number of steps until |m| >= 0.5 over seeds and the wall time; then the fitted
exponent beside the information exponent's law (docs/theory.md §4.6) and the small-overlap
diffusion's finite-d prediction at the same rates.
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="He3", help="He<l>: the target He_l(z1)")
    parser.add_argument("--student", default=None, help="student activation (default: target)")
    parser.add_argument("--lr", type=float, default=None,
                        help="lr prefactor (default: escalier scaling's diffusion rule)")
    parser.add_argument("--d", type=int, nargs="+", default=[1000, 2000, 4000, 10000])
    parser.add_argument("--seeds", type=int, default=48)
    args = parser.parse_args()

    import jax

    jax.config.update("jax_enable_x64", True)
    from escalier.numerics.verify import escape_scaling

    start = time.perf_counter()
    r = escape_scaling(f"{args.target}(z1)", args.student or args.target, args.d,
                       seeds=args.seeds, lr0=args.lr, engine="gram")
    total = time.perf_counter() - start
    print(f"target {args.target}(z1), student {args.student or args.target}, correlation loss, "
          f"spherical, {args.seeds} seeds, l = {r.law.l}; {r.config['lr_rule']}")
    print(r.to_text())
    fit = "n/a" if r.fit is None else str(r.fit)
    print(f"fitted exponent {fit}, law {r.predicted:.3f}, diffusion {r.diffusion_exponent:.3f};"
          f" total {total:.0f} s")


if __name__ == "__main__":
    main()
