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

import functools
import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["FIRST_LAYERS", "LEARNER_NAMES", "SECOND_LAYERS", "DepthConfig", "degree2_ridge",
           "first_layer_steps", "fit_predict", "probe_layers", "second_layer_gd",
           "spectral_first_layer", "subspace_overlap"]

LEARNER_NAMES = ("three_layer", "two_layer", "kernel", "random_features")
FIRST_LAYERS = ("giant", "paper")
SECOND_LAYERS = ("closed", "gd")
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
    first_layer: str = "giant"
    second_layer: str = "closed"
    layer2_steps: int | None = None
    layer2_lr: float = 1.0

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
        if self.first_layer not in FIRST_LAYERS:
            raise ValueError(f"first_layer must be one of {FIRST_LAYERS}, got {self.first_layer!r}")
        if self.second_layer not in SECOND_LAYERS:
            raise ValueError(f"second_layer must be one of {SECOND_LAYERS}, "
                             f"got {self.second_layer!r}")
        if self.layer2_steps is not None and self.layer2_steps < 1:
            raise ValueError(f"layer2_steps must be >= 1, got {self.layer2_steps}")
        if not self.layer2_lr > 0:
            raise ValueError("layer2_lr must be positive")

    def first_steps(self, d: int) -> int:
        """Number of first-layer updates: `steps` (giant) or int(15 ln d / 0.7) (paper: its
        15 ln d iterations of 70% mini-batches, here as full-batch updates)."""
        return self.steps if self.first_layer == "giant" else int(15 * math.log(d) / 0.7)

    def second_steps(self, d: int) -> int:
        """Second-layer GD updates: `layer2_steps`, or the paper's int(5 d^1.5 / 0.7)."""
        if self.layer2_steps is not None:
            return self.layer2_steps
        return int(5 * d**1.5 / 0.7)

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


def _plain_steps(forward, steps: int):
    """`steps` plain full-batch gradient steps W1 -= scale * grad (the paper's update)."""
    def loss(W1, rest, x, y):
        return 0.5 * jnp.mean((forward(W1, rest, x) - y) ** 2)

    grad = jax.grad(loss)

    @jax.jit
    def run(W1, rest, x, y, scale):
        return jax.lax.fori_loop(0, steps, lambda _, W: W - scale * grad(W, rest, x, y), W1)

    return run


_STEPS_CACHE: dict = {}


def first_layer_steps(kind: str, W1, rest, x, y, cfg: DepthConfig):
    """Train the first layer W1 of the "two"-layer (rest = (b1, a)) or "three"-layer
    (rest = (b1, W2, b2, w3)) network on the square loss, the other parameters frozen; jitted,
    cached per (kind, schedule, steps, lr).

    cfg.first_layer = "giant": cfg.steps normalised giant full-batch gradient steps (each row
    moves by cfg.lr times its normalised gradient and is put back on the unit sphere).
    "paper" (arXiv 2502.13961's code): cfg.first_steps(d) = int(15 ln d / 0.7) plain
    full-batch steps W1 -= sqrt(p1) / init^2 * grad (three-layer) or sqrt(p1) / init * grad
    (two-layer), rows free to grow."""
    forward = _three_forward if kind == "three" else _two_forward
    if cfg.first_layer == "giant":
        key = (kind, "giant", cfg.steps, cfg.lr)
        if key not in _STEPS_CACHE:
            _STEPS_CACHE[key] = _giant_steps(forward, cfg.steps, cfg.lr)
        return _STEPS_CACHE[key](W1, rest, x, y)
    steps = cfg.first_steps(x.shape[1])
    key = (kind, "paper", steps)
    if key not in _STEPS_CACHE:
        _STEPS_CACHE[key] = _plain_steps(forward, steps)
    p1 = W1.shape[0]
    scale = math.sqrt(p1) / (cfg.init ** 2 if kind == "three" else cfg.init)
    return _STEPS_CACHE[key](W1, rest, x, y, jnp.asarray(scale, W1.dtype))


