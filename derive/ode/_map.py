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
(a test checks the identity). Spherical (w_j <- sqrt(d) w_j / ||w_j|| after the step, every
row): with the expected pre-renormalisation increments at Q_jj = 1,

    M_jr' = (M_jr + E[Delta M_jr]) / sqrt(1 + E[Delta Q_jj])
    Q_jl' = (Q_jl + E[Delta Q_jl]) / sqrt((1 + E[Delta Q_jj]) (1 + E[Delta Q_ll]))

which matches the exact expected step to leading order in 1/d only (the covariances of the
increments and E[Delta Q^2] enter at the next order); the non-spherical map is exact.
Tangent projection (Scenario.tangent): Delta w_j <- Delta w_j - (eta / d) Lambda_jj w_j with
Lambda_ab = (1/n_b) sum_mu g_a^mu lambda_b^mu, so that

    E[Delta M_jr] = (eta / d) (E[g_j nu_r] - M_jr E[g_j lambda_j])
    E[Delta Q_jl] = (eta / d) (E[g_j lambda_l] + E[g_l lambda_j]
                               - Q_jl (E[g_j lambda_j] + E[g_l lambda_l]))
                    + (the eta^2 lines above)
                    - (eta / d)^2 E[Lambda_jj Lambda_lj + Lambda_ll Lambda_jl
                                    - Q_jl Lambda_jj Lambda_ll],
    E[Lambda_ab Lambda_ce] = E[g_a lambda_b g_c lambda_e] / n_b
                             + (1 - 1/n_b) E[g_a lambda_b] E[g_c lambda_e],

exact before the renormalisation (docs/theory.md §4.9).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .._scenario import Scenario
from ..gaussian import BACKENDS, expectation
from ._derive import first_layer_scenario, frame, ode_system
from ._system import OdeSystem

__all__ = ["SingleIndexConstants", "overlap_map", "single_index_constants"]

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
    sc = first_layer_scenario(scenario, "the finite-step map")
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
    dQ, second = {}, {}
    for j in range(p):
        for m in range(j, p):
            h = g[j] * g[m]
            if sc.noise != 0:
                h += fr.Delta * a[j] * a[m] * fr.dsigma(fr.lam[j]) * fr.dsigma(fr.lam[m])
            diag = E(h)
            if not drop_finite_d:
                diag += E(sp.Add(*[v * sp.diff(h, v) for v in u])) / D
            sec = eta**2 / (n_b * D) * diag
            if not drop_finite_d:
                pair = (grads[j].T * fr.Omega * grads[m])[0, 0]
                sec += eta**2 / D**2 * (1 - 1 / n_b) * pair
            dQ[j, m] = eta / D * (first[j, m] + first[m, j]) + sec
            second[j, m] = sec

    defaults = {eta: float(sc.lr), n_b: float(sc.batch)}
    if sc.noise != 0:
        defaults[fr.Delta] = float(sc.noise)
    defaults.update({a[j]: float(sc.a[j]) for j in range(p)})
    params = (eta, n_b, D, *tuple(defaults)[2:])
    if sc.spherical:
        if sc.tangent:
            dQ, dM = _tangent_increments(fr, g, first, second, dM, E, drop_finite_d)
        one = {fr.Qs[j, j]: sp.Integer(1) for j in range(p)}
        q = [dQ[j, j].xreplace(one) for j in range(p)]
        state = [fr.Qs[j, m] for j in range(p) for m in range(j + 1, p)] + [
            fr.Ms[j, r] for j in range(p) for r in range(k)]
        rhs = [(fr.Qs[j, m] + dQ[j, m].xreplace(one)) / sp.sqrt((1 + q[j]) * (1 + q[m]))
               - fr.Qs[j, m] for j in range(p) for m in range(j + 1, p)] + [
            (fr.Ms[j, r] + dM[j, r].xreplace(one)) / sp.sqrt(1 + q[j]) - fr.Ms[j, r]
            for j in range(p) for r in range(k)]
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


