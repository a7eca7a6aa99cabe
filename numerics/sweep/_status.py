"""Reading a sweep store back: its status (done / failed / pending, failures with their
configuration and error) and a plot of one observable against one axis."""

from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from escalier.numerics.figures import save_figure

from ._store import DONE, FAILED, PENDING

__all__ = ["SweepStatus", "open_sweep", "plot_sweep", "sweep_status"]


def open_sweep(path):
    """xarray.open_zarr(path), checked to be a sweep store (ValueError if not)."""
    import xarray as xr

    path = pathlib.Path(path)
    if not path.is_dir():
        raise ValueError(f"no sweep store at {path} (run `escalier sweep run SPEC.toml` first)")
    try:
        ds = xr.open_zarr(path)
    except Exception as err:  # zarr raises several types for a directory that is no store
        raise ValueError(f"{path} is not a readable Zarr store: {err}") from None
    if "escalier_sweep" not in ds.attrs:
        raise ValueError(f"{path} is a Zarr store but not an escalier sweep (no "
                         f"'escalier_sweep' attribute)")
    return ds


@dataclass(frozen=True)
class SweepStatus:
    """Counts of a sweep store and its failures (configuration, error)."""

    path: str
    task: str
    escalier_version: str
    axes: dict[str, list]
    seeds: int
    done: int
    failed: int
    pending: int
    devices: tuple[int, ...]
    seconds: float
    failures: list[tuple[dict[str, Any], str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.done + self.failed + self.pending

    def to_text(self) -> str:
        axes = "; ".join(f"{k} = {v}" for k, v in self.axes.items())
        dev = ", ".join(map(str, self.devices)) or "-"
        lines = [f"sweep store {self.path}: task {self.task!r} (escalier "
                 f"{self.escalier_version}); axes {axes}; {self.seeds} seeds per point",
                 f"{self.done}/{self.total} done, {self.failed} failed, {self.pending} pending; "
                 f"task time {self.seconds:.1f} s in all; JAX devices per task: {dev}"]
        lines += [f"failed: {cfg}: {err}" for cfg, err in self.failures]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "task": self.task, "escalier_version": self.escalier_version,
                "axes": self.axes, "seeds": self.seeds, "total": self.total, "done": self.done,
                "failed": self.failed, "pending": self.pending, "devices": list(self.devices),
                "seconds": self.seconds,
                "failures": [{"config": c, "error": e} for c, e in self.failures]}


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def sweep_status(path) -> SweepStatus:
    """The status of the sweep store at `path` (ValueError if it is none)."""
    ds = open_sweep(path)
    axes = json.loads(ds.attrs["axes"])
    status = ds["status"].values
    failures = []
    if (status == FAILED).any():
        err = ds["error"].values
        for index in zip(*np.nonzero(status == FAILED), strict=True):
            cfg = {a: _plain(ds[a].values[i]) for a, i in zip(axes, index, strict=True)}
            failures.append((cfg, str(err[index])))
    done = status == DONE
    devices = tuple(sorted({int(v) for v in ds["devices"].values[done]}))
    return SweepStatus(str(path), ds.attrs["task"], ds.attrs["escalier_version"],
                       {a: [_plain(v) for v in ds[a].values] for a in axes},
                       int(ds.attrs["seeds"]), int(done.sum()), int((status == FAILED).sum()),
                       int((status == PENDING).sum()), devices,
                       float(np.nansum(ds["seconds"].values[done])), failures)


_REDUCE = {"median": np.nanmedian, "mean": np.nanmean,
           "geomean": lambda x, axis: np.exp(np.nanmean(np.log(x), axis=axis))}


def plot_sweep(path, x: str, y: str, out, *, hue: str | None = None,
               sel: dict[str, Any] | None = None, reduce: str = "median",
               logx: bool | None = None, logy: bool | None = None) -> str:
    """Plot observable `y` against axis `x`, one line per value of `hue`: each run (seed) as a
    dot and the `reduce` over seeds (median, mean or geomean; NaN runs left out) as a line.

    Every other axis must have one value or be selected in `sel` ({axis: value}). Log
    scales by default: x where its values are positive and span a factor 4 or more, y where
    they are nonnegative and the positive ones span a decade or more (zeros are left out).

    Returns:
        the figure's path.

    Raises:
        ValueError: an unknown axis or observable, or an axis left with several values.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ds = open_sweep(path)
    axes = json.loads(ds.attrs["axes"])
    observables = json.loads(ds.attrs["observables"])
    if x not in axes:
        raise ValueError(f"--x {x!r} is not an axis of the sweep; axes: {axes}")
    if hue is not None and (hue not in axes or hue == x):
        raise ValueError(f"--hue {hue!r} must be another axis of the sweep; axes: {axes}")
    if y not in observables:
        raise ValueError(f"--y {y!r} is not an observable of the sweep; observables: "
                         f"{observables}")
    if reduce not in _REDUCE:
        raise ValueError(f"unknown reduction {reduce!r}; accepted: {list(_REDUCE)}")
    da = ds[y].where(ds["status"] == DONE)
    for name, value in (sel or {}).items():
        if name not in axes:
            raise ValueError(f"--sel {name}: not an axis of the sweep; axes: {axes}")
        values = [_plain(v) for v in ds[name].values]
        match = [v for v in values if str(v) == str(value) or v == value]
        if not match:
            raise ValueError(f"--sel {name}={value}: not a value of the axis; values: {values}")
        da = da.sel({name: match[0]})
    left = [a for a in axes if a in da.dims and a not in (x, hue) and da.sizes[a] > 1]
    if left:
        a = left[0]
        raise ValueError(f"axis {a!r} has {da.sizes[a]} values: select one with --sel "
                         f"{a}=VALUE (values: {[_plain(v) for v in ds[a].values]})")
    extra = [d for d in da.dims if d not in (x, hue, "seed") and da.sizes[d] > 1]
    if extra:
        raise ValueError(f"observable {y!r} has the dimensions {extra} besides the axes and "
                         f"seed: plot it from xarray.open_zarr({str(path)!r}) directly")
    da = da.squeeze(drop=True) if any(da.sizes[d] == 1 for d in da.dims
                                      if d not in (x, hue)) else da
    da = da.load()
    xs = np.asarray(ds[x].values)
    numeric = np.issubdtype(xs.dtype, np.number)
    pos = xs.astype(float) if numeric else np.arange(len(xs), dtype=float)
    fig, ax = plt.subplots(figsize=(5.8, 4.3))
    groups = [(None, da)] if hue is None else [
        (_plain(v), da.sel({hue: v})) for v in ds[hue].values]
    finite_all = []
    for i, (label, sub) in enumerate(groups):
        sub = sub.transpose(x, ...)
        vals = np.asarray(sub.values, dtype=float).reshape(len(xs), -1)
        color = f"C{i % 10}"
        for j, xv in enumerate(pos):
            v = vals[j][np.isfinite(vals[j])]
            ax.plot(np.full(v.shape, xv), v, ".", color=color, alpha=0.35, ms=3)
            finite_all.extend(v.tolist())
        with np.errstate(all="ignore"):
            ok = np.isfinite(vals).any(axis=1)
            line = np.full(len(xs), np.nan)
            if ok.any():
                line[ok] = _REDUCE[reduce](vals[ok], axis=1)
        ax.plot(pos, line, "o-", color=color, lw=1.2,
                label=f"{hue} = {label}" if hue is not None else reduce)
    finite_all = np.asarray(finite_all)

    def wide(v, span):
        v = np.asarray(v, dtype=float)
        if v.size == 0 or np.nanmin(v) < 0:
            return False
        v = v[np.isfinite(v) & (v > 0)]
        return v.size > 0 and v.max() / v.min() >= span

    if not numeric:
        ax.set_xticks(pos, [str(v) for v in xs])
    elif logx if logx is not None else wide(xs, 4):
        ax.set_xscale("log")
    if logy if logy is not None else wide(finite_all, 10):
        ax.set_yscale("log")
    title = f"{ds.attrs['task']}: {reduce} of {y} over {ds.attrs['seeds']} seeds"
    ax.set(xlabel=x, ylabel=y, title=title)
    if groups:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, out)
