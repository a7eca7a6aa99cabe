"""The finite-step overlap map: the exact expected change of (Q, M) in one SGD step at finite d.

docs/batch.md derives it by hand. With the update of escalier.derive.Scenario (step eta on a
batch of n_b fresh samples, w_j <- w_j + (eta / n_b) sum_mu g_j^mu x^mu / sqrt(d),
g_j = a_j Delta_e sigma'(lambda_j)), u = (lambda, nu) ~ N(0, Omega) and
Omega = [[Q, M], [M^T, P]]:

    E[Delta M_jr] = (eta / d) E[g_j nu_r]
    E[Delta Q_jl] = (eta / d) (E[g_j lambda_l] + E[g_l lambda_j])
                    + (eta^2 / (n_b d)) (E[h_jl] + E[u . grad_u h_jl] / d)
                    + (eta^2 / d^2) (1 - 1 / n_b) E[grad_u g_j]^T Omega E[grad_u g_l]

with h_jl = g_j g_l + Delta a_j a_l sigma'(lambda_j) sigma'(lambda_l) (label noise of
variance Delta). The second line is the diagonal (mu = nu) part of |sum_mu g^mu x^mu|^2, with
E[h |x|^2] = d E[h] + E[u . grad h] (Stein's lemma on x); the third is the n_b (n_b - 1)
off-diagonal pairs, E[g_j x] . E[g_l x] / d = E[grad g_j]^T Omega E[grad g_l] (Stein again:
E[g x] = d^{-1/2} sum_a E[d g / d u_a] v_a for the rows v_a of [W; W*]). The third line is the
term the d -> infinity ODE drops: relative to the eta^2 / n_b term it is of order n_b / d.
Nothing is expanded in 1/d: for a fixed (Q, M) these are exact conditional expectations.

Times d, the first two lines give the ODE of escalier.derive.ode.ode_system as d -> infinity
(a test checks the identity). Spherical p = 1 (w <- sqrt(d) w / ||w|| after the step):
the map m' = (m + E[Delta M]) / sqrt(1 + E[Delta Q]) at Q = 1, which matches the exact expected
step to leading order in 1/d only (the covariance of Delta M and Delta Q and E[Delta Q^2]
enter at the next order); the non-spherical map is exact.
"""

from __future__ import annotations

import sympy as sp

from .._scenario import Scenario
from ..gaussian import BACKENDS, expectation
from ._derive import frame
from ._system import OdeSystem

__all__ = ["overlap_map"]

D = sp.Symbol("d", positive=True)
"""The input dimension, a parameter of every map."""


def overlap_map(scenario: Scenario, *, points: int | None = None,
                drop_finite_d: bool = False) -> OdeSystem:
    """The one-step expected update of the overlaps at finite d (module docstring).

    Args:
        scenario: teacher, student, loss, batch n_b (default of the parameter n_b), lr
            (default eta), noise; the second layer must be fixed (train_second_layer=False).
        points: Gauss-Hermite nodes per dimension where no closed form exists.
        drop_finite_d: keep only the terms that survive in the ODE (then d * rhs is the ODE's
            right-hand side exactly): for comparisons.

    Returns:
        OdeSystem with kind="map": rhs[i] = E[y_i' - y_i | y] for one SGD step; parameters
        eta, n_b, d (no default), then Delta, a_j as in the ODE.

    Raises:
        ValueError: a trained second layer (not derived here).
    """
    if not isinstance(scenario, Scenario):
        raise ValueError(f"scenario must be an escalier.derive.Scenario, got {scenario!r}")
    sc = scenario
    if sc.train_second_layer:
        raise ValueError("the finite-step map is derived for a fixed second layer "
                         "(train_second_layer=False)")
    fr = frame(sc)
    p, k = sc.p, sc.k
    u = fr.variables
    eta, n_b, a = fr.eta, fr.n_b, fr.a
    level = 0

    def E(F):
        nonlocal level
        e = expectation(F, u, fr.Omega, points=points)
        level = max(level, BACKENDS.index(e.backend))
        return e.value

    g = [a[j] * fr.err * fr.dsigma(fr.lam[j]) for j in range(p)]
    dM = {(j, r): eta / D * E(g[j] * fr.nu[r]) for j in range(p) for r in range(k)}
    first = {(j, m): E(g[j] * fr.lam[m]) for j in range(p) for m in range(p)}
    if not drop_finite_d:
        # E[grad_u g_j]: Stein's form of E[g_j x] (docstring)
        grads = [sp.Matrix([E(sp.diff(g[j], v)) for v in u]) for j in range(p)]
    dQ = {}
    for j in range(p):
        for m in range(j, p):
            h = g[j] * g[m]
            if sc.noise != 0:
                h += fr.Delta * a[j] * a[m] * fr.dsigma(fr.lam[j]) * fr.dsigma(fr.lam[m])
            diag = E(h)
            if not drop_finite_d:
                diag += E(sp.Add(*[v * sp.diff(h, v) for v in u])) / D
            inc = eta / D * (first[j, m] + first[m, j]) + eta**2 / (n_b * D) * diag
            if not drop_finite_d:
                pair = (grads[j].T * fr.Omega * grads[m])[0, 0]
                inc += eta**2 / D**2 * (1 - 1 / n_b) * pair
            dQ[j, m] = inc

    defaults = {eta: float(sc.lr), n_b: float(sc.batch)}
    if sc.noise != 0:
        defaults[fr.Delta] = float(sc.noise)
    defaults.update({a[j]: float(sc.a[j]) for j in range(p)})
    params = (eta, n_b, D, *tuple(defaults)[2:])
    if sc.spherical:
        one = {fr.Qs[0, 0]: sp.Integer(1)}
        state = [fr.Ms[0, r] for r in range(k)]
        q = dQ[0, 0].xreplace(one)
        rhs = [(fr.Ms[0, r] + dM[0, r].xreplace(one)) / sp.sqrt(1 + q) - fr.Ms[0, r]
               for r in range(k)]
    else:
        state = [fr.Qs[j, m] for j in range(p) for m in range(j, p)] + [
            fr.Ms[j, r] for j in range(p) for r in range(k)]
        rhs = [dQ[j, m] for j in range(p) for m in range(j, p)] + [
            dM[j, r] for j in range(p) for r in range(k)]
    risk = E((fr.f - fr.yhat) ** 2) / 2
    if sc.spherical:
        risk = risk.xreplace(one)
    return OdeSystem(scenario=sc, state=tuple(state), rhs=tuple(rhs), risk=risk,
                     parameters=params,
                     defaults=tuple((s, defaults[s]) for s in params if s in defaults),
                     backend=BACKENDS[level], kind="map")
