"""Hand-applied mutations of escalier's core (issue 21; see docs/mutation.md).

mutmut forks each mutant from one process, which suits the SymPy modules but not the JAX
ones (the gram chain, its draws, the normal generator): every mutant recompiles for
seconds and the forked XLA runtime misbehaves. For those, and for the classes of error of
issue 21 section 2, this script applies each mutation below to the working tree (one exact
text replacement in one file), runs the tests named for it, records "killed" (some test
failed) or "SURVIVED", and restores the file (also on Ctrl-C).

    python scripts/hand_mutations.py --list
    python scripts/hand_mutations.py                 # every mutation
    python scripts/hand_mutations.py bartlett-df     # the named ones (prefix match)

Exit status 1 when a mutant survives. The working tree must be clean in the mutated files.
"""

from __future__ import annotations

import argparse
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]

DRAWS = "tests/numerics/test_gram_draws.py"
GRAM = "tests/numerics/test_gram.py"
NORMALS = "tests/numerics/test_normals_exact.py"
EXPO = "tests/derive/test_exponents_mutations.py"

# (name, file, old text, new text, tests, what it models)
MUTATIONS = [
    # -- issue 21 section 2: the gram engine's random draws ------------------------------
    ("bartlett-df", "numerics/simulation/_gram_draws.py",
     "dfs = [df - i for i in range(m)]", "dfs = [df for i in range(m)]",
     [DRAWS + "::test_bartlett_entries_follow_their_laws",
      DRAWS + "::test_bartlett_wishart_moments"],
     "Bartlett diagonal chi^2_df instead of chi^2_{df - i}"),
    ("complement-dim", "numerics/simulation/_gram.py",
     "return self.d - self.scenario.k - self.scenario.p", "return self.d - self.scenario.k",
     [DRAWS + "::test_chain_complement_block_has_d_minus_k_minus_p_degrees",
      DRAWS + "::test_gram_one_step_matches_exact_formula"],
     "Wishart complement dimension d - k instead of d - k - p"),
    ("batch-average", "numerics/simulation/_gram.py",
     "return lr / (n * self.d), self.scenario.lr_a / (n * self.d)",
     "return lr / self.d, self.scenario.lr_a / (n * self.d)",
     [DRAWS + "::test_gram_one_step_matches_exact_formula"],
     "batch update without its 1 / n_b"),
    # -- the gram chain ------------------------------------------------------------------
    ("gram-step-A", "numerics/simulation/_gram.py",
     "A1 = A + eps * (C.T @ gs)", "A1 = A - eps * (C.T @ gs)",
     [DRAWS + "::test_gram_one_step_matches_exact_formula"],
     "teacher-span update with the wrong sign"),
    ("gram-step-B", "numerics/simulation/_gram.py",
     "Bt = B + eps * (C.T @ gf)", "Bt = B + eps * (C.T @ gf) * 0.5",
     [DRAWS + "::test_gram_one_step_matches_exact_formula"],
     "student-span update halved"),
    ("gram-complement-T", "numerics/simulation/_gram.py",
     "B1 = row_factor(jnp.concatenate([Bt, eps * T], axis=1))",
     "B1 = row_factor(jnp.concatenate([Bt, 0.5 * eps * T], axis=1))",
     [DRAWS + "::test_gram_one_step_matches_exact_formula"],
     "complement increment halved"),
    ("gram-reuse-block", "numerics/simulation/_gram.py",
     "Bx = Bx + (scale * eps) * (C.T @ gx)", "Bx = Bx + (scale * eps) * (C.T @ gx) * 0.9",
     [DRAWS + "::test_gram_reuse_block_matches_exact_formula"],
     "reuse step: student/complement block scaled"),
    ("gram-init-scale", "numerics/simulation/_gram_draws.py",
     "scale = init_scale / math.sqrt(d)", "scale = init_scale / math.sqrt(d - k)",
     [GRAM + "::test_initial_condition_moments_are_exact"],
     "initial overlaps normalised by d - k"),
    ("gram-init-bartlett", "numerics/simulation/_gram_draws.py",
     "B = scale * bartlett(stream, p, d - k, dtype)", "B = scale * bartlett(stream, p, d - k - 1, dtype)",
     [GRAM + "::test_initial_condition_moments_are_exact"],
     "initial complement Gram with d - k - 1 degrees"),
    ("gram-noise", "numerics/simulation/_gram.py",
     "y = y + jnp.sqrt(jnp.asarray(sc.noise, self.dtype)) * xi",
     "y = y + jnp.asarray(sc.noise, self.dtype) * xi",
     [DRAWS + "::test_gram_one_step_matches_exact_formula"],
     "label noise with standard deviation noise instead of sqrt(noise)"),
    ("gram-second-layer", "numerics/simulation/_gram.py",
     "a = a + eps_a * (s.T @ delta)", "a = a - eps_a * (s.T @ delta)",
     [GRAM + "::test_gram_matches_full_simulation_d64"],
     "second layer trained against its gradient"),
    ("gram-second-layer-batch", "numerics/simulation/_gram.py",
     "self.scenario.lr_a / (n * self.d)", "self.scenario.lr_a / self.d",
     [DRAWS + "::test_gram_one_step_matches_exact_formula"],
     "second-layer batch update without its 1 / n_b"),
    # (M = A L_P instead of A L_P^T is equivalent: L_P is the symmetric square root of P)
    ("teacher-root-diagonal", "derive/_scenario.py",
     "return (evecs * np.sqrt(np.clip(evals, 0.0, None))) @ evecs.T",
     "return np.diag(np.sqrt(np.diag(P)))",
     [DRAWS + "::test_initial_teacher_overlaps_have_covariance_p_over_d"],
     "teacher root that ignores the off-diagonal overlaps of P"),
    ("gram-row-factor", "numerics/simulation/_gram.py",
     'return jnp.linalg.qr(K.T, mode="r").T', 'return jnp.linalg.qr(K.T, mode="r")',
     [GRAM + "::test_gram_matches_full_simulation_d64"],
     "row factor R instead of R^T (L L^T != K K^T for p > 1)"),
    ("gram-spherical-step", "numerics/simulation/_gram.py",
     "A, B = A / norm, B / norm\n        return A, B, a\n",
     "A, B = A, B\n        return A, B, a\n",
     [DRAWS + "::test_gram_spherical_step_matches_brute_force"],
     "spherical projection after a step dropped"),
    # -- the chi-square / Gamma draws ----------------------------------------------------
    ("gamma-chi2-scale", "numerics/simulation/_gram_draws.py",
     "diag = jnp.sqrt(2.0 * gamma(", "diag = jnp.sqrt(2.02 * gamma(",
     [DRAWS + "::test_bartlett_diagonal_at_large_degrees_of_freedom"],
     "chi^2 = 2.02 Gamma (1% scale error)"),
    ("gamma-mt-s", "numerics/simulation/_gram_draws.py",
     "s = jnp.where(boost, a + 1.0, a) - 1.0 / 3.0", "s = jnp.where(boost, a + 1.0, a) - 0.3",
     [DRAWS + "::test_gamma_draws_follow_the_gamma_law"],
     "Marsaglia-Tsang d = a - 0.3 instead of a - 1/3"),
    ("gamma-mt-c", "numerics/simulation/_gram_draws.py",
     "c = 1.0 / jnp.sqrt(9.0 * s)", "c = 1.0 / jnp.sqrt(8.0 * s)",
     [DRAWS + "::test_gamma_draws_follow_the_gamma_law"],
     "Marsaglia-Tsang c = 1/sqrt(8 d)"),
    ("gamma-boost", "numerics/simulation/_gram_draws.py",
     "value * boost_u ** (1.0 / a)", "value * boost_u ** (1.0 / (a + 1.0))",
     [DRAWS + "::test_gamma_draws_follow_the_gamma_law"],
     "Gamma(a < 1) boost with U^(1/(a+1))"),
    ("gamma-series", "numerics/simulation/_gram_draws.py",
     "series = series * t + 3.0 * (-1.0) ** (j + 1) / j",
     "series = series * t + 3.0 * (-1.0) ** j / j",
     [DRAWS + "::test_marsaglia_tsang_log_ratio_against_high_precision"],
     "log-ratio series with the wrong signs (large shapes)"),
    ("gamma-retry", "numerics/simulation/_gram_draws.py",
     "value = value.at[idx].set(jnp.where(ok, new, value[safe]), mode=\"drop\")",
     "value = value.at[idx].set(jnp.where(ok, value[safe], value[safe]), mode=\"drop\")",
     [DRAWS + "::test_gamma_draws_follow_the_gamma_law"],
     "rejected draws keep their rejected value"),
    # -- the normal generator ------------------------------------------------------------
    ("normals-radius", "numerics/simulation/_normals.py",
     "r = jnp.sqrt(-2.0 * log_unit(b1 >> 12))", "r = jnp.sqrt(-2.004 * log_unit(b1 >> 12))",
     [NORMALS], "radius variance 0.2% too large"),
    ("normals-radius-bits", "numerics/simulation/_normals.py",
     "r = jnp.sqrt(-2.0 * log_unit(b1 >> 12))", "r = jnp.sqrt(-2.0 * log_unit(b1 >> 11))",
     [NORMALS], "radius from the wrong 52 bits"),
    # -- issue 21 section 2: staircases whose step orders decrease -----------------------
    ("leap-last-step", "derive/protocols/online.py",
     "leap = max((s.order for s in steps), default=None)",
     "leap = steps[-1].order if steps else None",
     [EXPO + "::test_decreasing_step_orders"],
     "leap = order of the last step instead of the largest"),
    ("amp-trivial-alpha", "derive/protocols/amp.py",
     "return AmpReport(trivial, easy, hard, 0.0, None,",
     "return AmpReport(trivial, easy, hard, 1.0, None,",
     [EXPO + "::test_amp_subspaces_and_threshold"],
     "alpha_c != 0 although the trivial subspace is non-zero"),
    # -- the batch-reuse report ---------------------------------------------------------
    ("reuse-proved-all-powers", "derive/protocols/reuse.py",
     "all(ctx.power(m).scalars.is_exact for ms in res.witness_powers for m in ms)",
     "all(ctx.power(m).scalars.is_exact for m in ctx._powers)",
     ["tests/derive/test_reuse_report.py::test_a_witness_from_an_exact_label_power_is_a_proof"],
     "proof requires every label power exact (erf(z1) unproved)"),
    ("reuse-proved-no-powers", "derive/protocols/reuse.py",
     "all(ctx.power(m).scalars.is_exact for ms in res.witness_powers for m in ms)",
     "True",
     ["tests/derive/test_reuse_report.py::test_a_witness_from_an_exact_label_power_is_a_proof"],
     "numerical witnesses counted as proofs (tanh(z1) tanh(z2) proved)"),
]


def _run(tests, timeout):
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
           *tests]
    try:
        out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "killed (timeout)"
    if out.returncode == 0:
        return "SURVIVED"
    if out.returncode == 1:
        return "killed"
    return f"error (pytest exit {out.returncode}): {out.stdout[-300:]}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="mutations to apply (prefixes; default all)")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per mutant")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTATIONS
              if not args.names or any(m[0].startswith(n) for n in args.names)]
    if args.list:
        for name, path, _, _, tests, what in chosen:
            print(f"{name:20s} {path}: {what}\n{'':20s} tests: {' '.join(tests)}")
        return 0
    survived = 0
    for name, path, old, new, tests, what in chosen:
        file = ROOT / path
        text = file.read_text()
        if text.count(old) != 1:
            print(f"{name}: the text to mutate occurs {text.count(old)} times in {path}")
            survived += 1
            continue
        t0 = time.perf_counter()
        try:
            file.write_text(text.replace(old, new))
            result = _run(tests, args.timeout)
        finally:
            file.write_text(text)
        survived += result == "SURVIVED"
        print(f"{name:20s} {result:10s} {time.perf_counter() - t0:6.1f} s  {what}", flush=True)
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main())
