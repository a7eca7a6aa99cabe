"""Neural collapse on scikit-learn's digits: NC1-NC4 against epoch for every hidden layer of a
small ReLU MLP trained past zero training error (Papyan, Han & Donoho, PNAS 2020, Fig. 6-9
style; square loss as in Han, Papyan & Donoho, arXiv 2106.02073).

    python examples/collapse_digits.py --epochs 800 --out collapse_digits.png

Prints the metrics of the penultimate layer at the first and last recorded epochs and writes
a figure with one panel per metric (NC1 on a log scale), one line per layer.
"""

from __future__ import annotations

import argparse
import os

import numpy as np


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=800)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--loss", default="mse", choices=["mse", "ce"])
    parser.add_argument("--weight-decay", type=float, default=2e-3)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--every", type=int, default=8, help="record every this many epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="collapse_digits.png", help="figure file")
    args = parser.parse_args(argv)

    os.environ.setdefault("JAX_ENABLE_X64", "1")
    import jax

    jax.config.update("jax_enable_x64", True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from escalier.numerics.collapse import train_mlp

    r = train_mlp("digits", depth=args.depth, width=args.width, epochs=args.epochs,
                  lr=args.lr, weight_decay=args.weight_decay, every=args.every,
                  seed=args.seed, loss=args.loss)
    last = args.depth - 1
    for i in (0, -1):
        m = r.metrics[i][last]
        print(f"epoch {r.epochs[i]:>5}: NC1 {m['nc1']:.3e}  NC2 {m['nc2_means']:.3f}  "
              f"NC2(W) {m['nc2_classifier']:.3f}  NC3 {m['nc3']:.3f}  NC4 {m['nc4']:.4f}  "
              f"train error {r.train_error[i]:.4f}")
    print(f"training error 0 from epoch {r.terminal_epoch}" if r.terminal_epoch is not None
          else "training error never exactly 0")

    epochs = np.asarray(r.epochs)
    fig, axes = plt.subplots(2, 3, figsize=(12, 6.5))
    panels = [("nc1", "NC1  tr(Sigma_W Sigma_B^+)/K", True),
              ("nc2_means", "NC2  class means vs simplex ETF", True),
              ("nc2_classifier", "NC2  classifier rows vs simplex ETF", True),
              ("nc3", "NC3  ||W/||W|| - M/||M||||", True),
              ("nc4", "NC4  mismatch with nearest class centre", False)]
    for ax, (key, title, log) in zip(axes.flat, panels, strict=False):
        layers = [last] if key in ("nc2_classifier", "nc3") else range(args.depth)
        for layer in layers:
            ax.plot(epochs, r.metric(key, layer), color=f"C{layer}", label=f"layer {layer + 1}")
        ax.set(title=title, xlabel="epoch", yscale="log" if log else "linear")
        ax.legend(fontsize=7)
    ax = axes.flat[5]
    ax.plot(epochs, r.train_error, "k", label="train")
    ax.plot(epochs, r.test_error, "C3", label="test")
    ax.set(title="classification error", xlabel="epoch", yscale="symlog",
           ylim=(0, 1))
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.legend(fontsize=7)
    fig.suptitle(f"digits, MLP depth {args.depth} width {args.width}, {args.loss} loss, weight "
                 f"decay {args.weight_decay:g}", fontsize=10)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    plt.close(fig)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
