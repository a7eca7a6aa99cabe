"""`escalier giant-step`: what one or a few giant GD steps learn, measured against the
exponents report's prediction, or (--spike) the spiked features after one step in the
proportional regime (docs/giant.md; arXiv 2305.18270, 2205.01445)."""

from __future__ import annotations

import json
import math
import sys

from escalier.numerics.figures import save_figure

from ._common import bounded, enable_float64, positive_float, positive_int

SUBSPACE_DEFAULTS = {"p": 4, "d": [100], "alpha": 4.0, "lr": 10.0, "seeds": 16}
SPIKE_DEFAULTS = {"p": 1000, "d": [1000], "alpha": 2.0, "lr": None, "seeds": 2}


def add_arguments(parser) -> None:
    parser.add_argument("target", help="the teacher f(z1..zk), e.g. 'z1 + z1*z2'")
    parser.add_argument("--student", default="relu",
                        help="student activation: a name or an expression in x (default: relu)")
    parser.add_argument("--p", type=positive_int, default=None,
                        help="student hidden units (default: 4; --spike: 1000)")
    parser.add_argument("--d", type=bounded(int, 3), nargs="+", default=None,
                        help="input dimensions; several give the overlap against d and its "
                             "shrinkage exponent (default: 100; --spike: 1000, one value)")
    parser.add_argument("--n-exponent", dest="l", type=positive_int, default=1, metavar="L",
                        help="batch n = alpha d^L per step (default: 1; --spike: L = 1)")
    parser.add_argument("--alpha", type=positive_float, default=None,
                        help="batch prefactor alpha in n = alpha d^L (default: 4; --spike: 2)")
    parser.add_argument("--steps", type=positive_int, default=1,
                        help="giant steps, each on a fresh batch (default: 1)")
    parser.add_argument("--lr", type=positive_float, default=None, metavar="ETA",
                        help="learning rate prefactor: lr = ETA d^((L+1)/2) (default 10); "
                             "--spike: lr = ETA sqrt(p) (default: twice the BBP threshold)")
    parser.add_argument("--loss", default="correlation", choices=["correlation", "square"],
                        help="per-sample loss of the subspace runs (default: correlation; "
                             "--spike uses the square loss of arXiv 2205.01445)")
    parser.add_argument("--engine", default="gram", choices=["gram", "full"],
                        help="engine of the subspace runs (default: gram, exact at any d)")
    parser.add_argument("--normalize-rows", action="store_true",
                        help="rescale every row to |w|^2 = d after each step (the row span is "
                             "unchanged; pre-activations keep unit variance)")
    parser.add_argument("--spike", action="store_true",
                        help="the spiked features after one step (n = alpha d): alignment, "
                             "BBP threshold, outlier singular value")
    parser.add_argument("--ridge", type=positive_float, nargs="+", metavar="ALPHA_R",
                        help="--spike: also fit ridge on the features before (random features)"
                             " and after the step with n_r = ALPHA_R d samples (simulation)")
    parser.add_argument("--ridge-lambda", type=positive_float, default=0.01, metavar="LAM",
                        help="ridge penalty for --ridge (default: 0.01)")
    parser.add_argument("--cov-samples", type=bounded(int, 0), default=None, metavar="N",
                        help="--spike: fresh samples for the measured feature covariance "
                             "(default: 20 p; 0 skips it)")
    parser.add_argument("--seeds", type=positive_int, default=None,
                        help="independent runs (default: 16; --spike: 2)")
    parser.add_argument("--seed", type=bounded(int, 0), default=0, help="base seed (default: 0)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--plot", metavar="FILE",
                        help="overlap against d (or per direction); --spike: singular-value "
                             "histogram with the outlier and the bulk edge")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _defaults(args, table) -> None:
    for name, value in table.items():
        if getattr(args, name) is None:
            setattr(args, name, value)


def run(args) -> int:
    enable_float64()
    from escalier.derive import Target

    target = Target.parse(args.target)
    if target.parameters:
        names = ", ".join(s.name for s in target.parameters)
        raise ValueError(f"the target has free parameters ({names}); give numbers")
    payload = _spike(args, target) if args.spike else _subspaces(args, target)
    if args.json:
        print(json.dumps(payload, indent=1))
    else:
        print(_spike_table(payload) if args.spike else _subspace_table(payload))
    if args.plot:
        (plot_spectrum if args.spike else plot_overlaps)(payload, args.plot)
        print(f"wrote {args.plot}", file=sys.stderr if args.json else sys.stdout)
    return 0


