"""Helpers shared by the numerical sub-commands: float64 JAX, scenario options, output files."""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import signal
import sys
import threading
import time
from contextlib import contextmanager

__all__ = ["DEFAULT_TIMEOUT", "BudgetExceeded", "add_engine_argument", "add_scenario_arguments",
           "add_set_argument",
           "add_timeout_argument", "target_from_args",
           "enable_float64", "finite_float", "parse_settings", "positive_float",
           "positive_int", "scenario_from_args", "time_budget", "write_json"]

DEFAULT_TIMEOUT = 1800.0
"""Default time budget of a derivation, in seconds (30 minutes)."""


# --- argparse type functions: refuse bad numbers before any work --------------------------


def _number(text: str, kind: type) -> float | int:
    try:
        value = kind(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not {'an integer' if kind is int else 'a number'}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not finite (a finite number is needed)")
    return value


def bounded(kind: type = float, low=None, high=None, *, low_open: bool = False,
            high_open: bool = False, what: str = ""):
    """An argparse type: a finite number of `kind` in [low, high] (ends open when asked)."""

    def check(text: str):
        value = _number(text, kind)
        too_low = low is not None and (value <= low if low_open else value < low)
        too_high = high is not None and (value >= high if high_open else value > high)
        if too_low or too_high:
            lo = "" if low is None else f"{'>' if low_open else '>='} {low}"
            hi = "" if high is None else f"{'<' if high_open else '<='} {high}"
            rng = " and ".join(x for x in (lo, hi) if x)
            raise argparse.ArgumentTypeError(f"{text!r} is out of range{what}: need {rng}")
        return value

    check.__name__ = kind.__name__  # argparse names the type in its messages
    return check


finite_float = bounded(float)
positive_float = bounded(float, 0, low_open=True)
nonnegative_float = bounded(float, 0)
positive_int = bounded(int, 1)
nonnegative_int = bounded(int, 0)


def add_timeout_argument(parser) -> None:
    """--timeout SECONDS: the time budget of a derivation."""
    parser.add_argument("--timeout", type=positive_float, default=DEFAULT_TIMEOUT,
                        metavar="SECONDS",
                        help=f"time budget of the derivation in seconds (default "
                             f"{DEFAULT_TIMEOUT:g}); past it, stop and name the stage")


def parse_settings(items) -> dict:
    """{name: value} from --set NAME=VALUE items (exact rationals where the text is one)."""
    import sympy as sp

    out: dict = {}
    for item in items or ():
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier() or not text.strip():
            raise ValueError(f"--set needs NAME=VALUE (e.g. --set c=1), got {item!r}")
        try:
            value = sp.nsimplify(sp.sympify(text.strip(), rational=True))
        except (sp.SympifyError, TypeError, SyntaxError):
            raise ValueError(f"--set {name}: {text!r} is not a number") from None
        if value.free_symbols or not value.is_real or not value.is_finite:
            raise ValueError(f"--set {name}: {text!r} is not a finite real number")
        if name in out:
            raise ValueError(f"--set {name} is given twice")
        out[name] = value
    return out


def add_set_argument(parser) -> None:
    """--set NAME=VALUE (repeatable): values of the target's parameters."""
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="value of a target parameter, e.g. --set c=1 --set beta=0.5 "
                             "(names other than z1, z2, ..., pi and E are parameters)")


def target_from_args(text, args, k: int | None = None):
    """The Target of `text` with the --set values substituted (ValueError when a --set name is
    not a parameter of the target)."""
    from escalier.derive import Target

    target = Target.parse(text, k=k)
    values = parse_settings(getattr(args, "set", None))
    names = [s.name for s in target.parameters]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ValueError(f"--set {', '.join(unknown)}: not a parameter of the target "
                         f"(its parameters: {', '.join(names) if names else 'none'})")
    if not values:
        return target
    out = target.subs(values)
    return type(target)(out.expr, out.k, text=f"{target.text} with "
                        + ", ".join(f"{n} = {v}" for n, v in values.items()))


def missing_values(target) -> str:
    """A hint naming the --set options a target with free parameters needs ('' if none)."""
    names = [s.name for s in target.parameters]
    return "" if not names else " ".join(f"--set {n}=VALUE" for n in names)


# --- time budget and progress -------------------------------------------------------------


