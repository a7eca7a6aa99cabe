"""The exact overlap-space ("gram") engine: finite-d SGD at a cost independent of d.

docs/theory.md §6.2. Inputs x ~ N(0, I_d) are isotropic and the SGD update of
escalier.derive.Scenario (see its docstring),

    w_j <- w_j + (lr / n_b) sum_mu a_j Delta_e^mu sigma'(lambda_j^mu) x^mu / sqrt(d),

is a combination of the samples, so the whole process is equivariant under rotations of
R^d and only the Gram matrix of V = [W*; W] matters. This module simulates that Gram
matrix exactly, in distribution, for every d.

Derivation (the frame representation)
-------------------------------------
Keep an orthonormal frame of the span of V: k rows E* spanning the teacher rows, and p rows
F completing it to the span of the student rows. In that frame

    W* = sqrt(d) L_P E*,          W = sqrt(d) (A E* + B F),

with L_P the (fixed) symmetric PSD root of P = W* W*^T / d (Scenario.teacher_factor),
A (p x k) and B (p x p). Then

    M = W W*^T / d = A L_P^T,     Q = W W^T / d = A A^T + B B^T,

and the state of the chain is (A, B, a): p (p + k) + p numbers, whatever d. The frame
itself is never stored: by rotation invariance its orientation is independent of
everything that matters and the next samples do not see it.

A sample x splits as x = g*^T E* + gF^T F + x_perp, with g* ~ N(0, I_k), gF ~ N(0, I_p)
its frame coordinates and x_perp uniform in the (d - k - p)-dimensional complement, all
independent of the past. So

    nu = L_P g*,   lambda = A g* + B gF,   ||x||^2 = |g*|^2 + |gF|^2 + chi^2_{d-k-p},

which is the statement u = V x / sqrt(d) ~ N(0, G), ||x||^2 = u^T G^+ u + chi^2_{d - rank V}
of docs/theory.md §6.2 written with the factor G = L L^T, L = [[L_P, 0], [A, B]]
(rank V = k + p; the frame coordinates are g = L^{-1} u, so u^T G^+ u = |g|^2). For a
batch X (n_b x d) with frame coordinates G* (n_b x k), GF (n_b x p) and complement part
X_perp, and the coefficients
C (n_b x p), C_mu j = a_j Delta_e^mu sigma'(lambda_j^mu), the update is

    W' = W + (lr / n_b) C^T X / sqrt(d)
       = sqrt(d) [(A + eps C^T G*) E* + (B + eps C^T GF) F] + (lr / n_b) C^T X_perp / sqrt(d),

with eps = lr / (n_b d). The last term lies in the complement, with Gram matrix
(lr / n_b)^2 C^T X_perp X_perp^T C / d and X_perp X_perp^T ~ Wishart_{n_b}(d - k - p, I),
independent of (G*, GF). Let m = min(n_b, p). If n_b <= p, X_perp = H O with H the
n_b x n_b Bartlett factor (see _gram_draws); if n_b > p, write C = Q_C R_C (thin QR):
Q_C^T X_perp is a p x (d - k - p) standard Gaussian matrix independent of C, so
C^T X_perp = R_C^T H O with H the p x p Bartlett factor. Either way the complement term is
sqrt(d) eps T O with T = C^T H (p x m) and O orthonormal rows in the complement, so

    A' = A + eps C^T G*,     B' B'^T = (B + eps C^T GF)(B + eps C^T GF)^T + eps^2 T T^T,

and B' is taken as the lower-triangular LQ factor of the p x (p + m) block [B + eps C^T GF,
eps T] (a QR of its transpose: PSD by construction, no Gram matrix is ever differenced).
The new F is the p-dimensional span of the student's component outside E*. Second layer:
a' = a + (lr_a / (n_b d)) sum_mu Delta_e^mu sigma(lambda^mu), at the same (pre-step) point.
Spherical projection: w_j <- sqrt(d) w_j / ||w_j|| divides row j of A and B by sqrt(Q'_jj)
(a row scaling keeps B lower triangular). Tangent projection (Scenario.tangent): the step
of w_j loses its component along w_j, c_j w_j with c_j = eps sum_mu C_mu j lambda_j^mu
(= Delta w_j . w_j / d at ||w_j||^2 = d); w_j has no complement component, so this is
A <- A - c A, B <- B - c B (rows), the complement term unchanged.
Cost per step: O(n_b (p + k) p + p^3) and n_b + (p + k) n_b + m (m + 1) / 2 random numbers.

Batch reuse (the same batch for `reuse` consecutive steps): the batch is kept in the frame,
X = G* E* + [GF, X_c] [F; O_n] with X_c (n_b x q), q = min(n_b, d - k - p), the Bartlett
factor of its complement part (a standard Gaussian n_b x (d - k - p) block if n_b > d - k - p)
and O_n orthonormal rows of the complement. During the block the student's complement
coordinates live in the extended frame [F; O_n]: B_x = [B, 0] (p x (p + q)), each step
lambda = A g* + B_x [gF; x_c], A += eps C^T G*, B_x += eps C^T [GF, X_c], with no new
direction appearing; at the end of the block B_x is compressed back to p x p by LQ. The
batch's projections and Gram block are thereby kept exactly across the reuse.

Displaced steps (`variant`, engines/_reuse.py: extragradient, SAM) evaluate the gradient
twice on one fresh batch: first at w, then at a point displaced along that gradient, and
step from w with the second. Both evaluations and the displaced point lie in the span of
W and the batch, so the batch is kept exactly as under reuse (the same draws, B_x = [B, 0]):
with dA = eps C0^T G*, dB = eps C0^T [GF, X_c] the first gradient's step,

    extragradient(probe): (A1, B1, a1) = (A, B_x, a) + probe (dA, dB, eps_a s0^T Delta_0),
    SAM(rho):      (A1, B1, a1) = (A, B_x, a) - rho (dA, dB, 0) / ||(dA, dB)||_F,

(||(dA, dB)||_F = ||lr g||_F / sqrt(d) in units of W / sqrt(d), the frame being
orthonormal), then C1, s1, Delta_1 at (A1, B1, a1) and A' = A + eps C1^T G*,
B_x' = B_x + eps C1^T [GF, X_c], a' = a + eps_a s1^T Delta_1, B' = LQ factor of B_x'
(spherical extragradient: then each row of [A', B'] scaled to norm sqrt(d); the LQ factor
keeps row norms, and the look-ahead point is not projected).
Multi-pass GD (simulation._gram_multipass) is the same kept batch, never released.

Exactness needs x ~ N(0, I_d) and an update that is a rotation-equivariant function of
the projections (plain SGD here); anisotropic or non-Gaussian inputs and coordinate-wise
optimisers (Adam, sign-SGD, per-coordinate clipping) are refused with a ValueError.

Reference: docs/theory.md §6.2-6.4; the chi-square / Wishart facts are the standard ones
(Anderson, An Introduction to Multivariate Statistical Analysis, ch. 7).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from escalier.numerics.lower import residual_function, student_functions, teacher_function

from ._blocks import block_size, progress_bar, record_blocks
from ._gram_draws import Stream, bartlett, bartlett_size, initial_state, philox_state
from ._variant import check_variant

__all__ = ["GramChain", "check_exact", "run", "sphere_rows"]

_EXACT_INPUTS = ("gaussian", "isotropic", "isotropic-gaussian")
_EXACT_OPTIMIZERS = ("sgd",)
_CHUNK = 1024


def check_exact(scenario, *, inputs: str | None = None, optimizer: str | None = None,
                covariance: Any = None) -> None:
    """Refuse what the Gram engine cannot simulate exactly.

    Args:
        scenario: the escalier.derive.Scenario.
        inputs: input distribution, if the caller has one ("gaussian" is accepted).
        optimizer: optimiser name, if the caller has one ("sgd" is accepted).
        covariance: an input covariance, if any; only None (identity) is exact.

    Raises:
        ValueError: anisotropic or non-Gaussian inputs, a coordinate-wise optimiser.
    """
    inputs = inputs if inputs is not None else getattr(scenario, "inputs", None)
    optimizer = optimizer if optimizer is not None else getattr(scenario, "optimizer", None)
    if covariance is None:
        covariance = getattr(scenario, "covariance", None)
    if inputs is not None and str(inputs).lower() not in _EXACT_INPUTS:
        raise ValueError(
            f"the gram engine is exact only for isotropic Gaussian inputs x ~ N(0, I_d), got "
            f"inputs={inputs!r}: use engine='full' for other input distributions"
        )
    if covariance is not None:
        cov = np.asarray(covariance, dtype=float)
        if not (cov.ndim == 0 and cov == 1.0):
            raise ValueError(
                "the gram engine is exact only for isotropic inputs (covariance I_d), got an "
                "input covariance: anisotropic data breaks the rotation invariance; use "
                "engine='full'"
            )
    if optimizer is not None and str(optimizer).lower() not in _EXACT_OPTIMIZERS:
        raise ValueError(
            f"the gram engine is exact only for rotation-equivariant updates (plain SGD), got "
            f"optimizer={optimizer!r}: coordinate-wise optimisers such as Adam act on "
            f"individual coordinates of w, which the Gram matrix does not determine; use "
            f"engine='full'"
        )


def row_factor(K):
    """A p x p matrix L with L L^T = K K^T for K of shape (p, c), c >= p (LQ factor)."""
    if K.shape[0] == 1:
        return jnp.sqrt(jnp.sum(K * K, axis=1, keepdims=True))
    return jnp.linalg.qr(K.T, mode="r").T


@dataclass(frozen=True)
class GramChain:
    """The exact Markov chain of (A, B, a) for one Scenario at one d (module docstring).

    One *unit* is one SGD step (reuse == 1) or one block of `reuse` steps on one batch.

    Attributes:
        scenario: the escalier.derive.Scenario.
        d: input dimension.
        dtype: jnp.float32 or jnp.float64.
        reuse: consecutive steps per mini-batch (1: a fresh batch every step).
        lr: first-layer learning rate (default scenario.lr).
        variant: () plain steps; ("extragradient", probe) or ("sam", rho): displaced steps
            on each fresh batch (module docstring; reuse must be 1; SAM not spherical).
        keep_batch: draw batches in the kept layout (complement block X_c) even for plain
            steps at reuse = 1 (multi-pass GD keeps its one batch for the whole run).
    """

    scenario: Any
    d: int
    dtype: Any = jnp.float64
    reuse: int = 1
    lr: float | None = None
    variant: tuple = ()
    keep_batch: bool = False

    def __post_init__(self):
        sc = self.scenario
        check_exact(sc)
        if not (isinstance(self.d, int | np.integer) and self.d >= 1):
            raise ValueError(f"d must be a positive integer, got {self.d!r}")
        if not (isinstance(self.reuse, int | np.integer) and self.reuse >= 1):
            raise ValueError(f"reuse must be an integer >= 1 (steps per batch), got {self.reuse!r}")
        dtype = jnp.dtype(self.dtype)
        if dtype not in (jnp.dtype(jnp.float32), jnp.dtype(jnp.float64)):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype!r}")
        if dtype == jnp.dtype(jnp.float64) and not jax.config.jax_enable_x64:
            raise ValueError(
                "float64 requested but JAX runs in float32: set JAX_ENABLE_X64=1 (or "
                "jax.config.update('jax_enable_x64', True)) or pass dtype=float32"
            )
        object.__setattr__(self, "dtype", dtype)
        variant = check_variant(self.variant, sc)
        if variant and self.reuse != 1:
            raise ValueError(f"{variant[0]} steps take one step per batch, got reuse = "
                             f"{self.reuse}")
        object.__setattr__(self, "variant", variant)
        p, k, n = sc.p, sc.k, sc.batch
        need = k + p + (0 if self.kept else min(n, p))
        if self.d < need:
            raise ValueError(
                f"d = {self.d} is too small for the gram engine with k = {k}, p = {p}, batch = "
                f"{n}: need d >= {need} (k + p + min(batch, p)) for the Wishart draws"
            )
        # symmetric PSD square root of P (singular P allowed, as in the full engine: the
        # teacher frame E* then has directions the teacher does not use, still k + p in all)
        object.__setattr__(self, "teacher_root", sc.teacher_factor())
        f = teacher_function(sc)
        sigma, dsigma = student_functions(sc)
        object.__setattr__(self, "_fns", (f, sigma, dsigma))

    # static quantities -----------------------------------------------------------------

    @property
    def kept(self) -> bool:
        """Whether batches are drawn with their complement block X_c (reuse, displaced
        steps, keep_batch) rather than as one step's Bartlett factor."""
        return self.reuse > 1 or bool(self.variant) or self.keep_batch

    @property
    def df(self) -> int:
        """Dimension d - k - p of the complement of the span of [W*; W]."""
        return self.d - self.scenario.k - self.scenario.p

    @property
    def q(self) -> int:
        """Width of the kept batch complement block under reuse: min(n_b, d - k - p)."""
        return min(self.scenario.batch, self.df)

    def _eps(self):
        lr = self.scenario.lr if self.lr is None else self.lr
        n = self.scenario.batch
        return lr / (n * self.d), self.scenario.lr_a / (n * self.d)

    # the chain -------------------------------------------------------------------------

    def init(self, key):
        """Initial state (A, B, a, rng) for one seed (one JAX PRNG key); rng: Philox state."""
        sc = self.scenario
        rng, A, B = initial_state(philox_state(key), sc.p, sc.k, self.d, sc.init_scale,
                                  self.dtype)
        if sc.spherical:  # the full engine's convention: w <- sqrt(d) w / ||w|| at the start
            A, B = sphere_rows(A, B)
        return A, B, jnp.asarray(sc.a, self.dtype), rng

    def observe(self, state):
        """(Q, M, a) of a state."""
        A, B, a = state[:3]
        LP = jnp.asarray(self.teacher_root, self.dtype)
        return A @ A.T + B @ B.T, A @ LP.T, a

    def draw(self, rng, size: int) -> tuple[jax.Array, dict[str, jax.Array]]:
        """(new Philox state, random inputs of `size` consecutive units, leading axis `size`).

        g: (size, n_b, k + p) frame coordinates of the samples; xi: (size, n_b) label noise
        (when noise > 0); H: (size, m, m) Bartlett factors (plain online steps, m = min(n_b, p))
        or (size, n_b, q) the batch's complement block (kept batches: reuse >= 2,
        displaced steps, keep_batch).
        """
        sc, dt = self.scenario, self.dtype
        n, p, k = sc.batch, sc.p, sc.k
        noise = n if sc.noise > 0 else 0
        if not self.kept:
            extra = bartlett_size(min(n, p), self.df)
        elif n <= self.df:
            extra = bartlett_size(n, self.df)
        else:
            extra = (n * self.df, 0)
        stream = Stream(rng, (size,), n * (k + p) + noise + extra[0], extra[1], dt)
        out = {"g": stream.normal((n, k + p))}
        if noise:
            out["xi"] = stream.normal((n,))
        if not self.kept:
            out["H"] = bartlett(stream, min(n, p), self.df, dt)
        elif n <= self.df:
            out["H"] = bartlett(stream, n, self.df, dt)
        else:
            out["H"] = stream.normal((n, self.df))
        return stream.state, out

    def labels(self, gs, xi):
        """(nu, y): the teacher's pre-activations nu = gs L_P^T and the labels (with noise)
        of samples with teacher-frame coordinates gs (n_b x k)."""
        f = self._fns[0]
        nu = gs @ jnp.asarray(self.teacher_root, self.dtype).T
        y = f(nu)
        if xi is not None:
            y = y + jnp.sqrt(jnp.asarray(self.scenario.noise, self.dtype)) * xi
        return nu, y

    def coefficients(self, lam, y, a):
        """(C, sigma(lambda), Delta_e): C_mu j = a_j Delta_e^mu sigma'(lambda_j^mu)."""
        _, sigma, dsigma = self._fns
        s = sigma(lam)
        delta = residual_function(self.scenario)(y, s @ a)
        return delta[:, None] * dsigma(lam) * a[None, :], s, delta

    def _gradient(self, A, Bx, a, gs, gx, xi):
        """(C, sigma(lambda), Delta_e, lambda) of one batch at the current weights."""
        _, y = self.labels(gs, xi)
        lam = gs @ A.T + gx @ Bx.T
        return (*self.coefficients(lam, y, a), lam)

    def _finish(self, A, B, a, s, delta, eps_a):
        sc = self.scenario
        if sc.train_second_layer:
            a = a + eps_a * (s.T @ delta)
        if sc.spherical:
            A, B = sphere_rows(A, B)
        return A, B, a

    def _tangent(self, C, lam, eps):
        """(1 - c_j) per row (p, 1): the tangent projection's shrink of w_j (module doc);
        1 without Scenario.tangent."""
        if not self.scenario.tangent:
            return 1.0
        return 1.0 - eps * jnp.sum(C * lam, axis=0)[:, None]

    def kept_step(self, A, Bx, a, gs, gx, xi, eps, eps_a):
        """One SGD step on a kept batch (frame coordinates gs, gx = [gF, X_c]) in the
        extended frame: A += eps C^T gs, Bx += eps C^T gx (no new direction appears)."""
        C, s, delta, lam = self._gradient(A, Bx, a, gs, gx, xi)
        shrink = self._tangent(C, lam, eps)
        A = shrink * A + eps * (C.T @ gs)
        Bx = shrink * Bx + eps * (C.T @ gx)
        return self._finish(A, Bx, a, s, delta, eps_a)

    def _displaced(self, A, Bx, a, gs, gx, xi, eps, eps_a):
        """One extragradient or SAM step on a kept batch (module docstring)."""
        C, s, delta, _ = self._gradient(A, Bx, a, gs, gx, xi)
        dA, dB = eps * (C.T @ gs), eps * (C.T @ gx)
        if self.variant[0] == "sam":
            norm = jnp.sqrt(jnp.sum(dA * dA) + jnp.sum(dB * dB))
            r = self.variant[1] / jnp.maximum(norm, jnp.finfo(self.dtype).tiny)
            A1, B1, a1 = A - r * dA, Bx - r * dB, a
        else:
            probe = self.variant[1]
            A1, B1 = A + probe * dA, Bx + probe * dB
            a1 = (a + probe * eps_a * (s.T @ delta) if self.scenario.train_second_layer
                  else a)
        C, s, delta, _ = self._gradient(A1, B1, a1, gs, gx, xi)
        A, Bx = A + eps * (C.T @ gs), Bx + eps * (C.T @ gx)
        if self.scenario.train_second_layer:
            a = a + eps_a * (s.T @ delta)
        return A, Bx, a

    def unit(self, state, draws, scales=None):
        """Advance (A, B, a) by one unit (one step, or `reuse` steps on one batch); `scales`
        (reuse,): a learning-rate schedule's factor at each of the unit's steps (None: 1)."""
        sc = self.scenario
        A, B, a = state
        k, p, n = sc.k, sc.p, sc.batch
        eps, eps_a = self._eps()
        if scales is None:
            scales = jnp.ones((self.reuse,), self.dtype)
        g, xi, H = draws["g"], draws.get("xi"), draws["H"]
        gs, gf = g[:, :k], g[:, k:]
        if not self.kept:
            eps, eps_a = eps * scales[0], eps_a * scales[0]
            C, s, delta, lam = self._gradient(A, B, a, gs, gf, xi)
            shrink = self._tangent(C, lam, eps)
            A1 = shrink * A + eps * (C.T @ gs)
            Bt = shrink * B + eps * (C.T @ gf)
            if n <= p:
                T = C.T @ H
            else:
                T = row_factor(C.T) @ H
            B1 = row_factor(jnp.concatenate([Bt, eps * T], axis=1))
            return self._finish(A1, B1, a, s, delta, eps_a)
        gx = jnp.concatenate([gf, H], axis=1)
        Bx = jnp.concatenate([B, jnp.zeros((p, self.q), self.dtype)], axis=1)
        if self.variant:
            A, Bx, a = self._displaced(A, Bx, a, gs, gx, xi, eps * scales[0],
                                       eps_a * scales[0])
            B = row_factor(Bx)  # keeps the row norms: the sphere is applied after
            if sc.spherical:
                A, B = sphere_rows(A, B)
            return A, B, a

        def step(carry, scale):
            return self.kept_step(*carry, gs, gx, xi, scale * eps, scale * eps_a), None

        (A, Bx, a), _ = jax.lax.scan(step, (A, Bx, a), scales)
        return A, row_factor(Bx), a

    def advance(self, state, units: int, chunk: int = _CHUNK, *, first=0, schedule=None,
                switch=None):
        """Advance (A, B, a, rng) by `units` units (static count), drawn in chunks of `chunk`.

        The last chunk is masked when `chunk` does not divide `units` (one compiled chunk).
        schedule: a learning-rate Schedule (None: constant); the units advanced are numbers
        first, first + 1, ... (traced), and step u reuse + i uses the factor at that step / d.
        switch: (chain, protocol) of an AdaptiveLoss run: the state is (A, B, a, rng, flag),
        each step is this chain's while flag is False and `chain`'s after (same draws), and
        flag becomes True after the first step with protocol.switched(M).
        """
        size = min(units, chunk)
        if size == 0:
            return state
        n_chunks = -(-units // size)
        exact = units % size == 0

        def run_chunk(i, state):
            rng, draws = self.draw(state[3], size)

            def step(s, xs):
                r, j = xs
                scales = None
                if schedule is not None:
                    u = first + i * size + j
                    steps = u * self.reuse + jnp.arange(self.reuse)
                    scales = schedule.factor(steps / self.d).astype(self.dtype)
                if switch is None:
                    new = self.unit(s, r, scales)
                else:
                    other, protocol = switch
                    after = other.unit(s[:3], r, scales)
                    before = self.unit(s[:3], r, scales)
                    new = jax.tree.map(lambda x, y: jnp.where(s[3], x, y), after, before)
                    new = (*new, s[3] | protocol.switched(self.observe(new)[1]))
                if exact:
                    return new, None
                active = i * size + j < units
                return jax.tree.map(lambda a, b: jnp.where(active, a, b), new, s), None

            carry = state[:3] if switch is None else (*state[:3], state[4])
            abc, _ = jax.lax.scan(step, carry, (draws, jnp.arange(size)))
            return (*abc[:3], rng, *abc[3:])

        return jax.lax.fori_loop(0, n_chunks, run_chunk, state)


def sphere_rows(A, B):
    """(A, B) with row j divided by sqrt(Q_jj), Q = A A^T + B B^T: every student row
    renormalised to ||w_j||^2 = d."""
    norm = jnp.sqrt(jnp.sum(A * A, axis=1, keepdims=True) + jnp.sum(B * B, axis=1,
                                                                  keepdims=True))
    return A / norm, B / norm


def as_keys(keys):
    keys = jnp.asarray(keys) if not isinstance(keys, jax.Array) else keys
    if jnp.issubdtype(keys.dtype, jax.dtypes.prng_key):
        if keys.ndim != 1:
            raise ValueError(f"keys must be a 1-d array of PRNG keys, got shape {keys.shape}")
        return keys
    if keys.ndim != 2 or keys.shape[1] != 2 or keys.dtype != jnp.uint32:
        raise ValueError(
            f"keys must be an (S, 2) uint32 array of raw PRNG keys (one per seed), got shape "
            f"{keys.shape} and dtype {keys.dtype}"
        )
    return keys


@functools.lru_cache(maxsize=32)
def _program(scenario, d, dtype, reuse, n_records, units, chunk, schedule=None,
             variant=(), adaptive=None):
    """The jitted, seed-vmapped start and record block (cached: repeated calls skip the
    compilation): start(keys) -> (state, first record); block(state, first) -> (state,
    records), `first` the number of units done before the block. adaptive: an AdaptiveLoss
    (the correlation chain, switching to the square-loss chain; GramChain.advance)."""
    switch = None
    if adaptive is not None:
        correlation, square = adaptive.phases(scenario)
        chain = GramChain(correlation, d, dtype, reuse)
        switch = (GramChain(square, d, dtype, reuse), adaptive)
    else:
        chain = GramChain(scenario, d, dtype, reuse, variant=variant)

    def start(key):
        state = chain.init(key)
        if switch is not None:
            state = (*state, adaptive.switched(chain.observe(state)[1]))
        return state, chain.observe(state)

    def block(state, first):
        def record(state, r):
            state = chain.advance(state, units, chunk, first=first + r * units,
                                  schedule=schedule, switch=switch)
            return state, chain.observe(state)

        return jax.lax.scan(record, state, jnp.arange(n_records))

    return jax.jit(jax.vmap(start)), jax.jit(jax.vmap(block, (0, None)))


def run(scenario, d, n_steps, keys, record_every, dtype=jnp.float64, *, reuse: int = 1,
        inputs: str | None = None, optimizer: str | None = None, covariance: Any = None,
        chunk: int = _CHUNK, schedule=None, variant: tuple = (), adaptive=None,
        progress: bool = False) -> dict[str, np.ndarray]:
    """Simulate SGD of the Scenario at dimension d exactly in overlap space, over seeds.

    Records Q = W W^T / d, M = W W*^T / d and a at steps 0, record_every, ..., n_steps
    (times t = steps / d), with the initial condition and update of the full engine
    (module docstring): w_j ~ N(0, init_scale^2 I_d), W* W*^T / d = P.

    Args:
        scenario: escalier.derive.Scenario.
        d: input dimension (any d >= k + p + min(batch, p); the cost does not depend on d).
        n_steps: number of SGD steps, a multiple of record_every.
        keys: (S,) typed JAX PRNG keys, one per seed (or an (S, 2) uint32 raw key array).
        record_every: steps between records (a multiple of reuse).
        dtype: "float64" / jnp.float64 (default) or "float32" / jnp.float32.
        reuse: consecutive steps on the same mini-batch (1: online SGD, fresh data).
        inputs, optimizer, covariance: refused unless exact (see check_exact).
        chunk: units per block of pre-drawn randomness (memory / speed trade-off only).
        schedule: a learning-rate Schedule (None or constant: the Scenario's rates).
        variant: () or the displaced steps ("extragradient", probe) / ("sam", rho) (GramChain).
        adaptive: an AdaptiveLoss protocol (correlation loss, then square loss; the
            Scenario's loss is ignored), or None.
        progress: show a progress bar (records are computed in about ten jitted blocks).

    Returns:
        dict with Q (S, T, p, p), M (S, T, p, k), a (S, T, p) as numpy arrays,
        T = n_steps // record_every + 1.

    Raises:
        ValueError: inexact settings, bad shapes or counts, d too small.

    A diverging run returns non-finite records (the engine interface of _api): the public
    `simulate` turns them into a ValueError naming the step and suggesting a smaller lr.
    """
    check_exact(scenario, inputs=inputs, optimizer=optimizer, covariance=covariance)
    chain = GramChain(scenario, int(d), dtype, int(reuse), variant=tuple(variant))
    for name, value in (("n_steps", n_steps), ("record_every", record_every)):
        if not (isinstance(value, int | np.integer) and value >= (0 if name == "n_steps" else 1)):
            raise ValueError(f"{name} must be a non-negative integer (record_every >= 1), "
                             f"got {value!r}")
    if n_steps % record_every:
        raise ValueError(f"n_steps = {n_steps} must be a multiple of record_every = {record_every}")
    if record_every % reuse:
        raise ValueError(f"record_every = {record_every} must be a multiple of reuse = {reuse}")
    keys = as_keys(keys)
    n_rec = n_steps // record_every
    per_block = block_size(n_rec) if n_rec else 1
    if schedule is not None and schedule.constant:
        schedule = None
    if adaptive is not None and reuse != 1:
        raise ValueError("the adaptive loss protocol is online SGD (one step per batch)")
    start, block = _program(scenario, int(d), chain.dtype, int(reuse), per_block,
                            record_every // reuse, int(chunk), schedule, chain.variant,
                            adaptive)
    state, first = start(keys)
    units = record_every // reuse

    def next_block(done):
        nonlocal state
        state, recs = block(state, done * units)
        return recs

    return record_blocks(next_block, first, n_rec, per_block, record_every,
                         progress_bar(progress, n_steps, "gram", scenario, int(d)))
