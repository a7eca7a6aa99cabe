"""The building blocks of the exponents report, each against an independent route."""

import math
from fractions import Fraction

import networkx as nx
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from escalier.derive import Subspace, Target, alpha_c, hermite_expansion, staircase
from escalier.derive.algebra._linalg import Scalars
from escalier.derive.algebra._poly import from_sympy, leading_form
from escalier.derive.protocols._context import Context
from escalier.derive.protocols._symmetry import find_symmetries, symmetric_tensor_space_dim

Z = sp.symbols("z1 z2 z3", real=True)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(-3, 3), st.integers(0, 3), st.integers(0, 3),
                          st.integers(0, 2)), min_size=1, max_size=5))
def test_leading_form_is_the_hermite_expansion(terms):
    # Independent route: the lead's hermite_expansion (monomial -> Hermite change of basis)
    # against the Gaussian smoothing E[p(z + xi)] of _poly.
    expr = sum(c * Z[0] ** a * Z[1] ** b * Z[2] ** e for c, a, b, e in terms)
    if expr == 0:
        return
    t = Target(sp.expand(expr), 3)
    raw = from_sympy(t.expr, t.variables, lambda c: Fraction(int(c.p), int(c.q)))
    form = leading_form(raw)
    e = hermite_expansion(t, 9)
    for c in e.nonzero():
        assert form.get(c.alpha, 0) == Fraction(int(c.exact.p), int(c.exact.q))
    assert len([v for v in form.values() if v != 0]) == len(e.nonzero())


def test_subspace_exact_operations():
    sc = Scalars("rational")
    u = Subspace.span(3, [(1, 1, 0), (2, 2, 0), (0, 1, 1)], sc)
    assert u.dim == 2
    perp = u.complement()
    assert perp.dim == 1
    # the complement is orthogonal to both spanning vectors, exactly
    (c,) = perp.basis
    assert sum(a * b for a, b in zip(c, (1, 1, 0), strict=True)) == 0
    assert sum(a * b for a, b in zip(c, (0, 1, 1), strict=True)) == 0
    onb = u.orthonormal()
    assert sp.simplify(sum(x**2 for x in onb[0]) - 1) == 0
    assert u.contains((1, 2, 1)) and not u.contains((1, 0, 0))


def test_symmetries_of_products():
    # z1 z2 z3: the signed permutations keeping y or flipping it are the 3! * 2^3 - 1 non-trivial
    # ones (any permutation, any signs): y -> (prod of signs) y.
    ctx = Context.build("z1*z2*z3")
    assert len(ctx.symmetries) == 47
    assert all(s.tau == math.prod(s.signs) for s in ctx.symmetries)


def test_symmetric_tensor_space_dims():
    # z1 z2 z3 at U = 0: tensors fixed by every symmetry with sign tau^parity.
    ctx = Context.build("z1*z2*z3")
    sc = ctx.scalars
    u0 = Subspace.zero(3, sc)
    perp = u0.complement()
    # order 1, even powers: S v = v for all sign flips of pairs -> 0
    assert symmetric_tensor_space_dim(ctx.symmetries, u0, perp, 1, 0)[0] == 0
    # order 2, even powers: diagonal and permutation invariant -> multiples of I (dim 1)
    assert symmetric_tensor_space_dim(ctx.symmetries, u0, perp, 2, 0)[0] == 1
    # order 3, odd powers: multiples of sym(e1 e2 e3) (dim 1)
    assert symmetric_tensor_space_dim(ctx.symmetries, u0, perp, 3, 1)[0] == 1


def test_non_polynomial_symmetry_and_values():
    ctx = Context.build("sign(z1*z2*z3)")
    assert ctx.values == (-1, 1)
    assert ctx.finite_family
    ctx = Context.build("heaviside(z1) + heaviside(z2)")
    assert ctx.values == (0, 1, 2)
    # heaviside(-x) = 1 - heaviside(x) a.e.: the centred label flips under z1 <-> -z1, z2 <-> -z2
    signs = {(s.perm, s.signs): s.tau for s in ctx.symmetries}
    assert signs[((0, 1), (-1, -1))] == -1
    assert ((0, 1), (-1, 1)) not in signs


def test_find_symmetries_polynomial_vs_sympy():
    # the fast dictionary check and the SymPy check agree
    t = Target.parse("z1*z2 + z3**2")
    raw = from_sympy(t.expr, t.variables, lambda c: Fraction(int(c.p), int(c.q)))
    fast = {(s.perm, s.signs, s.tau) for s in find_symmetries(None, t.variables, raw)}
    slow = {(s.perm, s.signs, s.tau) for s in find_symmetries(t.expr, t.variables, None)}
    assert fast == slow and fast


def test_alpha_c_phase_retrieval():
    # y = z^2: G(y) = y - 1 exactly, F(M) = E[(y - 1)^2] M = 2 M, alpha_c = 1/2
    # (docs/theory.md §3 check; Mondelli & Montanari 2018). Monte Carlo with n = 2e5: the
    # reported error bound covers noise and binning; we also allow 3% outright.
    res = alpha_c("z1**2")
    assert abs(res.value - 0.5) < max(3 * res.value_error, 0.015)
    assert abs(res.value - 0.5) < 0.015


