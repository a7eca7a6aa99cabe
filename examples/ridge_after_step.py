"""Ridge on the features after one giant step against random features: test error vs alpha.

The network of docs/giant.md §3 (p x d first layer, rows of norm ~ 1, relu, y = z1 +
He2(z1)/2) takes one full-batch step on n = 2d samples with lr = eta sqrt(p); ridge
regression is then fitted on the features sigma(W x) on n_r = alpha_r d fresh samples, for
W = W0 (random features) and W = W1 (after the step). Points: the simulated test errors
(seed means, 4000 test samples); lines: the deterministic equivalent of ridge on Gaussian
features with the Gaussian-equivalent moments (solid; the random-features asymptotics of Mei
and Montanari, arXiv 1908.05355) and with the exact feature moments (dashed; Mehler's formula
with the row norms, which keeps the O(1) overlaps a giant step leaves along the teacher,
docs/giant.md §4).

    python examples/ridge_after_step.py --p 400 --d 400 --out ridge_after_step.png
"""

from __future__ import annotations

import argparse
import os


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="z1 + He2(z1)/2")
    parser.add_argument("--student", default="relu")
    parser.add_argument("--p", type=int, default=400)
    parser.add_argument("--d", type=int, default=400)
    parser.add_argument("--alpha", type=float, default=2.0, help="step batch n = alpha d")
    parser.add_argument("--etas", type=float, nargs="+", default=[3.0, 30.0],
                        help="learning rates of the step, in units of sqrt(p)")
    parser.add_argument("--alphas-ridge", type=float, nargs="+",
                        default=[0.25, 0.5, 1, 2, 4, 8])
    parser.add_argument("--lam", type=float, default=0.1, help="ridge penalty")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", default="ridge_after_step.png", help="figure file")
    args = parser.parse_args(argv)

    os.environ.setdefault("JAX_ENABLE_X64", "1")
    import jax

    jax.config.update("jax_enable_x64", True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from escalier.numerics.giant import ridge_after_step

    fig, axes = plt.subplots(1, len(args.etas), figsize=(5.2 * len(args.etas), 4.2),
                             squeeze=False)
    for ax, eta in zip(axes[0], args.etas, strict=True):
        r = ridge_after_step(args.target, args.student, p=args.p, d=args.d, alpha=args.alpha,
                             eta=eta, alphas_ridge=args.alphas_ridge, lambdas=[args.lam],
                             seeds=args.seeds)
        ar = r["alphas_ridge"]
        for i, (key, label) in enumerate((("random_features", "random features"),
                                          ("one_step", "after one step"))):
            y = np.array(r[key])[:, 0]
            se = np.array(r[key + "_stderr"])[:, 0] if r[key + "_stderr"] is not None else None
            ax.errorbar(ar, y, yerr=se, marker="o", ls="none", capsize=3, color=f"C{i}",
                        label=f"{label}: simulation")
            ax.plot(ar, np.array(r[key + "_theory"])[:, 0], color=f"C{i}",
                    label=f"{label}: Gaussian equivalent")
            if key + "_exact_theory" in r:
                ax.plot(ar, np.array(r[key + "_exact_theory"])[:, 0], color=f"C{i}", ls="--",
                        label=f"{label}: exact moments")
            print(f"eta = {eta:g}, {label}: " + ", ".join(
                f"alpha_r {a:g}: {v:.4f}" for a, v in zip(ar, y, strict=True)))
        ax.axhline(r["E_y2"], color="grey", lw=0.8, label="zero predictor")
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks(ar, [f"{a:g}" for a in ar])
        ax.set_xlabel("alpha_r = n_r / d")
        ax.set_ylabel("test error")
        ax.set_title(f"lr = {eta:g} sqrt(p), lambda = {args.lam:g}", fontsize=10)
        ax.legend(fontsize=7)
    fig.suptitle(f"ridge after one step: y = {args.target}, {args.student}, p = {args.p}, "
                 f"d = {args.d}", fontsize=10)
    fig.tight_layout()
    fig.savefig(args.out, dpi=130)
    plt.close(fig)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
