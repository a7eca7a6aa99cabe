"""The first-layer training of the depth learners (docs/depth.md): escalier's jitted JAX giant
steps against a NumPy loop of the same steps.

Run: python benchmarks/depth.py [--d 64] [--kappa 2] [--steps 8] [--repeat 3]

escalier: the two-layer network's first-layer steps (`jax.grad` of the square loss inside a
`lax.fori_loop`, `jax.jit`), timed once cold (compilation included) and warm (best of
--repeat). Baseline: the same steps in NumPy with the gradient written out by hand
(G = ((f - y) a relu'(W x + b))^T x / n, row-normalised step of length lr, rows put back on
the sphere), one Python iteration per step. Same float64 data and initialisation in the same
process; the ratio is baseline / escalier (warm). The largest difference of the resulting
first layers is printed as a check that both compute the same thing.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

os.environ.setdefault("JAX_ENABLE_X64", "1")


def numpy_steps(W, b, a, x, y, steps, lr):
    n = x.shape[0]
    for _ in range(steps):
        pre = x @ W.T + b
        f = np.maximum(pre, 0.0) @ a
        coef = ((f - y)[:, None] * a[None, :]) * (pre > 0)
        G = coef.T @ x / n
        G = G / (np.linalg.norm(G, axis=1, keepdims=True) + 1e-30)
        W = W - lr * G
        W = W / np.linalg.norm(W, axis=1, keepdims=True)
    return W


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--d", type=int, default=64)
    parser.add_argument("--kappa", type=float, default=2.0)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    from escalier.derive.targets import sight
    from escalier.numerics.depth import DepthConfig, draw_teacher, first_layer_steps, sample, samples_at

    target = sight()
    n = samples_at(args.d, args.kappa)
    cfg = DepthConfig(steps=args.steps, dtype="float64")
    p = cfg.first_width(target.width(args.d), target.degree)
    teacher = draw_teacher(target, args.d, jax.random.PRNGKey(0), jnp.float64)
    x, _, y = sample(teacher, n, jax.random.PRNGKey(1))
    rng = np.random.default_rng(2)
    W0 = rng.standard_normal((p, args.d))
    W0 /= np.linalg.norm(W0, axis=1, keepdims=True)
    b = rng.uniform(-1, 1, p)
    a = cfg.init * rng.standard_normal(p) / np.sqrt(p)
    xs, ys = np.asarray(x), np.asarray(y)
    print(f"d = {args.d}, n = {n}, p = {p}, steps = {args.steps} (float64)")

    t0 = time.perf_counter()
    W_jax = first_layer_steps("two", jnp.asarray(W0), (jnp.asarray(b), jnp.asarray(a)), x, y,
                              cfg)
    W_jax.block_until_ready()
    cold = time.perf_counter() - t0
    warm = np.inf
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        first_layer_steps("two", jnp.asarray(W0), (jnp.asarray(b), jnp.asarray(a)), x, y,
                          cfg).block_until_ready()
        warm = min(warm, time.perf_counter() - t0)
    base = np.inf
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        W_np = numpy_steps(W0, b, a, xs, ys, args.steps, cfg.lr)
        base = min(base, time.perf_counter() - t0)
    print(f"escalier (jit): cold {cold:.3f} s, warm {warm:.3f} s")
    print(f"numpy loop:     {base:.3f} s")
    print(f"ratio numpy / escalier (warm): {base / warm:.2f}")
    print(f"max |W_escalier - W_numpy| = {np.max(np.abs(np.asarray(W_jax) - W_np)):.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
