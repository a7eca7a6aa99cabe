"""DMFT of multi-pass gradient descent against the simulation, at several d.

Full-batch gradient flow on n = alpha d samples (escalier.numerics.simulation.MultiPass, time
t = GD steps / d) of a student on a target, predicted by the dynamical mean-field theory
(escalier.numerics.dmft, Dandi et al., arXiv 2402.03220) and simulated by the full engine at
each d with the DMFT's own step (simulate_matched: the Euler grid is then exact); the figure
shows M and Q (DMFT lines, simulation means with standard errors) and the DMFT training and
test losses, and the script prints the largest deviation per d.

    python examples/dmft_vs_simulation.py --target "tanh(z1)" --student erf --p 1 \\
        --d 250 500 1000 --out dmft.png
"""

from __future__ import annotations

import argparse
import os


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="tanh(z1)")
    parser.add_argument("--student", default="erf")
    parser.add_argument("--p", type=int, default=1)
    parser.add_argument("--alpha", type=float, default=2.0)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--time", type=float, default=2.0)
    parser.add_argument("--steps", type=int, default=40, help="DMFT time steps")
    parser.add_argument("--samples", type=int, default=2000, help="DMFT Monte-Carlo paths")
    parser.add_argument("--tol", type=float, default=1e-4, help="DMFT fixed-point tolerance")
    parser.add_argument("--solver-seeds", type=int, default=1,
                        help="DMFT solves with different Monte-Carlo seeds, averaged (the "
                             "error of one solve is frozen by its common random numbers: "
                             "with ReLU or He3 several are needed, docs/reuse.md)")
    parser.add_argument("--kernels", default="auto",
                        choices=("auto", "pathwise", "stein", "hybrid"),
                        help="estimator of the DMFT kernels G, Gnu (solve_dmft; auto: stein "
                             "for students whose sigma' jumps, else pathwise)")
    parser.add_argument("--d", type=int, nargs="+", default=[250, 500, 1000])
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--out", default="dmft_vs_simulation.png", help="figure file")
    args = parser.parse_args(argv)

    os.environ.setdefault("JAX_ENABLE_X64", "1")
    import jax

    jax.config.update("jax_enable_x64", True)
    import numpy as np

    from escalier.derive import Scenario
    from escalier.numerics.dmft import plot_dmft, simulate_matched, solve_dmft

    sc = Scenario(args.target, student=args.student, p=args.p, lr=args.lr, init_scale=0.5)
    sols = [solve_dmft(sc, args.alpha, args.time, steps=args.steps, samples=args.samples,
                       tol=args.tol, seed=s, kernels=args.kernels) for s in range(max(1, args.solver_seeds))]
    sol = sols[0]
    fin = {name: np.array([getattr(s, name)[-1] for s in sols]) for name in ("M", "Q")}
    if len(sols) > 1:
        from dataclasses import replace

        sol = replace(sol, **{name: np.mean([getattr(s, name) for s in sols], axis=0)
                              for name in ("Q", "M", "train_loss", "test_loss")})
    print(f"DMFT ({sols[0].config['kernels']} kernels): {len(sols)} solve(s) averaged; iterations "
          f"{[s.iterations for s in sols]}, residuals "
          f"{[float(f'{s.residuals[-1]:.2e}') for s in sols]}")
    for name, x in fin.items():
        se = x.std(0, ddof=1) / np.sqrt(len(x)) if len(x) > 1 else np.full(x.shape[1:], np.nan)
        print(f"DMFT {name}(t = {args.time:g}) = {np.round(x.mean(0), 4).tolist()} (standard "
              f"error over solver seeds {np.round(se, 4).tolist()})")
    sims = []
    print("simulation: GD with the DMFT's step (lr dt in t) on n = alpha d samples; deviation "
          "= max over t of |mean - DMFT|, with the standard error of the mean there")
    for d in args.d:
        r = simulate_matched(sol, sc, d, seeds=args.seeds)
        line = f"d = {d:>5}:"
        for name, x, th in (("M", r.M, sol.M), ("Q", r.Q, sol.Q)):
            dev = np.abs(x.mean(0) - th)
            i = np.unravel_index(np.argmax(dev), dev.shape)
            se = x.std(0, ddof=1)[i] / np.sqrt(x.shape[0])
            line += f" max |{name} - {name}_dmft| = {dev[i]:.4f} (stderr {se:.4f});"
        print(line)
        print(f"           at t = {args.time:g}: " + "; ".join(
            f"{name} = {np.round(x[:, -1].mean(0), 4).tolist()} (stderr "
            f"{np.round(x[:, -1].std(0, ddof=1) / np.sqrt(x.shape[0]), 4).tolist()})"
            for name, x in (("M", r.M), ("Q", r.Q))))
        sims.append({"d": d, "times": sol.times, "M": r.M, "Q": r.Q})
    fig = plot_dmft(sol, sims, title=f"{args.target}, alpha = {args.alpha:g}")
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
