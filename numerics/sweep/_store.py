"""A sweep's results as an xarray Dataset in Zarr: one array per observable, dimensions =
the sweep's axes (+ seed, record, ...), the configuration and escalier's version in attrs.

The store is created once (metadata only, observables filled with NaN) and each finished
task is written into its own region (one chunk per grid point along the axes); the data of
a point are written before its status, so a point is done only once its numbers are on
disk. One writer: the process that runs the sweep holds an exclusive lock on the store
(fcntl on the directory), workers only compute. `xarray.open_zarr(DIR)` reads it back.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from ._spec import Sweep, SweepPoint

__all__ = ["DONE", "FAILED", "PENDING", "SweepStore", "lock_store"]

PENDING, DONE, FAILED = 0, 1, 2
STATUS_NAMES = {PENDING: "pending", DONE: "done", FAILED: "failed"}
_BOOKKEEPING = ("status", "task_key", "error", "seconds", "devices", "worker")


def _spec_attr(sweep: Sweep) -> str:
    data = sweep.to_dict()
    data.pop("output", None)
    return json.dumps(data, sort_keys=True)


@contextlib.contextmanager
def lock_store(path: pathlib.Path) -> Iterator[None]:
    """Hold the store's writer lock (ValueError if another process holds it)."""
    import fcntl

    path.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDONLY)  # the store directory itself: nothing added to the store
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValueError(f"another process is writing the sweep store {path} (it holds "
                             f"the lock on the directory); wait for it or use another "
                             f"output") from None
        yield
    finally:
        os.close(fd)