class BudgetExceeded(BaseException):
    """The derivation ran past its time budget (message names the stage). A BaseException,
    like KeyboardInterrupt, so that no `except Exception` inside a derivation (SymPy's or
    ours) can swallow it and let the run go on past its budget."""


@contextmanager
def time_budget(command: str, seconds: float | None, *, progress_after: float = 10.0,
                every: float = 15.0):
    """Run the enclosed derivation within `seconds`: print a progress line on stderr (the
    stage and elapsed time) every `every` seconds after `progress_after`, and raise
    BudgetExceeded naming the stage when the budget is spent. A no-op off the main thread
    or where SIGALRM does not exist."""
    from escalier.derive import current_stage

    usable = (seconds is not None and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return
    start = time.monotonic()

    def arm(delay: float) -> None:
        signal.setitimer(signal.ITIMER_REAL, max(delay, 0.01))

    def handler(signum, frame):
        elapsed = time.monotonic() - start
        if elapsed >= seconds - 1e-3:
            raise BudgetExceeded(
                f"time budget of {seconds:g} s spent while computing: {current_stage()} "
                f"(raise --timeout, or lower --max-degree)")
        if elapsed >= progress_after - 1e-3:
            print(f"escalier {command}: still working after {elapsed:.0f} s "
                  f"(stage: {current_stage()})", file=sys.stderr, flush=True)
        arm(min(every, seconds - elapsed))

    previous = signal.signal(signal.SIGALRM, handler)
    arm(min(progress_after, seconds))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def enable_float64() -> None:
    """Turn on JAX's 64-bit mode (verification is done in float64)."""
    os.environ.setdefault("JAX_ENABLE_X64", "1")
    import jax

    jax.config.update("jax_enable_x64", True)


def engine_name(text: str) -> str:
    """argparse type: a registered engine name (escalier.numerics.simulation.ENGINES)."""
    import argparse

    from escalier.numerics.simulation import ENGINES

    if text not in ENGINES:
        raise argparse.ArgumentTypeError(
            f"unknown engine {text!r}; accepted: {', '.join(ENGINES)}")
    return text


def add_engine_argument(parser, default: str = "full") -> None:
    """--engine NAME, checked against the engine registry when parsed."""
    parser.add_argument("--engine", default=default, type=engine_name, metavar="NAME",
                        help="simulation engine: full (d-dimensional SGD) or gram (the exact "
                             "Gram-matrix chain, cost independent of d), or any engine "
                             f"registered in escalier.numerics.simulation.ENGINES (default: "
                             f"{default})")


_KINDS = {"int>=1": "positive_int", "positive": "positive_float",
          "nonnegative": "nonnegative_float"}


def add_scenario_arguments(parser, *, only=None, **defaults) -> None:
    """The options of escalier.derive.Scenario, built from its fields (names, defaults, help
    and kinds are defined once there); `only` restricts them, `defaults` overrides defaults."""
    from escalier.derive import Scenario

    g = parser.add_argument_group("scenario (escalier.derive.Scenario; time t = steps / d)")
    base = Scenario.options()
    for name, meta in Scenario.command_line_options().items():
        if only is not None and name not in only:
            continue
        flag = "--" + name.replace("_", "-")
        default = defaults.get(name, base[name])
        kind = meta["kind"]
        if kind == "flag":
            g.add_argument(flag, action="store_true", help=meta["help"])
            continue
        kw = {"default": default, "help": f"{meta['help']} (default: {default})"}
        if kind == "choice":
            kw["choices"] = list(meta["choices"])
        elif kind in _KINDS:
            kw["type"] = globals()[_KINDS[kind]]
        g.add_argument(flag, **kw)


def scenario_options(args) -> dict:
    """{option: value} of the Scenario options that the parsed command line has."""
    from escalier.derive import Scenario

    return {name: getattr(args, name) for name in Scenario.command_line_options()
            if hasattr(args, name)}


def scenario_from_args(target, args, **overrides):
    """A Scenario from the parsed options (ValueError on bad values)."""
    from escalier.derive import Scenario

    return Scenario(target, **{**scenario_options(args), **overrides})


def write_json(path: str, payload: dict) -> None:
    """Write a JSON file (ValueError naming the path if it cannot be written)."""
    try:
        pathlib.Path(path).write_text(json.dumps(payload, indent=1, default=_default))
    except OSError as err:
        raise ValueError(f"cannot write {path}: {err}") from None


def _default(obj):
    import numpy as np

    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)


