"""`escalier exponents TARGET`: information exponent, leap, giant-step and generative
exponents, reuse class, AMP classes and the staircases, as a table or JSON."""

from __future__ import annotations

import argparse
import json
import math

from ._common import add_set_argument, add_timeout_argument, bounded, target_from_args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ._app import DEFAULT_TARGET

    parser.add_argument("target", nargs="?", default=DEFAULT_TARGET,
                        help=f"the target, e.g. 'z1 + He3(z2)' (default {DEFAULT_TARGET!r})")
    parser.add_argument("--student", default=None,
                        help="student activation for the student-aware information exponent "
                             "(e.g. relu, erf, tanh, or an expression in x)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--max-degree", type=bounded(int, 1, 24), default=None,
                        help="Hermite truncation degree for non-polynomial targets (default 8)")
    parser.add_argument("--max-power", type=bounded(int, 1, 8), default=None,
                        help="largest label power m in the generative witnesses E[y^m He]")
    parser.add_argument("--no-alpha-c", action="store_true",
                        help="skip the numerical AMP threshold alpha_c")
    add_set_argument(parser)
    add_timeout_argument(parser)


def _fmt(value, exact: bool | None = None) -> str:
    text = "not found" if value is None else str(value)
    if exact is False and value is not None:
        text += " (not certified)"
    return text


def _vec(v) -> str:
    return "(" + ", ".join(f"{x:+.4g}" for x in v) + ")"


def render(report) -> str:
    """The text table of an ExponentReport."""
    ex = report.exact
    lines = [f"target: {report.target}   (k = {report.target.k})", ""]
    rows = [("information exponent", _fmt(report.information_exponent,
                                          ex["information_exponent"]))]
    rows += [(label, _fmt(value, proved)) for res in report.protocols.values()
             for label, value, proved in res.rows]
    if report.student is not None:
        rows.insert(1, (f"student-aware IE ({report.student})",
                        "none (c_k(f) c_k(sigma) = 0 for every k found)"
                        if report.student_information_exponent is None
                        else str(report.student_information_exponent)))
    width = max(len(r[0]) for r in rows)
    lines += [f"  {name:<{width}}  {value}" for name, value in rows]
    lines += ["", "predicted sample complexity:"]
    lines += [f"  {p:<11} {c}" for p, c in report.complexity().items()]
    for res in report.protocols.values():
        if res.section is None:
            continue
        lines += ["", f"{res.section}:"]
        if not res.steps:
            lines.append("  (no step)")
        for s in res.steps:
            dirs = ", ".join(_vec(d) for d in s.directions())
            lines.append(f"  step {s.index + 1}: {s.mechanism:<24} cost {s.cost:<12} "
                         f"dim {s.before.dim} -> {s.after.dim}  new {dirs}")
            for c in s.certificates:
                lines.append(f"      {c}")
            if res.protocol == "reuse" and s.witness:
                lines.append(f"      witness: {s.witness}")
    if "amp" in report.protocols:
        amp = report.amp
        lines += ["", "AMP weak learnability:",
                  f"  trivial dim {amp.trivial.dim}, easy dim {amp.easy.dim}, hard dim {amp.hard.dim}"]
        if amp.alpha_c is not None:
            a = "inf" if math.isinf(amp.alpha_c) else f"{amp.alpha_c:.6g}"
            err = "" if amp.alpha_c_error is None else f" +- {amp.alpha_c_error:.2g}"
            lines.append(f"  alpha_c = {a}{err}   [{amp.note}]")
        else:
            lines.append(f"  alpha_c: {amp.note}")
    lines += ["", "notes:"]
    lines += [f"  {name}: {res.note}" for name, res in report.protocols.items()
              if res.section is not None and res.note]
    lines += [f"  {n}" for n in report.notes]
    exact = [k for k, v in report.exact.items() if v]
    lines.append(f"  exact (proved): {', '.join(exact) if exact else 'none'}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from escalier.derive import exponents

    report = exponents(target_from_args(args.target, args), student=args.student, max_degree=args.max_degree,
                       max_power=args.max_power, alpha_c=not args.no_alpha_c)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(render(report))
    return 0
