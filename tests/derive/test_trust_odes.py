"""Readable overlap ODEs (issue 10, class 4): the closed forms come out canonical, without
sqrt((Q+1)(Q+1)), Q (Q+1) - Q Q or -M Q + M (Q+1)."""

import sympy as sp

from escalier.derive.ode import ode_system


def _nodes(e) -> int:
    return sum(1 for _ in sp.preorder_traversal(e))


def test_he2_overlap_equation_is_in_canonical_form():
    # Hand derivation (p = 1, erf student g(x) = erf(x / sqrt 2), teacher y = He2(nu)):
    # dM/dt = eta a E[g'(lam) nu (y - a g(lam))], (lam, nu) Gaussian, Var lam = Q, Var nu = 1,
    # Cov = M. The teacher part vanishes: with nu = (M/Q) lam + eps, E[g'(lam) nu (nu^2 - 1)]
    # has only odd powers of lam against the even g'. The student part is
    # -a (M/Q) E[lam g(lam) g'(lam)] = -a (M/Q) (2/pi) Q / ((1 + Q) sqrt(1 + 2Q))
    # (Saad & Solla's I3 at coinciding arguments), so
    # dM/dt = -2 a^2 eta M / (pi (1 + Q) sqrt(1 + 2Q)).
    system = ode_system("He2(z1)", student="erf", p=1)
    names = [s.name for s in system.state]
    rhs = system.rhs[names.index("M11")]
    sym = {s.name: s for s in rhs.free_symbols}
    M, Q, a, eta = sym["M11"], sym["Q11"], sym["a1"], sym["eta"]
    expected = -2 * a**2 * eta * M / (sp.pi * (1 + Q) * sp.sqrt(1 + 2 * Q))
    assert sp.simplify(rhs - expected) == 0
    assert _nodes(rhs) <= _nodes(expected) + 2  # as short as the hand form
    text = system.latex()
    # the eta^2 term holds Saad & Solla's I4 at four coinciding arguments of variance Q:
    # L4 = 1 + 2Q, L0 = Q, L1 = L2 = 1 + 3Q, so its asin argument is Q / (1 + 3Q)
    assert r"\operatorname{asin}{\left(\frac{Q_{11}}{3 Q_{11} + 1} \right)}" in text
    assert r"Q_{11} Q_{11}" not in text and r"\left(Q_{11} + 1\right) \left(Q_{11} + 1\right)" \
        not in text


def test_staircase_system_latex_is_smaller():
    # 12,674 characters before the closed forms were made canonical (issue 10)
    text = ode_system("z1 + z1*z2", student="erf", p=2).latex()
    assert len(text) < 10_000


def test_symbolic_parameters_become_system_parameters():
    import numpy as np
    import pytest

    y = [1.0, 0.1, 0.8, 0.2, 0.1, 0.1, 0.3]
    sym = ode_system("c*z1 + z1*z2", student="erf", p=2, symbolic_parameters=True)
    assert "c" in [s.name for s in sym.parameters] and "c" not in sym.default_args
    with pytest.raises(ValueError, match="no default value"):
        sym.evaluate(y)
    # the symbolic system at c = 2 is the system of the target with c = 2 substituted
    fixed = ode_system("2*z1 + z1*z2", student="erf", p=2)
    np.testing.assert_allclose(sym.evaluate(y, {"c": 2.0}), fixed.evaluate(y), rtol=1e-12)
    with_default = ode_system("c*z1 + z1*z2", student="erf", p=2, symbolic_parameters=True,
                              parameter_values={"c": 2.0})
    assert with_default.default_args["c"] == 2.0
    np.testing.assert_allclose(with_default.evaluate(y), fixed.evaluate(y), rtol=1e-12)
    from escalier.numerics.lower import ode_source  # the emitter lives with the JAX table

    src = ode_source(sym)
    assert "PARAMETERS = " in src and "'c'" in src and "have no default" in src
    with pytest.raises(ValueError, match="numerical quadrature needs numbers"):
        ode_system("tanh(c*z1)", student="erf", p=1, symbolic_parameters=True)
