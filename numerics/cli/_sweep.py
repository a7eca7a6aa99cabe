"""`escalier sweep`: a grid of simulations from a TOML spec, run on Dask distributed (a
LocalCluster by default, a scheduler by address), stored in Zarr, resumable, plotted
(docs/sweeps.md)."""

from __future__ import annotations

import json
import sys

from ._common import nonnegative_int, write_json


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    r = sub.add_parser("run", help="run (or resume) the sweep of a TOML spec",
                       description="Run every pending point of the sweep SPEC (a TOML file: "
                                   "task, [fixed], [axes]; docs/sweeps.md) and store it in Zarr; "
                                   "a rerun skips what is done.")
    r.add_argument("spec", metavar="SPEC.toml", help="the sweep specification")
    r.add_argument("--out", metavar="DIR", default=None,
                   help="the Zarr store (default: the spec's `output`, else SPEC's stem + .zarr)")
    r.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="a running Dask scheduler: its address (tcp://host:8786) or its "
                        "scheduler file (dask scheduler --scheduler-file F); default: a "
                        "LocalCluster started here")
    r.add_argument("--workers", type=nonnegative_int, default=None, metavar="N",
                   help="LocalCluster worker processes (default: min(tasks, CPU cores)); 0 runs "
                        "the tasks in this process without Dask")
    r.add_argument("--threads", action="store_true",
                   help="LocalCluster workers as threads of this process instead of processes")
    r.add_argument("--retry-failed", action="store_true", help="run failed points again")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.add_argument("--json", metavar="FILE", help="write the run's report")
    s = sub.add_parser("status", help="done / failed / pending points of a sweep store",
                       description="Counts of a sweep store and its failures with their "
                                   "configuration and error.")
    s.add_argument("dir", metavar="DIR", help="the sweep's Zarr store")
    s.add_argument("--json", metavar="FILE", help="write the status")
    p = sub.add_parser("plot", help="an observable against an axis, one line per hue value",
                       description="Plot observable Y against axis X (each run a dot, the "
                                   "reduction over seeds a line), one line per value of HUE.")
    p.add_argument("dir", metavar="DIR", help="the sweep's Zarr store")
    p.add_argument("--x", required=True, help="the axis on the horizontal axis (e.g. d)")
    p.add_argument("--y", required=True, help="the observable (e.g. escape_steps)")
    p.add_argument("--hue", default=None, help="an axis drawn as separate lines (e.g. lr)")
    p.add_argument("--sel", action="append", default=[], metavar="AXIS=VALUE",
                   help="fix another axis to one value (repeatable)")
    p.add_argument("--reduce", default="median", choices=["median", "mean", "geomean"],
                   help="reduction over seeds drawn as the line (default: median)")
    p.add_argument("--out", metavar="FILE", default=None,
                   help="the figure (default: DIR's stem + _Y.png)")


def _sel(items) -> dict:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"--sel {item!r}: expected AXIS=VALUE")
        try:
            out[name] = json.loads(value)
        except json.JSONDecodeError:
            out[name] = value
    return out


def run(args) -> int:
    import pathlib

    if args.action == "run":
        from escalier.numerics.sweep import Sweep, run_sweep

        spec = Sweep.from_toml(args.spec)
        out = args.out or spec.output or str(pathlib.Path(args.spec).stem) + ".zarr"
        print(f"escalier sweep: task {spec.task!r}, {len(spec)} points x {spec.seeds} seeds "
              f"-> {out}", file=sys.stderr)
        report = run_sweep(spec, out, scheduler=args.scheduler, workers=args.workers,
                           processes=not args.threads, retry_failed=args.retry_failed,
                           progress=not args.no_progress)
        print(report.to_text())
        if args.json:
            write_json(args.json, {"path": report.path, "total": report.total,
                                   "already_done": report.already_done, "ran": report.ran,
                                   "failed": report.failed,
                                   "skipped_failed": report.skipped_failed,
                                   "seconds": report.seconds, "executor": report.executor,
                                   "devices": list(report.devices),
                                   "failures": [{"config": c, "error": e}
                                                for c, e in report.failures]})
            print(f"wrote {args.json}")
        return 1 if report.failed else 0
    if args.action == "status":
        from escalier.numerics.sweep import sweep_status

        st = sweep_status(args.dir)
        print(st.to_text())
        if args.json:
            write_json(args.json, st.to_json())
            print(f"wrote {args.json}")
        return 0
    from escalier.numerics.sweep import plot_sweep

    out = args.out or f"{pathlib.Path(args.dir.rstrip('/')).stem}_{args.y}.png"
    plot_sweep(args.dir, args.x, args.y, out, hue=args.hue, sel=_sel(args.sel),
               reduce=args.reduce)
    print(f"wrote {out}")
    return 0
