"""Initial conditions of a simulation: student and teacher weights for one seed.

    w_j ~ N(0, init_scale^2 I_d)  (j = 1..p; spherical: then w <- sqrt(d) w / ||w||)
    W*  = sqrt(d) L O,  L = Scenario.teacher_factor() (PSD root of P),
          O in R^{k x d} with orthonormal rows (uniformly random)

so that W* W*^T / d = P exactly (up to rounding), whatever the seed.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from escalier.derive import Scenario

__all__ = ["initial_state", "initial_weights", "overlaps"]


def initial_state(scenario: Scenario, d: int, key, dtype) -> tuple[jax.Array, jax.Array]:
    """Initial V = [W; W*] ((p + k) x d) and a (p,) for one seed.

    Args:
        scenario: the Scenario (p, k, P, a, init_scale, spherical).
        d: input dimension (>= k).
        key: a JAX PRNG key (this seed's initial-condition key).
        dtype: dtype of the returned arrays.

    Returns:
        (V, a) with V[:p] = W the student, V[p:] = W* the teacher.
    """
    p, k = scenario.p, scenario.k
    Z = jax.random.normal(key, (p + k, d), dtype)
    W = scenario.init_scale * Z[:p]
    if scenario.spherical:
        W = W * (jnp.sqrt(float(d)) / jnp.linalg.norm(W, axis=1, keepdims=True))
    O = _orthonormal_rows(Z[p:])
    L = jnp.asarray(scenario.teacher_factor(), dtype)
    Wstar = jnp.sqrt(float(d)) * (L @ O)
    a = jnp.asarray(scenario.a, dtype)
    return jnp.concatenate([W, Wstar], axis=0), a


def initial_weights(scenario: Scenario, d: int, key, dtype="float64"):
    """The one initial-state sampler, for one seed: (W (p x d), W* (k x d), a (p,)) as numpy
    arrays, with the law above (the full engine draws exactly these; the gram engine draws
    their overlaps directly with the same law). OdeSystem.initial_state(W, W*) gives the
    ODE state of the draw.

    Raises:
        ValueError: d smaller than k, or P not positive semi-definite.
    """
    if isinstance(d, bool) or not isinstance(d, int | np.integer) or d < max(scenario.k, 1):
        raise ValueError(f"d must be an integer >= k = {scenario.k}, got {d!r}")
    V, a = initial_state(scenario, int(d), key, jnp.dtype(dtype))
    V = np.asarray(V)
    return V[: scenario.p], V[scenario.p:], np.asarray(a)


def _orthonormal_rows(G: jax.Array) -> jax.Array:
    """Gram-Schmidt (twice, for rounding) on the k rows of a Gaussian matrix: uniformly
    random orthonormal rows (the Q factor of a QR with positive diagonal)."""
    rows: list[jax.Array] = []
    for i in range(G.shape[0]):
        v = G[i]
        for _ in range(2):
            for u in rows:
                v = v - (u @ v) * u
        rows.append(v / jnp.linalg.norm(v))
    return jnp.stack(rows)


def overlaps(V: jax.Array, p: int) -> tuple[jax.Array, jax.Array]:
    """Q = W W^T / d and M = W W*^T / d from V = [W; W*]."""
    d = V.shape[-1]
    W = V[:p]
    G = (W @ V.T) / d
    return G[:, :p], G[:, p:]
