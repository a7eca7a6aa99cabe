"""Staircases whose step orders decrease, the giant-step and few-step exponents on more
targets, and the AMP classes, each derived by hand in the comments (issue 21, section 2).

Notation: C_k = E[y He_k(z)] (Hermite tensors); T_k(U) = E[y He_k(z_perp) | z_U]; U*_l =
sum_{k <= l} Im C_k (one giant step with n = d^l); few steps with fresh batches n = d^l:
U_{t+1} = U_t + sum_{k <= l} Im T_k(U_t); reuse: the smallest k with
E[He_k(z_perp) | y, z_U] != 0; AMP: trivial = span_y E[z | y], easy = images of
E[z z^T | y] - I outside it, hard = the rest; alpha_c = 0 when the trivial subspace is not
{0}, inf when trivial and easy are both {0}.
"""

import math

import numpy as np
import pytest

from escalier.derive import exponents, staircase


def _span_is(subspace, vectors):
    """The subspace equals span(vectors) (orthogonal projectors agree)."""
    if not vectors:
        return subspace.dim == 0
    v = np.array(vectors, float)
    q, _ = np.linalg.qr(v.T)
    want = q @ q.T
    return subspace.dim == len(vectors) and np.allclose(subspace.projector_float(), want,
                                                        atol=1e-10)


# (target, online orders, leap, giant-step l, few-step l, few-step steps, reuse orders)
DECREASING = [
    # y = He3(z1) (1 + z2). C_1 = C_2 = 0 (He3 is orthogonal to 1, z1, He2; the z2 part is
    # He3(z1) z2, of degree 4). C_3 = 6 e1 e1 e1 -> first step order 3 learns z1. Given z1,
    # T_1 = E[y z2 | z1] = He3(z1) != 0: second step order 1. Leap = max = 3 (the last step
    # is 1). Giant step: e2 only in C_4 (from He3(z1) z2) -> l = 4. Few steps: l = 3 learns
    # z1, then T_1 learns z2: 2 steps. Reuse: E[y^2 z2] = 6 E[(1 + z2)^2 z2] = 12 and
    # E[y^3 z1] = 324 E[(1 + z2)^3] = 1296: both first order at once.
    ("He3(z1) + He3(z1)*z2", [3, 1], 3, 4, 3, 2, [1]),
    # y = He4(z1) (1 + z2): same structure with order 4 -> 1. Reuse: y is even in z1, so
    # E[z1 | y, ...] = 0 by z1 -> -z1; z2 first (E[y^2 z2] = 24 * 2 = 48), then z1 at second
    # order given z2 (E[He2(z1) | y, z2] != 0). Giant step l = 5 (He4(z1) z2).
    ("He4(z1) + He4(z1)*z2", [4, 1], 4, 5, 4, 2, [1, 2]),
    # y = He2(z1) + He3(z1) z2: C_2 = 2 e1 e1 -> z1 at order 2; then T_1 = He3(z1) != 0.
    # Leap 2. Giant step: e2 only in C_4 -> l = 4; few steps: l = 2, 2 steps.
    ("He2(z1) + He3(z1)*z2", [2, 1], 2, 4, 2, 2, None),
    # y = He3(z1) + z1 z2 z3: C_3 = 6 e1^3 + sym(e1 e2 e3): one step of order 3 learns all.
    ("He3(z1) + z1*z2*z3", [3], 3, 3, 3, 1, None),
]


@pytest.mark.parametrize(("text", "orders", "leap", "gs", "few", "nsteps", "reuse"), DECREASING)
def test_decreasing_step_orders(text, orders, leap, gs, few, nsteps, reuse):
    r = exponents(text, alpha_c=False)
    assert [s.order for s in r.online] == orders
    assert r.leap == leap == max(orders)
    assert r.exact["leap"]
    assert r.complexity()["online"] == ("d" if leap == 1 else "d log d" if leap == 2
                                        else f"d^{leap - 1}")
    assert r.giant_step_exponent == gs
    assert r.few_step_exponent == few and len(r.few_steps[few]) == nsteps
    if reuse is not None:
        assert [s.order for s in r.reuse_steps] == reuse
        assert r.generative_exponent == max(reuse)
    # the staircase graph carries the same leaps and exponent
    graph = staircase(r, "online")
    assert [e["leap"] for _, _, e in graph.edges(data=True)] == orders
    assert graph.graph["exponent"] == leap


