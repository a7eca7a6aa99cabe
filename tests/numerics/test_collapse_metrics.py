"""NC1-NC4 on constructed cases with known values (Papyan, Han & Donoho, arXiv 2008.08186)."""

import math

import numpy as np
import pytest

from escalier.numerics.collapse import collapse_metrics, nc1, nc2, nc3, nc4


def _etf(K, d, rng):
    """K simplex-ETF vectors in R^d (unit norm, pairwise cosine -1/(K-1)), randomly rotated."""
    m = np.sqrt(K / (K - 1)) * (np.eye(K) - np.ones((K, K)) / K)  # rows: centred basis
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return m @ q[:K]


def _collapsed(K, n, d, rng):
    means = 3.0 * _etf(K, d, rng)
    labels = np.repeat(np.arange(K), n)
    return means[labels], labels, means


@pytest.mark.parametrize("K,d", [(3, 3), (4, 7), (10, 12)])
def test_exact_etf_gives_zero(K, d):
    rng = np.random.default_rng(K)
    h, labels, means = _collapsed(K, 4, d, rng)
    out = collapse_metrics(h, labels, K, classifier=2.0 * means)
    for key in ("nc1", "nc2_means", "nc2_classifier", "nc3", "nc4"):
        assert out[key] == pytest.approx(0.0, abs=1e-12), key


@pytest.mark.parametrize("K,delta", [(3, 0.1), (5, 0.3)])
def test_nc1_of_a_perturbed_etf(K, delta):
    # Class means: the centred basis sqrt(K/(K-1)) (e_c - 1/K) in R^K; samples mu_c +- delta v
    # with v = (e_1 - e_2)/sqrt 2. Then Sigma_W = delta^2 v v^T, Sigma_B = P/(K-1) with P the
    # centring projector, Sigma_B^+ = (K-1) P, v^T P v = 1, so NC1 = delta^2 (K-1)/K.
    means = np.sqrt(K / (K - 1)) * (np.eye(K) - np.ones((K, K)) / K)
    v = (np.eye(K)[0] - np.eye(K)[1]) / np.sqrt(2)
    h = np.concatenate([means + delta * v, means - delta * v])
    labels = np.concatenate([np.arange(K), np.arange(K)])
    assert nc1(h, labels, K) == pytest.approx(delta**2 * (K - 1) / K, rel=1e-12)


def test_nc1_against_a_loop_implementation():
    rng = np.random.default_rng(1)
    K, n, d = 4, 6, 5
    labels = np.repeat(np.arange(K), n)
    h = rng.standard_normal((K * n, d)) + 2 * rng.standard_normal((K, d))[labels]
    mu_g = h.mean(0)
    sw, sb = np.zeros((d, d)), np.zeros((d, d))
    for i in range(K * n):
        mu = h[labels == labels[i]].mean(0)
        sw += np.outer(h[i] - mu, h[i] - mu) / (K * n)
    for c in range(K):
        mu = h[labels == c].mean(0)
        sb += np.outer(mu - mu_g, mu - mu_g) / K
    assert nc1(h, labels, K) == pytest.approx(np.trace(sw @ np.linalg.pinv(sb)) / K, rel=1e-10)


@pytest.mark.parametrize("K", [2, 3, 6])
def test_orthogonal_frame_distance_from_the_etf(K):
    # W = I_K: G/||G|| = I/sqrt K and the ETF is P/sqrt(K-1) with P the centring projector;
    # both have unit norm and <I, P> = K - 1, so the distance is sqrt(2 - 2 sqrt((K-1)/K)).
    expected = math.sqrt(2 - 2 * math.sqrt((K - 1) / K))
    assert nc2(np.eye(K)) == pytest.approx(expected, rel=1e-12)
    # the centred orthogonal frame is an ETF: NC3 of W = I against M = P is the same distance
    centred = np.eye(K) - np.ones((K, K)) / K
    assert nc2(centred) == pytest.approx(0.0, abs=1e-12)
    assert nc3(np.eye(K), centred) == pytest.approx(expected, rel=1e-12)


def test_nc2_nc3_invariant_under_rotation_and_scale():
    rng = np.random.default_rng(2)
    w = rng.standard_normal((4, 6))
    m = rng.standard_normal((4, 6))
    q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    assert nc2(3.0 * w @ q) == pytest.approx(nc2(w), rel=1e-12)
    assert nc3(2.0 * w @ q, 5.0 * m @ q) == pytest.approx(nc3(w, m), rel=1e-12)
    assert nc2(w) > 0.1 and nc3(w, m) > 0.1


def test_nc4_counts_disagreements_with_the_nearest_centre():
    rng = np.random.default_rng(3)
    K, n = 3, 5
    h, labels, means = _collapsed(K, n, 4, rng)
    predictions = labels.copy()
    predictions[[0, 7]] = (predictions[[0, 7]] + 1) % K  # two samples predicted wrongly
    assert nc4(h, labels, K, predictions) == pytest.approx(2 / (K * n))
    # a classifier with a bias that favours class 0 by more than the margin: every sample of
    # the other classes is predicted 0, the nearest centre is still its own class
    bias = np.array([100.0, 0.0, 0.0])
    out = collapse_metrics(h, labels, K, classifier=means, bias=bias)
    assert out["nc4"] == pytest.approx((K - 1) / K)


def test_bad_labels_are_value_errors():
    h = np.zeros((4, 2))
    with pytest.raises(ValueError, match="every class"):
        nc1(h, np.array([0, 0, 1, 1]), 3)
    with pytest.raises(ValueError, match="shape"):
        nc1(h, np.array([0, 1]), 2)
