"""Closed-form optimum of the deep linear square-loss UFM, checked independently.

References: the reduction to one scalar problem per singular direction (Garrod & Keating,
arXiv 2404.06106); every check below recomputes the answer by another route (a direct
minimisation of g, SymPy's solve, a hand derivation written in the test).
"""

import mpmath
import pytest
import sympy as sp

from escalier.derive.collapse import (
    block_names,
    singular_value_polynomial,
    ufm_optimum,
    weight_decay_threshold,
)

SETTINGS = [(3, 2, 1, "0.005"), (4, 3, 2, "0.01"), (2, 1, 3, "0.02"), (5, 4, 1, "0.001"),
            (3, 2, 2, "0.1")]


def _g_mp(s, L, n, N, lam):
    """The per-direction loss, written out again here."""
    return (s ** (L + 1) - mpmath.sqrt(n)) ** 2 / (2 * N) + lam * (L + 1) * s**2 / 2


def _brute_min(L, n, N, lam):
    """argmin_{s >= 0} g(s) by a grid then mpmath.findroot on g' (independent of p)."""
    mpmath.mp.dps = 40
    grid = [mpmath.mpf(i) / 500 for i in range(0, 1501)]
    best = min(grid, key=lambda s: _g_mp(s, L, n, N, lam))
    if best == 0:
        return mpmath.mpf(0)
    return mpmath.findroot(lambda s: mpmath.diff(lambda t: _g_mp(t, L, n, N, lam), s), best)


@pytest.mark.parametrize("K,L,n,lam", SETTINGS)
def test_singular_value_is_the_global_minimiser_of_g(K, L, n, lam):
    o = ufm_optimum(K, L, n, lam)
    s_brute = _brute_min(L, n, K * n, mpmath.mpf(lam))
    assert abs(float(o.s) - float(s_brute)) < 1e-12
    # optimal loss = K g(s): independent evaluation
    assert abs(float(o.loss) - K * float(_g_mp(s_brute, L, n, K * n, mpmath.mpf(lam)))) < 1e-14


@pytest.mark.parametrize("K,L,n,lam", SETTINGS)
def test_roots_make_the_derivative_of_g_vanish(K, L, n, lam):
    o = ufm_optimum(K, L, n, lam)
    s = sp.Symbol("s", positive=True)
    g = o.g(s)
    for r in o.roots:
        assert abs(sp.diff(g, s).subs(s, r).evalf(50)) < 1e-40
    # and the polynomial is g' / ((L+1) s / N)
    p = singular_value_polynomial(L, n, K * n, o.weight_decay, s)
    assert sp.simplify(sp.diff(g, s) - (L + 1) * s * p / (K * n)) == 0


def test_issue_setting_is_exact_quartic_root():
    # K=3, L=2, n=1, lambda=1/200: s^4 - s + 3/200 = 0 (quartic, exact radicals exist);
    # the minimiser is the larger positive root.
    o = ufm_optimum(3, 2, 1, 0.005)
    s = sp.Symbol("s")
    roots = sorted(float(r) for r in sp.Poly(s**4 - s + sp.Rational(3, 200)).nroots() if r.is_real)
    assert len(o.roots) == 2 and abs(float(o.s) - roots[-1]) < 1e-14
    assert o.weight_decay == sp.Rational(1, 200) and not o.tie


def test_one_layer_closed_form():
    # L = 1: p(s) = s^2 - sqrt(n) + N lambda, so s^2 = sqrt(n) - N lambda (hand derivation).
    K, n, lam = 3, 4, sp.Rational(1, 50)
    o = ufm_optimum(K, 1, n, lam)
    assert sp.simplify(o.s**2 - (2 - K * n * lam)) == 0
    assert weight_decay_threshold(K, 1, n) == sp.Rational(2, 12)


@pytest.mark.parametrize("K,L,n", [(3, 2, 1), (4, 3, 2), (2, 4, 3)])
def test_threshold_solves_the_tie_system(K, L, n):
    # At lambda*: a positive s with p(s) = 0 and g(s) = g(0), found here by SymPy's nsolve
    # from the two equations (not from the closed form).
    N = K * n
    s, lam = sp.symbols("s lam", positive=True)
    g = (s ** (L + 1) - sp.sqrt(n)) ** 2 / (2 * N) + lam * (L + 1) * s**2 / 2
    eqs = [singular_value_polynomial(L, n, N, lam, s), g - g.subs(s, 0)]
    sol = sp.nsolve(eqs, [s, lam], [1, 0.05], prec=40)
    assert abs(sol[1] - weight_decay_threshold(K, L, n).evalf(40)) < 1e-30
    below = ufm_optimum(K, L, n, weight_decay_threshold(K, L, n) * (1 - sp.Rational(1, 10**6)))
    above = ufm_optimum(K, L, n, weight_decay_threshold(K, L, n) * (1 + sp.Rational(1, 10**6)))
    assert below.s > 0 and above.s == 0 and above.loss == sp.Rational(1, 2)
    # first-order transition for L >= 2: the minimiser jumps from s_c > 0 to 0
    assert abs(float(below.s) ** (L + 1) - (L - 1) * n**0.5 / L) < 1e-4


def test_hessian_blocks_rank_and_outlier():
    K, L, n = 3, 2, 2
    o = ufm_optimum(K, L, n, 0.01, width=5)
    assert [b.name for b in o.hessian] == block_names(L) == ["W_2", "W_1", "H"]
    assert [b.rank for b in o.hessian] == [K * K, K * K, K * K * n]
    assert [b.shape for b in o.hessian] == [(3, 5), (5, 5), (5, 6)]
    # lambda + s^(2L)/N = sqrt(n) s^(L-1)/N on p(s) = 0
    for b in o.hessian:
        assert abs((b.outlier - sp.sqrt(n) * o.s ** (L - 1) / (K * n)).evalf(50)) < 1e-45
        assert b.bulk == sp.Rational(1, 100)
    collapsed = ufm_optimum(K, L, n, 1)
    assert collapsed.s == 0 and all(b.rank == 0 and b.outlier is None for b in collapsed.hessian)


def test_loss_of_rank_interpolates_between_zero_and_optimum():
    o = ufm_optimum(4, 3, 2, 0.01)
    assert o.loss_of_rank(4) == o.loss and o.loss_of_rank(0) == sp.Rational(1, 2)
    assert float(o.loss_of_rank(3)) == pytest.approx(float(o.loss) * 3 / 4 + 1 / 8, rel=1e-14)


@pytest.mark.parametrize("kwargs", [dict(K=1, L=2, n=1, weight_decay=0.1),
                                    dict(K=3, L=0, n=1, weight_decay=0.1),
                                    dict(K=3, L=2, n=0, weight_decay=0.1),
                                    dict(K=3, L=2, n=1, weight_decay=-0.1),
                                    dict(K=3, L=2, n=1, weight_decay=0.0),
                                    dict(K=3, L=2, n=1, weight_decay=float("nan")),
                                    dict(K=3, L=2, n=1, weight_decay=0.1, width=2)])
def test_bad_input_is_a_value_error(kwargs):
    with pytest.raises(ValueError):
        ufm_optimum(**kwargs)
