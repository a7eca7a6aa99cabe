"""The exact Gram engine against a full d-dimensional JAX SGD, in the same run.

    JAX_ENABLE_X64=1 python benchmarks/gram.py [--d 1000 10000 100000 1000000] [--p 4]

Both simulate the same Scenario (online SGD, batch 1, float64, one seed): the Gram engine
(escalier.numerics.simulation._gram.run, state (p + k) x (p + k), cost independent of d) and
a plain jitted lax.scan over d-dimensional weights drawing each x ~ N(0, I_d) on the fly
(written here; the floor of any full simulation is drawing d normals per step). Prints
steps per second of both and their ratio. The full engine runs fewer steps at large d
(--full-steps, scaled as 10^7 / d by default, at least 20): its rate is estimated from
those steps, after a warm-up call that compiles it.
"""

from __future__ import annotations

import argparse
import math
import os
import time

os.environ.setdefault("JAX_ENABLE_X64", "1")


def full_sgd_program(scenario, d, n_steps):
    """A jitted full-d SGD of n_steps steps (one seed): returns final (Q, M)."""
    import jax
    import jax.numpy as jnp

    from escalier.numerics.lower import student_functions, teacher_function

    f = teacher_function(scenario)
    sigma, dsigma = student_functions(scenario)
    a = jnp.asarray(scenario.a)
    lr = scenario.lr

    def run(key):
        k_t, k_s, k_x = jax.random.split(key, 3)
        Ws = jax.random.normal(k_t, (scenario.k, d))
        W = scenario.init_scale * jax.random.normal(k_s, (scenario.p, d))

        def step(W, i):
            x = jax.random.normal(jax.random.fold_in(k_x, i), (d,))
            lam = W @ x / math.sqrt(d)
            nu = Ws @ x / math.sqrt(d)
            delta = f(nu[None])[0] - sigma(lam) @ a
            return W + lr * jnp.outer(delta * dsigma(lam) * a, x) / math.sqrt(d), None

        W, _ = jax.lax.scan(step, W, jnp.arange(n_steps))
        return W @ W.T / d, W @ Ws.T / d

    return jax.jit(run)


def _rate(fn, arg, steps, repeat=3):
    import jax

    jax.block_until_ready(fn(arg))  # compile and warm up
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        jax.block_until_ready(fn(arg))
        best = min(best, time.perf_counter() - start)
    return steps / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, nargs="+", default=[1000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--p", type=int, default=4)
    parser.add_argument("--gram-steps", type=int, default=200_000)
    parser.add_argument("--full-steps", type=int, default=None)
    args = parser.parse_args()

    import jax
    import numpy as np

    from escalier.derive import Scenario
    from escalier.numerics.simulation._gram import run

    sc = Scenario("erf(z1/sqrt(2)) + erf(z2/sqrt(2))", student="erf", p=args.p, lr=1.0)
    keys = jax.random.key_data(jax.random.split(jax.random.key(0), 1))
    print(f"online SGD, batch 1, p = {sc.p}, k = {sc.k}, erf student, float64, one seed; "
          f"{jax.devices()[0].platform} backend")
    print(f"{'d':>9} {'gram steps/s':>14} {'full steps/s':>14} {'full steps':>10} {'ratio':>10}")
    for d in args.d:
        n = args.gram_steps
        gram = lambda k, d=d, n=n: run(sc, d, n, k, n)["Q"]
        start = time.perf_counter()
        gram(keys)  # compile (cached by run) and warm up
        best = math.inf
        for _ in range(3):
            start = time.perf_counter()
            np.asarray(gram(keys))
            best = min(best, time.perf_counter() - start)
        gram_rate = n / best
        m = args.full_steps or max(20, int(10**7 // d))
        full_rate = _rate(full_sgd_program(sc, d, m), jax.random.key(1), m)
        print(f"{d:>9} {gram_rate:>14.4g} {full_rate:>14.4g} {m:>10} "
              f"{gram_rate / full_rate:>10.4g}")


if __name__ == "__main__":
    main()