def _subspaces(args, target) -> dict:
    from tqdm import tqdm

    from escalier.numerics.giant import (
        predicted_directions,
        shrinkage_exponent,
        subspace_overlaps,
    )

    _defaults(args, SUBSPACE_DEFAULTS)
    dirs = predicted_directions(target, args.l, args.steps, args.student)
    runs = []
    ds = sorted(set(args.d))
    if args.p < 1 or min(ds) < target.k + 2 * args.p:
        raise ValueError(f"--d must be >= k + 2p = {target.k + 2 * args.p} (smallest given: "
                         f"{min(ds)})")
    for d in tqdm(ds, desc="giant-step", file=sys.stderr, disable=args.no_progress):
        n = args.alpha * float(d) ** args.l
        if n > 1e10:
            raise ValueError(f"n = alpha d^L = {n:.3g} samples at d = {d} is beyond this "
                             f"command (1e10); lower --d, --alpha or --n-exponent")
        runs.append(subspace_overlaps(target, d=d, l=args.l, alpha=args.alpha, steps=args.steps,
                                      student=args.student, p=args.p, eta=args.lr,
                                      loss=args.loss, seeds=args.seeds, seed=args.seed,
                                      engine=args.engine, directions=dirs,
                                      normalize_rows=args.normalize_rows))
    last = runs[-1]
    out = {"target": str(target), "student": args.student, "p": args.p, "l": args.l,
           "alpha": args.alpha, "steps": args.steps, "lr_prefactor": args.lr,
           "loss": args.loss, "engine": args.engine, "seeds": args.seeds,
           "normalize_rows": args.normalize_rows, "d": last["d"],
           "n": last["n"], "lr": last["lr"], "subspaces": last["subspaces"],
           "by_d": [{"d": r["d"], "n": r["n"], "overlap": [s["overlap"] for s in r["subspaces"]],
                     "overlap_stderr": [s["overlap_stderr"] for s in r["subspaces"]]}
                    for r in runs]}
    if len(runs) > 1:
        out["shrinkage_exponent"] = [
            shrinkage_exponent(ds, [r["subspaces"][i]["overlap"] for r in runs],
                               s["predicted_learned"])
            for i, s in enumerate(last["subspaces"])]
    return out


def _spike(args, target) -> dict:
    from escalier.numerics.giant import spike_summary, spike_theory

    _defaults(args, SPIKE_DEFAULTS)
    if args.l != 1 or args.steps != 1:
        raise ValueError("--spike is one step in the proportional regime: --n-exponent 1 "
                         "--steps 1")
    if len(args.d) != 1:
        raise ValueError("--spike takes one --d")
    d = args.d[0]
    if args.lr is None:
        th = spike_theory(target, args.student, p=args.p, d=d, alpha=args.alpha, eta=1.0)
        if th["threshold_lr"] is None:
            raise ValueError(f"mu1 = E[sigma'] = 0 for --student {args.student}: no rank-one "
                             f"spike at this order; give --lr explicitly")
        args.lr = 2 * th["threshold_lr"]
    spike = spike_summary(target, args.student, p=args.p, d=d, alpha=args.alpha, eta=args.lr,
                          seeds=args.seeds, seed=args.seed, cov_samples=args.cov_samples)
    spectrum = spike.pop("singular_values")
    out = {"target": str(target), "student": args.student, "spike": spike,
           "singular_values_seed0": spectrum}
    if args.ridge:
        from escalier.numerics.giant import ridge_after_step

        r = ridge_after_step(target, args.student, p=args.p, d=d, alpha=args.alpha,
                             eta=args.lr, alphas_ridge=args.ridge, lambdas=[args.ridge_lambda],
                             seeds=args.seeds, seed=args.seed)
        out["ridge"] = {"alphas_ridge": r["alphas_ridge"], "lambda": args.ridge_lambda,
                        "E_y2": r["E_y2"],
                        "kind": "simulation; theory: Gaussian-equivalent deterministic "
                                "equivalent (exact for random features; the linear-spike "
                                "model after the step, docs/giant.md §4)",
                        **{key: [row[0] for row in r[key]] if r.get(key) is not None else None
                           for key in ("random_features", "random_features_stderr",
                                       "one_step", "one_step_stderr",
                                       "random_features_theory", "one_step_theory",
                                       "random_features_exact_theory",
                                       "one_step_exact_theory")}}
    return out


