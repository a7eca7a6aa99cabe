"""The learners compared on a hierarchical target (docs/depth.md), in JAX:

* ``three_layer``: f(x) = w3 . relu(W2 relu(W1 x + b1) + b2), trained layer-wise
  (arXiv 2502.13961): (1) `steps` normalised giant gradient steps of the square loss on W1
  alone (W2, w3 frozen at a small initialisation), each row renormalised to the unit
  sphere; (2) the second layer at the closed-form endpoint of its training with the readout
  linearised: every unit's pre-activation is s_j hhat(x) + b2_j, s_j = +-1, with hhat the ridge
  fit of y on the first-layer features relu(W1 x + b1) (standardised); (3) a ridge readout w3.
* ``two_layer``: f(x) = a . relu(W1 x + b1): the same first-layer steps (through its own
  frozen readout), then a ridge readout.
* ``kernel``: ridge on the orthonormal Hermite features of x of degree <= 2 (the degree-2
  polynomial kernel K(x, x') = 1 + x.x' + ((x.x')^2 - |x|^2 - |x'|^2 + d) / 2), solved in
  its primal form by conjugate gradients (no n x n matrix).
* ``random_features``: ridge on relu(W0 x + b0), W0 the untrained first layer (the network's
  random-features kernel at width p).

Every ridge picks its penalty from RIDGES on a fresh validation sample (as a practitioner
would); test errors are mean squared errors on fresh test samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["LEARNER_NAMES", "DepthConfig", "degree2_ridge", "fit_predict", "first_layer_steps"]

LEARNER_NAMES = ("three_layer", "two_layer", "kernel", "random_features")
RIDGES = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)


@dataclass(frozen=True)
class DepthConfig:
    """Sizes and steps of the learners.

    width: first hidden layer p1 (None: 2 * binom(D + deg P, deg P), the number of
        polynomials of degree <= deg P of the D teacher coordinates, twice, within
        [32, max_width]); width2: second hidden layer p2; steps / lr: the first-layer giant
        steps (lr is the length of each normalised step relative to the unit rows);
        init: scale of the frozen upper layers at initialisation; cg_iters: conjugate
        gradient iterations of the kernel.
    """

    width: int | None = None
    max_width: int = 1024
    width2: int = 64
    steps: int = 8
    lr: float = 4.0
    init: float = 0.2
    cg_iters: int = 60
    dtype: str = "float32"

    def __post_init__(self):
        if self.width is not None and self.width < 1:
            raise ValueError(f"width must be >= 1, got {self.width}")
        for name in ("max_width", "width2", "steps", "cg_iters"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not (self.lr > 0 and self.init > 0):
            raise ValueError("lr and init must be positive")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")

    def first_width(self, D: int, degree: int) -> int:
        if self.width is not None:
            return self.width
        return int(min(max(2 * math.comb(D + degree, degree), 32), self.max_width))

    @property
    def jdtype(self):
        return jnp.float64 if self.dtype == "float64" else jnp.float32


# --- ridge with a validation choice of the penalty ---------------------------------------


def _ridge_fit(H, y, Hv, yv):
    """Ridge of y on the columns of H (with an intercept), penalty lambda * tr(C)/p picked
    from RIDGES on (Hv, yv). Returns (theta, intercept, lambda, validation error)."""
    mu, ym = H.mean(0), y.mean()
    Hc, yc = H - mu, y - ym
    n, p = H.shape
    C = (Hc.T @ Hc) / n
    b = Hc.T @ yc / n
    scale = jnp.trace(C) / p
    evals, evecs = jnp.linalg.eigh(C.astype(jnp.float64) if jax.config.jax_enable_x64 else C)
    proj = evecs.T @ b.astype(evals.dtype)
    best = None
    for lam in RIDGES:
        theta = (evecs @ (proj / (evals + lam * scale))).astype(H.dtype)
        c = ym - mu @ theta
        err = float(jnp.mean((Hv @ theta + c - yv) ** 2))
        if not np.isfinite(err):
            continue
        if best is None or err < best[3]:
            best = (theta, c, lam, err)
    if best is None:
        raise FloatingPointError("every ridge penalty gave a non-finite validation error; "
                                 "use --dtype float64")
    return best


# --- first layer: normalised giant gradient steps ----------------------------------------


def _relu(u):
    return jnp.maximum(u, 0.0)


def _three_forward(W1, rest, x):
    b1, W2, b2, w3 = rest
    return _relu(_relu(x @ W1.T + b1) @ W2.T + b2) @ w3


def _two_forward(W1, rest, x):
    b1, a = rest
    return _relu(x @ W1.T + b1) @ a


def _giant_steps(forward, steps: int, lr: float):
    def loss(W1, rest, x, y):
        return 0.5 * jnp.mean((forward(W1, rest, x) - y) ** 2)

    grad = jax.grad(loss)

    @jax.jit
    def run(W1, rest, x, y):
        def body(_, W):
            G = grad(W, rest, x, y)
            G = G / (jnp.linalg.norm(G, axis=1, keepdims=True) + 1e-30)
            W = W - lr * G
            return W / jnp.linalg.norm(W, axis=1, keepdims=True)

        return jax.lax.fori_loop(0, steps, body, W1)

    return run


_STEPS_CACHE: dict = {}


def first_layer_steps(kind: str, W1, rest, x, y, cfg: DepthConfig):
    """cfg.steps normalised giant gradient steps of the square loss on the first layer W1
    (rows on the unit sphere) of the "two"-layer (rest = (b1, a)) or "three"-layer
    (rest = (b1, W2, b2, w3)) network, the other parameters frozen; jitted, cached per
    (kind, steps, lr)."""
    key = (kind, cfg.steps, cfg.lr)
    if key not in _STEPS_CACHE:
        _STEPS_CACHE[key] = _giant_steps(_three_forward if kind == "three" else _two_forward,
                                         cfg.steps, cfg.lr)
    return _STEPS_CACHE[key](W1, rest, x, y)


def _sphere(key, p, d, dtype):
    W = jax.random.normal(key, (p, d), dtype=dtype)
    return W / jnp.linalg.norm(W, axis=1, keepdims=True)


# --- kernel: degree-2 Hermite features by conjugate gradients ------------------------------


def _poly2_apply(theta, x):
    c0, c1, C = theta
    return c0 + x @ c1 + (jnp.einsum("ni,ij,nj->n", x, C, x) - jnp.trace(C)) / jnp.sqrt(2.0)


def _poly2_adjoint(r, x):
    n = x.shape[0]
    d = x.shape[1]
    return (jnp.sum(r) / n, x.T @ r / n,
            ((x.T * r) @ x / n - jnp.sum(r) / n * jnp.eye(d, dtype=x.dtype)) / jnp.sqrt(2.0))


@jax.jit
def _poly2_cg(x, y, lam, theta0, iters, tol=1e-5):
    def A(theta):
        out = _poly2_adjoint(_poly2_apply(theta, x), x)
        return jax.tree_util.tree_map(lambda o, t: o + lam * t, out, theta)

    b = _poly2_adjoint(y, x)
    theta, _ = jax.scipy.sparse.linalg.cg(A, b, x0=theta0, tol=tol, maxiter=iters)
    return theta


def degree2_ridge(x, y, lam: float, iters: int = 60, tol: float = 1e-5):
    """The degree-2 Hermite-feature ridge (the kernel learner) at penalty lam, by at most
    `iters` conjugate-gradient iterations from zero, stopped at relative residual `tol` (the
    learner uses 1e-5, JAX's default): minimises
    mean((f(x) - y)^2) + lam (c0^2 + |c1|^2 + ||C||_F^2), f = c0 + c1.x + (x^T C x - tr C)/sqrt 2.
    Returns (c0, c1, C) and a predictor."""
    d, dt = x.shape[1], x.dtype
    theta0 = (jnp.zeros((), dt), jnp.zeros((d,), dt), jnp.zeros((d, d), dt))
    theta = _poly2_cg(x, y, jnp.asarray(lam, dt), theta0, iters, jnp.asarray(tol, dt))
    return theta, lambda u: _poly2_apply(theta, u)


def _poly2_fit(x, y, xv, yv, cfg):
    d = x.shape[1]
    dt = x.dtype
    theta = (jnp.zeros((), dt), jnp.zeros((d,), dt), jnp.zeros((d, d), dt))
    best = None
    for lam in sorted(RIDGES, reverse=True):  # warm starts from the most regular
        theta = _poly2_cg(x, y, jnp.asarray(lam, dt), theta, cfg.cg_iters)
        err = float(jnp.mean((_poly2_apply(theta, xv) - yv) ** 2))
        if np.isfinite(err) and (best is None or err < best[1]):
            best = (theta, err)
    if best is None:
        raise FloatingPointError("the kernel ridge diverged; use --dtype float64")
    return best[0]


# --- the learners ------------------------------------------------------------------------


def fit_predict(learner: str, data, key, cfg: DepthConfig, D: int, degree: int) -> float:
    """Train `learner` on data = (x, y, xv, yv, xt, yt) and return its test MSE."""
    x, y, xv, yv, xt, yt = data
    n, d = x.shape
    dt = x.dtype
    p1 = cfg.first_width(D, degree)
    k1, k2, k3, k4, k5 = jax.random.split(key, 5)
    W0 = _sphere(k1, p1, d, dt)
    b1 = jax.random.uniform(k2, (p1,), dt, -1.0, 1.0)
    if learner == "kernel":
        theta = _poly2_fit(x, y, xv, yv, cfg)
        return _mse(_poly2_apply(theta, xt), yt)
    if learner == "random_features":
        return _readout(_relu(x @ W0.T + b1), y, _relu(xv @ W0.T + b1), yv,
                        _relu(xt @ W0.T + b1), yt)
    if learner == "two_layer":
        a = cfg.init * jax.random.normal(k3, (p1,), dt) / jnp.sqrt(p1)
        W1 = first_layer_steps("two", W0, (b1, a), x, y, cfg)
        return _readout(_relu(x @ W1.T + b1), y, _relu(xv @ W1.T + b1), yv,
                        _relu(xt @ W1.T + b1), yt)
    if learner == "three_layer":
        p2 = cfg.width2
        W2 = cfg.init * jax.random.normal(k3, (p2, p1), dt) / jnp.sqrt(p1)
        b2 = cfg.init * jax.random.uniform(k4, (p2,), dt, -1.0, 1.0)
        w3 = cfg.init * jax.random.normal(k5, (p2,), dt) / jnp.sqrt(p2)
        W1 = first_layer_steps("three", W0, (b1, W2, b2, w3), x, y, cfg)
        H, Hv, Ht = (_relu(u @ W1.T + b1) for u in (x, xv, xt))
        theta, c, _, _ = _ridge_fit(H, y, Hv, yv)
        m, s = jnp.mean(H @ theta + c), jnp.std(H @ theta + c) + 1e-12
        ks, kb = jax.random.split(k4)
        sign = jnp.where(jax.random.bernoulli(ks, 0.5, (p2,)), 1.0, -1.0).astype(dt)
        bias = jax.random.uniform(kb, (p2,), dt, -3.0, 3.0)

        def second(Hx):
            return _relu(((Hx @ theta + c - m) / s)[:, None] * sign + bias)

        return _readout(second(H), y, second(Hv), yv, second(Ht), yt)
    raise ValueError(f"unknown learner {learner!r}; accepted: {', '.join(LEARNER_NAMES)}")


def _readout(H, y, Hv, yv, Ht, yt) -> float:
    theta, c, _, _ = _ridge_fit(H, y, Hv, yv)
    return _mse(Ht @ theta + c, yt)


def _mse(pred, y) -> float:
    err = float(jnp.mean((pred - y) ** 2))
    if not np.isfinite(err):
        raise FloatingPointError("non-finite test error; use --dtype float64 or fewer --steps")
    return err