class SweepStore:
    """The Zarr store of one sweep (create with `open`, which checks an existing store holds
    the same sweep)."""

    def __init__(self, path, sweep: Sweep, observables: dict[str, tuple[tuple[str, ...], str]],
                 shapes: dict[str, tuple[int, ...]]):
        self.path = pathlib.Path(path)
        self.sweep = sweep
        self.observables = observables  # name -> (dims after the axes, description)
        self.shapes = shapes  # name -> allocated shape after the axes

    @classmethod
    def open(cls, path, sweep: Sweep) -> SweepStore:
        """Open the store at `path`, creating it when absent.

        Raises:
            ValueError: `path` holds something else (another sweep, or not a sweep store).
        """
        import xarray as xr

        path = pathlib.Path(path)
        if (path / ".zgroup").exists() or (path / "zarr.json").exists():
            ds = xr.open_zarr(path)
            if ds.attrs.get("escalier_sweep") != _spec_attr(sweep):
                raise ValueError(f"{path} holds another sweep (its task, fixed parameters or "
                                 f"axes differ from this spec): use another output directory "
                                 f"or remove {path}")
            k = len(sweep.grid_axes)
            names = json.loads(ds.attrs["observables"])
            obs = {n: (tuple(ds[n].dims[k:]), ds[n].attrs["description"]) for n in names}
            return cls(path, sweep, obs, {n: tuple(ds[n].shape[k:]) for n in names})
        if path.exists() and any(path.iterdir()):
            raise ValueError(f"{path} exists and is not a sweep store: use another output "
                             f"directory")
        return cls._create(path, sweep)

    @classmethod
    def _create(cls, path: pathlib.Path, sweep: Sweep) -> SweepStore:
        import dask.array as da
        import xarray as xr

        from escalier.derive import __version__

        kind = sweep.kind
        axes = sweep.grid_axes
        grid = sweep.shape
        sizes: dict[str, int] = {"seed": sweep.seeds}
        obs: dict[str, tuple[tuple[str, ...], str]] = {}
        for point in sweep.points(keys=False):
            for name, o in kind.observables(point.params, sweep.seeds).items():
                obs[name] = (o.dims, o.description)
                for dim, n in zip(o.dims, o.shape, strict=True):
                    sizes[dim] = max(sizes.get(dim, 0), n)
        coords = {a: (a, np.array(sweep.axes[a])) for a in axes}
        coords["seed"] = ("seed", np.arange(sweep.seeds))
        data_vars, encoding = {}, {}
        for name, (dims, desc) in obs.items():
            shape = grid + tuple(sizes[d] for d in dims)
            chunks = (1,) * len(grid) + shape[len(grid):]
            data_vars[name] = (axes + dims, da.full(shape, np.nan, chunks=chunks),
                               {"description": desc})
            encoding[name] = {"chunks": chunks}
        book = {
            "status": (np.zeros(grid, np.int8), "0 pending, 1 done, 2 failed"),
            "task_key": (np.full(grid, "", dtype=object), "hash of the task's configuration "
                                                          "(escalier version included)"),
            "error": (np.full(grid, "", dtype=object), "the error of a failed task"),
            "seconds": (np.full(grid, np.nan), "wall time of the task on its worker"),
            "devices": (np.zeros(grid, np.int16), "JAX devices the seeds were sharded over"),
            "worker": (np.full(grid, "", dtype=object), "host:pid of the worker"),
        }
        for name, (value, desc) in book.items():
            data_vars[name] = (axes, value, {"description": desc})
            encoding[name] = {"chunks": (1,) * len(grid)}
        encoding["status"]["compressors"] = None  # one raw byte per point
        attrs = {
            "escalier_sweep": _spec_attr(sweep),
            "task": sweep.task,
            "task_description": kind.description,
            "escalier_version": __version__,
            "seeds": sweep.seeds,
            "axes": json.dumps(list(axes)),
            "observables": json.dumps(list(obs)),
            "description": sweep.description,
            "seed_rule": "run i of a point uses jax.random.split(jax.random.key(seed), seeds)[i]",
        }
        ds = xr.Dataset(data_vars, coords=coords, attrs=attrs)
        # metadata and the small arrays now; the observables are written per task
        ds.to_zarr(path, mode="w-", zarr_format=2, consolidated=True, encoding=encoding,
                   compute=False)
        return cls(path, sweep, obs, {n: tuple(sizes[d] for d in dims)
                                      for n, (dims, _) in obs.items()})

    # -- reading ----------------------------------------------------------------------------

    def ledger(self) -> tuple[np.ndarray, np.ndarray]:
        """(status, task_key) arrays over the grid."""
        import xarray as xr

        ds = xr.open_zarr(self.path)
        return np.asarray(ds["status"].values), np.asarray(ds["task_key"].values).astype(object)

    # -- writing ----------------------------------------------------------------------------

    def _region(self, point: SweepPoint) -> dict[str, slice]:
        return {a: slice(i, i + 1) for a, i in zip(self.sweep.grid_axes, point.index,
                                                   strict=True)}

    def _write(self, point: SweepPoint, variables: dict[str, tuple[tuple[str, ...], Any]]):
        import xarray as xr

        axes = self.sweep.grid_axes
        one = (1,) * len(axes)
        ds = xr.Dataset({n: (axes + dims, np.reshape(v, one + np.shape(v)))
                         for n, (dims, v) in variables.items()})
        ds.to_zarr(self.path, region=self._region(point), mode="r+", consolidated=False)

    def write_result(self, point: SweepPoint, result: dict[str, Any]) -> None:
        """Store a finished task: its observables (padded with NaN), then its status."""
        arrays = result["arrays"]
        variables = {}
        for name, (dims, _) in self.observables.items():
            full = np.full(self.shapes[name], np.nan)
            value = np.asarray(arrays[name], dtype=float)
            full[tuple(slice(0, n) for n in value.shape)] = value
            variables[name] = (dims, full)
        variables.update(
            error=((), np.array("", dtype=object)),
            seconds=((), np.float64(result["seconds"])),
            devices=((), np.int16(result["devices"])),
            worker=((), np.array(result["worker"], dtype=object)))
        self._write(point, variables)
        self._write(point, {"status": ((), np.int8(DONE)),
                            "task_key": ((), np.array(point.key, dtype=object))})

    def write_failure(self, point: SweepPoint, error: str, worker: str = "") -> None:
        """Record a failed task (its error; its observables stay NaN)."""
        self._write(point, {"error": ((), np.array(error, dtype=object)),
                            "worker": ((), np.array(worker, dtype=object))})
        self._write(point, {"status": ((), np.int8(FAILED)),
                            "task_key": ((), np.array(point.key, dtype=object))})
