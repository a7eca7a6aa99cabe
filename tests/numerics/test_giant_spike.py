"""The spiked features after one step (numerics/giant/_spike.py, docs/giant.md §2) against
the d-dimensional simulation (the full engine's giant step) at p = d = 300, n = 2d.

Independent references: the law-of-large-numbers alignment alpha c1^2 / (alpha c1^2 + E y^2)
(c1, E y^2 by hand below), and the rectangular BBP transition of Benaych-Georges and
Nadakuditi (arXiv 1103.2221): no outlier for theta < (p/d)^(1/4), an outlier at
sqrt((1 + theta^2)(c + theta^2)) / theta above, checked here against a plain NumPy
spiked Gaussian matrix too. Tolerances (stated per test) cover the seed-to-seed spread
measured at this size (sd of cos^2 ~ 0.03, of the outlier ~ 5 %) and the O(d^-2/3)
fluctuations of the bulk edge.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from escalier.numerics.giant import (
    feature_covariance_theory,
    feature_covariance_top,
    outlier_position,
    spike_simulation,
    spike_theory,
    target_moments,
)

TARGET = "z1 + He2(z1)/2"  # c1 = 1, E[y^2] = 1 + 2 (1/2)^2 = 3/2
P = D = 300
ALPHA = 2.0


def test_moments_by_hand():
    c1, ey2, mu1 = target_moments(TARGET, "relu")
    assert c1.tolist() == [1.0] and ey2 == pytest.approx(1.5) and mu1 == pytest.approx(0.5)
    # E[y^2] by quadrature (non-polynomial): y = relu(z), E[relu(z)^2] = 1/2, c1 = 1/2
    c1, ey2, _ = target_moments("relu(z1)", "relu")
    assert c1[0] == pytest.approx(0.5, abs=1e-9) and ey2 == pytest.approx(0.5, abs=1e-6)


def test_bbp_formula_against_a_plain_spiked_gaussian_matrix():
    """X + theta u v^T (p x d, entries N(0, 1/d)): outlier and no outlier, in NumPy."""
    rng = np.random.default_rng(0)
    p, d = 200, 400
    c = p / d
    for theta, tol in ((0.5, None), (1.5, 0.05)):
        X = rng.normal(size=(p, d)) / math.sqrt(d)
        u = rng.normal(size=p)
        v = rng.normal(size=d)
        s = np.linalg.svd(X + theta * np.outer(u / np.linalg.norm(u), v / np.linalg.norm(v)),
                          compute_uv=False)
        if tol is None:
            assert np.isnan(outlier_position(theta, c))
            assert s[0] < 1 + math.sqrt(c) + 0.05
        else:
            assert s[0] == pytest.approx(float(outlier_position(theta, c)), abs=tol)


@pytest.fixture(scope="module")
def threshold():
    return spike_theory(TARGET, "relu", p=P, d=D, alpha=ALPHA, eta=1.0)["threshold_lr"]


def test_threshold_by_hand(threshold):
    # theta = eta mu1 sqrt(c1^2 + E y^2 / alpha) = eta (1/2) sqrt(1 + 3/4); threshold c^(1/4) = 1
    assert threshold == pytest.approx(1 / (0.5 * math.sqrt(1.75)))


def test_alignment_and_no_outlier_below_threshold(threshold):
    sim = spike_simulation(TARGET, "relu", p=P, d=D, alpha=ALPHA, eta=0.5 * threshold,
                           seeds=4, seed=3)
    # alignment: alpha c1^2 / (alpha c1^2 + E y^2) = 2 / 3.5; 4 standard errors plus 0.02
    # (finite-n bias of a ratio at n = 600)
    al = sim["alignment"]
    assert abs(al.mean() - 2 / 3.5) < 4 * al.std(ddof=1) / 2 + 0.02
    # no outlier: the top singular value stays at the bulk edge 1 + sqrt(p/d) = 2 (within
    # 0.05, a few Tracy-Widom widths at d = 300) and its vector does not see v (alignment
    # 0 in the limit; O(d^-1/3) near the edge: mean below 0.05, every seed below 0.15)
    assert np.all(sim["top"] < 2.05)
    assert sim["vector_alignment"].mean() < 0.05 and np.all(sim["vector_alignment"] < 0.15)


def test_outlier_at_the_predicted_position_above_threshold(threshold):
    sim = spike_simulation(TARGET, "relu", p=P, d=D, alpha=ALPHA, eta=2.0 * threshold,
                           seeds=4, seed=5)
    # the seed's own spike strength theta = eta mu1 |v|: outlier within 4 % of the BBP
    # position, and the population prediction (theta = 2) within 10 % on average
    pred = outlier_position(sim["theta"], P / D)
    assert np.all(np.abs(sim["top"] / pred - 1) < 0.04)
    assert abs(sim["top"].mean() / 2.5 - 1) < 0.10
    # top right singular vector vs v: 1 - (c + theta^2) / (theta^2 (theta^2 + 1)) = 0.75
    assert abs(sim["vector_alignment"].mean() - 0.75) < 0.08
    assert np.all(sim["second"] < 2.05)


def test_feature_covariance_theory_by_hand():
    """relu: mu0 = mu2 = 1/sqrt(2 pi), mu1 = 1/2, E[relu^2] = 1/2, so mu_*^2 = 1/4 - 1/(2 pi);
    at c = 1 and s_out = 2.5: lambda_top = s^2 / 4 + mu_*^2; below: (1 + 1)^2 / 4 + mu_*^2.
    The rank-one term beta = mu2^2 c / 2 = 1/(4 pi) along 1/sqrt(p) stays inside the bulk:
    beta G(edge) = beta / (2 mu1^2) = 0.16 < 1 (the MP(1) Cauchy transform is 1/2 at its
    edge 4)."""
    star = 0.25 - 1 / (2 * math.pi)
    ft = feature_covariance_theory("relu", c=1.0, outlier=2.5)
    assert ft["mu_star2"] == pytest.approx(star, abs=1e-9)
    assert ft["feature_cov_top_predicted"] == pytest.approx(2.5**2 / 4 + star, abs=1e-9)
    assert ft["feature_cov_ones_outlier"] is None
    below = feature_covariance_theory("relu", c=1.0, outlier=None)
    assert below["feature_cov_top_predicted"] == pytest.approx(1 + star, abs=1e-9)
    # the ones-direction spike pops out for a student with a large mu2: sigma = x + 2 x^2 has
    # mu0 = 2, mu1 = 1, mu2 = 4, E sigma^2 = 13, mu_*^2 = 8, beta = mu2^2 c / 2 = 8; the bulk
    # is 8 + MP(1) on [8, 12], MP(1)'s Cauchy transform G(x) = (x - sqrt(x^2 - 4x)) / (2x);
    # beta G(lambda - 8) = 1 gives sqrt(x^2 - 4x) = 3x/4, x = 64/7, lambda = 8 + 64/7
    q = feature_covariance_theory("x + 2*x^2", c=1.0, outlier=None)
    assert q["feature_cov_ones_outlier"] == pytest.approx(8 + 64 / 7, rel=1e-6)
    assert q["feature_cov_top_predicted"] == pytest.approx(8 + 64 / 7, rel=1e-6)


@pytest.mark.parametrize("factor", [0.5, 2.0])
def test_feature_covariance_top_eigenvalue_against_simulation(threshold, factor):
    """The measured top eigenvalue of the centred covariance of relu(W1 x) (n_cov = 50 p fresh
    samples, p = d = 200) against mu1^2 s^2 + mu_*^2: within 4 % with the seed's own top
    singular value s, within 8 % with the BBP prediction at the seed's spike strength (above
    threshold) or the bulk edge (below; Tracy-Widom and sample-covariance effects ~ 3 %)."""
    p = d = 200
    thr = spike_theory(TARGET, "relu", p=p, d=d, alpha=ALPHA, eta=1.0)["threshold_lr"]
    sim = spike_simulation(TARGET, "relu", p=p, d=d, alpha=ALPHA, eta=factor * thr,
                           seeds=2, seed=11, weights=True)
    star = 0.25 - 1 / (2 * math.pi)
    for s in range(2):
        lam = feature_covariance_top(sim["W"][s], "relu", n_samples=50 * p, seed=s)
        assert lam == pytest.approx(sim["top"][s] ** 2 / 4 + star, rel=0.04)
        out = outlier_position(sim["theta"][s], 1.0)
        ft = feature_covariance_theory("relu", c=1.0, outlier=None if np.isnan(out) else
                                       float(out), n_samples=50 * p, p=p)
        assert lam == pytest.approx(ft["feature_cov_top_predicted"], rel=0.08)
