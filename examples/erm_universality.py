"""When is one Gaussian enough? Logistic regression on a two-cluster mixture, end to end.

The universality figure of Pesce, Krzakala, Loureiro, Stephan (arXiv 2302.08923), in the
conventions of escalier.numerics.erm: data from two clusters N(+-R u1 / ..., I) (means of norm R),
labels y = sign(theta.x / sqrt d) from a teacher whose cosine with the means' direction is
`align`. For each alpha = n / d the script solves the replica fixed point for the mixture and for
the single Gaussian with the same mean and covariance, fits l2-penalised logistic regression on
sampled data (scikit-learn), and plots training and test errors against alpha:

- top row, align = 0 (teacher orthogonal to the means): the Gaussian equivalent is exact;
- bottom row, align = --align (teacher correlated with the means): it is not, and the
  simulation follows the mixture's formula.

    python examples/erm_universality.py --d 1000 --seeds 4 --out erm_universality.png
"""

from __future__ import annotations

import argparse
import os

import numpy as np


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loss", default="logistic", choices=["ridge", "logistic", "hinge"])
    parser.add_argument("--lam", type=float, default=0.1, help="l2 penalty lambda")
    parser.add_argument("--radius", type=float, default=1.5, help="norm R of the cluster means")
    parser.add_argument("--align", type=float, default=0.8,
                        help="cosine of the teacher with the means (non-universal row)")
    parser.add_argument("--alphas", type=float, nargs="+",
                        default=[0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0],
                        help="sample ratios for the simulation (theory on a fine grid)")
    parser.add_argument("--d", type=int, default=1000, help="dimension of the simulation")
    parser.add_argument("--seeds", type=int, default=4, help="training sets per alpha")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="erm_universality.png", help="figure file")
    args = parser.parse_args(argv)

    os.environ.setdefault("JAX_ENABLE_X64", "1")
    import jax

    jax.config.update("jax_enable_x64", True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    from escalier.numerics.erm import (
        LOSSES,
        SignTeacher,
        learning_curve,
        mixture_from_spec,
        simulate_erm,
    )

    loss, teacher = LOSSES[args.loss], SignTeacher()
    spec = f"mean={args.radius};mean={-args.radius}"
    grid = np.geomspace(min(args.alphas), max(args.alphas), 24)
    fig, axes = plt.subplots(2, 2, figsize=(9, 7), sharex=True)
    print(f"{'align':>5} {'alpha':>6} {'test mix':>9} {'test GE':>9} {'test sim':>16}")
    for row, align in enumerate((0.0, args.align)):
        mix = mixture_from_spec(spec, align=align)
        theory = learning_curve(mix, loss, teacher, grid, args.lam)
        gauss = learning_curve(mix.gaussian_equivalent(), loss, teacher, grid, args.lam)
        sims = [simulate_erm(mix, loss, teacher, a, args.lam, args.d, seeds=args.seeds,
                             seed=args.seed) for a in args.alphas]
        at = {round(fp.alpha, 12): fp for fp in learning_curve(mix, loss, teacher, args.alphas,
                                                               args.lam)}
        ge_at = {round(fp.alpha, 12): fp for fp in learning_curve(
            mix.gaussian_equivalent(), loss, teacher, args.alphas, args.lam)}
        for a, sim in zip(args.alphas, sims, strict=True):
            print(f"{align:5.2f} {a:6.2f} {at[round(a, 12)].test_error:9.4f} "
                  f"{ge_at[round(a, 12)].test_error:9.4f} "
                  f"{sim.test_error:9.4f}+-{sim.stderr['test_error']:.4f}")
        for col, key in enumerate(("train_error", "test_error")):
            ax = axes[row, col]
            ax.plot(grid, [getattr(fp, key) for fp in theory], "C0-", label="mixture (theory)")
            ax.plot(grid, [getattr(fp, key) for fp in gauss], "k--",
                    label="Gaussian equivalent (theory)")
            ax.errorbar(args.alphas, [getattr(s, key) for s in sims],
                        yerr=[s.stderr[key] for s in sims], fmt="o", color="C1", ms=4,
                        label=f"simulation, d = {args.d}")
            ax.set(xscale="log", title=f"{key.replace('_', ' ')}, teacher-mean cosine {align:g}")
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            if row == 1:
                ax.set_xlabel("alpha = n / d")
            ax.legend(fontsize=7)
    fig.suptitle(f"{args.loss}, lambda = {args.lam}, two clusters with means +-{args.radius} u1, "
                 f"y = sign(theta.x / sqrt d)", fontsize=9)
    fig.tight_layout()
    fig.savefig(args.out, dpi=130)
    plt.close(fig)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