def _f(x, w=8) -> str:
    return f"{'n/a':>{w}}" if x is None or (isinstance(x, float) and math.isnan(x)) else \
        f"{x:{w}.4f}"


def _subspace_table(p: dict) -> str:
    lines = [f"escalier giant-step {p['target']}: {p['steps']} step(s), n = {p['alpha']:g} "
             f"d^{p['l']}, lr = {p['lr_prefactor']:g} d^{(p['l'] + 1) / 2:g}, student "
             f"{p['student']}, p = {p['p']}, {p['loss']} loss, {p['seeds']} seeds "
             f"({p['engine']} engine)",
             "overlap = squared norm of the projection of the direction on the student's "
             "weight span (chance ~ p / d)"]
    ds = [r["d"] for r in p["by_d"]]
    head = f"{'direction':>24} {'stage':>10} {'learned?':>8} " + " ".join(
        f"{'d=' + str(d):>15}" for d in ds)
    if "shrinkage_exponent" in p:
        head += f" {'exponent':>9}"
    lines.append(head)
    for i, s in enumerate(p["subspaces"]):
        vec = "(" + ", ".join(f"{x:.2f}" for x in s["direction"]) + ")"
        row = f"{vec:>24} {s['stage']:>10} {('yes' if s['predicted_learned'] else 'no'):>8} "
        row += " ".join(f"{r['overlap'][i]:7.4f}+-{r['overlap_stderr'][i]:.4f}"
                        for r in p["by_d"])
        if "shrinkage_exponent" in p:
            row += f" {_f(p['shrinkage_exponent'][i], 9)}"
        lines.append(row)
    if "shrinkage_exponent" in p:
        lines.append("exponent: |overlap - prediction| ~ d^(-exponent) (least squares over d)")
    for s in p["subspaces"]:
        if s.get("reason"):
            vec = "(" + ", ".join(f"{x:.2f}" for x in s["direction"]) + ")"
            lines.append(f"{vec} not predicted for this student: {s['reason']}")
    return "\n".join(lines)


def _spike_table(p: dict) -> str:
    s = p["spike"]
    lines = _spike_lines(p, s)
    if "ridge" in p:
        r = p["ridge"]
        lines.append(f"ridge test error (lambda = {r['lambda']:g}; zero predictor: "
                     f"{r['E_y2']:.4f}), simulation:")
        lines.append(f"{'alpha_r':>8} {'random features':>16} {'(theory)':>9} "
                     f"{'after one step':>16} {'(theory)':>9}")
        for i, a in enumerate(r["alphas_ridge"]):
            lines.append(f"{a:8.3g} {r['random_features'][i]:16.4f} "
                         f"{r['random_features_theory'][i]:9.4f} {r['one_step'][i]:16.4f} "
                         f"{r['one_step_theory'][i]:9.4f}")
    return "\n".join(lines)


def _spike_lines(p: dict, s: dict) -> list[str]:
    out = f"{s['outlier_predicted']:.4f}" if s["outlier_predicted"] is not None else \
        "none (below threshold)"
    return [
        f"escalier giant-step {p['target']} --spike: p = {s['p']}, d = {s['d']}, n = {s['n']} "
        f"(alpha = {s['alpha']:g}), lr = {s['lr']:.4g} sqrt(p), student {p['student']}, "
        f"{s['seeds']} seeds",
        f"c1 = E[y z] = {s['c1']}, E[y^2] = {s['E_y2']:.4g}, mu1 = E[sigma'] = {s['mu1']:.4g}",
        f"alignment cos^2(v, teacher): predicted {s['alignment_predicted']:.4f}, measured "
        f"{s['alignment_measured']:.4f} +- {s['alignment_stderr']:.4f}",
        f"spike strength {s['spike_strength']:.4f} (threshold (p/d)^(1/4) = "
        f"{s['spike_threshold']:.4f}; threshold lr = {s['threshold_lr']:.4f} sqrt(p))",
        f"top singular value: predicted {out}, measured {s['outlier_measured']:.4f} +- "
        f"{s['outlier_stderr']:.4f}; bulk edge 1 + sqrt(p/d) = {s['bulk_edge']:.4f} "
        f"(second singular value {s['second_singular_value']:.4f})",
        f"top right singular vector vs v: predicted {s['singular_vector_alignment_predicted']:.4f}"
        f", measured {s['singular_vector_alignment_measured']:.4f}",
    ] + ([f"top eigenvalue of the centred feature covariance: predicted "
          f"{s['feature_cov_top_predicted']:.4f} (at {s['feature_cov_samples']} samples: "
          f"{_f(s['feature_cov_top_predicted_at_samples'], 6)}), measured "
          f"{s['feature_cov_top_measured']:.4f} +- {s['feature_cov_top_stderr']:.4f}; bulk edge "
          f"{s['feature_cov_bulk_edge']:.4f}"] if "feature_cov_top_measured" in s else [])


