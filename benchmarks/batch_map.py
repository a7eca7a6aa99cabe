"""The finite-step overlap map iterated: escalier against a group-style NumPy loop of the same map.

Run: python benchmarks/batch_map.py [--steps 20000] [--d 256] [--nb 1024]

escalier: `iterate_map(overlap_map(scenario), y0, steps, {"d": d})`, the map lowered once
through escalier.numerics.lower and iterated in a jitted `jax.lax.scan`, timed cold
(compilation included) and warm. Baseline: the way the group's scripts iterate their maps, one
Python loop iteration per SGD step calling a NumPy function of the state; the function is the
same SymPy expressions printed to NumPy by `sympy.lambdify` (so the ratio measures the loop,
not the formulas). Both run in this process on the same map, from the same start; the ratio is
baseline / escalier (warm) in iterations per second, and the largest difference of the final
states is printed.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import sympy as sp

os.environ.setdefault("JAX_ENABLE_X64", "1")

CASES = {
    "He3 spherical, square loss (batch study)": dict(
        target="He3(z1)", student="He3", p=1, spherical=True, y0=[0.0625]),
    "erf committee p = k = 2": dict(
        target="erf(z1/sqrt(2)) + erf(z2/sqrt(2))", student="erf", p=2, spherical=False,
        y0=[1.0, 0.1, 0.9, 0.2, 0.05, 0.05, 0.15]),
}


def baseline(system, y0, steps, args):
    """Group-style loop: y += F(y) with F a NumPy function, one Python iteration per step."""
    values = {**system.default_args, **args}
    params = [sp.Float(values[s.name]) for s in system.parameters]
    exprs = [e.xreplace(dict(zip(system.parameters, params, strict=True))) for e in system.rhs]
    F = sp.lambdify(system.state, exprs, modules="numpy")
    y = np.array(y0, dtype=float)
    for _ in range(steps):
        y = y + np.array(F(*y))
    return y


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--d", type=int, default=256)
    parser.add_argument("--nb", type=int, default=1024)
    args = parser.parse_args(argv)

    import jax

    jax.config.update("jax_enable_x64", True)
    from escalier.derive import Scenario
    from escalier.derive.ode import overlap_map
    from escalier.numerics.batch import iterate_map

    for name, case in CASES.items():
        sc = Scenario(case["target"], student=case["student"], p=case["p"],
                      spherical=case["spherical"], batch=args.nb, lr=0.02 * args.d)
        system = overlap_map(sc)
        margs = {"d": float(args.d)}
        t0 = time.perf_counter()
        ys = iterate_map(system, case["y0"], args.steps, margs, record_every=args.steps)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        ys = iterate_map(system, case["y0"], args.steps, margs, record_every=args.steps)
        warm = time.perf_counter() - t0
        t0 = time.perf_counter()
        yb = baseline(system, case["y0"], args.steps, margs)
        base = time.perf_counter() - t0
        diff = float(np.max(np.abs(ys[-1] - yb)))
        print(f"{name}: {args.steps} steps, d = {args.d}, n_b = {args.nb}")
        print(f"  escalier cold {cold:.3f} s, warm {warm:.4f} s ({args.steps / warm:,.0f} it/s)")
        print(f"  baseline (NumPy loop) {base:.3f} s ({args.steps / base:,.0f} it/s)")
        print(f"  ratio baseline / escalier (warm): {base / warm:.1f}x; cold: {base / cold:.2f}x;"
              f" max |difference| of the final state {diff:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
