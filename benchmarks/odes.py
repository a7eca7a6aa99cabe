"""Time the symbolic derivation of overlap ODE systems (escalier.derive.ode.ode_system).

Cases: erf student on the erf committee teacher (p = k) and erf student on the polynomial
staircase target z1 + z1 z2 + ... (p = k), for (p, k) in {(2, 2), (4, 4), (8, 8)}.
Goal (issue 4): (4, 4) in under 10 s.

Baseline, in the same process: the same derivation with the engine's pattern cache turned
off (every term of every expectation re-derived from the table / reduction rules with its
own covariance), i.e. without "derive once with symbolic covariance entries, substitute".
Timings are cold (caches cleared before each run).
Usage: python benchmarks/odes.py [--quick | --full]; the staircase at p = k = 8 (degree-8
monomials, Wick moments of degree up to 18 in 10 variables) runs only with --full: it did
not finish within 450 s on the development machine (see the issue's closing note).
"""

from __future__ import annotations

import argparse
import time

from escalier.derive import targets
from escalier.derive.gaussian import _expectation, _reduce
from escalier.derive.ode import ode_system


def _clear():
    _expectation._generic_value.cache_clear()
    _reduce._MEMO.clear()


def _derive(target, p):
    _clear()
    t0 = time.perf_counter()
    system = ode_system(target, student="erf", p=p)
    return time.perf_counter() - t0, system


def _derive_uncached(target, p):
    _clear()
    original = _expectation._generic_value

    def uncached(key, m):
        _reduce._MEMO.clear()
        return _reduce.reduce_factors(list(key), _expectation._generic(m))

    _expectation._generic_value = uncached
    try:
        t0 = time.perf_counter()
        ode_system(target, student="erf", p=p)
        return time.perf_counter() - t0
    finally:
        _expectation._generic_value = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only (2, 2) and (4, 4)")
    parser.add_argument("--full", action="store_true", help="include the staircase at 8")
    args = parser.parse_args()
    sizes = [2, 4] if args.quick else [2, 4, 8]
    print(f"{'case':<28}{'p=k':>4}{'equations':>10}{'escalier s':>12}{'uncached s':>12}"
          f"{'ratio':>8}  backend")
    for name, make in (("erf committee", lambda k: targets.committee("erf", k)),
                       ("staircase (polynomial)", targets.staircase)):
        for k in sizes:
            if name.startswith("staircase") and k == 8 and not args.full:
                print(f"{name:<28}{k:>4}  skipped (use --full)", flush=True)
                continue
            seconds, system = _derive(make(k), k)
            base = _derive_uncached(make(k), k) if k <= 4 else float("nan")
            ratio = base / seconds if base == base else float("nan")
            print(f"{name:<28}{k:>4}{len(system.state):>10}{seconds:>12.2f}{base:>12.2f}"
                  f"{ratio:>8.1f}  {system.backend}", flush=True)


if __name__ == "__main__":
    main()
