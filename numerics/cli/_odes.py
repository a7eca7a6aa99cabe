"""`escalier odes TARGET`: the overlap ODEs of online SGD, as LaTeX, SymPy text or JAX source.

Example: escalier odes "erf(z1/sqrt(2)) + erf(z2/sqrt(2))" --student erf --p 2 --emit jax -o ode.py
"""

from __future__ import annotations

import argparse
import pathlib

from ._common import (
    add_set_argument,
    add_timeout_argument,
    nonnegative_float,
    parse_settings,
    positive_float,
    positive_int,
    target_from_args,
)

NAME = "odes"
HELP = "Overlap ODEs of online SGD for a target: LaTeX, SymPy or a standalone JAX module"

EMITS = ("latex", "sympy", "jax")


def add_arguments(parser) -> None:
    parser.add_argument("target", help="target f(z1..zk), e.g. 'z1 + z1*z2' or 'He3(z1)'")
    parser.add_argument("--student", default="erf",
                        help="student activation: a name (erf = erf(x/sqrt 2), relu, tanh, "
                             "linear, quadratic, He1..He6, ...) or an expression in x")
    parser.add_argument("--p", type=positive_int, default=2, help="student hidden units (default 2)")
    parser.add_argument("--loss", default="square", help="square (default) or correlation")
    parser.add_argument("--batch", type=positive_int, default=1, help="mini-batch size n_b (default 1)")
    parser.add_argument("--noise", type=nonnegative_float, default=0.0, help="label-noise variance Delta")
    parser.add_argument("--lr", type=positive_float, default=1.0, help="learning rate eta (default 1)")
    parser.add_argument("--train-second-layer", action="store_true",
                        help="train the second layer a (state includes a_j)")
    parser.add_argument("--spherical", action="store_true",
                        help="single neuron on the sphere ||w||^2 = d (requires --p 1)")
    parser.add_argument("--emit", default="latex", help="latex (default), sympy or jax")
    parser.add_argument("-o", "--output", default=None, help="write to FILE instead of stdout")
    add_set_argument(parser)
    parser.add_argument("--symbolic", action="store_true",
                        help="keep the target's parameters symbolic: they become parameters "
                             "of the system and arguments of the emitted module, with the "
                             "--set values as defaults")
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
    system = ode_system(target, student=args.student, p=args.p, loss=args.loss,
                        batch=args.batch, noise=args.noise, lr=args.lr,
                        train_second_layer=args.train_second_layer, spherical=args.spherical,
                        **extra)
    if args.emit == "latex":
        text = system.latex() + "\n"
    elif args.emit == "sympy":
        text = system.to_sympy() + "\n"
    else:
        text = system.to_source("jax")
    if args.output:
        path = pathlib.Path(args.output)
        if path.parent and not path.parent.exists():
            raise ValueError(f"output folder {str(path.parent)!r} does not exist")
        path.write_text(text)
        print(f"wrote {path} ({len(system.state)} equations, backend {system.backend})")
    else:
        print(text, end="")
    return 0
