"""`escalier sde`: the leading-order SDE of the overlaps (drift = the overlap ODE, diffusion =
eta^2 x the per-sample update covariance / (n_b d)) on many Brownian paths: the mean and
standard deviation of every overlap at the record times, optionally beside the simulated
network, and the Ornstein-Uhlenbeck covariance at the fixed point the mean ends near.

With no target: the erf single index y = erf(z1 / sqrt 2) learned by an erf neuron.
"""

from __future__ import annotations

import sys

import numpy as np

from escalier.numerics.figures import save_figure

from ._common import (
    add_engine_argument,
    add_scenario_arguments,
    add_set_argument,
    enable_float64,
    nonnegative_int,
    positive_float,
    positive_int,
    scenario_from_args,
    target_from_args,
    write_json,
)

DEFAULT_TARGET = "erf(z1/sqrt(2))"


def add_arguments(parser) -> None:
    parser.add_argument("target", nargs="?", default=None,
                        help=f"target f(z1..zk) (default: {DEFAULT_TARGET!r})")
    add_scenario_arguments(parser, p=1)
    g = parser.add_argument_group("SDE")
    g.add_argument("--d", type=positive_int, nargs="+", default=[500],
                   help="input dimensions (the noise scale eta^2 / (n_b d)); default: 500")
    g.add_argument("--seeds", type=positive_int, default=256,
                   help="Brownian paths (and simulation seeds) per d (default: 256)")
    g.add_argument("--seed", type=nonnegative_int, default=0, help="PRNG seed (default: 0)")
    g.add_argument("--time", type=positive_float, default=4.0,
                   help="duration in t = steps / d (default: 4)")
    g.add_argument("--records", type=positive_int, default=4,
                   help="record times after t = 0 (default: 4)")
    g.add_argument("--dt", type=positive_float, default=0.01,
                   help="Euler-Maruyama step in t (default: 0.01)")
    g.add_argument("--leading-order", action="store_true",
                   help="drop the finite-learning-rate part of the covariance (eta -> 0 "
                        "noise)")
    g.add_argument("--points", type=positive_int, default=None,
                   help="Gauss-Hermite nodes per dimension for covariance terms without a "
                        "closed form (default: escalier's per-dimension default)")
    g.add_argument("--simulate", action="store_true",
                   help="also simulate the network (same number of seeds) and print its "
                        "standard deviations and the variance ratio")
    add_engine_argument(g, default="gram")
    g.add_argument("--ou", action="store_true",
                   help="Ornstein-Uhlenbeck stationary standard deviations at the fixed point "
                        "near the final mean (fails if it is not stable)")
    g.add_argument("--plot", metavar="FILE", help="write a figure (png, pdf, svg)")
    g.add_argument("--json", metavar="FILE", help="write the results and the configuration")
    g.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_set_argument(parser)


