"""`escalier batch TARGET`: iterations to a target overlap against batch size, the knee near
d^(l/2) under the square loss and none under the correlation loss (Arnaboldi et al.,
arXiv 2406.02157; docs/batch.md).

Example: escalier batch "He3(z1)" --d 128 256 512 --plot knee.png --json knee.json
"""

from __future__ import annotations

import math
import sys

from ._common import (
    bounded,
    enable_float64,
    nonnegative_int,
    positive_int,
    save_figure,
    write_json,
)

DEFAULT_D = (128, 256, 512)
_UNIT = bounded(float, 0, 1, low_open=True, high_open=True)


def add_arguments(parser) -> None:
    parser.add_argument("target", help="single-index target f(z1), e.g. 'He3(z1)'")
    parser.add_argument("--student", default="He3", help="student activation (default: He3)")
    parser.add_argument("--d", type=bounded(int, 8), nargs="+", default=list(DEFAULT_D),
                        help=f"input dimensions (default: {' '.join(map(str, DEFAULT_D))})")
    parser.add_argument("--nb", type=positive_int, nargs="+", default=None,
                        help="batch sizes, the same at every d (default: r d^(l/2) for r in "
                             "--ratios)")
    parser.add_argument("--ratios", type=bounded(float, 0, low_open=True), nargs="+",
                        default=[1 / 4, 1 / 2, 1, 2, 4, 8, 16, 32],
                        help="batch sizes as multiples of d^(l/2) (default: 1/4 ... 32)")
    parser.add_argument("--loss", choices=["square", "correlation", "both"], default="both",
                        help="loss (default: both, for the contrast)")
    parser.add_argument("--overlap", type=_UNIT, default=0.5,
                        help="target overlap |m| (default: 0.5)")
    parser.add_argument("--eps", type=_UNIT, default=0.5,
                        help="noise-to-drift ratio at m = d^(-1/2) fixing the learning-rate "
                             "prefactor (default: 0.5)")
    parser.add_argument("--kappa", type=_UNIT, default=0.5,
                        help="square loss: gamma <= kappa / |E[dg/dlambda]| (default: 0.5)")
    parser.add_argument("--seeds", type=positive_int, default=8,
                        help="gram runs per point; T is their median (default: 8)")
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="PRNG seed")
    parser.add_argument("--max-steps", type=positive_int, default=10**6,
                        help="most SGD steps per run (default: 10^6)")
    parser.add_argument("--no-map", action="store_true", help="skip the finite-step map")
    parser.add_argument("--plot", metavar="FILE", help="write a figure")
    parser.add_argument("--json", metavar="FILE", help="write the results and configuration")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args) -> int:
    enable_float64()
    from tqdm import tqdm

    from escalier.numerics.batch import batch_study

    losses = ("square", "correlation") if args.loss == "both" else (args.loss,)
    n_points = len(losses) * len(args.d) * len(args.nb or args.ratios)
    bar = tqdm(total=n_points, desc="escalier batch", file=sys.stderr,
               disable=args.no_progress)

    def tick(message):
        bar.set_postfix_str(message, refresh=False)
        bar.update(1)

    try:
        study = batch_study(args.target, sorted(set(args.d)), student=args.student,
                            losses=losses, n_b=args.nb, ratios=tuple(args.ratios),
                            m_target=args.overlap, eps=args.eps, kappa=args.kappa,
                            seeds=args.seeds, seed=args.seed, max_steps=args.max_steps,
                            use_map=not args.no_map, progress=tick)
    finally:
        bar.close()
    print(text(study))
    if args.json:
        payload = study.to_json()
        payload["command"] = {"name": "batch", **{k: v for k, v in vars(args).items()
                                                  if k not in ("debug", "command")}}
        write_json(args.json, payload)
        print(f"wrote {args.json}")
    if args.plot:
        plot(study, args.plot)
        print(f"wrote {args.plot}")
    return 0


def _fmt(v) -> str:
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:g}"


