"""The batch-reuse report at its edges: a coordinate the target ignores, a constant target, a
truncated expansion that cannot see the target's directions, and a staircase that stops short
(issue 21, section 3: mutants of derive/protocols/reuse.py that survived the suite).

Reference values are derived by hand in the comments. Generative exponent of y given the
learned U: the smallest k with E[He_k(z_perp) | y, z_U] != 0 (Damian, Pillaud-Vivien, Lee,
Bruna, arXiv 2403.05529; staircase form: Dandi et al., arXiv 2402.03220; docs/theory.md §3.4);
k = 1 costs O(d), k = 2 costs O(d log d).
"""

import numpy as np

from escalier.derive import Target, exponents, staircase


def test_a_coordinate_the_target_ignores_is_proved_irrelevant():
    # y = z1 z2 in k = 3. (z1, z2) -> (-z1, -z2) fixes y, so E[z | y] = 0: no first order;
    # E[z1 z2 | y] = y != 0: the second order learns span(e1, e2) at once. y does not involve
    # z3 and its expansion is complete (a polynomial), so the online staircase proves that
    # nothing else is relevant and the reuse staircase stops there: generative exponent 2,
    # proved, O(d log d). (Reading the online completeness as "unknown" would turn the
    # proved 2 into an unproved value.)
    r = exponents(Target.parse("z1*z2", k=3), alpha_c=False)
    assert [(s.order, s.after.dim) for s in r.reuse_steps] == [(2, 2)]
    assert r.reuse_steps[-1].after.contains((1, 0, 0)) and \
        not r.reuse_steps[-1].after.contains((0, 0, 1))
    assert r.exact["generative_exponent"] and r.exact["reuse"]
    assert r.generative_bound() == {"proved": True, "relation": "=", "value": 2,
                                    "reuse": "O(d log d)", "text": "2"}
    assert r.complexity()["reuse"] == "O(d log d)"
    assert r.to_json()["generative_exponent"] == 2
    # the uniform per-protocol entry and the staircase graph carry the same proved value,
    # and the search says why it stopped: everything y depends on is learned
    entry = r.to_json()["protocols"]["reuse"]
    assert (entry["exponent"], entry["proved"], entry["complexity"]) == (2, True, "O(d log d)")
    assert entry["exponent_name"] == "generative exponent" and entry["title"] == "batch reuse"
    assert entry["note"] == "every direction the target depends on is learned"
    assert staircase(r, "reuse").graph["proved"] is True
    assert [(s["leap"], s["cost"]) for s in r.to_json()["reuse_staircase"]] == [(2, "d log d")]
    # the text report: the rows and the staircase section with its one second-order step
    from escalier.numerics.cli._exponents import render

    lines = render(r).splitlines()
    assert any(line.split() == ["generative", "exponent", "2"] for line in lines)
    assert any(line.split() == ["batch", "reuse", "class", "O(d", "log", "d)"] for line in lines)
    section = lines.index("batch-reuse staircase:")
    assert lines[section + 1].split()[:5] == ["step", "1:", "reuse,", "second", "order"]
    assert "dim 0 -> 2" in lines[section + 1]


def test_a_constant_target_has_nothing_to_learn():
    # y = 1: every conditional moment E[He_k(z) | y] = E[He_k(z)] = 0 (k >= 1), exactly.
    # No direction is ever learned: no reuse step, no generative exponent, and no cost.
    r = exponents("1", alpha_c=False)
    assert r.reuse_steps == () and r.generative_exponent is None and r.reuse is None
    assert r.complexity()["reuse"] == "?"
    graph_start = r.protocols["reuse"].start
    assert graph_start.dim == 0
    data = r.to_json()
    assert data["generative_exponent"] is None and data["reuse"] is None
    # proved (nothing to learn), and said in words, not as the string "None"
    assert r.generative_bound()["text"] == "none (the target is constant)"


def test_a_truncated_expansion_proves_nothing_beyond_its_degree():
    # y = sign(z1 z2 z3). Every Hermite coefficient of degree <= 2 vanishes (each monomial
    # misses a variable, whose flip changes the sign of y), but y is not constant:
    # E[y z1 z2 z3] = (E|z|)^3 = (2/pi)^(3/2) ~ 0.508 != 0 (Monte Carlo below: 10^5
    # samples, Var |z1 z2 z3| = 1 - (2/pi)^3 < 1, tolerance 5 standard errors). A degree-2
    # expansion therefore sees nothing, and no exponent may be reported as proved: not
    # "leap None, proved" (y would be constant) and not "generative exponent None, proved".
    # (At the default degree the parity's exponents are 3: arXiv 2403.05529, sparse parities.)
    z = np.random.default_rng(3).standard_normal((3, 100_000))
    assert abs(np.mean(np.abs(z[0] * z[1] * z[2])) - (2 / np.pi) ** 1.5) < 5 / np.sqrt(1e5)
    r = exponents("sign(z1*z2*z3)", max_degree=2, alpha_c=False)
    assert r.leap is None and not r.exact["leap"]
    assert r.generative_exponent is None and not r.exact["generative_exponent"]
    bound = r.generative_bound()
    assert bound["proved"] is False and bound["relation"] == "undetermined"
    assert bound["value"] is None
    assert bound["text"].startswith("not determined; no further direction found up to order 2")
    assert r.complexity()["reuse"] == "?" and r.complexity()["online"] == "?"
    entry = r.to_json()["protocols"]["reuse"]
    assert entry["proved"] is False and "no further direction found up to order 2" in entry["note"]