def run(args) -> int:
    enable_float64()
    from tqdm import tqdm

    from escalier.numerics.verify import ornstein_uhlenbeck, overlap_state, simulate_sde

    target = DEFAULT_TARGET if args.target is None else args.target
    scenario = scenario_from_args(target_from_args(target, args), args)
    if scenario.train_second_layer:
        raise ValueError("escalier sde covers a fixed second layer (drop --train-second-layer)")
    finite = not args.leading_order
    print(f"escalier sde: target {target}; student {args.student}; p = {args.p}; "
          f"lr = {args.lr}; batch = {args.batch}; noise = {args.noise}; d = {args.d}; "
          f"{args.seeds} paths; t in [0, {args.time:g}]; Euler-Maruyama dt = {args.dt:g}; "
          f"covariance: {'finite-lr' if finite else 'leading order (eta -> 0)'}",
          file=sys.stderr)
    print("SDE: dy = rhs(y) dt + sqrt(eta^2 C(y) / (n_b d)) dB (Ito), y = (Q_jl (j <= l), "
          "M_jr); C = covariance of the per-sample update; each path starts from its own "
          "random weights at d.")
    runs, sims, ous = [], [], []
    bar = tqdm(total=len(args.d) * (1 + args.simulate), desc="escalier sde", file=sys.stderr,
               disable=args.no_progress)
    for d in args.d:
        run_ = simulate_sde(scenario, int(d), args.time, seeds=args.seeds, seed=args.seed,
                            n_records=args.records, dt=args.dt, finite_lr=finite,
                            points=args.points)
        bar.update()
        sim = None
        if args.simulate:
            from escalier.numerics.simulation import simulate

            r = simulate(scenario, int(d), args.time, seeds=args.seeds, seed=args.seed + 1,
                         n_records=args.records, engine=args.engine, progress=False)
            if len(r.times) != len(run_.times) or not np.allclose(r.times, run_.times):
                raise ValueError(f"the simulation's record times {r.times} differ from the "
                                 f"SDE's {run_.times}: choose --time and --records so that "
                                 f"time * d / records is an integer")
            sim = np.asarray(overlap_state(scenario, np.asarray(r.Q), np.asarray(r.M),
                                           np.asarray(r.a)))
            bar.update()
        ou = None
        if args.ou:
            ou = ornstein_uhlenbeck(scenario, run_.mean[-1], int(d), finite_lr=finite,
                                    points=args.points)
        runs.append(run_)
        sims.append(sim)
        ous.append(ou)
    bar.close()
    for run_, sim, ou in zip(runs, sims, ous, strict=True):
        print(f"\nd = {run_.d}:")
        head = f"{'t':>8} {'overlap':>8} {'mean':>11} {'std':>11}"
        if sim is not None:
            head += f" {'sim mean':>11} {'sim std':>11} {'var ratio':>9}"
        print(head)
        for ti, t in enumerate(run_.times):
            for i, name in enumerate(run_.names):
                line = (f"{t:8.3f} {name:>8} {run_.mean[ti, i]:11.5f} "
                        f"{run_.std[ti, i]:11.3e}")
                if sim is not None:
                    sd = sim[:, ti, i].std(ddof=1)
                    ratio = run_.std[ti, i] ** 2 / sd**2 if sd > 0 else float("nan")
                    line += f" {sim[:, ti, i].mean():11.5f} {sd:11.3e} {ratio:9.3f}"
                print(line)
        if ou is not None:
            print(f"Ornstein-Uhlenbeck at the fixed point (|rhs| = {ou.residual:.1e}; "
                  f"slowest rate {-ou.eigenvalues.real.max():.4g}):")
            for i, name in enumerate(ou.names):
                print(f"  {name:>8} = {ou.y_star[i]:.6f}, stationary std {ou.std[i]:.4e}")
    if args.json:
        payload = {"command": {"name": "sde", "target": target,
                               **{k: v for k, v in vars(args).items()
                                  if k not in ("target", "debug", "command")}},
                   "runs": []}
        for run_, sim, ou in zip(runs, sims, ous, strict=True):
            entry = run_.to_json()
            if sim is not None:
                entry["sim_mean"] = sim.mean(0).tolist()
                entry["sim_std"] = sim.std(0, ddof=1).tolist()
            if ou is not None:
                entry["ou"] = {"y_star": ou.y_star.tolist(), "S": ou.S.tolist(),
                               "std": ou.std.tolist(), "J": ou.J.tolist(), "D": ou.D.tolist()}
            payload["runs"].append(entry)
        write_json(args.json, payload)
        print(f"wrote {args.json}")
    if args.plot:
        _plot(runs, sims, args.plot, title=f"{target} | student {args.student}, p = {args.p}, "
                                           f"lr = {args.lr}")
        print(f"wrote {args.plot}")
    return 0


def _plot(runs, sims, path, title=""):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (run_, sim) in enumerate(zip(runs, sims, strict=True)):
        ls = ["-", "--", ":", "-."][k % 4]
        for i, name in enumerate(run_.names):
            c = colors[i % len(colors)]
            axes[0].plot(run_.times, run_.mean[:, i], color=c, ls=ls,
                         label=f"{name}, d = {run_.d}")
            axes[1].plot(run_.times, run_.std[:, i], color=c, ls=ls,
                         label=f"{name} SDE, d = {run_.d}")
            if sim is not None:
                axes[1].plot(run_.times, sim[:, :, i].std(0, ddof=1), "o", color=c, ms=4,
                             label=f"{name} simulation" if k == 0 else None)
    axes[0].set(xlabel="t = steps / d", ylabel="mean overlap", title="SDE mean")
    axes[1].set(xlabel="t = steps / d", ylabel="std over paths / seeds", yscale="log",
                title="standard deviation")
    for ax in axes:
        ax.legend(fontsize=7, ncol=2)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)
