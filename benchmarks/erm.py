"""One logistic learning curve (20 alphas) on a two-cluster mixture: escalier against a plain
NumPy/SciPy loop of the same fixed-point equations.

Run: python benchmarks/erm.py [--points 20] [--lam 0.1] [--align 0.8]

escalier: `learning_curve` (jitted damped iteration in JAX, each alpha started from the previous
fixed point), timed once cold (compilation included) and once warm. Baseline: the same
equations written out in NumPy (Gauss-Hermite nodes in omega, the logistic prox by vectorised
Newton steps, the same damping, tolerance and warm starts, scipy.special for Phi), one Python
loop iteration per fixed-point step. Both run in this process; the ratio is baseline / escalier
(escalier's time includes its error integrals, the baseline's does not). Then the largest
differences are printed: of the fixed points, and of the test errors, the baseline's from
scipy.stats' bivariate normal CDF (untimed), an independent route to escalier's Gauss-Legendre
error integrals.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from scipy.special import expit, ndtr
from scipy.stats import multivariate_normal

os.environ.setdefault("JAX_ENABLE_X64", "1")


def baseline_curve(mix, alphas, lam, *, damping=0.5, tol=1e-10, max_iter=20000, nodes=96):
    """(V, q, m, s) at each alpha, by a NumPy loop of the same equations."""
    xg, wg = np.polynomial.hermite_e.hermegauss(nodes)
    wg = wg / wg.sum()
    rho_w, sig, phi, M, T, G = (mix.weights, mix.variances, mix.fractions, mix.means,
                                mix.teacher, mix.grams)
    t, rho = mix.teacher_means(), mix.teacher_variances()
    K = rho_w.size
    state = np.stack([np.ones(K), np.ones(K), np.full(K, 0.1), np.zeros(K)])
    out = []
    for alpha in alphas:
        for _ in range(max_iter):
            V, q, m, s = state
            omega = s[:, None] + np.sqrt(q)[:, None] * xg[None, :]  # (K, n)
            a = t[:, None] + (m / q)[:, None] * (omega - s[:, None])
            su = np.sqrt(np.maximum(rho - m**2 / q, 0.0))[:, None] * np.ones_like(a)
            su = np.maximum(su, 1e-12)
            pp = ndtr(a / su)
            dens = np.exp(-0.5 * (a / su) ** 2) / np.sqrt(2 * np.pi) / su
            eg = eg2 = edg = enu = 0.0
            for y, p, r in ((1.0, pp, dens), (-1.0, 1 - pp, -dens)):
                h = omega.copy()
                for _ in range(60):
                    e = expit(-y * h)
                    h = h - (h - omega - V[:, None] * y * e) / (1 + V[:, None] * e * (1 - e))
                e = expit(-y * h)
                g = (h - omega) / V[:, None]
                dg = (1 / (1 + V[:, None] * e * (1 - e)) - 1) / V[:, None]
                eg = eg + (p * g) @ wg
                eg2 = eg2 + (p * g**2) @ wg
                edg = edg + (p * dg) @ wg
                enu = enu + (r * g) @ wg
            c = alpha * rho_w
            Vh, qh, mh, nh = -c * edg, c * eg2, c * enu, c * eg
            aj = lam + Vh @ sig
            beta = (mh @ sig)[:, None] * T[None, :] + nh @ M
            gb = np.einsum("jab,jb->ja", G, beta)
            new = np.stack([sig @ (phi / aj), sig @ (phi * (np.sum(beta * gb, 1) + qh @ sig) / aj**2),
                            sig @ (phi * (gb @ T) / aj), M @ np.sum((phi / aj)[:, None] * gb, 0)])
            new = damping * state + (1 - damping) * new
            resid = np.max(np.abs(new - state) / np.maximum(1.0, np.abs(new)))
            state = new
            if resid <= tol:
                break
        else:
            raise RuntimeError(f"baseline did not converge at alpha={alpha}")
        out.append(state.copy())
    return out


def test_error(mix, state) -> float:
    """P(sign(omega) != sign(nu)), cluster by cluster, from scipy's bivariate normal CDF."""
    V, q, m, s = state
    t, rho = mix.teacher_means(), mix.teacher_variances()
    wrong = []
    for c in range(mix.n_clusters):
        law = multivariate_normal(mean=[s[c], t[c]], cov=[[q[c], m[c]], [m[c], rho[c]]])
        wrong.append(ndtr(-s[c] / np.sqrt(q[c])) + ndtr(-t[c] / np.sqrt(rho[c]))
                     - 2 * law.cdf([0.0, 0.0]))
    return float(mix.weights @ np.asarray(wrong))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--lam", type=float, default=0.1)
    parser.add_argument("--align", type=float, default=0.8)
    args = parser.parse_args(argv)

    import jax

    jax.config.update("jax_enable_x64", True)
    from escalier.numerics.erm import Logistic, SignTeacher, learning_curve, mixture_from_spec

    mix = mixture_from_spec("mean=1.5;mean=-1.5", align=args.align)
    alphas = np.geomspace(0.2, 8.0, args.points)
    t0 = time.perf_counter()
    cold = learning_curve(mix, Logistic(), SignTeacher(), alphas, args.lam)
    t1 = time.perf_counter()
    warm = learning_curve(mix, Logistic(), SignTeacher(), alphas, args.lam)
    t2 = time.perf_counter()
    base = baseline_curve(mix, alphas, args.lam)
    t3 = time.perf_counter()
    gap_state = max(float(np.max(np.abs(np.stack(fp.state()) - st))) for fp, st in
                    zip(warm, base, strict=True))
    gap_test = max(abs(fp.test_error - test_error(mix, st)) for fp, st in
                   zip(warm, base, strict=True))
    print(f"logistic, lambda {args.lam}, two clusters +-1.5 u1, teacher cosine {args.align}, "
          f"{args.points} alphas in [0.2, 8]")
    print(f"escalier learning_curve: cold {t1 - t0:.2f} s (compilation included), "
          f"warm {t2 - t1:.2f} s; iterations {sum(fp.iterations for fp in warm)}")
    print(f"NumPy/SciPy loop of the same equations: {t3 - t2:.2f} s")
    print(f"ratio baseline / escalier: {(t3 - t2) / (t2 - t1):.1f}x warm, "
          f"{(t3 - t2) / (t1 - t0):.1f}x cold")
    print(f"largest difference of (V, q, m, s): {gap_state:.1e}; of the test error "
          f"(escalier: Gauss-Legendre split at 0; baseline: scipy's bivariate normal CDF): "
          f"{gap_test:.1e}")
    del cold
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
