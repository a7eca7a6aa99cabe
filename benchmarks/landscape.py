"""Landscape benchmarks: p-spin critical points per second, and a network's full Hessian.

Run: python benchmarks/landscape.py [--N 100] [--starts 20] [--p-hidden 68]

1. Critical points of the spherical 3-spin at N: escalier's `find_critical_points` (JAX,
   jit, starts vmapped) against a plain NumPy/SciPy implementation of the same search
   (the same gradient-descent schedule, Newton steps with the same cap, `scipy.linalg`
   solves and eigenvalues, one start at a time). Both are timed after a warm-up start;
   the figure is converged critical points per second.
2. The Hessian of the training loss of a two-layer ReLU network on the digits (64 -> p ->
   10, about 5,000 parameters at p = 68): escalier's `loss_hessian` (forward-over-reverse
   autodiff) against central finite differences of a hand-written NumPy gradient
   (2 n_params gradient evaluations; with --fd-rows R only R rows, and the time is
   extrapolated linearly, marked "~"). The largest difference between the two is printed.
Both run in this process; the ratio is baseline time / escalier time.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import time

os.environ.setdefault("JAX_ENABLE_X64", "1")

import jax  # noqa: E402
import numpy as np  # noqa: E402
import scipy.linalg  # noqa: E402

jax.config.update("jax_enable_x64", True)

from escalier.numerics.landscape import (  # noqa: E402
    Network,
    digits_data,
    find_critical_points,
    loss_hessian,
    sample_couplings,
)


def numpy_search(j, x0, gd_steps, lr=0.1, newton_steps=60, max_step=2.0, tol=1e-9):
    """The same search as find_critical_points, for one start, in NumPy/SciPy (p = 3)."""
    n = j.shape[0]
    s = sum(np.transpose(j, perm) for perm in itertools.permutations(range(3))) / 6
    c = 1.0 / n
    retract = lambda x: x * math.sqrt(n) / np.linalg.norm(x)

    def rgrad(x):
        g = 3 * c * (s @ x) @ x
        return g - x * (x @ g) / (x @ x), g

    def rhess(x, g):
        hess = 6 * c * (s @ x)
        q, _ = np.linalg.qr(np.column_stack([x, np.eye(n)[:, : n - 1]]))
        b = q[:, 1:]
        return b, b.T @ hess @ b - (x @ g) / (x @ x) * np.eye(n - 1)

    x = retract(x0)
    for _ in range(gd_steps):
        x = retract(x - lr * rgrad(x)[0])
    for _ in range(newton_steps):
        r, g = rgrad(x)
        b, h = rhess(x, g)
        delta = -scipy.linalg.solve(h, b.T @ r, assume_a="sym")
        norm = np.linalg.norm(delta)
        if norm > max_step:
            delta *= max_step / norm
        x = retract(x + b @ delta)
    r, g = rgrad(x)
    b, h = rhess(x, g)
    index = int(np.sum(scipy.linalg.eigvalsh(h) < 0))
    return np.linalg.norm(r) / math.sqrt(n) < tol, index


def bench_pspin(n, starts, gd_steps):
    j = sample_couplings(jax.random.PRNGKey(0), n, 3)
    # warm-up: compile for these shapes (the timed run reuses the compiled search)
    find_critical_points(jax.random.PRNGKey(9), j, starts, gd_steps=gd_steps, batch=starts)
    t = time.perf_counter()
    cp = find_critical_points(jax.random.PRNGKey(1), j, starts, gd_steps=gd_steps, batch=starts)
    t_esc = time.perf_counter() - t
    jn = np.asarray(j)
    rng = np.random.default_rng(1)
    steps = np.resize(np.unique(np.geomspace(1, gd_steps, starts).round().astype(int)), starts)
    t = time.perf_counter()
    found = sum(numpy_search(jn, rng.normal(size=n), int(k))[0] for k in steps)
    t_np = time.perf_counter() - t
    rate_e, rate_n = cp.n_converged / t_esc, found / t_np
    print(f"p-spin N = {n}, {starts} starts, GD up to {gd_steps} steps + 60 Newton steps")
    print(f"  escalier (JAX): {cp.n_converged} converged in {t_esc:.2f} s = {rate_e:.2f} /s")
    print(f"  NumPy/SciPy   : {found} converged in {t_np:.2f} s = {rate_n:.2f} /s")
    print(f"  ratio (critical points per second, escalier / NumPy): {rate_e / max(rate_n, 1e-12):.1f}")


def numpy_grad(w, a, x, y):
    """Gradient of (1/2n) sum |A relu(W x / sqrt d) - y|^2 by hand (flattened W, A)."""
    n, d = x.shape
    pre = x @ w.T / math.sqrt(d)
    h = np.maximum(pre, 0)
    r = (h @ a.T - y) / n
    ga = r.T @ h
    gh = (r @ a) * (pre > 0)
    gw = gh.T @ x / math.sqrt(d)
    return np.concatenate([ga.ravel(), gw.ravel()])


def bench_hessian(p_hidden, fd_rows=None, eps=1e-5):
    x, y = digits_data()
    net = Network(64, (p_hidden,), 10, "relu")
    params = net.init(jax.random.PRNGKey(0))
    loss_hessian(net, params, x, y)  # warm-up: compile for these shapes
    t = time.perf_counter()
    h = loss_hessian(net, params, x, y)
    t_esc = time.perf_counter() - t
    w, a = np.asarray(params["W1"]), np.asarray(params["A"])
    xn, yn = np.asarray(x), np.asarray(y)
    flat = np.concatenate([a.ravel(), w.ravel()])  # ravel_pytree order: A, W1
    na = a.size
    n_rows = flat.size if fd_rows is None else min(fd_rows, flat.size)
    t = time.perf_counter()
    rows = []
    for i in range(n_rows):
        plus, minus = flat.copy(), flat.copy()
        plus[i] += eps
        minus[i] -= eps
        gp = numpy_grad(plus[na:].reshape(w.shape), plus[:na].reshape(a.shape), xn, yn)
        gm = numpy_grad(minus[na:].reshape(w.shape), minus[:na].reshape(a.shape), xn, yn)
        rows.append((gp - gm) / (2 * eps))
    h_fd = np.array(rows)
    t_np = (time.perf_counter() - t) * flat.size / n_rows
    mark = "" if n_rows == flat.size else f"~ (extrapolated from {n_rows} of {flat.size} rows)"
    print(f"Hessian, digits 64 -> {p_hidden} -> 10 ReLU, {net.n_params} parameters, n = {len(xn)}")
    print(f"  escalier (jvp of grad): {t_esc:.2f} s; NumPy finite differences: {t_np:.2f} s "
          f"{mark}; ratio {t_np / t_esc:.1f}")
    print(f"  max |H_escalier - H_fd| over the rows computed = "
          f"{np.max(np.abs(h[:n_rows] - h_fd)):.2e} (max |H| = {np.max(np.abs(h)):.2e})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--N", type=int, default=100)
    parser.add_argument("--starts", type=int, default=20)
    parser.add_argument("--gd-steps", type=int, default=1000)
    parser.add_argument("--p-hidden", type=int, default=68)
    parser.add_argument("--fd-rows", type=int, default=None,
                        help="finite-difference rows to compute (time extrapolated; default: all)")
    parser.add_argument("--only", choices=["pspin", "hessian"], default=None)
    args = parser.parse_args(argv)
    if args.only in (None, "pspin"):
        bench_pspin(args.N, args.starts, args.gd_steps)
    if args.only in (None, "hessian"):
        bench_hessian(args.p_hidden, args.fd_rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
