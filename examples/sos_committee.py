"""Certified global minimum of a quadratic committee's population risk (p = k = 2).

Teacher y = z1^2 + z2^2 (a committee of two quadratic units), student with p = 2 quadratic
units and second layer fixed to 1. escalier.derive.ode_system gives the population risk as an
exact polynomial in the overlaps (Q, M); escalier.numerics.sos writes the admissible overlaps
through weights (M = U, Q = U U^T + L L^T) and certifies min R >= 0 by a sum-of-squares
certificate (rounded to an exact rational one unless --no-exact). The overlap ODE of online SGD
is integrated from random starts and its risk is drawn against the certified minimum, with the
values reached by a local minimiser (scipy BFGS) from random weights.

    python examples/sos_committee.py --starts 6 --time 300 --out sos_committee.png
"""

from __future__ import annotations

import argparse

import numpy as np


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="z1**2 + z2**2")
    parser.add_argument("--p", type=int, default=2, help="student units")
    parser.add_argument("--starts", type=int, default=6, help="random ODE starts")
    parser.add_argument("--time", type=float, default=300.0, help="ODE horizon, t = steps / d")
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--local", type=int, default=50, help="random starts of the local minimiser")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-exact", action="store_true", help="skip the exact rounding")
    parser.add_argument("--out", default="sos_committee.png", help="figure file")
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import sympy as sp
    from scipy.integrate import solve_ivp
    from scipy.optimize import minimize

    from escalier.numerics.sos import certify_risk

    cert = certify_risk(args.target, "quadratic", args.p, seed=args.seed,
                        exact=not args.no_exact, lr=args.lr)
    res = cert.sos
    if res.status != "optimal":
        print(f"no certified bound: status {res.status}")
        return 1
    bound = res.lower_bound
    exact = f"exact: R >= {res.exact.gamma}" if res.exact is not None else res.exact_note
    print(f"certified  min R >= {bound:.3e} (numerical; {exact}) in {res.seconds:.1f} s")

    system = cert.risk.system
    values = dict(system.defaults)
    f = sp.lambdify([system.state], [e.xreplace(values) for e in system.rhs], "numpy")
    R = sp.lambdify([system.state], system.risk.xreplace(values), "numpy")
    import jax

    from escalier.numerics.simulation import initial_weights

    keys = jax.random.split(jax.random.key(args.seed), args.starts)
    rng = np.random.default_rng(args.seed)  # starts of the local minimiser below
    times = np.geomspace(1e-2, args.time, 200)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 4))
    finals = []
    for i in range(args.starts):
        y0 = system.initial_state(*initial_weights(system.scenario, 200, keys[i])[:2])
        sol = solve_ivp(lambda t, y: np.asarray(f(y), dtype=float), (0.0, args.time), y0,
                        t_eval=times, method="LSODA", rtol=1e-9, atol=1e-12)
        risk = np.array([R(y) for y in sol.y.T])
        finals.append(risk[-1])
        ax.loglog(sol.t, np.maximum(risk, 1e-16), lw=1, label="ODE runs" if i == 0 else None)
    certified = float(res.exact.gamma) if res.exact is not None else bound
    ax.text(0.03, 0.05, f"SOS: R >= {certified:.3g} for every admissible (Q, M)\n"
            f"({'exact rational certificate' if res.exact is not None else 'numerical bound'})",
            transform=ax.transAxes, fontsize=9, bbox=dict(fc="w", ec="0.7"))
    ax.set_xlabel("t = steps / d")
    ax.set_ylabel("population risk R")
    ax.set_title(f"online SGD ODE, p = {args.p}, lr = {args.lr}")
    ax.legend()

    poly = cert.risk.poly
    g = sp.lambdify([poly.gens], poly.as_expr(), "numpy")
    grad = sp.lambdify([poly.gens], [sp.diff(poly.as_expr(), v) for v in poly.gens], "numpy")
    local = []
    for _ in range(args.local):
        x0 = rng.standard_normal(len(poly.gens))
        out = minimize(lambda x: float(g(x)), x0, jac=lambda x: np.asarray(grad(x), dtype=float),
                       method="BFGS")
        local.append(out.fun)
    local = np.sort(local)
    bx.plot(np.arange(len(local)), local, "o", ms=3, label="local minima")
    bx.axhline(certified, color="k", ls="--", label=f"certified minimum {certified:.3g}")
    bx.set_xlabel("local runs (sorted)")
    bx.set_ylabel("R at the local minimum")
    bx.legend()
    bx.set_title("scipy BFGS from random weights")
    fig.suptitle(f"target {args.target}: certified global minimum of the population risk")
    fig.tight_layout()
    fig.savefig(args.out, dpi=130)
    plt.close(fig)
    above = sum(v > bound + 1e-5 for v in finals)
    print(f"ODE        {args.starts} runs, final risks {np.min(finals):.2e}..{np.max(finals):.2e}, "
          f"{above} above the certified minimum")
    print(f"local      {args.local} BFGS runs, {np.sum(local > bound + 1e-5)} above the bound")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
