"""Extragradient, SAM and multi-pass GD in the gram engine (engines/_reuse.py,
simulation/_gram.py and _gram_multipass.py docstrings).

Three kinds of checks:
- in distribution, the gram engine against the full d-dimensional engine, at d = 64
  (default run) and d = 256 (slow): mean and variance z tests on every overlap entry at
  every record (the two-sample helper of _gram_reference). False-failure budget: each
  comparison runs its 2 x (number of statistics) tests at level ALPHA / (2 x statistics)
  (Bonferroni), so a correct pair of engines fails one comparison with probability at most
  ALPHA = 1e-3 (normal approximation, sound at 400+ seeds per side);
- pathwise: one displaced step (and a multi-pass run) of the chain equals the plain
  d-dimensional update written here, applied to the weights and the batch rebuilt in R^d
  from the chain's frame coordinates, to rounding;
- an exact identity: with a linear student and the correlation loss the gradient does not
  depend on w, so an extragradient or SAM step at rate lr equals one SGD step on the batch,
  and runs at rate lr over time T equal StepsPerBatch(2) at rate lr / 2 over time 2 T with
  the same keys (both use one batch per unit, drawn the same way), to rounding.
"""

from __future__ import annotations

import math
from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _gram_reference import statistics, two_sample_failures

from escalier.derive import Scenario
from escalier.numerics.lower import student_functions, teacher_function
from escalier.numerics.simulation import (
    SAM,
    Extragradient,
    MultiPass,
    StepsPerBatch,
    simulate,
)
from escalier.numerics.simulation._gram import GramChain
from escalier.numerics.simulation._gram_multipass import _program

ALPHA = 1e-3

DISPLACED = {
    # two erf neurons, square loss, label noise, both layers trained (the extragradient
    # look-ahead moves the second layer too)
    "extragradient": (Scenario("z1*z2 + z1", student="erf", p=2, lr=2.0, batch=4, noise=0.1,
                               init_scale=0.7, train_second_layer=True, lr_a=1.0),
                      Extragradient(), 2.0),
    # displaced SGD (look-ahead 3 x the step) of two spherical erf neurons, correlation loss
    "displaced": (Scenario("z1*z2 + z1", student="erf", p=2, lr=1.0, batch=3,
                           loss="correlation", spherical=True),
                  Extragradient(probe=3.0), 2.0),
    # SAM with a large radius (the adversarial point is far from w), batch 2
    "sam": (Scenario("z1*z2 + tanh(z1)", student="erf", p=2, lr=2.0, batch=2, init_scale=0.5),
            SAM(0.3), 2.0),
}

MULTIPASS = Scenario("z1*z2 + tanh(z1)", student="erf", p=2, lr=2.0, noise=0.05,
                     init_scale=0.5)


def _failures(sc, protocol, time, d, seeds):
    out = {}
    for engine in ("full", "gram"):
        r = simulate(sc, d, time, seeds=seeds, seed=5 if engine == "full" else 6,
                     n_records=2, engine=engine, protocol=protocol, progress=False)
        out[engine] = {"Q": r.Q, "M": r.M, "a": r.a}
    names, x = statistics(out["full"])
    _, y = statistics(out["gram"])
    return two_sample_failures(x, y, names, alpha=ALPHA)


@pytest.mark.parametrize("name", sorted(DISPLACED))
def test_displaced_gram_matches_full_d64(name):
    assert _failures(*DISPLACED[name], 64, 500) == []


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(DISPLACED))
def test_displaced_gram_matches_full_d256(name):
    assert _failures(*DISPLACED[name], 256, 400) == []


def test_multipass_gram_matches_full_d64():
    """alpha = 2: n = 128 > d - k - p, the set's complement block is a Gaussian block."""
    assert _failures(MULTIPASS, MultiPass(2.0), 2.0, 64, 500) == []


@pytest.mark.slow
@pytest.mark.parametrize("d, alpha", [(64, 0.5), (256, 2.0), (256, 0.5)])
def test_multipass_gram_matches_full_slow(d, alpha):
    """alpha = 0.5: n <= d - k - p, the complement block is the n x n Bartlett factor."""
    assert _failures(MULTIPASS, MultiPass(alpha), 2.0, d, 400) == []


# pathwise: the chain against the d-dimensional update on the rebuilt batch ---------------

