"""`escalier landscape`: the spherical p-spin landscape, predicted (`pspin`: complexities and
band edges, Auffinger, Ben Arous & Cerny, CPAM 2013) and measured (`sample`: critical points
found by gradient descent and Newton's method, with their energies and indices)."""

from __future__ import annotations

import argparse
import json
import math
import sys

from escalier.numerics.figures import save_figure

from ._common import bounded, enable_float64

GIB = 2**30


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    ps = sub.add_parser("pspin", help="E_inf, band edges E_0..E_K and complexity curves",
                        description="Annealed complexity of the spherical pure p-spin model "
                                    "and its band edges -E_k (numerical roots, mpmath).")
    ps.add_argument("--p", type=bounded(int, 2), required=True,
                    help="interaction order p >= 2")
    ps.add_argument("--k-max", type=bounded(int, 0), default=4,
                    help="band edges E_0..E_K (default: 4)")
    ps.add_argument("--digits", type=bounded(int, 1), default=30,
                    help="digits of the band edges (default: 30)")
    ps.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ps.add_argument("--plot", metavar="FILE", help="write the complexity curves")
    ps.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)

    sa = sub.add_parser("sample", help="critical points of one p-spin sample: energy and index",
                        description="Critical points of one sample of the spherical p-spin "
                                    "Hamiltonian from random starts (gradient descent then "
                                    "Newton on the sphere), with the band edges overlaid.")
    sa.add_argument("--p", type=bounded(int, 2), default=3, help="p (default: 3)")
    sa.add_argument("--N", type=bounded(int, 2), nargs="+", default=[100],
                    help="dimension(s) N (default: 100)")
    sa.add_argument("--starts", type=bounded(int, 1), default=200,
                    help="random starts per N (default: 200)")
    sa.add_argument("--gd-steps", type=bounded(int, 1), default=1000,
                    help="longest gradient-descent run (default: 1000)")
    sa.add_argument("--newton-steps", type=bounded(int, 1), default=60,
                    help="Newton steps after descent (default: 60)")
    sa.add_argument("--lr", type=bounded(float, 0, low_open=True), default=0.1,
                    help="gradient-descent step (default: 0.1)")
    sa.add_argument("--batch", type=bounded(int, 1), default=25,
                    help="starts run together (default: 25)")
    sa.add_argument("--k-max", type=bounded(int, 0), default=3,
                    help="report band edges and fractions for indices 0..K (default: 3)")
    sa.add_argument("--memory-gib", type=bounded(float, 0, low_open=True), default=2.0,
                    help="refuse runs whose estimated memory exceeds this (default: 2 GiB)")
    sa.add_argument("--seed", type=int, default=0, help="PRNG seed (default: 0)")
    sa.add_argument("--json", action="store_true", help="print JSON instead of a table")
    sa.add_argument("--plot", metavar="FILE", help="write the (energy, index) scatter")
    sa.add_argument("--no-progress", action="store_true", help="no progress bar")
    sa.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)


def run(args) -> int:
    return _pspin(args) if args.action == "pspin" else _sample(args)


def _pspin(args) -> int:
    import mpmath

    from escalier.derive.landscape import pspin

    c = pspin(args.p, dps=max(40, args.digits + 10))
    edges = c.band_edges(args.k_max, digits=args.digits)
    e_inf = c.evaluate(c.E_inf, 0)
    theta_inf = c.evaluate(c.theta, -e_inf)
    payload = {
        "p": args.p,
        "E_inf": float(e_inf),
        "E": [float(e) for e in edges],
        "theta_at_minus_E_inf": float(theta_inf),
        "E_inf_exact": str(c.E_inf),
        "E_inf_digits": mpmath.nstr(e_inf, args.digits),
        "E_digits": [mpmath.nstr(e, args.digits) for e in edges],
        "theta_at_minus_E_inf_digits": mpmath.nstr(theta_inf, args.digits),
        "theta_at_zero": str(c.theta.subs(c.u, 0)),
        "method": "E_inf exact; E_k numerical roots of Theta_{k,p} (mpmath, "
                  f"{args.digits} digits); ABC 2013 conventions (sphere of radius sqrt(N), "
                  "energy per site)",
    }
    if args.json:
        print(json.dumps(payload, indent=2))
    else:
        print(f"spherical pure {args.p}-spin (Auffinger, Ben Arous & Cerny 2013), energy per site u")
        print(f"E_inf = {c.E_inf} = {payload['E_inf_digits']}")
        print(f"Theta_p(-E_inf) = {payload['theta_at_minus_E_inf_digits']}; "
              f"Theta_p(u >= 0) = {payload['theta_at_zero']}")
        print(f"{'k':>3}  {'E_k (band edge -E_k: no index-k points below it)':<52}")
        for k, e in enumerate(payload["E_digits"]):
            print(f"{k:>3}  {e}")
    if args.plot:
        plot_complexity(c, edges, args.plot)
        print(f"wrote {args.plot}", file=sys.stderr if args.json else sys.stdout)
    return 0


