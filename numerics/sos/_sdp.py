"""The SOS lower bound as a semidefinite programme (cvxpy + Clarabel), checked independently.

For p in R[x_1..x_n] and a multiplier power s >= 0, the degree-2r bound is (Lasserre;
Parrilo; Bach, Les Houches 2022 lecture notes, arXiv 2306.16255, the SOS chapter)

    gamma_r = max gamma  s.t.  (1 + |x|^2)^s (p(x) - gamma) = m(x)^T G m(x),  G PSD,

with m the monomials of degree <= r. Any feasible (gamma, G) proves p >= gamma on R^n. The
dual variables of the coefficient constraints are the moments y_g = L(x^g) of a linear
functional L with moment matrix M_r(y)_{ab} = y_{a+b} PSD; when M_r is flat (rank M_t =
rank M_{t-1}) the bound is attained and L is a sum of Dirac masses at minimisers, extracted
as the joint eigenvalues of multiplication matrices (Henrion & Lasserre, "Detecting global
optimality and extracting solutions in GloptiPoly", 2005).

The solver's claim is never trusted: the returned G must have smallest eigenvalue >=
-tol * max(1, |G|), the coefficients of m^T G m must match within tolerance, and the identity
is evaluated at seeded random points. Solver: Clarabel by default (interior point, high
accuracy, homogeneous embedding that detects infeasibility), SCS on request.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from fractions import Fraction

import cvxpy as cp
import numpy as np
import scipy.sparse as sps
import sympy as sp

from escalier.derive.sos import (
    ExactCertificate,
    monomial_basis,
    parse_polynomial,
    rationalise,
    round_certificate,
    sos_target,
    unbounded_below,
)

__all__ = ["SOLVERS", "SosResult", "sos_lower_bound"]

SOLVERS = ("CLARABEL", "SCS")
STATUSES = ("optimal", "infeasible", "unverified", "solver_error")
EIG_TOL = 1e-7
COEF_TOL = 1e-7


@dataclass(frozen=True)
class SosResult:
    """The degree-2r SOS bound of a polynomial, with its checks.

    Attributes:
        poly: the polynomial p (sympy.Poly over QQ).
        degree: 2r, the degree of m^T G m.
        multiplier: s.
        status: "optimal" (solver optimal and the Gram checks pass), "infeasible" (no SOS
            certificate at this degree: no finite bound at this degree), "unverified" (the
            solver claimed a solution that fails the checks: no bound is reported),
            "solver_error".
        lower_bound: the numerical bound gamma_r (None unless status == "optimal"); it is a
            numerical value, accurate to about the solver tolerance; see `exact`.
        solver, solver_status: the conic solver used and its own status string.
        basis: exponent tuples of m.
        gram: the Gram matrix G (None when no solution).
        min_eigenvalue: smallest eigenvalue of G.
        coefficient_residual: max |coefficient of (1+|x|^2)^s (p - gamma) - m^T G m| relative
            to the largest coefficient of the polynomial.
        identity_residual: the same identity evaluated at seeded random points in [-2, 2]^n,
            max relative error.
        moments: the moment vector y (dual), normalised to y_0 = 1, by monomial.
        minimisers: points extracted from a flat moment matrix and checked: p(x*) within
            tolerance of the bound.
        flat: whether a flat truncation of the moment matrix was found.
        exact: an exact rational certificate (ExactCertificate) when rounding succeeded.
        exact_note: how the rounding went.
        seconds: wall time of the solve.
    """

    poly: sp.Poly
    degree: int
    multiplier: int
    status: str
    lower_bound: float | None
    solver: str
    solver_status: str
    basis: tuple[tuple[int, ...], ...]
    gram: np.ndarray | None = field(default=None, repr=False)
    min_eigenvalue: float | None = None
    coefficient_residual: float | None = None
    identity_residual: float | None = None
    moments: dict | None = field(default=None, repr=False)
    minimisers: tuple[tuple[float, ...], ...] = ()
    flat: bool = False
    exact: ExactCertificate | None = None
    exact_note: str = "not attempted"
    seconds: float = 0.0

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(str(g) for g in self.poly.gens)

    def to_json(self) -> dict:
        ex = self.exact
        return {
            "polynomial": str(self.poly.as_expr()),
            "variables": list(self.variables),
            "degree": self.degree,
            "multiplier": self.multiplier,
            "status": self.status,
            "lower_bound": self.lower_bound,
            "solver": self.solver,
            "solver_status": self.solver_status,
            "basis_size": len(self.basis),
            "min_eigenvalue": self.min_eigenvalue,
            "coefficient_residual": self.coefficient_residual,
            "identity_residual": self.identity_residual,
            "flat": self.flat,
            "minimisers": [list(x) for x in self.minimisers],
            "exact_certificate": ex is not None,
            "exact_lower_bound": None if ex is None else str(ex.gamma),
            "exact_squares": None if ex is None else [[str(d), str(q)] for d, q in ex.squares()],
            "exact_note": self.exact_note,
            "seconds": self.seconds,
        }


def newton_basis(n: int, r: int, support) -> tuple[tuple[int, ...], ...]:
    """The monomials x^a, |a| <= r, with 2a in the Newton polytope of the support.

    Only these can appear in a Gram representation (Reznick, "Extremal PSD forms with few
    terms", Duke Math. J. 45, 1978: Newt(sum q_i^2) = 2 Newt(q_i)); dropping the others
    removes rows of G forced to zero, which would make every Gram matrix singular.
    Membership is an LP feasibility problem (scipy's HiGHS).
    """
    from scipy.optimize import linprog

    pts = np.array(sorted(support), dtype=float)  # (S, n)
    keep = []
    for a in monomial_basis(n, r):
        target = 2 * np.array(a, dtype=float)
        if any(np.array_equal(target, q) for q in pts):
            keep.append(a)
            continue
        # target = pts^T lam, sum lam = 1, lam >= 0
        A_eq = np.vstack([pts.T, np.ones(len(pts))])
        b_eq = np.concatenate([target, [1.0]])
        res = linprog(np.zeros(len(pts)), A_eq=A_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        if res.status == 0:
            keep.append(a)
    return tuple(keep)


def _constraint_data(basis, b: dict, c: dict):
    """Sparse A (monomials x N^2, column-major vec of G), b and c vectors, monomial list."""
    N = len(basis)
    index: dict[tuple[int, ...], int] = {}
    rows, cols = [], []
    for j in range(N):
        for i in range(N):
            key = tuple(x + y for x, y in zip(basis[i], basis[j], strict=True))
            rows.append(index.setdefault(key, len(index)))
            cols.append(i + j * N)
    missing = (set(b) | set(c)) - set(index)
    if missing:
        raise ValueError(f"the degree is too small: monomials {sorted(missing)[:3]} of the "
                         f"polynomial are not products of basis monomials; raise --degree")
    A = sps.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(index), N * N))
    bv = np.zeros(len(index))
    cv = np.zeros(len(index))
    for k, v in b.items():
        bv[index[k]] = float(v)
    for k, v in c.items():
        cv[index[k]] = float(v)
    monos = [None] * len(index)
    for k, i in index.items():
        monos[i] = k
    return A, bv, cv, monos, index


def eval_monomials(points: np.ndarray, monos) -> np.ndarray:
    E = np.array(monos, dtype=float)  # (M, n)
    return np.prod(points[:, None, :] ** E[None, :, :], axis=2)  # (P, M)


def _solve(A, bv, cv, N, solver, gamma_fixed=None):
    """cvxpy model; returns (status, gamma, G, y)."""
    G = cp.Variable((N, N), PSD=True)
    if gamma_fixed is None:
        gamma = cp.Variable()
        cons = [A @ cp.vec(G, order="F") + gamma * cv == bv]
        objective = cp.Maximize(gamma)
    else:
        # re-solve at a fixed gamma for a well-centred G: maximise its smallest eigenvalue
        t = cp.Variable()
        gamma = None
        cons = [A @ cp.vec(G, order="F") == bv - gamma_fixed * cv, G - t * np.eye(N) >> 0, t <= 1]
        objective = cp.Maximize(t)
    prob = cp.Problem(objective, cons)
    try:
        with warnings.catch_warnings():
            # "Solution may be inaccurate": the status says so and the checks decide
            warnings.filterwarnings("ignore", message="Solution may be inaccurate", category=UserWarning)
            prob.solve(solver=solver)
    except cp.error.SolverError as err:
        return f"solver_error: {err}", None, None, None
    g = None if gamma is None else gamma.value
    y = None if cons[0].dual_value is None else np.asarray(cons[0].dual_value, dtype=float)
    return prob.status, g, G.value, y


def _checks(poly, basis, b, c, gamma, G, A, bv, cv, monos, seed):
    """(min eigenvalue, coefficient residual, identity residual at random points)."""
    G = (G + G.T) / 2
    lam = float(np.linalg.eigvalsh(G)[0])
    scale = max(1.0, float(np.max(np.abs(bv))))
    coef = float(np.max(np.abs(A @ G.flatten(order="F") + gamma * cv - bv))) / scale
    rng = np.random.default_rng(seed)
    n = len(poly.gens)
    pts = rng.uniform(-2.0, 2.0, size=(20, n))
    Em = eval_monomials(pts, basis)  # (P, N)
    quad = np.einsum("pi,ij,pj->p", Em, G, Em)
    Eb = eval_monomials(pts, monos)
    lhs = Eb @ (bv - gamma * cv)
    size = np.abs(Eb) @ (np.abs(bv) + abs(gamma) * np.abs(cv)) + 1.0
    ident = float(np.max(np.abs(lhs - quad) / size))
    return lam, coef, ident


def _rank(s: np.ndarray, tol: float) -> int:
    return int(np.sum(s > tol * max(s[0], 1e-300))) if s.size else 0


def extract_minimisers(moments: dict, basis, n: int, r: int, tol: float, shift: int = 1):
    """Atoms of a flat moment matrix (Henrion-Lasserre); returns (flat, points).

    Flat: rank M_t = rank M_{t - shift} (shift = 1 on R^n, the largest half-degree of the
    constraints on a semi-algebraic set; Curto & Fialkow)."""
    for t in range(r, shift - 1, -1):
        bt = [m for m in basis if sum(m) <= t]
        bt1 = [m for m in basis if sum(m) <= t - shift]
        Mt = np.array([[moments[tuple(x + y for x, y in zip(a, bb, strict=True))] for bb in bt]
                       for a in bt])
        Mt1 = Mt[: len(bt1), : len(bt1)]
        rk = _rank(np.linalg.svd(Mt, compute_uv=False), tol)
        rk1 = _rank(np.linalg.svd(Mt1, compute_uv=False), tol)
        if rk == 0 or rk != rk1:
            continue
        w, V = np.linalg.eigh(Mt)
        V = V[:, ::-1][:, :rk] * np.sqrt(np.maximum(w[::-1][:rk], 0))  # Mt = V V^T
        # reduced column echelon form of V: U with U[pivots] = I, m(x*) = U w(x*)
        A = V.T.copy()  # rk x |bt|
        pivots = []
        row = 0
        for col in range(A.shape[1]):
            if row == rk:
                break
            k = row + int(np.argmax(np.abs(A[row:, col])))
            if abs(A[k, col]) < tol * max(1.0, np.max(np.abs(A))):
                continue
            A[[row, k]] = A[[k, row]]
            A[row] /= A[row, col]
            for i in range(rk):
                if i != row:
                    A[i] -= A[i, col] * A[row]
            pivots.append(col)
            row += 1
        if len(pivots) != rk:
            continue
        U = A.T  # |bt| x rk
        pos = {m: i for i, m in enumerate(bt)}
        wmon = [bt[p] for p in pivots]
        try:
            Ns = []
            for i in range(n):
                shifted = [tuple(v + (j == i) for j, v in enumerate(m)) for m in wmon]
                Ns.append(U[[pos[m] for m in shifted]])
        except KeyError:
            continue
        rng = np.random.default_rng(1)
        coef = rng.uniform(0.5, 1.5, size=n)
        Nc = sum(ci * Ni for ci, Ni in zip(coef, Ns, strict=True))
        _, Q = np.linalg.eig(Nc)
        try:
            Qi = np.linalg.inv(Q)
        except np.linalg.LinAlgError:
            continue
        pts = np.array([np.real(np.diag(Qi @ Ni @ Q)) for Ni in Ns]).T  # (rk, n)
        return True, pts
    return False, np.zeros((0, n))


def polyval(poly: sp.Poly, x) -> float:
    return float(poly.eval(tuple(sp.Float(v, 30) for v in x))) if len(poly.gens) > 1 else \
        float(poly.eval(sp.Float(x[0], 30)))


def sos_lower_bound(poly, *, degree: int | None = None, multiplier: int = 0,
                    solver: str = "CLARABEL", exact: bool = True, extract: bool = True,
                    variables=None, seed: int = 0, newton: bool = True) -> SosResult:
    """The degree-2r SOS lower bound of p on R^n, checked, with minimisers and exact rounding.

    Formula: module docstring. Args:
        poly: text ("x^4 + y^4 - 4*x*y + 1"), SymPy expression or Poly with rational
            coefficients.
        degree: 2r (even, >= deg p + 2s); default deg p + 2s rounded up to even.
        multiplier: s, certify (1 + |x|^2)^s (p - gamma) SOS (Reznick's uniform denominators);
            s = 1 turns the Motzkin polynomial into a certifiable one.
        solver: "CLARABEL" (default) or "SCS".
        exact: try to round the certificate to an exact rational one (SymPy).
        extract: try to extract minimisers from the moment matrix.
        variables: variable order (default: sorted names).
        seed: seed of the random evaluation points of the identity check.
        newton: keep only basis monomials allowed by the Newton polytope (newton_basis).

    Returns:
        SosResult (status, lower_bound, gram, minimisers, exact, ...).

    Raises:
        ValueError: not a polynomial, p unbounded below (with the reason), bad degree,
            multiplier or solver.
    """
    t0 = time.perf_counter()
    solver = str(solver).upper()
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; accepted: {SOLVERS}")
    if not (isinstance(multiplier, int) and 0 <= multiplier <= 8):
        raise ValueError(f"the multiplier power s must be an integer in 0..8, got {multiplier!r}")
    poly = poly if isinstance(poly, sp.Poly) and poly.domain == sp.QQ else parse_polynomial(poly, variables)
    if poly.total_degree() < 1:
        raise ValueError("the polynomial is a constant: its minimum is itself")
    reason = unbounded_below(poly)
    if reason is not None:
        raise ValueError(f"the polynomial is unbounded below, no lower bound exists: {reason}")
    need = poly.total_degree() + 2 * multiplier
    need += need % 2
    if degree is None:
        degree = need
    if not (isinstance(degree, int) and degree % 2 == 0 and degree >= need):
        raise ValueError(f"degree must be an even integer >= {need} (deg p + 2s), got {degree!r}")
    n = len(poly.gens)
    r = degree // 2
    b, c = sos_target(poly, multiplier)
    basis = newton_basis(n, r, set(b) | set(c)) if newton else monomial_basis(n, r)
    A, bv, cv, monos, index = _constraint_data(basis, b, c)
    N = len(basis)
    status, gamma, G, y = _solve(A, bv, cv, N, solver)
    common = dict(poly=poly, degree=degree, multiplier=multiplier, solver=solver, basis=basis)
    if status in ("infeasible", "infeasible_inaccurate"):
        return SosResult(status="infeasible", lower_bound=None, solver_status=status,
                         seconds=time.perf_counter() - t0, **common)
    if status not in ("optimal", "optimal_inaccurate") or gamma is None or G is None:
        return SosResult(status="solver_error", lower_bound=None, solver_status=str(status),
                         seconds=time.perf_counter() - t0, **common)
    gamma = float(gamma)
    G = (np.asarray(G) + np.asarray(G).T) / 2
    lam, coef, ident = _checks(poly, basis, b, c, gamma, G, A, bv, cv, monos, seed)
    gnorm = max(1.0, float(np.max(np.abs(G))))
    ok = lam >= -EIG_TOL * gnorm and coef <= COEF_TOL * gnorm and ident <= 1e-6
    checks = dict(gram=G, min_eigenvalue=lam, coefficient_residual=coef, identity_residual=ident)
    if not ok:
        return SosResult(status="unverified", lower_bound=None, solver_status=status,
                         seconds=time.perf_counter() - t0, **common, **checks)
    moments = None
    flat, minimisers = False, ()
    if y is not None and abs(y[index[(0,) * n]]) > 0:
        y = y / y[index[(0,) * n]]
        moments = {m: float(y[i]) for m, i in index.items()}
        if extract:
            scale = 1.0 + abs(gamma)
            for tol in (1e-4, 1e-6, 1e-3):
                flat, pts = extract_minimisers(moments, basis, n, r, tol)
                good = [tuple(float(v) for v in x) for x in pts
                        if abs(polyval(poly, x) - gamma) <= 1e-4 * scale]
                if flat and good and len(good) == len(pts):
                    minimisers = tuple(sorted(good))
                    break
            else:
                flat, minimisers = False, ()
    result = SosResult(status="optimal", lower_bound=gamma, solver_status=status,
                       moments=moments, minimisers=minimisers, flat=flat, **common, **checks)
    if exact:
        cert, note = _round(poly, gamma, basis, G, multiplier, minimisers, A, bv, cv, solver)
        result = _replace(result, exact=cert, exact_note=note)
    return _replace(result, seconds=time.perf_counter() - t0)


def _replace(result, **kw):
    from dataclasses import replace

    return replace(result, **kw)


def _round(poly, gamma, basis, G, s, minimisers, A, bv, cv, solver):
    """Exact certificate: tight (rational gamma, kernel from rational minimisers) or relaxed."""
    n = len(basis)
    g_exact = rationalise(gamma, 1000)
    tight_note = ""
    if abs(float(g_exact) - gamma) <= 1e-6 * (1 + abs(gamma)) and n <= 60:
        kernel = []
        for x in minimisers:
            xr = [rationalise(v, 1000) for v in x]
            if max(abs(float(a) - v) for a, v in zip(xr, x, strict=True)) > 1e-5:
                kernel = None
                break
            val = poly.eval(tuple(sp.Rational(a.numerator, a.denominator) for a in xr)) \
                if len(xr) > 1 else poly.eval(sp.Rational(xr[0].numerator, xr[0].denominator))
            if Fraction(int(sp.Rational(val).p), int(sp.Rational(val).q)) != g_exact:
                kernel = None
                break
            kernel.append([_mono(xr, m) for m in basis])
        source = "m(x*) at the rational minimisers"
        if not kernel:
            kernel, source = _numerical_kernel(G), "the numerical kernel of G, rounded"
        attempts = [(kernel, den) for den in (10**3, 10**6, 10**9)]
        if kernel:  # a wrong kernel guess must not hide a plain rounding that works
            attempts += [(None, den) for den in (10**6, 10**9)]
        for kern, den in attempts:
            cert = round_certificate(poly, g_exact, basis, G, s, kernel=kern or None,
                                     max_denominator=den)
            kernel = kern
            if cert is not None:
                if kernel:
                    return cert, (f"exact certificate of p >= {g_exact} ({len(kernel)} kernel "
                                  f"vectors of G imposed exactly: {source})")
                return cert, f"exact certificate of p >= {g_exact} (rational rounding of the bound)"
        tight_note = f"rounding at {g_exact} failed; "
    # relaxed: a rational bound slightly below, with a well-centred Gram matrix
    delta = 1e-6 * (1 + abs(gamma))
    g_low = Fraction(int(np.floor((gamma - delta) * 10**6)), 10**6)
    status, _, G2, _ = _solve(A, bv, cv, n, solver, gamma_fixed=float(g_low))
    if status in ("optimal", "optimal_inaccurate") and G2 is not None:
        for den in (10**6, 10**9, 10**12):
            cert = round_certificate(poly, g_low, basis, (G2 + G2.T) / 2, s, max_denominator=den)
            if cert is not None:
                return cert, tight_note + f"exact certificate of the relaxed bound {g_low}"
    return None, tight_note + f"rounding failed (also at the relaxed bound {g_low})"


def _numerical_kernel(G: np.ndarray, tol: float = 1e-6, den: int = 100):
    """A rational basis of the numerical kernel of G (eigenvalues < tol * max), from its
    reduced row echelon form rounded to small denominators; [] when none or not rational."""
    w, V = np.linalg.eigh(G)
    K = V[:, w < tol * max(1.0, w[-1])].T  # rows span the kernel
    if K.shape[0] == 0 or K.shape[0] == G.shape[0]:
        return []
    K = K.copy()
    row = 0
    for col in range(K.shape[1]):
        if row == K.shape[0]:
            break
        k = row + int(np.argmax(np.abs(K[row:, col])))
        if abs(K[k, col]) < 1e-8:
            continue
        K[[row, k]] = K[[k, row]]
        K[row] /= K[row, col]
        for i in range(K.shape[0]):
            if i != row:
                K[i] -= K[i, col] * K[row]
        row += 1
    out = [[rationalise(v, den) for v in r_] for r_ in K[:row]]
    err = max(abs(float(a) - v) for r1, r2 in zip(out, K[:row], strict=True)
              for a, v in zip(r1, r2, strict=True))
    return out if err < 1e-3 else []  # a wrong guess only makes the exact check fail


def _mono(x, m) -> Fraction:
    out = Fraction(1)
    for v, e in zip(x, m, strict=True):
        out *= v**e
    return out