def _descent(sc, d, X, y, W, a):
    """(lr-step of W, lr_a-step of a) of the Scenario's update on batch X with labels y."""
    sigma, dsigma = student_functions(sc)
    lam = X @ W.T / math.sqrt(d)
    s = sigma(lam)
    delta = y - s @ a if sc.loss == "square" else y
    C = delta[:, None] * dsigma(lam) * a[None, :]
    n = X.shape[0]
    da = sc.lr_a / (n * d) * (s.T @ delta) if sc.train_second_layer else 0.0 * a
    return sc.lr / (n * math.sqrt(d)) * C.T @ X, da


def _rebuild(chain, A, Bx, gs, gx, xi):
    """W*, W, X and y in R^d from frame coordinates: E* = e_0..e_{k-1}, [F; O_n] the next
    p + q coordinate vectors, the remaining coordinates zero."""
    sc, d = chain.scenario, chain.d
    k, p = sc.k, sc.p
    width = Bx.shape[1]
    LP = jnp.asarray(chain.teacher_root)
    Ws = jnp.zeros((k, d)).at[:, :k].set(math.sqrt(d) * LP)
    W = jnp.zeros((p, d)).at[:, :k].set(math.sqrt(d) * A).at[:, k:k + width].set(
        math.sqrt(d) * Bx)
    n = gs.shape[0]
    X = jnp.zeros((n, d)).at[:, :k].set(gs).at[:, k:k + width].set(gx)
    y = teacher_function(sc)(X @ Ws.T / math.sqrt(d))
    if xi is not None:
        y = y + math.sqrt(sc.noise) * xi
    return Ws, W, X, y


@pytest.mark.parametrize("d", [9, 40])  # batch 6 > d - k - p = 5 (Gaussian block); 6 < 36
@pytest.mark.parametrize("variant, spherical", [(("extragradient",), False),
                                                (("extragradient", 10.0), False),
                                                (("extragradient", 10.0), True),
                                                (("sam", 0.3), False)])