def plot_overlaps(p: dict, path: str) -> None:
    """Overlap of each direction against d (log axis), learned solid, not learned dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ds = [r["d"] for r in p["by_d"]]
    for i, s in enumerate(p["subspaces"]):
        y = [r["overlap"][i] for r in p["by_d"]]
        e = [r["overlap_stderr"][i] for r in p["by_d"]]
        vec = "(" + ", ".join(f"{x:.2g}" for x in s["direction"]) + ")"
        ax.errorbar(ds, y, yerr=e, marker="o", capsize=3,
                    ls="-" if s["predicted_learned"] else "--",
                    label=f"{vec} {s['stage']} ({'learned' if s['predicted_learned'] else 'not'})")
    ax.plot(ds, [min(1.0, p["p"] / d) for d in ds], color="grey", lw=0.8, label="p / d")
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("d")
    ax.set_ylabel("overlap with the weight span")
    ax.set_title(f"{p['target']}: {p['steps']} step(s), n = {p['alpha']:g} d^{p['l']}",
                 fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)


def plot_spectrum(p: dict, path: str) -> None:
    """Histogram of the singular values of W1 (seed 0), the bulk edge and the outlier."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    s = p["spike"]
    sv = np.asarray(p["singular_values_seed0"])
    if "ridge" in p:
        fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
        r = p["ridge"]
        for i, (key, label) in enumerate((("random_features", "random features (W0)"),
                                          ("one_step", "after one step (W1)"))):
            ax2.errorbar(r["alphas_ridge"], r[key], yerr=r[key + "_stderr"], marker="o",
                         ls="none", capsize=3, color=f"C{i}", label=label + ", simulation")
            ax2.plot(r["alphas_ridge"], r[key + "_theory"], color=f"C{i}",
                     label=label + ", Gaussian equivalent")
            if r.get(key + "_exact_theory") is not None:
                ax2.plot(r["alphas_ridge"], r[key + "_exact_theory"], color=f"C{i}", ls="--",
                         label=label + ", exact-moment model")
        ax2.axhline(r["E_y2"], color="grey", lw=0.8, label="zero predictor")
        ax2.set_xlabel("alpha_r = n_r / d")
        ax2.set_ylabel("ridge test error")
        ax2.set_title(f"ridge, lambda = {r['lambda']:g}", fontsize=10)
        ax2.set_xscale("log")
        ax2.minorticks_off()
        ax2.set_xticks(r["alphas_ridge"], [f"{a:g}" for a in r["alphas_ridge"]])
        ax2.legend(fontsize=8)
    else:
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.hist(sv, bins=60, density=True, color="C0", alpha=0.7, label="singular values of W1")
    ax.axvline(s["bulk_edge"], color="k", ls="--", label="bulk edge 1 + sqrt(p/d)")
    if s["outlier_predicted"] is not None:
        ax.axvline(s["outlier_predicted"], color="C3", label="predicted outlier")
    ax.plot([sv[0]], [0], "v", color="C3", ms=10, label="top singular value (seed 0)")
    ax.set_xlabel("singular value")
    ax.set_ylabel("density")
    ax.set_title(f"{p['target']}: one step, lr = {s['lr']:.3g} sqrt(p), alpha = {s['alpha']:g}",
                 fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
