"""Standalone JAX source for an OdeSystem, printed from the one table JAX_FUNCTIONS.

The printer walks the SymPy tree: Add, Mul and Pow are structural; every elementwise head
is looked up in escalier.numerics.lower._table.JAX_FUNCTIONS (never sympy.lambdify, which
prints erf as math.erf); a GaussianExpectation becomes a call of the tensor Gauss-Hermite
helper written into the module (same rule as gaussian.quadrature). Common subexpressions
are shared by hash-consing.
"""

from __future__ import annotations

import sympy as sp

from escalier.derive.gaussian import GaussianExpectation, hermite_rule

from ._table import JAX_FUNCTIONS

__all__ = ["jax_code", "jax_module", "ode_source"]


def jax_code(expr: sp.Expr, names: dict) -> str:
    """One SymPy expression as a JAX expression string; `names` maps symbols to code.

    Raises:
        ValueError: a head missing from JAX_FUNCTIONS (add a row there).
    """
    if expr in names:
        return names[expr]
    if expr.is_Integer:
        return f"{int(expr)}.0"
    if expr.is_Rational:
        return f"({expr.p}.0 / {expr.q}.0)"
    if expr.is_Float:
        return repr(float(expr))
    if expr is sp.pi:
        return "jnp.pi"
    if expr is sp.E:
        return "jnp.e"
    if expr.is_Add:
        return "(" + " + ".join(jax_code(a, names) for a in expr.args) + ")"
    if expr.is_Mul:
        return "(" + " * ".join(jax_code(a, names) for a in expr.args) + ")"
    if expr.is_Pow:
        base, e = expr.args
        b = jax_code(base, names)
        if e == sp.Rational(1, 2):
            return f"jnp.sqrt({b})"
        if e == -sp.Rational(1, 2):
            return f"(1.0 / jnp.sqrt({b}))"
        if e.is_Integer:
            return f"({b} ** {int(e)})"
        return f"({b} ** {jax_code(e, names)})"
    if isinstance(expr, sp.Heaviside):
        h0 = expr.args[1] if len(expr.args) > 1 else sp.Rational(1, 2)
        return f"jnp.heaviside({jax_code(expr.args[0], names)}, {jax_code(h0, names)})"
    if isinstance(expr, sp.Max | sp.Min):
        name = JAX_FUNCTIONS[type(expr)]
        out = jax_code(expr.args[0], names)
        for a in expr.args[1:]:
            out = f"{name}({out}, {jax_code(a, names)})"
        return out
    if isinstance(expr, GaussianExpectation):
        lam = expr.integrand
        inner = dict(names)
        us = []
        for i, u in enumerate(lam.variables):
            us.append(f"_u{i}")
            inner[u] = f"_u{i}"
        cov = "jnp.stack([" + ", ".join(
            "jnp.stack([" + ", ".join(jax_code(c, names) for c in row) + "])"
            for row in expr.covariance.tolist()) + "])"
        return (f"_gauss_expect(lambda {', '.join(us)}: {jax_code(lam.expr, inner)}, "
                f"{cov}, {expr.points})")
    head = JAX_FUNCTIONS.get(type(expr))
    if head is None:
        raise ValueError(f"cannot emit {type(expr).__name__} to JAX: no row in "
                         f"escalier.numerics.lower._table.JAX_FUNCTIONS")
    return f"{head}({', '.join(jax_code(a, names) for a in expr.args)})"


_HELPER = '''

_GH = {rules}


def _gauss_expect(f, cov, n):
    """E[f(u)] for u ~ N(0, cov): tensor Gauss-Hermite rule on the eigen-factor of cov."""
    x, w = (jnp.asarray(v) for v in _GH[n])
    m = cov.shape[0]
    nodes = jnp.stack([g.ravel() for g in jnp.meshgrid(*([x] * m), indexing="ij")], -1)
    wgrid = jnp.meshgrid(*([w] * m), indexing="ij")
    weights = jnp.prod(jnp.stack([g.ravel() for g in wgrid], -1), -1)
    evals, evecs = jnp.linalg.eigh((cov + cov.T) / 2)
    u = nodes @ (evecs * jnp.sqrt(jnp.clip(evals, 0.0))).T
    return jnp.sum(weights * f(*u.T))
'''


def _body(exprs, names, indent="    ") -> tuple[list[str], list[str]]:
    """Lines computing exprs (numeric heads first, then shared subtrees), final expressions."""
    lines = []
    ges = sorted(set().union(*(e.atoms(GaussianExpectation) for e in exprs)), key=str)
    reps = {}
    names = dict(names)
    for i, ge in enumerate(ges):
        sym = sp.Symbol(f"_ge{i}")
        lines.append(f"{indent}_ge{i} = {jax_code(ge, names)}")
        reps[ge] = sym
        names[sym] = f"_ge{i}"
    exprs = [e.xreplace(reps) for e in exprs]
    for i, sub in enumerate(_shared(exprs)):
        lines.append(f"{indent}_x{i} = {jax_code(sub, names)}")
        names[sub] = f"_x{i}"
    return lines, [jax_code(e, names) for e in exprs]


