"""He3 escape time over d and the learning rate, as a sweep (docs/sweeps.md).

Reads the spec examples/sweeps/he3_escape.toml (task "escape": spherical single-index SGD
on the exact gram chain, lr = lr0 d^{-1/2} for the information exponent l = 3 of He3),
replaces its axes by the sizes given here, runs it with escalier.numerics.sweep.run_sweep
(a LocalCluster of --workers processes; 0: in this process), stores it in Zarr (--store,
resumable: run it twice and the second run does nothing), prints the fitted exponent of the
median escape steps in d for each lr0 beside the law's 2 (d^{l-1}, Ben Arous, Gheissari,
Jagannath, arXiv 2003.10409), and plots escape_steps against d, one line per lr0.

    python examples/sweep_he3_escape.py --d 32 64 128 --lr 0.5 1 2 --seeds 8 --out he3.png
"""

from __future__ import annotations

import argparse
import pathlib
import tempfile

import numpy as np

SPEC = pathlib.Path(__file__).resolve().parent / "sweeps" / "he3_escape.toml"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, nargs="+", default=[32, 64, 128], help="dimensions")
    parser.add_argument("--lr", type=float, nargs="+", default=[0.5, 1.0, 2.0],
                        help="learning-rate prefactors lr0")
    parser.add_argument("--seeds", type=int, default=8, help="runs per point")
    parser.add_argument("--max-steps", type=int, default=400_000, help="the most steps per run")
    parser.add_argument("--workers", type=int, default=None,
                        help="LocalCluster worker processes (default: min(points, cores)); "
                             "0: in this process")
    parser.add_argument("--store", default=None,
                        help="the Zarr store (default: a temporary directory)")
    parser.add_argument("--out", default="sweep_he3_escape.png", help="figure file")
    args = parser.parse_args(argv)

    import xarray as xr

    from escalier.numerics.sweep import Sweep, plot_sweep, run_sweep

    spec = Sweep.from_toml(SPEC)
    spec = Sweep(spec.task, {**spec.fixed, "max_steps": args.max_steps},
                 {"d": args.d, "lr": args.lr, "seeds": args.seeds}, description=spec.description)
    with tempfile.TemporaryDirectory() as tmp:
        store = args.store or str(pathlib.Path(tmp) / "he3_escape.zarr")
        report = run_sweep(spec, store, workers=args.workers)
        print(report.to_text())
        ds = xr.open_zarr(store).load()
        d = np.asarray(ds["d"].values, dtype=float)
        for lr in ds["lr"].values:
            steps = ds["escape_steps"].sel(lr=lr).values  # (d, seed)
            med = np.nanmedian(np.where(np.isfinite(steps), steps, np.inf), axis=1)
            line = ", ".join(f"d = {int(x)}: {m:.4g}" for x, m in zip(d, med, strict=True))
            ok = np.isfinite(med) & (med > 0)
            slope = (np.polyfit(np.log(d[ok]), np.log(med[ok]), 1)[0] if ok.sum() >= 2
                     else float("nan"))
            print(f"lr0 = {lr:g}: median escape steps {line}; fitted exponent {slope:.2f} "
                  f"(law: 2)")
        plot_sweep(store, "d", "escape_steps", args.out, hue="lr")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