# (target, giant-step l, few-step l, few-step steps, leap)
GIANT = [
    # z1 z2: C_1 = 0, C_2 = sym(e1 e2) has full rank 2 -> l = 2, one step; T_1(0) = 0 -> leap 2.
    ("z1*z2", 2, 2, 1, 2),
    # z1 + z2 He2(z1): C_1 = e1, C_2 = 0 (z2 He2(z1) has degree 3), C_3 has e1 e1 e2 -> one
    # giant step needs l = 3. Few steps at l = 1: z1, then T_1(z1) = E[y z2 | z1] = He2(z1)
    # != 0 -> z2: 2 steps at n = d. Online leap 1.
    ("z1 + z2*He2(z1)", 3, 1, 2, 1),
    # z1 + z1 z2 z3: C_1 = e1, C_2 = 0, C_3 = sym(e1 e2 e3) -> l = 3. Few steps at l = 1 stop
    # after z1 (T_1(z1) = E[z1 z2 z3 z_perp | z1] = 0); at l = 2, T_2(z1) = z1 sym(e2 e3) adds
    # z2, z3: 2 steps. Online: 1 then 2 -> leap 2.
    ("z1 + z1*z2*z3", 3, 2, 2, 2),
    # z1 + z1 z2 + z1 z2 z3 (Abbe et al. 2022's staircase): C_1 = e1, C_2 = sym(e1 e2),
    # C_3 = sym(e1 e2 e3) -> l = 3; few steps at l = 1: z1, z2 (T_1(z1) = z1 e2...), z3:
    # 3 steps.
    ("z1 + z1*z2 + z1*z2*z3", 3, 1, 3, 1),
    # He2(z1) + He2(z2) + z1 z2: C_2 = 2 e1e1 + 2 e2e2 + sym(e1e2), rank 2 -> l = 2, one step.
    ("He2(z1) + He2(z2) + z1*z2", 2, 2, 1, 2),
]


@pytest.mark.parametrize(("text", "gs", "few", "nsteps", "leap"), GIANT)
def test_giant_and_few_step_exponents(text, gs, few, nsteps, leap):
    r = exponents(text, alpha_c=False)
    assert (r.giant_step_exponent, r.few_step_exponent, r.leap) == (gs, few, leap)
    assert len(r.few_steps[few]) == nsteps
    assert r.exact["giant_step_exponent"] and r.exact["few_step_exponent"]
    # U*_l grows to the relevant subspace exactly at l = gs
    dims = [u.dim for u in r.giant_step_subspaces]
    assert dims[gs - 1] == r.target.k and (gs == 1 or dims[gs - 2] < r.target.k)
    # no smaller batch exponent reaches every direction with few steps
    for smaller in range(1, few):
        assert r.few_steps[smaller][-1].after.dim < r.target.k if r.few_steps[smaller] else True


# (target, trivial basis, easy basis, hard basis, alpha_c)
AMP = [
    # z1 + He2(z2): E[z1 | y] != 0 (y is increasing in z1 on average), E[z2 | y] = 0
    # (z2 -> -z2 keeps y): trivial = z1; E[He2(z2) | y] != 0: easy = z2; alpha_c = 0.
    ("z1 + He2(z2)", [[1, 0]], [[0, 1]], [], 0.0),
    # He2(z1): even in z1 -> trivial {0}; E[He2(z1) | y] = y: easy = z1; alpha_c numerical
    # (not computed here).
    ("He2(z1)", [], [[1]], [], None),
    # sign(z1 z2 z3): y = +-1, every E[He_k | y] with k <= 2 vanishes (C_1 = C_2 = 0) ->
    # trivial = easy = {0}, all three hard, alpha_c = inf.
    ("sign(z1*z2*z3)", [], [], [[1, 0, 0], [0, 1, 0], [0, 0, 1]], math.inf),
    # He3(z1) + He3(z1) z2: trivial = span(z1, z2) (E[y^3 z1] and E[y^2 z2] != 0) -> 0.
    ("He3(z1) + He3(z1)*z2", [[1, 0], [0, 1]], [], [], 0.0),
    # z1 z2 z3 + z1: E[z | y] = e1 E[z1 | y] (z2, z3 -> -z2, -z3 keeps y): trivial z1;
    # E[z2 z3 | y] != 0: easy z2, z3.
    ("z1*z2*z3 + z1", [[1, 0, 0]], [[0, 1, 0], [0, 0, 1]], [], 0.0),
    # z1 z2 z3: trivial {0} (two sign flips), E[He2(z_i) | y] != 0 -> easy = all.
    ("z1*z2*z3", [], [[1, 0, 0], [0, 1, 0], [0, 0, 1]], [], None),
]


