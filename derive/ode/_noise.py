"""The noise of online SGD in overlap space: the covariance of the per-sample update and the
leading-order SDE of the overlaps (docs/noise.md).

One SGD step (escalier.derive.Scenario's update, a batch of n_b fresh samples) moves the state
y = (Q_jl (j <= l), M_jr) by

    Delta y = (eta / d) (1 / n_b) sum_mu xi^mu + O(eta^2 / d^2) (pair terms, |x|^2 - d),
    xi_{Q_jl} = g_j lambda_l + g_l lambda_j + (eta / n_b) g_j g_l,   xi_{M_jr} = g_j nu_r,

g_j = a_j Delta_e sigma'(lambda_j) with the label noise inside Delta_e (y = f(nu) +
sqrt(Delta) eps). The (eta / n_b) g_j g_l part is the diagonal mu = mu' term of
(eta^2 / (n_b^2 d^2)) |sum_mu g^mu x^mu|^2 with |x^mu|^2 = d + O(sqrt d): it is of the same
order 1/d per step as the first-order part, so it enters both the mean (the ODE's eta^2 term)
and the covariance (the finite-learning-rate correction, relative size eta / n_b). The pair
terms mu != mu' and the fluctuation of |x|^2 / d change a step by O(eta^2 / d^(3/2)) and drop
out at leading order. Per step, E[Delta y] = rhs / d (rhs = the ODE's right-hand side; indeed
E[xi] = rhs / eta exactly) and Cov[Delta y] = (eta^2 / (n_b d^2)) C, C = Cov[xi] for one
sample. Over t = steps / d the d steps of a unit of time add up to the Ito SDE

    dy = rhs(y) dt + sqrt(Sigma(y)) dB,   Sigma = eta^2 C(y) / (n_b d),

B a standard Brownian motion of dimension len(y). Q enters through its upper triangle only
(Q_lj = Q_jl is the same state entry, not an independent one), so C is the covariance of the
len(y) distinct entries. Spherical rows (w_j <- sqrt(d) w_j / ||w_j||, any p): the state is
Q_jl (j < l) and M_jr, with Q_jj = 1, and

    xi_{M_jr} <- g_j nu_r - M_jr xi_{Q_jj} / 2,
    xi_{Q_jl} <- xi_{Q_jl} - Q_jl (xi_{Q_jj} + xi_{Q_ll}) / 2,

the expansions of (M + Delta M) / sqrt(1 + Delta Q_jj) and (Q + Delta Q_jl) /
sqrt((1 + Delta Q_jj)(1 + Delta Q_ll)) to first order (the products of two increments are
O(eta^2 / d^2) and drop out). Tangent-projected steps (Scenario.tangent) give the same xi to
this order: the projection removes g_j lambda_j from xi_{Q_jj}, which the renormalisation
removes anyway. At eta -> 0 (finite_lr=False) xi loses its (eta / n_b) g g part: the
leading-order covariance, which for p = 1 spherical is the V(m) of the small-overlap
diffusion of `escalier scaling`.

Every expectation comes from escalier.derive.gaussian.expectation over u = (lambda, nu) ~
N(0, Omega) (and eps ~ N(0, 1) independent when Delta != 0), through the Frame shared with
the ODE and the finite-step map.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .._scenario import Scenario
from ..gaussian import BACKENDS, expectation
from ._derive import first_layer_scenario, frame, ode_system
from ._system import OdeSystem

__all__ = ["OverlapNoise", "overlap_noise"]


@dataclass(frozen=True)
class OverlapNoise:
    """The drift and the per-sample update covariance of the overlaps (module docstring).

    Attributes:
        ode: the overlap ODE (drift; its state order and parameters are used throughout).
        covariance: C as a tuple of rows (len(state) x len(state), symmetric), SymPy in the
            state and the ODE's parameters (eta appears only when finite_lr).
        finite_lr: whether xi keeps its (eta / n_b) g g part.
        backend: least exact expectation backend used for C.

    The SDE's diffusion matrix (covariance per unit time t) is eta^2 C / (n_b d).
    """

    ode: OdeSystem
    covariance: tuple[tuple[sp.Expr, ...], ...]
    finite_lr: bool
    backend: str

    @property
    def state(self) -> tuple[sp.Symbol, ...]:
        return self.ode.state

    @property
    def parameters(self) -> tuple[sp.Symbol, ...]:
        return self.ode.parameters

    def matrix(self) -> sp.Matrix:
        """C as a SymPy Matrix."""
        return sp.Matrix(self.covariance)

    def evaluate(self, y, args: dict | None = None):
        """C at state y as a float array, through SymPy (slow; for checks)."""
        import numpy as np

        reps = self.ode._values(y, args)
        return np.array([[float(e.xreplace(reps).evalf(17)) for e in row]
                         for row in self.covariance])


def overlap_noise(scenario: Scenario, *, finite_lr: bool = True,
                  points: int | None = None) -> OverlapNoise:
    """The drift (the overlap ODE) and the covariance C of the per-sample update xi.

    Args:
        scenario: teacher, student, loss (square or correlation), batch n_b, noise, a;
            first layer only (train_second_layer=False); spherical rows at any p.
        finite_lr: keep the (eta / n_b) g_j g_l part of xi_Q (the finite-learning-rate
            correction of the noise); False gives the eta -> 0 covariance.
        points: Gauss-Hermite nodes per dimension where no closed form exists.

    Returns:
        OverlapNoise (module docstring: Sigma = eta^2 C / (n_b d)).

    Raises:
        ValueError: a trained second layer.
    """
    sc = first_layer_scenario(scenario, "the overlap noise")
    ode = ode_system(sc, points=points)
    fr = frame(sc)
    p, k = sc.p, sc.k
    eta, n_b, a = fr.eta, fr.n_b, fr.a
    variables = list(fr.variables)
    Omega = fr.Omega
    err = fr.err
    if sc.noise != 0:
        eps = sp.Symbol("epsilon", real=True)
        err = err + sp.sqrt(fr.Delta) * eps
        variables.append(eps)
        Omega = sp.diag(Omega, sp.Integer(1))
    level = 0

    def E(F):
        nonlocal level
        e = expectation(sp.expand(F), variables, Omega, points=points)
        level = max(level, BACKENDS.index(e.backend))
        return e.value

    g = [a[j] * err * fr.dsigma(fr.lam[j]) for j in range(p)]
    corr = (eta / n_b) if finite_lr else 0
    xiQ = {(j, m): g[j] * fr.lam[m] + g[m] * fr.lam[j] + corr * g[j] * g[m]
           for j in range(p) for m in range(j, p)}
    if sc.spherical:
        one = {fr.Qs[j, j]: sp.Integer(1) for j in range(p)}
        xi = [xiQ[j, m] - fr.Qs[j, m] * (xiQ[j, j] + xiQ[m, m]) / 2
              for j in range(p) for m in range(j + 1, p)] + [
            g[j] * fr.nu[r] - fr.Ms[j, r] * xiQ[j, j] / 2 for j in range(p) for r in range(k)]
    else:
        one = {}
        xi = [xiQ[j, m] for j in range(p) for m in range(j, p)] + [
            g[j] * fr.nu[r] for j in range(p) for r in range(k)]
    n = len(xi)
    # E[xi] = rhs / eta (finite_lr) is the ODE's drift; computed here from the same
    # expectations so that finite_lr=False is consistent too
    mean = [E(x) for x in xi]
    cov = [[sp.Integer(0)] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            c = E(xi[i] * xi[j]) - mean[i] * mean[j]
            if one:
                c = c.xreplace(one)
            cov[i][j] = cov[j][i] = c
    return OverlapNoise(ode=ode, covariance=tuple(tuple(r) for r in cov),
                        finite_lr=bool(finite_lr), backend=BACKENDS[level])
