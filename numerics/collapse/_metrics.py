"""Neural-collapse metrics NC1-NC4 (Papyan, Han & Donoho, PNAS 117, 24652 (2020), arXiv
2008.08186), for the features of any layer.

Features are rows: `features` has shape (N, d), `labels` integers in 0..K-1.
Class means mu_c, global mean mu_G (mean over all samples), centred means M (K x d, rows
mu_c - mu_G), Sigma_W = (1/N) sum_i (h_i - mu_{y_i})(h_i - mu_{y_i})^T,
Sigma_B = (1/K) sum_c (mu_c - mu_G)(mu_c - mu_G)^T.

    NC1 = tr(Sigma_W Sigma_B^+) / K
    NC2 = || G / ||G||_F - (I_K - 11^T/K) / sqrt(K-1) ||_F, G = M M^T (centred means) or
          G = W W^T (classifier rows, not centred), the distance of the normalised Gram matrix
          from the simplex ETF's (Zhu et al., arXiv 2105.02375, eq. for NC2)
    NC3 = || W / ||W||_F - M / ||M||_F ||_F (self-duality of classifier and centred means)
    NC4 = fraction of samples whose prediction differs from the nearest-class-centre rule
          argmin_c ||h - mu_c||.

Plain NumPy in float64 (they post-process features; JAX arrays are accepted).
"""

from __future__ import annotations

import numpy as np

__all__ = ["class_means", "collapse_metrics", "nc1", "nc2", "nc3", "nc4", "nearest_class_centre"]


def _check(features, labels, num_classes):
    features = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
    if features.ndim != 2:
        raise ValueError(f"features must have shape (N, d), got {features.shape}")
    if labels.shape != (features.shape[0],):
        raise ValueError(f"labels must have shape ({features.shape[0]},), got {labels.shape}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    counts = np.bincount(np.asarray(labels), minlength=num_classes)
    if counts.size > num_classes or (counts == 0).any():
        raise ValueError(f"labels must cover every class 0..{num_classes - 1} and no other, "
                         f"got counts {counts.tolist()}")
    return features, labels


def class_means(features, labels, num_classes: int):
    """(mu, mu_G): class means (K, d) and the global mean over samples (d,)."""
    features, labels = _check(features, labels, num_classes)
    onehot = np.eye(num_classes, dtype=features.dtype)[labels]  # (N, K)
    mu = (onehot.T @ features) / onehot.sum(axis=0)[:, None]
    return mu, features.mean(axis=0)


def nc1(features, labels, num_classes: int) -> float:
    """tr(Sigma_W Sigma_B^+) / K (0 at within-class collapse)."""
    features, labels = _check(features, labels, num_classes)
    mu, mu_g = class_means(features, labels, num_classes)
    within = features - mu[labels]
    sigma_w = within.T @ within / features.shape[0]
    centred = mu - mu_g
    sigma_b = centred.T @ centred / num_classes
    return float(np.trace(sigma_w @ np.linalg.pinv(sigma_b, hermitian=True)) / num_classes)


def _etf_distance(gram):
    K = gram.shape[0]
    etf = (np.eye(K) - np.ones((K, K)) / K) / np.sqrt(K - 1.0)
    return float(np.linalg.norm(gram / np.linalg.norm(gram) - etf))


def nc2(vectors) -> float:
    """Distance of the Gram matrix of K rows (centred means, or classifier rows) from the ETF's.

    ||G/||G||_F - (I - 11^T/K)/sqrt(K-1)||_F with G = V V^T; 0 iff the rows form a simplex
    equiangular tight frame (any scale, any rotation).
    """
    v = np.asarray(vectors)
    if v.ndim != 2 or v.shape[0] < 2:
        raise ValueError(f"vectors must have shape (K >= 2, d), got {v.shape}")
    return _etf_distance(v @ v.T)


def nc3(classifier, centred_means) -> float:
    """||W/||W||_F - M/||M||_F||_F for the classifier W (K, d) and centred means M (K, d)."""
    w, m = np.asarray(classifier), np.asarray(centred_means)
    if w.shape != m.shape:
        raise ValueError(f"classifier {w.shape} and centred means {m.shape} must have one shape")
    return float(np.linalg.norm(w / np.linalg.norm(w) - m / np.linalg.norm(m)))


def nearest_class_centre(features, means):
    """argmin_c ||h_i - mu_c|| for every row h_i."""
    f, m = np.asarray(features), np.asarray(means)
    dist = np.sum(f**2, axis=1)[:, None] - 2 * f @ m.T + np.sum(m**2, axis=1)[None, :]
    return np.argmin(dist, axis=1)


def nc4(features, labels, num_classes: int, predictions) -> float:
    """Fraction of samples where `predictions` differ from the nearest-class-centre rule."""
    features, labels = _check(features, labels, num_classes)
    mu, _ = class_means(features, labels, num_classes)
    predictions = np.asarray(predictions)
    if predictions.shape != labels.shape:
        raise ValueError(f"predictions must have shape {labels.shape}, got {predictions.shape}")
    return float(np.mean(nearest_class_centre(features, mu) != predictions))


def collapse_metrics(features, labels, num_classes: int, classifier=None, bias=None,
                     predictions=None) -> dict:
    """NC1-NC4 of one layer's features.

    Args:
        features: (N, d). labels: (N,) in 0..K-1. num_classes: K.
        classifier: (K, d) last-layer weights acting on these features (only for the layer
            that feeds the classifier); bias: (K,) or None.
        predictions: (N,) the network's predicted classes; default argmax(h W^T + b) when a
            classifier is given.

    Returns:
        {"nc1", "nc2_means", "nc2_classifier", "nc3", "nc4"}; entries that need a classifier
        (nc2_classifier, nc3) or predictions (nc4) are None when those are absent.
    """
    features, labels = _check(features, labels, num_classes)
    mu, mu_g = class_means(features, labels, num_classes)
    out = {"nc1": nc1(features, labels, num_classes), "nc2_means": nc2(mu - mu_g),
           "nc2_classifier": None, "nc3": None, "nc4": None}
    if classifier is not None:
        w = np.asarray(classifier)
        out["nc2_classifier"] = nc2(w)
        out["nc3"] = nc3(w, mu - mu_g)
        if predictions is None:
            logits = features @ w.T + (0.0 if bias is None else np.asarray(bias))
            predictions = np.argmax(logits, axis=1)
    if predictions is not None:
        out["nc4"] = nc4(features, labels, num_classes, predictions)
    return out
