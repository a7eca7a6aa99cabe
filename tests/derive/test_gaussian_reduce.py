"""The reduction rules of the closed-form routine on products the table does not hold as rows:
powers of relu, an even number of odd factors, Gaussian weights (issue 21, section 3:
mutants of derive/gaussian/_reduce.py that survived the suite).

Each expected value is derived by hand in the comments (Stein's lemma E[u f(u)] = c E[f'(u)]
for u ~ N(0, c); the Gaussian integral E[exp(-u^T A u / 2)] = det(I + A C)^(-1/2)) and is
compared exactly (SymPy, symbolic covariance) and, where a number is easy to get, against
Gauss-Hermite quadrature (60 nodes: exact to ~1e-12 for these smooth integrands).
"""

import numpy as np
import sympy as sp
from scipy.special import erf

from escalier.derive.gaussian import expectation

u1, u2 = sp.symbols("u1 u2", real=True)
a, b, c = sp.symbols("a b c", positive=True)


def _exact(integrand, variables, C, expected):
    e = expectation(integrand, variables, C)
    assert e.backend == "closed-form", e
    assert sp.simplify(e.value - expected) == 0, (e.value, expected)


def test_powers_of_relu_of_one_variable():
    # relu(u)^2 = u relu(u) and u relu(u) = u^2 step(u): E = c E[z^2; z > 0] = c / 2.
    # u^2 relu(u) = relu(u)^3 = u^3 step(u): E = c^(3/2) E[z^3; z > 0] = c^(3/2) sqrt(2/pi).
    C = sp.Matrix([[c]])
    _exact(sp.Max(u1, 0) ** 2, [u1], C, c / 2)
    _exact(u1 * sp.Max(u1, 0), [u1], C, c / 2)
    _exact(sp.Max(u1, 0) ** 3, [u1], C, c ** sp.Rational(3, 2) * sp.sqrt(2 / sp.pi))
    _exact(u1**2 * sp.Max(u1, 0), [u1], C, c ** sp.Rational(3, 2) * sp.sqrt(2 / sp.pi))


def test_an_even_number_of_odd_factors_is_not_zero():
    # g(x) = erf(x / sqrt 2), u ~ N(0, c). Four odd factors (g, u, u, u): by Stein with
    # f = u^2 g, E[u^3 g] = c E[2 u g + u^2 g'] = c (2 c E[g'] + E[u^2 g']), E[g'] =
    # sqrt(2/pi) / sqrt(1 + c), E[u^2 g'] = sqrt(2/pi) c / (1 + c)^(3/2), so
    # E[u^3 g(u)] = sqrt(2/pi) c^2 (3 + 2 c) / (1 + c)^(3/2).
    expected = sp.sqrt(2 / sp.pi) * c**2 * (3 + 2 * c) / (1 + c) ** sp.Rational(3, 2)
    _exact(u1**3 * sp.erf(u1 / sp.sqrt(2)), [u1], sp.Matrix([[c]]), expected)
    x, w = np.polynomial.hermite_e.hermegauss(60)
    cv = 0.7
    quad = np.sum(w * (np.sqrt(cv) * x) ** 3 * erf(np.sqrt(cv) * x / np.sqrt(2))) / w.sum()
    assert abs(float(expected.subs(c, cv)) - quad) < 1e-10
    # and an odd number (g, u, u, u, u): exactly 0
    assert expectation(u1**4 * sp.erf(u1 / sp.sqrt(2)), [u1], sp.Matrix([[c]])).value == 0


