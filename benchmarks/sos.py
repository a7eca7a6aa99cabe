"""SOS lower bounds of random quartics: escalier against a hand-built cvxpy SDP and scipy.

Run: python benchmarks/sos.py [--n 2 3 4 5 6 7 8] [--starts 100] [--seed 0]

For each number of variables n, a random quartic p(x) = sum_i x_i^4 + (x^T A x)^2 / n + cubic,
quadratic and linear terms with seeded integer coefficients (bounded below: the quartic part
is positive definite). Timed in this process:
  * escalier: `sos_lower_bound(p, exact=False)` (Newton basis, Gram checks, moment extraction);
  * hand: the same degree-4 SDP written directly in cvxpy the usual way (full monomial basis,
    one equality per monomial as a sum of Gram entries, Clarabel), no checks;
  * scipy: BFGS with the exact gradient from `--starts` random points in [-2, 2]^n; "found"
    means its best value is within 1e-5 (relative) of the SOS bound, i.e. the bound is tight and
    the local search found the global minimum (the bound is always <= the minimum).
Ratios: hand / escalier and scipy / escalier (time).
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
import sympy as sp


def random_quartic(n: int, seed: int) -> sp.Expr:
    rng = np.random.default_rng(seed)
    xs = sp.symbols(f"x1:{n + 1}", real=True)
    A = rng.integers(-2, 3, size=(n, n))
    quad = sum(int(A[i, j]) * xs[i] * xs[j] for i in range(n) for j in range(n))
    expr = sum(x**4 for x in xs) + sp.Rational(1, n) * quad**2
    for i, j, k in itertools.combinations_with_replacement(range(n), 3):
        if rng.random() < 0.3:
            expr += int(rng.integers(-3, 4)) * xs[i] * xs[j] * xs[k]
    for i, j in itertools.combinations_with_replacement(range(n), 2):
        expr += int(rng.integers(-3, 4)) * xs[i] * xs[j]
    expr += sum(int(rng.integers(-3, 4)) * x for x in xs)
    return sp.expand(expr)


def hand_sdp(expr: sp.Expr, xs) -> float:
    """The textbook construction: max gamma s.t. p - gamma = m^T G m, G PSD, full basis."""
    import cvxpy as cp

    poly = sp.Poly(expr, *xs)
    n = len(xs)
    basis = [m for d in range(3) for m in itertools.product(range(3), repeat=n) if sum(m) == d]
    N = len(basis)
    G = cp.Variable((N, N), PSD=True)
    gamma = cp.Variable()
    groups: dict = {}
    for i in range(N):
        for j in range(N):
            groups.setdefault(tuple(a + b for a, b in zip(basis[i], basis[j], strict=True)),
                              []).append((i, j))
    coeffs = dict(poly.terms())
    cons = []
    for mono, pairs in groups.items():
        rhs = float(coeffs.get(mono, 0)) - (gamma if sum(mono) == 0 else 0)
        cons.append(sum(G[i, j] for i, j in pairs) == rhs)
    cp.Problem(cp.Maximize(gamma), cons).solve(solver="CLARABEL")
    return float(gamma.value)


def scipy_search(expr: sp.Expr, xs, starts: int, seed: int) -> float:
    from scipy.optimize import minimize

    f = sp.lambdify([xs], expr, "numpy")
    g = sp.lambdify([xs], [sp.diff(expr, x) for x in xs], "numpy")
    rng = np.random.default_rng(seed)
    best = np.inf
    for _ in range(starts):
        out = minimize(lambda x: float(f(x)), rng.uniform(-2, 2, len(xs)),
                       jac=lambda x: np.asarray(g(x), dtype=float), method="BFGS")
        best = min(best, float(out.fun))
    return best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[2, 3, 4, 5, 6, 7, 8])
    parser.add_argument("--starts", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from escalier.numerics.sos import sos_lower_bound

    sos_lower_bound("x^4 + x", exact=False)  # warm the imports
    print(f"{'n':>2} {'basis':>5} {'escalier s':>10} {'bound':>12} {'status':>8} {'minimisers':>10} "
          f"{'hand s':>8} {'hand bound':>12} {'ratio':>6} {'scipy s':>8} {'scipy best':>12} "
          f"{'found':>5} {'ratio':>6}")
    for n in args.n:
        expr = random_quartic(n, args.seed + n)
        xs = sorted(expr.free_symbols, key=lambda s: int(s.name[1:]))
        t0 = time.perf_counter()
        res = sos_lower_bound(expr, exact=False, variables=xs)
        t_esc = time.perf_counter() - t0
        t0 = time.perf_counter()
        hand = hand_sdp(expr, xs)
        t_hand = time.perf_counter() - t0
        t0 = time.perf_counter()
        best = scipy_search(expr, xs, args.starts, args.seed)
        t_sci = time.perf_counter() - t0
        bound = res.lower_bound
        found = bound is not None and best - bound <= 1e-5 * (1 + abs(bound))
        b = f"{bound:.6g}" if bound is not None else "-"
        print(f"{n:>2} {len(res.basis):>5} {t_esc:>10.2f} {b:>12} {res.status:>8} "
              f"{len(res.minimisers):>10} {t_hand:>8.2f} {hand:>12.6g} {t_hand / t_esc:>6.2f} "
              f"{t_sci:>8.2f} {best:>12.6g} {'yes' if found else 'no':>5} {t_sci / t_esc:>6.2f}",
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
