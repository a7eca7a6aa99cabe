"""Array code for the committee ODE by index pattern (escalier.derive.ode.wide_patterns).

Each generic pattern (I3, I4, J2: expressions in the entries c_ij of a small covariance) is
lowered once by `lower`. The right-hand side gathers the entries of
Omega = [[Q, M], [M^T, P]] for every index tuple as separate broadcastable columns
(`Lowered.on_columns`), so that each sub-expression is computed on the index axes it
involves only: the 2 x 2 and 3 x 3 determinants of I4 live on (j, l) and (j, l, u), only
the final arcsine-type combination on (j, l, u, v). Symmetries cut the work further:

- I4(j, l, u, v) is symmetric in j <-> l, so it is evaluated on the p (p + 1) / 2 pairs
  j <= l only (in blocks of `block` points, a lax.map over blocks when they do not fit);
  the u <-> v symmetry is not used: gathering the pairs u <= v costs more than it saves
  (measured: 8x slower at p = k = 64, 1.2x at p = k = 8), while the full (u, v) grid
  keeps the broadcast structure that computes the determinants on (j, l, u) only;
- when sigma and phi* give the same patterns (e.g. an erf student learning an erf
  committee), the three I4 patterns (student-student, student-teacher, teacher-teacher) and
  the two I3 patterns are one expression, evaluated once over all p + k units with the
  coefficients c = (-a, 1) (square loss); otherwise each pattern is evaluated over its own
  units and the student-teacher one counts twice (u <-> v).

The arcsine of the erf patterns is evaluated by `series_arcsin` (a vectorised series, within
2 ulp of the arcsine), about 8x faster on CPU than XLA's float64 arcsine. Cost
p (p + 1) (p + k)^2 / 2 arcsine-type points per evaluation; derivation independent of p and k.
`WideRhs.jitted()` is the cached compiled function.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

from escalier.derive.ode import wide_closure

from ._lower import lower
from ._registry import register

__all__ = ["WideRhs", "series_arcsin", "wide_rhs"]

# arcsin(r) = sum_n binom(2n, n) r^(2n+1) / (4^n (2n + 1)); for r <= 1/2 the term n = 25 is
# below 1e-17 of the sum
_ASIN_COEFFS = [math.comb(2 * n, n) / (4**n * (2 * n + 1)) for n in range(26)]


def series_arcsin(x):
    """arcsin(x) for float64 arrays by its Taylor series on |r| <= 1/2 after the reduction
    arcsin(a) = pi/2 - 2 arcsin(sqrt((1 - a) / 2)) for a = |x| > 1/2 (1 - a is exact there).

    Vectorises (multiply-adds and one square root); nan for |x| > 1 like the arcsine.
    """
    a = jnp.abs(x)
    big = a > 0.5
    r = jnp.where(big, jnp.sqrt((1 - a) * 0.5), a)
    z = r * r
    s = _ASIN_COEFFS[-1]
    for c in _ASIN_COEFFS[-2::-1]:
        s = s * z + c
    s = s * r
    return jnp.copysign(jnp.where(big, math.pi / 2 - 2 * s, s), x)


class _SeriesAsin(sp.Function):
    """asin, lowered to series_arcsin (the patterns' arcsine in the wide kernel)."""

    nargs = 1


register(_SeriesAsin, series_arcsin)


def _lowered(expr, C):
    m = C.shape[0]
    syms = [C[i, j] for i in range(m) for j in range(i, m)]
    pairs = [(i, j) for i in range(m) for j in range(i, m)]
    return lower(expr.replace(sp.asin, _SeriesAsin), syms), pairs


def _evaluate(lowered, rows):
    """Evaluate a lowered pattern; rows[i][j] is the column of c_ij (i <= j)."""
    f, pairs = lowered
    return f.on_columns(*(rows[i][j] for i, j in pairs))


class WideRhs:
    """rhs(Q, M, a, eta, n_b, Delta=0) -> (dQ/dt (p, p), dM/dt (p, k)) for one committee.

    Attributes:
        p, k: widths; P: the teacher overlaps (k x k array); loss: "square"/"correlation".
        merged: True when the student and teacher patterns coincide (one I4 evaluation).
        block: largest number of I4 points (pairs j <= l x units x units) in one block.
    """

    block: int = 1 << 18

    def __init__(self, patterns, p: int, k: int):
        sc = patterns.scenario
        self.p, self.k, self.loss = int(p), int(k), sc.loss
        self.P = jnp.asarray(sc.P, dtype=float) if (sc.p, sc.k) == (p, k) else jnp.eye(k)
        self.merged = (len(set(patterns.I4.values())) == 1
                       and patterns.I3["s"] == patterns.I3["t"])
        self._I3 = {key: _lowered(e, patterns.cov3) for key, e in patterns.I3.items()}
        self._I4 = {key: _lowered(e, patterns.cov4) for key, e in patterns.I4.items()}
        self._J2 = _lowered(patterns.J2, patterns.cov2)
        self._E2 = {key: _lowered(e, patterns.cov2) for key, e in patterns.E2.items()}
        self._closure_fns = None  # lowered on first use (reduced system, small k)
        self._jl = tuple(np.triu_indices(self.p))
        self._jit = None

    def jitted(self):
        """The right-hand side compiled once with jax.jit (cached on this object)."""
        if self._jit is None:
            self._jit = jax.jit(self.__call__)
        return self._jit

    def _classes(self, a, dtype):
        """(pattern key, unit indices, coefficients c_u) of the error's units."""
        p, n = self.p, self.p + self.k
        teachers = ("t", np.arange(p, n), jnp.ones(self.k, dtype))
        if self.loss != "square":
            return [teachers]
        if self.merged:
            return [("s", np.arange(n), jnp.concatenate([-a, teachers[2]]))]
        return [("s", np.arange(p), -a), teachers]

    def _pieces(self, Q, M, a, J, L):
        """first[j, y] = sum_u c_u I3(j, y, u) (p, n); at the pairs (J, L) the I4 sums
        sum_{u, v} c_u c_v I4(j, l, u, v) and J2(j, l)."""
        p = self.p
        Omega = jnp.block([[Q, M], [M.T, self.P.astype(Q.dtype)]])
        d = jnp.diagonal(Omega)
        classes = self._classes(a, Q.dtype)

        # I3 over (j, y, u): y any unit (students: dQ, teachers: dM), u summed with c_u
        first = 0.0
        for key, U, c in classes:
            OjU = Omega[:p][:, U]
            rows = [[Q.diagonal()[:, None, None], Omega[:p][:, :, None], OjU[:, None, :]],
                    [None, d[None, :, None], Omega[:, U][None]],
                    [None, None, d[U][None, None, :]]]
            first = first + _evaluate(self._I3[key], rows) @ c  # (p, n)

        # I4 over the pairs (J, L) and units (u, v), summed with c_u c_v
        terms = [(ka, U, cu, kb, V, cv, 1.0 if ia == ib else 2.0)
                 for ia, (ka, U, cu) in enumerate(classes)
                 for ib, (kb, V, cv) in enumerate(classes) if ia <= ib]

        def pair_block(JL):
            Jb, Lb = JL
            OJ, OL = Omega[Jb], Omega[Lb]
            out = 0.0
            for ka, U, cu, kb, V, cv, mult in terms:
                rows = [[d[Jb][:, None, None], Omega[Jb, Lb][:, None, None],
                         OJ[:, U][:, :, None], OJ[:, V][:, None, :]],
                        [None, d[Lb][:, None, None], OL[:, U][:, :, None], OL[:, V][:, None, :]],
                        [None, None, d[U][None, :, None], Omega[U][:, V][None]],
                        [None, None, None, d[V][None, None, :]]]
                val = _evaluate(self._I4[(ka, kb)], rows)
                out = out + mult * jnp.einsum("zuv,u,v->z", val, cu, cv)
            return out

        npairs = len(J)
        per = max(1, self.block // max(len(U) * len(V) for _, U, _, _, V, _, _ in terms))
        if npairs <= per:
            vals = pair_block((jnp.asarray(J), jnp.asarray(L)))
        else:
            nb = -(-npairs // per)
            pad = nb * per - npairs
            Jp = np.concatenate([J, np.zeros(pad, int)]).reshape(nb, per)
            Lp = np.concatenate([L, np.zeros(pad, int)]).reshape(nb, per)
            vals = jax.lax.map(pair_block, (jnp.asarray(Jp), jnp.asarray(Lp))).reshape(-1)
            vals = vals[:npairs]
        dq = Q.diagonal()
        noise = _evaluate(self._J2, [[dq[J], Q[J, L]], [None, dq[L]]])
        return first, vals, noise

    def __call__(self, Q, M, a, eta, n_b, Delta=0.0):
        p = self.p
        a = jnp.asarray(a, Q.dtype)
        J, L = self._jl
        first, vals, noise = self._pieces(Q, M, a, J, L)
        dM = eta * a[:, None] * first[:, p:]
        A = a[:, None] * first[:, :p]
        dQ = eta * (A + A.T)
        vals = vals + Delta * noise
        second = jnp.zeros((p, p), Q.dtype).at[J, L].set(vals).at[L, J].set(vals)
        dQ = dQ + eta**2 / n_b * a[:, None] * a[None, :] * second
        return dQ, dM

    def risk(self, Q, M, a, Delta=0.0):
        """The population risk E[(f - yhat)^2] / 2 (+ Delta / 2 with label noise)."""
        a = jnp.asarray(a, Q.dtype)
        Omega = jnp.block([[Q, M], [M.T, self.P.astype(Q.dtype)]])
        d = jnp.diagonal(Omega)
        classes = self._classes(a, Q.dtype)
        out = 0.0
        for ia, (ka, U, cu) in enumerate(classes):
            for ib, (kb, V, cv) in enumerate(classes):
                if ia <= ib:
                    rows = [[d[U][:, None], Omega[U][:, V]], [None, d[V][None, :]]]
                    val = _evaluate(self._E2[(ka, kb)], rows)
                    out = out + (1.0 if ia == ib else 2.0) * (cu @ val @ cv)
        return (out + Delta) / 2

    def closure(self, M, q):
        """Q = M P^-1 M^T + diag(q), the large-width closure (escalier.derive.ode.wide_closure)."""
        p = self.p
        mj = [M[:, r][:, None] for r in range(self.k)]
        ml = [M[:, r][None, :] for r in range(self.k)]
        Qjl = self._closure()[0].on_columns(*mj, *ml, *self._Gcols(M.dtype))
        return Qjl + jnp.diag(q) + jnp.zeros((p, p), M.dtype)

    def _closure(self):
        """The lowered closure of escalier.derive.ode.wide_closure(k) (O(k^2) terms), and the
        columns of G = P^-1."""
        if self._closure_fns is None:
            cl = wide_closure(self.k)
            Gsyms = [cl.G[r, s] for r in range(self.k) for s in range(r, self.k)]
            self._closure_fns = (lower(cl.Qjl, [*cl.m, *cl.m_other, *Gsyms]),
                                 lower(cl.dq, [cl.dQjj, *cl.m, *cl.dm, *Gsyms]))
        return self._closure_fns

    def _Gcols(self, dtype):
        G = jnp.linalg.inv(self.P.astype(dtype))
        return [G[r, s] for r in range(self.k) for s in range(r, self.k)]

    def reduced(self, M, q, a, eta, n_b, Delta=0.0):
        """The reduced large-width ODE (arXiv 2302.05882) at teacher overlaps M (p, k) and
        orthogonal norms q (p,): (dM/dt', dq/dt') in the time t' = eta t / p.

        The right-hand side of the full ODE at the closure Q = M P^-1 M^T + diag(q), of which
        only dM and the diagonal of dQ are computed (O(p (p + k)^2), not O(p^2 (p + k)^2)):
        dq_j/dt = dQ_jj/dt - 2 M_j^T P^-1 dM_j/dt. The off-diagonal dQ_jl are dropped: the
        closure assumes the orthogonal parts of different units stay orthogonal.
        """
        p = self.p
        a = jnp.asarray(a, M.dtype)
        Q = self.closure(M, q)
        D = np.arange(p)
        first, vals, noise = self._pieces(Q, M, a, D, D)
        dM = eta * a[:, None] * first[:, p:]
        dQjj = 2 * eta * a * first[D, D] + eta**2 / n_b * a**2 * (vals + Delta * noise)
        cols = ([dQjj] + [M[:, r] for r in range(self.k)] + [dM[:, r] for r in range(self.k)]
                + self._Gcols(M.dtype))
        dq = self._closure()[1].on_columns(*cols)
        scale = p / eta
        return scale * dM, scale * (dq + jnp.zeros(p, M.dtype))


def wide_rhs(patterns, p: int | None = None, k: int | None = None) -> WideRhs:
    """The array right-hand side of a committee ODE at widths p, k (default: the scenario's).

    The patterns do not depend on p or k: one derivation serves every width (P = I_k when
    the widths differ from the scenario's).
    """
    sc = patterns.scenario
    return WideRhs(patterns, sc.p if p is None else p, sc.k if k is None else k)