@pytest.mark.parametrize(("text", "trivial", "easy", "hard", "alpha"), AMP)
def test_amp_subspaces_and_threshold(text, trivial, easy, hard, alpha):
    r = exponents(text, alpha_c=False)
    amp = r.amp
    assert _span_is(amp.trivial, trivial), amp.trivial.dim
    assert _span_is(amp.easy, easy), amp.easy.dim
    assert _span_is(amp.hard, hard), amp.hard.dim
    assert amp.alpha_c == alpha
    expected = {0.0: "n = alpha d, any alpha > 0",
                math.inf: "not weakly learnable with n = O(d)", None: "?"}[alpha]
    assert r.complexity()["amp"] == expected
    data = amp.to_json()
    assert data["alpha_c"] == (None if alpha is None else "inf" if alpha == math.inf else 0.0)
    assert data["alpha_c_numeric"] is False


# reuse costs: first order O(d), second order O(d log d), order k >= 3 not in O(d log d)
# with the SQ lower bound n >~ d^{k/2} (Damian et al. 2024, arXiv 2403.05529)
REUSE_COSTS = [
    ("He3(z1)", 1, "d"),
    ("z1*z2*z3", 2, "d log d"),
    ("sign(z1*z2*z3)", 3, "hard (not O(d log d); SQ lower bound d^(3/2))"),
    ("sign(z1*z2*z3*z4)", 4, "hard (not O(d log d); SQ lower bound d^2)"),
]


@pytest.mark.parametrize(("text", "order", "cost"), REUSE_COSTS)
def test_reuse_step_costs(text, order, cost):
    r = exponents(text, alpha_c=False)
    assert [(s.order, s.cost) for s in r.reuse_steps] == [(order, cost)]
    assert r.reuse == ("O(d)", "O(d log d)", "hard")[min(order, 3) - 1]
    assert r.reuse_steps[0].to_json()["cost"] == cost


def test_step_json_exact_directions_and_certificates():
    # z1 + z2: C_1 = e1 + e2, one step learning (1, 1) / sqrt 2, exactly; then
    # f depends on nothing else (complete expansion), so the staircase ends.
    r = exponents("z1 + z2", alpha_c=False)
    (step,) = r.to_json()["staircase"]
    assert step["leap"] == 1 and step["cost"] == "d" and step["dimension"] == 1
    assert step["mechanism"] == "online leap 1" and step["witness"] == "T_1(U_0) != 0"
    assert step["exact_directions"] == [["sqrt(2)/2", "sqrt(2)/2"]]
    assert np.allclose(step["directions"], [[2**-0.5, 2**-0.5]])
    assert step["certified"] is True and step["certificates"] == []
    # He3(z1): orders 1 and 2 vanish (exact zeros), listed as certificates of the step
    (step,) = exponents("He3(z1)", alpha_c=False).to_json()["staircase"]
    assert step["leap"] == 3 and step["cost"] == "d^2" and step["certified"] is True
    assert [c.split(":")[0] for c in step["certificates"]] == ["order 1", "order 2"]
    # numerical coefficients: no exact directions
    (first, _) = exponents("tanh(z1) + tanh(z2)", alpha_c=False).to_json()["staircase"]
    assert first["exact_directions"] is None and first["dimension"] == 1


