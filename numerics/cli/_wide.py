"""`escalier wide TARGET --p P`: a wide committee's overlap ODE (by index pattern, any p),
or its reduced large-width ODE (--reduced; arXiv 2302.05882), integrated in t' = eta t / p.

Example: escalier wide "erf(z1/sqrt(2)) + erf(z2/sqrt(2))" --student erf --p 32 --compare
Second layer a_j = a0 / p (mean-field normalisation), eta = --lr fixed; start M_jr ~ N(0, m0^2)
(seeded), Q_jj = 1, orthogonal parts orthogonal across units (the closure holds at t' = 0).
Docs: docs/wide.md.
"""

from __future__ import annotations

from escalier.numerics.figures import save_figure

from ._common import (
    add_scenario_arguments,
    add_set_argument,
    enable_float64,
    nonnegative_float,
    positive_float,
    positive_int,
    scenario_from_args,
    target_from_args,
    write_json,
)


def add_arguments(parser) -> None:
    parser.add_argument("target", help="committee target sum_r phi(z_r), e.g. "
                                       "'erf(z1/sqrt(2)) + erf(z2/sqrt(2))'")
    add_scenario_arguments(parser, only=("student", "p", "lr", "loss", "batch", "noise"),
                           student="erf", p=16)
    add_set_argument(parser)
    g = parser.add_mutually_exclusive_group()
    g.add_argument("--reduced", action="store_true",
                   help="integrate the reduced large-width ODE (state M, q) instead of the "
                        "full one")
    g.add_argument("--compare", action="store_true",
                   help="integrate both and print their largest differences")
    parser.add_argument("--a0", type=positive_float, default=1.0,
                        help="second layer a_j = a0 / p (default: 1)")
    parser.add_argument("--m0", type=nonnegative_float, default=0.3,
                        help="initial teacher overlaps M_jr ~ N(0, m0^2) (default: 0.3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the start (default: 0)")
    parser.add_argument("--t-max", type=positive_float, default=5.0,
                        help="end of the integration in t' = eta t / p (default: 5)")
    parser.add_argument("--records", type=positive_int, default=11,
                        help="number of record times (default: 11)")
    parser.add_argument("--json", default=None, metavar="FILE", help="write the results")
    parser.add_argument("--plot", default=None, metavar="FILE", help="draw the risk against t'")


def run(args) -> int:
    import numpy as np

    enable_float64()
    from escalier.derive.ode import wide_patterns
    from escalier.numerics.integrate import IntegrationError, wide_trajectory
    from escalier.numerics.lower import wide_rhs

    target = target_from_args(args.target, args)
    k = target.k
    sc = scenario_from_args(target, args, p=k)  # the patterns do not depend on p
    p = args.p
    rhs = wide_rhs(wide_patterns(sc), p, k)
    rng = np.random.default_rng(args.seed)
    M0 = args.m0 * rng.normal(size=(p, k))
    Pinv = np.linalg.inv(np.asarray(rhs.P))
    q0 = 1.0 - np.einsum("jr,rs,js->j", M0, Pinv, M0)
    if np.any(q0 <= 0):
        raise ValueError(f"--m0 {args.m0} gives a unit with |M_j|^2 >= 1 = Q_jj: lower --m0")
    a = np.full(p, args.a0 / p)
    times = np.linspace(0.0, args.t_max, args.records)
    systems = [True, False] if args.compare else [args.reduced]
    runs = {}
    for reduced in systems:
        try:
            runs["reduced" if reduced else "full"] = wide_trajectory(
                rhs, M0, q0, a, args.lr, times, n_b=args.batch, noise=args.noise,
                reduced=reduced)
        except IntegrationError as err:
            raise ValueError(f"{err} (try a smaller --lr or --t-max)") from None
    print(f"committee p = {p}, k = {k}: a_j = {args.a0}/p, eta = {args.lr} (fixed), "
          f"n_b = {args.batch}; time t' = eta t / p")
    names = list(runs)
    print("t'       " + "  ".join(f"risk {n:<8}" for n in names))
    for i, t in enumerate(times):
        print(f"{t:<8.3g} " + "  ".join(f"{runs[n].risk[i]:<13.6g}" for n in names))
    payload = {"p": p, "k": k, "a0": args.a0, "eta": args.lr, "batch": args.batch,
               "times": times,
               **{n: {"risk": r.risk, "M": r.M, "q": r.q} for n, r in runs.items()}}
    if args.compare:
        red, full = runs["reduced"], runs["full"]
        dev = {"risk": float(np.max(np.abs(red.risk - full.risk))),
               "M": float(np.max(np.abs(red.M - full.M))),
               "q": float(np.max(np.abs(red.q - full.q)))}
        payload["max_deviation"] = dev
        print("max |reduced - full|: " + ", ".join(f"{n} {v:.3e}" for n, v in dev.items()))
    if args.json:
        write_json(args.json, payload)
        print(f"wrote {args.json}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for n, r in runs.items():
            ax.semilogy(times, r.risk, "o-" if n == "full" else "s--", label=n)
        ax.set_xlabel("t' = eta t / p")
        ax.set_ylabel("population risk")
        ax.set_title(f"committee p = {p}, k = {k}")
        ax.legend()
        save_figure(fig, args.plot)
        print(f"wrote {args.plot}")
    return 0
