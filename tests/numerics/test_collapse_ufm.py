"""The deep linear UFM trained by L-BFGS against its closed form (escalier.derive.collapse), and
its Hessian blocks against jax.hessian and a finite-difference Hessian written here."""

import numpy as np
import pytest

from escalier.derive.collapse import ufm_optimum
from escalier.numerics.collapse import (
    block_hessian_eigenvalues,
    block_hessians,
    collapse_metrics,
    optimum_params,
    train_ufm,
    ufm_targets,
)

# (K, L, width, n, lambda): two settings with different depth, samples per class and decay
SETTINGS = [(3, 2, 4, 1, 0.005), (2, 3, 3, 2, 0.02)]


def _outliers(eigenvalues, lam):
    ev = np.asarray(eigenvalues)
    return ev[ev - lam > 1e-6 * max(1.0, ev.max())]


@pytest.mark.parametrize("K,L,width,n,lam", SETTINGS)
def test_trained_optimum_matches_closed_form(K, L, width, n, lam):
    opt = ufm_optimum(K, L, n, lam, width=width)
    tr = train_ufm(K, L, width, n, lam, restarts=4, seed=1)
    b = tr.best
    loss = float(opt.loss)
    assert abs(tr.losses[b] - loss) <= 1e-6 * loss
    assert np.allclose(tr.singular_values[b], float(opt.s), rtol=1e-6, atol=0)
    # the Hessian of every block at the trained optimum: rank and outlier value
    hess = block_hessians(tr.params_of(b), ufm_targets(K, n), lam)
    for h, closed in zip(hess, opt.hessian, strict=True):
        out = _outliers(np.linalg.eigvalsh(h), lam)
        assert out.size == closed.rank
        assert np.allclose(out, float(closed.outlier), rtol=1e-4, atol=0)
    # the features collapse (NC1 = 0) onto an orthogonal frame whose centring is an ETF
    h_feat = tr.params_of(b)[-1].T
    m = collapse_metrics(h_feat, np.repeat(np.arange(K), n), K)
    assert m["nc1"] < 1e-8 and m["nc2_means"] < 1e-6


def _loss_np(blocks, Y, lam):
    """The UFM loss in plain numpy (independent of escalier.numerics)."""
    prod = blocks[0]
    for x in blocks[1:]:
        prod = prod @ x
    return 0.5 * np.sum((prod - Y) ** 2) / Y.shape[1] + 0.5 * lam * sum(np.sum(x**2) for x in blocks)


def _fd_block_hessian(blocks, i, Y, lam, h=1e-4):
    """Central second differences of the loss in block i (row-major vec)."""
    x0 = blocks[i].ravel()
    m = x0.size

    def f(x):
        bl = list(blocks)
        bl[i] = x.reshape(blocks[i].shape)
        return _loss_np(bl, Y, lam)

    hess = np.empty((m, m))
    e = np.eye(m) * h
    for a in range(m):
        for c in range(a, m):
            hess[a, c] = hess[c, a] = (f(x0 + e[a] + e[c]) - f(x0 + e[a] - e[c])
                                       - f(x0 - e[a] + e[c]) + f(x0 - e[a] - e[c])) / (4 * h * h)
    return hess


@pytest.mark.parametrize("K,L,width,n,lam", [(2, 2, 3, 1, 0.01), (3, 1, 3, 2, 0.05)])
def test_closed_form_hessian_against_finite_differences(K, L, width, n, lam):
    opt = ufm_optimum(K, L, n, lam, width=width)
    blocks = [np.asarray(x) for x in optimum_params(K, L, width, n, float(opt.s))]
    Y = np.kron(np.eye(K), np.ones((1, n)))
    # the constructed point is critical: finite-difference gradient ~ 0
    for i, x in enumerate(blocks):
        for a in range(x.size):
            e = np.zeros(x.size)
            e[a] = 1e-6
            up = [*blocks[:i], (x.ravel() + e).reshape(x.shape), *blocks[i + 1:]]
            dn = [*blocks[:i], (x.ravel() - e).reshape(x.shape), *blocks[i + 1:]]
            assert abs(_loss_np(up, Y, lam) - _loss_np(dn, Y, lam)) / 2e-6 < 1e-8
    assert _loss_np(blocks, Y, lam) == pytest.approx(float(opt.loss), rel=1e-12)
    for i, closed in enumerate(opt.hessian):
        ev = np.linalg.eigvalsh(_fd_block_hessian(blocks, i, Y, lam))
        expected = np.sort([lam] * (ev.size - closed.rank) + [float(closed.outlier)] * closed.rank)
        assert np.allclose(ev, expected, atol=1e-6), closed.name


def test_structured_hessian_equals_autodiff_at_a_random_point():
    rng = np.random.default_rng(0)
    K, n, width, lam = 3, 2, 4, 0.03
    blocks = (rng.standard_normal((K, width)), rng.standard_normal((width, width)),
              rng.standard_normal((width, K * n)))
    auto = [np.linalg.eigvalsh(h) for h in block_hessians(blocks, ufm_targets(K, n), lam)]
    structured = block_hessian_eigenvalues(blocks, lam, K * n)
    for a, s in zip(auto, structured, strict=True):
        assert np.allclose(a, s, rtol=1e-10, atol=1e-12)


def test_bad_settings_are_value_errors():
    with pytest.raises(ValueError, match="width"):
        train_ufm(3, 2, 2, 1, 0.01, restarts=1)
    with pytest.raises(ValueError, match="weight_decay"):
        train_ufm(3, 2, 4, 1, -0.01, restarts=1)


def test_outlier_eigenvectors_are_products_of_class_means():
    # Garrod & Keating (arXiv 2404.06106): the outlier eigenvectors of the block W_l are
    # mu_c^(out) (x) mu_c'^(in), the class means of the block's output and input features.
    K, L, width, n, lam = 3, 2, 4, 2, 0.01
    opt = ufm_optimum(K, L, n, lam, width=width)
    blocks = [np.asarray(x) for x in optimum_params(K, L, width, n, float(opt.s))]
    hess = block_hessians(blocks, ufm_targets(K, n), lam)
    onehot = np.kron(np.eye(K), np.ones((n, 1))) / n  # (N, K): class-mean weights
    for i in range(L):  # the weight blocks W_L .. W_1
        below = blocks[i + 1]
        for x in blocks[i + 2:]:
            below = below @ x
        m_in, m_out = below @ onehot, blocks[i] @ below @ onehot
        span = np.stack([np.kron(m_out[:, c], m_in[:, d]) for c in range(K) for d in range(K)], 1)
        q_span = np.linalg.qr(span)[0]
        ev, vec = np.linalg.eigh(hess[i])
        q_out = vec[:, -K * K:]
        assert ev[-K * K] - lam > 1e-3 and ev[-K * K - 1] - lam < 1e-10
        assert np.allclose(q_out @ q_out.T, q_span @ q_span.T, atol=1e-8)