def test_gaussian_weights_are_absorbed_exactly():
    # E[exp(-u^2)] = (1 + 2 c)^(-1/2); two weights: det(I + 2 C)^(-1/2) with C = [[a, c],
    # [c, b]], i.e. ((1 + 2a)(1 + 2b) - 4 c^2)^(-1/2); a weight times u2^2: the conditional
    # variance rule K' = K - s K_v K_v^T / (1 + s K_vv) gives
    # (1 + 2a)^(-1/2) (b - 2 c^2 / (1 + 2 a)).
    _exact(sp.exp(-u1**2), [u1], sp.Matrix([[c]]), 1 / sp.sqrt(1 + 2 * c))
    C = sp.Matrix([[a, c], [c, b]])
    _exact(sp.exp(-u1**2) * sp.exp(-u2**2), [u1, u2], C,
           1 / sp.sqrt((1 + 2 * a) * (1 + 2 * b) - 4 * c**2))
    _exact(sp.exp(-u1**2) * u2**2, [u1, u2], C,
           (b - 2 * c**2 / (1 + 2 * a)) / sp.sqrt(1 + 2 * a))
    # numbers: the 2-D Gaussian integral by Gauss-Hermite quadrature at one covariance
    Cn = np.array([[0.9, 0.3], [0.3, 0.5]])
    L = np.linalg.cholesky(Cn)
    x, w = np.polynomial.hermite_e.hermegauss(60)
    X, Y = np.meshgrid(x, x, indexing="ij")
    W = np.outer(w, w) / w.sum() ** 2
    v1, v2 = L[0, 0] * X, L[1, 0] * X + L[1, 1] * Y
    quad = np.sum(W * np.exp(-v1**2 - v2**2))
    assert abs(quad - np.linalg.det(np.eye(2) + 2 * Cn) ** -0.5) < 1e-10


def test_products_without_a_closed_form_fall_back_to_numbers():
    # E[g(u)^4]: four g heads and no linear factor for Stein's lemma, no table row: the
    # routine has no closed form and the engine integrates numerically. With a Gaussian
    # weight in front, the weight is absorbed first and the rest still has none. Reference:
    # Gauss-Hermite quadrature, 60 nodes (smooth integrands; error < 1e-12), tolerance 1e-8.
    x, w = np.polynomial.hermite_e.hermegauss(60)
    cv = 0.8
    v = np.sqrt(cv) * x
    g4 = erf(v / np.sqrt(2)) ** 4
    for integrand, weight in ((sp.erf(u1 / sp.sqrt(2)) ** 4, 1.0),
                              (sp.exp(-u1**2) * sp.erf(u1 / sp.sqrt(2)) ** 4, np.exp(-v**2))):
        e = expectation(integrand, [u1], sp.Matrix([[sp.Rational(4, 5)]]))
        assert e.backend == "numeric"
        assert abs(float(e.value.evalf(20)) - np.sum(w * weight * g4) / w.sum()) < 1e-8


def test_a_dirac_delta_conditions_and_refuses_what_is_not_a_function():
    # E[delta(u1) F] = p_{u1}(0) E[F | u1 = 0]; with C = [[c, 1/3], [1/3, 1]],
    # E[u2^2 | u1 = 0] = 1 - (1/3)^2 / c, so E[delta(u1) u2^2] = (1 - 1/(9 c)) / sqrt(2 pi c).
    # u1 delta(u1) = 0 (x vanishes at 0). delta(u1) step(u1) and delta(u1)^2 are not
    # functions: no closed form may be claimed. delta(u1) g(u2)^4 conditions to g^4, which
    # has none either.
    C = sp.Matrix([[c, sp.Rational(1, 3)], [sp.Rational(1, 3), 1]])
    _exact(sp.DiracDelta(u1) * u2**2, [u1, u2], C,
           (1 - 1 / (9 * c)) / sp.sqrt(2 * sp.pi * c))
    assert expectation(sp.DiracDelta(u1) * u1, [u1, u2], C).value == 0
    for bad in (sp.DiracDelta(u1) * sp.Heaviside(u1), sp.DiracDelta(u1) ** 2,
                sp.DiracDelta(u1) * sp.erf(u2 / sp.sqrt(2)) ** 4):
        assert expectation(bad, [u1, u2], C).backend == "numeric", bad