def _shared(exprs) -> list[sp.Expr]:
    """Non-atomic subtrees met more than once, children before parents.

    (Plain hash-consing: sympy.cse rewrites unevaluated products incorrectly, and the
    expressions here are deliberately left unevaluated for speed.)"""
    counts: dict[sp.Expr, int] = {}

    def count(e):
        if not e.args:
            return
        counts[e] = counts.get(e, 0) + 1
        if counts[e] == 1:
            for a in e.args:
                count(a)

    for e in exprs:
        count(e)
    order, seen = [], set()

    def post(e):
        if not e.args or e in seen:
            return
        seen.add(e)
        for a in e.args:
            post(a)
        if counts[e] > 1:
            order.append(e)

    for e in exprs:
        post(e)
    return order


def jax_module(system) -> str:
    """The source text of a module with rhs(t, y, args) (maps: increment(y, args) and
    step(y, args)), risk(y, args) and their metadata."""
    names = {s: s.name for s in (*system.state, *system.parameters)}
    unpack_y = [f"    {s.name} = y[{i}]" for i, s in enumerate(system.state)]
    unpack_a = ["    args = DEFAULT_ARGS if args is None else {**DEFAULT_ARGS, **args}",
                "    missing = [n for n in PARAMETERS if n not in args]",
                "    if missing:",
                "        raise ValueError(f'parameters {missing} have no default: pass them "
                "in args')"] + [
        f"    {s.name} = args[{s.name!r}]" for s in system.parameters]
    rhs_lines, rhs_out = _body(list(system.rhs), names)
    risk_lines, (risk_out,) = _body([system.risk], names)
    numeric = set().union(*(e.atoms(GaussianExpectation) for e in (*system.rhs, system.risk)))
    rules = {}
    for ge in numeric:
        x, w = hermite_rule(ge.points, 1)
        rules[ge.points] = (x[:, 0].tolist(), w.tolist())
    sc = system.scenario
    is_map = getattr(system, "kind", "ode") == "map"
    head = (["Finite-step overlap map generated by escalier "
             f"(backend: {system.backend}): E[y' - y | y]",
             "for one SGD step at finite d (escalier.derive.ode.overlap_map)."] if is_map else
            [f"Overlap ODEs generated by escalier (backend: {system.backend})."])
    calling = (["Conventions: escalier.derive.Scenario. increment(y, args) is the expected",
                "change of y (STATE order) in one step, step(y, args) = y + increment(y, args);",
                "args is a dict over PARAMETERS (DEFAULT_ARGS when None; d has no default).",
                "Enable jax_enable_x64 for float64."]
               if is_map else
               ["Conventions: escalier.derive.Scenario (time t = steps / d). rhs(t, y, args) has",
                "diffrax's signature; y follows STATE, args is a dict over PARAMETERS "
                "(DEFAULT_ARGS",
                "when None). Enable jax_enable_x64 for float64."])
    out = [
        '"""' + head[0], *head[1:],
        "",
        f"Target f(z) = {sc.target.text}; student sigma(x) = {sc.sigma.expr}; p = {sc.p};",
        f"loss = {sc.loss}; spherical = {sc.spherical}{' (tangent steps)' if sc.tangent else ''}; "
        f"second layer trained = {sc.train_second_layer}.",
        *calling,
        '"""',
        "",
        "import jax.numpy as jnp",
        "import jax.scipy.special as jsp",
        "",
        f"STATE = {tuple(s.name for s in system.state)!r}",
        f"PARAMETERS = {tuple(s.name for s in system.parameters)!r}",
        f"DEFAULT_ARGS = {system.default_args!r}",
    ]
    if rules:
        out.append(_HELPER.format(rules=repr(rules)))
    body = [*unpack_y, *unpack_a, *rhs_lines,
            "    return jnp.stack([", *[f"        {c}," for c in rhs_out], "    ])"]
    if is_map:
        out += ["", "", "def increment(y, args=None):",
                '    """E[y\' - y | y] for one SGD step (STATE order)."""', *body,
                "", "", "def step(y, args=None):",
                '    """The map: y + increment(y, args)."""',
                "    return y + increment(y, args)"]
    else:
        out += ["", "", "def rhs(t, y, args=None):",
                '    """dy/dt of the overlaps (STATE order)."""', *body]
    out += ["", "", "def risk(y, args=None):",
            '    """Population risk E[(f - yhat)^2] / 2."""',
            *unpack_y, *unpack_a, *risk_lines, f"    return {risk_out}", ""]
    return "\n".join(out)


def ode_source(system, target: str = "jax") -> str:
    """A standalone Python module defining rhs(t, y, args) and risk(y, args) for an OdeSystem.

    Args:
        system: an escalier.derive.OdeSystem.
        target: "jax" (the module imports only jax; rhs has diffrax's signature; args is a
            dict of parameter values, DEFAULT_ARGS when None).

    Raises:
        ValueError: an unknown target, or a function the JAX table cannot lower.
    """
    if target != "jax":
        raise ValueError(f"unknown source target {target!r}; accepted: 'jax'")
    return jax_module(system)