def text(study) -> str:
    """The report: the learning-rate rule, T(n_b) tables, fits and the knee against d^(l/2)."""
    l = study.l
    lines = [
        f"target {study.target}, student {study.student}: information exponent l = {l}; "
        f"spherical single neuron, |m| from ~d^(-1/2) to {study.m_target}",
        f"learning rate (arXiv 2406.02157 scaling): gamma = eta/d = eta0 n_b / d^({l}/2), "
        f"eta0 = 2 eps |C_l| / E[g^2] = {study.eta0:.4g} (eps = {study.eps:g}); square loss "
        f"capped at gamma_max = kappa/|E[dg/dlambda]| = {study.gamma_max:.4g} "
        f"(kappa = {study.kappa:g})",
        f"T = median over {study.seeds} gram-engine runs of the first step with |m| >= "
        f"{study.m_target}; T_map = the finite-step map from m = d^(-1/2)",
    ]
    for c in study.curves:
        lines.append(f"\n{c.loss} loss, d = {c.d} (d^(l/2) = {c.d ** (l / 2):.0f}):")
        lines.append(f"  {'n_b':>8} {'n_b/d^(l/2)':>11} {'gamma':>9} {'T':>9} "
                     f"{'T quartiles':>17} {'T_map':>8} {'n_b T':>10}")
        for nb, lr, T, q, tm in zip(c.n_b, c.lr, c.steps_gram, c.quartiles, c.steps_map,
                                    strict=True):
            lines.append(f"  {nb:>8d} {nb / c.d ** (l / 2):>11.3g} {lr / c.d:>9.3g} "
                         f"{_fmt(T):>9} {_fmt(q[0]) + '-' + _fmt(q[1]):>17} {_fmt(tm):>8} "
                         f"{_fmt(nb * T):>10}")
        f = c.fit
        if f:
            lines.append(f"  fit T = A/n_b + B: A = {f['A']:.4g}, B = {f['B']:.4g}; knee A/B = "
                         f"{_fmt(f['knee'])} = {_fmt(f['knee'] / c.d ** (l / 2))} d^(l/2); "
                         f"log-log slope small n_b {f['slope_small']:.2f}, large n_b "
                         f"{f['slope_large']:.2f}")
    for loss, k in study.knee_exponent.items():
        ratios = ", ".join(f"d={d}: {_fmt(v)}" for d, v in k["knee_over_d_pow_l_over_2"].items())
        lines.append(f"\nknee ({loss}): knee / d^(l/2) = {ratios or '-'}; fitted knee ~ "
                     f"d^{_fmt(k['exponent'])} (theory d^{l / 2:g})")
    return "\n".join(lines)


def plot(study, path: str) -> None:
    """T(n_b) per d and loss (gram medians, map dotted), knee marks, d^(l/2) lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=True)
    ds = sorted({c.d for c in study.curves})
    for ax, loss in zip(axes, ("square", "correlation"), strict=True):
        for i, d in enumerate(ds):
            for c in study.curves:
                if c.loss != loss or c.d != d:
                    continue
                nb = np.asarray(c.n_b, float)
                ax.plot(nb, c.steps_gram, "o-", color=f"C{i}", label=f"d = {d} (gram)")
                if np.any(np.isfinite(c.steps_map)):
                    ax.plot(nb, c.steps_map, ":", color=f"C{i}")
                ax.axvline(d ** (study.l / 2), color=f"C{i}", lw=0.6, ls="--")
                k = c.fit.get("knee", math.nan)
                if math.isfinite(k):
                    ax.plot([k], [c.fit["A"] / k + c.fit["B"]], "x", color=f"C{i}", ms=9)
        ax.set(xscale="log", yscale="log", xlabel="batch size n_b",
               title=f"{loss} loss (dashed: d^(l/2); x: fitted knee; dotted: map)")
        ax.legend(fontsize=7)
    axes[0].set_ylabel(f"iterations T to |m| = {study.m_target}")
    fig.suptitle(f"{study.target}, l = {study.l}")
    fig.tight_layout()
    save_figure(fig, path)
