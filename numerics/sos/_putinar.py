"""SOS lower bounds on a basic semi-algebraic set (Putinar's Positivstellensatz).

On K = {x : g_j(x) >= 0, h_k(x) = 0}, p >= gamma on K is certified by

    p - gamma = sigma_0 + sum_j sigma_j g_j + sum_k lambda_k h_k,

sigma_0 = m_r^T G_0 m_r, sigma_j = m_{r_j}^T G_j m_{r_j} (G PSD, r_j = r - ceil(deg g_j / 2)),
lambda_k arbitrary polynomials of degree <= 2r - deg h_k (Putinar, Indiana Univ. Math. J. 42,
969, 1993; Lasserre, SIAM J. Optim. 11, 796, 2001; Bach's notes, arXiv 2306.16255). The
degree-2r bound is the largest such gamma: an SDP, solved and checked as in `_sdp` (every Gram
block's eigenvalues, the coefficient residual, the identity at random points). Minimisers
come from a flat moment matrix, rank M_t = rank M_{t - d} with d = max(1, ceil(deg g_j / 2),
ceil(deg h_k / 2)), and are kept only when they lie in K (to 1e-5) and attain the bound.
No exact rounding here (not implemented for constrained problems).
"""

from __future__ import annotations

import time
import warnings

import cvxpy as cp
import numpy as np
import scipy.sparse as sps
import sympy as sp

from escalier.derive.sos import monomial_basis, parse_polynomial

from ._sdp import SOLVERS, SosResult, eval_monomials, extract_minimisers, polyval

__all__ = ["sos_lower_bound_on"]


def _coeffs(poly: sp.Poly) -> dict:
    return {m: float(c) for m, c in poly.terms()}


