"""The loss Hessian of a trained network: its bulk is not a semicircle, but its local
statistics are those of the GOE (Baskerville et al., arXiv 2102.06740).

A two-layer ReLU network is trained full-batch (Adam) on scikit-learn's bundled digits; the
full Hessian of the training loss is computed at initialisation and after training. Left:
the bulk density against a semicircle of the same mean and variance. Right: the adjacent
spacing ratios against the GOE and Poisson curves (Atas et al., PRL 2013), with <r> of a
sampled GOE spectrum of the same size computed by the same code.

    python examples/hessian_local_statistics.py --p 32 --steps 2000 --out hessian.png
"""

from __future__ import annotations

import argparse
import math
import os
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--p", type=int, default=32, help="hidden width")
    parser.add_argument("--n-train", type=int, default=1797)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="hessian_local_statistics.png")
    args = parser.parse_args(argv)

    os.environ.setdefault("JAX_ENABLE_X64", "1")
    import jax

    jax.config.update("jax_enable_x64", True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from escalier.numerics.landscape import (
        R_GOE,
        R_POISSON,
        Network,
        analyze_spectrum,
        digits_data,
        goe_levels,
        loss_hessian,
        spacing_ratio,
        spacing_ratios,
        train,
    )

    x, y = digits_data(args.n_train)
    net = Network(64, (args.p,), 10, "relu")
    k0, k1 = jax.random.split(jax.random.PRNGKey(args.seed))
    snaps, _ = train(net, net.init(k0), x, y, args.steps, lr=args.lr, record=(0, args.steps))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    rr = np.linspace(0, 1, 200)
    for i, (step, params) in enumerate(sorted(snaps.items())):
        spec = analyze_spectrum(np.linalg.eigvalsh(loss_hessian(net, params, x, y)))
        label = "initialisation" if step == 0 else f"after {step} steps"
        b = spec.bulk
        axes[0].hist(b, bins=60, density=True, histtype="step", color=f"C{i}", lw=1.2,
                     label=f"{label}: KS vs semicircle {spec.ks_semicircle[0]:.2f}")
        c, rad = b.mean(), 2 * b.std()
        xs = np.linspace(c - rad, c + rad, 300)
        axes[0].plot(xs, 2 / (math.pi * rad**2) * np.sqrt(np.maximum(rad**2 - (xs - c) ** 2, 0)),
                     f"C{i}:", lw=1)
        axes[1].hist(spacing_ratios(b, 0.8), bins=25, range=(0, 1), density=True,
                     histtype="step", color=f"C{i}", lw=1.2,
                     label=f"{label}: <r> = {spec.ratio.mean:.3f} +- {spec.ratio.stderr:.3f}")
        print(f"{label}: loss {float(net.loss(params, x, y)):.4g}, <r> = {spec.ratio.mean:.4f} "
              f"+- {spec.ratio.stderr:.4f} ({spec.ratio.n_levels} levels), zero modes "
              f"{spec.n_zero}, outliers {len(spec.outliers)}, KS vs semicircle "
              f"{spec.ks_semicircle[0]:.3f} (p = {spec.ks_semicircle[1]:.2g})")
    goe = spacing_ratio(goe_levels(k1, max(len(b), 3), 10), bulk=0.8)
    print(f"GOE sample (N = {len(b)}): <r> = {goe.mean:.4f} +- {goe.stderr:.4f}; GOE large N "
          f"{R_GOE}; Poisson {R_POISSON:.4f}")
    axes[1].plot(rr, 2 * 27 / 8 * (rr + rr**2) / (1 + rr + rr**2) ** 2.5, "k-", lw=1,
                 label=f"GOE surmise (sampled GOE <r> = {goe.mean:.3f})")
    axes[1].plot(rr, 2 / (1 + rr) ** 2, "k--", lw=1, label=f"Poisson (<r> = {R_POISSON:.3f})")
    axes[0].set(xlabel="Hessian eigenvalue (bulk)", ylabel="density",
                title=f"digits, 64-{args.p}-10 ReLU, {net.n_params} parameters")
    axes[1].set(xlabel=r"spacing ratio $\tilde r$", ylabel="density", title="local statistics")
    for ax in axes:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(args.out, dpi=130)
    plt.close(fig)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