def test_alpha_c_norm_squared():
    # y = |z|^2 in k = 2: E[z z^T | y] = (y / 2) I, G = (y/2 - 1) I,
    # F(M) = E[(y/2 - 1)^2] M = Var(y) / 4 M = M (Var chi^2_2 = 4): alpha_c = 1.
    # Bias: F = I has a triple top eigenvalue on the symmetric 2 x 2 matrices; sampling
    # noise splits it and the largest of three noisy eigenvalues is biased upward. Measured
    # over seeds 0..5 the radius averages 1.018 (every seed >= 1.000), against 1.005 for
    # y = z^2 (a simple eigenvalue, test above). The estimator's own error bar must cover
    # that bias, and the 3% margin is the bias plus about two standard errors of one run.
    res = alpha_c("z1**2 + z2**2")
    assert abs(res.value - 1.0) < res.value_error
    assert abs(res.value - 1.0) < 0.03


def test_alpha_c_product_against_bessel_quadrature():
    # y = z1 z2: p(y) = K0(|y|) / pi and E[z1^2 | y] = |y| K1(|y|) / K0(|y|), so
    # G(y) = [[a, y], [y, a]] with a = |y| K1/K0 - 1 and F is computed by 1-d quadrature:
    # an independent route (no sampling, no binning).
    from scipy import integrate, special

    def g(y):
        t = abs(y)
        a = t * special.k1e(t) / special.k0e(t) - 1
        return np.array([[a, y], [y, a]])

    def p(y):
        t = abs(y)
        return special.k0e(t) * np.exp(-t) / np.pi

    sym = [np.array([[1.0, 0], [0, 0]]), np.array([[0, 0], [0, 1.0]]),
           np.array([[0, 1.0], [1, 0]]) / np.sqrt(2)]
    f = np.zeros((3, 3))
    for i, ea in enumerate(sym):
        for j, eb in enumerate(sym):
            def integrand(y, ea=ea, eb=eb):
                return sum(p(s) * np.sum(ea * (g(s) @ eb @ g(s))) for s in (y, -y))

            f[i, j] = integrate.quad(integrand, 0, 80, points=[1e-3, 0.1, 1, 5, 20],
                                     limit=500)[0]
    reference = 1 / np.max(np.abs(np.linalg.eigvalsh(f)))
    assert abs(reference - 0.59375) < 1e-3
    res = alpha_c("z1*z2")
    # n = 2e5: seed-to-seed spread ~1% (measured over seeds 0-3); allow 3%
    assert abs(res.value - reference) < 0.03 * reference


def test_alpha_c_binary_parity_is_infinite():
    # E[He_2(z) | y] = 0 exactly for sign(z1 z2 z3): the estimate is pure noise, below its
    # own error, and reported as infinite.
    assert math.isinf(alpha_c("sign(z1*z2*z3)").value)


def test_alpha_c_bad_input():
    with pytest.raises(ValueError, match="at most 8"):
        alpha_c("*".join(f"z{i}" for i in range(1, 10)))
    with pytest.raises(ValueError, match="bins"):
        alpha_c("z1**2", bins=7)
    with pytest.raises(ValueError, match="samples"):
        alpha_c("z1**2", samples=10)
    with pytest.raises(ValueError, match="parameter"):
        alpha_c("a*z1**2")


def test_alpha_c_is_reproducible():
    assert alpha_c("z1*z2", seed=3) == alpha_c("z1*z2", seed=3)


def test_staircase_graphs():
    g = staircase("z1 + z1*z2 + z1*z2*z3", "online")
    assert isinstance(g, nx.DiGraph)
    assert list(nx.topological_sort(g)) == [0, 1, 2, 3]
    assert [g.edges[i, i + 1]["leap"] for i in range(3)] == [1, 1, 1]
    assert [g.nodes[i]["dimension"] for i in range(4)] == [0, 1, 2, 3]
    assert g.edges[0, 1]["cost"] == "d"
    g = staircase("sign(z1*z2*z3)", "reuse")
    assert g.graph["class"] == "hard" and g.edges[0, 1]["leap"] == 3
    assert g.edges[0, 1]["cost"].startswith("hard")
    g = staircase("z1 + He3(z2)", "giant_step")
    assert [e["leap"] for _, _, e in g.edges(data=True)] == [1, 3]
    g = staircase("z1 + He3(z2)", "few_steps", l=1)
    assert g.number_of_edges() == 1  # stalls after learning z1
    with pytest.raises(ValueError, match="protocol"):
        staircase("z1", "sgd")


def test_exact_irrational_coefficients():
    # relu has coefficients in Q(1/sqrt(2 pi)); the report stays exact.
    from escalier.derive import exponents

    r = exponents("relu(z1) + relu(z2)", alpha_c=False)
    assert r.information_exponent == 1 and r.leap == 2
    assert r.exact["directions"]
    assert np.allclose(np.abs(r.online[0].directions()[0]), [2**-0.5, 2**-0.5])
