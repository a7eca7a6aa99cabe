"""The Hessian of the deep linear unconstrained features model at its global minimum: in every
weight block K^2 eigenvalues at lambda + s^(2L)/N and the rest at the weight-decay level lambda
(K N outliers in the feature block), with s the closed-form singular value (Garrod & Keating,
arXiv 2404.06106).

    python examples/ufm_hessian_spectrum.py --K 4 --L 3 --width 12 --n 2 --out ufm_hessian.png

Trains the UFM by L-BFGS from several restarts, takes jax.hessian at the best one, and draws
the eigenvalues of each block beside the closed form.
"""

from __future__ import annotations

import argparse
import os

import numpy as np


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--K", type=int, default=4)
    parser.add_argument("--L", type=int, default=3)
    parser.add_argument("--width", type=int, default=12)
    parser.add_argument("--n", type=int, default=2)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--restarts", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="ufm_hessian.png", help="figure file")
    args = parser.parse_args(argv)

    os.environ.setdefault("JAX_ENABLE_X64", "1")
    import jax

    jax.config.update("jax_enable_x64", True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from escalier.numerics.collapse import compare_ufm

    c = compare_ufm(args.K, args.L, args.width, args.n, args.weight_decay,
                    restarts=args.restarts, seed=args.seed)
    print(c.to_text())
    j = c.to_json()
    lam = args.weight_decay
    names = list(j["hessian"])
    fig, axes = plt.subplots(1, len(names), figsize=(3.6 * len(names), 3.6), squeeze=False,
                             sharey=True)
    for ax, name, ev in zip(axes[0], names, c.hessian_measured, strict=True):
        h = j["hessian"][name]
        order = np.sort(ev)[::-1]
        ax.plot(np.arange(1, ev.size + 1), order, ".", ms=4, color="C0",
                label=f"jax.hessian ({ev.size} eigenvalues)")
        ax.axhline(lam, color="k", ls=":", lw=1, label=f"lambda = {lam:g}")
        if h["outliers"]:
            ax.axhline(h["outliers"][0], color="C3", ls="--", lw=1,
                       label=f"closed form, x{h['rank']}")
            ax.axvline(h["rank"] + 0.5, color="C3", ls=":", lw=0.8)
        ax.set(yscale="log", title=f"{name}: {h['rank_measured']} outliers (predicted "
               f"{h['rank']})", xlabel="eigenvalue index (descending)")
        ax.legend(fontsize=7)
    axes[0, 0].set_ylabel("eigenvalue of the block Hessian")
    fig.suptitle(f"UFM Hessian at the optimum: K={args.K}, L={args.L}, d={args.width}, "
                 f"n={args.n}, lambda={lam:g}; s = {j['s']:.6f}", fontsize=10)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    plt.close(fig)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
