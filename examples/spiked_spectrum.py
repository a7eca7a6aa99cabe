"""The spiked spectrum after one gradient step (Ba et al., arXiv 2205.01445).

One full-batch step on n = alpha d samples with lr = eta sqrt(p) adds to W0 (a p x d
Gaussian matrix, Marchenko-Pastur bulk of singular values up to 1 + sqrt(p/d)) a rank-one
spike theta u v^T along v = X^T y / n. Below the BBP threshold theta = (p/d)^(1/4) the top
singular value sticks to the bulk edge; above it an outlier separates at
sqrt((1 + theta^2)(p/d + theta^2)) / theta (normalisation: docs/giant.md). The script draws
the singular-value histograms at two learning rates, below and above the threshold, with
the bulk edge and the predicted outlier, and prints the alignment cos^2(v, teacher).

    python examples/spiked_spectrum.py --p 1000 --d 1000 --out spiked_spectrum.png
"""

from __future__ import annotations

import argparse
import os


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="z1 + He2(z1)/2")
    parser.add_argument("--student", default="relu")
    parser.add_argument("--p", type=int, default=1000)
    parser.add_argument("--d", type=int, default=1000)
    parser.add_argument("--alpha", type=float, default=2.0, help="n = alpha d")
    parser.add_argument("--factors", type=float, nargs=2, default=[0.5, 2.0],
                        help="learning rates as multiples of the threshold")
    parser.add_argument("--out", default="spiked_spectrum.png", help="figure file")
    args = parser.parse_args(argv)

    os.environ.setdefault("JAX_ENABLE_X64", "1")
    import jax

    jax.config.update("jax_enable_x64", True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from escalier.numerics.giant import spike_simulation, spike_theory

    base = spike_theory(args.target, args.student, p=args.p, d=args.d, alpha=args.alpha,
                        eta=1.0)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, factor in zip(axes, args.factors, strict=True):
        eta = factor * base["threshold_lr"]
        th = spike_theory(args.target, args.student, p=args.p, d=args.d, alpha=args.alpha,
                          eta=eta)
        sim = spike_simulation(args.target, args.student, p=args.p, d=args.d,
                               alpha=args.alpha, eta=eta, seeds=1)
        sv = sim["singular_values"]
        ax.hist(sv, bins=60, density=True, alpha=0.7, label="singular values of W1")
        ax.axvline(th["bulk_edge"], color="k", ls="--", label="bulk edge")
        if th["outlier_predicted"] is not None:
            ax.axvline(th["outlier_predicted"], color="C3", label="predicted outlier")
        ax.plot([sv[0]], [0], "v", color="C3", ms=10, label="top singular value")
        ax.set_title(f"lr = {factor:g} x threshold ({eta:.3g} sqrt(p))")
        ax.set_xlabel("singular value")
        ax.legend(fontsize=8)
        out = th["outlier_predicted"]
        print(f"lr = {factor:g} x threshold: top singular value {sv[0]:.4f} (predicted "
              f"{'none' if out is None else f'{out:.4f}'}, bulk edge {th['bulk_edge']:.4f}); "
              f"alignment {sim['alignment'][0]:.4f} (predicted "
              f"{th['alignment_predicted']:.4f})")
    fig.suptitle(f"y = {args.target}, p = {args.p}, d = {args.d}, n = {args.alpha:g} d")
    fig.tight_layout()
    fig.savefig(args.out, dpi=130)
    plt.close(fig)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
