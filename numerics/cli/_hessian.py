"""`escalier hessian`: the Hessian spectrum of a small network's training loss (at
initialisation, during and after training), or of a reference ensemble (GOE, Poisson): bulk
against the semicircle, outliers, rank deficiency, and the adjacent spacing ratio (Atas,
Bogomolny, Giraud & Roux, PRL 2013; Baskerville et al., arXiv 2102.06740)."""

from __future__ import annotations

import argparse
import json
import math
import sys

from escalier.numerics.figures import save_figure

from ._common import bounded, enable_float64

DATASETS_SHIPPED = ("digits",)


def _dataset(text: str) -> str:
    if text not in DATASETS_SHIPPED:
        raise argparse.ArgumentTypeError(
            f"data set {text!r} is not shipped; accepted: {', '.join(DATASETS_SHIPPED)} "
            f"(scikit-learn's bundled digits; nothing is downloaded)")
    return text


def _fraction(text: str) -> float:
    v = bounded(float, 0, low_open=True)(text)
    if v > 1:
        raise argparse.ArgumentTypeError(f"--bulk must be in (0, 1], got {text}")
    return v


def add_arguments(parser) -> None:
    parser.add_argument("target", nargs="?", default=None,
                        help="teacher target f(z1..zk) (default: He2(z1) + z1*z2, unless "
                             "--dataset or --ensemble)")
    g = parser.add_argument_group("network and training")
    g.add_argument("--student", default="relu", help="activation (default: relu)")
    g.add_argument("--p", type=bounded(int, 1), default=8, help="hidden width (default: 8)")
    g.add_argument("--p2", type=bounded(int, 1), default=None,
                   help="second hidden width: a three-layer network (default: two-layer)")
    g.add_argument("--d", type=bounded(int, 1), default=64,
                   help="input dimension for a teacher target (default: 64; digits: 64)")
    g.add_argument("--dataset", type=_dataset, default=None,
                   help=f"a shipped data set instead of a teacher: {', '.join(DATASETS_SHIPPED)}")
    g.add_argument("--n-train", type=bounded(int, 2), default=1000,
                   help="training samples (default: 1000)")
    g.add_argument("--steps", type=bounded(int, 0), default=2000,
                   help="full-batch Adam steps (default: 2000)")
    g.add_argument("--lr", type=bounded(float, 0, low_open=True), default=1e-2,
                   help="Adam step (default: 0.01)")
    g.add_argument("--max-params", type=bounded(int, 1), default=6000,
                   help="refuse networks with more parameters (the Hessian is n^2 floats; "
                        "default: 6000)")
    e = parser.add_argument_group("reference ensembles")
    e.add_argument("--ensemble", choices=["goe", "poisson"], default=None,
                   help="spectra of a reference ensemble instead of a network")
    e.add_argument("--N", type=bounded(int, 3), default=1000, help="matrix size (default: 1000)")
    e.add_argument("--samples", type=bounded(int, 3), default=100,
                   help="matrices / level sequences (default: 100)")
    parser.add_argument("--bulk", type=_fraction, default=0.8,
                        help="central fraction of the bulk levels used for r (default: 0.8)")
    parser.add_argument("--seed", type=int, default=0, help="PRNG seed (default: 0)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--plot", metavar="FILE", help="write density and spacing-ratio figure")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _references() -> dict:
    from escalier.numerics.landscape import R_GOE, R_GOE_SURMISE, R_POISSON

    return {"goe_large_N": R_GOE, "goe_surmise_3x3": R_GOE_SURMISE, "poisson": R_POISSON,
            "source": "Atas, Bogomolny, Giraud & Roux, PRL 110, 084101 (2013)"}


def run(args) -> int:
    enable_float64()
    if args.ensemble is not None:
        if args.target is not None or args.dataset is not None:
            raise ValueError("--ensemble takes no target and no --dataset")
        return _ensemble(args)
    return _network(args)


