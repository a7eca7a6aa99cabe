"""The UFM Hessian blocks at the global minimum: escalier's Kronecker route against jax.hessian
of the flat loss, in the same run.

    JAX_ENABLE_X64=1 python benchmarks/ufm_hessian.py [--K 10] [--L 3] [--width 64] [--n 1]

The point is the closed-form minimiser (escalier.derive.collapse.ufm_optimum, factors built by
escalier.numerics.collapse.optimum_params). escalier's route: the eigenvalues of every block
Hessian as lambda + alpha_i beta_j / N from the two small Gram matrices A^T A and B B^T
(block_hessian_eigenvalues). Baseline: jax.hessian of the loss of the flattened parameters
(jax.flatten_util.ravel_pytree), its diagonal blocks, numpy.linalg.eigvalsh of each. Prints
both times (best of --repeat, after a warm-up call that compiles), their ratio, and the largest
eigenvalue difference; both count the outliers against the closed form.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("JAX_ENABLE_X64", "1")


def _best(fn, repeat):
    fn()  # compile and warm up
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--K", type=int, default=10)
    parser.add_argument("--L", type=int, default=3)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--n", type=int, default=1)
    parser.add_argument("--weight-decay", type=float, default=0.005)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)

    import jax
    import numpy as np
    from jax.flatten_util import ravel_pytree

    jax.config.update("jax_enable_x64", True)
    from escalier.derive.collapse import ufm_optimum
    from escalier.numerics.collapse import (
        block_hessian_eigenvalues,
        optimum_params,
        ufm_loss,
        ufm_targets,
    )

    K, L, d, n, lam = args.K, args.L, args.width, args.n, args.weight_decay
    opt = ufm_optimum(K, L, n, lam, width=d)
    params = optimum_params(K, L, d, n, float(opt.s), key=jax.random.PRNGKey(1))
    targets = ufm_targets(K, n)
    flat, unravel = ravel_pytree(params)
    sizes = [x.size for x in params]
    print(f"UFM K={K} L={L} width={d} n={n} lambda={lam:g}: {flat.size} parameters in blocks "
          f"{sizes}; closed-form outlier {float(opt.hessian[0].outlier):.10g}")

    def structured():
        return [np.asarray(e) for e in block_hessian_eigenvalues(params, lam, K * n)]

    hess = jax.jit(jax.hessian(lambda v: ufm_loss(unravel(v), targets, lam)))

    timing = {}

    def baseline():
        start_t = time.perf_counter()
        full = np.asarray(hess(flat))
        timing["hessian"] = time.perf_counter() - start_t
        out, start = [], 0
        for size in sizes:
            out.append(np.linalg.eigvalsh(full[start:start + size, start:start + size]))
            start += size
        timing["eigvalsh"] = time.perf_counter() - start_t - timing["hessian"]
        return out

    t_s, ev_s = _best(structured, args.repeat)
    t_b, ev_b = _best(baseline, args.repeat)
    diff = max(float(np.max(np.abs(a - b))) for a, b in zip(ev_s, ev_b, strict=True))
    for name, closed, a, b in zip([b.name for b in opt.hessian], opt.hessian, ev_s, ev_b,
                                  strict=True):
        count = lambda e: int(np.sum(e - lam > 1e-6))
        print(f"  {name:<4} size {a.size:>5}: outliers structured {count(a)}, jax.hessian "
              f"{count(b)}, closed form {closed.rank}")
    print(f"structured (Kronecker) {t_s * 1e3:.2f} ms; jax.hessian of the flat loss + eigvalsh "
          f"of the blocks {t_b * 1e3:.1f} ms (last call: hessian {timing['hessian']:.2f} s, "
          f"eigvalsh {timing['eigvalsh']:.2f} s); ratio {t_b / t_s:.0f}x; max eigenvalue "
          f"difference {diff:.1e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
