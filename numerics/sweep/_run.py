"""Running a sweep on Dask distributed: a LocalCluster by default, any scheduler by address.

Each pending grid point is one Dask task, keyed by its configuration hash; workers compute
(`execute_task`), the calling process writes each result into the Zarr store as it arrives
(the one writer). A task that raises is recorded with its error and never blocks the others;
a rerun skips what is done (and what failed, unless retry_failed).

The default cluster uses worker *processes* (one thread each): the tasks are dominated by
JAX tracing and XLA compilation, which hold the GIL, so threads would serialise them;
processes also keep a crashing task from taking the sweep down. `processes=False` gives an
in-process threaded cluster (no start-up cost, one JAX runtime), `workers=0` runs the tasks
in this process without Dask (the reference path for debugging).
"""

from __future__ import annotations

import os
import pathlib
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._spec import Sweep
from ._store import DONE, FAILED, SweepStore, lock_store

__all__ = ["SweepReport", "execute_task", "run_sweep"]


def execute_task(task, params: dict[str, Any], seeds: int) -> dict[str, Any]:
    """Run one grid point on this process (what a Dask worker executes).

    Args:
        task: a TaskKind class (or a name in TASKS).
        params: the point's full parameters.
        seeds: runs of the point (vmapped; sharded across the visible JAX devices).

    Returns:
        A dict: "arrays" ({observable: ndarray}), "devices" (JAX devices the seeds were
        sharded over), "seconds", "worker" ("host:pid") and "escalier" (the version).
    """
    import socket

    os.environ.setdefault("JAX_ENABLE_X64", "1")
    import jax

    from escalier.derive import __version__

    from ._devices import seed_keys
    from ._tasks import TASKS

    jax.config.update("jax_enable_x64", True)
    kind = (TASKS[task] if isinstance(task, str) else task)()
    clock = time.perf_counter()
    keys, n_devices = seed_keys(int(params.get("seed", 0)), seeds)
    arrays = {k: np.asarray(v) for k, v in kind.run(params, keys).items()}
    return {"arrays": arrays, "devices": n_devices, "seconds": time.perf_counter() - clock,
            "worker": f"{socket.gethostname()}:{os.getpid()}", "escalier": __version__}


@dataclass(frozen=True)
class SweepReport:
    """What a call of run_sweep did.

    Attributes:
        path: the store.
        total: grid points.
        already_done: points done before this call (skipped).
        ran: tasks run by this call; failed: of which failed.
        skipped_failed: points that had failed before and were not retried.
        seconds: wall time of the call.
        executor: where the tasks ran ("this process", "LocalCluster(2 processes)", or the
            scheduler's address).
        devices: JAX devices per task, over the tasks of this call.
        failures: (config, error) of the tasks that failed in this call.
    """

    path: str
    total: int
    already_done: int
    ran: int
    failed: int
    skipped_failed: int
    seconds: float
    executor: str
    devices: tuple[int, ...] = ()
    failures: tuple[tuple[dict, str], ...] = field(default=())

    def to_text(self) -> str:
        dev = ", ".join(map(str, self.devices)) or "-"
        lines = [f"sweep store {self.path}: {self.total} points; {self.already_done} already "
                 f"done, {self.ran} run now ({self.failed} failed), {self.skipped_failed} failed "
                 f"before and not retried (--retry-failed); {self.seconds:.1f} s on "
                 f"{self.executor}; JAX devices per task: {dev}"]
        for config, error in self.failures:
            lines.append(f"failed: {config}: {error}")
        return "\n".join(lines)


def _config_text(sweep: Sweep, params: dict) -> dict:
    return {n: params[n] for n in sweep.grid_axes}


