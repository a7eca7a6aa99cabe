"""`escalier erm`: asymptotic training and test errors of l2-penalised ERM on a Gaussian mixture,
beside those of its Gaussian equivalent and of the estimator fitted on sampled data
(Loureiro et al., arXiv 2106.03791; Pesce et al., arXiv 2302.08923)."""

from __future__ import annotations

import json
import math
import sys

from escalier.numerics.figures import save_figure

from ._common import bounded, enable_float64, nonnegative_float, positive_float

DEFAULT_MIXTURE = "mean=1.5;mean=-1.5"










# The two grammars (parsed by escalier.numerics.erm.mixture_from_spec / teacher_from_spec);
# repeated here so that building the parser does not import JAX.
MIXTURE_SPEC_HELP = (
    "clusters separated by ';', each a comma list of p=WEIGHT (default equal), "
    "mean=R1/R2/... (components of the mean along orthonormal unit directions u1, u2, ...), "
    "var=S1/S2/... (diagonal covariance: coordinates split into equal blocks, variance Sk on "
    "block k; default 1), y=+1|-1 (label for --teacher cluster)"
)
TEACHER_SPEC_HELP = (
    "NAME[:key=value,...], NAME one of sign (y = sign(nu + sqrt(noise) xi)), linear "
    "(y = nu + sqrt(noise) xi), cluster (y = the cluster's y= label); keys noise=DELTA, "
    "align=A (cosine of theta with u1), block=k (the rest of theta on covariance block k)"
)


def add_arguments(parser) -> None:
    parser.add_argument("--loss", default="logistic", choices=["ridge", "logistic", "hinge"],
                        help="per-sample loss (ridge = square loss) (default: logistic)")
    parser.add_argument("--lambda", dest="lam", type=nonnegative_float, default=0.1,
                        help="l2 penalty lambda ||w||^2 / 2 (default: 0.1)")
    parser.add_argument("--mixture", default=DEFAULT_MIXTURE,
                        help=f"SPEC: {MIXTURE_SPEC_HELP} (default: {DEFAULT_MIXTURE!r})")
    parser.add_argument("--teacher", default="sign", help=f"TARGET: {TEACHER_SPEC_HELP} "
                                                          "(default: sign)")
    parser.add_argument("--alpha", type=positive_float, nargs="+", default=[0.5, 1.0, 2.0, 4.0],
                        help="sample ratios n / d (default: 0.5 1 2 4)")
    g = parser.add_argument_group("simulation twin")
    g.add_argument("--simulate", action="store_true", help="also fit on sampled data")
    g.add_argument("--d", type=bounded(int, 2), nargs="+", default=[1000],
                   help="dimensions of the simulation (default: 1000; the last is reported "
                        "under \"simulation\", all under \"simulation_by_d\")")
    g.add_argument("--seeds", type=bounded(int, 1), default=4, help="training sets per point (4)")
    g.add_argument("--seed", type=bounded(int, 0), default=0, help="base seed (default: 0)")
    f = parser.add_argument_group("fixed-point iteration")
    f.add_argument("--damping", type=bounded(float, 0, 1, high_open=True), default=0.5,
                   help="new = damping * old + (1 - damping) * update (default: 0.5)")
    f.add_argument("--max-iter", type=bounded(int, 1), default=20000,
                   help="iteration cap (default: 20000)")
    f.add_argument("--tol", type=positive_float, default=1e-10,
                   help="relative-change tolerance (default: 1e-10)")
    f.add_argument("--nodes", type=bounded(int, 8), default=96,
                   help="quadrature nodes in the student's field (default: 96)")
    f.add_argument("--ge-nodes", type=bounded(int, 2), default=24,
                   help="Gauss-Hermite nodes per direction of the Gaussian equivalent's "
                        "mean spread (default: 24)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--plot", metavar="FILE", help="write a figure of the errors against alpha")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args) -> int:
    enable_float64()
    from escalier.numerics.erm import (
        LOSSES,
        ClusterLabels,
        FixedPointError,
        learning_curve,
        mixture_from_spec,
        simulate_erm,
        teacher_from_spec,
    )

    teacher, align, block = teacher_from_spec(args.teacher)
    mix = mixture_from_spec(args.mixture, align=align, block=block)
    loss = LOSSES[args.loss]
    if loss.name != "ridge" and args.lam == 0:
        raise ValueError(f"--lambda 0 with the {loss.name} loss: the minimiser need not exist "
                         f"(separable data); give --lambda > 0")
    if isinstance(teacher, ClusterLabels) and mix.labels is None:
        raise ValueError("--teacher cluster needs y=+1 or y=-1 on every cluster of --mixture")
    options = dict(damping=args.damping, max_iter=args.max_iter, tol=args.tol, nodes=args.nodes)
    try:
        theory = learning_curve(mix, loss, teacher, args.alpha, args.lam, **options)
        equivalent = None
        if not isinstance(teacher, ClusterLabels):
            equivalent = learning_curve(mix.gaussian_equivalent(args.ge_nodes), loss, teacher,
                                        args.alpha, args.lam, **options)
    except FixedPointError as err:
        raise ValueError(str(err)) from None
    sims = {}
    if args.simulate:
        from tqdm import tqdm

        jobs = [(d, a) for d in args.d for a in args.alpha]
        bar = tqdm(jobs, desc="erm simulate", file=sys.stderr, disable=args.no_progress)
        for d, a in bar:
            bar.set_postfix(d=d, alpha=a)
            try:
                sims[(d, a)] = simulate_erm(mix, loss, teacher, a, args.lam, d,
                                            seeds=args.seeds, seed=args.seed)
            except RuntimeError as err:
                raise ValueError(str(err)) from None
    payload = _payload(args, theory, equivalent, sims)
    if args.json:
        print(json.dumps(payload, indent=1))
    else:
        print(_table(args, payload))
    if args.plot:
        plot_erm(payload, args.plot)
        print(f"wrote {args.plot}", file=sys.stderr if args.json else sys.stdout)
    return 0


