"""Array code for the committee ODE by index pattern (escalier.derive.ode.wide_patterns).

Each generic pattern (I3, I4, J2: expressions in the entries c_ij of a small covariance) is
lowered once by `lower`; the right-hand side gathers the entries of Omega = [[Q, M], [M^T, P]]
for every index tuple and evaluates the pattern on all of them at once (broadcasting; the
I4 sum is vmapped over the first student index, or a lax.map when p^2 (p+k)^2 > 2^20 to bound
memory), then contracts with
the coefficients c = (-a, 1). Cost O(p^2 (p + k)^2) per evaluation; derivation independent
of p and k.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._lower import lower

__all__ = ["WideRhs", "wide_rhs"]


def _lowered(expr, C):
    m = C.shape[0]
    syms = [C[i, j] for i in range(m) for j in range(i, m)]
    pairs = [(i, j) for i in range(m) for j in range(i, m)]
    return lower(expr, syms), pairs


def _gather(Omega, pairs, idx):
    """Stack Omega[idx[i], idx[j]] over the pairs on a last axis (idx broadcast arrays)."""
    entries = [Omega[idx[i], idx[j]] for i, j in pairs]
    shape = jnp.broadcast_shapes(*(e.shape for e in entries))
    return jnp.stack([jnp.broadcast_to(e, shape) for e in entries], axis=-1)


class WideRhs:
    """rhs(Q, M, a, eta, n_b, Delta=0) -> (dQ/dt (p, p), dM/dt (p, k)) for one committee.

    Attributes:
        p, k: widths; P: the teacher overlaps (k x k array); loss: "square"/"correlation".
        vmap_limit: largest p^2 (p + k)^2 evaluated in one vmapped block (else lax.map).
    """

    vmap_limit: int = 1 << 20

    def __init__(self, patterns, p: int, k: int):
        sc = patterns.scenario
        self.p, self.k, self.loss = int(p), int(k), sc.loss
        self.P = jnp.asarray(sc.P, dtype=float) if (sc.p, sc.k) == (p, k) else jnp.eye(k)
        self._I3 = {key: _lowered(e, patterns.cov3) for key, e in patterns.I3.items()}
        self._I4 = {key: _lowered(e, patterns.cov4) for key, e in patterns.I4.items()}
        self._J2 = _lowered(patterns.J2, patterns.cov2)

    def __call__(self, Q, M, a, eta, n_b, Delta=0.0):
        p, k = self.p, self.k
        n = p + k
        Omega = jnp.block([[Q, M], [M.T, self.P.astype(Q.dtype)]])
        S, T = jnp.arange(p), jnp.arange(p, n)
        ones = jnp.ones(k, Q.dtype)
        square = self.loss == "square"

        # I3 over (j, y, u): y any unit (students: dQ, teachers: dM), u summed with c_u
        j3, y3 = jnp.arange(p)[:, None, None], jnp.arange(n)[None, :, None]

        def i3(key, units):
            f, pairs = self._I3[key]
            return f(_gather(Omega, pairs, (j3, y3, units[None, None, :])))

        first = i3("t", T) @ ones  # (p, n)
        if square:
            first = first - i3("s", S) @ a
        dM = eta * a[:, None] * first[:, p:]
        A = a[:, None] * first[:, :p]
        dQ = eta * (A + A.T)

        # I4 over (j, l, u, v), one j at a time
        def row(j):
            jl = (jnp.full((p, 1, 1), j), jnp.arange(p)[:, None, None])

            def i4(key, U, V):
                f, pairs = self._I4[key]
                return f(_gather(Omega, pairs, (*jl, U[None, :, None], V[None, None, :])))

            out = jnp.einsum("luv,u,v->l", i4(("t", "t"), T, T), ones, ones)
            if square:
                out = (out - 2 * jnp.einsum("luv,u,v->l", i4(("s", "t"), S, T), a, ones)
                       + jnp.einsum("luv,u,v->l", i4(("s", "s"), S, S), a, a))
            return out

        # all rows at once when the (p, p, n, n) gathers are small, else one row at a time
        rows = jnp.arange(p)
        small = p * p * n * n <= self.vmap_limit
        second = jax.vmap(row)(rows) if small else jax.lax.map(row, rows)
        f2, pairs2 = self._J2
        noise = f2(_gather(Omega, pairs2, (jnp.arange(p)[:, None], jnp.arange(p)[None, :])))
        dQ = dQ + eta**2 / n_b * a[:, None] * a[None, :] * (second + Delta * noise)
        return dQ, dM


def wide_rhs(patterns, p: int | None = None, k: int | None = None) -> WideRhs:
    """The array right-hand side of a committee ODE at widths p, k (default: the scenario's).

    The patterns do not depend on p or k: one derivation serves every width (P = I_k when
    the widths differ from the scenario's).
    """
    sc = patterns.scenario
    return WideRhs(patterns, sc.p if p is None else p, sc.k if k is None else k)
