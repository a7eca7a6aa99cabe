"""Cross-entropy deep linear UFM (numerical): the DNC ansatz's critical points are critical
points of the full model, and (slow) a low-rank solution beats DNC at K = 4, L = 3 as
Garrod & Keating (arXiv 2410.23169) prove for K >= 4, L >= 3."""

import jax
import numpy as np
import pytest

from escalier.numerics.collapse import ce_ufm_loss, ce_ufm_report, dnc_critical_points, dnc_params


def _F(s, K, L, n, lam):
    """DNC loss written out again: margin a = s^(L+1)/sqrt n, CE = log(1 + (K-1) e^-a)."""
    a = s ** (L + 1) / np.sqrt(n)
    return np.log(1 + (K - 1) * np.exp(-a)) + lam / 2 * (L + 1) * (K - 1) * s**2


@pytest.mark.parametrize("K,L,n,lam,count", [(4, 3, 1, 1e-3, 2), (3, 2, 2, 1e-3, 2),
                                             (3, 1, 1, 1e-2, 1), (4, 3, 1, 0.5, 0)])
def test_dnc_scales_are_critical_points_of_F(K, L, n, lam, count):
    roots = dnc_critical_points(K, L, n, lam)
    assert len(roots) == count
    for s in roots:
        h = 1e-6 * s
        assert abs(_F(s + h, K, L, n, lam) - _F(s - h, K, L, n, lam)) / (2 * h) < 1e-8


@pytest.mark.parametrize("K,L,width,n", [(3, 2, 4, 1), (4, 3, 4, 2)])
def test_dnc_points_are_critical_in_the_full_model(K, L, width, n):
    lam = 1e-3
    labels = np.repeat(np.arange(K), n)
    value_and_grad = jax.jit(jax.value_and_grad(lambda q: ce_ufm_loss(q, labels, lam)))
    for s in dnc_critical_points(K, L, n, lam):
        p = dnc_params(K, L, width, n, s, key=jax.random.PRNGKey(3))
        value, grad = value_and_grad(p)
        assert float(value) == pytest.approx(_F(s, K, L, n, lam), rel=1e-12)
        assert max(float(np.abs(g).max()) for g in grad) < 1e-12


@pytest.mark.slow
def test_low_rank_beats_dnc_at_k4_l3():
    r = ce_ufm_report(4, 3, 4, 1, 1e-3, restarts=6, seed=0)
    small, large = r.dnc
    assert small["negative"] > 0  # the small scale is a saddle
    assert large["hessian_min"] > -1e-10 * large["hessian_max"]  # PSD (zero modes only)
    assert r.best_low_rank[1] < large["loss"] * (1 - 1e-3)
    assert r.dnc_is_global is False


@pytest.mark.slow
def test_dnc_is_global_for_one_layer():
    # L = 1: the product regulariser is the nuclear norm (convex); DNC is the global minimum
    r = ce_ufm_report(3, 1, 3, 1, 1e-2, restarts=4, seed=0)
    assert r.dnc_is_global is True