def sos_lower_bound_on(poly, inequalities=(), equalities=(), *, degree: int | None = None,
                       solver: str = "CLARABEL", seed: int = 0) -> SosResult:
    """The degree-2r Putinar bound of p on {g_j >= 0, h_k = 0} (module doc).

    Args:
        poly: the polynomial (text, SymPy expression or Poly).
        inequalities: polynomials g_j (constraints g_j(x) >= 0).
        equalities: polynomials h_k (constraints h_k(x) = 0), e.g. "x^2 + y^2 - 1" (a sphere).
        degree: 2r (even, >= every degree involved); default the smallest such.
        solver: "CLARABEL" or "SCS".
        seed: seed of the identity check points.

    Returns:
        SosResult (multiplier 0; exact None; gram is G_0).

    Raises:
        ValueError: not polynomials, no constraint, bad degree or solver.
    """
    t0 = time.perf_counter()
    solver = str(solver).upper()
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; accepted: {SOLVERS}")
    if not inequalities and not equalities:
        raise ValueError("no constraint given: use sos_lower_bound for a bound on R^n")
    texts = [poly, *inequalities, *equalities]
    exprs = [parse_polynomial(t).as_expr() if not isinstance(t, sp.Poly) else t.as_expr() for t in texts]
    gens = sorted(set().union(*(e.free_symbols for e in exprs)), key=lambda s: s.name)
    polys = [sp.Poly(e, *gens, domain="QQ") for e in exprs]
    p, gs, hs = polys[0], polys[1: 1 + len(inequalities)], polys[1 + len(inequalities):]
    n = len(gens)
    halves = [(q.total_degree() + 1) // 2 for q in (*gs, *hs)]
    need = max(p.total_degree(), *(q.total_degree() for q in (*gs, *hs)))
    need += need % 2
    if degree is None:
        degree = need
    if not (isinstance(degree, int) and degree % 2 == 0 and degree >= need):
        raise ValueError(f"degree must be an even integer >= {need}, got {degree!r}")
    r = degree // 2
    basis = monomial_basis(n, r)
    index: dict = {}
    for m in monomial_basis(n, 2 * r):
        index[m] = len(index)
    nm = len(index)

    def gram_block(B, weight):
        rows, cols, vals = [], [], []
        N = len(B)
        for j in range(N):
            for i in range(N):
                for w, c in weight.items():
                    key = tuple(a + b + e for a, b, e in zip(B[i], B[j], w, strict=True))
                    rows.append(index[key])
                    cols.append(i + j * N)
                    vals.append(c)
        return sps.csr_matrix((vals, (rows, cols)), shape=(nm, N * N))

    def free_block(D, weight):
        rows, cols, vals = [], [], []
        for i, dmono in enumerate(D):
            for w, c in weight.items():
                rows.append(index[tuple(a + e for a, e in zip(dmono, w, strict=True))])
                cols.append(i)
                vals.append(c)
        return sps.csr_matrix((vals, (rows, cols)), shape=(nm, len(D)))

    one = {(0,) * n: 1.0}
    blocks = [(basis, one)]
    for g in gs:
        rg = r - (g.total_degree() + 1) // 2
        if rg < 0:
            raise ValueError(f"degree {degree} is too small for the constraint {g.as_expr()} >= 0")
        blocks.append((monomial_basis(n, rg), _coeffs(g)))
    frees = [(monomial_basis(n, 2 * r - h.total_degree()), _coeffs(h)) for h in hs]
    Gs = [cp.Variable((len(B), len(B)), PSD=True) for B, _ in blocks]
    lams = [cp.Variable(len(D)) for D, _ in frees]
    gamma = cp.Variable()
    bv = np.zeros(nm)
    for m, c in _coeffs(p).items():
        bv[index[m]] = c
    cv = np.zeros(nm)
    cv[index[(0,) * n]] = 1.0
    mats = [gram_block(B, w) for B, w in blocks]
    fmats = [free_block(D, w) for D, w in frees]
    expr = gamma * cv
    for A, G in zip(mats, Gs, strict=True):
        expr = expr + A @ cp.vec(G, order="F")
    for F, lam in zip(fmats, lams, strict=True):
        expr = expr + F @ lam
    cons = [expr == bv]
    prob = cp.Problem(cp.Maximize(gamma), cons)
    common = dict(poly=p, degree=degree, multiplier=0, solver=solver, basis=basis,
                  exact_note="not implemented on a semi-algebraic set")
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Solution may be inaccurate", category=UserWarning)
            prob.solve(solver=solver)
    except cp.error.SolverError as err:
        return SosResult(status="solver_error", lower_bound=None, solver_status=str(err),
                         seconds=time.perf_counter() - t0, **common)
    status = prob.status
    if status in ("infeasible", "infeasible_inaccurate"):
        return SosResult(status="infeasible", lower_bound=None, solver_status=status,
                         seconds=time.perf_counter() - t0, **common)
    if status not in ("optimal", "optimal_inaccurate") or gamma.value is None:
        return SosResult(status="solver_error", lower_bound=None, solver_status=str(status),
                         seconds=time.perf_counter() - t0, **common)
    gam = float(gamma.value)
    Gv = [(np.asarray(G.value) + np.asarray(G.value).T) / 2 for G in Gs]
    lv = [np.asarray(lam.value, dtype=float) for lam in lams]
    lam_min = min(float(np.linalg.eigvalsh(G)[0]) for G in Gv)
    gnorm = max(1.0, *(float(np.max(np.abs(G))) for G in Gv))
    total = gam * cv + sum(A @ G.flatten(order="F") for A, G in zip(mats, Gv, strict=True))
    total = total + sum((F @ v for F, v in zip(fmats, lv, strict=True)), np.zeros(nm))
    coef = float(np.max(np.abs(total - bv))) / max(1.0, float(np.max(np.abs(bv))))
    # the identity p - gamma = sigma_0 + sum sigma_j g_j + sum lambda_k h_k at random points
    rng = np.random.default_rng(seed)
    pts = rng.uniform(-2.0, 2.0, size=(20, n))
    monos = list(index)
    E = eval_monomials(pts, monos)

    def ev(weight):
        return E @ np.array([weight.get(m, 0.0) for m in monos])

    rhs = np.zeros(len(pts))
    for (B, w), G in zip(blocks, Gv, strict=True):
        Em = eval_monomials(pts, B)
        rhs += np.einsum("pi,ij,pj->p", Em, G, Em) * ev(w)
    for (D, w), v in zip(frees, lv, strict=True):
        rhs += eval_monomials(pts, D) @ v * ev(w)
    lhs = ev(_coeffs(p)) - gam
    size = np.abs(E) @ np.abs(bv) + abs(gam) + np.abs(rhs) + 1.0
    ident = float(np.max(np.abs(lhs - rhs) / size))
    checks = dict(gram=Gv[0], min_eigenvalue=lam_min, coefficient_residual=coef,
                  identity_residual=ident)
    if not (lam_min >= -1e-7 * gnorm and coef <= 1e-7 * gnorm and ident <= 1e-6):
        return SosResult(status="unverified", lower_bound=None, solver_status=status,
                         seconds=time.perf_counter() - t0, **common, **checks)
    y = np.asarray(cons[0].dual_value, dtype=float) if cons[0].dual_value is not None else None
    minimisers, flat, moments = (), False, None
    if y is not None and abs(y[index[(0,) * n]]) > 0:
        y = y / y[index[(0,) * n]]
        moments = {m: float(y[i]) for m, i in index.items()}
        shift = max([1, *halves])
        scale = 1.0 + abs(gam)
        for tol in (1e-4, 1e-6, 1e-3):
            flat, cand = extract_minimisers(moments, basis, n, r, tol, shift=shift)
            good = [tuple(float(v) for v in x) for x in cand
                    if abs(polyval(p, x) - gam) <= 1e-4 * scale
                    and all(polyval(g, x) >= -1e-5 for g in gs)
                    and all(abs(polyval(h, x)) <= 1e-5 for h in hs)]
            if flat and good and len(good) == len(cand):
                minimisers = tuple(sorted(good))
                break
        else:
            flat = False
    return SosResult(status="optimal", lower_bound=gam, solver_status=status, moments=moments,
                     minimisers=minimisers, flat=flat, seconds=time.perf_counter() - t0,
                     **common, **checks)
