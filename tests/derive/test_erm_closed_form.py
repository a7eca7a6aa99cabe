"""The ridge closed form (escalier.derive.erm) against Marchenko-Pastur and the least-squares
identity."""

import math

import sympy as sp
from scipy import integrate

from escalier.derive.erm import ridge_isotropic


def test_least_squares_limit_is_delta_times_one_minus_one_over_alpha():
    r = ridge_isotropic()
    assert sp.simplify(r.least_squares_train_error() - r.Delta * (1 - 1 / r.alpha)) == 0


def _mp(f, alpha):
    """int f dMP(1/alpha), with the atom (1 - alpha)_+ at 0 (scipy quad on the density)."""
    g = 1 / alpha
    lo, hi = (1 - math.sqrt(g)) ** 2, (1 + math.sqrt(g)) ** 2
    dens = lambda x: math.sqrt(max((hi - x) * (x - lo), 0.0)) / (2 * math.pi * g * x)
    return (integrate.quad(lambda x: f(x) * dens(x), lo, hi, epsabs=1e-14, epsrel=1e-13)[0]
            + (max(0.0, 1 - alpha) * f(0.0) if alpha < 1 else 0.0))


def test_closed_form_test_error_matches_marchenko_pastur():
    """Test error = Delta + mu^2 int dMP/(x+mu)^2 + (Delta/alpha) int x dMP/(x+mu)^2, mu = lam/alpha
    (derived by hand from w = (S + mu)^{-1}(S theta + X^T xi sqrt(Delta) / n))."""
    r = ridge_isotropic()
    for alpha, lam, delta in [(0.5, 0.1, 0.3), (2, 0.01, 1), (3, 1, 0.2)]:
        mu = lam / alpha
        ref = (delta + mu**2 * _mp(lambda x, mu=mu: 1 / (x + mu) ** 2, alpha)
               + delta / alpha * _mp(lambda x, mu=mu: x / (x + mu) ** 2, alpha))
        assert abs(float(r.evaluate(alpha, lam, delta)["test_error"]) - ref) < 1e-10
