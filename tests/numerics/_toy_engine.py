"""A toy engine, written the way a contributor adds one: this module plus one registry line.

"numpy": plain NumPy online SGD of the two-layer network in d dimensions, one seed at a time,
with its own generator (numpy's PCG64 seeded from the JAX key), the update of Scenario's
docstring. Square or correlation loss, label noise, mini-batches; it refuses what it does not
implement (a trained second layer, the sphere, other training protocols).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, final

import jax
import numpy as np
from scipy.special import erf

from escalier.derive import targets
from escalier.numerics.simulation import Engine


@final
@dataclass(frozen=True)
class NumpyEngine(Engine):
    name: ClassVar[str] = "numpy"

    def check(self, scenario, protocol) -> None:
        super().check(scenario, protocol)
        if scenario.train_second_layer or scenario.spherical:
            raise ValueError(f"engine {self.name!r} runs a fixed second layer off the sphere")
        if scenario.student != "erf" or scenario.target.expr != targets.committee("erf", scenario.k).expr:
            raise ValueError(f"engine {self.name!r} runs erf committees only")

    def run(self, scenario, d, n_steps, keys, record_every, dtype, *, protocol, progress):
        p, k, nb = scenario.p, scenario.k, scenario.batch
        a = np.asarray(scenario.a)
        g = lambda x: erf(x / np.sqrt(2))
        dg = lambda x: np.sqrt(2 / np.pi) * np.exp(-x * x / 2)
        Qs, Ms, As = [], [], []
        for key in keys:
            rng = np.random.default_rng(np.asarray(jax.random.key_data(key)).tolist())
            W = scenario.init_scale * rng.standard_normal((p, d))
            O, _ = np.linalg.qr(rng.standard_normal((d, k)))
            Ws = np.sqrt(d) * (scenario.teacher_factor() @ O.T)
            Q, M = [], []
            for step in range(n_steps + 1):
                if step % record_every == 0:
                    Q.append(W @ W.T / d)
                    M.append(W @ Ws.T / d)
                if step == n_steps:
                    break
                X = rng.standard_normal((nb, d))
                lam, nu = X @ W.T / np.sqrt(d), X @ Ws.T / np.sqrt(d)
                y = g(nu).sum(axis=1) + np.sqrt(scenario.noise) * rng.standard_normal(nb)
                err = y - (g(lam) @ a if scenario.loss == "square" else 0.0)
                W = W + scenario.lr / nb * ((err[:, None] * a * dg(lam)).T @ X) / np.sqrt(d)
            Qs.append(Q)
            Ms.append(M)
            As.append(np.tile(a, (len(Q), 1)))
        return {"Q": np.array(Qs), "M": np.array(Ms), "a": np.array(As)}
