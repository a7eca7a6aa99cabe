"""Benchmark: the full exponents report on a suite of targets, against a baseline.

escalier: `exponents(target)` (leading forms, exact subspace arithmetic, certificates, reuse
staircase, AMP classes and the numerical alpha_c when needed).

Baseline: the literal recipe for the online leap: at each stage rotate the target so that U is
spanned by the first coordinates (float orthonormal completion, `Target.rotate`), re-expand
it with `hermite_expansion`, and read T_k(U) off the coefficients c_alpha with
|alpha_perp| = k (float SVD). It computes only the online leap, so the ratio printed is
(baseline leap time) / (escalier report time); the leaps must agree. The Monte Carlo alpha_c
(only computed when the trivial subspace is {0} and an easy direction exists) is timed apart.

Run: .venv/bin/python benchmarks/exponents.py [--no-alpha-c]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import sympy as sp

from escalier.derive import Target, alpha_c, exponents, hermite_expansion

SUITE = [
    "He2(z1)", "He3(z1)", "z1**3", "relu(z1)", "z1 + z1*z2", "z1 + z1*z2 + z1*z2*z3",
    "z1*z2*z3", "sign(z1*z2*z3)", "z1 + He3(z2)", "tanh(z1) + tanh(z2)",
    "He4(z1)", "He6(z1)", "z1*z2*z3*z4", "z1 + z1*z2 + z1*z2*z3 + z1*z2*z3*z4",
    "He2(z1) + z2*He3(z3)", "z1**2*z2**2*z3*z4", "(z1 + z2 + z3 + z4)**3 + z1*z2",
    "He6(z1) + z2*z3*z4", "z1*z2 + z3*z4", "z1**2 + z2**2 + z3**2 + z4**2",
    "He4(z1) + He4(z2) + z1*z2*z3", "(z1 - 2*z2)**2 * z3 + He3(z4)",
    "sign(z1*z2)", "abs(z1) + z2", "relu(z1) + relu(z2)", "erf(z1) * z2",
    "He5(z1 + z2) / 4", "z1*z2*z3 + z2*z3*z4",
]


def baseline_leap(target: Target, tol: float = 1e-8) -> int | None:
    """Online leap by rotation and re-expansion (floats), the recipe of the issue."""
    k = target.k
    U = np.zeros((0, k))
    degree = sp.Poly(target.expr, *target.variables).total_degree() if target.is_polynomial else 6
    leap = 0
    while U.shape[0] < k:
        # orthonormal completion Q = [U; perp], z_new = Q z, f(Q^T z_new)
        q, _ = np.linalg.qr(np.vstack([U, np.eye(k)]).T)
        q = q[:, :k].T
        q[: U.shape[0]] = U
        rot = sp.Matrix(q.T.round(14))
        e = hermite_expansion(target.rotate(rot), degree)
        r = U.shape[0]
        found = None
        for kk in range(1, degree + 1):
            vecs = []
            for c in e.nonzero():
                a = c.alpha
                if sum(a[r:]) != kk or c.value is None or abs(c.value) < tol:
                    continue
                for i in range(r, k):
                    if a[i] == 0:
                        continue
                    v = np.zeros(k)
                    v[i] = c.value * a[i]
                    vecs.append((a[:i] + (a[i] - 1,) + a[i + 1:], v))
            if vecs:
                found = kk
                break
        if found is None:
            return leap or None
        groups: dict = {}
        for key, v in vecs:
            groups[key] = groups.get(key, 0) + v
        mat = np.array(list(groups.values())).T
        u_, s_, _ = np.linalg.svd(mat)
        rank = int(np.sum(s_ > tol * max(1.0, s_[0])))
        new = (q.T @ u_[:, :rank]).T
        U = np.vstack([U, new])
        U, _ = np.linalg.qr(U.T)
        U = U.T
        leap = max(leap, found)
    return leap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-alpha-c", action="store_true", help="skip the numerical alpha_c")
    args = parser.parse_args()
    total = total_base = total_alpha = 0.0
    worst_poly = worst_poly_full = 0.0
    print(f"{'target':<38} {'IE':>3} {'leap':>4} {'gs':>3} {'gen':>3} {'reuse':<11} "
          f"{'report s':>8} {'alpha_c s':>9} {'baseline s':>10} {'ratio':>6} agree")
    for text in SUITE:
        t = Target.parse(text)
        t0 = time.perf_counter()
        r = exponents(t, alpha_c=False)
        dt = time.perf_counter() - t0
        da = 0.0
        if not args.no_alpha_c and r.amp.alpha_c is None:  # the numerical threshold is needed
            t0 = time.perf_counter()
            alpha_c(t)
            da = time.perf_counter() - t0
        t0 = time.perf_counter()
        base = baseline_leap(t)
        db = time.perf_counter() - t0
        total += dt
        total_alpha += da
        total_base += db
        if t.is_polynomial:
            worst_poly = max(worst_poly, dt)
            worst_poly_full = max(worst_poly_full, dt + da)
        print(f"{text:<38} {r.information_exponent!s:>3} {r.leap!s:>4} "
              f"{r.giant_step_exponent!s:>3} {r.generative_exponent!s:>3} {r.reuse!s:<11} "
              f"{dt:>8.3f} {da:>9.3f} {db:>10.3f} {db / dt:>6.1f} "
              f"{'yes' if base == r.leap else 'NO'}")
    print(f"\n{len(SUITE)} targets. escalier exact report (exponents(alpha_c=False)): total "
          f"{total:.2f} s, slowest polynomial target {worst_poly:.3f} s. With the Monte Carlo "
          f"alpha_c where needed: total {total + total_alpha:.2f} s (goal < 20 s), slowest "
          f"polynomial target {worst_poly_full:.3f} s (goal < 1 s).")
    print(f"baseline (rotate + re-expand, online leap only): total {total_base:.2f} s; "
          f"ratio baseline / escalier report = {total_base / total:.2f}")


if __name__ == "__main__":
    main()
