"""The emitted JAX module: imported in a fresh process, it reproduces the SymPy numbers.

Reference: OdeSystem.evaluate (SymPy xreplace + evalf at 17 digits). Both sides evaluate the
same formulas in float64 (the numeric-backend case uses the same Gauss-Hermite rule), so
they must agree to rounding: tolerance 1e-12 relative.
"""

import ast
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from escalier.derive import targets
from escalier.derive.ode import ode_system
from escalier.numerics.lower import ode_source

SYSTEMS = {
    "committee": lambda: ode_system(targets.committee("erf", 2), student="erf", p=2, noise=0.1),
    "polynomial": lambda: ode_system("z1 + z1*z2", student="He2", p=2, batch=4),
    "numeric": lambda: ode_system("tanh(z1) + z2", student="erf", p=1,
                                  train_second_layer=True),
    "relu-spherical": lambda: ode_system("relu(z1)", student="relu", p=1, spherical=True,
                                         loss="correlation"),
}

RUNNER = """
import importlib.util, json, sys
import jax
jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp
spec = importlib.util.spec_from_file_location("gen", sys.argv[1])
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
case = json.loads(sys.argv[2])
y = jnp.asarray(case["y"])
rhs = jax.jit(mod.rhs)(0.0, y, case["args"])
print(json.dumps({"rhs": [float(v) for v in rhs], "risk": float(mod.risk(y, case["args"])),
                  "modules": sorted(m for m in sys.modules if m.startswith("escalier"))}))
"""


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n == "numeric"
                                  else n for n in sorted(SYSTEMS)])
def test_generated_module_in_fresh_process_matches_sympy(tmp_path, name):
    system = SYSTEMS[name]()
    source = ode_source(system)
    imports = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Import | ast.ImportFrom)]
    for node in imports:
        mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
        assert all(m == "jax" or m.startswith("jax.") for m in mods), mods
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    import jax

    from escalier.numerics.simulation import initial_weights

    y = system.initial_state(*initial_weights(system.scenario, 6, jax.random.key(4))[:2])
    args = {k: v * 0.9 for k, v in system.default_args.items()}
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", RUNNER, str(path),
                          json.dumps({"y": y.tolist(), "args": args})],
                         capture_output=True, text=True, env=env, cwd=tmp_path, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["modules"] == []  # the module stands alone
    np.testing.assert_allclose(got["rhs"], system.evaluate(y, args), rtol=1e-12, atol=1e-14)
    assert got["risk"] == pytest.approx(system.evaluate_risk(y, args), rel=1e-12, abs=1e-14)


def test_generated_rhs_integrates_with_diffrax():
    """The rhs has diffrax's signature. Linear student and target (p = 1): the system is
    affine, y' = A y + b, whose exact solution expm(A t) y0 + A^{-1} (expm(A t) - I) b is
    compared with an adaptive Tsit5 solve (rtol 1e-10) at t = 2, to 1e-8."""
    import diffrax
    import jax
    from scipy.linalg import expm

    system = ode_system("z1", student="linear", p=1, lr=0.5, a=(0.8,))
    ns: dict = {}
    exec(compile(ode_source(system), "<generated>", "exec"), ns)
    y0 = np.array([0.5, 0.1])
    sol = diffrax.diffeqsolve(diffrax.ODETerm(ns["rhs"]), diffrax.Tsit5(), 0.0, 2.0, 0.01,
                              jax.numpy.asarray(y0), args=ns["DEFAULT_ARGS"],
                              stepsize_controller=diffrax.PIDController(rtol=1e-10, atol=1e-12))
    b = system.evaluate(np.zeros(2))
    A = np.stack([system.evaluate(e) - b for e in np.eye(2)], axis=1)
    E = expm(2.0 * A)
    exact = E @ y0 + np.linalg.solve(A, (E - np.eye(2)) @ b)
    np.testing.assert_allclose(np.asarray(sol.ys[-1]), exact, atol=1e-8)


def test_emitter_rejects_heads_missing_from_the_table():
    import sympy as sp

    from escalier.numerics.lower._emit import jax_code

    with pytest.raises(ValueError, match="JAX_FUNCTIONS"):
        jax_code(sp.gamma(sp.Symbol("q")), {})


def test_unknown_source_target_is_refused():
    s = ode_system(targets.committee("erf", 2), p=2)
    with pytest.raises(ValueError, match="accepted: 'jax'"):
        ode_source(s, "c")
