"""The committee ODE by index pattern (derive.ode.wide_patterns + numerics.lower.wide_rhs)
against the scalar-expression ODE of ode_system, at random overlaps, p = k = 3."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

from escalier.derive import Scenario
from escalier.derive.ode import committee_link, ode_system, wide_patterns
from escalier.numerics.lower import series_arcsin, wide_rhs


@pytest.mark.parametrize("loss,noise,rows,link", [
    ("square", 0.1, "one block", "erf(z{r}/sqrt(2))"),  # student = teacher patterns: merged
    ("square", 0.0, "blocks", "erf(z{r})"),  # three distinct I4 patterns
    ("correlation", 0.0, "blocks", "erf(z{r}/sqrt(2))")])
def test_array_rhs_equals_scalar_rhs(loss, noise, rows, link):
    p = k = 3
    target = " + ".join(link.format(r=r) for r in range(1, k + 1))
    sc = Scenario(target, student="erf", p=p, loss=loss, batch=3, lr=0.7, noise=noise,
                  a=(1.0, -0.5, 2.0))
    ode = ode_system(sc)
    rhs = wide_rhs(wide_patterns(sc))
    assert rhs.merged == ("sqrt" in link)
    if rows == "blocks":  # the lax.map over blocks of pairs j <= l of large widths
        rhs.block = 1
    rng = np.random.default_rng(4)
    for _ in range(2):
        W = rng.normal(size=(p, 10)) / np.sqrt(10)
        Ws = np.linalg.qr(rng.normal(size=(10, k)))[0].T
        Q, M = W @ W.T, W @ Ws.T
        y = np.array([Q[j, m] for j in range(p) for m in range(j, p)] + list(M.ravel()))
        dQ, dM = rhs(jnp.asarray(Q), jnp.asarray(M), jnp.asarray(sc.a), 0.7, 3.0, noise)
        got = np.array([dQ[j, m] for j in range(p) for m in range(j, p)]
                       + list(np.asarray(dM).ravel()))
        np.testing.assert_allclose(got, ode.evaluate(y), rtol=0, atol=1e-12)


def test_committee_link_refuses_non_committees():
    x = sp.Symbol("x", real=True)
    assert sp.simplify(committee_link(Scenario("z1**2 + z2**2", p=2)) - x**2) == 0
    with pytest.raises(ValueError, match="committee"):
        committee_link(Scenario("z1*z2", p=2))
    with pytest.raises(ValueError, match="same link"):
        committee_link(Scenario("z1 + z2**2", p=2))


def test_series_arcsin_matches_numpy():
    # both branches (|x| <= 1/2: the series; above: the half-angle reduction), the joins
    # and the end points, against NumPy's arcsine: 4 ulp relative
    x = np.concatenate([np.linspace(-1, 1, 20001), [0.5, -0.5, np.nextafter(0.5, 1), 1e-300]])
    got = np.asarray(series_arcsin(jnp.asarray(x)))
    np.testing.assert_allclose(got, np.arcsin(x), rtol=4 * np.finfo(float).eps, atol=0)
    assert np.isnan(np.asarray(series_arcsin(jnp.asarray([1.0 + 1e-12, -2.0])))).all()
