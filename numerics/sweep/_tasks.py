"""Task kinds of a sweep: what one grid point computes, its parameters and its observables.

A task kind is a small object: a registry `name`, the `parameters` it accepts (with their
kind, default and help), `observables(params, seeds)` (the arrays one point produces, their
dimensions and shapes) and `run(params, keys)` (the computation, one PRNG key per seed,
vmapped over seeds by the engine). One task = one grid point with all its seeds: the engines
already vmap over seeds, and the keys may be sharded across the visible JAX devices
(escalier.numerics.sweep.seed_keys). Adding a kind (batch, giant-step, dmft, ...) is one
class and one line in TASKS.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

__all__ = ["REQUIRED", "TASKS", "EscapeTask", "Observable", "Param", "SimulateTask", "TaskKind"]


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()
"""Default of a parameter that the spec must give (in [fixed] or [axes])."""

_KIND_TEXT = {
    "int>=0": "an integer >= 0", "int>=1": "an integer >= 1", "int>=2": "an integer >= 2",
    "positive": "a number > 0", "nonnegative": "a number >= 0",
    "fraction": "a number in (0, 1)", "text": "a string", "optional-text": "a string",
    "flag": "true or false", "choice": "one of",
}


@dataclass(frozen=True)
class Param:
    """A task parameter: its kind (how a value is checked), default and one-line help.

    kind: int>=0, int>=1, int>=2, positive, nonnegative, fraction (0 < x < 1), text,
    optional-text (a string, default None), flag (bool), choice (one of `choices`).
    """

    kind: str
    default: Any = REQUIRED
    help: str = ""
    choices: tuple = ()

    def __post_init__(self):
        if self.kind not in _KIND_TEXT:
            raise ValueError(f"unknown parameter kind {self.kind!r}; accepted: {list(_KIND_TEXT)}")

    def accepted(self) -> str:
        if self.kind == "choice":
            return f"one of {list(self.choices)}"
        return _KIND_TEXT[self.kind]

    def check(self, where: str, value):
        """The value, normalised (int, float, str, bool); ValueError naming `where`."""
        kind = self.kind
        bad = ValueError(f"{where}: must be {self.accepted()}, got {value!r}")
        if kind.startswith("int>="):
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise bad
            if value < int(kind[5:]):
                raise bad
            return int(value)
        if kind in ("positive", "nonnegative", "fraction"):
            if isinstance(value, bool) or not isinstance(value, int | float | np.number):
                raise bad
            x = float(value)
            ok = math.isfinite(x) and {"positive": x > 0, "nonnegative": x >= 0,
                                       "fraction": 0 < x < 1}[kind]
            if not ok:
                raise bad
            return x
        if kind in ("text", "optional-text"):
            if not isinstance(value, str) or not value.strip():
                raise bad
            return value
        if kind == "flag":
            if not isinstance(value, bool | np.bool_):
                raise bad
            return bool(value)
        if value not in self.choices:  # choice
            raise bad
        return value


@dataclass(frozen=True)
class Observable:
    """One stored array of a task: its dimensions (besides the sweep axes), its shape for a
    given point, and what it is. Points with smaller shapes are padded with NaN."""

    dims: tuple[str, ...]
    shape: tuple[int, ...]
    description: str


class TaskKind(abc.ABC):
    """What one grid point computes (abstract). Every kind also accepts `seed`, the base
    PRNG seed: run i of a point uses jax.random.split(jax.random.key(seed), seeds)[i], the
    stream `simulate(..., seed=seed, seeds=seeds)` uses."""

    name: ClassVar[str]
    parameters: ClassVar[Mapping[str, Param]]
    description: ClassVar[str] = ""

    @classmethod
    def all_parameters(cls) -> dict[str, Param]:
        return {**cls.parameters, "seed": Param("int>=0", 0, "base PRNG seed of the point")}

    def check(self, params: Mapping[str, Any]) -> None:
        """Checks across parameters of one point (ValueError naming them); default none."""
        return None

    @abc.abstractmethod
    def observables(self, params: Mapping[str, Any], seeds: int) -> dict[str, Observable]:
        """The arrays `run` returns for this point (dims may include "seed")."""

    @abc.abstractmethod
    def run(self, params: Mapping[str, Any], keys) -> dict[str, np.ndarray]:
        """Compute one point for all seeds; keys: (S,) typed PRNG keys, maybe sharded."""


class EscapeTask(TaskKind):
    """Steps until the neuron's projection on the teacher subspace, |M_1.| (|m| for one
    direction), reaches the threshold, for one spherical neuron under online SGD on a target
    of at most three directions, on the exact gram chain (GramEngine.first_passage, cost
    per step independent of d), every seed run until it escapes or max_steps. The learning
    rate follows the information exponent l of the target and student (lr = lr0
    d^{-(l-2)/2} for l >= 3, as `escalier scaling --lr lr0`, Ben Arous, Gheissari,
    Jagannath, arXiv 2003.10409) or is the constant lr. Default student: the target's link
    (one direction), He_l (several; `escalier.numerics.verify.default_student`)."""

    name = "escape"
    description = "steps to escape |M_1.| >= threshold (gram engine), per seed"
    parameters = {
        "target": Param("text", REQUIRED, "target of at most 3 directions, e.g. 'He3(z1)' or "
                                          "'z1*z2*z3'"),
        "student": Param("optional-text", None, "student activation (default: the target's "
                                                "link, or He_l for several directions)"),
        "loss": Param("choice", "correlation", "per-sample loss", ("correlation", "square")),
        "d": Param("int>=2", REQUIRED, "input dimension"),
        "lr": Param("positive", REQUIRED, "learning-rate prefactor lr0 (lr_rule 'exponent') or "
                                          "the learning rate (lr_rule 'constant')"),
        "lr_rule": Param("choice", "exponent", "how lr sets the rate",
                         ("exponent", "constant")),
        "threshold": Param("fraction", 0.5, "escape when |M_1.| (|m|) reaches this level"),
        "max_steps": Param("int>=1", 1_000_000, "the most SGD steps per run (nan beyond)"),
    }

    def _scenario(self, params):
        from escalier.derive import Scenario, Target
        from escalier.numerics.verify import default_student, information_exponent, scaling_law

        t = Target.parse(params["target"])
        self._check_target(t, params)
        student = params["student"] or default_student(t)
        lr = float(params["lr"])
        if params["lr_rule"] == "exponent":
            lr = scaling_law(information_exponent(t, student)).lr(lr, int(params["d"]))
        return Scenario(t, student=student, p=1, lr=lr, loss=params["loss"], spherical=True), lr

    @staticmethod
    def _check_target(t, params) -> None:
        from escalier.numerics.verify import MAX_K

        if t.k > MAX_K:
            raise ValueError(f"task 'escape' takes targets of at most {MAX_K} directions (one "
                             f"spherical neuron, escape of |M_1.|), got {params['target']!r} "
                             f"with k = {t.k}")

    def check(self, params) -> None:
        from escalier.derive import Target

        self._check_target(Target.parse(params["target"]), params)

    def observables(self, params, seeds):
        return {
            "escape_steps": Observable(("seed",), (seeds,), "first SGD step with |M_1.| "
                                       "(|m|) >= threshold (nan: not within max_steps)"),
            "m0": Observable(("seed",), (seeds,), "initial overlap m of each run (one "
                             "direction; several: the initial |M_1.|)"),
            "lr_used": Observable((), (), "learning rate of the runs"),
        }

    def run(self, params, keys):
        from escalier.numerics.simulation import EscapeThreshold, GramEngine

        scenario, lr = self._scenario(params)
        limit = int(params["max_steps"])
        steps, m0 = GramEngine().first_passage(
            scenario, int(params["d"]), keys, EscapeThreshold(params["threshold"], len(keys)),
            limit=limit)
        steps = np.where(np.asarray(steps) <= limit, steps, np.nan)  # the chain runs in chunks
        m0 = np.asarray(m0)
        if scenario.k > 1:  # the start's |M_1.| (P = I)
            m0 = np.linalg.norm(m0, axis=1)
        return {"escape_steps": steps, "m0": m0, "lr_used": np.float64(lr)}


def _scenario_parameters() -> dict[str, Param]:
    """The Scenario's command-line options as task parameters (defined once, in Scenario)."""
    from escalier.derive import Scenario

    kinds = {"text": "text", "int>=1": "int>=1", "positive": "positive",
             "nonnegative": "nonnegative", "choice": "choice", "flag": "flag"}
    base = Scenario.options()
    return {name: Param(kinds[meta["kind"]], base[name], meta["help"],
                        tuple(meta.get("choices", ())))
            for name, meta in Scenario.command_line_options().items()}


