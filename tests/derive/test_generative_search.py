"""The batch-reuse witness search reaches the label powers the target's symmetries admit, and
values it cannot prove are reported as bounds (issue 21, section 1).

Reference values are derived by hand in the comments and checked against Gauss-Hermite
quadrature (exact for polynomials) and Monte Carlo, never read off the code.
"""

import json

import numpy as np
from _rotations import rotated_product
from numpy.polynomial.hermite_e import hermegauss

from escalier.derive import exponents, staircase

TARGET = "He3(z1)*(1 + z2 + z2*z3)"


def _gauss(f, dims, n=40):
    """E[f(z)] for z ~ N(0, I_dims) by tensor Gauss-Hermite quadrature (exact for
    polynomials of degree <= 2n - 1 in each variable)."""
    x, w = hermegauss(n)
    w = w / w.sum()
    grids = np.meshgrid(*([x] * dims), indexing="ij")
    weights = np.ones_like(grids[0])
    for i, wi in enumerate(np.meshgrid(*([w] * dims), indexing="ij")):
        weights = weights * wi
        del i
    return float(np.sum(weights * f(*grids)))


def _he3(z):
    return z**3 - 3 * z


def test_first_order_witness_beyond_the_old_power_cap():
    # y = He3(z1) g(z2, z3), g = 1 + z2 + z2 z3, is odd under z1 -> -z1, so E[z1 | y] is
    # odd in y: E[z1 y] = E[z1 He3(z1)] E[g] = 0 but
    # E[z1 y^3] = E[z1 He3(z1)^3] E[g^3] = 324 * 7 = 2268
    # (E[g^3] = 1 + 3 E[z2^2] + 3 E[z2^2 z3^2] + 0 = 7 by expanding; E[z He3^3] = 324 by
    # quadrature below). So z1 is learned at first order: generative exponent 1, O(d).
    # The old fixed cap m * degree <= 12 (degree 5 -> m <= 2) never looked at m = 3.
    e1 = _gauss(lambda z: z * _he3(z) ** 3, 1)
    e2 = _gauss(lambda a, b: (1 + a + a * b) ** 3, 2)
    assert abs(e1 - 324) < 1e-8 and abs(e2 - 7) < 1e-10
    r = exponents(TARGET, alpha_c=False)
    assert (r.generative_exponent, r.reuse) == (1, "O(d)")
    assert r.exact["generative_exponent"] and r.exact["reuse"]
    assert r.generative_bound() == {"proved": True, "relation": "=", "value": 1,
                                    "reuse": "O(d)", "text": "1"}
    # the witness names the exact moment, and every reuse step is first order
    assert "E[y~^3 z] = (2268, 0, 0)" in r.reuse_steps[0].witness
    assert all(s.order == 1 for s in r.reuse_steps)
    assert r.complexity()["reuse"] == "O(d)"
    # E[y~^2 z] = E[He3^2] E[g^2 z]: E[g^2 z2] = 2 E[z2^2] = 2, E[g^2 z3] = 2 E[z2^2 z3^2] = 2
    assert "E[y~^2 z] = (0, 12, 12)" in r.reuse_steps[0].witness
    # AMP: E[z | y] spans all three directions (z1 through y^3, z2 + z3 and z2 - z3
    # through y^2 and y^4), so the trivial subspace is everything and alpha_c = 0
    assert r.amp.trivial.dim == 3 and r.amp.hard.dim == 0


def test_witness_by_monte_carlo():
    # Monte Carlo of E[z1 y^3] (2 * 10^6 samples, fixed seed), tolerance 5 standard errors
    # (a false failure has probability ~6e-7 under the normal approximation of the mean).
    rng = np.random.default_rng(21)
    total, sq, n = 0.0, 0.0, 0
    for _ in range(4):
        z = rng.standard_normal((3, 500_000))
        v = z[0] * (_he3(z[0]) * (1 + z[1] + z[1] * z[2])) ** 3
        total += v.sum()
        sq += (v * v).sum()
        n += v.size
    mean = total / n
    se = np.sqrt((sq / n - mean**2) / n)
    assert abs(mean - 2268) < 5 * se
    # and the report's witness agrees with that value up to the same tolerance
    witness = exponents(TARGET, alpha_c=False).reuse_steps[0].witness
    assert "(2268, 0, 0)" in witness


