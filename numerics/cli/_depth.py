"""`escalier depth`: predicted sample exponents of deep and shallow learners on a Gaussian
hierarchical target (SIGHT / MIGHT, arXiv 2502.13961) and their measured test error against
kappa = log n / log d (docs/depth.md)."""

from __future__ import annotations

import json
import sys

from escalier.numerics.figures import save_figure

from ._common import bounded, positive_float

DEFAULT_P = "He2(z)/2 + He3(z)/6"
DEFAULT_G = "tanh(3*z)"
COLORS = {"three_layer": "tab:blue", "two_layer": "tab:green", "kernel": "tab:orange",
          "random_features": "tab:purple"}


def add_arguments(parser) -> None:
    parser.add_argument("--eps", type=bounded(float, 0, 1, low_open=True, high_open=True),
                        default=0.5, help="D = d^eps first-level features (default: 0.5)")
    parser.add_argument("--P", default=DEFAULT_P,
                        help=f"first-level polynomial in z, zero mean (default: {DEFAULT_P!r})")
    parser.add_argument("--g", default=DEFAULT_G,
                        help=f"second level g*(z) (MIGHT: g*(z1..zk) with --branches k) "
                             f"(default: {DEFAULT_G!r})")
    parser.add_argument("--branches", type=bounded(int, 1), default=None,
                        help="k branches (MIGHT); default 1, or the largest index in --g")
    parser.add_argument("--d", type=bounded(int, 4), nargs="+", default=[32, 64, 128],
                        help="dimensions (default: 32 64 128)")
    parser.add_argument("--kappa", type=positive_float, nargs="+",
                        default=[1.0, 1.25, 1.5, 1.75, 2.0],
                        help="sample exponents, n = d^kappa (default: 1 1.25 1.5 1.75 2)")
    parser.add_argument("--seeds", type=bounded(int, 1), default=3,
                        help="teachers and training sets per point; the median is reported (3)")
    parser.add_argument("--seed", type=bounded(int, 0), default=0, help="base seed (0)")
    parser.add_argument("--learners", nargs="+", default=None, metavar="NAME",
                        help="three_layer two_layer kernel random_features (default: all)")
    parser.add_argument("--n-test", type=bounded(int, 10), default=2000,
                        help="test (and validation) samples (default: 2000)")
    parser.add_argument("--steps", type=bounded(int, 1), default=8,
                        help="first-layer giant gradient steps (default: 8)")
    parser.add_argument("--first-layer", choices=["giant", "paper"], default="giant",
                        help="first-layer training: 'giant' (--steps normalised full-batch "
                             "steps, rows on the sphere) or 'paper' (int(15 ln d / 0.7) plain "
                             "steps at the paper's rate sqrt(p1)/0.2^2) (default: giant)")
    parser.add_argument("--second-layer", choices=["closed", "gd"], default="closed",
                        help="three-layer second layer: 'closed' (linearised endpoint, "
                             "docs/depth.md) or 'gd' (full-batch gradient descent) "
                             "(default: closed)")
    parser.add_argument("--layer2-steps", type=bounded(int, 1), default=None,
                        help="second-layer GD steps with --second-layer gd (default: the "
                             "paper's int(5 d^1.5 / 0.7))")
    parser.add_argument("--width", type=bounded(int, 1), default=None,
                        help="first hidden layer (default: 2 binom(D + deg P, deg P) in [32, 1024])")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                        help="floating point type of the networks (default: float32)")
    parser.add_argument("--predict-only", action="store_true",
                        help="only the derived exponents (no training)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--plot", metavar="FILE",
                        help="error against kappa, one curve per learner and d, predicted "
                             "thresholds as vertical lines")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args) -> int:
    from escalier.derive.depth import depth_exponents
    from escalier.derive.targets import might, sight

    if args.learners and not args.predict_only:
        from escalier.numerics.depth import LEARNER_NAMES

        bad = [lr for lr in args.learners if lr not in LEARNER_NAMES]
        if bad:
            raise ValueError(f"unknown learner(s) {bad}; accepted: {', '.join(LEARNER_NAMES)}")

    if args.branches is None and "z2" not in args.g:
        target = sight(args.P, args.g, args.eps)
    else:
        target = might(args.P, args.g, args.eps, args.branches)
    report = depth_exponents(target)
    payload = {"target": target.to_json(), "config": vars_of(args),
               **{k: v for k, v in report.to_json(max(args.kappa) + 1).items()
                  if k != "target"}}
    payload["predicted"] = {**payload["predicted"], "level": report.level}
    curves = None
    if not args.predict_only:
        if args.dtype == "float64":
            from ._common import enable_float64

            enable_float64()
        from tqdm import tqdm

        from escalier.numerics.depth import LEARNER_NAMES, DepthConfig, depth_curves

        learners = args.learners or list(LEARNER_NAMES)
        for d in args.d:
            if target.branches * target.width(d) > d:
                raise ValueError(f"d = {d} is too small for {target.branches} branches of "
                                 f"D = {target.width(d)} rows; raise --d")
        cfg = DepthConfig(width=args.width, steps=args.steps, dtype=args.dtype,
                          first_layer=args.first_layer, second_layer=args.second_layer,
                          layer2_steps=args.layer2_steps)
        total = len(args.d) * len(args.kappa) * args.seeds * len(learners)
        bar = tqdm(total=total, desc="depth", file=sys.stderr, disable=args.no_progress)

        def progress(msg):
            bar.set_postfix_str(msg)
            bar.update(1)

        try:
            curves = depth_curves(target, args.d, args.kappa, learners=learners,
                                  seeds=args.seeds, seed=args.seed, n_test=args.n_test,
                                  config=cfg, progress=progress)
        except FloatingPointError as err:
            raise ValueError(str(err)) from None
        finally:
            bar.close()
        payload["measured"] = curves.to_json()
        payload["measured_second_moment"] = {str(d): m for d, m in curves.second_moment.items()}
        payload["measured_threshold"] = _thresholds(report, curves)
        payload["threshold_rule"] = THRESHOLD_RULE
    if args.json:
        print(json.dumps(payload, indent=1))
    else:
        print(report.table())
        if curves is not None:
            print()
            print(_measured_table(curves))
            print(_threshold_table(payload["measured_threshold"], payload["first_drop"]))
    if args.plot:
        plot_depth(payload, args.plot)
        print(f"wrote {args.plot}", file=sys.stderr if args.json else sys.stdout)
    return 0