@functools.partial(jax.jit, static_argnums=(5,))
def _second_gd(W2, b2, w3, H, y, steps, scale):
    def loss(W):
        return 0.5 * jnp.mean((_relu(H @ W.T + b2) @ w3 - y) ** 2)

    grad = jax.grad(loss)
    return jax.lax.fori_loop(0, steps, lambda _, W: W - scale * grad(W), W2)


def second_layer_gd(W2, b2, w3, H, y, cfg: DepthConfig, d: int):
    """cfg.second_steps(d) full-batch gradient steps on the second layer W2 of
    w3 . relu(W2 h + b2) on the first-layer features H (n, p1), w3 and b2 frozen, with the
    paper's step W2 -= 4 lr sqrt(p2) / (init p1) * grad (lr = cfg.layer2_lr; arXiv
    2502.13961's code, there with d^1.5-scaled mini-batch iterations)."""
    p2, p1 = W2.shape
    scale = 4 * cfg.layer2_lr * math.sqrt(p2) / (cfg.init * p1)
    return _second_gd(W2, b2, w3, H, y, cfg.second_steps(d), jnp.asarray(scale, H.dtype))


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
    return _fit(learner, data, key, cfg, D, degree)[0]


def probe_layers(learner: str, data, key, cfg: DepthConfig, D: int, degree: int,
                 W_star, h_test) -> dict:
    """Train `learner` as fit_predict does and measure what its layers learned:
    `error` (test MSE); for the networks `overlap`, the mean over first-layer rows of
    |P* w|^2 / |w|^2 (P* the projector on the rows of W_star, (m, d); D/d for random rows,
    1 for rows inside span(W*)) and `overlap_weighted` = |W P*|_F^2 / |W|_F^2 (the same
    with every row weighted by its squared norm: what matters when rows grow unequally, as
    under the paper's schedule); for three_layer `corr`, the largest |correlation| over the
    k branches of h*(test) (h_test (n_test, k)) with the best linear combination of the
    second layer's pre-activations (fitted on the first half of the test set and scored on
    the other half), and `corr_mean`, the mean over second-layer units of their largest
    |correlation| with a branch (the paper's non-linear overlap)."""
    err, info = _fit(learner, data, key, cfg, D, degree)
    out = {"error": err}
    if "W1" in info:
        out["overlap"] = subspace_overlap(info["W1"], W_star)
        out["overlap_weighted"] = subspace_overlap(info["W1"], W_star, weighted=True)
    if "U_test" in info:
        U = np.asarray(info["U_test"], np.float64)
        h = np.asarray(h_test, np.float64).reshape(U.shape[0], -1)
        half = U.shape[0] // 2
        A = np.c_[U, np.ones(U.shape[0])]
        best, unit = 0.0, np.zeros(U.shape[1])
        for b in range(h.shape[1]):
            coef = np.linalg.lstsq(A[:half], h[:half, b], rcond=None)[0]
            best = max(best, abs(np.corrcoef(A[half:] @ coef, h[half:, b])[0, 1]))
            Uc = U - U.mean(0)
            hc = h[:, b] - h[:, b].mean()
            c = np.abs(Uc.T @ hc) / (np.linalg.norm(Uc, axis=0) * np.linalg.norm(hc) + 1e-30)
            unit = np.maximum(unit, c)
        out["corr"] = float(best)
        out["corr_mean"] = float(np.mean(unit))
    return out


def subspace_overlap(W, W_star, weighted: bool = False) -> float:
    """Mean over the rows w of W of |P* w|^2 / |w|^2, P* the orthogonal projector on the row
    span of W_star; weighted: |W P*|_F^2 / |W|_F^2 (rows weighted by their squared norms)."""
    W = np.asarray(W, np.float64)
    Q = np.linalg.qr(np.asarray(W_star, np.float64).T)[0]
    proj = np.sum((W @ Q) ** 2, 1)
    if weighted:
        return float(np.sum(proj) / np.sum(W**2))
    return float(np.mean(proj / np.sum(W**2, 1)))


