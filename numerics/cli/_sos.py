"""`escalier sos`: sum-of-squares lower bounds of a polynomial or of a population risk."""

from __future__ import annotations

import argparse
import json

from ._app import CliError
from ._common import bounded, positive_float

NOTES = {
    "infeasible": "no SOS certificate at this degree: p - gamma is not a sum of squares for any "
                  "gamma (no finite bound); try --multiplier 1 or a larger --degree",
    "unverified": "the solver claimed a solution that fails the independent Gram checks "
                  "(eigenvalues / identity): no bound is reported",
    "solver_error": "the conic solver failed; try --solver SCS or rescale the polynomial",
}


def _even_degree(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"degree must be an even integer, got {text!r}") from None
    if v < 2 or v % 2 or v > 40:
        raise argparse.ArgumentTypeError(f"degree must be an even integer in 2..40, got {v}")
    return v






def add_arguments(parser) -> None:
    parser.add_argument("poly", nargs="?", default=None,
                        help='a polynomial with rational coefficients, e.g. "x^4 + y^4 - 4*x*y + 1"')
    parser.add_argument("--degree", type=_even_degree, default=None, metavar="2R",
                        help="degree 2r of m^T G m (default: deg p + 2s, rounded up to even)")
    parser.add_argument("--multiplier", type=bounded(int, 0, 8), default=0, metavar="S",
                        help="certify (1 + |x|^2)^S (p - gamma) SOS (default 0)")
    parser.add_argument("--ge", action="append", default=[], metavar="G",
                        help="constraint G >= 0 (repeatable): bound on a semi-algebraic set "
                             "through Putinar multipliers")
    parser.add_argument("--eq", action="append", default=[], metavar="H",
                        help='constraint H = 0 (repeatable), e.g. --eq "x^2 + y^2 - 1" (sphere)')
    parser.add_argument("--solver", default="CLARABEL", choices=["CLARABEL", "SCS"],
                        help="conic solver (default CLARABEL: interior point, high accuracy)")
    parser.add_argument("--no-exact", action="store_true", help="skip the exact rational rounding")
    parser.add_argument("--seed", type=bounded(int, 0, 2**31 - 1), default=0,
                        help="seed of the check points and ODE starts (default 0)")
    g = parser.add_argument_group("population risk (escalier.derive.ode_system's exact risk)")
    g.add_argument("--risk", metavar="TARGET", default=None,
                   help='a polynomial target, e.g. "z1**2" (instead of POLY)')
    g.add_argument("--student", default="quadratic",
                   help="polynomial student activation (default quadratic)")
    g.add_argument("--p", type=bounded(int, 1, 4), default=1, help="student units (default 1)")
    g.add_argument("--fixed-points", type=bounded(int, 0, 200), default=0,
                   metavar="N", help="integrate the overlap ODE from N random starts and compare "
                                     "its fixed points with the bound (default 0)")
    g.add_argument("--lr", type=positive_float, default=0.1,
                   help="learning rate of the ODE for --fixed-points with --finite-lr (default 0.1)")
    g.add_argument("--finite-lr", action="store_true",
                   help="integrate the ODE at --lr, noise term included (default: the lr -> 0 "
                        "limit, gradient flow, whose fixed points are stationary points of R)")
    g.add_argument("--ode-time", type=positive_float, default=2000.0,
                   help="integration horizon per start (default 2000)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args) -> int:
    if (args.poly is None) == (args.risk is None):
        raise CliError("give a polynomial POLY or --risk TARGET (exactly one)")
    from escalier.numerics.sos import certify_risk, sos_lower_bound, sos_lower_bound_on

    if args.risk is not None:
        if args.degree is not None or args.multiplier or args.ge or args.eq:
            raise CliError("--degree, --multiplier, --ge and --eq apply to POLY, not to --risk")
        cert = certify_risk(args.risk, args.student, args.p, fixed_points=args.fixed_points,
                            ode_time=args.ode_time, seed=args.seed, solver=args.solver,
                            exact=not args.no_exact, lr=args.lr, small_lr=not args.finite_lr)
        result = cert.sos
        payload = cert.to_json()
    elif args.ge or args.eq:
        if args.multiplier:
            raise CliError("--multiplier is for bounds on R^n, not with --ge / --eq")
        cert = None
        result = sos_lower_bound_on(args.poly, args.ge, args.eq, degree=args.degree,
                                    solver=args.solver, seed=args.seed)
        payload = result.to_json()
        payload["inequalities"], payload["equalities"] = list(args.ge), list(args.eq)
    else:
        cert = None
        result = sos_lower_bound(args.poly, degree=args.degree, multiplier=args.multiplier,
                                 solver=args.solver, exact=not args.no_exact, seed=args.seed)
        payload = result.to_json()
    if args.json:
        print(json.dumps(payload, indent=1))
    else:
        print(render(result, cert))
    return 0 if result.status == "optimal" else 1


def render(result, cert=None) -> str:
    """The human-readable report."""
    poly = str(result.poly.as_expr())
    lines = []
    if cert is not None:
        sc = cert.risk.system.scenario
        lines += [f"population risk  R = {cert.risk.system.risk}",
                  f"                 target {sc.target}, student {sc.student}, p = {sc.p}",
                  "admissible set   M = U P, Q = U P U^T + L L^T (weights U, L lower-triangular)"]
        poly = poly if len(poly) < 200 else poly[:197] + "..."
    lines += [f"polynomial       {poly}",
              f"variables        {', '.join(result.variables)}",
              f"SOS programme    degree {result.degree}, multiplier (1 + |x|^2)^{result.multiplier}, "
              f"{len(result.basis)} basis monomials (Newton polytope), solver {result.solver}",
              f"status           {result.status} (solver: {result.solver_status})"]
    if result.status != "optimal":
        lines.append(f"                 {NOTES.get(result.status, '')}")
    if result.min_eigenvalue is not None:
        lines.append(f"Gram checks      min eigenvalue {result.min_eigenvalue:.2e}, coefficient "
                     f"residual {result.coefficient_residual:.1e}, identity at random points "
                     f"{result.identity_residual:.1e}")
    if result.lower_bound is not None:
        lines.append(f"lower bound      {result.lower_bound:.10g} (numerical, solver tolerance ~1e-8)")
        if result.minimisers:
            pts = "; ".join("(" + ", ".join(f"{v:.6g}" for v in x) + ")" for x in result.minimisers)
            lines.append(f"minimisers       {pts}  (flat moment matrix; p(x*) = bound checked)")
        else:
            lines.append("minimisers       none extracted (moment matrix not flat)")
        if cert is not None:
            for m in cert.minimisers:
                lines.append("  overlaps       " + ", ".join(f"{k} = {v:.6g}" for k, v in m.items()))
        if result.exact is not None:
            ex = result.exact
            squares = " + ".join(f"{d}*({q})^2" for d, q in ex.squares())
            if len(squares) > 300:
                squares = squares[:297] + "..."
            lines.append(f"exact            p >= {ex.gamma} certified over QQ: {result.exact_note}")
            lines.append(f"                 (1 + |x|^2)^{ex.multiplier} (p - ({ex.gamma})) = {squares}")
        else:
            lines.append(f"exact            no exact certificate: {result.exact_note}")
    if cert is not None and cert.fixed_points:
        flow = "lr -> 0 limit (gradient flow)" if cert.small_lr else "finite lr, noise term included"
        lines.append(f"ODE fixed points ({flow}; numerical, |rhs| < 1e-7):")
        for fp in cert.fixed_points:
            tag = "ABOVE the certified minimum" if fp.above_minimum else "at the global minimum"
            state = ", ".join(f"{k} = {v:.4g}" for k, v in fp.state.items())
            lines.append(f"  R = {fp.risk:.3e}  {tag}:  {state}")
    lines.append(f"time             {result.seconds:.2f} s")
    return "\n".join(lines)