def vars_of(args) -> dict:
    return {k: getattr(args, k) for k in ("eps", "P", "g", "branches", "d", "kappa", "seeds",
                                           "seed", "n_test", "steps", "width", "dtype",
                                           "first_layer", "second_layer", "layer2_steps")}


THRESHOLD_RULE = ("the smallest kappa of the grid whose median test MSE is at most half-way "
                  "between the test samples' E y^2 and the learner's predicted d -> oo plateau "
                  "just after its first drop")


def _thresholds(report, curves) -> dict:
    """{learner: {d: kappa or None}} by THRESHOLD_RULE, for the learners with a prediction."""
    from escalier.numerics.depth import measured_threshold

    out = {}
    for lr in curves.learners:
        drop = report.first_drop(lr) if lr in ("three_layer", "two_layer", "kernel") else None
        if drop is None:
            continue
        plateau = report.error(lr, drop)
        out[lr] = {str(d): measured_threshold(
            curves.kappas, curves.median(lr, d).tolist(),
            0.5 * (curves.second_moment[d] + plateau)) for d in curves.ds}
    return out


def _threshold_table(thresholds: dict, predicted: dict) -> str:
    lines = [f"thresholds ({THRESHOLD_RULE}):"]
    for lr, by_d in thresholds.items():
        cells = ", ".join(f"d={d}: {'-' if k is None else f'{k:g}'}" for d, k in by_d.items())
        lines.append(f"  {lr:<12} predicted {predicted[lr]:g}; measured {cells}")
    return "\n".join(lines)


def _measured_table(curves) -> str:
    head = f"{'learner':<16} {'d':>5} " + " ".join(f"{k:>8g}" for k in curves.kappas)
    lines = ["measured test MSE (median over seeds) against kappa:", head]
    for lr in curves.learners:
        for d in curves.ds:
            lines.append(f"{lr:<16} {d:>5} " + " ".join(f"{e:>8.4f}" for e in
                                                        curves.median(lr, d)))
    lines.append("E[y^2] of the test samples: " + ", ".join(
        f"d={d}: {m:.4f}" for d, m in curves.second_moment.items()))
    return "\n".join(lines)


def plot_depth(payload: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    kmax = max(payload["config"]["kappa"])
    markers = "osv^D<>"
    for lr, by_d in payload.get("measured", {}).items():
        for i, (d, rec) in enumerate(by_d.items()):
            ax.plot(rec["kappa"], rec["median"], marker=markers[i % len(markers)],
                    color=COLORS.get(lr, "k"), alpha=0.5 + 0.5 * (i + 1) / len(by_d),
                    label=f"{lr}, d = {d}")
    for lr, steps in payload["steps"].items():
        kept = [(k, e) for k, e in steps if k <= kmax + 0.25]
        ks = [k for k, _ in kept] + [kmax + 0.25]
        es = [e for _, e in kept]
        ax.step(ks, es + [es[-1]], where="post", ls=":", lw=1.5, color=COLORS.get(lr, "k"))
        for kk in (payload["first_drop"].get(lr), payload["predicted"].get(lr)):
            if kk is not None and kk <= kmax + 0.25:
                ax.axvline(kk, color=COLORS.get(lr, "k"), ls="--", lw=1)
    ax.axhline(payload["trivial_error"], color="grey", ls="-.", lw=1, label="Var(y), d -> oo")
    ax.set_xlabel("kappa = log n / log d")
    ax.set_ylabel("test MSE")
    t = payload["target"]
    ax.set_title(f"P = {t['P']}, g* = {t['g']}, eps = {t['eps']:g} "
                 "(dotted: d -> oo staircases; dashed: predicted thresholds)", fontsize=8)
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    save_figure(fig, path)