def _tangent_increments(fr, g, first, second, dM, E, drop_finite_d):
    """The expected pre-renormalisation increments of tangent-projected SGD (module doc):
    Delta w_j -> Delta w_j - (eta / d) Lambda_jj w_j, Lambda_ab = (1/n_b) sum_mu g_a lambda_b,
    with E[Lambda_ab Lambda_ce] = E[g_a lambda_b g_c lambda_e] / n_b
    + (1 - 1/n_b) E[g_a lambda_b] E[g_c lambda_e] (fresh samples). Exact at finite d."""
    sc, eta, n_b = fr.sc, fr.eta, fr.n_b
    p, k = sc.p, sc.k
    lam, Qs, Ms = fr.lam, fr.Qs, fr.Ms
    dM = {(j, r): dM[j, r] - eta / D * Ms[j, r] * first[j, j]
          for j in range(p) for r in range(k)}

    def LL(a, b, c, e):  # E[Lambda_ab Lambda_ce]
        return (E(g[a] * lam[b] * g[c] * lam[e]) / n_b
                + (1 - 1 / n_b) * first[a, b] * first[c, e])

    dQ = {}
    for j in range(p):
        for m in range(j, p):
            inc = eta / D * (first[j, m] + first[m, j]
                             - Qs[j, m] * (first[j, j] + first[m, m])) + second[j, m]
            if not drop_finite_d:
                inc -= (eta / D) ** 2 * (LL(j, j, m, j) + LL(m, m, j, m)
                                         - Qs[j, m] * LL(j, j, m, m))
            dQ[j, m] = inc
    return dQ, dM


@dataclass(frozen=True)
class SingleIndexConstants:
    """The constants of one step of single-neuron SGD near m = 0 (p = k = 1, P = 1, Q = 1).

    Attributes:
        l: the student-compatible information exponent (Hermite form).
        drift: C_l with E[Delta m] = (eta / d) C_l m^{l-1} + ... (first order, m -> 0).
        noise: E[g^2] at M = 0 (plus Delta E[sigma'^2] with label noise): the eta^2 / (n_b d)
            term shrinks m by (eta^2 / (2 n_b d)) noise m per step.
        self_interaction: E[d g / d lambda] at M = 0: the radial contraction
            w' = (1 + gamma E[d g / d lambda]) w + ..., gamma = eta / d (Stein: E[g x] =
            d^{-1/2} (E[d g / d lambda] w + E[d g / d nu] w*)); non-zero for the square loss
            (the yhat sigma' term), zero for the correlation loss at M = 0.
    """

    l: int
    drift: float
    noise: float
    self_interaction: float


def single_index_constants(scenario: Scenario) -> SingleIndexConstants:
    """SingleIndexConstants of a single-index scenario (docs/batch.md).

    Raises:
        ValueError: p or k != 1, or no first-order drift (the student cannot learn f).
    """
    if scenario.p != 1 or scenario.k != 1:
        raise ValueError(f"single-index constants need p = k = 1, got p = {scenario.p}, "
                         f"k = {scenario.k}")
    fr = frame(scenario)
    lam, nu = fr.lam[0], fr.nu[0]
    g = fr.a[0] * fr.err * fr.dsigma(lam)
    h = g**2 + fr.Delta * fr.a[0] ** 2 * fr.dsigma(lam) ** 2
    values = {fr.a[0]: _float(scenario.a[0]), fr.Delta: _float(scenario.noise)}

    def E(F):
        e = expectation(F, (lam, nu), sp.eye(2))
        return float(e.value.xreplace(values).evalf(17))

    sph = Scenario(scenario.target, student=scenario.sigma.expr, p=1, spherical=True,
                   loss=scenario.loss, a=scenario.a)
    form = ode_system(sph).hermite_form()
    if form.leading_power is None:
        raise ValueError(f"the student {scenario.sigma.expr} has no first-order drift towards "
                         f"{scenario.target.text} (no shared Hermite order up to 12)")
    l = form.leading_power + 1
    m = form.m
    series = sp.Poly(sp.expand(form.first_order.xreplace(
        {s: sp.Integer(1) for s in form.first_order.free_symbols if s.name == "eta"})), m)
    drift = series.coeff_monomial(m ** (l - 1))
    drift = float(drift.xreplace({s: _float(scenario.a[0]) for s in drift.free_symbols
                                  if s.name == "a1"}))
    return SingleIndexConstants(l, drift, E(h), E(sp.diff(g, lam)))


def _float(v) -> sp.Expr:
    return sp.Float(float(v), 17)