def spectral_first_layer(x, y, D: int) -> np.ndarray:
    """The spectral estimate of span(W*) that the first gradient steps approximate: the D
    eigenvectors of largest |eigenvalue| of (1/n) sum_mu (y_mu - mean y) x_mu x_mu^T (the
    degree-2 Hermite matrix E[y (x x^T - I)], docs/depth.md), as (D, d) orthonormal rows."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    M = (x.T * (y - y.mean())) @ x / x.shape[0]
    ev, V = np.linalg.eigh(M)
    return V[:, np.argsort(-np.abs(ev))[:D]].T


def _fit(learner: str, data, key, cfg: DepthConfig, D: int, degree: int):
    x, y, xv, yv, xt, yt = data
    n, d = x.shape
    dt = x.dtype
    p1 = cfg.first_width(D, degree)
    k1, k2, k3, k4, k5 = jax.random.split(key, 5)
    W0 = _sphere(k1, p1, d, dt)
    b1 = jax.random.uniform(k2, (p1,), dt, -1.0, 1.0)
    if learner == "kernel":
        theta = _poly2_fit(x, y, xv, yv, cfg)
        return _mse(_poly2_apply(theta, xt), yt), {}
    if learner == "random_features":
        return _readout(_relu(x @ W0.T + b1), y, _relu(xv @ W0.T + b1), yv,
                        _relu(xt @ W0.T + b1), yt), {"W1": W0}
    if learner == "two_layer":
        a = cfg.init * jax.random.normal(k3, (p1,), dt) / jnp.sqrt(p1)
        W1 = first_layer_steps("two", W0, (b1, a), x, y, cfg)
        return _readout(_relu(x @ W1.T + b1), y, _relu(xv @ W1.T + b1), yv,
                        _relu(xt @ W1.T + b1), yt), {"W1": W1}
    if learner == "three_layer":
        p2 = cfg.width2
        W2 = cfg.init * jax.random.normal(k3, (p2, p1), dt) / jnp.sqrt(p1)
        b2 = cfg.init * jax.random.uniform(k4, (p2,), dt, -1.0, 1.0)
        w3 = cfg.init * jax.random.normal(k5, (p2,), dt) / jnp.sqrt(p2)
        W1 = first_layer_steps("three", W0, (b1, W2, b2, w3), x, y, cfg)
        H, Hv, Ht = (_relu(u @ W1.T + b1) for u in (x, xv, xt))
        if cfg.second_layer == "gd":
            W2 = second_layer_gd(W2, b2, w3, H, y, cfg, d)

            def pre(Hx):
                return Hx @ W2.T + b2
        else:
            theta, c, _, _ = _ridge_fit(H, y, Hv, yv)
            m, s = jnp.mean(H @ theta + c), jnp.std(H @ theta + c) + 1e-12
            ks, kb = jax.random.split(k4)
            sign = jnp.where(jax.random.bernoulli(ks, 0.5, (p2,)), 1.0, -1.0).astype(dt)
            bias = jax.random.uniform(kb, (p2,), dt, -3.0, 3.0)

            def pre(Hx):
                return ((Hx @ theta + c - m) / s)[:, None] * sign + bias

        err = _readout(_relu(pre(H)), y, _relu(pre(Hv)), yv, _relu(pre(Ht)), yt)
        return err, {"W1": W1, "U_test": pre(Ht)}
    raise ValueError(f"unknown learner {learner!r}; accepted: {', '.join(LEARNER_NAMES)}")


def _readout(H, y, Hv, yv, Ht, yt) -> float:
    theta, c, _, _ = _ridge_fit(H, y, Hv, yv)
    return _mse(Ht @ theta + c, yt)


def _mse(pred, y) -> float:
    err = float(jnp.mean((pred - y) ** 2))
    if not np.isfinite(err):
        raise FloatingPointError("non-finite test error; use --dtype float64 or fewer --steps")
    return err