def _payload(args, theory, equivalent, sims) -> dict:
    kind = "misclassification rate" if theory and _is_classification(args) else \
        "mean squared error E(y - yhat)^2"
    out = {
        "config": {"loss": args.loss, "lambda": args.lam, "mixture": args.mixture,
                   "teacher": args.teacher, "error": kind, "damping": args.damping,
                   "tol": args.tol, "nodes": args.nodes, "ge_nodes": args.ge_nodes},
        "alpha": [fp.alpha for fp in theory],
        "train_error": [fp.train_error for fp in theory],
        "test_error": [fp.test_error for fp in theory],
        "train_loss": [fp.train_loss for fp in theory],
        "overlaps": {k: [getattr(fp, k).tolist() for fp in theory] for k in ("m", "q", "V", "s")},
        "residual": [fp.residual for fp in theory],
        "iterations": [fp.iterations for fp in theory],
        "gaussian_equivalent": None if equivalent is None else {
            "train_error": [fp.train_error for fp in equivalent],
            "test_error": [fp.test_error for fp in equivalent],
            "residual": [fp.residual for fp in equivalent]},
    }
    if sims:
        by_d = {}
        for d in args.d:
            rs = [sims[(d, a)] for a in args.alpha]
            by_d[str(d)] = {"d": d, "seeds": args.seeds, "n": [r.n for r in rs],
                            "train_error": [r.train_error for r in rs],
                            "test_error": [r.test_error for r in rs],
                            "stderr": {"train_error": [r.stderr["train_error"] for r in rs],
                                       "test_error": [r.stderr["test_error"] for r in rs]}}
        out["simulation"] = by_d[str(args.d[-1])]
        out["simulation_by_d"] = by_d
    return out


def _is_classification(args) -> bool:
    return not args.teacher.strip().startswith("linear")


def _fmt(x) -> str:
    return "     n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:8.4f}"


def _table(args, p) -> str:
    lines = [f"escalier erm: loss {args.loss}, lambda {args.lam}, mixture {args.mixture!r}, "
             f"teacher {args.teacher!r}; errors: {p['config']['error']} (theory: numerical "
             f"fixed point, residual <= {max(p['residual']):.1e})"]
    head = f"{'alpha':>7} {'train':>8} {'test':>8} {'GE train':>8} {'GE test':>8}"
    sim = p.get("simulation")
    if sim:
        head += f" {'sim train':>17} {'sim test':>17}  (d = {sim['d']}, {sim['seeds']} seeds)"
    lines.append(head)
    ge = p["gaussian_equivalent"]
    for i, a in enumerate(p["alpha"]):
        row = f"{a:7.3g} {_fmt(p['train_error'][i])} {_fmt(p['test_error'][i])} "
        row += (f"{_fmt(ge['train_error'][i])} {_fmt(ge['test_error'][i])}" if ge
                else f"{_fmt(None)} {_fmt(None)}")
        if sim:
            st = sim["stderr"]
            row += (f" {sim['train_error'][i]:8.4f}+-{st['train_error'][i]:.4f}"
                    f" {sim['test_error'][i]:8.4f}+-{st['test_error'][i]:.4f}")
        lines.append(row)
    if ge is None:
        lines.append("(no Gaussian equivalent: cluster labels have no meaning for one Gaussian)")
    return "\n".join(lines)


def plot_erm(p: dict, path: str) -> None:
    """Training and test errors against alpha: mixture theory, Gaussian equivalent, simulation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
    for ax, key, title in ((axes[0], "train_error", "training error"),
                           (axes[1], "test_error", "test error")):
        ax.plot(p["alpha"], p[key], "C0-", label="mixture (theory)")
        if p["gaussian_equivalent"]:
            ax.plot(p["alpha"], p["gaussian_equivalent"][key], "k--",
                    label="Gaussian equivalent (theory)")
        for i, (d, sim) in enumerate(sorted((p.get("simulation_by_d") or {}).items(),
                                            key=lambda kv: int(kv[0]))):
            ax.errorbar(p["alpha"], sim[key], yerr=sim["stderr"][key], fmt="o", ms=4,
                        color=f"C{i + 1}", label=f"simulation d={d}")
        ax.set(xlabel="alpha = n / d", title=title)
        ax.legend(fontsize=7)
    cfg = p["config"]
    fig.suptitle(f"{cfg['loss']}, lambda={cfg['lambda']}, {cfg['teacher']}", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)
