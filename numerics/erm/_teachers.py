"""Label models: a single-index teacher y = f0(nu) (+ noise), nu = theta.x / sqrt(d), or the
cluster's own label.

For the fixed-point equations a teacher describes the law of y given the student's field omega
inside one cluster: (nu, omega) is Gaussian there, so nu | omega ~ N(a, b2) with
a = t + (m / q)(omega - s) and b2 = rho - m^2 / q. `nodes(a, b2, label)` returns label values
y_l, their probabilities p_l and the Stein weights r_l = E[(nu - a) 1{y = y_l} | omega] / b2, so
that E[G(y) | omega] = sum_l p_l G(y_l) and E[d/dnu G(y(nu)) | omega] = sum_l r_l G(y_l) (Stein's
lemma for the conditional Gaussian; the 1/b2 is cancelled analytically so b2 -> 0 is safe).
"""

from __future__ import annotations

import abc
import dataclasses
import math
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import ndtr

__all__ = ["Teacher", "SignTeacher", "LinearTeacher", "ClusterLabels", "teacher_from_spec",
           "TEACHER_SPEC_HELP"]

TEACHER_SPEC_HELP = (
    "NAME[:key=value,...] with NAME sign (y = sign(nu + sqrt(noise) xi)), linear "
    "(y = nu + sqrt(noise) xi) or cluster (y = the cluster's y= label); keys: noise=DELTA "
    "(default 0), align=A (cosine of theta with the first mean direction u1, default 0), "
    "block=k (theta's part orthogonal to u1 lives on covariance block k only). "
    "Example: 'sign:align=0.9,noise=0.05'"
)

_TINY = 1e-300


class Teacher(abc.ABC):
    """How labels are drawn, for the equations (nodes) and for the simulation (sample)."""

    noise: float = 0.0
    classification: ClassVar[bool] = True

    @abc.abstractmethod
    def nodes(self, a, b2, label):
        """(y, p, r), each of shape (L,) + a.shape."""

    @abc.abstractmethod
    def sample(self, nu, clusters, labels, rng: np.random.Generator) -> np.ndarray:
        """Labels for teacher fields nu (n,) and cluster indices (n,)."""


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class SignTeacher(Teacher):
    """y = sign(nu + sqrt(noise) xi): with u = nu + sqrt(noise) xi | omega ~ N(a, b2 + noise),
    P(y = +-1) = Phi(+-a / s_u) and E[(nu - a) 1{y = +-1}] = +-b2 phi(a / s_u) / s_u."""

    noise: float = 0.0
    classification: ClassVar[bool] = True

    def nodes(self, a, b2, label):
        su = jnp.sqrt(jnp.maximum(b2 + self.noise, 1e-24))
        z = a / su
        pp = ndtr(z)
        dens = jnp.exp(-0.5 * z**2) / math.sqrt(2 * math.pi) / su
        y = jnp.stack([jnp.ones_like(a), -jnp.ones_like(a)])
        return y, jnp.stack([pp, 1 - pp]), jnp.stack([dens, -dens])

    def sample(self, nu, clusters, labels, rng):
        u = nu + math.sqrt(self.noise) * rng.standard_normal(nu.shape)
        return np.where(u >= 0, 1.0, -1.0)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class LinearTeacher(Teacher):
    """y = nu + sqrt(noise) xi: y | omega ~ N(a, s2), s2 = b2 + noise, integrated with
    `nodes_y` Gauss-Hermite points; r_l = p_l (y_l - a) / s2."""

    noise: float = 0.0
    classification: ClassVar[bool] = False
    nodes_y: int = dataclasses.field(default=24, metadata=dict(static=True))

    def nodes(self, a, b2, label):
        x, w = np.polynomial.hermite_e.hermegauss(self.nodes_y)
        w = w / w.sum()
        s = jnp.sqrt(jnp.maximum(b2 + self.noise, 1e-24))
        x = jnp.asarray(x)[:, None]
        y = a[None, :] + s * x
        p = jnp.broadcast_to(jnp.asarray(w)[:, None], y.shape)
        return y, p, p * x / s

    def sample(self, nu, clusters, labels, rng):
        return nu + math.sqrt(self.noise) * rng.standard_normal(nu.shape)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class ClusterLabels(Teacher):
    """y = the label of the cluster the point came from (no teacher direction: r = 0)."""

    noise: float = 0.0
    classification: ClassVar[bool] = True

    def nodes(self, a, b2, label):
        y = jnp.full((1,) + a.shape, 1.0) * label
        return y, jnp.ones_like(y), jnp.zeros_like(y)

    def sample(self, nu, clusters, labels, rng):
        if labels is None:
            raise ValueError("--teacher cluster needs a label y=+1 or y=-1 on every cluster")
        return labels[clusters]


def teacher_from_spec(spec: str):
    """(teacher, align, block) from 'NAME[:key=value,...]' (see TEACHER_SPEC_HELP)."""
    name, _, rest = spec.strip().partition(":")
    options = {"noise": 0.0, "align": 0.0, "block": None}
    for field in rest.split(","):
        if not field.strip():
            continue
        key, sep, value = field.partition("=")
        key = key.strip()
        if not sep or key not in options:
            raise ValueError(f"bad teacher option {field.strip()!r}; " + TEACHER_SPEC_HELP)
        try:
            options[key] = int(value) if key == "block" else float(value)
        except ValueError:
            raise ValueError(f"teacher option {key}={value!r} is not a number") from None
    noise = options["noise"]
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"teacher noise must be finite and >= 0, got {noise}")
    kinds = {"sign": SignTeacher, "linear": LinearTeacher, "cluster": ClusterLabels}
    if name not in kinds:
        raise ValueError(f"unknown teacher {name!r}; " + TEACHER_SPEC_HELP)
    return kinds[name](noise=noise), options["align"], options["block"]
