"""The overlap ODE of committees by index pattern: derived once, whatever p and k.

For a committee teacher f(nu) = sum_r phi*(nu_r) and student yhat = sum_n a_n sigma(lambda_n),
write the error as one sum over the p + k units u = (lambda_1..lambda_p, nu_1..nu_k):
Delta_e = sum_u c_u phi_u(u), with c = (-a, 1) and phi_u = sigma (students) or phi*
(teachers) under the square loss (the students drop out under the correlation loss). Then the
ODE of escalier.derive.ode.ode_system is (Omega the (p + k) x (p + k) covariance)

    dM_jr/dt = eta a_j sum_u c_u I3[phi_u](Omega restricted to (j, p + r, u))
    dQ_jl/dt = eta a_j sum_u c_u I3[phi_u](j, l, u) + eta a_l sum_u c_u I3[phi_u](l, j, u)
               + (eta^2 / n_b) a_j a_l sum_{u, v} c_u c_v I4[phi_u, phi_v](j, l, u, v)
               (+ Delta (eta^2 / n_b) a_j a_l J2(j, l) with label noise)

with the patterns I3[phi](C) = E[sigma'(x) y phi(z)], I4[phi, psi](C) =
E[sigma'(x) sigma'(y) phi(z) psi(w)] and J2(C) = E[sigma'(x) sigma'(y)] over a generic
symmetric covariance C of the variables involved. Each pattern is derived once, with symbolic
entries of C (escalier.derive.gaussian.expectation), and evaluated on every index tuple at
once (escalier.numerics.lower.wide_rhs): the derivation does not depend on p or k. Coinciding
units (j = l, u = j, ...) are the same formulas at a singular C; the closed forms of the
table are continuous there (a test checks the result against ode_system at p = k = 3).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .._scenario import Scenario
from ..gaussian import expectation

__all__ = ["WideClosure", "WidePatterns", "committee_link", "wide_closure", "wide_patterns"]

_X = sp.Symbol("x", real=True)


def committee_link(scenario: Scenario) -> sp.Expr:
    """phi* in x when the target is sum_r phi*(z_r) over all its k variables.

    Raises:
        ValueError: the target is not such a committee.
    """
    t = scenario.target
    by_var: dict = {}
    for term in sp.Add.make_args(sp.expand(t.expr, deep=False)):
        vs = term.free_symbols & set(t.variables)
        if len(vs) != 1:
            raise ValueError(f"the wide (index-pattern) ODE needs a committee target "
                             f"sum_r phi(z_r); {t.text} has the term {term}")
        (v,) = vs
        by_var[v] = by_var.get(v, 0) + term
    links = [sp.simplify(by_var.get(v, 0).xreplace({v: _X})) for v in t.variables]
    if any(sp.simplify(g - links[0]) != 0 for g in links[1:]) or links[0] == 0:
        raise ValueError(f"the wide (index-pattern) ODE needs the same link in every "
                         f"teacher unit; {t.text} is not sum_r phi(z_r)")
    return links[0]


def _cov(m: int) -> sp.Matrix:
    return sp.Matrix(m, m, lambda i, j: sp.Symbol(f"c_{min(i, j)}{max(i, j)}", real=True))


@dataclass(frozen=True)
class WidePatterns:
    """The generic expectations of a committee ODE (module docstring).

    Attributes:
        scenario: the Scenario.
        cov3, cov4, cov2: the generic covariance matrices (symbols c_ij).
        I3: {"s": E[sigma'(x) y sigma(z)], "t": E[sigma'(x) y phi*(z)]} in cov3.
        I4: {("s", "s"), ("s", "t"), ("t", "t")} -> E[sigma'(x) sigma'(y) phi(z) psi(w)].
        J2: E[sigma'(x) sigma'(y)] in cov2 (label noise).
        E2: {("s", "s"), ("s", "t"), ("t", "t")} -> E[phi(x) psi(y)] in cov2 (the risk
            E[(f - yhat)^2] / 2 = sum_{u, v} c_u c_v E2(u, v) / 2).
        backend: the least exact backend used.
    """

    scenario: Scenario
    cov3: sp.Matrix
    cov4: sp.Matrix
    cov2: sp.Matrix
    I3: dict
    I4: dict
    J2: sp.Expr
    E2: dict
    backend: str


def wide_patterns(scenario: Scenario) -> WidePatterns:
    """Derive the patterns once for a committee scenario (square or correlation loss).

    Raises:
        ValueError: a target that is not a committee, a trained second layer, spherical.
    """
    if scenario.train_second_layer or scenario.spherical:
        raise ValueError("the wide ODE is for a fixed second layer and unconstrained weights")
    phi_t = committee_link(scenario)
    sigma = scenario.sigma(_X)
    dsigma = sp.diff(sigma, _X)
    x, y, z, w = sp.symbols("x y z w", real=True)
    funcs = {"s": sigma, "t": phi_t}
    c3, c4, c2 = _cov(3), _cov(4), _cov(2)
    levels = []

    def E(F, vs, C):
        e = expectation(F, vs, C)
        levels.append(e.backend)
        return e.value

    I3 = {key: E(dsigma.xreplace({_X: x}) * y * f.xreplace({_X: z}), (x, y, z), c3)
          for key, f in funcs.items()}
    I4 = {(a, b): E(dsigma.xreplace({_X: x}) * dsigma.xreplace({_X: y})
                    * funcs[a].xreplace({_X: z}) * funcs[b].xreplace({_X: w}), (x, y, z, w), c4)
          for a, b in (("s", "s"), ("s", "t"), ("t", "t"))}
    J2 = E(dsigma.xreplace({_X: x}) * dsigma.xreplace({_X: y}), (x, y), c2)
    E2 = {(a, b): E(funcs[a].xreplace({_X: x}) * funcs[b].xreplace({_X: y}), (x, y), c2)
          for a, b in (("s", "s"), ("s", "t"), ("t", "t"))}
    order = ("wick", "closed-form", "numeric")
    backend = order[max(order.index(b) for b in levels)]
    return WidePatterns(scenario, c3, c4, c2, I3, I4, J2, E2, backend)


@dataclass(frozen=True)
class WideClosure:
    """The large-width closure of one student unit j (arXiv 2302.05882), symbolically (G = P^-1).

    The student weights split as w_j = sum_r (M P^-1)_jr w*_r + w_perp_j with orthogonal
    parts that are mutually orthogonal across units, so the state of unit j is its teacher
    overlaps m = M_j (k of them) and q = Q_perp_j = ||w_perp_j||^2 / d:

        Q_jl = m_j^T P^-1 m_l + delta_jl q_j,
        dq_j/dt = dQ_jj/dt - d(m_j^T P^-1 m_j)/dt = dQ_jj/dt - 2 m_j^T P^-1 dm_j/dt,

    and the time t' = eta t / p (in which a committee of second layer a_j = a0 / p moves at
    a p-independent rate).

    Attributes:
        k: number of teacher units.
        m, dm: the symbols of M_j and dM_j/dt (k each); m_other: M_l for another unit l.
        q, dQjj: the symbols of q_j and dQ_jj/dt.
        G: the symbolic inverse teacher overlaps P^-1 (k x k, symmetric entries G_rs).
        Qjj, Qjl: the closure's diagonal and off-diagonal student overlaps.
        dq: dq_j/dt in terms of dQjj, m, dm and P.
        time_factor: d/dt' = time_factor * d/dt, i.e. p / eta.
        eta, p: their symbols.
    """

    k: int
    m: tuple
    dm: tuple
    m_other: tuple
    q: sp.Symbol
    dQjj: sp.Symbol
    G: sp.Matrix
    Qjj: sp.Expr
    Qjl: sp.Expr
    dq: sp.Expr
    time_factor: sp.Expr
    eta: sp.Symbol
    p: sp.Symbol


def wide_closure(k: int) -> WideClosure:
    """Derive the closure Q = M P^-1 M^T + diag(q) and the equation of q for k teacher units.

    The entries of G = P^-1 are symbols G_rs (symmetric; no symbolic inversion, so the cost is
    O(k^2) terms). The equation of q follows by differentiating q_j = Q_jj - m_j^T G m_j along a
    path m(t), Q_jj(t) (SymPy), so it holds for any right-hand side of (Q, M).
    """
    t = sp.Symbol("t", real=True)
    G = sp.Matrix(k, k, lambda r, s: sp.Symbol(f"G_{min(r, s)}{max(r, s)}", real=True))
    m = sp.Matrix([sp.Symbol(f"m_{r}", real=True) for r in range(k)])
    m_other = sp.Matrix([sp.Symbol(f"mo_{r}", real=True) for r in range(k)])
    dm = sp.Matrix([sp.Symbol(f"dm_{r}", real=True) for r in range(k)])
    q, dQjj = sp.Symbol("q", real=True), sp.Symbol("dQjj", real=True)
    Qjj = sp.expand((m.T * G * m)[0, 0] + q)
    Qjl = sp.expand((m.T * G * m_other)[0, 0])
    # q(t) = Q_jj(t) - m(t)^T G m(t): differentiate along m_r(t), Q_jj(t)
    mt = sp.Matrix([sp.Function(f"m{r}")(t) for r in range(k)])
    Qt = sp.Function("Qjj")(t)
    qt = Qt - (mt.T * G * mt)[0, 0]
    dqt = sp.diff(qt, t)
    subs = {sp.Derivative(Qt, t): dQjj}
    subs.update({sp.Derivative(mt[r], t): dm[r] for r in range(k)})
    dq = sp.expand(dqt.subs(subs).subs({mt[r]: m[r] for r in range(k)}))
    eta, p = sp.symbols("eta p", positive=True)
    return WideClosure(k, tuple(m), tuple(dm), tuple(m_other), q, dQjj, G, Qjj, Qjl, dq,
                       p / eta, eta, p)