class SimulateTask(TaskKind):
    """`escalier.numerics.simulation.simulate` at one point: the overlaps Q, M, a over time
    for every seed (the Scenario's options, d, time, the engine and the protocol)."""

    name = "simulate"
    description = "overlaps Q, M, a over time (simulate)"

    @classmethod
    def all_parameters(cls) -> dict[str, Param]:
        return {"target": Param("text", REQUIRED, "the target f(z1..zk)"),
                **_scenario_parameters(),
                "d": Param("int>=2", REQUIRED, "input dimension"),
                "time": Param("positive", REQUIRED, "duration in t = steps / d"),
                "n_records": Param("int>=1", 100, "records after t = 0"),
                "engine": Param("choice", "gram", "simulation engine", ("gram", "full")),
                "steps_per_batch": Param("int>=1", 1, "SGD steps per fresh mini-batch"),
                "seed": Param("int>=0", 0, "base PRNG seed of the point")}

    parameters = {}  # all_parameters builds them from the Scenario's fields

    def _scenario(self, params):
        from escalier.derive import Scenario

        names = Scenario.command_line_options()
        return Scenario(params["target"], **{k: params[k] for k in names})

    def check(self, params) -> None:
        from escalier.numerics.simulation import ENGINES, OnlineSGD, StepsPerBatch

        scenario = self._scenario(params)
        k = params["steps_per_batch"]
        protocol = OnlineSGD() if k == 1 else StepsPerBatch(k)
        ENGINES[params["engine"]]().check(scenario, protocol)

    def observables(self, params, seeds):
        sc = self._scenario(params)
        T = params["n_records"] + 1  # at most; shorter runs are padded
        return {
            "time": Observable(("record",), (T,), "time t = steps / d of each record"),
            "Q": Observable(("seed", "record", "p", "p_"), (seeds, T, sc.p, sc.p),
                            "student overlaps Q = W W^T / d"),
            "M": Observable(("seed", "record", "p", "k"), (seeds, T, sc.p, sc.k),
                            "teacher-student overlaps M = W W*^T / d"),
            "a": Observable(("seed", "record", "p"), (seeds, T, sc.p), "second-layer weights"),
        }

    def run(self, params, keys):
        from escalier.numerics.simulation import OnlineSGD, StepsPerBatch, simulate

        k = params["steps_per_batch"]
        r = simulate(self._scenario(params), params["d"], params["time"], keys=keys,
                     n_records=params["n_records"], engine=params["engine"],
                     protocol=OnlineSGD() if k == 1 else StepsPerBatch(k), progress=False)
        return {"time": r.times, "Q": r.Q, "M": r.M, "a": r.a}


TASKS: dict[str, type[TaskKind]] = {
    "escape": EscapeTask,
    "simulate": SimulateTask,
}
"""The registry of task kinds: adding one (batch, giant-step, dmft, ...) is one line here."""
