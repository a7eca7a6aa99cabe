"""`escalier odes TARGET`: the overlap ODEs of online SGD, as LaTeX, SymPy text or JAX source.

Example: escalier odes "erf(z1/sqrt(2)) + erf(z2/sqrt(2))" --student erf --p 2 --emit jax -o ode.py
With --map: the finite-step map instead (the exact expected change of the overlaps in one SGD
step at finite d, docs/batch.md): escalier odes "He3(z1)" --student He3 --map --emit jax
"""

from __future__ import annotations

import argparse
import pathlib

from ._common import (
    add_scenario_arguments,
    add_set_argument,
    add_timeout_argument,
    parse_settings,
    scenario_from_args,
    scenario_options,
    target_from_args,
)

EMITS = ("latex", "sympy", "jax")


def add_arguments(parser) -> None:
    parser.add_argument("target", help="target f(z1..zk), e.g. 'z1 + z1*z2' or 'He3(z1)'")
    # the Scenario's own options (escalier.derive.Scenario fields); the start's scale does not
    # enter the equations
    add_scenario_arguments(parser, only=("student", "p", "lr", "loss", "batch", "noise",
                                         "train_second_layer", "spherical", "tangent"))
    parser.add_argument("--emit", default="latex", help="latex (default), sympy or jax")
    parser.add_argument("-o", "--output", default=None, help="write to FILE instead of stdout")
    add_set_argument(parser)
    parser.add_argument("--symbolic", action="store_true",
                        help="keep the target's parameters symbolic: they become parameters "
                             "of the system and arguments of the emitted module, with the "
                             "--set values as defaults")
    parser.add_argument("--map", action="store_true",
                        help="the finite-step overlap map at finite d (expected change in one "
                             "step of batch n_b; d is a parameter) instead of the ODE")
    add_timeout_argument(parser)


def run(args) -> int:
    from escalier.derive.ode import ode_system

    if args.emit not in EMITS:
        raise ValueError(f"unknown --emit {args.emit!r}; accepted: {', '.join(EMITS)}")
    if args.symbolic:
        target = target_from_args(args.target, argparse.Namespace(set=[]))
        values = {n: float(v) for n, v in parse_settings(args.set).items()}
        extra = dict(symbolic_parameters=True, parameter_values=values)
    else:
        target, extra = target_from_args(args.target, args), {}
    if args.map:
        from escalier.derive.ode import overlap_map

        if args.symbolic:
            raise ValueError("--map takes numeric target parameters (--set), not --symbolic")
        system = overlap_map(scenario_from_args(target, args))
    else:
        system = ode_system(target, **scenario_options(args), **extra)
    if args.emit == "latex":
        text = system.latex() + "\n"
    elif args.emit == "sympy":
        text = system.to_sympy() + "\n"
    else:
        from escalier.numerics.lower import ode_source

        text = ode_source(system)
    if args.output:
        path = pathlib.Path(args.output)
        if path.parent and not path.parent.exists():
            raise ValueError(f"output folder {str(path.parent)!r} does not exist")
        path.write_text(text)
        what = "map components" if args.map else "equations"
        print(f"wrote {path} ({len(system.state)} {what}, backend {system.backend})")
    else:
        print(text, end="")
    return 0