def test_few_step_chain_fields():
    # z1 + z1 z2 z3 with batches n = d^2: step 1 learns z1 (C_1 = e1; C_2 = 0), step 2 learns
    # z2, z3 (T_2(span e1) = z1 sym(e2 e3)); each step costs d^2; with n = d the chain stops
    # after z1 (T_1(span e1) = 0).
    r = exponents("z1 + z1*z2*z3", alpha_c=False)
    chain = r.few_steps[2]
    assert [(s.order, s.cost, s.certified, s.after.dim) for s in chain] == \
        [(2, "d^2", True, 1), (2, "d^2", True, 3)]
    assert [s.mechanism for s in chain] == ["giant step 1, n = d^2", "giant step 2, n = d^2"]
    assert [s.witness for s in chain] == ["Im T_k(U_t) != 0 for k in [1]",
                                          "Im T_k(U_t) != 0 for k in [2]"]
    (first,) = r.few_steps[1]
    assert (first.order, first.cost, first.after.dim) == (1, "d", 1)
    graph = staircase(r, "few_steps", l=1)
    assert graph.number_of_edges() == 1 and graph.graph["exponent"] == 1
    with pytest.raises(ValueError, match="batch exponent"):
        staircase("z1 + z1*z2*z3", "few_steps", l=0)


def test_few_steps_chain_directly():
    # the few-steps recursion called as a function (protocols/_subspace.few_steps), without
    # an image cache: y = z1 + z1 z2 z3 at l = 2 learns z1, then z2 and z3 (see
    # test_few_step_chain_fields); l must be an integer >= 1
    from escalier.derive.algebra import Subspace
    from escalier.derive.protocols._context import Context
    from escalier.derive.protocols._subspace import few_steps

    ctx = Context.build("z1 + z1*z2*z3")
    whole = Subspace.zero(3, ctx.power(1).scalars).complement()
    steps, reaches = few_steps(ctx, 2, whole)
    assert reaches and [s.after.dim for s in steps] == [1, 3]
    assert [s.index for s in steps] == [0, 1]
    assert few_steps(ctx, 1, whole)[1] is False  # T_1(span e1) = 0: stops after z1
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match=r"^the batch exponent l must be an integer >= 1"):
            few_steps(ctx, bad, whole)


def test_few_steps_directions_are_exact_when_the_label_is():
    # y = erf(z1) (1 + z2). C_1 = (E[erf(z1) z1], E[erf(z1)] E[(1 + z2) z2]) = (2/sqrt(3 pi), 0)
    # (Stein: E[erf(z) z] = E[erf'(z)] = 2/sqrt(pi) E[e^{-z^2}] = 2/sqrt(3 pi)): step 1 learns
    # e1; T_1(span e1) = E[y z2 | z1] = erf(z1) != 0: step 2 learns e2. The coefficients of y
    # are exact (erf moments), those of y^2 are not (erf^2): the chain's directions are
    # the exact e1, e2 (the scalars are y's, not y^2's).
    r = exponents("erf(z1) + z2*erf(z1)", alpha_c=False)
    chain = r.few_steps[1]
    assert [s.after.dim for s in chain] == [1, 2]
    assert [s.exact_directions() for s in chain] == [((1, 0),), ((0, 1),)]
    assert r.exact["few_step_exponent"]


def test_giant_step_directly_and_its_exact_subspaces():
    # one giant step (protocols/_subspace.giant_step) without an image cache. y = erf(z1)
    # (1 + z2): C_1 = (2/sqrt(3 pi), 0) (see above), C_2 has the entry E[y He1(z1) He1(z2)] =
    # E[erf(z1) z1] E[(1 + z2) z2] = 2/sqrt(3 pi) != 0 at e1 e2: U*_1 = span e1, U*_2 = R^2,
    # exponent 2. The coefficients of y are exact (those of y^2 are not): so are the U*_l.
    from escalier.derive.algebra import Subspace
    from escalier.derive.protocols._context import Context
    from escalier.derive.protocols._subspace import giant_step

    ctx = Context.build("erf(z1) + z2*erf(z1)")
    whole = Subspace.zero(2, ctx.power(1).scalars).complement()
    g = giant_step(ctx, whole)
    assert g.exponent == 2 and [u.dim for u in g.subspaces[:2]] == [1, 2]
    assert g.subspaces[0].orthonormal() == ((1, 0),)
    assert all(u.scalars.is_exact for u in g.subspaces)
    # the U*_l run over l = 1..(the degree of a polynomial target): one for z1 + z2
    r = exponents("z1 + z2", alpha_c=False)
    assert [u.dim for u in r.giant_step_subspaces] == [1] and r.giant_step_exponent == 1


