"""`escalier dmft`: the dynamical mean-field theory of multi-pass gradient descent on
n = alpha d samples (Dandi et al., arXiv 2402.03220): M(t), Q(t), training and test losses,
optionally beside the multi-pass simulation (docs/reuse.md)."""

from __future__ import annotations

import sys

from escalier.numerics.figures import save_figure

from ._common import (
    add_scenario_arguments,
    add_set_argument,
    bounded,
    enable_float64,
    nonnegative_int,
    positive_float,
    positive_int,
    scenario_from_args,
    target_from_args,
    write_json,
)

DEFAULT_TARGET = "tanh(z1 + He3(z2))"


def add_arguments(parser) -> None:
    parser.add_argument("target", nargs="?", default=DEFAULT_TARGET,
                        help=f"target f(z1..zk) (default: {DEFAULT_TARGET!r}, the example of "
                             f"arXiv 2402.03220)")
    parser.add_argument("--alpha", type=positive_float, default=2.0,
                        help="samples per dimension n / d (default: 2)")
    parser.add_argument("--time", type=positive_float, default=2.0,
                        help="horizon in t = GD steps / d (default: 2)")
    parser.add_argument("--steps", type=bounded(int, 2), default=30,
                        help="time steps of the DMFT grid (Euler, dt = time / steps; the cost "
                             "grows as steps^3; default: 30)")
    parser.add_argument("--samples", type=positive_int, default=2000,
                        help="Monte-Carlo paths of the sample process (default: 2000)")
    parser.add_argument("--damping", type=bounded(float, 0, 1, low_open=True), default=0.5,
                        help="weight of the new iterate in the fixed point (default: 0.5)")
    parser.add_argument("--tol", type=positive_float, default=1e-4,
                        help="convergence tolerance on the relative residual (default: 1e-4)")
    parser.add_argument("--max-iterations", type=positive_int, default=200,
                        help="fixed-point iterations before giving up (default: 200)")
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="Monte-Carlo seed")
    parser.add_argument("--kernels", choices=("auto", "pathwise", "stein", "hybrid"),
                        default="auto",
                        help="estimator of the kernels G = E[dF/domega], Gnu = E[dF/dnu]: "
                             "pathwise derivatives (exact for smooth students, biased by "
                             "smoothing where sigma' jumps), stein (Gaussian integration by "
                             "parts, exact for any student), hybrid (smoothed pathwise plus "
                             "a Stein correction); auto: stein for ReLU-like students, else "
                             "pathwise (default: auto)")
    parser.add_argument("--simulate", type=bounded(int, 2), nargs="*", default=[],
                        metavar="D", help="also run the multi-pass simulation (full engine) at "
                                          "these d and print the deviations")
    parser.add_argument("--seeds", type=positive_int, default=8,
                        help="simulation runs per d (default: 8)")
    parser.add_argument("--json", metavar="FILE", help="write the solution (and simulations)")
    parser.add_argument("--plot", metavar="FILE", help="write a figure of M, Q and the losses")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_scenario_arguments(parser, only=("student", "p", "lr", "loss", "noise", "init_scale"),
                           student="relu", p=2, init_scale=0.5)
    add_set_argument(parser)


def run(args) -> int:
    enable_float64()
    import numpy as np

    from escalier.numerics.dmft import plot_dmft, simulate_matched, solve_dmft
    from escalier.numerics.simulation import MultiPass

    target = target_from_args(args.target, args)
    sc = scenario_from_args(target, args)
    print(f"escalier dmft: target {target}; student {args.student}, p = {sc.p}; loss "
          f"{sc.loss}; alpha = {args.alpha:g}; lr = {sc.lr:g}; t in [0, {args.time:g}] with "
          f"{args.steps} steps; {args.samples} Monte-Carlo paths; {args.kernels} kernels",
          file=sys.stderr)
    sol = solve_dmft(sc, args.alpha, args.time, steps=args.steps, samples=args.samples,
                     damping=args.damping, tol=args.tol, max_iterations=args.max_iterations,
                     seed=args.seed, kernels=args.kernels, progress=not args.no_progress)
    print(f"converged in {sol.iterations} iterations (residual {sol.residuals[-1]:.2e} < "
          f"{args.tol:g}: max |Q' - Q|, |M' - M| over the grid, relative to max(1, |Q|))")
    p, k = sc.p, sc.k
    head = ["t"] + [f"M{j + 1}{r + 1}" for j in range(p) for r in range(k)] + \
        [f"Q{j + 1}{j + 1}" for j in range(p)] + ["train", "test"]
    print(" ".join(f"{h:>9}" for h in head))
    every = max(1, args.steps // 10)
    for i in range(0, args.steps + 1, every):
        row = [sol.times[i], *sol.M[i].ravel(), *np.diag(sol.Q[i]), sol.train_loss[i],
               sol.test_loss[i]]
        print(" ".join(f"{v:>9.4f}" for v in row))
    sims = []
    if args.simulate:
        print(f"simulations: GD on n = {args.alpha:g} d samples with the DMFT's step (lr dt = "
              f"{sc.lr * args.time / args.steps:g} in t, i.e. Scenario lr = lr dt d), whose "
              f"d -> infinity limit the Euler grid is exactly; deviations with the standard "
              f"error of the mean over runs")
    for d in args.simulate:
        r = simulate_matched(sol, sc, d, args.seeds, args.seed, progress=not args.no_progress)
        row = {"d": d, "times": sol.times, "M": r.M, "Q": r.Q}
        for name, x, th in (("M", r.M, sol.M), ("Q", r.Q, sol.Q)):
            dev = np.abs(x.mean(0) - th)
            i = np.unravel_index(np.argmax(dev), dev.shape)
            se = x.std(0, ddof=1)[i] / np.sqrt(x.shape[0]) if x.shape[0] > 1 else float("nan")
            row[f"max_dev_{name}"], row[f"stderr_{name}"] = float(dev[i]), float(se)
        print(f"  d = {d} ({args.seeds} runs, n = {MultiPass(args.alpha).samples(d)}): "
              f"max_t |mean M - M_dmft| = {row['max_dev_M']:.4f} (stderr {row['stderr_M']:.4f})"
              f", max_t |mean Q - Q_dmft| = {row['max_dev_Q']:.4f} "
              f"(stderr {row['stderr_Q']:.4f})")
        sims.append(row)
    if args.json:
        payload = sol.to_json()
        payload["simulations"] = sims
        payload["command"] = {"name": "dmft", **{k: v for k, v in vars(args).items()
                                                 if k not in ("debug", "command")}}
        write_json(args.json, payload)
        print(f"wrote {args.json}")
    if args.plot:
        fig = plot_dmft(sol, sims, title=f"{target}, alpha = {args.alpha:g}")
        save_figure(fig, args.plot)
        print(f"wrote {args.plot}")
    return 0
