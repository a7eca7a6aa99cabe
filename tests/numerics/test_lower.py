"""Lowering SymPy -> JAX: values against SymPy's own evaluation (30 digits), under jit, vmap
and grad (against sympy.diff), plus the error paths and the registry.

Tolerance: the JAX kernels (erf, arcsin, gamma, ...) are accurate to a few ulp in float64;
composing at most ~10 of them on O(1) values keeps the relative error below 1e-12, so
rtol = 1e-11 leaves a margin and still catches any wrong formula or wrong constant.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

from escalier.derive import activation
from escalier.numerics.lower import lower, register, supported_heads

x, y, z = sp.symbols("x y z", real=True)
RTOL = 1e-11

# (expression, sampling box for (x, y, z)) chosen so that each expression is real and smooth
# at almost every point of the box (kinks have measure zero).
BATTERY = [
    sp.erf(x / sp.sqrt(2)) * sp.erf(y / sp.sqrt(2)),
    2 / sp.pi * sp.asin(x * y / sp.sqrt((1 + x**2) * (1 + y**2))),
    sp.sqrt(1 + x**2 + y**2) ** 3,
    (1 + x**2) ** sp.Rational(-3, 2) + (2 + y) ** sp.Rational(5, 2),
    (3 + x) ** sp.Rational(1, 3) + (2 + y) ** (z / 3),
    sp.Max(x, y, z, 0) + sp.Min(x, 2 * y, -z),
    sp.Piecewise((x**2, x < 0), (sp.sin(y), y > 0.5), (sp.exp(z), True)),
    sp.Heaviside(x) * y + sp.Heaviside(y, 1) * z,
    sp.exp(-x**2 / 2) * sp.cos(y) + sp.log(3 + sp.tanh(z)),
    sp.erfc(x) + sp.atan2(y, z) + sp.Abs(x * y) + sp.sign(z),
    sp.acos(sp.tanh(x)) + sp.atan(y) + sp.sinh(z) * sp.cosh(x),
    sp.asinh(x) + sp.acosh(2 + y**2) + sp.atanh(sp.tanh(z) / 2),
    sp.gamma(2 + x**2) + sp.loggamma(3 + y**2) + sp.erfinv(sp.tanh(z) / 2),
    sp.erf(sp.erf(x) * sp.exp(sp.sin(y)) + sp.sqrt(2 + sp.cos(z))) / (1 + x**2) ** 2,
    sp.pi * x + sp.E * y + sp.Rational(7, 3) * z + sp.Float("0.125"),
    activation("relu")(x) + activation("sigmoid")(y) + activation("He4")(z),
]


def _points(n, seed=0):
    return np.random.default_rng(seed).uniform(-1.5, 1.5, size=(n, 3))


def _sympy_value(expr, point):
    sub = {s: sp.Float(float(v), 30) for s, v in zip((x, y, z), point, strict=True)}
    return float(sp.N(expr.xreplace(sub), 30))


@pytest.mark.parametrize("expr", BATTERY, ids=[str(i) for i in range(len(BATTERY))])
def test_values_match_sympy_under_jit_and_vmap(expr):
    f = lower(expr, [x, y, z])
    pts = _points(6)
    want = np.array([_sympy_value(expr, p) for p in pts])
    plain = np.array([f(jnp.asarray(p)) for p in pts])
    batched = jax.jit(f)(jnp.asarray(pts))  # broadcasting over the leading axis
    vmapped = jax.jit(jax.vmap(f))(jnp.asarray(pts))
    assert batched.dtype == jnp.float64
    for got in (plain, batched, vmapped):
        np.testing.assert_allclose(got, want, rtol=RTOL, atol=1e-13)


@pytest.mark.parametrize("expr", BATTERY, ids=[str(i) for i in range(len(BATTERY))])
def test_grad_matches_sympy_diff(expr):
    f = lower(expr, [x, y, z])
    grad = jax.jit(jax.vmap(jax.grad(f)))
    pts = _points(4, seed=1)
    got = np.asarray(grad(jnp.asarray(pts)))
    diffs = [sp.diff(expr, s) for s in (x, y, z)]
    want = np.array([[_sympy_value(dexpr, p) for dexpr in diffs] for p in pts])
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_arrays_params_and_shared_subexpressions():
    a, b = sp.symbols("a b", real=True)
    s = sp.erf(x / sp.sqrt(2)) + a * y
    exprs = sp.Matrix([[s**2, s * b], [sp.exp(s), b]])
    f = lower(exprs, [x, y], params=[a, b])
    assert f.shape == (2, 2) and f.n_shared >= 1
    pts = _points(5)[:, :2]
    theta = np.array([0.7, -1.3])
    got = jax.jit(f)(jnp.asarray(pts), jnp.asarray(theta))
    assert got.shape == (5, 2, 2)
    for p, g in zip(pts, np.asarray(got), strict=True):
        sub = {x: p[0], y: p[1], a: theta[0], b: theta[1]}
        want = np.array(exprs.xreplace({k: sp.Float(v, 30) for k, v in sub.items()}).evalf(30),
                        dtype=float)
        np.testing.assert_allclose(g, want, rtol=RTOL)


def test_constant_output_broadcasts_to_the_batch():
    f = lower([x, sp.Integer(2), sp.sqrt(2)], [x])
    got = f(jnp.zeros((4, 1)))
    assert got.shape == (4, 3)
    np.testing.assert_array_equal(got[:, 1], 2.0)
    np.testing.assert_allclose(got[:, 2], np.sqrt(2.0), rtol=1e-16)


def test_piecewise_without_otherwise_is_nan_outside_its_pieces():
    f = lower(sp.Piecewise((x, x > 0)), [x])
    assert float(f(jnp.array([1.5]))) == 1.5
    assert np.isnan(float(f(jnp.array([-1.0]))))


def test_registered_head():
    class softplus(sp.Function):  # noqa: N801 - a SymPy head, named as SymPy would
        pass

    with pytest.raises(ValueError, match="softplus"):
        lower(softplus(x), [x])
    register(softplus, lambda u: jnp.logaddexp(u, 0.0))
    assert "softplus" in supported_heads()
    f = lower(softplus(x) * y, [x, y])
    want = np.log1p(np.exp(0.4)) * 2.0
    np.testing.assert_allclose(f(jnp.array([0.4, 2.0])), want, rtol=1e-15)
    np.testing.assert_allclose(jax.grad(f)(jnp.array([0.4, 2.0]))[0], 2 / (1 + np.exp(-0.4)),
                               rtol=1e-14)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"besselj.*Supported heads: .*erf"):
        lower(sp.besselj(0, x), [x])
    with pytest.raises(ValueError, match=r"free symbols \['z'\]"):
        lower(x + z, [x])
    with pytest.raises(ValueError, match="complex"):
        lower(x + sp.I, [x])
    with pytest.raises(ValueError, match="nan"):
        lower(x + sp.nan, [x])
    with pytest.raises(ValueError, match="overlap"):
        lower(x, [x], params=[x])
    with pytest.raises(ValueError, match="strings"):
        lower("x + 1", [x])
    f = lower(x + y, [x, y])
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        f(jnp.zeros(3))
    g = lower(x * z, [x], params=[z])
    with pytest.raises(ValueError, match="f\\(x, theta\\)"):
        g(jnp.zeros(1))


def test_unevaluated_input_is_canonicalised_before_cse():
    # sympy.cse (1.14) on this unevaluated expression replaces 2x + 1 by x**2 + 1; found in
    # an overlap ODE built with evaluate=False. asin(((2x+1)^-1)^(-1/2)) = asin(sqrt(2x+1))
    # is real for x in [-1/2, 0].
    e = sp.Add(sp.Mul(x, x, evaluate=False),
               sp.asin(sp.Pow(sp.Pow(2 * x + 1, -1), sp.Rational(-1, 2), evaluate=False)),
               evaluate=False)
    f = lower([e, 2 * e], [x])
    for v in (-0.45, -0.3, -0.1):
        want = v * v + np.arcsin(np.sqrt(2 * v + 1))
        np.testing.assert_allclose(f(jnp.array([v])), [want, 2 * want], rtol=1e-14)


def test_no_sympy_lambdify_math_module_under_jit():
    # The failure mode of sympy.lambdify(..., "jax"): erf printed as math.erf breaks jit.
    f = jax.jit(lower(sp.erf(x), [x]))
    np.testing.assert_allclose(f(jnp.array([0.5])), 0.5204998778130465, rtol=1e-15)


class GaussHermite1(sp.Function):
    """Test head: E[F(u)] for u ~ N(0, s), args (Lambda(u, F), s, n): structural."""


def _build_gauss_hermite1(expr, compile_):
    lam, s, n = expr.args
    (u,) = lam.variables
    outer = sorted(lam.expr.free_symbols - {u}, key=str)
    inner = lower(lam.expr, [u], params=outer)
    s_fn, outer_fns = compile_(s), [compile_(o) for o in outer]
    nodes, weights = np.polynomial.hermite_e.hermegauss(int(n))
    weights = weights / weights.sum()

    def fn(env):
        std = jnp.sqrt(jnp.asarray(s_fn(env)))
        theta = jnp.stack(jnp.broadcast_arrays(*[jnp.asarray(f(env)) for f in outer_fns]), -1)
        return inner((std[..., None] * nodes)[..., None], theta[..., None, :]) @ weights

    return fn


def test_structural_head_keeps_its_bound_variable_out_of_cse():
    u = sp.Symbol("u", real=True)
    register(GaussHermite1, _build_gauss_hermite1, structural=True)
    # E[u^2 x^3] with Var u = x^2 is x^5 (Gauss-Hermite with 10 nodes is exact on degree 2);
    # u**2 * x**3 also appears outside, with u free there, so CSE would love to share it.
    e = GaussHermite1(sp.Lambda(u, u**2 * x**3), x**2, 10) + u**2 * x**3
    f = lower(e, [x, u])
    pts = jnp.asarray(_points(5)[:, :2])
    want = pts[:, 0] ** 5 + pts[:, 1] ** 2 * pts[:, 0] ** 3
    np.testing.assert_allclose(jax.jit(f)(pts), want, rtol=1e-13)
    np.testing.assert_allclose(jax.vmap(f)(pts), want, rtol=1e-13)


def test_gaussian_expectation_head_of_derive():
    from escalier.derive import gaussian
    u1, u2 = sp.symbols("u1 u2", real=True)
    q, c = sp.symbols("q c", real=True)
    cov = sp.ImmutableMatrix([[1 + q, c], [c, 1]])
    # Isserlis: E[u1^2 u2^2] = C11 C22 + 2 C12^2, exact for a 3-node rule and up.
    poly = gaussian.GaussianExpectation(sp.Lambda((u1, u2), u1**2 * u2**2), cov, 4)
    smooth = gaussian.GaussianExpectation(sp.Lambda((u1, u2), sp.tanh(u1) * sp.tanh(u2)), cov, 30)
    f = jax.jit(lower([poly, smooth], [q, c]))
    for qv, cv in [(0.3, 0.5), (0.0, 0.999), (1.2, -0.2)]:
        got = np.asarray(f(jnp.array([qv, cv])))
        np.testing.assert_allclose(got[0], (1 + qv) + 2 * cv**2, rtol=1e-12)
        C = np.array([[1 + qv, cv], [cv, 1.0]])
        want = gaussian.quadrature(lambda a, b: np.tanh(a) * np.tanh(b), C, 30)  # numpy twin
        np.testing.assert_allclose(got[1], want, rtol=1e-12)
