"""Run a sweep spec with the toy task registered (the kill-and-resume test's subprocess):
python _sweep_script.py SPEC.toml OUT WORKERS."""

import sys

if __name__ == "__main__":
    from _toy_task import ToyTask

    from escalier.numerics.sweep import TASKS, Sweep, run_sweep

    TASKS["toy"] = ToyTask
    spec, out, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
    report = run_sweep(Sweep.from_toml(spec), out, workers=workers, progress=False)
    print(report.to_text())
