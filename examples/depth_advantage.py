"""The computational advantage of depth on a hierarchical target (arXiv 2502.13961).

SIGHT target y = tanh(3 h*(x)), h*(x) = d^(-eps/2) sum_i a*_i P(w*_i . x), P = He2/2 + He3/6:
the derived d -> oo staircases of a three-layer network trained layer-wise, a two-layer
network and a kernel (escalier.derive.depth), beside their measured test errors against
kappa = log n / log d (escalier.numerics.depth). See docs/depth.md.

    python examples/depth_advantage.py --d 32 64 --kappa 1.5 2 2.25 --seeds 2 --out depth.png
"""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eps", type=float, default=0.5)
    parser.add_argument("--P", default="He2(z)/2 + He3(z)/6")
    parser.add_argument("--g", default="tanh(3*z)")
    parser.add_argument("--d", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--kappa", type=float, nargs="+", default=[1.5, 1.75, 2.0, 2.25])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--out", default="depth_advantage.png")
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from escalier.derive.depth import depth_exponents
    from escalier.derive.targets import sight
    from escalier.numerics.depth import depth_curves

    target = sight(args.P, args.g, args.eps)
    report = depth_exponents(target)
    print(report.table())
    curves = depth_curves(target, args.d, args.kappa, seeds=args.seeds,
                          learners=("three_layer", "two_layer", "kernel"))
    colors = {"three_layer": "tab:blue", "two_layer": "tab:green", "kernel": "tab:orange"}
    fig, axes = plt.subplots(1, len(args.d), figsize=(4.2 * len(args.d), 3.6), sharey=True,
                             squeeze=False)
    kmax = max(args.kappa) + 0.1
    for ax, d in zip(axes[0], args.d, strict=True):
        for lr, c in colors.items():
            errs = curves.errors[lr][d]
            ax.errorbar(args.kappa, np.median(errs, 1), yerr=[np.median(errs, 1) - errs.min(1),
                        errs.max(1) - np.median(errs, 1)], marker="o", color=c, label=lr,
                        capsize=2)
            steps = [(k, e) for k, e in report.steps(lr, kmax) if k <= kmax]
            ks = [k for k, _ in steps] + [kmax]
            ax.step(ks, [e for _, e in steps] + [steps[-1][1]], where="post", ls=":", color=c)
            drop = report.first_drop(lr)
            if drop is not None and drop <= kmax:
                ax.axvline(drop, color=c, ls="--", lw=0.8)
        ax.set_xlim(min(args.kappa) - 0.1, kmax)
        ax.set_title(f"d = {d}, D = {target.width(d)}")
        ax.set_xlabel("kappa = log n / log d")
    axes[0][0].set_ylabel("test MSE (median, min-max over seeds)")
    axes[0][0].legend(fontsize=7)
    fig.suptitle("dotted: d -> oo staircases; dashed: predicted first drops", fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=130)
    plt.close(fig)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
