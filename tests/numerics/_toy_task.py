"""A cheap task kind for the sweep tests (registered by a test in one line, as the toy engine):
value_i = x + N_i and curve_i[r] = x r + N_i (r < n), N_i = jax.random.normal(key_i) with
key_i = jax.random.split(jax.random.key(seed), S)[i]; `sleep` seconds of wall time; raises
when x == fail."""

import time

import numpy as np

from escalier.numerics.sweep import Observable, Param, TaskKind


class ToyTask(TaskKind):
    name = "toy"
    description = "x plus a standard normal per seed"
    parameters = {
        "x": Param("nonnegative", help="the offset"),
        "n": Param("int>=1", 3, "curve length"),
        "sleep": Param("nonnegative", 0.0, "seconds to wait"),
        "fail": Param("nonnegative", 1e9, "raise when x equals this"),
    }

    def observables(self, params, seeds):
        return {"value": Observable(("seed",), (seeds,), "x + N"),
                "curve": Observable(("seed", "record"), (seeds, params["n"]), "x r + N")}

    def run(self, params, keys):
        import jax

        if params["x"] == params["fail"]:
            raise RuntimeError(f"toy failure at x = {params['x']}")
        time.sleep(params["sleep"])
        noise = np.asarray(jax.vmap(jax.random.normal)(keys))
        r = np.arange(params["n"])
        return {"value": params["x"] + noise,
                "curve": params["x"] * r[None, :] + noise[:, None]}


def expected(x, n, seed, seeds):
    """The toy's numbers written independently of the task (numpy after the same keys)."""
    import jax

    keys = jax.random.split(jax.random.key(seed), seeds)
    noise = np.array([float(jax.random.normal(k)) for k in keys])
    return x + noise, x * np.arange(n)[None, :] + noise[:, None]
