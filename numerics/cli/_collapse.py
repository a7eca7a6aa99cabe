"""`escalier collapse`: neural collapse, the deep linear unconstrained features model (closed
form against training, Hessians) and NC1-NC4 of a small MLP trained on scikit-learn's digits."""

from __future__ import annotations

import json
import sys

from escalier.numerics.figures import save_figure

from ._common import bounded, enable_float64, nonnegative_float, positive_float

DATASETS = ("digits",)






def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="collapse_command", metavar="{ufm,train}", required=True)
    u = sub.add_parser("ufm", help="deep linear UFM: closed-form optimum vs L-BFGS restarts, "
                                   "and the Hessian blocks at the optimum")
    u.add_argument("--K", type=bounded(int, 2), default=3, help="classes (>= 2, default 3)")
    u.add_argument("--L", type=bounded(int, 1), default=2,
                   help="weight matrices W_1..W_L (default 2; L + 1 factors with H)")
    u.add_argument("--width", type=bounded(int, 1), default=8, help="width d >= K (default 8)")
    u.add_argument("--n", type=bounded(int, 1), default=1, help="samples per class (default 1)")
    u.add_argument("--weight-decay", type=nonnegative_float, default=0.005,
                   help="lambda > 0 (default 0.005)")
    u.add_argument("--loss", choices=["mse", "ce"], default="mse",
                   help="mse: closed form vs training; ce: the cross-entropy UFM, numerical "
                        "(DNC critical points vs low-rank restarts)")
    u.add_argument("--restarts", type=bounded(int, 1), default=40,
                   help="random restarts of L-BFGS (default 40)")
    u.add_argument("--seed", type=bounded(int, 0), default=0)
    u.add_argument("--init-scale", type=positive_float, default=1.0,
                   help="initial entries N(0, scale^2 / fan_in) (default 1)")
    u.add_argument("--json", action="store_true", help="print JSON instead of the table")
    u.add_argument("--plot", metavar="FILE", help="write the Hessian spectra of the blocks")

    t = sub.add_parser("train", help="NC1-NC4 per epoch and layer of an MLP trained to the "
                                     "terminal phase")
    t.add_argument("--dataset", default="digits",
                   help=f"a dataset shipped with scikit-learn: {', '.join(DATASETS)}")
    t.add_argument("--depth", type=bounded(int, 1), default=3, help="hidden layers (default 3)")
    t.add_argument("--width", type=bounded(int, 1), default=64, help="hidden width (default 64)")
    t.add_argument("--epochs", type=bounded(int, 1), default=800, help="epochs (default 800)")
    t.add_argument("--loss", choices=["mse", "ce"], default="mse",
                   help="square loss on one-hot targets (default; collapses faster on this "
                        "small network) or cross-entropy")
    t.add_argument("--lr", type=positive_float, default=0.05,
                   help="SGD learning rate (momentum 0.9; default 0.05)")
    t.add_argument("--lr-decay", action="store_true",
                   help="divide the learning rate by 10 at 1/3 and 2/3 of the epochs")
    t.add_argument("--weight-decay", type=nonnegative_float, default=2e-3,
                   help="weight decay (default 2e-3)")
    t.add_argument("--batch", type=bounded(int, 1), default=128, help="batch size (default 128)")
    t.add_argument("--every", type=bounded(int, 1), default=None,
                   help="record the metrics every this many epochs (default: epochs/100)")
    t.add_argument("--seed", type=bounded(int, 0), default=0)
    t.add_argument("--json", action="store_true", help="print JSON instead of the table")
    t.add_argument("--plot", metavar="FILE", help="write the NC1-NC4 curves")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args) -> int:
    enable_float64()
    if args.collapse_command == "ufm":
        return _run_ufm(args)
    return _run_train(args)


