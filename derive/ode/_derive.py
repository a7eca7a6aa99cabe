"""Derivation of the overlap ODEs of online SGD (docs/theory.md §4) from a Scenario.

With Delta_e = y - yhat (square loss) or y (correlation loss), y = f(nu) (+ label noise of
variance Delta), yhat = sum_j a_j sigma(lambda_j), and (lambda, nu) ~ N(0, [[Q, M], [M^T, P]]):

    dM_jr/dt = eta a_j E[Delta_e sigma'(lambda_j) nu_r]
    dQ_jl/dt = eta a_j E[Delta_e sigma'(lambda_j) lambda_l]
               + eta a_l E[Delta_e sigma'(lambda_l) lambda_j]
               + (eta^2 / n_b) a_j a_l (E[Delta_e^2 sigma'(lambda_j) sigma'(lambda_l)]
                                        + Delta E[sigma'(lambda_j) sigma'(lambda_l)])
    da_j/dt  = eta_a E[Delta_e sigma(lambda_j)]                 (second layer trained)
    R        = E[(f(nu) - yhat)^2] / 2                           (population risk, noiseless)

This is the d -> infinity limit of the update fixed in escalier.derive.Scenario's docstring,
with t = steps / d. Spherical (every row ||w_j||^2 = d, renormalised after each step):
Q_jj = 1 and, with the unconstrained drifts above evaluated at Q_jj = 1 (docs/theory.md §4.6,
§4.9),

    dM_jr/dt = dM_jr/dt|free - M_jr (dQ_jj/dt|free) / 2
    dQ_jl/dt = dQ_jl/dt|free - Q_jl (dQ_jj/dt|free + dQ_ll/dt|free) / 2      (j < l)

(the eta^2 part of dQ_jj/dt|free is the Ito correction of the norm). Projecting each step
on the tangent space first gives the same equations in this limit (§4.9).
Every expectation comes from escalier.derive.gaussian.expectation.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .._scenario import Scenario
from ..gaussian import BACKENDS, expectation
from ..targets import Target
from ._system import OdeSystem

__all__ = ["ode_system"]

_X = sp.Symbol("x", real=True)


def _exact(v: float) -> sp.Expr:
    """A float as an exact rational (its decimal representation)."""
    return sp.Rational(repr(float(v))) if float(v) != int(v) else sp.Integer(int(v))


def _name(base: str, *idx: int, wide: bool) -> str:
    return base + ("_".join(map(str, idx)) if wide else "".join(map(str, idx)))


_OPTIONS = Scenario.options()


def ode_system(target: Target | str | Scenario, student: str | sp.Expr = "erf", p: int = 2,
               loss: str = "square", batch: int = 1, noise: float = 0.0,
               train_second_layer: bool = False, spherical: bool = False, *,
               tangent: bool = False, lr: float = 1.0,
               lr_a: float | None = None, a: tuple[float, ...] | None = None,
               P: tuple[tuple[float, ...], ...] | None = None, init_scale: float = 1.0,
               symbolic_P: bool = False, points: int | None = None,
               symbolic_parameters: bool = False,
               parameter_values: dict | None = None) -> OdeSystem:
    """The overlap ODE system of online SGD for a teacher, student and protocol.

    Formulas: module docstring (docs/theory.md §4.2-4.5; Saad & Solla, PRE 52, 4225, 1995;
    Goldt et al., NeurIPS 2019, arXiv 1906.08632).

    Args:
        target: a Target, its text (e.g. "z1 + z1*z2", committee "erf(z1/sqrt(2)) + ..."),
            or a Scenario (then the other Scenario options must be left at their defaults).
        student: activation name or expression in x ("erf" is erf(x / sqrt 2)).
        p: student hidden units.
        loss: "square" or "correlation".
        batch: mini-batch size n_b (default value of the parameter n_b).
        noise: label-noise variance Delta; the noise term is present when noise != 0.
        train_second_layer: whether a is part of the state (learning rate eta_a).
        spherical: every student row on the sphere ||w_j||^2 = d (state: Q_jl, j < l, and M).
        tangent: spherical steps projected on the tangent space (same ODE, see module doc).
        lr, lr_a, a, P, init_scale: as in Scenario (default values of the parameters
            eta, eta_a, a_j; P is substituted exactly unless symbolic_P).
        symbolic_P: keep the teacher overlaps P_rs as parameters.
        symbolic_parameters: keep the target's free parameters (c in "c*z1 + z1*z2")
            symbolic: they become parameters of the system (and arguments of the emitted
            module), with defaults from parameter_values where given. Only where every
            expectation is exact (Wick or the closed-form table).
        parameter_values: {name: value} defaults for those parameters.
        points: Gauss-Hermite nodes per dimension for expectations without closed form.

    Returns:
        OdeSystem (state, parameters, rhs, risk, backend; latex(), to_sympy(),
        initial_state(W, W_star)); its standalone JAX module is escalier.numerics.lower.ode_source.

    Raises:
        ValueError: invalid options (from Scenario), or a Scenario together with options.
    """
    given = dict(student=student, p=p, loss=loss, batch=batch, noise=noise,
                 train_second_layer=train_second_layer, spherical=spherical, tangent=tangent,
                 lr=lr, lr_a=lr_a,
                 a=a, P=P, init_scale=init_scale)
    if isinstance(target, Scenario):
        changed = [k for k, v in given.items() if v != _OPTIONS[k]]
        if changed:
            raise ValueError(f"pass either a Scenario or options, not both (got {changed})")
        scenario = target
    elif isinstance(target, str | Target):
        scenario = Scenario(target=target, symbolic_parameters=bool(symbolic_parameters),
                            **given)
    else:
        raise ValueError(f"target must be a Target, a string or a Scenario, got {target!r}")
    system = _derive(scenario, bool(symbolic_P), points, dict(parameter_values or {}))
    return system


@dataclass
class Frame:
    """The symbols of one scenario's overlap equations (shared by the ODE and the map).

    u = (lambda_1..lambda_p, nu_1..nu_k) ~ N(0, Omega), Omega = [[Q, M], [M^T, P]].
    """

    sc: Scenario
    lam: list
    nu: list
    Qs: dict
    Ms: dict
    Pm: sp.Matrix
    Omega: sp.Matrix
    eta: sp.Symbol
    n_b: sp.Symbol
    Delta: sp.Symbol
    eta_a: sp.Symbol
    a: list
    sigma_x: sp.Expr
    dsigma_x: sp.Expr
    f: sp.Expr
    yhat: sp.Expr
    err: sp.Expr

    @property
    def variables(self) -> tuple:
        return (*self.lam, *self.nu)

    def sigma(self, v):
        return self.sigma_x.xreplace({_X: v})

    def dsigma(self, v):
        return self.dsigma_x.xreplace({_X: v})


def first_layer_scenario(scenario, what: str) -> Scenario:
    """The scenario, checked: a Scenario whose second layer is fixed (what: the name of the
    derived object, for the error).

    Raises:
        ValueError: not a Scenario, or a trained second layer.
    """
    if not isinstance(scenario, Scenario):
        raise ValueError(f"scenario must be an escalier.derive.Scenario, got {scenario!r}")
    if scenario.train_second_layer:
        raise ValueError(f"{what} is derived for a fixed second layer "
                         f"(train_second_layer=False)")
    return scenario


def frame(sc: Scenario, symbolic_P: bool = False) -> Frame:
    """The Frame of a Scenario (symbol names as in the ODE system)."""
    if sc.loss not in ("square", "correlation"):
        raise ValueError(
            f"the overlap equations cover the square and correlation losses, got loss = "
            f"{sc.loss!r}: its Delta_e = y exp(-y yhat) makes the expectations non-polynomial "
            f"in the labels; simulate it instead (escalier.numerics.simulate)")
    p, k = sc.p, sc.k
    wide = max(p, k) >= 10
    lam = [sp.Symbol(f"lambda_{j}", real=True) for j in range(1, p + 1)]
    nu = [sp.Symbol(f"nu_{r}", real=True) for r in range(1, k + 1)]
    Qs = {}
    for j in range(p):
        for m in range(j, p):
            Qs[j, m] = Qs[m, j] = sp.Symbol(_name("Q", j + 1, m + 1, wide=wide), real=True)
    Ms = {(j, r): sp.Symbol(_name("M", j + 1, r + 1, wide=wide), real=True)
          for j in range(p) for r in range(k)}
    if symbolic_P:
        Pm = sp.Matrix(k, k, lambda r, s: sp.Symbol(
            _name("P", min(r, s) + 1, max(r, s) + 1, wide=wide), real=True))
    else:
        Pm = sp.Matrix(k, k, lambda r, s: _exact(sc.P[r][s]))
    Omega = sp.Matrix(p + k, p + k, lambda i, j: (
        Qs[i, j] if i < p and j < p else
        Ms[i, j - p] if i < p else Ms[j, i - p] if j < p else Pm[i - p, j - p]))
    a = [sp.Symbol(f"a{j}" if not wide else f"a_{j}", real=True) for j in range(1, p + 1)]
    # plain expressions in _X: a Lambda may rename its variable to a Dummy (x -> x does)
    sigma_x = sc.sigma(_X)
    dsigma_x = sp.diff(sigma_x, _X)
    f = sc.target.expr.xreplace(dict(zip(sc.target.variables, nu, strict=True)))
    yhat = sp.Add(*[a[j] * sigma_x.xreplace({_X: lam[j]}) for j in range(p)])
    err = f - yhat if sc.loss == "square" else f
    return Frame(sc, lam, nu, Qs, Ms, Pm, Omega, sp.Symbol("eta", positive=True),
                 sp.Symbol("n_b", positive=True), sp.Symbol("Delta", nonnegative=True),
                 sp.Symbol("eta_a", positive=True), a, sigma_x, dsigma_x, f, yhat, err)


def spherical_drift(fr: Frame, dQ: dict, dM: dict) -> tuple[list, list, dict]:
    """(state, rhs, {Q_jj: 1}) of spherical training from the unconstrained drifts dQ, dM
    (module docstring): each row's renormalisation w_j / sqrt(Q_jj) differentiated at
    Q_jj = 1, the eta^2 part of dQ_jj the Ito correction. State: Q_jl (j < l), then M_jr."""
    p, k = fr.sc.p, fr.sc.k
    Qs, Ms = fr.Qs, fr.Ms
    at_one = {Qs[j, j]: sp.Integer(1) for j in range(p)}
    state = [Qs[j, m] for j in range(p) for m in range(j + 1, p)] + [
        Ms[j, r] for j in range(p) for r in range(k)]
    rhs = [(dQ[j, m] - Qs[j, m] * (dQ[j, j] + dQ[m, m]) / 2).xreplace(at_one)
           for j in range(p) for m in range(j + 1, p)] + [
        (dM[j, r] - Ms[j, r] * dQ[j, j] / 2).xreplace(at_one)
        for j in range(p) for r in range(k)]
    return state, rhs, at_one


def _derive(sc: Scenario, symbolic_P: bool, points, values: dict) -> OdeSystem:
    p, k = sc.p, sc.k
    fr = frame(sc, symbolic_P)
    lam, nu, Qs, Ms, Pm, Omega = fr.lam, fr.nu, fr.Qs, fr.Ms, fr.Pm, fr.Omega
    variables = fr.variables
    eta, n_b, Delta, eta_a, a = fr.eta, fr.n_b, fr.Delta, fr.eta_a, fr.a
    sigma, dsigma = fr.sigma, fr.dsigma
    f, yhat, err = fr.f, fr.yhat, fr.err

    level = 0

    def E(F):
        nonlocal level
        e = expectation(F, variables, Omega, points=points)
        level = max(level, BACKENDS.index(e.backend))
        return e.value

    ds = [dsigma(lam[j]) for j in range(p)]
    dM = {(j, r): eta * a[j] * E(err * ds[j] * nu[r]) for j in range(p) for r in range(k)}
    first = {(j, m): E(err * ds[j] * lam[m]) for j in range(p) for m in range(p)}
    dQ = {}
    for j in range(p):
        for m in range(j, p):
            second = E(err**2 * ds[j] * ds[m])
            if sc.noise != 0:
                second += Delta * E(ds[j] * ds[m])
            dQ[j, m] = (eta * (a[j] * first[j, m] + a[m] * first[m, j])
                        + eta**2 * a[j] * a[m] * second / n_b)
    risk = E((f - yhat) ** 2) / 2

    defaults = {eta: float(sc.lr), n_b: float(sc.batch)}
    if sc.noise != 0:
        defaults[Delta] = float(sc.noise)
    if sc.train_second_layer:
        defaults[eta_a] = float(sc.lr_a)
    else:
        defaults.update({a[j]: float(sc.a[j]) for j in range(p)})
    if symbolic_P:
        defaults.update({Pm[r, s]: float(sc.P[r][s]) for r in range(k) for s in range(r, k)})

    if sc.spherical:
        state, rhs, at_one = spherical_drift(fr, dQ, dM)
        risk = risk.xreplace(at_one)
    else:
        state = [Qs[j, m] for j in range(p) for m in range(j, p)] + [
            Ms[j, r] for j in range(p) for r in range(k)]
        rhs = [dQ[j, m] for j in range(p) for m in range(j, p)] + [
            dM[j, r] for j in range(p) for r in range(k)]
    if sc.train_second_layer:
        state += a
        da = [eta_a * E(err * sigma(lam[j])) for j in range(p)]
        rhs += [e.xreplace(at_one) for e in da] if sc.spherical else da
    free = sc.target.parameters
    unknown = sorted(set(values) - {s.name for s in free})
    if unknown:
        raise ValueError(f"parameter_values {unknown}: not parameters of the target "
                         f"(its parameters: {[s.name for s in free]})")
    if free and level == BACKENDS.index("numeric"):
        raise ValueError(
            f"the target's parameters {[s.name for s in free]} sit inside expectations "
            f"without a closed form (numerical quadrature needs numbers): give them values "
            f"(--set NAME=VALUE) instead of keeping them symbolic")
    params = tuple(defaults) + tuple(free)
    defaults.update({s: float(values[s.name]) for s in free if s.name in values})
    return OdeSystem(
        scenario=sc,
        state=tuple(state),
        rhs=tuple(rhs),
        risk=risk,
        parameters=params,
        defaults=tuple((s, defaults[s]) for s in params if s in defaults),
        backend=BACKENDS[level],
        symbolic_P=symbolic_P,
    )
