"""Wide committees: the ODE derived by index pattern and evaluated as array code, against the
scalar-expression ODE.

Run: python benchmarks/wide_ode.py [--p-wide 64] [--p-eval 8] [--repeat 200] [--loop 2000]
[--jax-cache DIR]

Derivation: `wide_patterns(scenario)` + `wide_rhs(...)` (patterns derived once, lowered once)
for the erf committee at p = k = 64, timed (wall and CPU); the first evaluation (compilation)
separately, then warm evaluations. Evaluation at p = k = 8: the array right-hand side
(`WideRhs.jitted()`) against the scalar-expression code of `ode_system` lowered by
`escalier.numerics.lower.lower` (jitted), the same state, warm; the two are timed in
alternation, in batches of 10 calls, and the best batch of each is kept (robust on a loaded
machine); the ratio is scalar / array. The scalar derivation time at p = k = 8 is printed
too, and the largest difference of the two right-hand sides. Compiling the scalar code at
p = k = 8 takes minutes; `--jax-cache DIR` keeps XLA's compilation in DIR for the next run.
Last, both are timed inside one jitted loop of `--loop` Euler steps, the way an ODE solver
calls a right-hand side (no Python dispatch per call, which is about half of the array
kernel's per-call time at p = k = 8).
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


def best_of(fs, repeat, batch=10):
    """Best time per call of each function over repeat // batch alternating batches."""
    import jax

    outs = {key: jax.block_until_ready(f()) for key, f in fs.items()}
    best = dict.fromkeys(fs, float("inf"))
    for _ in range(max(1, repeat // batch)):
        for key, f in fs.items():
            t0 = time.perf_counter()
            for _ in range(batch):
                out = f()
            jax.block_until_ready(out)
            best[key] = min(best[key], (time.perf_counter() - t0) / batch)
    return best, outs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--p-wide", type=int, default=64)
    parser.add_argument("--p-eval", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--jax-cache", default=None, help="XLA compilation cache folder")
    parser.add_argument("--loop", type=int, default=2000,
                        help="also time both inside a jitted loop of this many steps (0: skip)")
    args = parser.parse_args(argv)

    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    if args.jax_cache:
        jax.config.update("jax_compilation_cache_dir", args.jax_cache)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
    from escalier.derive.ode import ode_system, wide_patterns
    from escalier.numerics.lower import lower, wide_rhs

    P = args.p_wide
    t0, c0 = time.perf_counter(), time.process_time()
    rhs = wide_rhs(wide_patterns(committee(P)))
    derive, derive_cpu = time.perf_counter() - t0, time.process_time() - c0
    Q, M = state(P)
    f = rhs.jitted()
    Qj, Mj, ones = jnp.asarray(Q), jnp.asarray(M), jnp.ones(P)
    t0, c0 = time.perf_counter(), time.process_time()
    jax.block_until_ready(f(Qj, Mj, ones, 0.5, 1.0))
    compile_, compile_cpu = time.perf_counter() - t0, time.process_time() - c0
    n_wide = max(1, args.repeat // 20)
    per, _ = best_of({"array": lambda: f(Qj, Mj, ones, 0.5, 1.0)}, n_wide, batch=1)
    print(f"erf committee p = k = {P}: derived (patterns + lowering) in {derive:.2f} s wall "
          f"({derive_cpu:.2f} s CPU); first evaluation (compile) {compile_:.2f} s wall "
          f"({compile_cpu:.2f} s CPU); warm evaluation {per['array'] * 1e3:.2f} ms (best of "
          f"{n_wide})")

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
    h = wide_rhs(wide_patterns(sc)).jitted()
    Qj, Mj, ones = jnp.asarray(Q), jnp.asarray(M), jnp.ones(p)
    best, outs = best_of({"scalar": lambda: g(y), "array": lambda: h(Qj, Mj, ones, 0.5, 1.0)},
                         args.repeat)
    t_scalar, t_array = best["scalar"], best["array"]
    ref, (dQ, dM) = outs["scalar"], outs["array"]
    got = np.array([dQ[j, m] for j in range(p) for m in range(j, p)]
                   + list(np.asarray(dM).ravel()))
    print(f"p = k = {p}: scalar derivation {scalar_derive:.1f} s; evaluation scalar "
          f"{t_scalar * 1e6:.1f} us, array {t_array * 1e6:.1f} us: ratio scalar / array "
          f"{t_scalar / t_array:.1f}x; max |difference| {np.max(np.abs(got - np.asarray(ref))):.2e}")
    if args.loop:
        loop = in_loop(g, h, y, Qj, Mj, p, args.loop)
        print(f"p = k = {p}, inside a jitted loop of {args.loop} Euler steps (as an ODE solver "
              f"calls it, no Python dispatch per call): scalar {loop['scalar'] * 1e6:.1f} us, "
              f"array {loop['array'] * 1e6:.1f} us per evaluation: ratio "
              f"{loop['scalar'] / loop['array']:.1f}x")
    return 0


def in_loop(g, h, y, Q, M, p, n):
    """Best time per right-hand-side evaluation inside one jitted fori_loop of n Euler steps
    (the way diffrax calls it), scalar code against the array kernel."""
    import jax
    import jax.numpy as jnp

    ones = jnp.ones(p)

    @jax.jit
    def scalar(y):
        return jax.lax.fori_loop(0, n, lambda i, y: y + 1e-6 * g(y), y)

    @jax.jit
    def array(Q, M):
        def body(i, c):
            dQ, dM = h(c[0], c[1], ones, 0.5, 1.0)
            return c[0] + 1e-6 * dQ, c[1] + 1e-6 * dM

        return jax.lax.fori_loop(0, n, body, (Q, M))

    best, _ = best_of({"scalar": lambda: scalar(y), "array": lambda: array(Q, M)}, 5, batch=1)
    return {key: v / n for key, v in best.items()}


if __name__ == "__main__":
    raise SystemExit(main())
