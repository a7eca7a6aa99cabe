"""Wide committees: the ODE derived by index pattern and evaluated as array code, against the
scalar-expression ODE.

Run: python benchmarks/wide_ode.py [--p-wide 64] [--p-eval 8] [--repeat 200]

Derivation: `wide_patterns(scenario)` + `wide_rhs(...)` (patterns derived once, lowered once)
for the erf committee at p = k = 64, timed; the first evaluation (compilation) separately.
Evaluation at p = k = 8: the array right-hand side (jitted) against the scalar-expression code
of `ode_system` lowered by `escalier.numerics.lower.lower` (jitted), the same state, warm,
`--repeat` calls each; the ratio is scalar / array. The scalar derivation time at p = k = 8
is printed too, and the largest difference of the two right-hand sides.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

os.environ.setdefault("JAX_ENABLE_X64", "1")


def committee(p):
    from escalier.derive import Scenario

    target = " + ".join(f"erf(z{r}/sqrt(2))" for r in range(1, p + 1))
    return Scenario(target, student="erf", p=p, lr=0.5, batch=1)


def state(p, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(p, 4 * p)) / np.sqrt(4 * p)
    Ws = np.linalg.qr(rng.normal(size=(4 * p, p)))[0].T
    return W @ W.T, W @ Ws.T


def timed(f, repeat):
    import jax

    jax.block_until_ready(f())
    t0 = time.perf_counter()
    for _ in range(repeat):
        out = f()
    jax.block_until_ready(out)
    return (time.perf_counter() - t0) / repeat, out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--p-wide", type=int, default=64)
    parser.add_argument("--p-eval", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args(argv)

    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    from escalier.derive.ode import ode_system, wide_patterns
    from escalier.numerics.lower import lower, wide_rhs

    P = args.p_wide
    t0 = time.perf_counter()
    rhs = wide_rhs(wide_patterns(committee(P)))
    derive = time.perf_counter() - t0
    Q, M = state(P)
    f = jax.jit(lambda Q, M: rhs(Q, M, jnp.ones(P), 0.5, 1.0))
    t0 = time.perf_counter()
    jax.block_until_ready(f(jnp.asarray(Q), jnp.asarray(M)))
    compile_ = time.perf_counter() - t0
    per, _ = timed(lambda: f(jnp.asarray(Q), jnp.asarray(M)), max(1, args.repeat // 20))
    print(f"erf committee p = k = {P}: derived (patterns + lowering) in {derive:.2f} s; first "
          f"evaluation (compile) {compile_:.2f} s; warm evaluation {per * 1e3:.2f} ms")

    p = args.p_eval
    sc = committee(p)
    t0 = time.perf_counter()
    ode = ode_system(sc)
    scalar_derive = time.perf_counter() - t0
    F = lower(list(ode.rhs), ode.state, ode.parameters)
    theta = jnp.asarray([ode.default_args[s.name] for s in ode.parameters])
    Q, M = state(p, 1)
    y = jnp.asarray([Q[j, m] for j in range(p) for m in range(j, p)] + list(M.ravel()))
    g = jax.jit(lambda y: F(y, theta))
    t_scalar, ref = timed(lambda: g(y), args.repeat)
    rhs8 = wide_rhs(wide_patterns(sc))
    h = jax.jit(lambda Q, M: rhs8(Q, M, jnp.ones(p), 0.5, 1.0))
    Qj, Mj = jnp.asarray(Q), jnp.asarray(M)
    t_array, (dQ, dM) = timed(lambda: h(Qj, Mj), args.repeat)
    got = np.array([dQ[j, m] for j in range(p) for m in range(j, p)]
                   + list(np.asarray(dM).ravel()))
    print(f"p = k = {p}: scalar derivation {scalar_derive:.1f} s; evaluation scalar "
          f"{t_scalar * 1e6:.1f} us, array {t_array * 1e6:.1f} us: ratio scalar / array "
          f"{t_scalar / t_array:.1f}x; max |difference| {np.max(np.abs(got - np.asarray(ref))):.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
