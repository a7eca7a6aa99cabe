"""Replica / state-evolution fixed point of l2-penalised generalised linear estimation on a
Gaussian mixture, and the asymptotic training and test errors (JAX, jitted).

Estimator: w = argmin_w sum_mu l(y_mu, w.x_mu / sqrt d) + lambda ||w||^2 / 2, n = alpha d.
Order parameters per cluster c: V_c, q_c = w^T Sigma_c w / d, m_c = w^T Sigma_c theta / d,
s_c = w.mu_c / sqrt d. In cluster c the fields (nu, omega) of a fresh point are Gaussian with
means (t_c, s_c) and covariance [[rho_c, m_c], [m_c, q_c]]. The equations (the structure of
Loureiro et al., arXiv 2106.03791, main theorem, with the single-index teacher of Pesce et al.,
arXiv 2302.08923; derived here with Stein's lemma, see docs/erm.md) read, with
h = prox_{V_c l(y, .)}(omega) and g = (h - omega) / V_c:

    Vhat_c = -alpha rho_c E_c[dg/domega]     qhat_c = alpha rho_c E_c[g^2]
    mhat_c =  alpha rho_c E_c[dg/dnu]        nhat_c = alpha rho_c E_c[g]

(rho_c here the cluster weight) and, block by block (a_j = lambda + sum_c Vhat_c sigma_{c,j},
beta_j = (sum_c mhat_c sigma_{c,j}) T + sum_c nhat_c M_c in signal coordinates),

    V_c = sum_j phi_j sigma_{c,j} / a_j
    m_c = sum_j phi_j sigma_{c,j} T^T G_j beta_j / a_j
    q_c = sum_j phi_j sigma_{c,j} (beta_j^T G_j beta_j + sum_c' qhat_c' sigma_{c',j}) / a_j^2
    s_c = sum_j phi_j M_c^T G_j beta_j / a_j.

These are the overlaps of w = A^{-1} B, A = lambda + sum_c Vhat_c Sigma_c,
B = sum_c (mhat_c Sigma_c theta + sqrt(qhat_c) Sigma_c^{1/2} xi_c + nhat_c sqrt(d) mu_c).
Expectations over omega use Gauss-Hermite nodes; error rates, whose integrands jump, use
Gauss-Legendre nodes on each side of the jump.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from ._losses import Loss, Square
from ._mixture import Mixture
from ._teachers import ClusterLabels, Teacher

__all__ = ["FixedPoint", "FixedPointError", "solve_fixed_point", "errors_of_overlaps"]

_Z = 12.0  # |z| beyond which the standard normal weight (< 1e-31) is dropped


class FixedPointError(RuntimeError):
    """The damped iteration did not converge (or diverged); the message names the settings."""


@dataclasses.dataclass(frozen=True)
class FixedPoint:
    """A converged fixed point: overlaps per cluster, errors, and how it was obtained.

    train_error / test_error are misclassification rates for classification teachers (sign,
    cluster) and mean squared errors E(y - yhat)^2 for the linear teacher. Numerical: the
    fixed point is converged to `residual` (max relative change in the last step) and the
    expectations are quadratures with `nodes` points.
    """

    alpha: float
    lam: float
    V: np.ndarray
    q: np.ndarray
    m: np.ndarray
    s: np.ndarray
    hats: dict
    train_error: float
    test_error: float
    train_loss: float
    residual: float
    iterations: int
    damping: float
    nodes: int

    def state(self):
        return (self.V, self.q, self.m, self.s)


def _gauss(nodes: int):
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    return jnp.asarray(x), jnp.asarray(w / w.sum())


def _legendre(nodes: int):
    x, w = np.polynomial.legendre.leggauss(nodes)
    return jnp.asarray(x), jnp.asarray(w)


def _bucket(n: int, step: int) -> int:
    return step * max(1, -(-n // step))


def _power_bucket(n: int, smallest: int = 4) -> int:
    size = smallest
    while size < n:
        size *= 2
    return size


def _arrays(mix: Mixture):
    """The mixture as padded JAX arrays: clusters to a power of two >= 4 (weight 0), blocks to
    a multiple of 4 (fraction 0, variance 1), signals to a multiple of 4 (zero vectors), so that
    few compilations serve every mixture (one for small mixtures, one for their Gaussian
    equivalents). Padding changes no result: a zero-weight cluster or zero-fraction block
    enters every sum with weight 0."""
    K, J, S = mix.n_clusters, mix.fractions.size, mix.n_signals
    Kp, Jp, Sp = _power_bucket(K), _bucket(J, 4), _bucket(S, 4)

    def pad(x, shape, fill=0.0):
        out = np.full(shape, fill)
        out[tuple(slice(0, n) for n in np.shape(x))] = x
        return jnp.asarray(out)

    labels = np.zeros(K) if mix.labels is None else mix.labels
    return dict(weights=pad(mix.weights, (Kp,)), fractions=pad(mix.fractions, (Jp,)),
                variances=pad(mix.variances, (Kp, Jp), 1.0), means=pad(mix.means, (Kp, Sp)),
                teacher=pad(mix.teacher, (Sp,)), grams=pad(mix.grams, (Jp, Sp, Sp)),
                labels=pad(labels, (Kp,)), t=pad(mix.teacher_means(), (Kp,)),
                rho=pad(mix.teacher_variances(), (Kp,)))


def _omega_nodes(loss: Loss, nodes: int, s, q, V):
    """Nodes and weights for E over omega ~ N(s, q): Gauss-Hermite for a smooth prox;
    for a kinked prox (hinge), Gauss-Legendre on each piece between the kinks, so that the
    quadrature (and hence the iteration map) stays smooth in the order parameters."""
    kinks = loss.kinks(V)
    if kinks is None:
        x, w = _gauss(nodes)
        return s + jnp.sqrt(q) * x, w
    cuts = jnp.sort(jnp.clip((kinks - s) / jnp.sqrt(q), -_Z, _Z))
    edges = jnp.concatenate([jnp.array([-_Z]), cuts, jnp.array([_Z])])
    x, w = _legendre(max(8, nodes // 2))
    lo, hi = edges[:-1, None], edges[1:, None]
    z = (0.5 * (hi - lo) * x + 0.5 * (hi + lo)).ravel()
    wz = (0.5 * (hi - lo) * w).ravel() * jnp.exp(-0.5 * z**2) / jnp.sqrt(2 * jnp.pi)
    return s + jnp.sqrt(q) * z, wz


def _channel(loss: Loss, teacher: Teacher, nodes: int, t, rho, s, m, q, V, label):
    """E[g], E[g^2], E[dg/domega], E[dg/dnu] for one cluster."""
    q = jnp.maximum(q, 1e-300)
    omega, w = _omega_nodes(loss, nodes, s, q, V)
    a = t + (m / q) * (omega - s)
    b2 = jnp.maximum(rho - m**2 / q, 0.0)
    y, p, r = teacher.nodes(a, b2, label)
    h, dh = loss.prox(y, omega[None, :], V)
    g = (h - omega[None, :]) / V
    dg = (dh - 1.0) / V
    e = lambda f: jnp.sum(w * jnp.sum(f, axis=0))
    return e(p * g), e(p * g**2), e(p * dg), e(r * g)


def _hats(loss, teacher, nodes, arr, alpha, state):
    V, q, m, s = state
    ch = jax.vmap(functools.partial(_channel, loss, teacher, nodes))
    eg, eg2, edg, enu = ch(arr["t"], arr["rho"], s, m, q, V, arr["labels"])
    c = alpha * arr["weights"]
    return dict(Vhat=-c * edg, qhat=c * eg2, mhat=c * enu, nhat=c * eg)


def _overlaps(arr, lam, hats):
    sig, phi, G = arr["variances"], arr["fractions"], arr["grams"]
    a = lam + hats["Vhat"] @ sig  # (J,)
    beta = (hats["mhat"] @ sig)[:, None] * arr["teacher"][None, :] + (hats["nhat"] @ arr["means"])
    gb = jnp.einsum("jab,jb->ja", G, beta)  # (J, S)
    bgb = jnp.sum(beta * gb, axis=1)  # (J,)
    noise = hats["qhat"] @ sig  # (J,)
    V = sig @ (phi / a)
    m = sig @ (phi * (gb @ arr["teacher"]) / a)
    q = sig @ (phi * (bgb + noise) / a**2)
    s = arr["means"] @ jnp.sum((phi / a)[:, None] * gb, axis=0)
    return V, q, m, s


@functools.partial(jax.jit, static_argnames=("loss", "nodes"))
def _iterate(loss, teacher, nodes, max_iter, arr, alpha, lam, damping, tol, init):
    def update(state):
        return _overlaps(arr, lam, _hats(loss, teacher, nodes, arr, alpha, state))

    def cond(carry):
        it, resid, _ = carry
        return (it < max_iter) & (resid > tol) & jnp.isfinite(resid)

    def body(carry):
        it, _, state = carry
        new = update(state)
        new = tuple(damping * o + (1 - damping) * n for o, n in zip(state, new, strict=True))
        resid = jnp.max(jnp.stack([jnp.max(jnp.abs(n - o) / jnp.maximum(1.0, jnp.abs(n)))
                                   for o, n in zip(state, new, strict=True)]))
        resid = jnp.where(all_finite(new), resid, jnp.inf)
        return it + 1, resid, new

    def all_finite(state):
        return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in state]))

    it, resid, state = jax.lax.while_loop(cond, body, (0, jnp.asarray(1e300), init))
    return it, resid, state, _hats(loss, teacher, nodes, arr, alpha, state)


def _cluster_errors(loss, teacher, nodes, t, rho, s, m, q, V, label):
    """(train error, test error, train loss) inside one cluster."""
    q = jnp.maximum(q, 1e-300)

    def labels_at(omega):
        a = t + (m / q) * (omega - s)
        b2 = jnp.maximum(rho - m**2 / q, 0.0)
        return teacher.nodes(a, b2, label)

    omega, w = _omega_nodes(loss, nodes, s, q, V)
    y, p, _ = labels_at(omega)
    h, _ = loss.prox(y, omega[None, :], V)
    train_loss = jnp.sum(w * jnp.sum(p * loss.value(y, h), axis=0))
    if not teacher.classification:
        train = jnp.sum(w * jnp.sum(p * (y - h) ** 2, axis=0))
        test = (t - s) ** 2 + rho - 2 * m + q + teacher.noise
        return train, test, train_loss
    # classification: the labels y_l are constant in omega; an error is an omega half-line
    # (test: y_l omega < 0; train: y_l (omega - V l'(y_l, 0)) < 0), integrated by
    # Gauss-Legendre on both sides of its end point, all cuts at once.
    ylist = y[:, 0]
    L = ylist.shape[0]
    cuts = jnp.concatenate([jnp.zeros(L), V * loss.slope_at_zero(ylist)])  # (2L,)
    zc = jnp.clip((cuts - s) / jnp.sqrt(q), -_Z, _Z)[:, None, None]
    xl, wl = _legendre(4 * nodes)
    lo = jnp.stack([jnp.full_like(zc[:, 0], -_Z), zc[:, 0]], axis=1)  # (2L, 2, 1)
    hi = jnp.stack([zc[:, 0], jnp.full_like(zc[:, 0], _Z)], axis=1)
    z = 0.5 * (hi - lo) * xl + 0.5 * (hi + lo)  # (2L, 2, n)
    wz = 0.5 * (hi - lo) * wl * jnp.exp(-0.5 * z**2) / jnp.sqrt(2 * jnp.pi)
    _, pz, _ = labels_at(s + jnp.sqrt(q) * z.ravel())
    pz = pz.reshape((L,) + z.shape)  # (L, 2L, 2, n)
    idx = jnp.arange(2 * L)
    part = jnp.sum(pz[idx % L, idx] * wz, axis=-1)  # (2L, 2): below / above each cut
    pick = jnp.where(jnp.concatenate([ylist, ylist]) > 0, part[:, 0], part[:, 1])
    return jnp.sum(pick[L:]), jnp.sum(pick[:L]), train_loss


@functools.partial(jax.jit, static_argnames=("loss", "nodes"))
def _errors(loss, teacher, nodes, arr, state):
    V, q, m, s = state
    f = jax.vmap(functools.partial(_cluster_errors, loss, teacher, nodes))
    train, test, tl = f(arr["t"], arr["rho"], s, m, q, V, arr["labels"])
    w = arr["weights"]
    return w @ train, w @ test, w @ tl


def errors_of_overlaps(mix: Mixture, loss: Loss, teacher: Teacher, q, m, s, *, nodes: int = 96):
    """Test error of any estimator w from its overlaps (q_c, m_c, s_c): exact for that w.

    (The training error needs V and is only meaningful at the fixed point.)
    """
    arr = _arrays(mix)
    Kp = arr["weights"].size
    state = tuple(_pad1(x, Kp) for x in (np.ones(mix.n_clusters), q, m, s))
    return float(_errors(loss, teacher, nodes, arr, state)[1])


def _pad1(x, n, fill=1.0):
    out = np.full(n, fill)
    x = np.asarray(x, float)
    out[:x.size] = x
    return jnp.asarray(out)


def solve_fixed_point(mix: Mixture, loss: Loss, teacher: Teacher, alpha: float, lam: float, *,
                      damping: float = 0.5, tol: float = 1e-10, max_iter: int = 20000,
                      nodes: int = 96, init=None) -> FixedPoint:
    """The fixed point at sample ratio alpha = n / d and penalty lambda, with its errors.

    Args:
        mix: the data model (a `Mixture`, or its `gaussian_equivalent()`).
        loss, teacher: a `Loss` (Square, Logistic, Hinge) and a `Teacher`.
        alpha: n / d > 0. lam: lambda >= 0 (0 only for the square loss with alpha > 1).
        damping: new = damping * old + (1 - damping) * update, in [0, 1).
        tol: stop when the largest relative change of (V, q, m, s) falls below tol.
        max_iter: iteration cap. nodes: Gauss-Hermite nodes in omega.
        init: a previous fixed point's `state()` to start from (continuation in alpha).

    Raises:
        ValueError: bad alpha, lambda, damping; cluster labels missing for ClusterLabels.
        FixedPointError: no convergence within max_iter, or a non-finite iterate.
    """
    if not (np.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha must be finite and > 0, got {alpha}")
    if not (np.isfinite(lam) and lam >= 0):
        raise ValueError(f"lambda must be finite and >= 0, got {lam}")
    if lam == 0 and not (loss.allows_zero_penalty() and alpha > 1):
        raise ValueError(f"lambda = 0 needs the square loss and alpha > 1 (got loss "
                         f"{loss.name}, alpha {alpha}): below alpha = 1, or with a "
                         f"classification loss, the unpenalised minimiser is not unique or "
                         f"does not exist; use a small lambda > 0 instead")
    if not 0 <= damping < 1:
        raise ValueError(f"damping must be in [0, 1), got {damping}")
    if not teacher.classification and not isinstance(loss, Square):
        raise ValueError(f"the {loss.name} loss is a classification loss: use --teacher sign or "
                         f"cluster (labels +-1), or --loss ridge for the linear teacher")
    if isinstance(teacher, ClusterLabels) and mix.labels is None:
        raise ValueError("cluster labels (y=+1 / y=-1 on every cluster) are needed for the "
                         "cluster teacher")
    arr = _arrays(mix)
    K, Kp = mix.n_clusters, arr["weights"].size
    if init is None:
        init = (np.ones(K), np.ones(K), np.full(K, 0.1), np.zeros(K))
    init = tuple(_pad1(x, Kp) for x in init)
    it, resid, state, hats = _iterate(loss, teacher, nodes, max_iter, arr, float(alpha),
                                      float(lam), float(damping), float(tol), init)
    it, resid = int(it), float(resid)
    if not np.isfinite(resid):
        raise FixedPointError(
            f"the fixed-point iteration diverged (non-finite iterate after {it} steps) at "
            f"alpha={alpha}, lambda={lam}, loss={loss.name}; increase --damping (now {damping}) "
            f"or lambda")
    if resid > tol:
        raise FixedPointError(
            f"the fixed-point iteration did not converge at alpha={alpha}, lambda={lam}, loss="
            f"{loss.name}: residual {resid:.3e} > tol {tol:.1e} after {it} iterations; increase "
            f"--max-iter (now {max_iter}) or --damping (now {damping})")
    train, test, train_loss = (float(x) for x in _errors(loss, teacher, nodes, arr, state))
    V, q, m, s = (np.asarray(x)[:K] for x in state)
    return FixedPoint(alpha=float(alpha), lam=float(lam), V=V, q=q, m=m, s=s,
                      hats={k: np.asarray(v)[:K] for k, v in hats.items()}, train_error=train,
                      test_error=test, train_loss=train_loss, residual=resid, iterations=it,
                      damping=float(damping), nodes=nodes)