def _ensemble(args) -> int:
    import jax
    import numpy as np
    import scipy.stats

    from escalier.numerics.landscape import goe_levels, poisson_levels, spacing_ratio

    key = jax.random.PRNGKey(args.seed)
    if args.ensemble == "goe":
        levels = goe_levels(key, args.N, args.samples)
    else:
        levels = poisson_levels(key, args.N, args.samples)
    r = spacing_ratio(levels, bulk=args.bulk)
    payload = {"ensemble": args.ensemble, "N": args.N, "samples": args.samples, "bulk": args.bulk,
               "spacing_ratio": r.mean, "spacing_ratio_error": r.stderr, "n_levels": r.n_levels,
               "references": _references(), "seed": args.seed}
    if args.ensemble == "goe":
        ks = scipy.stats.kstest(np.ravel(levels), scipy.stats.semicircular(scale=2.0).cdf)
        payload["ks_semicircle"] = {"statistic": float(ks.statistic), "pvalue": float(ks.pvalue),
                                    "radius": 2.0}
    if args.json:
        print(json.dumps(payload, indent=1))
    else:
        ref = _references()
        print(f"{args.ensemble.upper()} N = {args.N}, {args.samples} samples, central "
              f"{args.bulk:g} of the levels: <r> = {r.mean:.5f} +- {r.stderr:.5f} "
              f"({r.n_levels} levels)")
        print(f"references: GOE large N {ref['goe_large_N']} (3x3 surmise "
              f"{ref['goe_surmise_3x3']:.5f}), Poisson 2 ln 2 - 1 = {ref['poisson']:.5f}")
        if "ks_semicircle" in payload:
            ks = payload["ks_semicircle"]
            print(f"density vs semicircle on [-2, 2]: KS statistic {ks['statistic']:.4f}, "
                  f"p-value {ks['pvalue']:.3g}")
    if args.plot:
        from escalier.numerics.landscape import spacing_ratios

        ratios = np.concatenate([spacing_ratios(s, args.bulk) for s in levels])
        plot_spectrum(np.ravel(levels), ratios, args.plot, semicircle=(0.0, 2.0) if
                      args.ensemble == "goe" else None, title=f"{args.ensemble.upper()} N = {args.N}")
        print(f"wrote {args.plot}", file=sys.stderr if args.json else sys.stdout)
    return 0


