"""The sweep specification: a task kind, its fixed parameters and the grid axes.

The same object comes from a TOML file (`Sweep.from_toml`) or from Python
(`Sweep("escape", fixed={...}, axes={...})`). A TOML spec reads

    task = "escape"                 # a name in escalier.numerics.sweep.TASKS
    output = "he3_escape.zarr"      # optional: the store (default: SPEC's stem + .zarr)
    description = "..."             # optional

    [fixed]                         # parameters shared by every point
    target = "He3(z1)"
    [axes]                          # the grid: one list per parameter, seeds an integer
    d = [64, 128, 256]
    lr = [0.5, 1.0]
    seeds = 16                      # runs per point (the `seed` dimension)

A bad spec is refused with one line naming the key and what is accepted.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import pathlib
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ._tasks import REQUIRED, TASKS, TaskKind

__all__ = ["Sweep", "SweepPoint"]

_TOP = ("task", "fixed", "axes", "output", "description")


@dataclass(frozen=True)
class SweepPoint:
    """One grid point: its index in the grid, all its parameters and its task key."""

    index: tuple[int, ...]
    params: dict[str, Any]
    key: str


@dataclass(frozen=True)
class Sweep:
    """A sweep: `task` (a name in TASKS) run at every point of the grid `axes` (a non-empty
    list of values per parameter; `seeds`, an integer, is the number of runs per point),
    with the parameters `fixed` shared by all points.

    Raises:
        ValueError: one line naming the key (task, fixed.NAME, axes.NAME, ...) and what is
            accepted.
    """

    task: str
    fixed: Mapping[str, Any] = field(default_factory=dict)
    axes: Mapping[str, Any] = field(default_factory=dict)
    output: str | None = None
    description: str = ""

    def __post_init__(self):
        if not isinstance(self.task, str) or self.task not in TASKS:
            raise ValueError(f"task: unknown task {self.task!r}; accepted: {list(TASKS)}")
        for name in ("fixed", "axes"):
            if not isinstance(getattr(self, name), Mapping):
                raise ValueError(f"{name}: must be a table of parameters, got "
                                 f"{getattr(self, name)!r}")
        if self.output is not None and (not isinstance(self.output, str) or not self.output):
            raise ValueError(f"output: must be a directory name (a string), got {self.output!r}")
        if not isinstance(self.description, str):
            raise ValueError(f"description: must be a string, got {self.description!r}")
        accepted = self.kind.all_parameters()
        fixed, axes = {}, {}
        for name, value in self.fixed.items():
            if name not in accepted:
                raise ValueError(self._unknown("fixed", name, accepted))
            fixed[name] = accepted[name].check(f"fixed.{name}", value)
        seeds = self.axes.get("seeds", 1)
        if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
            raise ValueError(f"axes.seeds: must be an integer >= 1 (the runs per point; run i "
                             f"uses jax.random.split(jax.random.key(seed), seeds)[i]), got "
                             f"{seeds!r}")
        for name, values in self.axes.items():
            if name == "seeds":
                continue
            if name not in accepted:
                raise ValueError(self._unknown("axes", name, accepted))
            if name == "seed":
                raise ValueError("axes.seed: the base PRNG seed cannot be an axis (the runs of "
                                 "a point are the dataset's `seed` dimension: raise axes.seeds "
                                 "for more runs)")
            if name in fixed:
                raise ValueError(f"axes.{name}: also given in [fixed]; give a parameter in one "
                                 f"table only")
            if isinstance(values, str | bytes) or not isinstance(values, list | tuple) \
                    or not values:
                raise ValueError(f"axes.{name}: must be a non-empty list of values, got "
                                 f"{values!r}")
            checked = tuple(accepted[name].check(f"axes.{name}[{i}]", v)
                            for i, v in enumerate(values))
            if len(set(checked)) != len(checked):
                raise ValueError(f"axes.{name}: values must not repeat, got {list(values)}")
            axes[name] = checked
        missing = [n for n, p in accepted.items()
                   if p.default is REQUIRED and n not in fixed and n not in axes]
        if missing:
            raise ValueError(f"fixed: task {self.task!r} needs {missing} (in [fixed] or [axes])")
        object.__setattr__(self, "fixed", fixed)
        object.__setattr__(self, "axes", {**axes, "seeds": seeds})
        kind = self.kind
        for point in self.points(keys=False):
            try:
                kind.check(point.params)
            except ValueError as err:
                where = ", ".join(f"{n} = {point.params[n]!r}" for n in self.grid_axes)
                raise ValueError(f"{err} (at {where or 'the point'})") from None

    @staticmethod
    def _unknown(table: str, name: str, accepted) -> str:
        extra = ", seeds" if table == "axes" else ""
        return (f"{table}.{name}: unknown parameter; accepted: "
                f"{', '.join(accepted)}{extra}")

    # -- reading ----------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Sweep:
        """The Sweep a parsed TOML table describes (ValueError on unknown keys)."""
        unknown = [k for k in data if k not in _TOP]
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown key; accepted: {', '.join(_TOP)}")
        if "task" not in data:
            raise ValueError(f"task: missing; accepted: {list(TASKS)}")
        return cls(data["task"], data.get("fixed", {}), data.get("axes", {}),
                   data.get("output"), data.get("description", ""))

    @classmethod
    def from_toml(cls, path) -> Sweep:
        """Read a TOML spec (ValueError naming the file on a missing file or bad TOML)."""
        path = pathlib.Path(path)
        try:
            text = path.read_text()
        except OSError as err:
            raise ValueError(f"cannot read the sweep spec {path}: {err.strerror}") from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{path}: not valid TOML: {err}") from None
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """A JSON/TOML-ready dict; Sweep.from_dict(s.to_dict()) == s."""
        out: dict[str, Any] = {"task": self.task, "fixed": dict(self.fixed),
                               "axes": {k: list(v) if isinstance(v, tuple) else v
                                        for k, v in self.axes.items()}}
        if self.output is not None:
            out["output"] = self.output
        if self.description:
            out["description"] = self.description
        return out

    # -- the grid ---------------------------------------------------------------------------

    @property
    def kind(self) -> TaskKind:
        return TASKS[self.task]()

    @property
    def seeds(self) -> int:
        return int(self.axes["seeds"])

    @property
    def grid_axes(self) -> tuple[str, ...]:
        """The swept parameters, in the spec's order (the dataset's leading dimensions)."""
        return tuple(k for k in self.axes if k != "seeds")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(self.axes[k]) for k in self.grid_axes)

    def __len__(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n

    def defaults(self) -> dict[str, Any]:
        return {n: p.default for n, p in self.kind.all_parameters().items()
                if p.default is not REQUIRED}

    def points(self, keys: bool = True) -> Iterator[SweepPoint]:
        """Every grid point (C order over grid_axes) with its full parameters and task key."""
        names = self.grid_axes
        base = {**self.defaults(), **self.fixed}
        for index in itertools.product(*(range(s) for s in self.shape)):
            params = {**base, **{n: self.axes[n][i] for n, i in zip(names, index, strict=True)}}
            yield SweepPoint(index, params, self.task_key(params) if keys else "")

    def task_key(self, params: Mapping[str, Any]) -> str:
        """A hash of the task's full configuration (task, parameters, seeds, escalier's
        version): the same configuration gives the same key, in any process."""
        from escalier.derive import __version__

        payload = json.dumps({"task": self.task, "params": dict(params), "seeds": self.seeds,
                              "escalier": __version__}, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:20]