def test_a_staircase_that_stops_short_reports_a_lower_bound():
    # y = relu(z1) + sign(z2 z3), k = 3. E[z1 y] = E[z1 relu(z1)] = 1/2 != 0: z1 at first
    # order. Given z1, (z2, z3) -> (-z2, -z3) fixes y and z1, so E[z2 | y, z1] =
    # E[z3 | y, z1] = 0; y - relu(z1) = sign(z2 z3), so E[z2 z3 | y, z1] =
    # E|z2| E|z3| sign(z2 z3) = (2/pi) sign(z2 z3) != 0: z2 and z3 come at second order.
    # Generative exponent 2, O(d log d) (proved at the default degree).
    full = exponents(Target.parse("relu(z1) + sign(z2*z3)", k=3), alpha_c=False)
    assert [(s.order, s.after.dim) for s in full.reuse_steps] == [(1, 1), (2, 3)]
    assert full.generative_exponent == 2 and full.exact["generative_exponent"]
    assert full.complexity()["reuse"] == "O(d log d)"
    # Truncated at degree 1, only z1 is seen: the first order found is a LOWER bound on the
    # generative exponent (the true value 2 is larger), so the cost is "O(d) or more", never
    # "<= O(d)".
    cut = exponents(Target.parse("relu(z1) + sign(z2*z3)", k=3), max_degree=1, alpha_c=False)
    assert [s.order for s in cut.reuse_steps] == [1]
    bound = cut.generative_bound()
    assert bound["relation"] == "undetermined" and bound["value"] == 1
    assert bound["proved"] is False and bound["reuse"] is None
    assert bound["text"].startswith("not determined (orders up to 1 found)")
    assert cut.complexity()["reuse"] == "O(d) or more, not proved"
    assert cut.to_json()["generative_exponent"] is None


def test_label_power_cap_leaves_the_information_exponent_as_a_bound():
    # y = He5(z1). With every label power (m = 1 only), the witnesses are E[y He_k(z)] =
    # 5! [k = 5] (Hermite orthogonality): only order 5 is seen, and orders 1..4 are neither
    # witnessed nor certified (the z1 flip maps y to -y, which forbids nothing at m = 1 for
    # odd k, and even k need even m, not searched). So the report is the bound "<= 5" and
    # names each order it could not settle. Without the cap, E[y^3 z1] = E[z He5(z)^3] =
    # 216000 (Gauss-Hermite quadrature below, exact for this degree-16 polynomial) proves
    # the generative exponent 1 (odd polynomials: E[z | y] != 0; arXiv 2403.05529).
    x, w = np.polynomial.hermite_e.hermegauss(20)
    he5 = x**5 - 10 * x**3 + 15 * x
    assert abs(np.sum(w * x * he5**3) / w.sum() - 216000) < 1e-6
    capped = exponents("He5(z1)", max_power=1, alpha_c=False)
    assert capped.generative_bound() == {
        "proved": False, "relation": "<=", "value": 5, "reuse": "hard",
        "text": "<= 5, not proved; first order not found up to m = 1; second order not found "
                "up to m = 1; third order not found up to m = 1; 4th order not found up to m = 1"}
    assert capped.complexity()["reuse"] == "<= hard, not proved"
    full = exponents("He5(z1)", alpha_c=False)
    assert full.generative_bound()["text"] == "1" and full.reuse == "O(d)"
    assert "E[y~^3 z] = (216000)" in full.reuse_steps[0].witness


def test_unsettled_orders_are_named_with_their_step():
    # y = He3(z1) + He5(z2) with m = 1 only: the witnesses are the Hermite tensors C_k, and
    # by orthogonality C_k = 0 unless k = 3 (6 e1^3) or k = 5 (120 e2^5). Step 1 learns z1
    # at order 3 (orders 1, 2 unsettled), step 2 learns z2 at order 5 (orders 1..4
    # unsettled given z1). The bound names the step of each unsettled order.
    r = exponents("He3(z1) + He5(z2)", max_power=1, alpha_c=False)
    assert [(s.order, s.after.dim) for s in r.reuse_steps] == [(3, 1), (5, 2)]
    names = ("first", "second", "third", "4th")
    text = "; ".join([f"{names[k]} order not found up to m = 1" for k in range(2)]
                     + [f"{names[k]} order not found at step 2 up to m = 1" for k in range(4)])
    assert r.generative_bound()["text"] == f"<= 5, not proved; {text}"


def test_a_witness_from_an_exact_label_power_is_a_proof():
    # y = erf(z1): E[y z1] = E[erf'(z1)] = (2 / sqrt(pi)) E[exp(-z1^2)] = 2 / sqrt(3 pi) != 0
    # (Stein), a closed form: the first-order witness is exact, so the generative exponent
    # 1 (its least possible value) is proved and the cost O(d), although the higher label
    # powers y^2, y^3 have only numerical coefficients (they witness nothing here).
    r = exponents("erf(z1)", alpha_c=False)
    assert [s.order for s in r.reuse_steps] == [1]
    assert r.generative_bound() == {"proved": True, "relation": "=", "value": 1,
                                    "reuse": "O(d)", "text": "1"}
    assert r.complexity()["reuse"] == "O(d)"
    # y = erf(z1) erf(z2): (z1, z2) -> (-z1, -z2) fixes y, so E[z | y] = 0 (certified by
    # symmetry for every label function), and E[y z1 z2] = (2 / sqrt(3 pi))^2 != 0 exactly:
    # second order, proved: O(d log d).
    r = exponents("erf(z1)*erf(z2)", alpha_c=False)
    assert [(s.order, s.after.dim) for s in r.reuse_steps] == [(2, 2)]
    assert r.generative_bound()["text"] == "2" and r.exact["reuse"]
    # tanh has no closed-form Gaussian moments: the same structure stays a bound
    r = exponents("tanh(z1)*tanh(z2)", alpha_c=False)
    assert r.generative_bound()["relation"] == "<=" and not r.exact["reuse"]
