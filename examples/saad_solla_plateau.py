"""The plateau of the soft committee machine (Saad & Solla, PRE 52, 4225, 1995), end to end.

Teacher and student are erf(x/sqrt2) committees with K = M = 2 hidden units (second layer
fixed to 1). Online SGD first reaches a symmetric state, where both students carry the same
mixture of the two teachers and the risk stalls on a plateau; the symmetry breaks after a
time that grows like log d (in t = steps / d), and the risk then decays to zero.

The script derives the overlap ODE (escalier.derive), integrates it from each seed's own
initial overlaps (escalier.numerics.integrate), simulates the real network at dimension d
(escalier.numerics.simulation), prints the plateau height and the escape times of both, and
writes a figure.

    python examples/saad_solla_plateau.py --d 500 --time 200 --seeds 4 --out plateau.png
"""

from __future__ import annotations

import argparse
import os

import numpy as np


def escape_time(times, risk, level):
    """First time the risk falls below `level` after its plateau (nan if never)."""
    below = risk < level
    return float(times[np.argmax(below)]) if below.any() else float("nan")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=500, help="input dimension")
    parser.add_argument("--time", type=float, default=200.0, help="duration, t = steps / d")
    parser.add_argument("--seeds", type=int, default=4, help="independent runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--records", type=int, default=300)
    parser.add_argument("--engine", default="full", choices=["full", "gram"])
    parser.add_argument("--out", default="saad_solla_plateau.png", help="figure file")
    args = parser.parse_args(argv)

    os.environ.setdefault("JAX_ENABLE_X64", "1")
    import jax

    jax.config.update("jax_enable_x64", True)
    from escalier.derive import Scenario, targets
    from escalier.numerics.integrate import integrate
    from escalier.numerics.simulation import simulate
    from escalier.numerics.verify import ode_functions, overlap_state

    scenario = Scenario(targets.committee("erf", 2), student="erf", p=2, lr=args.lr)
    fns = ode_functions(scenario)
    sim = simulate(scenario, args.d, args.time, seeds=args.seeds, seed=args.seed,
                   n_records=args.records, engine=args.engine,
                   risk_fn=fns.risk_of_overlaps(scenario))
    y0 = np.asarray(overlap_state(scenario, sim.Q[:, 0], sim.M[:, 0], sim.a[:, 0]))
    ode = integrate(fns.rhs, y0, sim.times, fns.args, risk=fns.risk, names=fns.names)

    # The plateau: the ODE's risk at the symmetric state, read where the ODE risk is
    # flattest on a log scale (smallest |d log R / dt|) between the end of the initial
    # descent (R < R(0) / 2) and the final decay (R > R(0) / 100; the plateau sits near
    # R(0) / 30 here).
    r_ode = ode.risk.mean(0)
    slope = np.abs(np.gradient(np.log(r_ode), sim.times))
    window = (r_ode < r_ode[0] / 2) & (r_ode > r_ode[0] / 100)
    window[: int(np.argmax(r_ode < r_ode[0] / 2))] = False
    if not window.any():
        window[:] = True
    i_flat = int(np.flatnonzero(window)[np.argmin(slope[window])])
    plateau = float(r_ode[i_flat])
    level = plateau / 2
    print(f"d = {args.d}, lr = {args.lr}, {args.seeds} seeds, t in [0, {sim.times[-1]:g}]")
    print(f"plateau (ODE, flattest point t = {sim.times[i_flat]:.3g}): risk = {plateau:.4f}")
    print(f"{'seed':>4} {'escape t (sim)':>15} {'escape t (ODE)':>15}   (risk < plateau / 2)")
    for s in range(args.seeds):
        t_sim = escape_time(sim.times[i_flat:], sim.risk[s, i_flat:], level)
        t_ode = escape_time(sim.times[i_flat:], ode.risk[s, i_flat:], level)
        print(f"{s:>4} {t_sim:>15.4g} {t_ode:>15.4g}")
    print(f"final risk: simulation {sim.risk[:, -1].mean():.3g}, ODE {ode.risk[:, -1].mean():.3g}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for s in range(args.seeds):
        axes[0].plot(sim.times, sim.risk[s], color=f"C{s % 10}", lw=1,
                     label="simulation" if s == 0 else None)
        axes[0].plot(sim.times, ode.risk[s], color=f"C{s % 10}", lw=1, ls="--",
                     label="ODE (same start)" if s == 0 else None)
    axes[0].axhline(plateau, color="k", lw=0.6, ls=":", label="plateau")
    axes[0].set(yscale="log", xlabel="t = steps / d", ylabel="population risk",
                title=f"erf committee K = M = 2, d = {args.d}")
    axes[0].legend()
    names = list(fns.names)
    for name in ("M11", "M12", "M21", "M22"):
        if name in names:
            i = names.index(name)
            line, = axes[1].plot(sim.times, sim.M.reshape(*sim.M.shape[:2], -1)[0, :, i - 3],
                                 lw=1, label=f"{name} (seed 0)")
            axes[1].plot(sim.times, ode.y[0, :, i], color=line.get_color(), ls="--", lw=1)
    axes[1].set(xlabel="t = steps / d", ylabel="student-teacher overlap",
                title="specialisation: simulation (solid), ODE (dashed)")
    axes[1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    plt.close(fig)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
