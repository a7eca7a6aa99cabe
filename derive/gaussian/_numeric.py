"""The numeric fallback: a Gaussian expectation kept as a SymPy object for later lowering.

    GaussianExpectation(Lambda((u1, ..., um), F), C, n) = E[F(u)],  u ~ N(0, C),

evaluated by an n^m tensor Gauss-Hermite rule on the m variables actually involved:
C = V diag(w) V^T, u = V diag(sqrt(max(w, 0))) z, z on the probabilists' Hermite nodes.
The eigen-factorisation (not Cholesky) keeps nearly singular and singular C usable.
The lowering in escalier.numerics (and the emitted JAX source) implements the same rule.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

__all__ = ["DEFAULT_POINTS", "GaussianExpectation", "hermite_rule", "quadrature"]

DEFAULT_POINTS = {1: 80, 2: 40, 3: 18, 4: 10, 5: 6}
"""Nodes per dimension by number of variables (4 beyond 5): n^m evaluations in all."""


def hermite_rule(n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Tensor Gauss-Hermite rule for N(0, I_m): nodes (n^m, m) and weights (n^m,) summing to 1."""
    x, w = np.polynomial.hermite_e.hermegauss(int(n))
    w = w / w.sum()
    grids = np.meshgrid(*([x] * m), indexing="ij")
    wgrids = np.meshgrid(*([w] * m), indexing="ij")
    nodes = np.stack([g.ravel() for g in grids], axis=-1)
    weights = np.prod(np.stack([g.ravel() for g in wgrids], axis=-1), axis=-1)
    return nodes, weights


def quadrature(func, cov, n: int) -> float:
    """E[func(u1, ..., um)] for u ~ N(0, cov) by the tensor rule (numpy; func vectorised)."""
    cov = np.asarray(cov, dtype=float)
    m = cov.shape[0]
    evals, evecs = np.linalg.eigh((cov + cov.T) / 2)
    L = evecs * np.sqrt(np.clip(evals, 0.0, None))
    nodes, weights = hermite_rule(n, m)
    u = nodes @ L.T
    vals = np.broadcast_to(np.asarray(func(*u.T), dtype=float), weights.shape)
    return float(weights @ vals)


class GaussianExpectation(sp.Function):
    """E[F(u)] for u ~ N(0, C), to be computed numerically (backend "numeric").

    Args (SymPy): Lambda over the m involved variables, the m x m covariance as an
    ImmutableMatrix (entries may be symbols: overlaps), the number n of nodes per dimension.
    Evaluates (evalf) by `quadrature` once C is numeric.
    """

    nargs = 3

    @classmethod
    def eval(cls, lam, cov, n):
        if not isinstance(lam, sp.Lambda):
            raise ValueError(f"GaussianExpectation needs a Lambda integrand, got {lam!r}")
        m = len(lam.variables)
        if not (isinstance(cov, sp.MatrixBase) and cov.shape == (m, m)):
            raise ValueError(f"GaussianExpectation needs a {m} x {m} covariance, got {cov!r}")
        if not (n.is_Integer and n >= 1):
            raise ValueError(f"GaussianExpectation needs n >= 1 nodes, got {n}")
        return None

    def _eval_is_real(self):
        return True

    @property
    def integrand(self) -> sp.Lambda:
        return self.args[0]

    @property
    def covariance(self) -> sp.ImmutableMatrix:
        return self.args[1]

    @property
    def points(self) -> int:
        return int(self.args[2])

    def _eval_evalf(self, prec):
        cov = self.covariance.evalf(prec)
        if cov.free_symbols:
            return None
        lam = self.integrand
        func = sp.lambdify(lam.variables, lam.expr, modules=["scipy", "numpy"])
        value = quadrature(func, np.array(cov.tolist(), dtype=float), self.points)
        return sp.Float(value, prec)

    def _latex(self, printer):
        lam = self.integrand
        us = ", ".join(printer._print(u) for u in lam.variables)
        cov, body = printer._print(self.covariance), printer._print(lam.expr)
        return rf"\mathbb{{E}}_{{({us}) \sim \mathcal{{N}}(0, {cov})}}\left[{body}\right]"