def _run_ufm(args) -> int:
    if args.width < args.K:
        raise ValueError(f"--width must be >= --K = {args.K}, got {args.width}")
    if args.weight_decay <= 0:
        raise ValueError(f"--weight-decay must be > 0, got {args.weight_decay}")
    if args.loss == "ce":
        from escalier.numerics.collapse import ce_ufm_report

        report = ce_ufm_report(args.K, args.L, args.width, args.n, args.weight_decay,
                               restarts=args.restarts, seed=args.seed,
                               init_scale=args.init_scale)
        print(json.dumps(report.to_json(), indent=1) if args.json else report.to_text())
        return 0
    from escalier.numerics.collapse import compare_ufm

    print(f"escalier collapse ufm: {args.restarts} L-BFGS restarts ...", file=sys.stderr)
    c = compare_ufm(args.K, args.L, args.width, args.n, args.weight_decay,
                    restarts=args.restarts, seed=args.seed, init_scale=args.init_scale)
    print(json.dumps(c.to_json(), indent=1) if args.json else c.to_text())
    if args.plot:
        plot_ufm_spectrum(c, args.plot)
        print(f"wrote {args.plot}", file=sys.stderr if args.json else sys.stdout)
    return 0


def plot_ufm_spectrum(c, path: str) -> None:
    """Eigenvalues of each block Hessian at the trained optimum, with the closed form."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    j = c.to_json()
    names = list(j["hessian"])
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.4), squeeze=False)
    lam = j["setting"]["weight_decay"]
    for ax, name, ev in zip(axes[0], names, c.hessian_measured, strict=True):
        h = j["hessian"][name]
        ax.plot(np.arange(ev.size), np.sort(ev)[::-1], ".", ms=4, label="jax.hessian")
        ax.axhline(lam, color="k", ls=":", lw=1, label=f"lambda = {lam:g}")
        if h["outliers"]:
            ax.axhline(h["outliers"][0], color="C3", ls="--", lw=1,
                       label=f"closed form x{h['rank']}")
        ax.set(yscale="log", title=name, xlabel="index")
        ax.legend(fontsize=7)
    axes[0, 0].set_ylabel("block Hessian eigenvalue")
    s = j["setting"]
    fig.suptitle(f"UFM Hessian blocks: K={s['K']}, L={s['L']}, d={s['width']}, n={s['n']}",
                 fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


def _run_train(args) -> int:
    if args.dataset not in DATASETS:
        raise ValueError(f"--dataset {args.dataset!r} is not shipped; accepted: "
                         f"{', '.join(DATASETS)}")
    from escalier.numerics.collapse import train_mlp

    every = args.every or max(1, args.epochs // 100)
    r = train_mlp(dataset=args.dataset, depth=args.depth, width=args.width,
                  epochs=args.epochs, lr=args.lr, weight_decay=args.weight_decay,
                  batch=args.batch, every=every, seed=args.seed, loss=args.loss,
                  lr_decay=args.lr_decay, progress=not args.no_progress)
    print(json.dumps(r.to_json(), indent=1) if args.json else r.to_text())
    if args.plot:
        plot_collapse_curves(r, args.plot)
        print(f"wrote {args.plot}", file=sys.stderr if args.json else sys.stdout)
    return 0


def plot_collapse_curves(r, path: str) -> None:
    """NC1 (log), NC2, NC3, NC4 and the training error against epoch, one line per layer."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    epochs = np.asarray(r.epochs)
    fig, axes = plt.subplots(1, 5, figsize=(17, 3.4))
    for layer in range(r.depth):
        label = f"layer {layer + 1}" + (" (penultimate)" if layer == r.depth - 1 else "")
        axes[0].plot(epochs, r.metric("nc1", layer), label=label)
        axes[1].plot(epochs, r.metric("nc2_means", layer), label=label)
        axes[3].plot(epochs, r.metric("nc4", layer), label=label)
    axes[1].plot(epochs, r.metric("nc2_classifier", r.depth - 1), "k--", label="classifier W")
    axes[2].plot(epochs, r.metric("nc3", r.depth - 1), "k", label="penultimate")
    axes[4].plot(epochs, r.train_error, "k", label="train")
    axes[4].plot(epochs, r.test_error, "C3", label="test")
    for ax, title, log in zip(axes, ["NC1: tr(S_W S_B^+)/K", "NC2: distance from ETF",
                                     "NC3: ||W/|W| - M/|M|||", "NC4: mismatch with NCC",
                                     "error"], [True, True, True, False, False], strict=True):
        ax.set(title=title, xlabel="epoch", yscale="log" if log else "linear")
        ax.legend(fontsize=7)
    te = r.terminal_epoch
    phase = f"training error 0 from epoch {te}" if te is not None else "training error never 0"
    fig.suptitle(f"MLP on {r.dataset} ({r.config['loss']}): depth {r.depth}, width {r.width}; "
                 f"{phase}", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)