def test_a_constant_target_has_no_giant_or_few_step_exponent():
    # z1^2 - He2(z1) = 1: nothing to learn, so no batch exponent l (not l = 1)
    r = exponents("z1**2 - He2(z1)", alpha_c=False)
    assert [u.dim for u in r.giant_step_subspaces] == [0]
    assert r.giant_step_exponent is None and r.few_step_exponent is None


def _blocked(text, l, student):
    from escalier.derive.protocols import FewSteps

    few = exponents(text, alpha_c=False, protocols=[FewSteps(l=l, student=student)]) \
        .protocols["few_steps"]
    return [s.after.dim for s in few.data["chains"][l]], few.data["blocked"][l]


def test_student_block_reports_the_moving_terms():
    # relu: c_1, c_2 != 0, c_3 = 0 (relu = x/2 + |x|/2, |x| is even; tests/derive/
    # test_few_steps_student.py). y = z1 + z1 z2 z3 with n = d^2: step 1 learns z1 (term z1:
    # t = 1, m = 0, needs c_1). At U = span e1 the only term outside U is z1 z2 z3: degree
    # t = 2 in the new directions z2, z3 and m = 1 in U, so it needs c_3 = 0: blocked at
    # step 2, one term (t, m) = (2, 1) of order 3 (the student's c_1 = c_(t-m) is not the one).
    dims, block = _blocked("z1 + z1*z2*z3", 2, "relu")
    assert dims == [1] and block["step"] == 2
    from escalier.derive.protocols import FewSteps

    (step,) = exponents("z1 + z1*z2*z3", alpha_c=False, protocols=[
        FewSteps(l=2, student="relu")]).protocols["few_steps"].data["chains"][2]
    assert step.witness == "Im T_k(U_t) != 0 for k in [1] (seen by the student relu)"
    assert block["terms"] == [{"t": 2, "m": 1, "order": 3, "student_nonzero": False}]
    assert block["needed_orders"] == [3] and block["vanishing_orders"] == [3]
    assert block["reason"] == (
        "the terms that would move the weights out of the learned subspace need the Hermite "
        "coefficients c_j(sigma), j in [3] (sigma' coefficients of order [2]), and the "
        "student relu has c_j = 0 for j in [3]")
    # with n = d (l = 1) the chain stops at z1 for every student: no term of degree t = 1
    # in z2, z3 (z1 z2 z3 has t = 2 > l), so nothing is needed and nothing is blamed
    dims, block = _blocked("z1 + z1*z2*z3", 1, "relu")
    assert dims == [1] and block["step"] == 2
    assert (block["terms"], block["needed_orders"], block["vanishing_orders"]) == ([], [], [])
    assert block["reason"] == "no term of the target moves the weights out of U (for any student)"


def test_online_staircase_directly_and_its_search_range():
    # the online recursion (protocols/_subspace.online_staircase) without an image cache.
    # y = erf(z1) (1 + z2): T_1(0) = C_1 = (2/sqrt(3 pi), 0) -> e1 at order 1; then
    # T_1(span e1) = E[y z2 | z1] = erf(z1) != 0 -> e2 at order 1. y's coefficients are
    # exact (y^2's are not), so the learned directions are exact.
    from escalier.derive.protocols._context import Context
    from escalier.derive.protocols._subspace import online_staircase

    res = online_staircase(Context.build("erf(z1) + z2*erf(z1)"))
    assert [s.order for s in res.steps] == [1, 1] and res.complete
    assert [s.exact_directions() for s in res.steps] == [((1, 0),), ((0, 1),)]
    # sign(z1 z2 z3) truncated at degree D <= 2 has no non-zero coefficient (each monomial
    # misses a variable whose flip changes the sign of y): the search covers the orders
    # 1..D of the truncation, and says so (not more, not less)
    for d in (1, 2):
        r = exponents("sign(z1*z2*z3)", max_degree=d, alpha_c=False)
        assert r.online == () and r.protocols["online"].note == \
            f"no further direction found up to degree {d}"