def _network(args) -> int:
    import jax
    import numpy as np

    from escalier.numerics.landscape import (
        Network,
        analyze_spectrum,
        digits_data,
        goe_levels,
        loss_hessian,
        poisson_levels,
        spacing_ratio,
        spacing_ratios,
        teacher_data,
        train,
    )

    key = jax.random.PRNGKey(args.seed)
    kd, kp, kg = jax.random.split(key, 3)
    widths = (args.p,) if args.p2 is None else (args.p, args.p2)
    if args.dataset == "digits":
        if args.target is not None:
            raise ValueError("give either a TARGET or --dataset, not both")
        x, y = digits_data(min(args.n_train, 1797))
        source = "digits (scikit-learn, bundled)"
    else:
        target = args.target or "He2(z1) + z1*z2"
        x, y = teacher_data(kd, target, args.d, args.n_train)
        source = f"teacher {target}, x ~ N(0, I_{args.d})"
    net = Network(int(x.shape[1]), widths, int(y.shape[1]), args.student)
    if net.n_params > args.max_params:
        raise ValueError(f"the network has {net.n_params} parameters, above --max-params "
                         f"{args.max_params} (the Hessian needs {8 * net.n_params**2 / 2**20:.0f} "
                         f"MiB); lower --p or raise --max-params")
    print(f"{source}; network {net.d} -> {' -> '.join(map(str, widths))} -> {net.outputs} "
          f"({args.student}), {net.n_params} parameters, Hessian "
          f"{8 * net.n_params**2 / 2**20:.1f} MiB", file=sys.stderr)
    marks = sorted({0, max(args.steps // 10, 0), args.steps})
    snaps, curve = train(net, net.init(kp), x, y, args.steps, lr=args.lr, record=marks)
    results = []
    it = marks
    if not args.no_progress:
        from tqdm.auto import tqdm

        it = tqdm(marks, desc="Hessians", unit="hessian", leave=False)
    for step in it:
        params = snaps[step]
        h = loss_hessian(net, params, x, y)
        spec = analyze_spectrum(np.linalg.eigvalsh(h), bulk_fraction=args.bulk)
        results.append({
            "step": step, "loss": float(net.loss(params, x, y)),
            "spacing_ratio": spec.ratio.mean, "spacing_ratio_error": spec.ratio.stderr,
            "n_levels": spec.ratio.n_levels, "n_zero": spec.n_zero,
            "n_outliers": len(spec.outliers),
            "largest_outliers": [float(v) for v in spec.outliers[-5:]],
            "bulk_mean": float(spec.bulk.mean()), "bulk_std": float(spec.bulk.std()),
            "ks_semicircle": {"statistic": spec.ks_semicircle[0], "pvalue": spec.ks_semicircle[1]},
            "_spec": spec,
        })
    n_ref = max(len(results[-1]["_spec"].bulk), 3)
    goe = spacing_ratio(goe_levels(kg, n_ref, 10), bulk=args.bulk)
    poi = spacing_ratio(poisson_levels(kg, n_ref, 10), bulk=args.bulk)
    final = results[-1]
    refs = _references()
    refs["goe_sampled"] = {"spacing_ratio": goe.mean, "spacing_ratio_error": goe.stderr,
                           "n_levels": goe.n_levels, "N": n_ref, "samples": 10}
    refs["poisson_sampled"] = {"spacing_ratio": poi.mean, "spacing_ratio_error": poi.stderr,
                               "n_levels": poi.n_levels, "N": n_ref, "samples": 10}
    payload = {
        "data": source, "student": args.student, "widths": list(widths), "d": net.d,
        "outputs": net.outputs, "n_params": net.n_params, "n_train": int(x.shape[0]),
        "steps": args.steps, "lr": args.lr, "seed": args.seed, "bulk": args.bulk,
        "spacing_ratio": final["spacing_ratio"], "spacing_ratio_error": final["spacing_ratio_error"],
        "n_levels": final["n_levels"],
        "snapshots": [{k: v for k, v in r.items() if k != "_spec"} for r in results],
        "references": refs,
    }
    if args.json:
        print(json.dumps(payload, indent=1))
    else:
        print(f"{'step':>6} {'loss':>10} {'<r>':>8} {'+-':>7} {'levels':>7} {'zero':>5} "
              f"{'outl.':>5} {'KS vs semicircle':>17}")
        for r in results:
            print(f"{r['step']:>6} {r['loss']:>10.4g} {r['spacing_ratio']:>8.4f} "
                  f"{r['spacing_ratio_error']:>7.4f} {r['n_levels']:>7} {r['n_zero']:>5} "
                  f"{r['n_outliers']:>5} {r['ks_semicircle']['statistic']:>8.3f} "
                  f"(p={r['ks_semicircle']['pvalue']:.1e})")
        print(f"references: GOE sampled (same code, N = {n_ref}) {goe.mean:.4f} +- {goe.stderr:.4f}; "
              f"Poisson sampled {poi.mean:.4f} +- {poi.stderr:.4f}; GOE large N "
              f"{refs['goe_large_N']}; Poisson 2 ln 2 - 1 = {refs['poisson']:.4f}")
    if args.plot:
        spec = final["_spec"]
        plot_spectrum(spec.bulk, spacing_ratios(spec.bulk, args.bulk), args.plot,
                      semicircle=(float(spec.bulk.mean()), 2 * float(spec.bulk.std())),
                      title=f"loss Hessian after {args.steps} steps ({net.n_params} parameters)",
                      outliers=spec.outliers)
        print(f"wrote {args.plot}", file=sys.stderr if args.json else sys.stdout)
    return 0


def ratio_densities(r):
    """Densities of r~ = min(r, 1/r): Poisson 2 / (1 + r)^2 and the GOE surmise
    2 * (27/8) (r + r^2) / (1 + r + r^2)^(5/2) (Atas et al. 2013, eqs. 7 and 10)."""
    poisson = 2 / (1 + r) ** 2
    goe = 2 * 27 / 8 * (r + r**2) / (1 + r + r**2) ** 2.5
    return goe, poisson


def plot_spectrum(levels, ratios, path: str, semicircle=None, title: str = "", outliers=None,
                  axes=None) -> None:
    """Two panels: level density (with a semicircle of given centre and radius) and the
    histogram of spacing ratios against the GOE and Poisson curves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    own = axes is None
    if own:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    ax = axes[0]
    ax.hist(levels, bins=80, density=True, color="0.7", label="eigenvalues")
    if semicircle is not None:
        c, rad = semicircle
        xs = np.linspace(c - rad, c + rad, 400)
        ax.plot(xs, 2 / (math.pi * rad**2) * np.sqrt(np.maximum(rad**2 - (xs - c) ** 2, 0)),
                "k-", lw=1.2, label="semicircle (same mean, variance)")
    if outliers is not None and len(outliers):
        ax.set_title(f"bulk ({len(outliers)} outliers not shown)", fontsize=9)
    ax.set(xlabel="eigenvalue", ylabel="density")
    ax.legend(fontsize=7)
    ax = axes[1]
    ax.hist(ratios, bins=40, range=(0, 1), density=True, color="0.7", label=f"<r> = {np.mean(ratios):.3f}")
    rr = np.linspace(0, 1, 200)
    goe, poi = ratio_densities(rr)
    ax.plot(rr, goe, "C0-", label="GOE (surmise)")
    ax.plot(rr, poi, "C3--", label="Poisson")
    ax.set(xlabel=r"$\tilde r$", ylabel="density")
    ax.legend(fontsize=7)
    if own:
        fig.suptitle(title, fontsize=10)
        fig.tight_layout()
        save_figure(fig, path)
