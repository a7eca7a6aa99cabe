"""Hermite expansion to degree 8: escalier against direct sympy.integrate of every coefficient.

Run: python benchmarks/hermite.py [--degree 8] [--budget 20]

For each target, escalier's `hermite_expansion` is timed, then the baseline integrates
c_alpha = E[f He_alpha] / alpha! for every |alpha| <= degree with sympy.integrate over each
coordinate in turn (the Gaussian density written out). The baseline gets `--budget` seconds
per target; past it, its time is extrapolated linearly from the coefficients it finished
(marked "~"). Coefficients the baseline cannot integrate (unevaluated Integral) are counted.
Both run in this process; the ratio is baseline / escalier.
"""

from __future__ import annotations

import argparse
import math
import signal
import time

import sympy as sp

from escalier.derive import Target, hermite_expansion
from escalier.derive.hermite._expansion import _alphas

TARGETS = [
    "z1 + z1*z2 + z1*z2*z3",
    "He3(z1) + z1*z2*z3",
    "(z1 + z2 - z3)**4",
    "z1**2*z2**2 - z3*z4 + He4(z4)",
    "sign(z1*z2*z3)",
    "relu(z1)*z2 + z3**3",
    "erf(z1/sqrt(2)) + erf(z2/sqrt(2)) + erf(z3/sqrt(2))",
    "cos(z1)*z2 + z3**2*exp(-z3**2)",
    "abs(z1)*sign(z2)*z3*z4",
    "tanh(z1) + relu(z2)*z3",
]


class _OutOfTime(Exception):
    pass


def _alarm(signum, frame):
    raise _OutOfTime


def baseline(target: Target, degree: int, budget: float):
    """sympy.integrate of every coefficient, coordinate by coordinate, within `budget` s.

    A SIGALRM interrupts an integral still running when the budget ends; the time for all
    coefficients is then extrapolated from those finished (at least the budget itself)."""
    zs = target.variables
    alphas = list(_alphas(target.k, degree))
    t0 = time.perf_counter()
    done = failed = 0
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        for alpha in alphas:
            integrand = target.expr
            for zi, a in zip(zs, alpha, strict=True):
                integrand *= sp.hermite_prob(a, zi)
            val = integrand
            for zi in zs:
                val = sp.integrate(val * sp.exp(-(zi**2) / 2) / sp.sqrt(2 * sp.pi),
                                   (zi, -sp.oo, sp.oo))
            if val.has(sp.Integral):
                failed += 1
            _ = val / math.prod(math.factorial(a) for a in alpha)
            done += 1
    except _OutOfTime:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    elapsed = time.perf_counter() - t0
    total = elapsed * len(alphas) / max(done, 1) if done else float("inf")
    return total, done, len(alphas), failed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--degree", type=int, default=8)
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per target for sympy")
    args = parser.parse_args(argv)
    print(f"Hermite expansion to degree {args.degree}: escalier vs sympy.integrate per coefficient")
    print(f"{'target':<52} {'escalier s':>10} {'sympy s':>11} {'ratio':>9}  notes")
    for text in TARGETS:
        target = Target.parse(text)
        t0 = time.perf_counter()
        e = hermite_expansion(target, args.degree)
        ours = time.perf_counter() - t0
        base, done, total, failed = baseline(target, args.degree, args.budget)
        mark = "" if done == total else (">" if done == 0 else "~")
        notes = [] if e.exact else ["escalier numeric"]
        if done == 0:
            notes.append(f"sympy finished no coefficient in {args.budget:.0f} s")
            base = args.budget
        elif done < total:
            notes.append(f"sympy extrapolated from {done}/{total}")
        if failed:
            notes.append(f"sympy left {failed}/{done} unevaluated")
        print(f"{text:<52} {ours:>10.3f} {mark + format(base, '.2f'):>11} "
              f"{mark + format(base / ours, '.0f') + 'x':>9}  {'; '.join(notes)}")


if __name__ == "__main__":
    main()
