"""The reduced large-width ODE (arXiv 2302.05882: closure Q = M P^-1 M^T + diag(q), time
t' = eta t / p) against the full committee ODE: exactly at closure configurations (the
scalar-expression ODE of ode_system, an independent derivation), and along trajectories
where the closure is only a large-p approximation."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from escalier.derive import Scenario
from escalier.derive.ode import ode_system, wide_patterns
from escalier.numerics.integrate import wide_trajectory
from escalier.numerics.lower import wide_rhs

P_TEACH = ((1.0, 0.3), (0.3, 0.8))


def _state(ode, p, Q, M):
    return np.array([Q[j, m] for j in range(p) for m in range(j, p)] + list(M.ravel()))


@pytest.mark.parametrize("p,noise", [(1, 0.0), (3, 0.2)])
def test_reduced_rhs_is_the_full_rhs_at_the_closure(p, noise):
    # at Q = M P^-1 M^T + diag(q) the reduced system is exactly (p / eta) times (dM,
    # dQ_jj - 2 M_j^T P^-1 dM_j) of the full ODE; at p = 1 the two systems are the same
    k, eta, n_b = 2, 0.7, 2
    sc = Scenario("erf(z1) + erf(z2)", student="erf", p=p, lr=eta, batch=n_b, noise=noise,
                  a=tuple(np.linspace(0.5, 1.5, p)), P=P_TEACH)
    ode = ode_system(sc)
    rhs = wide_rhs(wide_patterns(sc))
    rng = np.random.default_rng(7)
    M = 0.4 * rng.normal(size=(p, k))
    q = rng.uniform(0.3, 1.0, size=p)
    Pinv = np.linalg.inv(np.array(P_TEACH))
    Q = M @ Pinv @ M.T + np.diag(q)
    np.testing.assert_allclose(np.asarray(rhs.closure(jnp.asarray(M), jnp.asarray(q))), Q,
                               rtol=0, atol=1e-14)
    full = ode.evaluate(_state(ode, p, Q, M))
    dQ = np.zeros((p, p))
    dQ[np.triu_indices(p)] = full[:p * (p + 1) // 2]
    dM_full = full[p * (p + 1) // 2:].reshape(p, k)
    dq_full = np.diag(dQ) - 2 * np.einsum("jr,rs,js->j", M, Pinv, dM_full)
    dM, dq = rhs.reduced(jnp.asarray(M), jnp.asarray(q), jnp.asarray(sc.a), eta, n_b, noise)
    np.testing.assert_allclose(np.asarray(dM), p / eta * dM_full, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.asarray(dq), p / eta * dq_full, rtol=0, atol=1e-12)
    # the risk E[(f - yhat)^2] / 2 against ode_system's
    got = float(rhs.risk(jnp.asarray(Q), jnp.asarray(M), jnp.asarray(sc.a), noise))
    assert abs(got - (ode.evaluate_risk(_state(ode, p, Q, M)) + noise / 2)) < 1e-12


def _committee_pair(p, t_end):
    k = 2
    sc = Scenario("erf(z1/sqrt(2)) + erf(z2/sqrt(2))", student="erf", p=k, lr=1.0, batch=1)
    rhs = wide_rhs(wide_patterns(sc), p, k)
    rng = np.random.default_rng(0)
    M0 = 0.3 * rng.normal(size=(p, k))
    q0 = 1 - np.sum(M0**2, 1)  # Q_jj(0) = 1
    a = np.full(p, 2.0 / p)  # mean-field second layer a0 / p, a0 = 2; eta = 1
    times = np.linspace(0, t_end, 11)
    return [wide_trajectory(rhs, M0, q0, a, 1.0, times, reduced=r) for r in (True, False)]


@pytest.mark.slow
def test_reduced_trajectory_follows_the_full_one_at_p16():
    # measured deviations of the risk over t' in [0, 5]: 0.070 at p = 4, 0.021 at p = 16,
    # shrinking like 1/p (the cross terms of the orthogonal parts are O(1/p)); tolerance
    # 0.5 / p on the risk and 2 / p on the overlaps M, q
    red, full = _committee_pair(16, 5.0)
    assert np.max(np.abs(red.risk - full.risk)) < 0.5 / 16
    assert np.max(np.abs(red.M - full.M)) < 2 / 16
    assert np.max(np.abs(red.q - full.q)) < 4 / 16
    # and both learn: the risk falls by an order of magnitude
    assert red.risk[-1] < 0.1 * red.risk[0] and full.risk[-1] < 0.1 * full.risk[0]
