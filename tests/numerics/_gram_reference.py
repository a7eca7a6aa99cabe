"""Independent references for the Gram engine tests: a minimal full d-dimensional SGD and
two-sample comparisons with an explicit false-failure budget.

The simulator here is written from the update rule in escalier.derive.Scenario's docstring
with plain jax.random draws of the d-dimensional data, sharing no code with the Gram engine
beyond the SymPy -> JAX evaluation of f and sigma.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from escalier.numerics.lower import student_functions, teacher_function


def _teacher(key, d, P):
    """W* (k x d) with W* W*^T / d = P exactly: sqrt(d) L_P O with O orthonormal rows."""
    k = P.shape[0]
    O, _ = jnp.linalg.qr(jax.random.normal(key, (d, k)))
    w, U = np.linalg.eigh(P)
    return math.sqrt(d) * jnp.asarray((U * np.sqrt(np.clip(w, 0, None))) @ U.T) @ O.T


def full_sgd(scenario, d, n_steps, record_every, seeds, seed=0, reuse=1, lr=None):
    """Full d-dimensional SGD of the Scenario over `seeds` seeds.

    Returns dict Q (S, T, p, p), M (S, T, p, k), a (S, T, p) at steps 0, record_every, ...
    """
    sc = scenario
    f = teacher_function(sc)
    sigma, dsigma = student_functions(sc)
    P = np.asarray(sc.P, float)
    n, p = sc.batch, sc.p
    lr = sc.lr if lr is None else lr

    def grad(W, Ws, a, X, xi):
        lam = X @ W.T / math.sqrt(d)
        nu = X @ Ws.T / math.sqrt(d)
        y = f(nu) + math.sqrt(sc.noise) * xi
        s = sigma(lam)
        yhat = s @ a
        delta = {"square": y - yhat, "correlation": y,
                 "exponential": y * jnp.exp(-y * yhat)}[sc.loss]  # minus d loss / d yhat
        C = delta[:, None] * dsigma(lam) * a[None, :]
        return C, s, delta

    def one(key):
        k_t, k_s, k_run = jax.random.split(key, 3)
        Ws = _teacher(k_t, d, P)
        W = sc.init_scale * jax.random.normal(k_s, (p, d))
        if sc.spherical:  # every row on the sphere ||w_j||^2 = d
            W = W * math.sqrt(d) / jnp.linalg.norm(W, axis=1, keepdims=True)
        a = jnp.asarray(sc.a)

        def step(carry, inputs):
            W, a = carry
            X, xi = inputs
            C, s, delta = grad(W, Ws, a, X, xi)
            dW = (lr / n) * C.T @ X / math.sqrt(d)
            if sc.tangent:  # remove the step's component along w_j (||w_j||^2 = d)
                dW = dW - (jnp.sum(dW * W, axis=1, keepdims=True) / d) * W
            W = W + dW
            if sc.train_second_layer:
                a = a + sc.lr_a / (n * d) * (s.T @ delta)
            if sc.spherical:
                W = W * math.sqrt(d) / jnp.linalg.norm(W, axis=1, keepdims=True)
            return (W, a), None

        def block(carry, key):
            kx, kn = jax.random.split(key)
            X = jax.random.normal(kx, (n, d))
            xi = jax.random.normal(kn, (n,))
            carry, _ = jax.lax.scan(lambda c, _: step(c, (X, xi)), carry, None, length=reuse)
            return carry, None

        def record(carry, key):
            carry, _ = jax.lax.scan(block, carry, jax.random.split(key, record_every // reuse))
            return carry, observe(*carry)

        def observe(W, a):
            return W @ W.T / d, W @ Ws.T / d, a

        first = observe(W, a)
        n_rec = n_steps // record_every
        _, rest = jax.lax.scan(record, (W, a), jax.random.split(k_run, n_rec))
        return jax.tree.map(lambda x0, xs: jnp.concatenate([x0[None], xs]), first, rest)

    keys = jax.random.split(jax.random.PRNGKey(seed), seeds)
    Q, M, a = jax.jit(jax.vmap(one))(keys)
    return {"Q": np.asarray(Q), "M": np.asarray(M), "a": np.asarray(a)}


def full_giant_step(scenario, d, n, lr, seeds, seed=0):
    """One full-batch GD step on n fresh samples from the random start, full d-dim."""
    sc = scenario
    f = teacher_function(sc)
    sigma, dsigma = student_functions(sc)
    P = np.asarray(sc.P, float)

    def one(key):
        k_t, k_s, k_x, k_n = jax.random.split(key, 4)
        Ws = _teacher(k_t, d, P)
        W = sc.init_scale * jax.random.normal(k_s, (sc.p, d))
        a = jnp.asarray(sc.a)
        X = jax.random.normal(k_x, (n, d))
        lam = X @ W.T / math.sqrt(d)
        y = f(X @ Ws.T / math.sqrt(d)) + math.sqrt(sc.noise) * jax.random.normal(k_n, (n,))
        s = sigma(lam)
        delta = y - s @ a if sc.loss == "square" else y
        C = delta[:, None] * dsigma(lam) * a[None, :]
        W1 = W + (lr / n) * C.T @ X / math.sqrt(d)
        a1 = a + sc.lr_a / (n * d) * (s.T @ delta) if sc.train_second_layer else a
        if sc.spherical:
            W1 = W1 * math.sqrt(d) / jnp.linalg.norm(W1, axis=1, keepdims=True)
        return {"Q0": W @ W.T / d, "M0": W @ Ws.T / d, "a0": a,
                "Q": W1 @ W1.T / d, "M": W1 @ Ws.T / d, "a": a1}

    keys = jax.random.split(jax.random.PRNGKey(seed), seeds)
    out = jax.jit(lambda ks: jax.lax.map(one, ks, batch_size=25))(keys)  # bounded memory
    return {k: np.asarray(v) for k, v in out.items()}


def statistics(runs: dict, times=None):
    """Flatten every non-redundant overlap entry at the chosen record indices.

    Returns (names, samples) with samples of shape (S, n_stats): Q upper triangle, M, a.
    """
    names, cols = [], []
    for key in ("Q", "M", "a"):
        x = runs[key]
        T = x.shape[1]
        for t in (range(T) if times is None else times):
            entries = x[:, t]
            if key == "Q":
                idx = [(i, j) for i in range(x.shape[2]) for j in range(i, x.shape[3])]
            elif key == "M":
                idx = [(i, j) for i in range(x.shape[2]) for j in range(x.shape[3])]
            else:
                idx = [(i,) for i in range(x.shape[2])]
            for ij in idx:
                names.append(f"{key}{''.join(map(str, ij))}@{t}")
                cols.append(entries[(slice(None), *ij)])
    return names, np.stack(cols, axis=1)


def two_sample_failures(x, y, names, alpha=1e-3):
    """Two-sample tests of equal mean and equal variance for every column, Bonferroni.

    Means: Welch z statistic (mean_x - mean_y) / sqrt(s_x^2 / n_x + s_y^2 / n_y).
    Variances: z statistic of s_x^2 - s_y^2 with the asymptotic (any-distribution)
    standard error sqrt((m4 - s^4) / n) of a sample variance, m4 the fourth central moment.
    Both are asymptotically N(0, 1) under equal distributions (hundreds of seeds per side);
    each of the 2 * n_stats tests is run at level alpha / (2 n_stats), so the probability
    that any of them fails for a correct engine is at most alpha (Bonferroni).
    Columns that are constant in both samples (e.g. Q = 1 under the spherical constraint,
    a fixed second layer) are compared exactly instead (to 1e-9 relative).

    Returns:
        list of strings describing the failed statistics (empty when all pass).
    """
    n_tests = 2 * x.shape[1]
    crit = stats.norm.isf(alpha / (2 * n_tests))
    failures = []
    for j, name in enumerate(names):
        a, b = x[:, j], y[:, j]
        if np.ptp(a) < 1e-12 * (1 + abs(a[0])) and np.ptp(b) < 1e-12 * (1 + abs(b[0])):
            if not np.isclose(a[0], b[0], rtol=1e-9, atol=1e-12):
                failures.append(f"{name}: constant {a[0]} vs {b[0]}")
            continue
        va, vb = a.var(ddof=1), b.var(ddof=1)
        z_mean = (a.mean() - b.mean()) / math.sqrt(va / a.size + vb / b.size)
        m4a = np.mean((a - a.mean()) ** 4)
        m4b = np.mean((b - b.mean()) ** 4)
        se = math.sqrt(max(m4a - va**2, 0) / a.size + max(m4b - vb**2, 0) / b.size)
        z_var = (va - vb) / se
        if abs(z_mean) > crit:
            failures.append(f"{name}: mean {a.mean():.5g} vs {b.mean():.5g} (z = {z_mean:.2f})")
        if abs(z_var) > crit:
            failures.append(f"{name}: variance {va:.4g} vs {vb:.4g} (z = {z_var:.2f})")
    return failures


def one_gram_step(sc, d, Q, M, S, seed, chunk=4000):
    """S independent single gram-engine steps (one unit each) from the same overlaps (Q, M)
    (P = I): the increments dQ (S, p, p) and dM (S, p, k), for one-step mean checks."""
    from escalier.numerics.simulation._gram import GramChain
    from escalier.numerics.simulation._normals import philox_state

    chain = GramChain(sc, d)
    A = jnp.asarray(M)
    B = jnp.linalg.cholesky(jnp.asarray(Q - M @ M.T))
    a = jnp.asarray(sc.a, float)

    def go(key):
        _, draws = chain.draw(philox_state(key), 1)
        A1, B1, _ = chain.unit((A, B, a), jax.tree.map(lambda x: x[0], draws))
        return A1 @ A1.T + B1 @ B1.T - Q, A1 - M

    f = jax.jit(jax.vmap(go))
    keys = jax.random.split(jax.random.key(seed), S)
    out = [f(keys[i:i + chunk]) for i in range(0, S, chunk)]
    return np.concatenate([o[0] for o in out]), np.concatenate([o[1] for o in out])
