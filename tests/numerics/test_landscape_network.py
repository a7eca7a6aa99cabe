"""Network Hessians and spectrum analysis (escalier.numerics.landscape)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from escalier.derive import Target
from escalier.numerics.landscape import (
    Network,
    analyze_spectrum,
    digits_data,
    goe_levels,
    loss_hessian,
    teacher_data,
    train,
)


def test_chunked_hessian_equals_jax_hessian_and_finite_differences():
    net = Network(5, (3, 2), 2, "tanh")  # three-layer, 15 + 6 + 4 = 25 parameters
    assert net.n_params == 25
    params = net.init(jax.random.PRNGKey(0))
    x = jax.random.normal(jax.random.PRNGKey(1), (7, 5))
    y = jax.random.normal(jax.random.PRNGKey(2), (7, 2))
    h = loss_hessian(net, params, x, y, chunk=4)
    flat, unravel = ravel_pytree(params)
    loss = lambda v: net.loss(unravel(v), x, y)
    np.testing.assert_allclose(h, jax.hessian(loss)(flat), rtol=1e-10, atol=1e-12)
    grad = jax.grad(loss)
    e = jnp.zeros_like(flat).at[3].set(1.0)
    fd = (grad(flat + 1e-5 * e) - grad(flat - 1e-5 * e)) / 2e-5
    np.testing.assert_allclose(h[3], fd, atol=1e-7)
    # the network itself, written out by hand
    w1, w2, a = params["W1"], params["W2"], params["A"]
    manual = np.tanh(np.tanh(x @ w1.T / math.sqrt(5)) @ w2.T / math.sqrt(3)) @ a.T
    np.testing.assert_allclose(net.apply(params, x), manual, rtol=1e-12)


def test_teacher_labels_are_the_target_at_the_latent_coordinates():
    t = Target.parse("He2(z1) + z1*z2")
    x, y = teacher_data(jax.random.PRNGKey(3), t, 6, 5)
    # recover W* from the same key split as the documented construction
    _, kw = jax.random.split(jax.random.PRNGKey(3))
    w = jax.random.normal(kw, (2, 6), dtype=jnp.float64)
    z = np.asarray(x @ w.T / math.sqrt(6))
    np.testing.assert_allclose(np.asarray(y)[:, 0], [t(*zi) for zi in z], rtol=1e-12)
    with pytest.raises(ValueError, match="free parameters"):
        teacher_data(jax.random.PRNGKey(0), "c*z1", 4, 3)


def test_digits_are_loaded_from_the_package():
    x, y = digits_data()
    assert x.shape == (1797, 64) and y.shape == (1797, 10)
    np.testing.assert_allclose(np.asarray(y).sum(1), 0.0, atol=1e-12)
    with pytest.raises(ValueError, match="1797"):
        digits_data(5000)


def test_training_lowers_the_loss_and_reports_divergence():
    net = Network(4, (6,), 1, "relu")
    x = jax.random.normal(jax.random.PRNGKey(4), (50, 4))
    y = jnp.sin(x[:, :1])
    p0 = net.init(jax.random.PRNGKey(5))
    snaps, curve = train(net, p0, x, y, 200, lr=1e-2, record=(0, 200))
    assert set(snaps) == {0, 200} and len(curve) == 200
    assert float(net.loss(snaps[200], x, y)) < 0.5 * float(net.loss(snaps[0], x, y))
    with pytest.raises(FloatingPointError, match="learning rate"):
        train(net, p0, x, 1e200 * y, 5, lr=1e3)


def test_analyze_spectrum_on_known_spectra():
    levels = goe_levels(jax.random.PRNGKey(6), 400, 3)[0]
    spectrum = np.concatenate([np.zeros(30), levels, [40.0, 50.0]])
    a = analyze_spectrum(spectrum)
    assert a.n_zero == 30
    np.testing.assert_array_equal(a.outliers, [40.0, 50.0])
    assert a.ks_semicircle[1] > 1e-3  # a GOE bulk is a semicircle
    assert abs(a.ratio.mean - 0.5307) < 4 * a.ratio.stderr
    # an exponential (Marchenko-Pastur-like, one-sided) bulk is not
    rng = np.random.default_rng(0)
    assert analyze_spectrum(np.sort(rng.exponential(size=400))).ks_semicircle[1] < 1e-6
