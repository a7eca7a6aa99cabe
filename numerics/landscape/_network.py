"""Full Hessians of the training loss of small networks, and what their spectra look like.

Networks (the project's conventions: pre-activations w . x / sqrt(d)):
two-layer  yhat(x) = A sigma(W1 x / sqrt(d)),
three-layer yhat(x) = A sigma(W2 sigma(W1 x / sqrt(d)) / sqrt(p1)),
with A of shape (outputs, p_last), weights initialised i.i.d. N(0, 1) and A ~ N(0, 1/p_last).
Loss: L(theta) = (1 / 2n) sum_mu |yhat(x_mu) - y_mu|^2 over a fixed training set, trained
full-batch with Adam (optax). The Hessian of L in all parameters (flattened) is computed
exactly by forward-over-reverse automatic differentiation (jax.jvp of jax.grad), in chunks of
tangent directions so that memory stays at (chunk x n x width) floats.

Data: a teacher y = f(W* x / sqrt(d)) with x ~ N(0, I_d), W* i.i.d. N(0, 1) (f a target in
escalier's target language, lowered with `escalier.numerics.lower`), or scikit-learn's
bundled handwritten digits (1797 images of 8 x 8 pixels, standardised; labels one-hot,
centred) -- loaded from the package, never downloaded.

Spectrum analysis (after Baskerville et al., arXiv 2102.06740): the numerically zero
eigenvalues (rank deficiency), outliers, the bulk against a semicircle of the same mean and
variance (Kolmogorov-Smirnov), and the adjacent spacing ratio of the bulk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from ._spectra import spacing_ratio

__all__ = ["DATASETS", "HessianSpectrum", "Network", "analyze_spectrum", "digits_data",
           "loss_hessian", "teacher_data", "train"]

DATASETS = ("digits",)


@dataclass(frozen=True)
class Network:
    """A fully connected network d -> widths... -> outputs, activation ``sigma``.

    Attributes:
        d: input dimension.
        widths: hidden widths (one: two-layer; two: three-layer).
        outputs: output dimension.
        activation: text of the activation (a name or an expression in x, see
            `escalier.derive.activation`), lowered to JAX once.
    """

    d: int
    widths: tuple[int, ...]
    outputs: int = 1
    activation: str = "relu"
    _sigma: object = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        for name, v in (("d", self.d), ("outputs", self.outputs), *(("width", w) for w in self.widths)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        if len(self.widths) not in (1, 2):
            raise ValueError(f"widths: one (two-layer) or two (three-layer) hidden widths, "
                             f"got {self.widths}")
        import sympy as sp

        from escalier.derive import activation
        from escalier.numerics.lower import lower

        lam = activation(self.activation)
        (x,) = lam.variables
        f = lower(sp.sympify(lam.expr), [x])
        object.__setattr__(self, "_sigma", lambda z: f(z[..., None]))

    @property
    def n_params(self) -> int:
        sizes = (self.d, *self.widths)
        return sum(a * b for a, b in zip(sizes[1:], sizes[:-1], strict=True)) + self.outputs * self.widths[-1]

    def init(self, key) -> dict:
        sizes = (self.d, *self.widths)
        keys = jax.random.split(key, len(self.widths) + 1)
        params = {f"W{i + 1}": jax.random.normal(keys[i], (sizes[i + 1], sizes[i]), dtype=jnp.float64)
                  for i in range(len(self.widths))}
        params["A"] = (jax.random.normal(keys[-1], (self.outputs, self.widths[-1]), dtype=jnp.float64)
                       / jnp.sqrt(self.widths[-1]))
        return params

    def apply(self, params, x):
        h = x
        for i in range(len(self.widths)):
            h = self._sigma(h @ params[f"W{i + 1}"].T / jnp.sqrt(h.shape[-1]))
        return h @ params["A"].T

    def loss(self, params, x, y):
        return 0.5 * jnp.mean(jnp.sum((self.apply(params, x) - y) ** 2, axis=-1))


def teacher_data(key, target, d: int, n: int):
    """(x, y): x ~ N(0, I_d) (n x d), y = f(W* x / sqrt d) (n x 1), W* i.i.d. N(0, 1)."""
    from escalier.derive import Target
    from escalier.numerics.lower import lower

    t = target if isinstance(target, Target) else Target.parse(str(target))
    if t.parameters:
        raise ValueError(f"target {t} has free parameters {[str(s) for s in t.parameters]}; "
                         f"substitute numbers for them")
    if t.k > d:
        raise ValueError(f"target uses k = {t.k} latent coordinates, more than d = {d}")
    f = lower(t.expr, t.variables)
    kx, kw = jax.random.split(key)
    x = jax.random.normal(kx, (n, d), dtype=jnp.float64)
    w = jax.random.normal(kw, (t.k, d), dtype=jnp.float64)
    return x, f(x @ w.T / jnp.sqrt(d))[:, None]


def digits_data(n: int | None = None):
    """scikit-learn's bundled digits: x (n x 64) standardised per pixel, y one-hot centred."""
    from sklearn.datasets import load_digits

    data = load_digits()
    x = np.asarray(data.data, dtype=float)
    x = (x - x.mean(0)) / np.where(x.std(0) > 0, x.std(0), 1.0)
    y = np.eye(10)[data.target] - 0.1
    if n is not None:
        if not 1 <= n <= len(x):
            raise ValueError(f"the digits data set has {len(x)} images; n must be in 1..{len(x)}")
        x, y = x[:n], y[:n]
    return jnp.asarray(x), jnp.asarray(y)