def run_sweep(sweep: Sweep, out=None, *, scheduler: str | None = None,
              workers: int | None = None, processes: bool = True, client=None,
              retry_failed: bool = False, progress: bool = True) -> SweepReport:
    """Run every pending point of `sweep` and store the results in the Zarr store `out`.

    Args:
        sweep: the Sweep.
        out: the store directory (default: sweep.output, else "sweep.zarr").
        scheduler: address of a running Dask scheduler ("tcp://host:8786") or the path of
            its scheduler file (`dask scheduler --scheduler-file F`); None starts a
            LocalCluster in this process.
        workers: LocalCluster workers (default: min(pending tasks, CPU count)); 0 runs the
            tasks in this process without Dask.
        processes: LocalCluster with worker processes (default) or threads.
        client: an existing distributed.Client (overrides scheduler and workers).
        retry_failed: run again the points that failed before.
        progress: one tqdm bar for the sweep (tasks done / total, ETA).

    Returns:
        SweepReport.

    Raises:
        ValueError: a store that holds another sweep, or held by another running sweep.
    """
    from tqdm.auto import tqdm

    from escalier.derive import __version__

    clock = time.perf_counter()
    path = pathlib.Path(out if out is not None else (sweep.output or "sweep.zarr"))
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 0):
        raise ValueError(f"workers must be an integer >= 0 (0: this process), got {workers!r}")
    with lock_store(path):
        store = SweepStore.open(path, sweep)
        status, stored_keys = store.ledger()
        todo, done, skipped = [], 0, 0
        for point in sweep.points():
            st, key = status[point.index], stored_keys[point.index]
            if st == DONE and key == point.key:
                done += 1
            elif st == FAILED and key == point.key and not retry_failed:
                skipped += 1
            else:
                todo.append(point)
        bar = tqdm(total=len(sweep), initial=done + skipped, desc=f"sweep {sweep.task}",
                   unit="task", disable=not progress, dynamic_ncols=True)
        failures: list[tuple[dict, str]] = []
        devices: set[int] = set()

        def record(point, result=None, error=None):
            if error is None and result.get("escalier") != __version__:
                error = (f"the worker runs escalier {result.get('escalier')}, this process "
                         f"{__version__}: install the same version on every worker")
            if error is None:
                store.write_result(point, result)
                devices.add(int(result["devices"]))
            else:
                store.write_failure(point, error, (result or {}).get("worker", ""))
                failures.append((point.key, _config_text(sweep, point.params), error))
                bar.set_postfix(failed=len(failures))
            bar.update(1)

        kind = type(sweep.kind)
        executor = "this process"
        try:
            if not todo:
                pass
            elif client is None and scheduler is None and workers == 0:
                for point in todo:
                    try:
                        result = execute_task(kind, point.params, sweep.seeds)
                    except Exception as err:  # recorded, never blocking the others
                        record(point, error=f"{type(err).__name__}: {err}")
                    else:
                        record(point, result)
            else:
                executor = _run_dask(sweep, todo, kind, record, client, scheduler, workers,
                                     processes)
        finally:
            bar.close()
    return SweepReport(str(path), len(sweep), done, len(todo), len(failures), skipped,
                       time.perf_counter() - clock, executor, tuple(sorted(devices)),
                       _in_grid_order(failures, todo))


def _run_dask(sweep, todo, kind, record, client, scheduler, workers, processes) -> str:
    import logging

    from distributed import Client, LocalCluster, as_completed

    cluster = None
    own = client is None
    if client is not None:
        executor = f"the client's scheduler {client.scheduler.address}"
    elif scheduler is not None:
        if os.path.isfile(scheduler):  # a scheduler file (dask scheduler --scheduler-file F)
            client = Client(scheduler_file=scheduler)
        else:
            client = Client(scheduler)
        executor = f"scheduler {scheduler}"
    else:
        n = workers or min(len(todo), os.cpu_count() or 1)
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=processes,
                               dashboard_address=":0", silence_logs=logging.CRITICAL)
        client = Client(cluster)
        unit = ("process" if processes else "thread") + ("" if n == 1 else
                                                          ("es" if processes else "s"))
        executor = f"LocalCluster({n} {unit})"
    try:
        futures = {client.submit(execute_task, kind, p.params, sweep.seeds,
                                 key=f"escalier-sweep-{sweep.task}-{p.key}", pure=False): p
                   for p in todo}
        for future in as_completed(futures):
            point = futures.pop(future)
            try:
                result = future.result()
            except Exception as err:  # the task's own exception, re-raised here
                record(point, error=f"{type(err).__name__}: {err}")
            else:
                record(point, result)
            future.release()
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()
    return executor


def _in_grid_order(failures, todo) -> tuple[tuple[dict, str], ...]:
    """(config, error) of the failed tasks in the grid's order (workers finish in any order)."""
    rank = {point.key: i for i, point in enumerate(todo)}
    return tuple((cfg, err) for _, cfg, err in sorted(failures, key=lambda f: rank[f[0]]))
