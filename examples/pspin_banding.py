"""The banded critical points of the spherical 3-spin glass: prediction and measurement.

Left: the annealed complexities Theta_p(u) and Theta_{k,p}(u) (Auffinger, Ben Arous & Cerny,
CPAM 2013) with the band edges -E_k, below which no index-k critical point should exist.
Right: critical points of one sample of the Hamiltonian at each N, found by gradient descent
and Newton's method on the sphere, by energy per site and index, with the band edges.

    python examples/pspin_banding.py --N 50 100 --starts 100 --out banding.png
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--p", type=int, default=3)
    parser.add_argument("--N", type=int, nargs="+", default=[50, 100])
    parser.add_argument("--starts", type=int, default=100)
    parser.add_argument("--gd-steps", type=int, default=1000)
    parser.add_argument("--k-max", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="pspin_banding.png")
    args = parser.parse_args(argv)

    os.environ.setdefault("JAX_ENABLE_X64", "1")
    import jax

    jax.config.update("jax_enable_x64", True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import sympy as sp

    from escalier.derive.landscape import pspin
    from escalier.numerics.landscape import find_critical_points, sample_couplings

    c = pspin(args.p)
    edges = [float(e) for e in c.band_edges(args.k_max, digits=15)]
    e_inf = float(c.E_inf)

    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4.2))
    u = np.linspace(-edges[0] - 0.03, -e_inf + 0.03, 1500)
    with np.errstate(invalid="ignore"):
        for k in range(args.k_max + 1):
            f = sp.lambdify(c.u, c.theta_k(k), "numpy")
            ax0.plot(u, np.real(f(u.astype(complex)) * np.ones_like(u)), f"C{k}-", lw=1.2,
                     label=rf"$\Theta_{{{k},{args.p}}}$")
            ax0.axvline(-edges[k], color=f"C{k}", ls=":", lw=0.8)
        total = sp.lambdify(c.u, c.theta, "numpy")
        ax0.plot(u, np.real(total(u.astype(complex))), "k-", lw=1.6, label=r"$\Theta_p$ (all)")
    ax0.axvline(-e_inf, color="0.3", ls="--", lw=1, label=r"$-E_\infty$")
    ax0.axhline(0, color="0.6", lw=0.6)
    ax0.set(xlabel="energy per site u", ylabel="annealed complexity", ylim=(-0.01, 0.02),
            title=f"spherical {args.p}-spin: predicted bands")
    ax0.legend(fontsize=7)

    key = jax.random.PRNGKey(args.seed)
    for i, n in enumerate(args.N):
        key, kj, ks = jax.random.split(key, 3)
        cp = find_critical_points(ks, sample_couplings(kj, n, args.p), args.starts,
                                  gd_steps=args.gd_steps)
        sel = cp.index <= args.k_max + 4
        ax1.plot(cp.energy[sel], cp.index[sel] + 0.1 * (i - (len(args.N) - 1) / 2), "o", ms=3,
                 alpha=0.6, label=f"N = {n} ({len(cp.energy)} points)")
        for f in cp.fraction_beyond(edges):
            print(f"N = {n}: index {f['k']}: {f['n']} points, fraction below -E_k: {f['fraction']}")
    for k, e in enumerate(edges):
        ax1.plot([-e, -e], [k - 0.4, k + 0.4], "k-", lw=1.6)
    ax1.plot([], [], "k-", lw=1.6, label=r"band edge $-E_k$")
    ax1.axvline(-e_inf, color="0.3", ls="--", lw=1)
    ax1.set(xlabel="energy per site u", ylabel="index", ylim=(-0.6, args.k_max + 4.6),
            title="critical points found (GD + Newton)")
    ax1.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(args.out, dpi=130)
    plt.close(fig)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
