"""Helpers shared by the numerical sub-commands: float64 JAX, scenario options, output files."""

from __future__ import annotations

import json
import os
import pathlib

__all__ = ["add_engine_argument", "add_scenario_arguments", "enable_float64", "scenario_from_args",
           "write_json"]


def enable_float64() -> None:
    """Turn on JAX's 64-bit mode (verification is done in float64)."""
    os.environ.setdefault("JAX_ENABLE_X64", "1")
    import jax

    jax.config.update("jax_enable_x64", True)


def engine_name(text: str) -> str:
    """argparse type: a registered engine name (escalier.numerics.simulate.ENGINES)."""
    import argparse

    from escalier.numerics.simulate import ENGINES

    if text not in ENGINES:
        raise argparse.ArgumentTypeError(
            f"unknown engine {text!r}; accepted: {', '.join(ENGINES)}")
    return text


def add_engine_argument(parser, default: str = "full") -> None:
    """--engine NAME, checked against the engine registry when parsed."""
    parser.add_argument("--engine", default=default, type=engine_name, metavar="NAME",
                        help="simulation engine: full (d-dimensional SGD) or gram (the exact "
                             "Gram-matrix chain, cost independent of d), or any engine "
                             f"registered in escalier.numerics.simulate.ENGINES (default: "
                             f"{default})")


def add_scenario_arguments(parser, *, student="erf", p=2, lr=1.0, loss="square") -> None:
    """The protocol options of escalier.derive.Scenario."""
    g = parser.add_argument_group("scenario (escalier.derive.Scenario; time t = steps / d)")
    g.add_argument("--student", default=student,
                   help=f"student activation: a name (erf = erf(x/sqrt2), relu, tanh, He3, ...) "
                        f"or an expression in x (default: {student})")
    g.add_argument("--p", type=int, default=p, help=f"student hidden units (default: {p})")
    g.add_argument("--lr", type=float, default=lr,
                   help=f"first-layer learning rate eta (default: {lr})")
    g.add_argument("--loss", default=loss, choices=["square", "correlation"],
                   help=f"per-sample loss (default: {loss})")
    g.add_argument("--batch", type=int, default=1, help="mini-batch size n_b (default: 1)")
    g.add_argument("--noise", type=float, default=0.0,
                   help="label-noise variance Delta (default: 0)")
    g.add_argument("--init-scale", type=float, default=1.0,
                   help="student rows w_j ~ N(0, s^2 I_d) at the start (default: 1)")
    g.add_argument("--train-second-layer", action="store_true",
                   help="train the second layer too (step lr / d)")


def scenario_from_args(target, args, **overrides):
    """A Scenario from the parsed options (ValueError on bad values)."""
    from escalier.derive import Scenario

    options = dict(student=args.student, p=args.p, lr=args.lr, loss=args.loss,
                   batch=args.batch, noise=args.noise, init_scale=args.init_scale,
                   train_second_layer=args.train_second_layer)
    options.update(overrides)
    return Scenario(target, **options)


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


def save_figure(fig, path: str) -> None:
    """Write a matplotlib figure (format from the suffix) and close it; a clear error if not."""
    import matplotlib.pyplot as plt

    try:
        fig.savefig(path, dpi=130)
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot write the plot {path}: {err}") from None
    finally:
        plt.close(fig)