def test_displaced_unit_equals_d_dimensional_step(variant, spherical, d):
    """One chain unit == w' = w + lr g(w_disp) (extragradient: w_disp = w + probe lr g(w),
    a displaced too (probe 1 when not given); SAM: w_disp = w - rho sqrt(d) g / ||g||_F) on
    the rebuilt batch; spherical: then w' scaled to norm sqrt(d), w_disp not projected."""
    sc = replace(DISPLACED["extragradient"][0], batch=6, spherical=spherical)
    chain = GramChain(sc, d, jnp.float64, variant=variant)
    A, B, a, rng = chain.init(jax.random.key(3))
    _, draws = chain.draw(rng, 1)
    r = jax.tree.map(lambda x: x[0], draws)
    A1, B1, a1 = chain.unit((A, B, a), r)
    Q1, M1, _ = chain.observe((A1, B1, a1))

    k = sc.k
    gx = jnp.concatenate([r["g"][:, k:], r["H"]], axis=1)
    Bx = jnp.concatenate([B, jnp.zeros((sc.p, gx.shape[1] - sc.p))], axis=1)
    Ws, W, X, y = _rebuild(chain, A, Bx, r["g"][:, :k], gx, r.get("xi"))
    g0, da0 = _descent(sc, d, X, y, W, a)
    if variant[0] == "sam":
        Wd, ad = W - variant[1] * math.sqrt(d) * g0 / jnp.linalg.norm(g0), a
    else:
        probe = variant[1] if len(variant) == 2 else 1.0
        Wd, ad = W + probe * g0, a + probe * da0
    g1, da1 = _descent(sc, d, X, y, Wd, ad)
    W2, a2 = W + g1, a + da1
    if spherical:
        W2 = W2 * (math.sqrt(d) / jnp.linalg.norm(W2, axis=1, keepdims=True))
    np.testing.assert_allclose(Q1, W2 @ W2.T / d, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(M1, W2 @ Ws.T / d, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(a1, a2, rtol=1e-12, atol=1e-14)
    assert not np.allclose(a1, a), "the second layer must move in this check"


@pytest.mark.parametrize("geometry", ["free", "tangent"])
@pytest.mark.parametrize("d, alpha", [(16, 3.0), (40, 0.5)])
def test_multipass_run_equals_d_dimensional_gd(d, alpha, geometry):
    """The gram multi-pass program (start, records) == plain GD on the training set rebuilt
    in R^d from the kept frame coordinates, step for step: n > d - k - p (frame form) and
    n < d - k - p (the Gram form, lambda += eps K C); free weights, and spherical rows
    (||w_j||^2 = d after each step, p = 2) whose steps are first projected on each row's
    tangent space (tangent: both the shrink and the per-row renormalisation are used)."""
    sc = replace(MULTIPASS, train_second_layer=True, lr_a=1.0,
                 spherical=geometry != "free", tangent=geometry == "tangent")
    n, every, n_rec = round(alpha * d), 5, 3
    start, block, frame = _program(sc, d, n, every, n_rec, "float64")
    keys = jax.random.split(jax.random.key(1), 2)
    state, batch, first = start(keys)
    _, (Q, M, a_rec) = block(state, batch)
    state, batch = frame(keys)
    chain = GramChain(replace(sc, batch=n), d, jnp.float64, keep_batch=True)
    for i in range(2):
        A, Bx, a = (x[i] for x in state)
        gs, gx, xi = (x[i] for x in batch)
        Ws, W, X, y = _rebuild(chain, A, Bx, gs, gx, xi)
        np.testing.assert_allclose(first[0][i], W @ W.T / d, rtol=1e-12, atol=1e-14)
        for r in range(n_rec):
            for _ in range(every):
                gW, ga = _descent(sc, d, X, y, W, a)
                if sc.tangent:
                    gW = gW - (jnp.sum(gW * W, axis=1, keepdims=True) / d) * W
                W, a = W + gW, a + ga
                if sc.spherical:
                    W = W * (math.sqrt(d) / jnp.linalg.norm(W, axis=1, keepdims=True))
            np.testing.assert_allclose(Q[i, r], W @ W.T / d, rtol=1e-10, atol=1e-13)
            np.testing.assert_allclose(M[i, r], W @ Ws.T / d, rtol=1e-10, atol=1e-13)
            np.testing.assert_allclose(a_rec[i, r], a, rtol=1e-11, atol=1e-13)
    assert np.max(np.abs(M[:, -1] - first[1])) > 1e-2  # the run moved


# exact identity -------------------------------------------------------------------------

@pytest.mark.parametrize("engine", ["gram", pytest.param("full", marks=pytest.mark.slow)])
@pytest.mark.parametrize("protocol", [Extragradient(), SAM(0.2)])
def test_constant_gradient_displaced_steps_are_plain_steps(protocol, engine):
    sc = Scenario("z1 + z2", student="x", p=2, lr=0.6, loss="correlation")
    d, T = 32, 1.0
    r = simulate(sc, d, T, seeds=3, n_records=2, engine=engine, protocol=protocol,
                 progress=False)
    half = replace(sc, lr=0.3)
    s = simulate(half, d, 2 * T, seeds=3, n_records=2, engine=engine,
                 protocol=StepsPerBatch(2), progress=False)
    assert s.config["n_steps"] == 2 * r.config["n_steps"]
    np.testing.assert_allclose(r.M, s.M, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r.Q, s.Q, rtol=1e-10, atol=1e-12)
    assert np.max(np.abs(r.M[:, -1] - r.M[:, 0])) > 1e-2


# refusals ---------------------------------------------------------------------------------

def test_gram_refusals():
    from escalier.numerics.simulation import EscapeThreshold, GramEngine

    with pytest.raises(ValueError, match="sam steps are not defined with the spherical"):
        simulate(Scenario("He3(z1)", student="He3", p=1, spherical=True), 32, 1.0,
                 engine="gram", protocol=SAM(0.1), progress=False)
    with pytest.raises(ValueError, match="not defined with tangent steps"):
        simulate(Scenario("He3(z1)", student="He3", p=1, spherical=True, tangent=True), 32,
                 1.0, engine="gram", protocol=Extragradient(), progress=False)
    with pytest.raises(ValueError, match="look-ahead rate"):
        Extragradient(probe=0.0)
    with pytest.raises(ValueError, match=r"GiB.*fewer seeds, a smaller alpha or a smaller d"):
        simulate(MULTIPASS, 4000, 0.001, seeds=64, engine="gram", protocol=MultiPass(10.0),
                 progress=False)
    sc = Scenario("He3(z1)", student="He3", p=1, spherical=True, loss="correlation")
    with pytest.raises(ValueError, match="event loop runs online SGD"):
        GramEngine().first_passage(sc, 64, jax.random.split(jax.random.key(0), 2),
                                   EscapeThreshold(0.5), 100, protocol=MultiPass(2.0))
