"""The batch-size knee of He3 (information exponent l = 3), square against correlation loss.

At fixed total samples, the iterations T(n_b) that spherical single-neuron SGD needs to reach
|m| = 0.5 fall like 1/n_b while the learning rate can grow with n_b (gamma = eta0 n_b / d^{l/2},
arXiv 2406.02157); under the square loss the self-interaction caps the step and T stops
improving past n_b ~ d^{l/2}, under the correlation loss it keeps falling. T is measured on the
exact gram engine and by the finite-step map (docs/batch.md); the script prints the table,
the fitted knees and writes a figure.

    python examples/batch_size_knee.py --d 128 256 512 --out batch_size_knee.png
"""

from __future__ import annotations

import argparse
import os


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, nargs="+", default=[128, 256, 512])
    parser.add_argument("--ratios", type=float, nargs="+",
                        default=[1 / 4, 1 / 2, 1, 2, 4, 8, 16, 32],
                        help="batch sizes as multiples of d^(3/2)")
    parser.add_argument("--seeds", type=int, default=12)
    parser.add_argument("--loss", choices=["square", "correlation", "both"], default="both")
    parser.add_argument("--out", default="batch_size_knee.png", help="figure file")
    args = parser.parse_args(argv)

    os.environ.setdefault("JAX_ENABLE_X64", "1")
    import jax

    jax.config.update("jax_enable_x64", True)
    from escalier.numerics.batch import batch_study, plot_study, report

    losses = ("square", "correlation") if args.loss == "both" else (args.loss,)
    study = batch_study("He3(z1)", args.d, student="He3", ratios=tuple(args.ratios),
                        seeds=args.seeds, losses=losses)
    print(report(study))
    plot_study(study, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