def train(net: Network, params, x, y, steps: int, lr: float = 1e-2, record=()):
    """Full-batch Adam (optax) for ``steps`` steps; returns {step: params} for the steps in
    ``record`` (0 = initialisation) and the loss curve.

    Raises:
        FloatingPointError: the loss became non-finite (lower ``lr``).
    """
    import optax

    opt = optax.adam(lr)

    @jax.jit
    def step(carry, _):
        p, s = carry
        value, g = jax.value_and_grad(net.loss)(p, x, y)
        upd, s = opt.update(g, s, p)
        return (optax.apply_updates(p, upd), s), value

    snaps, losses = {}, []
    state = (params, opt.init(params))
    marks = sorted({0, *record, steps})
    done = 0
    for m in marks:
        if m > done:
            state, ls = jax.lax.scan(step, state, None, length=m - done)
            losses.append(np.asarray(ls))
            done = m
        if m in record:
            snaps[m] = state[0]
    curve = np.concatenate(losses) if losses else np.zeros(0)
    if not np.all(np.isfinite(curve)):
        raise FloatingPointError(f"training diverged (non-finite loss); lower the learning rate "
                                 f"(lr = {lr})")
    return snaps, curve


@partial(jax.jit, static_argnames=("net",))
def _hessian_rows(net, params, x, y, directions):
    flat, unravel = ravel_pytree(params)
    grad = jax.grad(lambda v: net.loss(unravel(v), x, y))
    return jax.vmap(lambda e: jax.jvp(grad, (flat,), (e,))[1])(directions)


def loss_hessian(net: Network, params, x, y, chunk: int = 128) -> np.ndarray:
    """The full Hessian of the training loss in the flattened parameters (n_params^2).

    Rows are jvp(grad L) along unit vectors, ``chunk`` of them at a time (one compiled
    function per network and shapes; the last chunk is padded).
    """
    flat, _ = ravel_pytree(params)
    n = flat.shape[0]
    chunk = min(chunk, n)
    basis = np.eye(n, dtype=np.float64)
    rows = []
    for i in range(0, n, chunk):
        block = basis[i:i + chunk]
        pad = chunk - len(block)
        if pad:
            block = np.concatenate([block, np.zeros((pad, n))])
        rows.append(np.asarray(_hessian_rows(net, params, x, y, jnp.asarray(block)))[: chunk - pad])
    h = np.concatenate(rows)
    return (h + h.T) / 2


@dataclass(frozen=True)
class HessianSpectrum:
    """What a Hessian spectrum looks like.

    Attributes:
        eigenvalues: all eigenvalues, ascending.
        n_zero: eigenvalues with |lambda| <= zero_tol * max|lambda| (rank deficiency).
        outliers: eigenvalues farther than ``outlier_mads`` scaled median absolute
            deviations from the median of the non-zero ones.
        bulk: the remaining levels (non-zero, not outliers).
        ks_semicircle: (statistic, p-value) of the bulk against a semicircle with the bulk's
            mean and variance (radius 2 * standard deviation).
        ratio: `SpacingRatio` of the central ``bulk_fraction`` of the bulk.
    """

    eigenvalues: np.ndarray
    n_zero: int
    outliers: np.ndarray
    bulk: np.ndarray
    ks_semicircle: tuple[float, float]
    ratio: object


def analyze_spectrum(eigenvalues, zero_tol: float = 1e-9, outlier_mads: float = 10.0,
                     bulk_fraction: float = 0.8) -> HessianSpectrum:
    """Rank deficiency, outliers, bulk vs semicircle, and spacing ratio of a spectrum."""
    import scipy.stats

    e = np.sort(np.asarray(eigenvalues, dtype=float))
    scale = np.max(np.abs(e))
    zero = np.abs(e) <= zero_tol * scale
    nz = e[~zero]
    if len(nz) < 50:
        raise ValueError(f"only {len(nz)} non-zero eigenvalues: too few for level statistics "
                         f"(use a larger network)")
    med = np.median(nz)
    mad = scipy.stats.median_abs_deviation(nz, scale="normal")
    out = np.abs(nz - med) > outlier_mads * mad
    bulk = nz[~out]
    sc = scipy.stats.semicircular(loc=bulk.mean(), scale=2 * bulk.std())
    ks = scipy.stats.kstest(bulk, sc.cdf)
    return HessianSpectrum(eigenvalues=e, n_zero=int(zero.sum()), outliers=nz[out], bulk=bulk,
                           ks_semicircle=(float(ks.statistic), float(ks.pvalue)),
                           ratio=spacing_ratio(bulk, bulk=bulk_fraction))