def complexity_curves(c, k_max: int, n: int = 3000):
    """u grid and the curves Theta_p, Theta_{0..K,p} on it (floats, for plots)."""
    import numpy as np
    import sympy as sp

    e_inf = float(c.E_inf)
    u = np.linspace(-1.1 * e_inf - 0.05, 0.3, n)
    total = sp.lambdify(c.u, c.theta, "numpy")
    with np.errstate(invalid="ignore"):
        curves = {"total": np.real(np.asarray(total(u.astype(complex)), dtype=complex))}
        for k in range(k_max + 1):
            f = sp.lambdify(c.u, c.theta_k(k), "numpy")
            curves[k] = np.real(np.asarray(f(u.astype(complex)) * np.ones_like(u), dtype=complex))
    return u, curves


def plot_complexity(c, edges, path: str, ax=None) -> None:
    """Theta_p and Theta_{k,p} against u, with the band edges -E_k and -E_inf marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(6, 4.2))
    u, curves = complexity_curves(c, len(edges) - 1)
    e_inf = float(c.E_inf)
    ax.plot(u, curves["total"], "k-", lw=1.5, label=r"$\Theta_p(u)$ (all indices)")
    for k in range(len(edges)):
        ax.plot(u, curves[k], lw=1, label=rf"$\Theta_{{{k},p}}(u)$")
        ax.axvline(-float(edges[k]), color=f"C{k}", ls=":", lw=0.8)
    ax.axvline(-e_inf, color="0.3", ls="--", lw=1, label=r"$-E_\infty$")
    ax.axhline(0, color="0.6", lw=0.6)
    lo = -float(edges[0]) - 0.03
    ax.set(xlim=(lo, -e_inf + 0.03), ylim=(-0.01, 0.02 + np.nanmax(curves[0][u <= -e_inf + 0.03])),
           xlabel="energy per site u", ylabel="complexity",
           title=f"spherical {c.p}-spin: band edges")
    ax.legend(fontsize=7)
    if own:
        fig.tight_layout()
        save_figure(fig, path)


def _sample(args) -> int:
    enable_float64()
    import jax

    from escalier.derive.landscape import pspin
    from escalier.numerics.landscape import find_critical_points, sample_couplings, search_bytes

    budget = int(args.memory_gib * GIB)
    sizes = sorted(set(args.N))
    for n in sizes:  # refuse before any work
        need = search_bytes(n, args.p, min(args.batch, args.starts))
        print(f"N = {n}, p = {args.p}: estimated memory {need / 2**20:.1f} MiB "
              f"(budget {args.memory_gib:g} GiB)", file=sys.stderr)
        if need > budget:
            raise ValueError(f"N = {n}, p = {args.p} needs about {need / GIB:.2f} GiB, above "
                             f"--memory-gib {args.memory_gib:g}; lower --N or --batch, or raise "
                             f"--memory-gib")
    edges = [float(e) for e in pspin(args.p).band_edges(args.k_max, digits=15)]
    key = jax.random.PRNGKey(args.seed)
    runs = []
    for n in sizes:
        key, kj, ks = jax.random.split(key, 3)
        j = sample_couplings(kj, n, args.p, budget_bytes=budget)
        cp = find_critical_points(ks, j, args.starts, gd_steps=args.gd_steps,
                                  newton_steps=args.newton_steps, lr=args.lr, batch=args.batch,
                                  budget_bytes=budget, progress=not args.no_progress)
        runs.append((n, cp))
    payload = {
        "p": args.p,
        "E_inf": 2 * math.sqrt((args.p - 1) / args.p),
        "E": edges,
        "seed": args.seed,
        "runs": [{
            "N": n,
            "starts": cp.n_starts,
            "converged": cp.n_converged,
            "distinct": len(cp.energy),
            "critical_points": [{"energy": float(u), "index": int(k)}
                                for u, k in zip(cp.energy, cp.index, strict=True)],
            "fraction_beyond_band_edge": cp.fraction_beyond(edges),
            "max_grad_norm": float(cp.grad_norm.max()) if len(cp.energy) else None,
            "config": cp.config,
        } for n, cp in runs],
        "note": "fraction_beyond_band_edge[k]: fraction of the index-k points found with "
                "energy per site u < -E_k, where the annealed complexity of index-k points is "
                "negative (ABC 2013); it should vanish as N grows",
    }
    if len(runs) == 1:  # the single-N shape the issue names, at the top level
        payload["critical_points"] = payload["runs"][0]["critical_points"]
        payload["fraction_beyond_band_edge"] = payload["runs"][0]["fraction_beyond_band_edge"]
    if args.json:
        print(json.dumps(payload, indent=1))
    else:
        print(f"spherical {args.p}-spin, E_inf = {payload['E_inf']:.6f}; band edges -E_k: "
              + ", ".join(f"{-e:.6f}" for e in edges))
        for run in payload["runs"]:
            print(f"N = {run['N']}: {run['starts']} starts, {run['converged']} converged, "
                  f"{run['distinct']} distinct critical points "
                  f"(max |grad_R H|/sqrt N = {run['max_grad_norm']})")
            print(f"  {'k':>3} {'count':>6} {'min u':>10} {'median u':>10} "
                  f"{'frac u < -E_k':>14}")
            pts = run["critical_points"]
            for f in run["fraction_beyond_band_edge"]:
                us = sorted(q["energy"] for q in pts if q["index"] == f["k"])
                if us:
                    print(f"  {f['k']:>3} {f['n']:>6} {us[0]:>10.5f} {us[len(us) // 2]:>10.5f} "
                          f"{f['fraction']:>14.3f}")
                else:
                    print(f"  {f['k']:>3} {0:>6} {'-':>10} {'-':>10} {'-':>14}")
            higher = sum(q["index"] > args.k_max for q in pts)
            print(f"  index > {args.k_max}: {higher} points")
    if args.plot:
        plot_sample(payload, args.plot)
        print(f"wrote {args.plot}", file=sys.stderr if args.json else sys.stdout)
    return 0


def plot_sample(payload: dict, path: str, ax=None) -> None:
    """The (energy, index) scatter of each N, with the band edges -E_k and -E_inf."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(6, 4.2))
    edges = payload["E"]
    kmax = len(edges) - 1
    for i, run in enumerate(payload["runs"]):
        pts = run["critical_points"]
        u = np.array([q["energy"] for q in pts])
        k = np.array([q["index"] for q in pts], dtype=float)
        jitter = (i - (len(payload["runs"]) - 1) / 2) * 0.12
        sel = k <= kmax + 3
        ax.plot(u[sel], k[sel] + jitter, "o", ms=3, alpha=0.6, label=f"N = {run['N']}")
    for kk, e in enumerate(edges):
        ax.plot([-e, -e], [kk - 0.4, kk + 0.4], "k-", lw=1.5)
    ax.axvline(-payload["E_inf"], color="0.3", ls="--", lw=1, label=r"$-E_\infty$")
    ax.plot([], [], "k-", lw=1.5, label=r"band edge $-E_k$")
    ax.set(xlabel="energy per site u", ylabel="index k", ylim=(-0.6, kmax + 3.6),
           title=f"spherical {payload['p']}-spin: critical points found")
    ax.legend(fontsize=7)
    if own:
        fig.tight_layout()
        save_figure(fig, path)
