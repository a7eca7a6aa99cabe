"""A small library of named targets (docs/theory.md §1 and §3)."""

from __future__ import annotations

import sympy as sp

from ._functions import FUNCTIONS, hermite_he
from ._target import Target, latent

__all__ = ["committee", "hermite", "parity", "staircase"]


def hermite(k: int) -> Target:
    """He_k(z1): the single-index target of information exponent k."""
    if k < 1:
        raise ValueError(f"hermite(k) needs k >= 1, got {k}")
    return Target(hermite_he(k, latent(1)), 1, text=f"He{k}(z1)")


def staircase(k: int) -> Target:
    """z1 + z1 z2 + ... + z1 z2 ... zk (Abbe, Boix-Adsera, Misiakiewicz 2022): leap 1."""
    if k < 1:
        raise ValueError(f"staircase(k) needs k >= 1, got {k}")
    terms = [sp.Mul(*[latent(i) for i in range(1, j + 1)]) for j in range(1, k + 1)]
    text = " + ".join("*".join(f"z{i}" for i in range(1, j + 1)) for j in range(1, k + 1))
    return Target(sp.Add(*terms), k, text=text)


def parity(k: int) -> Target:
    """sign(z1 z2 ... zk): the Gaussian sparse parity, hard for every protocol beyond k = 2."""
    if k < 1:
        raise ValueError(f"parity(k) needs k >= 1, got {k}")
    z = [latent(i) for i in range(1, k + 1)]
    return Target(sp.sign(sp.Mul(*z)), k, text="sign(" + "*".join(map(str, z)) + ")")


def committee(activation: str, k: int) -> Target:
    """sum_{i<=k} g(z_i): the committee machine teacher with k hidden units, second layer 1."""
    if k < 1:
        raise ValueError(f"committee(activation, k) needs k >= 1, got {k}")
    spec = FUNCTIONS.get(activation)
    if activation == "erf":
        g = lambda x: sp.erf(x / sp.sqrt(2))  # Saad & Solla's g(x) = erf(x / sqrt 2)
        name = "erf({}/sqrt(2))"
    elif spec is not None and spec.arity == 1:
        g = spec.build
        name = activation + "({})"
    else:
        accepted = sorted(n for n, s in FUNCTIONS.items() if s.arity == 1)
        raise ValueError(f"unknown activation {activation!r}; accepted: {accepted}")
    expr = sp.Add(*[g(latent(i)) for i in range(1, k + 1)])
    text = " + ".join(name.format(f"z{i}") for i in range(1, k + 1))
    return Target(expr, k, text=text)
