"""Extragradient and SAM in the full engine, against an independent d-dimensional
reference written here from the definitions in engines/_reuse.py, in distribution.

False-failure budget: mean and variance z tests on every overlap entry at every record,
Bonferroni to 1e-3 per comparison (_gram_reference.two_sample_failures).
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
from escalier.numerics.simulation import SAM, Extragradient, OnlineSGD, simulate

SC = Scenario("z1*z2 + tanh(z1)", student="erf", p=2, lr=2.0, batch=2, init_scale=0.5)


def reference(sc, d, n_steps, every, seeds, seed, kind, rho=0.0):
    f, (sigma, dsigma) = teacher_function(sc), student_functions(sc)
    a = jnp.asarray(sc.a)
    B = sc.batch

    def g(W, Ws, X):  # descent direction of the Scenario's loss, times lr
        lam, nu = X @ W.T / math.sqrt(d), X @ Ws.T / math.sqrt(d)
        C = (f(nu) - sigma(lam) @ a)[:, None] * dsigma(lam) * a
        return sc.lr / (B * math.sqrt(d)) * C.T @ X

    def one(key):
        kt, kw, kx = jax.random.split(key, 3)
        Ws, _ = jnp.linalg.qr(jax.random.normal(kt, (d, sc.k)))
        Ws = math.sqrt(d) * Ws.T
        W = sc.init_scale * jax.random.normal(kw, (sc.p, d))

        def step(W, key):
            X = jax.random.normal(key, (B, d))
            g0 = g(W, Ws, X)
            if kind == "eg":
                return W + g(W + g0, Ws, X), None
            adv = W - rho * math.sqrt(d) * g0 / jnp.linalg.norm(g0)
            return W + g(adv, Ws, X), None

        def record(W, key):
            W, _ = jax.lax.scan(step, W, jax.random.split(key, every))
            return W, (W @ W.T / d, W @ Ws.T / d)

        _, (Q, M) = jax.lax.scan(record, W, jax.random.split(kx, n_steps // every))
        return (jnp.concatenate([(W @ W.T / d)[None], Q]),
                jnp.concatenate([(W @ Ws.T / d)[None], M]))

    Q, M = jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(seed), seeds))
    A = np.broadcast_to(np.asarray(a), (*Q.shape[:2], sc.p))
    return {"Q": np.asarray(Q), "M": np.asarray(M), "a": A}


@pytest.mark.slow
@pytest.mark.parametrize("protocol, kind", [(Extragradient(), "eg"), (SAM(0.3), "sam")])
def test_displaced_steps_match_reference(protocol, kind):
    d, seeds = 32, 400
    r = simulate(SC, d, 3.0, seeds=seeds, seed=1, n_records=2, engine="full",
                 protocol=protocol, progress=False)
    ref = reference(SC, d, r.config["n_steps"], r.config["record_every"], seeds, 2, kind,
                    getattr(protocol, "rho", 0.0))
    names, x = statistics(ref)
    _, y = statistics({"Q": r.Q, "M": r.M, "a": r.a})
    assert two_sample_failures(x, y, names, alpha=1e-3) == []
    # power: the same test separates the protocol from plain online SGD
    o = simulate(SC, d, 3.0, seeds=seeds, seed=1, n_records=2, engine="full",
                 protocol=OnlineSGD(), progress=False)
    _, z = statistics({"Q": o.Q, "M": o.M, "a": o.a})
    assert two_sample_failures(x, z, names, alpha=1e-3) != []


def test_refusals():
    with pytest.raises(ValueError, match="rho"):
        SAM(0.0)
    with pytest.raises(ValueError, match="spherical"):
        simulate(Scenario("He3(z1)", student="He3", p=1, spherical=True), 32, 1.0,
                 engine="full", protocol=SAM(0.1), progress=False)
