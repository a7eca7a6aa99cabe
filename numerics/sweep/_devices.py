"""The seed axis across JAX devices: one key per seed, sharded over a Mesh of jax.devices().

The engines vmap over seeds, so a jitted run on keys sharded along the seed axis is
partitioned by XLA along that axis (computation follows data): each device runs its share
of the seeds. Seed i's key is jax.random.split(jax.random.key(seed), S)[i] whatever the
sharding, so sharded and single-device runs draw the same numbers.
"""

from __future__ import annotations

__all__ = ["seed_keys", "seed_sharding"]


def seed_sharding(n_seeds: int, devices=None):
    """(sharding, n): a NamedSharding of the seed axis over the largest number n of the
    visible devices that divides n_seeds (None and n = 1 on a single device)."""
    import jax
    import numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    devices = list(jax.devices() if devices is None else devices)
    n = max(k for k in range(1, len(devices) + 1) if n_seeds % k == 0)
    if n == 1:
        return None, 1
    mesh = Mesh(np.array(devices[:n]), ("seed",))
    return NamedSharding(mesh, PartitionSpec("seed")), n


def seed_keys(seed: int, n_seeds: int, devices=None):
    """(keys, n_devices): the (n_seeds,) keys of `simulate(seed=seed, seeds=n_seeds)`,
    placed on n_devices devices along the seed axis (see seed_sharding)."""
    import jax

    keys = jax.random.split(jax.random.key(seed), n_seeds)
    sharding, n = seed_sharding(n_seeds, devices)
    if sharding is not None:
        keys = jax.device_put(keys, sharding)
    return keys, n
