"""`escalier hermite TARGET`: the Hermite expansion of a target."""

from __future__ import annotations

import json

from escalier.derive import PRECISION_RANGE, hermite_expansion

from ._common import (
    add_set_argument,
    add_timeout_argument,
    bounded,
    positive_int,
    target_from_args,
)


def add_arguments(parser) -> None:
    parser.add_argument("target", help='the target, e.g. "He3(z1) + z1*z2*z3"')
    parser.add_argument("--max-degree", type=bounded(int, 0, 40), default=6, metavar="K",
                        help="largest total degree |alpha| (default 6)")
    parser.add_argument("--k", type=positive_int, default=None,
                        help="number of latent coordinates (default: the largest index used)")
    parser.add_argument("--precision", type=bounded(int, *PRECISION_RANGE), default=None,
                        metavar="DIGITS",
                        help=f"mpmath digits ({PRECISION_RANGE[0]}..{PRECISION_RANGE[1]}) for "
                             f"numerical integrals of one coordinate or one direction v.z "
                             f"(terms coupling several coordinates use float64 grids; the "
                             f"output says so); default float64 Gauss-Hermite"),
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_set_argument(parser)
    add_timeout_argument(parser)


def run(args) -> int:
    target = target_from_args(args.target, args, k=args.k)
    expansion = hermite_expansion(target, args.max_degree, precision=args.precision)
    if args.json:
        print(json.dumps(expansion.to_json(), indent=2))
        return 0
    print(render(expansion))
    return 0


def render(expansion) -> str:
    """The human-readable table of an expansion."""
    target = expansion.target
    vars_ = ", ".join(str(v) for v in target.variables)
    lines = [f"target   f({vars_}) = {target}",
             "basis    probabilists' Hermite He_alpha(z) = prod_i He_alpha_i(z_i); "
             "c_alpha = E[f He_alpha] / alpha!",
             f"degrees  0..{expansion.max_degree}"
             + (" (complete: f is this polynomial)" if expansion.complete else "")]
    if target.parameters:
        names = ", ".join(str(p) for p in target.parameters)
        lines.append(f"parameters  {names}: read as free real constants (names other than "
                     f"z1, z2, ..., pi and E); give values with --set NAME=VALUE")
    lines.append("")
    nz = expansion.nonzero()
    if not nz:
        lines.append("no non-zero coefficient up to this degree")
    width = max([len(str(c.exact)) for c in nz if c.exact is not None] + [5])
    width = min(width, 48)
    lines.append(f"{'alpha':<{3 * target.k + 4}} {'exact':<{width}} {'value':>22}  status")
    for c in nz:
        exact = "-" if c.exact is None else str(c.exact)
        if len(exact) > width:
            exact = exact[: width - 3] + "..."
        value = "(symbolic)" if c.value is None else f"{c.value: .15g}"
        status = c.status if c.is_exact else f"numeric, +/- {c.error:.1e}"
        lines.append(f"{str(c.alpha):<{3 * target.k + 4}} {exact:<{width}} {value:>22}  {status}")
    lines += ["", "L2 mass per degree  E[(P_n f)^2] = sum_{|alpha|=n} alpha! c_alpha^2"]
    for n in range(expansion.max_degree + 1):
        mass = expansion.degree_mass(n)
        if mass == 0:
            continue
        try:
            num = f"{float(mass):.6g}"
        except TypeError:
            num = "(symbolic)"
        exact = isinstance(mass, float) is False
        lines.append(f"  degree {n}: {num:>12}   {mass if exact else '(numeric)'}")
    numeric = [c for c in expansion if not c.is_exact and not c.is_zero]
    exact = [c for c in expansion.nonzero() if c.is_exact]
    if numeric:
        others = "the others are exact" if exact else "none is exact"
        lines += ["", f"{len(numeric)} coefficient(s) are numerical (quadrature, error bound "
                      f"shown); {others}."]
    lines += [f"note: {n}" for n in expansion.notes]
    zeros = sorted({c.status[6:-1] for c in expansion if c.is_zero})
    if zeros:
        lines.append("zeros certified by: " + "; ".join(zeros))
    return "\n".join(lines)