def test_cli_report_and_json(capsys):
    import argparse

    from escalier.numerics.cli import _exponents

    parser = argparse.ArgumentParser()
    _exponents.add_arguments(parser)
    _exponents.run(parser.parse_args([TARGET, "--no-alpha-c"]))
    text = capsys.readouterr().out
    row = next(line for line in text.splitlines() if "generative exponent" in line)
    assert row.split()[-1] == "1" and "not" not in row
    assert "reuse       O(d)" in text
    _exponents.run(parser.parse_args([TARGET, "--no-alpha-c", "--json"]))
    data = json.loads(capsys.readouterr().out)
    assert data["generative_exponent"] == 1 and data["reuse"] == "O(d)"
    assert data["generative_exponent_bound"]["proved"] is True


def test_unproved_value_is_a_bound_everywhere(capsys, tmp_path):
    # z1 z2 z3 in a generic rotated frame: E[z | y] = 0 (flip two of the rotated
    # coordinates), but that symmetry is not a signed permutation of the written
    # coordinates, so the first order is searched and not found: the second-order witness
    # proves only "<= 2". z -> -z maps y to -y, so even label powers cannot carry a
    # first-order moment: only odd m are tried, up to m = 8.
    r = exponents(rotated_product(), alpha_c=False)
    bound = r.generative_bound()
    assert bound["proved"] is False and bound["relation"] == "<=" and bound["value"] == 2
    assert bound["text"] == "<= 2, not proved; first order not found up to m = 8"
    cert = r.reuse_steps[0].certificates[0]
    assert "label powers m <= 8" in cert and "even m excluded by symmetry" in cert
    assert r.complexity()["reuse"] == "<= O(d log d), not proved"
    data = r.to_json()
    assert data["generative_exponent"] is None and data["reuse"] is None
    assert data["generative_exponent_bound"] == bound
    graph = staircase(r, "reuse")
    assert graph.graph["exponent"] is None and graph.graph["exponent_bound"] == bound
    # the CLI table prints the bound, never the bare number
    from escalier.numerics.cli import _exponents
    from escalier.numerics.cli._staircase import _exponent_text

    text = _exponents.render(r)
    row = next(line for line in text.splitlines() if "generative exponent" in line)
    assert row.strip().endswith("<= 2, not proved; first order not found up to m = 8")
    assert _exponent_text(graph) == bound["text"]
    assert r.max_power == 8


def test_explicit_power_cap_is_respected_and_reported_as_a_bound():
    # with the label powers capped at m <= 2 by the caller, the first-order witness of TARGET
    # (m = 3) is out of reach: z1 comes at second order, and the value is only a bound
    r = exponents(TARGET, alpha_c=False, max_power=2)
    bound = r.generative_bound()
    assert bound["relation"] == "<=" and bound["value"] == 2
    assert "first order not found" in bound["text"] and "m = 2" in bound["text"]
    assert r.max_power == 2


def test_parity_excludes_label_powers():
    # He2(z1) * z2: y is odd under z2 -> -z2 and even under z1 -> -z1. E[z1 | y] = 0 by the
    # z1 flip (certified), so the first order of z1 needs no search; z2 comes first (odd m).
    r = exponents("He2(z1)*z2", alpha_c=False)
    # y^m with m odd: E[y^3 z2] = E[He2^3] E[z2^4] = 8 * 3 = 24
    assert "E[y~^3 z] = (0, 24)" in r.reuse_steps[0].witness
    # then z1 at second order given z2 (E[He2(z1) | y, z2] != 0), proved by the z1 flip
    assert [s.order for s in r.reuse_steps] == [1, 2]
    assert r.exact["generative_exponent"] and r.generative_exponent == 2
    assert "symmetry" in r.reuse_steps[1].certificates[0]
