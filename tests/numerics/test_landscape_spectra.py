"""Spacing ratios and the GOE / Poisson reference ensembles (escalier.numerics.landscape)."""

import math

import jax
import numpy as np
import pytest
import scipy.stats

from escalier.numerics.landscape import (
    R_GOE,
    R_POISSON,
    goe_levels,
    goe_matrix,
    poisson_levels,
    spacing_ratio,
    spacing_ratios,
)


def test_spacing_ratios_by_hand_and_invariances():
    # levels 0, 1, 3, 4, 8: spacings 1, 2, 1, 4 -> ratios 1/2, 1/2, 1/4
    np.testing.assert_allclose(spacing_ratios([3.0, 0.0, 8.0, 1.0, 4.0]), [0.5, 0.5, 0.25])
    rng = np.random.default_rng(0)
    e = rng.normal(size=50)
    # no unfolding needed: invariant under any affine map of the levels, and under order
    np.testing.assert_allclose(spacing_ratios(-3.0 * e + 7.0), spacing_ratios(e)[::-1], rtol=1e-12)
    with pytest.raises(ValueError, match="0/0"):
        spacing_ratios([0.0, 1.0, 1.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="bulk"):
        spacing_ratios(e, bulk=0.0)


def test_poisson_levels_give_2ln2_minus_1_within_3_standard_errors():
    # For independent levels the spacings are i.i.d. exponential and <r> = 2 ln 2 - 1
    # (Atas et al., PRL 2013, eq. 10, with r~ = min(r, 1/r)).
    assert R_POISSON == pytest.approx(2 * math.log(2) - 1, abs=1e-15)
    r = spacing_ratio(poisson_levels(jax.random.PRNGKey(3), 1000, 20))
    assert r.n_levels == 20_000
    assert abs(r.mean - (2 * math.log(2) - 1)) < 3 * r.stderr
    assert r.stderr < 0.003


def test_goe_has_the_semicircle_density_ks():
    levels = goe_levels(jax.random.PRNGKey(4), 300, 10).ravel()
    ks = scipy.stats.kstest(levels, scipy.stats.semicircular(scale=2.0).cdf)
    assert ks.pvalue > 1e-3
    # the same test rejects the radius 2 sqrt 2 of entries scaled by 1/sqrt(N), not 1/sqrt(2N)
    wrong = scipy.stats.semicircular(scale=2.0 * math.sqrt(2.0))
    assert scipy.stats.kstest(levels, wrong.cdf).pvalue < 1e-6


def test_goe_matrix_is_symmetric_with_variances_1_over_n_and_2_over_n():
    n = 60
    m = np.asarray(goe_matrix(jax.random.PRNGKey(5), n, 40))
    np.testing.assert_array_equal(m, np.swapaxes(m, 1, 2))
    off = m[:, np.triu_indices(n, 1)[0], np.triu_indices(n, 1)[1]].ravel()
    diag = np.diagonal(m, axis1=1, axis2=2).ravel()
    # sample variances, relative error ~ sqrt(2 / count): 0.6% and 3.5%
    assert off.var() * n == pytest.approx(1.0, rel=0.03)
    assert diag.var() * n == pytest.approx(2.0, rel=0.15)


def test_goe_spacing_ratio_is_the_large_n_value_of_atas_et_al():
    # Atas, Bogomolny, Giraud & Roux, PRL 110, 084101 (2013), Table 1: <r~>_GOE = 0.5307(1)
    # for large N (the 3 x 3 surmise gives 0.5359; Poisson 0.3863).
    assert R_GOE == 0.5307
    r = spacing_ratio(goe_levels(jax.random.PRNGKey(6), 200, 48), bulk=0.5)
    assert abs(r.mean - 0.5307) < 3 * r.stderr + 1e-4
    assert r.stderr < 0.006
    assert abs(r.mean - R_POISSON) > 20 * r.stderr
