"""Entry point of the `escalier` command line.

Each sub-command lives in its own module exposing ``NAME``, ``HELP``, ``add_arguments(parser)``
and ``run(args) -> int``; the modules are listed in ``COMMANDS`` and imported lazily, so that
`escalier hermite` never pays for importing JAX.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from escalier.derive import __version__

# sub-command name -> module (relative to this package) and one-line help
COMMANDS: dict[str, tuple[str, str]] = {
    "hermite": ("._hermite", "Hermite expansion of a target: coefficients and L2 mass per degree"),
    "exponents": ("._exponents", "exponents and staircases of a target: online SGD, giant "
                                  "steps, batch reuse, AMP"),
    "staircase": ("._staircase", "the staircase of learned subspaces under a protocol "
                                  "(optionally drawn)"),
    "verify": ("._verify", "simulate the network at several d and compare it with its derived ODE"),
    "scaling": ("._scaling", "samples to learn a target (up to 3 directions) against d, vs the "
                             "exponents report (online SGD, batch reuse)"),
    "batch": ("._batch", "iterations to a target overlap against batch size: the knee near "
                         "d^(l/2), square vs correlation loss"),
    "sde": ("._sde", "the overlaps' SDE (drift = ODE, diffusion = eta^2 x update covariance / d): "
                     "mean and std per overlap, vs simulation, Ornstein-Uhlenbeck"),
    "wide": ("._wide", "a wide committee's overlap ODE at any width, or its reduced large-width "
                       "ODE (--reduced, --compare)"),
    "odes": ("._odes", "Overlap ODEs of online SGD: LaTeX, SymPy or a standalone JAX module"),
    "sos": ("._sos", "sum-of-squares lower bound (and minimisers) of a polynomial or a population risk"),
    "erm": ("._erm", "asymptotic errors of ERM on a Gaussian mixture vs its Gaussian equivalent"),
    "landscape": ("._landscape", "spherical p-spin landscape: complexity, band edges, sampled "
                                 "critical points"),
    "hessian": ("._hessian", "Hessian spectra of trained networks (or GOE / Poisson): density, "
                             "outliers, spacing ratio"),
    "dmft": ("._dmft", "DMFT of multi-pass GD on n = alpha d samples: M(t), Q(t), losses "
                       "(optionally beside the simulation)"),
    "giant-step": ("._giant_step", "giant GD steps: learned subspaces vs the prediction, or the "
                                   "spiked features (--spike)"),
    "collapse": ("._collapse", "neural collapse: the deep linear UFM (closed form vs training) "
                               "and NC1-NC4 on digits"),
    "depth": ("._depth", "hierarchical targets (SIGHT/MIGHT): predicted sample exponents of "
                         "three-layer, two-layer and kernel learners, and measured test errors"),
    "sweep": ("._sweep", "a grid of simulations on Dask (local or a cluster), stored in Zarr, "
                         "resumable: run, status, plot"),
}

DEFAULT_COMMAND = "exponents"
DEFAULT_TARGET = "z1 + z1*z2 + z1*z2*z3"


class CliError(Exception):
    """An error the user can fix: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (`escalier CMD: error: ...`, exit status 2), no usage
    block: the full usage is one `--help` away."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="escalier",
        description=(
            "Exponents, staircases, overlap ODEs and their verification for two-layer "
            f"networks learning a target f(z1..zk). With no arguments: the report of the "
            f"built-in default target {DEFAULT_TARGET!r}."
        ),
    )
    parser.add_argument("--version", action="version", version=f"escalier {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
        _module(name).add_arguments(p)
    return parser


def _module(name: str):
    return importlib.import_module(COMMANDS[name][0], __package__)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    if not argv or all(a == "--debug" for a in argv):
        argv = [DEFAULT_COMMAND, DEFAULT_TARGET, *argv]
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from ._common import BudgetExceeded, time_budget

    try:
        with time_budget(args.command, getattr(args, "timeout", None)):
            status = int(_module(args.command).run(args) or 0)
        sys.stdout.flush()
        return status
    except BrokenPipeError:
        # the reader (e.g. `head`) closed the pipe: stop quietly, without a second error
        # when Python flushes stdout at exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except (CliError, ValueError, BudgetExceeded) as err:
        if args.debug:
            raise
        print(f"escalier {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        print("interrupted", file=sys.stderr)
        return 130
