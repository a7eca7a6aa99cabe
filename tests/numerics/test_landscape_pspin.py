"""The p-spin critical-point search (escalier.numerics.landscape), checked independently."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from escalier.numerics.landscape import (
    energy,
    find_critical_points,
    riemannian_gradient,
    riemannian_hessian,
    sample_couplings,
    symmetrize,
    tangent_basis,
)


def _raw_h(j, x):
    """H written directly from the raw couplings (no symmetrization), p = 3."""
    n = j.shape[0]
    return jnp.einsum("ijk,i,j,k->", j, x, x, x) / n


def _sphere_point(key, n):
    x = jax.random.normal(key, (n,))
    return x * math.sqrt(n) / jnp.linalg.norm(x)


@pytest.mark.slow
def test_energy_has_variance_n_over_couplings():
    # E[H(sigma)^2] = N^{-(p-1)} sum sigma_i^2 sigma_j^2 sigma_k^2 = N for |sigma|^2 = N; in
    # energy per site, Var(u) = 1/N. 4000 samples: relative standard error sqrt(2/4000) = 2.2%.
    n, m = 8, 4000
    x = _sphere_point(jax.random.PRNGKey(0), n)
    keys = jax.random.split(jax.random.PRNGKey(1), m)
    u = jax.vmap(lambda k: energy(symmetrize(sample_couplings(k, n, 3)), x))(keys)
    assert float(jnp.var(u)) * n == pytest.approx(1.0, rel=0.1)


def test_explicit_derivatives_match_autodiff_of_the_raw_hamiltonian():
    n = 12
    j = sample_couplings(jax.random.PRNGKey(2), n, 3)
    s = symmetrize(j)
    x = _sphere_point(jax.random.PRNGKey(3), n)
    assert float(energy(s, x)) == pytest.approx(float(_raw_h(j, x)) / n, rel=1e-12)
    g = jax.grad(_raw_h, argnums=1)(j, x)
    p_proj = jnp.eye(n) - jnp.outer(x, x) / n
    np.testing.assert_allclose(riemannian_gradient(s, x), p_proj @ g, rtol=1e-10, atol=1e-12)
    # Riemannian Hessian: second derivative of H along unit-speed geodesics
    # gamma(t) = x cos(t / sqrt N) + sqrt(N) v sin(t / sqrt N), v a unit tangent vector,
    # by central finite differences (an independent route to the curvature term).
    b = tangent_basis(x)
    np.testing.assert_allclose(b.T @ b, np.eye(n - 1), atol=1e-12)
    np.testing.assert_allclose(b.T @ x, 0, atol=1e-12)
    hr = riemannian_hessian(s, x)
    rng = np.random.default_rng(0)
    for _ in range(3):
        c = rng.normal(size=n - 1)
        c /= np.linalg.norm(c)
        v = b @ c
        gamma = lambda t, v=v: x * jnp.cos(t / math.sqrt(n)) + math.sqrt(n) * v * jnp.sin(t / math.sqrt(n))
        h = 1e-3
        fd1 = (_raw_h(j, gamma(h)) - _raw_h(j, gamma(-h))) / (2 * h)
        fd2 = (_raw_h(j, gamma(h)) - 2 * _raw_h(j, gamma(0.0)) + _raw_h(j, gamma(-h))) / h**2
        assert float(fd1) == pytest.approx(float(v @ riemannian_gradient(s, x)), abs=1e-6)
        assert float(fd2) == pytest.approx(float(c @ hr @ c), abs=1e-4)


def test_hessian_at_a_random_point_is_shifted_semicircle():
    # Given H = N u, the Riemannian Hessian is sqrt(p(p-1)) GOE - p u I (ABC 2013, Lemma 3.2
    # with our scaling): eigenvalue mean -p u and variance p(p-1) (1 + O(1/N)).
    n, p = 120, 3
    s = symmetrize(sample_couplings(jax.random.PRNGKey(4), n, p))
    x = _sphere_point(jax.random.PRNGKey(5), n)
    eig = np.linalg.eigvalsh(np.asarray(riemannian_hessian(s, x)))
    u = float(energy(s, x))
    assert eig.mean() == pytest.approx(-p * u, abs=4 * math.sqrt(2 * p * (p - 1)) / n)
    assert eig.var() == pytest.approx(p * (p - 1), rel=0.1)


def test_returned_points_are_critical_with_stable_index():
    n = 20
    j = sample_couplings(jax.random.PRNGKey(6), n, 3)
    s = symmetrize(j)
    cp = find_critical_points(jax.random.PRNGKey(7), j, 16, gd_steps=200, newton_steps=40, batch=8)
    assert len(cp.energy) >= 8
    assert cp.n_converged <= cp.n_starts == 16
    rng = np.random.default_rng(1)
    for x, u, k in zip(cp.sigma, cp.energy, cp.index, strict=True):
        x = jnp.asarray(x)
        # on the sphere, Riemannian gradient zero to the stated tolerance (relative to its
        # typical size sqrt(p) per coordinate at a random point)
        assert float(jnp.sum(x * x)) == pytest.approx(n, rel=1e-12)
        assert float(jnp.linalg.norm(riemannian_gradient(s, x))) / math.sqrt(n) < 1e-9
        assert float(energy(s, x)) == pytest.approx(u, abs=1e-12)
        # the index, from an independent projector form P hess P - (x.g/N) P (one zero mode
        # along x removed), and under a small perturbation of the point
        g = jax.grad(_raw_h, argnums=1)(j, x)
        hess = jax.hessian(_raw_h, argnums=1)(j, x)
        proj = jnp.eye(n) - jnp.outer(x, x) / n
        full = np.linalg.eigvalsh(np.asarray(proj @ hess @ proj - (x @ g) / n * proj))
        zero = np.argmin(np.abs(full))
        assert int(np.sum(np.delete(full, zero) < 0)) == k
        y = x + 1e-6 * jnp.asarray(rng.normal(size=n))
        y = y * math.sqrt(n) / jnp.linalg.norm(y)
        assert int(np.sum(np.linalg.eigvalsh(np.asarray(riemannian_hessian(s, y))) < 0)) == k
    # minima exist and lie above the ground-state band edge -E_0 = -1.657 (p = 3)
    assert (cp.index == 0).any()
    assert cp.energy.min() > -1.657 - 0.5


def test_memory_refusal_and_bad_input():
    with pytest.raises(ValueError, match="GiB"):
        sample_couplings(jax.random.PRNGKey(0), 1000, 3)
    with pytest.raises(ValueError, match="p must be"):
        sample_couplings(jax.random.PRNGKey(0), 10, 1)
    j = sample_couplings(jax.random.PRNGKey(0), 10, 3)
    with pytest.raises(ValueError, match="starts"):
        find_critical_points(jax.random.PRNGKey(0), j, 0)
    with pytest.raises(ValueError, match="batch"):
        find_critical_points(jax.random.PRNGKey(0), j, 10, budget_bytes=10_000)
