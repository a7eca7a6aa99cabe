"""`escalier scaling`: samples until one spherical neuron learns a target (single-index, or
multi-index up to three directions: its projection on the teacher subspace escapes), against
d, beside the predictions of the exponents report for online SGD and batch reuse (Ben Arous,
Gheissari, Jagannath, arXiv 2003.10409; Dandi et al., arXiv 2402.03220)."""

from __future__ import annotations

import sys

from escalier.numerics.figures import save_figure

from ._common import (
    add_engine_argument,
    add_set_argument,
    bounded,
    enable_float64,
    nonnegative_int,
    positive_float,
    positive_int,
    target_from_args,
    write_json,
)

DEFAULT_D = (128, 256, 512, 1024)


def add_arguments(parser) -> None:
    parser.add_argument("target", help="target of at most 3 directions, e.g. 'He3(z1)' or "
                                       "'z1*z2*z3' (one spherical neuron learns it: escape "
                                       "when its projection on the teacher subspace "
                                       "|M_1.| reaches --threshold)")
    parser.add_argument("--student", default=None,
                        help="student activation (default, single-index: the target's own "
                             "link f(x), under --protocol reuse relu for generative exponent "
                             "1 and x**2/2 for 2; multi-index: He_l, l the target's "
                             "information exponent; under --protocol extragradient x**2/2 "
                             "for generative exponent 2; see docs/reuse.md)")
    parser.add_argument("--d", type=bounded(int, 2), nargs="+", default=list(DEFAULT_D),
                        help=f"input dimensions (default: {' '.join(map(str, DEFAULT_D))})")
    parser.add_argument("--seeds", type=positive_int, default=None,
                        help="runs per d (default: 8 with --engine full, 48 with gram: the "
                             "escape time of one run is random with O(1) relative spread, so "
                             "a slope to +-0.1 needs about 50 runs per d)")
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="PRNG seed (default: 0)")
    parser.add_argument("--lr", type=positive_float, default=None,
                        help="learning-rate prefactor lr0: lr = lr0 (l <= 2) or "
                             "lr0 d^(-(l-2)/2) (l >= 3) (default: half the prefactor that "
                             "minimises the mean escape time of the small-overlap diffusion "
                             "(ODE drift + SGD noise) at the smallest d; under --protocol "
                             "reuse or extragradient: lr at every d, default half the rate "
                             "minimising the escape time of the d -> infinity reuse ODE)")
    parser.add_argument("--loss", default="correlation", choices=["correlation", "square"])
    parser.add_argument("--threshold", type=bounded(float, 0, 1, low_open=True, high_open=True),
                        default=0.5,
                        help="escape when |m| (multi-index: |M_1.|, the norm of the "
                             "projection on the teacher subspace) reaches this level "
                             "(default: 0.5)")
    parser.add_argument("--budget", type=bounded(float, 1, low_open=True), default=10.0,
                        help="simulate this many times the rate rule's model escape time "
                             "(the diffusion's, or the reuse ODE's); on the budget path "
                             "(--sample-budget) the default C (default: 10)")
    parser.add_argument("--records", type=positive_int, default=400,
                        help="records per run: the escape-time resolution (default: 400)")
    parser.add_argument("--protocol", choices=["online", "reuse", "extragradient"],
                        default="online",
                        help="online SGD (a fresh sample per step), batch reuse (each sample "
                             "used for --steps-per-batch consecutive steps) or extragradient "
                             "(displaced SGD: one step per sample, its gradient taken at a "
                             "look-ahead point --probe x lr away); reuse and extragradient "
                             "measure the generative exponent's law (default: online)")
    parser.add_argument("--steps-per-batch", type=bounded(int, 2), default=2,
                        help="steps on each sample under --protocol reuse (default: 2)")
    parser.add_argument("--probe", type=positive_float, default=10.0,
                        help="look-ahead of --protocol extragradient as a multiple of the "
                             "step's learning rate (default: 10, the displaced SGD of "
                             "Arnaboldi et al., arXiv 2405.15459)")
    parser.add_argument("--sample-budget", type=positive_float, default=None, metavar="C",
                        help="give every run only C d ln d samples, count the runs that "
                             "escaped and fit nothing (default: only under --protocol reuse "
                             "for a target without an O(d) or O(d log d) reuse law, e.g. "
                             "sign(z1*z2*z3), with C = --budget)")
    add_engine_argument(parser)
    parser.add_argument("--plot", metavar="FILE", help="write a figure")
    parser.add_argument("--json", metavar="FILE", help="write the results and configuration")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_set_argument(parser)


