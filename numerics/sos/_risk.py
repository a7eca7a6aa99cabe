"""Certified global minimum of the population risk of a polynomial network.

For polynomial activation sigma and polynomial target f, the population risk
R = E[(f(nu) - sum_j a_j sigma(lambda_j))^2] / 2 of escalier.derive.ode_system is an exact
polynomial in the overlaps Q (p x p), M (p x k) (and a when it is trained). Not every (Q, M) is
realisable by weights: the admissible set is {[[Q, M], [M^T, P]] PSD}. It is parametrised here by
weights, which makes R a polynomial on all of R^N (no constraint left for the SOS problem):
for P positive definite, by the Schur complement,

    [[Q, M], [M^T, P]] PSD  <=>  M = U P,  Q = U P U^T + L L^T

with U in R^{p x k} (the student's components in the teacher span, U = M P^{-1}) and L in
R^{p x p} lower triangular (the components orthogonal to it; every PSD matrix is L L^T). The
map is polynomial with rational coefficients when P is rational, and onto the admissible set,
so min over (U, L) of R(U P U^T + L L^T, U P) is the admissible minimum of R. The SOS bound of
this polynomial is a certified lower bound on the population risk of every student with these
(p, sigma, a) on this target.

The fixed points of the overlap ODE (integrated numerically from random starts; by default its
lr -> 0 limit, gradient flow) are compared with the bound: a fixed point of the flow whose risk
sits above the certified minimum is a stationary point that is not a global minimum (a spurious
local minimum, or a saddle where the flow stalled). At finite lr the eta^2 noise term shifts
the fixed points above the minimum whenever the target is not representable; that is not a
spurious minimum of R.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from escalier.derive import Scenario, ode_system

from ._sdp import SosResult, sos_lower_bound

__all__ = ["RiskCertificate", "certify_risk", "ode_fixed_points", "risk_polynomial"]


def _exact(v) -> sp.Rational:
    return sp.Rational(repr(float(v))) if float(v) != int(float(v)) else sp.Integer(int(float(v)))


@dataclass(frozen=True)
class RiskPolynomial:
    """The population risk as a polynomial in the weight parameters (see module doc).

    Attributes:
        system: the OdeSystem it comes from.
        poly: R(U, L[, a]) as a sympy.Poly over QQ.
        overlaps: overlap symbol -> its expression in the weight parameters.
    """

    system: object
    poly: sp.Poly
    overlaps: dict = field(repr=False)

    def to_overlaps(self, x) -> dict[str, float]:
        """Overlaps (Q_jl, M_jr, a_j) at a point of the weight parameters."""
        reps = dict(zip(self.poly.gens, (sp.Float(v, 30) for v in x), strict=True))
        out = {str(s): float(e.xreplace(reps)) for s, e in self.overlaps.items()}
        for g in self.poly.gens:
            if str(g).startswith("a"):
                out[str(g)] = float(reps[g])
        return out


def risk_polynomial(target, student: str = "quadratic", p: int = 1, **options) -> RiskPolynomial:
    """The admissible population risk as an exact polynomial in the weights (module doc).

    Args:
        target: a Target or its text (polynomial, e.g. "z1**2").
        student: a polynomial activation (name or expression in x).
        p: student hidden units.
        options: further Scenario options (a, P, train_second_layer, ...).

    Raises:
        ValueError: a non-polynomial risk (activation or target not polynomial), spherical
            training, or a singular or irrational teacher overlap P.
    """
    scenario = Scenario(target, student=student, p=p, **options)
    if scenario.spherical:
        raise ValueError("spherical training fixes Q11 = 1; use spherical=False for the risk bound")
    system = ode_system(scenario)
    values = {s: _exact(v) for s, v in system.defaults}
    risk = sp.expand(system.risk.xreplace(values))
    k = scenario.k
    P = sp.Matrix(k, k, lambda i, j: _exact(scenario.P[i][j]))
    if not P.is_positive_definite:
        raise ValueError(f"the teacher overlap P must be positive definite, got {scenario.P}")
    U = sp.Matrix(p, k, lambda j, r: sp.Symbol(f"u{j + 1}_{r + 1}", real=True))
    L = sp.Matrix(p, p, lambda j, m: sp.Symbol(f"l{j + 1}_{m + 1}", real=True) if m <= j else 0)
    M = U * P
    Q = U * P * U.T + L * L.T
    names = {s.name: s for s in system.state}
    overlaps = {}
    for j in range(p):
        for l_ in range(j, p):
            for name in (f"Q{j + 1}{l_ + 1}", f"Q{j + 1}_{l_ + 1}"):
                if name in names:
                    overlaps[names[name]] = sp.expand(Q[j, l_])
        for r in range(k):
            for name in (f"M{j + 1}{r + 1}", f"M{j + 1}_{r + 1}"):
                if name in names:
                    overlaps[names[name]] = sp.expand(M[j, r])
    missing = [s for s in system.state if s not in overlaps and not s.name.startswith("a")]
    if missing:
        raise ValueError(f"cannot map the state symbols {missing} to weights")
    expr = sp.expand(risk.xreplace(overlaps))
    if not expr.is_polynomial(*expr.free_symbols):
        raise ValueError(f"the population risk is not a polynomial (student {student!r}, target "
                         f"{scenario.target}); the SOS bound needs a polynomial activation and target")
    free = sorted(expr.free_symbols, key=lambda s: (s.name[0] != "a", s.name))
    gens = [*list(U), *[L[j, m] for j in range(p) for m in range(j + 1)]]
    gens = [g for g in gens if g in expr.free_symbols] + [s for s in free if s.name.startswith("a")]
    poly = sp.Poly(expr, *gens, domain="QQ")
    return RiskPolynomial(system=system, poly=poly, overlaps=overlaps)


@dataclass(frozen=True)
class FixedPoint:
    """An end point of the overlap ODE: state, risk, |rhs| and whether it is above the bound."""

    state: dict
    risk: float
    speed: float
    above_minimum: bool


def ode_fixed_points(system, starts: int = 8, time: float = 2000.0, d: int = 200, seed: int = 0,
                     tol: float = 1e-7, small_lr: bool = True):
    """Integrate the overlap ODE (scipy LSODA, numpy-lambdified rhs) from seeded random starts.

    small_lr: use the limit lr -> 0 of rhs / lr (the eta^2 / n_b noise term dropped), i.e.
    gradient flow of the risk, whose fixed points are stationary points of R on the admissible
    set; at finite lr the noise term E[Delta^2 sigma' sigma'] moves the fixed points by O(lr)
    whenever the residual error is not zero (a target the student cannot represent).

    Returns a list of (state dict, risk, |rhs| at the end) for the end points that are
    stationary (|rhs| < tol); the others (not converged, diverged) are dropped.
    """
    from scipy.integrate import solve_ivp

    values = dict(system.defaults)
    eta = next((s for s in system.parameters if s.name == "eta"), None)
    rhs = list(system.rhs)
    if small_lr and eta is not None:
        rhs = [sp.diff(e, eta).xreplace({eta: 0}) for e in rhs]
    rhs_expr = [e.xreplace(values) for e in rhs]
    f = sp.lambdify([system.state], rhs_expr, "numpy")
    R = sp.lambdify([system.state], system.risk.xreplace(values), "numpy")

    def vec(y):
        return np.asarray(f(y), dtype=float)

    import jax

    from escalier.numerics.simulation import initial_weights

    out = []
    for key in jax.random.split(jax.random.key(seed), starts):  # the one start sampler
        y0 = system.initial_state(*initial_weights(system.scenario, d, key)[:2])
        with np.errstate(all="ignore"):  # a diverging start is dropped below, not an error
            sol = solve_ivp(lambda t, y: vec(y), (0.0, time), y0, method="LSODA",
                            rtol=1e-10, atol=1e-12)
            if not sol.success or not np.all(np.isfinite(sol.y[:, -1])):
                continue
            y = sol.y[:, -1]
            speed = float(np.max(np.abs(vec(y))))
        if speed < tol:
            out.append(({s.name: float(v) for s, v in zip(system.state, y, strict=True)},
                        float(R(y)), speed))
    return out


@dataclass(frozen=True)
class RiskCertificate:
    """SOS certificate of the population risk's global minimum, with the ODE's fixed points."""

    risk: RiskPolynomial
    sos: SosResult
    minimisers: tuple[dict, ...]
    fixed_points: tuple[FixedPoint, ...]
    small_lr: bool = True

    def to_json(self) -> dict:
        out = self.sos.to_json()
        out["risk_polynomial"] = str(self.risk.poly.as_expr())
        out["population_risk"] = str(self.risk.system.risk)
        out["weight_variables"] = out.pop("variables")
        out["minimisers_weights"] = out["minimisers"]
        out["minimisers"] = [dict(m) for m in self.minimisers]
        out["fixed_points"] = [dict(state=fp.state, risk=fp.risk, speed=fp.speed,
                                    above_minimum=fp.above_minimum) for fp in self.fixed_points]
        out["fixed_points_flow"] = "lr -> 0 (gradient flow)" if self.small_lr else "finite lr"
        return out


def certify_risk(target, student: str = "quadratic", p: int = 1, *, fixed_points: int = 0,
                 ode_time: float = 2000.0, seed: int = 0, solver: str = "CLARABEL",
                 exact: bool = True, small_lr: bool = True, **options) -> RiskCertificate:
    """SOS bound on the admissible population risk; minimisers as overlaps; ODE fixed points.

    Args:
        target, student, p, options: as in risk_polynomial (options go to Scenario; lr and
            batch matter only for the ODE fixed points).
        fixed_points: number of random ODE starts (0: skip the ODE comparison).
        small_lr: integrate the lr -> 0 limit of the ODE (gradient flow; see ode_fixed_points)
            rather than the ODE at the scenario's lr.
        ode_time: integration horizon of each start.
        seed: seed of the starts and of the Gram check points.
        solver, exact: as in sos_lower_bound.

    Raises:
        ValueError: as in risk_polynomial.
    """
    rp = risk_polynomial(target, student, p, **options)
    res = sos_lower_bound(rp.poly, solver=solver, exact=exact, seed=seed)
    mins = tuple(rp.to_overlaps(x) for x in res.minimisers)
    fps = ()
    if fixed_points:
        bound = res.lower_bound
        found = ode_fixed_points(rp.system, starts=fixed_points, time=ode_time, seed=seed,
                                 small_lr=small_lr)
        fps = tuple(FixedPoint(state=s, risk=r, speed=v,
                               above_minimum=bound is not None and r > bound + 1e-5 * (1 + abs(bound)))
                    for s, r, v in found)
    return RiskCertificate(risk=rp, sos=res, minimisers=mins, fixed_points=fps, small_lr=small_lr)
