"""Multi-pass full-batch GD (MultiPass) in the full engine against an independent
d-dimensional GD written here from the update in engines/_reuse.py, in distribution.

False-failure budget: mean and variance z tests on every overlap entry at every record,
Bonferroni to 1e-3 in all (_gram_reference.two_sample_failures).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _gram_reference import statistics, two_sample_failures

from escalier.derive import Scenario
from escalier.numerics.lower import student_functions, teacher_function
from escalier.numerics.simulation import MultiPass, OnlineSGD, simulate

SC = Scenario("z1*z2 + tanh(z1)", student="erf", p=2, lr=2.0, noise=0.05, init_scale=0.5)


def reference_gd(sc, d, alpha, n_steps, record_every, seeds, seed):
    """Plain GD: X fixed (n x d), W <- W + lr / (n sqrt(d)) C^T X, C = a Delta sigma'."""
    f, (sigma, dsigma) = teacher_function(sc), student_functions(sc)
    n, p, k = round(alpha * d), sc.p, sc.k
    a = jnp.asarray(sc.a)

    def one(key):
        kt, kw, kx, kn = jax.random.split(key, 4)
        Ws, _ = jnp.linalg.qr(jax.random.normal(kt, (d, k)))
        Ws = math.sqrt(d) * Ws.T
        W = sc.init_scale * jax.random.normal(kw, (p, d))
        X = jax.random.normal(kx, (n, d))
        y = f(X @ Ws.T / math.sqrt(d)) + math.sqrt(sc.noise) * jax.random.normal(kn, (n,))

        def step(W, _):
            lam = X @ W.T / math.sqrt(d)
            C = (y - sigma(lam) @ a)[:, None] * dsigma(lam) * a
            return W + sc.lr / (n * math.sqrt(d)) * C.T @ X, None

        def record(W, _):
            W, _ = jax.lax.scan(step, W, None, length=record_every)
            return W, (W @ W.T / d, W @ Ws.T / d)

        _, (Q, M) = jax.lax.scan(record, W, None, length=n_steps // record_every)
        return (jnp.concatenate([(W @ W.T / d)[None], Q]),
                jnp.concatenate([(W @ Ws.T / d)[None], M]))

    Q, M = jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(seed), seeds))
    return {"Q": np.asarray(Q), "M": np.asarray(M), "a": np.broadcast_to(np.asarray(a),
                                                                        (*Q.shape[:2], p))}


def test_multipass_full_engine_matches_reference_gd():
    d, alpha, seeds = 32, 2.0, 400
    r = simulate(SC, d, 2.0, seeds=seeds, seed=1, n_records=2, engine="full",
                 protocol=MultiPass(alpha), progress=False)
    ref = reference_gd(SC, d, alpha, r.config["n_steps"], r.config["record_every"], seeds, 2)
    names, x = statistics(ref)
    _, y = statistics({"Q": r.Q, "M": r.M, "a": r.a})
    assert two_sample_failures(x, y, names, alpha=1e-3) == []
    # power: multi-pass GD on 2d samples is not online SGD (the same test must see it)
    o = simulate(SC, d, 2.0, seeds=seeds, seed=1, n_records=2, engine="full",
                 protocol=OnlineSGD(), progress=False)
    _, z = statistics({"Q": o.Q, "M": o.M, "a": o.a})
    assert two_sample_failures(x, z, names, alpha=1e-3) != []


def test_multipass_refusals():
    with pytest.raises(ValueError, match="alpha"):
        MultiPass(0)
    with pytest.raises(ValueError, match="GiB"):
        simulate(SC, 4000, 0.001, seeds=64, engine="full", protocol=MultiPass(10.0),
                 progress=False)