def run(args) -> int:
    enable_float64()
    from escalier.numerics.simulation import Extragradient, OnlineSGD, StepsPerBatch
    from escalier.numerics.verify import check_scaling_target, escape_scaling

    if args.seeds is None:
        args.seeds = 48 if args.engine == "gram" else 8
    if any(d < 2 for d in args.d):
        raise ValueError(f"--d must be integers >= 2, got {args.d}")
    target = target_from_args(args.target, args)
    check_scaling_target(target)  # before the header: a refusal is one line
    print(f"escalier scaling: target {target} ({target.k}-index); one spherical neuron; "
          f"loss {args.loss}; d = {sorted(set(args.d))}; {args.seeds} seeds", file=sys.stderr)
    r = escape_scaling(target, args.student, args.d, seeds=args.seeds, seed=args.seed,
                       lr0=args.lr, threshold=args.threshold, budget=args.budget,
                       n_records=args.records, engine=args.engine, loss=args.loss,
                       progress=not args.no_progress,
                       protocol={"reuse": StepsPerBatch(args.steps_per_batch),
                                 "extragradient": Extragradient(args.probe),
                                 "online": OnlineSGD()}[args.protocol],
                       sample_budget=args.sample_budget)
    law = r.law
    pred = r.config["predictions"]
    print(f"exponents report: online SGD, information exponent {pred['information_exponent']}:"
          f" samples ~ {pred['online']}; batch reuse, generative exponent "
          f"{pred['generative_exponent']}: samples ~ {pred['reuse']}")
    measure = "|m|" if target.k == 1 else "|M_1.| (projection on the teacher subspace)"
    if law is None:
        return _budget_report(r, args, measure)
    reuse = args.protocol != "online"
    if reuse:
        print(f"protocol: {r.config['protocol']}; measured law: generative exponent {law.l}, "
              f"samples ~ {law.law}; learning rate {r.config['lr_rule']}")
    else:
        print(f"protocol: online; information exponent (student-compatible) l = {law.l}: "
              f"steps ~ {law.law}; learning rate {r.config['lr_rule']}")
    model = ("the diffusion's mean escape time" if not reuse else
             "the reuse diffusion's mean escape time" if target.k == 1 else
             "the d -> infinity reuse ODE's escape time")
    print(f"{'samples' if reuse else 'steps'} until {measure} >= "
          f"{args.threshold} "
          f"over all seeds (typical = geometric mean, or the median when some did not escape; "
          f"t_diffusion: {model}, numerical):")
    print(r.to_text())
    for note in r.notes():
        print(f"note: {note}")
    fitted = "n/a (fewer than two d with a typical value)" if r.fit is None else str(r.fit)
    at_threshold = ("" if r.predicted_threshold != r.predicted_threshold else
                    f" (d ln d), {r.predicted_threshold:.3f} (d ln({args.threshold:g} "
                    f"sqrt(d/{target.k})): the growth from the start to the threshold)")
    model = ("small-overlap diffusion" if not reuse else "reuse diffusion" if target.k == 1
             else "reuse ODE")
    print(f"fitted exponent of {'samples' if reuse else 'steps'} in d: "
          f"{fitted}; predicted ({law.law}) over this range: {r.predicted:.3f}{at_threshold}; "
          f"{model} at these rates: {r.diffusion_exponent:.3f}"
          + ("" if not reuse or r.config.get("reuse_ode_exponent") is None or target.k > 1
             else f"; reuse ODE: {r.config['reuse_ode_exponent']:.3f}"))
    _write_json(r, args)
    if args.plot:
        plot_scaling(r, args.plot, title=f"{args.target}, {r.config['protocol']}, l = {law.l}")
        print(f"wrote {args.plot}")
    return 0


def _write_json(r, args) -> None:
    if args.json:
        payload = r.to_json()
        payload["command"] = {"name": "scaling", **{k: v for k, v in vars(args).items()
                                                    if k not in ("debug", "command")}}
        write_json(args.json, payload)
        print(f"wrote {args.json}")


def _budget_report(r, args, measure: str) -> int:
    """The budget path: per d, the runs that escaped within C d ln d samples; no fit."""
    print(f"protocol: {r.config['protocol']}; {r.config['budget_reason']}: each run is given "
          f"{r.config['sample_budget_factor']:g} x d ln d samples and counted, no law is fitted "
          f"or extrapolated; learning rate {r.config['lr_rule']}")
    print(f"samples until {measure} >= {args.threshold} within the budget (median over all "
          f"runs, nan when fewer than half escaped):")
    print(r.to_text())
    for line in r.budget_lines():
        print(line)
    print(f"budget reached: {'yes' if r.budget_reached else 'no'}; fitted exponent: none "
          f"(budget path)")
    _write_json(r, args)
    if args.plot:
        print("no figure on the budget path (nothing is fitted)")
    return 0


def plot_scaling(r, path: str, title: str = "") -> None:
    """Steps to escape per seed and typical, against d, with the fit and the predicted law."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    ds = np.asarray(r.ds, dtype=float)
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for i, d in enumerate(ds):
        s = r.steps[i][np.isfinite(r.steps[i])]
        ax.plot(np.full(s.shape, d), s, ".", color="0.6", ms=4)
    ax.plot(ds, r.typical, "o", color="C0", label="typical")
    if r.fit is not None:
        ax.plot(ds, r.fit.prefactor * ds**r.fit.exponent, "C0-", lw=1,
                label=f"fit: d^({r.fit.exponent:.2f} +- {r.fit.stderr:.2f})")
    finite = np.isfinite(r.typical)
    if finite.any():
        law = r.law.steps(ds)
        scale = np.exp(np.mean(np.log(r.typical[finite] / law[finite])))
        ax.plot(ds, scale * law, "k--", lw=1, label=f"theory: {r.law.law}")
    reuse = r.config.get("reuse", False)
    ax.set(xscale="log", yscale="log", xlabel="d",
           ylabel="samples to escape" if reuse else "SGD steps to escape", title=title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path)
