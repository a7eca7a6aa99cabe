"""The learning rate of a lowered single-index ODE: where it sits among the parameters, and
the rate that maximises the escape drift (docs/theory.md §7.2)."""

from __future__ import annotations

__all__ = ["best_lr", "eta_index", "with_eta"]


def eta_index(fns) -> int:
    names = [s.name for s in fns.system.parameters]
    if "eta" not in names:
        raise ValueError(f"the ODE system has no learning-rate parameter 'eta': {names}")
    return names.index("eta")


def with_eta(fns, eta: float):
    return fns.args.at[eta_index(fns)].set(eta)


def best_lr(fns, m0: float) -> float:
    """The learning rate that maximises the ODE's escape rate (dm/dt) / m at m = m0.

    For spherical online SGD, (dm/dt) / m = eta A(m) - eta^2 B(m) (drift, then the noise
    term of order eta^2; docs/theory.md §7.2), so the best rate is A / (2 B); with
    A ~ c m^{l-2} at m0 = d^{-1/2} it scales as d^{-(l-2)/2} for l >= 3, the rate the
    information exponent prescribes (Ben Arous et al. 2021), with its constant fixed.
    A and B are read off two evaluations of the lowered right-hand side.

    Raises:
        ValueError: no positive drift at m0 (the student cannot escape there).
    """
    import jax.numpy as jnp

    y = jnp.asarray([m0])
    g1 = float(fns.rhs(0.0, y, with_eta(fns, 1.0))[0]) / m0
    g2 = float(fns.rhs(0.0, y, with_eta(fns, 2.0))[0]) / m0
    B = (2 * g1 - g2) / 2
    A = g1 + B
    if not (A > 0 and B > 0):
        raise ValueError(f"no positive escape drift at m = {m0:.3g} (A = {A:.3g}, B = {B:.3g})")
    return A / (2 * B)
