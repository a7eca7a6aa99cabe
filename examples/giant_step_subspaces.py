"""U*_1 against U*_2: what one giant step learns of y = z1 + z1 z2, as d grows.

Dandi, Krzakala, Loureiro, Pesce, Stephan (arXiv 2305.18270): one full-batch GD step on
n = alpha d^l fresh samples learns U*_l = sum_{k <= l} Im C_k. For y = z1 + z1 z2,
C_1 = e1 and C_2 = e1 e2^T + e2 e1^T, so a batch of n ~ d learns z1 only and n ~ d^2 learns
both. The script runs the step with the exact gram engine (cost independent of d) and plots
the overlap of e1 and e2 with the student's weight span against d, for l = 1 (left) and
l = 2 (right); dashed: predicted not learned, grey: the chance level p / d.

    python examples/giant_step_subspaces.py --d 50 100 200 400 --seeds 16 --out subspaces.png
"""

from __future__ import annotations

import argparse
import os


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="z1 + z1*z2")
    parser.add_argument("--d", type=int, nargs="+", default=[50, 100, 200, 400])
    parser.add_argument("--alpha", type=float, default=4.0, help="n = alpha d^l")
    parser.add_argument("--p", type=int, default=4, help="student hidden units")
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--out", default="giant_step_subspaces.png", help="figure file")
    args = parser.parse_args(argv)

    os.environ.setdefault("JAX_ENABLE_X64", "1")
    import jax

    jax.config.update("jax_enable_x64", True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from escalier.numerics.giant import predicted_directions, subspace_overlaps

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, l in zip(axes, (1, 2), strict=True):
        dirs = predicted_directions(args.target, l)
        runs = [subspace_overlaps(args.target, d=d, l=l, alpha=args.alpha, p=args.p,
                                  seeds=args.seeds, directions=dirs) for d in args.d]
        for i, u in enumerate(dirs):
            y = [r["subspaces"][i]["overlap"] for r in runs]
            e = [r["subspaces"][i]["overlap_stderr"] for r in runs]
            name = "(" + ", ".join(f"{x:.0f}" for x in u.vector) + ")"
            ax.errorbar(args.d, y, yerr=e, marker="o", capsize=3,
                        ls="-" if u.predicted_learned else "--",
                        label=f"{name}: {'learned' if u.predicted_learned else 'not learned'}")
            print(f"l = {l} direction {name} ({u.stage}): " + ", ".join(
                f"d={d}: {v:.3f}" for d, v in zip(args.d, y, strict=True)))
        ax.plot(args.d, [min(1.0, args.p / d) for d in args.d], color="grey", lw=0.8,
                label="p / d")
        ax.set_xscale("log")
        ax.set_xlabel("d")
        ax.set_title(f"one step, n = {args.alpha:g} d^{l}")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("overlap with the weight span")
    fig.suptitle(f"y = {args.target}")
    fig.tight_layout()
    fig.savefig(args.out, dpi=130)
    plt.close(fig)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
