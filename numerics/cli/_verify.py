"""`escalier verify`: the derived overlap ODE against the simulated network, per overlap and d.

With no target: the soft committee machine of Saad & Solla (PRE 52, 4225, 1995), teacher
and student erf(x/sqrt2) with K = M = 2, whose learning curve has the symmetric plateau.
"""

from __future__ import annotations

import sys

from escalier.numerics.figures import save_figure

from ._app import CliError
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

DEFAULT_TARGET = "erf(z1/sqrt(2)) + erf(z2/sqrt(2))"
DEFAULT_D = (250, 500, 1000)


def add_arguments(parser) -> None:
    parser.add_argument("target", nargs="?", default=None,
                        help=f"target f(z1..zk) (default: the erf committee {DEFAULT_TARGET!r})")
    add_scenario_arguments(parser)
    g = parser.add_argument_group("run")
    g.add_argument("--d", type=positive_int, nargs="+", default=list(DEFAULT_D),
                   help=f"input dimensions (default: {' '.join(map(str, DEFAULT_D))})")
    g.add_argument("--seeds", type=positive_int, default=8, help="runs per d (default: 8)")
    g.add_argument("--seed", type=nonnegative_int, default=0, help="PRNG seed (default: 0)")
    g.add_argument("--time", type=positive_float, default=50.0,
                   help="duration in t = steps / d (default: 50)")
    g.add_argument("--records", type=positive_int, default=100,
                   help="record times after t = 0 (default: 100)")
    add_engine_argument(g)
    g.add_argument("--rtol", type=positive_float, default=1e-8, help="ODE relative tolerance")
    g.add_argument("--atol", type=positive_float, default=1e-10, help="ODE absolute tolerance")
    g.add_argument("--plot", metavar="FILE", help="write a figure (png, pdf, svg)")
    g.add_argument("--json", metavar="FILE", help="write the results and the configuration")
    g.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_set_argument(parser)


def run(args) -> int:
    enable_float64()
    from escalier.numerics.integrate import IntegrationError
    from escalier.numerics.verify import verify

    target = DEFAULT_TARGET if args.target is None else args.target
    if any(d < 1 for d in args.d):
        raise ValueError(f"--d must be positive integers, got {args.d}")
    scenario = scenario_from_args(target_from_args(target, args), args)
    print(f"escalier verify: target {target}; student {args.student}; p = {args.p}; "
          f"lr = {args.lr}; loss = {args.loss}; batch = {args.batch}; noise = {args.noise}; "
          f"d = {sorted(set(args.d))}; {args.seeds} seeds; t in [0, {args.time:g}] "
          f"(t = steps / d); engine {args.engine}", file=sys.stderr)
    try:
        v = verify(scenario, args.d, args.time, seeds=args.seeds, seed=args.seed,
                   n_records=args.records, engine=args.engine, rtol=args.rtol, atol=args.atol,
                   progress=not args.no_progress)
    except IntegrationError as err:
        raise CliError(str(err)) from None
    print(f"ODE backend: {v.config['ode_backend']}; ODE integrated from each seed's own "
          f"initial overlaps.")
    print("Largest deviation over time of the simulation from its ODE, mean +- standard "
          "error over seeds;")
    print("exponent: fitted power of d (theory: about -1/2 away from plateaus; see the notes).")
    print(v.table.to_text())
    for note in v.table.notes():
        print(f"note: {note}")
    if args.json:
        payload = v.to_json()
        payload["command"] = {"name": "verify", "target": target,
                              **{k: val for k, val in vars(args).items()
                                 if k not in ("target", "debug", "command")}}
        write_json(args.json, payload)
        print(f"wrote {args.json}")
    if args.plot:
        plot_verification(v, args.plot, title=f"{target}  |  student {args.student}, "
                                                f"p = {args.p}, lr = {args.lr}")
        print(f"wrote {args.plot}")
    return 0


def plot_verification(v, path: str, title: str = "") -> None:
    """Simulation (mean and one-standard-deviation band over seeds) over the ODE curves at the
    largest d, the risk, and the deviations against d with their fits."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    run = v.runs[-1]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    ax = axes[0]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, name in enumerate(v.names):
        c = colors[i % len(colors)]
        mean, std = run.sim[..., i].mean(0), run.sim[..., i].std(0)
        ax.fill_between(run.times, mean - std, mean + std, color=c, alpha=0.25, lw=0)
        ax.plot(run.times, mean, color=c, lw=1.2, label=name)
        ax.plot(run.times, run.ode[..., i].mean(0), color=c, lw=1.2, ls="--")
    ax.set(xlabel="t = steps / d", ylabel="overlap",
           title=f"d = {run.d}: simulation (band) vs ODE (dashed)")
    ax.legend(fontsize=7, ncol=2)
    ax = axes[1]
    m, s = run.sim_risk.mean(0), run.sim_risk.std(0)
    ax.fill_between(run.times, np.maximum(m - s, 1e-12), m + s, alpha=0.3, lw=0)
    ax.plot(run.times, m, label="simulation")
    ax.plot(run.times, run.ode_risk.mean(0), "k--", label="ODE")
    ax.set(yscale="log", xlabel="t = steps / d", ylabel="population risk", title="risk")
    ax.legend()
    ax = axes[2]
    ds = np.asarray(v.table.ds, dtype=float)
    for i, name in enumerate(v.table.names):
        c = colors[i % len(colors)]
        ax.errorbar(ds, v.table.mean[:, i], yerr=v.table.stderr[:, i], fmt="o", color=c,
                    ms=3, label=f"{name} ({v.table.fits[i] or 'n/a'})")
        fit = v.table.fits[i]
        if fit is not None:
            ax.plot(ds, fit.prefactor * ds**fit.exponent, color=c, lw=0.8)
    ax.plot(ds, v.table.mean[0].mean() * (ds / ds[0]) ** -0.5, "k:", label="d^-1/2")
    ax.set(xscale="log", yscale="log", xlabel="d", ylabel="max_t |sim - ODE|",
           title="deviation vs d")
    ax.legend(fontsize=6)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)
