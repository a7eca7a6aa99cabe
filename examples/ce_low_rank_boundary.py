"""Cross-entropy deep linear UFM: is deep neural collapse the global minimum? A grid over the
number of classes K and the depth L (numerical; Garrod & Keating, arXiv 2410.23169, whose
theorem says no DNC point is the global minimum for K >= 4 with L >= 3 or K >= 6 with L = 2).

For each (K, L): the DNC critical points (constructed from the scalar equation of the DNC
ansatz, with their full Hessian), the best loss found by L-BFGS with the width restricted to
r = 1..K-1 (rank <= r) and at full width. Prints a table and draws the relative gap
(loss_DNC - best low-rank loss) / loss_DNC.

    python examples/ce_low_rank_boundary.py --K 2 3 4 5 6 7 --L 1 2 3 --out ce_low_rank.png
"""

from __future__ import annotations

import argparse
import os

import numpy as np


def theorem_says_not_global(K: int, L: int) -> bool:
    """The boundary stated by arXiv 2410.23169 (as recalled in escalier's docs)."""
    return (K >= 4 and L >= 3) or (K >= 6 and L == 2)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--K", type=int, nargs="+", default=[2, 3, 4, 5, 6, 7])
    parser.add_argument("--L", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--n", type=int, default=1)
    parser.add_argument("--weight-decay", type=float, default=1e-3)
    parser.add_argument("--restarts", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="ce_low_rank.png", help="figure file")
    args = parser.parse_args(argv)

    os.environ.setdefault("JAX_ENABLE_X64", "1")
    import jax

    jax.config.update("jax_enable_x64", True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from escalier.numerics.collapse import ce_ufm_report

    gap = np.full((len(args.L), len(args.K)), np.nan)
    print(f"{'K':>3} {'L':>3} {'DNC loss':>12} {'DNC Hess min':>13} {'rank<=':>9} "
          f"{'best loss':>12} {'DNC global':>10} {'theorem':>8}")
    for i, L in enumerate(args.L):
        for j, K in enumerate(args.K):
            r = ce_ufm_report(K, L, K, args.n, args.weight_decay, restarts=args.restarts,
                              seed=args.seed)
            dnc = r.dnc_loss
            best_r, best = min(r.by_rank.items(), key=lambda kv: kv[1])
            stable = [d for d in r.dnc if d["loss"] == dnc]
            hmin = stable[0]["hessian_min"] if stable else float("nan")
            if dnc is not None:
                gap[i, j] = (dnc - best) / dnc
            theorem = "not" if theorem_says_not_global(K, L) else "-"
            print(f"{K:>3} {L:>3} {dnc if dnc is not None else float('nan'):>12.8f} "
                  f"{hmin:>13.2e} {best_r:>9} {best:>12.8f} {str(r.dnc_is_global):>10} "
                  f"{theorem:>8}")
    fig, ax = plt.subplots(figsize=(max(5.0, 1.0 + 0.9 * len(args.K)), max(3.5, 1.2 + 0.8 * len(args.L))))
    im = ax.imshow(np.maximum(gap, 1e-12), origin="lower", cmap="viridis",
                   norm=matplotlib.colors.LogNorm(vmin=1e-6, vmax=max(1e-3, np.nanmax(gap))))
    for i, L in enumerate(args.L):
        for j, K in enumerate(args.K):
            mark = "x" if theorem_says_not_global(K, L) else ""
            ax.text(j, i, f"{gap[i, j]:.1e}\n{mark}", ha="center", va="center", fontsize=7,
                    color="w")
    ax.set_xticks(range(len(args.K)), [str(k) for k in args.K])
    ax.set_yticks(range(len(args.L)), [str(v) for v in args.L])
    ax.set(xlabel="K (classes)", ylabel="L (weight matrices)",
           title=f"(loss_DNC - best low rank) / loss_DNC, lambda = {args.weight_decay:g}\n"
                 "x: theorem says DNC is not global")
    fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    plt.close(fig)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