def test_online_staircase_notes_and_step_fields():
    # protocols/_subspace.online_staircase called directly; each ending has its own note.
    from escalier.derive import Target
    from escalier.derive.protocols._context import Context
    from escalier.derive.protocols._subspace import online_staircase

    # y = erf(z1) (1 + z2) (test_online_staircase_directly_and_its_search_range): step 0
    # learns e1 from U_0 = {0} at order 1 (T_1(U_0) = C_1 = (2/sqrt(3 pi), 0)), step 1 learns
    # e2 from U_1 = span e1 (T_1(U_1) = erf(z1) e2); no lower order to certify (both leaps
    # are 1), cost d each; then R^2 is learned: "every direction learned", complete.
    res = online_staircase(Context.build("erf(z1) + z2*erf(z1)"))
    assert [s.index for s in res.steps] == [0, 1]
    assert [(s.before.dim, s.after.dim) for s in res.steps] == [(0, 1), (1, 2)]
    assert [(s.mechanism, s.cost) for s in res.steps] == [("online leap 1", "d")] * 2
    assert [s.witness for s in res.steps] == ["T_1(U_0) != 0", "T_1(U_1) != 0"]
    assert [(s.certificates, s.certified) for s in res.steps] == [((), True)] * 2
    assert res.final.dim == 2 and res.complete is True
    assert res.note == "every direction learned"
    # He2(z1) with k = 3 (a polynomial): order 2 learns e1 (C_1 = 0, C_2 = 2 e1 e1), then
    # y depends on z1 alone, so every T_k(span e1) is exactly 0: the staircase stops at
    # span e1, complete, with the polynomial's note (exact and complete expansion).
    res = online_staircase(Context.build(Target.parse("He2(z1)", k=3)))
    assert [(s.order, s.after.dim) for s in res.steps] == [(2, 1)]
    assert res.final.dim == 1 and res.complete is True
    assert res.note == "f depends only on the learned subspace (complete exact expansion)"
    # y = z1 + sign(z1 z2) - sign(z1) sign(z2) = z1 almost surely (sign(ab) = sign(a)
    # sign(b)): not a polynomial as written, but its Hermite expansion is complete (z1 alone,
    # exact). Order 1 learns e1 (C_1 = e1); then T_k(span e1) = E[z1 He_k(z2) | z1] = 0 for
    # every k, each a complete exact zero: the note of a non-polynomial target quotes the
    # certificate of the highest order searched, 3 = max_degree (not an earlier order).
    ctx = Context.build("z1 + sign(z1*z2) - sign(z1)*sign(z2)", max_degree=3)
    assert not ctx.polynomial and ctx.power(1).complete
    res = online_staircase(ctx)
    assert [(s.order, s.after.dim) for s in res.steps] == [(1, 1)]
    assert res.final.dim == 1 and res.complete is True
    assert res.note == (
        "f depends only on the learned subspace (every T_k vanishes: exact zero (complete "
        "expansion of y: every coefficient with |alpha_perp| = 3 is exactly 0))")
    # completeness is read from y's expansion, not y^2's: y = He2(z1) + sign(z1 z2) -
    # sign(z1) sign(z2) = He2(z1) a.s. is complete at max_degree 3 (degree 2), y~^2 = He2(z1)^2
    # (degree 4) is truncated there. Order 2 learns e1 (C_1 = 0, C_2 = 2 e1 e1); then the
    # complete exact zeros of orders 1..3 prove that y depends on z1 alone.
    ctx = Context.build("He2(z1) + sign(z1*z2) - sign(z1)*sign(z2)", max_degree=3)
    assert ctx.power(1).complete and not ctx.power(2).complete
    res = online_staircase(ctx)
    assert [(s.order, s.after.dim) for s in res.steps] == [(2, 1)]
    assert res.complete is True and res.note.startswith("f depends only on the learned subspace")
