"""The batch-reuse witness search (derive/protocols/_witness.py) against hand derivations:
the witness texts and their exact moments, the label-power search and its stopping rules,
the texts of an order searched without a witness (issue 21, section 3: the survivors of the
mutation run, docs/mutation.md).

Exact Gaussian moments are computed here from E[z^n] = (n - 1)!! (n even, 0 odd) on the
SymPy expansion of the polynomial, independently of escalier's Hermite machinery.
"""

import math

import pytest
import sympy as sp
from _rotations import rotated_product

from escalier.derive import Target, exponents
from escalier.derive.algebra import Subspace
from escalier.derive.protocols import _witness as W
from escalier.derive.protocols._context import Context

TARGET = "He3(z1)*(1 + z2 + z2*z3)"


def _gauss_moment(expr, zs) -> sp.Rational:
    """E[expr(z)] for z ~ N(0, I), expr a polynomial with rational coefficients."""
    total = sp.Integer(0)
    for exps, c in sp.Poly(sp.expand(expr), *zs).terms():
        if all(a % 2 == 0 for a in exps):
            total += c * math.prod(sp.factorial2(a - 1) if a else 1 for a in exps)
    return sp.nsimplify(total)


def _he(n, z):
    return sp.hermite_prob(n, z)


def _moment_text(y, m, zs) -> str:
    """"E[y~^m z] = (E[y~^m z1], ..., E[y~^m zk])" with y~ = y - E[y], exact rationals."""
    yc = sp.expand(y - _gauss_moment(y, zs))
    vec = [_gauss_moment(yc**m * z, zs) for z in zs]
    return f"E[y~^{m} z] = ({', '.join(str(v) for v in vec)})"


def _reuse(target, **kw):
    r = exponents(target, alpha_c=False, **kw)
    return r.protocols["reuse"].data["result"], r


# ---------------------------------------------------------------------------------------
# witness texts


def test_first_stage_witness_lists_every_power_that_grew_the_span():
    # y = He3(z1) g, g = 1 + z2 + z2 z3 (test_generative_search.py): E[y z] = 0 (E[He3 z1] =
    # 0, E[He3] = 0); E[y^2 z] = (0, 12, 12) adds z2 + z3; E[y^3 z] = (2268, 0, 0) adds z1;
    # E[y^4 z] = E[He3^4] (0, E[g^4 z2], E[g^4 z3]) is not along z2 + z3 (E[g^4 z2] !=
    # E[g^4 z3]: the z2 z3 cross terms differ), so it adds the last direction and the search
    # stops at m = 4 (R^3 learned). The witness lists m = 2, 3, 4 (not m = 1, which added
    # nothing), each with its exact moment, separated by "; ".
    z1, z2, z3 = zs = sp.symbols("z1:4")
    y = _he(3, z1) * (1 + z2 + z2 * z3)
    he3_4 = _gauss_moment(_he(3, z1) ** 4, zs)
    assert he3_4 == 3348  # 10395 - 12 * 945 + 54 * 105 - 108 * 15 + 81 * 3
    want = "; ".join(_moment_text(y, m, zs) for m in (2, 3, 4))
    assert want.startswith("E[y~^2 z] = (0, 12, 12); E[y~^3 z] = (2268, 0, 0); E[y~^4 z] = (0, ")
    res, r = _reuse(TARGET)
    assert [s.witness for s in res.steps] == [want]
    # every power with a non-zero first-order moment joined the step (m = 1 had none)
    assert res.witness_powers == ((2, 3, 4),)


def test_first_stage_witness_of_a_target_with_fractions():
    # y = z1/2 + z3/3 (k = 3, z2 absent): E[y z] = (1/2, 0, 1/3), exactly; the search stops
    # at m = 1 (the relevant direction is learned). The context keeps 6 y~ = 3 z1 + 2 z3
    # (integer coefficients) for the powers m >= 2: their moments are divided back by 6^m.
    res, _ = _reuse("z1/2 + z3/3")
    assert [s.witness for s in res.steps] == ["E[y~^1 z] = (1/2, 0, 1/3)"]
    # once the relevant direction (certified) is learned, no further power is tried
    assert res.witness_powers == ((1,),)
    # y = He3(z1) g / 2: the moments of TARGET divided by 2^m (m = 2, 3, 4), as fractions
    z1, z2, z3 = zs = sp.symbols("z1:4")
    y = _he(3, z1) * (1 + z2 + z2 * z3) / 2
    want = "; ".join(_moment_text(y, m, zs) for m in (2, 3, 4))
    assert "E[y~^3 z] = (567/2, 0, 0)" in want  # 2268 / 8
    res, _ = _reuse("He3(z1)*(1 + z2 + z2*z3)/2")
    assert [s.witness for s in res.steps] == [want]
    # y = (z1 + z2^2)/2: E[y z] = (1/2, 0) (z2^2 z2 is odd), y~ = (z1 + z2^2 - 1)/2; z2 then
    # comes at second order given z1: E[y He2(z2) | z1] = E[z2^2 He2(z2)] / 2 = 1 (m = 1)
    res, _ = _reuse("(z1 + z2**2)/2")
    assert [s.witness for s in res.steps] == [
        "E[y~^1 z] = (1/2, 0)",
        "E[y~^m He_beta(z_U) He_gamma(z_perp)] != 0 with |gamma| = 2 for m = 1"]


def test_label_scale_is_the_factor_of_the_integer_multiple():
    # _label_scale(ctx) = c with ctx._poly = c y~: checked against y~'s own coefficients
    for text, c in (("z1/2 + z3/3", 6), ("z1*z2/3 + z3", 3), ("z1 + z2", 1),
                    ("He3(z1)*(1 + z2 + z2*z3)/2", 2)):
        ctx = Context.build(text)
        zs = ctx.target.variables
        yc = sp.Poly(ctx.centred, *zs)
        assert W._label_scale(ctx) == c
        assert {e: sp.Rational(v) for e, v in ctx._poly.items()} == \
            {e: c * yc.coeff_monomial(e) for e in ctx._poly}


def test_first_stage_witness_with_exact_irrational_coefficients():
    # y = sqrt(2) z1 + z2: E[y z] = (sqrt(2), 1), shown exactly
    res, _ = _reuse("sqrt(2)*z1 + z2")
    assert [s.witness for s in res.steps] == ["E[y~^1 z] = (sqrt(2), 1)"]
    # y = a z1 + b z2: E[y^2 z] = 0 (odd), E[y^3 z1] = 3 a^3 + 3 a b^2, E[y^3 z2] = 3 a^2 b +
    # 3 b^3 (E[z^4] = 3): with a = sqrt(2), b = 1, (9 sqrt(2), 9)
    ctx = Context.build("sqrt(2)*z1 + z2")
    U0 = Subspace.zero(2, ctx.scalars)
    assert W._witness(ctx, U0, 1, [1, 2, 3]) == \
        "E[y~^1 z] = (sqrt(2), 1); E[y~^2 z] = (0, 0); E[y~^3 z] = (9*sqrt(2), 9)"
    # z1/2 + z3/3: E[y^3 z1] = 3/8 + 3 (1/2)(1/9) = 13/24, E[y^3 z3] = 3/27 + 3 (1/3)(1/4)
    # = 13/36 (the context's powers are those of 6 y~, divided back by 6^m)
    ctx = Context.build("z1/2 + z3/3")
    U0 = Subspace.zero(3, ctx.scalars)
    assert W._witness(ctx, U0, 1, [1, 2, 3]) == \
        "E[y~^1 z] = (1/2, 0, 1/3); E[y~^2 z] = (0, 0, 0); E[y~^3 z] = (13/24, 0, 13/36)"


def test_first_stage_witness_in_float64():
    # the float64 fallback of a polynomial with irrational coefficients (numeric=True, as
    # after ExactTooLarge): y = pi z1 + z2 is kept as it is (no integer multiple), so the
    # moments are plain floats: E[y z] = (pi, 1), E[y^3 z] = (3 pi^3 + 3 pi, 3 pi^2 + 3).
    # (Before the fix the label scale was nsimplify(3.14159...) / pi, a symbolic number
    # near 1, and E[y^3 z] was shown as "3.30396355092702*pi**3, ...".)
    ctx = Context.build("pi*z1 + z2", numeric=True)
    assert ctx.scalars.kind == "float" and W._label_scale(ctx) == 1
    U0 = Subspace.zero(2, ctx.scalars)
    text = W._witness(ctx, U0, 1, [1, 3])
    first, third = text.split("; ")
    assert first == f"E[y~^1 z] = ({math.pi!r}, 1.0)"
    assert third.startswith("E[y~^3 z] = (")
    got = [float(x) for x in third[len("E[y~^3 z] = ("):-1].split(", ")]
    want = [3 * math.pi**3 + 3 * math.pi, 3 * math.pi**2 + 3]
    assert got == pytest.approx(want, rel=1e-12)


def test_witness_after_the_first_stage_names_the_order_and_the_powers():
    # He2(z1) z2: z2 first (E[y^3 z] = (0, E[He2^3] E[z2^4]) = (0, 8 * 3)); then z1 at
    # second order given z2: E[y He2(z1) | z2] = z2 E[He2^2] = 2 z2 != 0 at m = 1, and R^2 is
    # learned, so the search stops there
    res, _ = _reuse("He2(z1)*z2")
    assert [s.witness for s in res.steps] == [
        "E[y~^3 z] = (0, 24)",
        "E[y~^m He_beta(z_U) He_gamma(z_perp)] != 0 with |gamma| = 2 for m = 1"]
    # several powers are listed in order, separated by ", "
    ctx = Context.build("He2(z1)*z2")
    U = Subspace.span(2, [(0, 1)], ctx.scalars)
    assert W._witness(ctx, U, 3, [2, 5]) == \
        "E[y~^m He_beta(z_U) He_gamma(z_perp)] != 0 with |gamma| = 3 for m = 2, 5"
    # a non-polynomial target names the powers even at the first stage (no exact moment)
    ctx = Context.build("erf(z1)")
    U0 = Subspace.zero(1, ctx.scalars)
    assert W._witness(ctx, U0, 1, [1]) == \
        "E[y~^m He_beta(z_U) He_gamma(z_perp)] != 0 with |gamma| = 1 for m = 1"


def test_step_mechanisms():
    # the three reuse classes: first order O(d), second order O(d log d), order >= 3 hard
    assert [W._mechanism(k) for k in (1, 2, 3, 4)] == [
        "reuse, first order", "reuse, second order", "reuse, order 3 (hard)",
        "reuse, order 4 (hard)"]
    res, _ = _reuse("He2(z1)*z2")
    assert [s.mechanism for s in res.steps] == ["reuse, first order", "reuse, second order"]


# ---------------------------------------------------------------------------------------
# the label-power search


def test_predicted_terms_is_the_smaller_count():
    # min(C(m deg + k, k), C(n + m - 1, m)): monomials of degree <= m deg in k variables,
    # and multisets of m of the n terms of y~. Both bound the number of monomials of y~^m.
    cases = [
        # y~ = z1 z2 + z3: deg 2, k = 3, n = 2; m = 3: min(C(9, 3), C(4, 3)) = min(84, 4)
        ("z1*z2 + z3", 3, 4),
        # y~ = z1 + z1^2 + z1^3 - 1: deg 3, k = 1, n = 4; m = 2: min(C(7, 1), C(5, 2)) = 7
        ("z1 + z1**2 + z1**3", 2, 7),
        # y~ = z1 + z2: deg 1, k = 2, n = 2; m = 5: min(C(7, 2), C(6, 5)) = min(21, 6)
        ("z1 + z2", 5, 6),
    ]
    for text, m, want in cases:
        ctx = Context.build(text)
        assert W._predicted_terms(ctx, m) == want
        zs = ctx.target.variables
        actual = len(sp.Poly(sp.expand(ctx.centred**m), *zs).terms())
        assert actual <= want


def test_search_powers_follow_the_parity_and_the_power_limit():
    # z1 z2 z3 (degree 3): the powers m * 3 <= 12 are searched up front (max_power 4), the
    # others up to POWER_LIMIT = 8. z -> -z maps y~ to -y~ and fixes no direction but 0, so
    # at U = {0}, k = 1 only odd m can carry E[y~^m z] (S H = -H = tau^m H); at k = 2
    # (S^(2) = +1) only even m. Other signed permutations also act (flips of two signs, with
    # tau = +1) and exclude the odd m at k = 1 too; the rotated product keeps only z -> -z.
    ctx = Context.build(rotated_product())
    assert (ctx.max_power, ctx.power_limit) == (4, 8)
    U0 = Subspace.zero(3, ctx.scalars)
    perp = U0.complement()
    search = W._Search(ctx, 100.0)
    assert list(search.powers(U0, perp, 1)) == [1, 3, 5, 7]
    assert search.reached == 8 and search.stop_reason == ""
    search = W._Search(ctx, 100.0)
    assert list(search.powers(U0, perp, 2)) == [2, 4, 6, 8]
    assert search.reached == 8 and search.stop_reason == ""
    # the powers up to max_power are searched even with the time budget spent
    search = W._Search(ctx, -1.0)
    assert list(search.powers(U0, perp, 1)) == [1, 3]
    assert search.reached == 4 and search.stop_reason == "time budget of -1 s spent"
    # a caller's max_power (no power_limit) is the end of the search, and every power up
    # to it is searched whatever the time budget
    ctx = Context.build(rotated_product(), max_power=3)
    assert ctx.power_limit is None
    search = W._Search(ctx, -1.0)
    assert list(search.powers(U0, perp, 1)) == [1, 3]
    assert search.reached == 3 and search.stop_reason == ""


def test_search_stops_before_a_power_with_too_many_terms(monkeypatch):
    # y~ = z1 z2 + z3 (max_power 6 = 12 // 2, POWER_LIMIT 8): predicted terms of y~^7 are
    # min(C(17, 3), C(8, 7)) = 8; with the limit at 7 terms the search stops before m = 7
    # and names it; m = 6 (C(7, 6) = 7 terms) is the last one.
    ctx = Context.build("z1*z2 + z3")
    assert ctx.max_power == 6 and W._predicted_terms(ctx, 7) == math.comb(8, 7) == 8
    monkeypatch.setattr(W, "MAX_TERMS", 7)
    U0 = Subspace.zero(3, ctx.scalars)
    search = W._Search(ctx, 100.0)
    # (odd m only: flipping z1 and z2 fixes y~ and leaves e3's line; flipping z1 and z3
    # maps y~ to -y~, which leaves nothing of that line for even m)
    assert list(search.powers(U0, U0.complement(), 1)) == [1, 3, 5]
    assert search.reached == 6
    assert search.stop_reason == "y~^7 would have more than 7 terms"
    # at the limit (8 terms allowed) m = 7 is searched, m = 8 (C(9, 8) = 9) is not
    monkeypatch.setattr(W, "MAX_TERMS", 8)
    search = W._Search(ctx, 100.0)
    list(search.powers(U0, U0.complement(), 1))
    assert search.reached == 7 and search.stop_reason == "y~^8 would have more than 8 terms"


# ---------------------------------------------------------------------------------------
# orders searched without a witness


def test_parity_text_names_the_excluded_parity_and_its_symmetry():
    # y = z1 (k = 1): the only signed permutation is z -> -z with y~ -> -y~. At order 1 it
    # admits odd m (S H = -H = tau^m H) and excludes even m; at order 2 (S^(2) H = H) the
    # reverse. y = z1 + z2^2: z2 -> -z2 (y~ -> y~) fixes U = span e1 and flips He_1(z2), so
    # both parities are excluded at order 1 given z1; at U = {0} it leaves e1: none.
    ctx = Context.build("z1")
    U0 = Subspace.zero(1, ctx.scalars)
    flip = "z -> (-z1), y~ -> -y~"
    assert W._Search.parity_text(ctx, U0, U0.complement(), 1) == \
        f"even m excluded by symmetry ({flip})"
    assert W._Search.parity_text(ctx, U0, U0.complement(), 2) == \
        f"odd m excluded by symmetry ({flip})"
    ctx = Context.build("z1 + z2**2")
    U = Subspace.span(2, [(1, 0)], ctx.scalars)
    flip = "z -> (z1, -z2), y~ -> y~"
    assert W._Search.parity_text(ctx, U, U.complement(), 1) == \
        f"odd m excluded by symmetry ({flip}); even m excluded by symmetry ({flip})"
    U0 = Subspace.zero(2, ctx.scalars)
    assert W._Search.parity_text(ctx, U0, U0.complement(), 1) == ""


def test_not_found_texts():
    # "order k: <kind> up to degree <D>, label powers m <= <M>[; reasons] (not a proof of
    # vanishing)": kind "not found" for exact coefficients of y~, "numerically zero" for
    # float ones; D = "all" for a polynomial (complete expansion), the truncation degree
    # otherwise; the reasons are the excluded parities and why the search stopped.
    ctx = Context.build("z1 + z2**2")  # polynomial, no parity excluded at U = {0}, k = 1
    U0 = Subspace.zero(2, ctx.scalars)
    search = W._Search(ctx, 100.0)
    assert W._not_found(ctx, 1, 5, search, U0, U0.complement()) == \
        "order 1: not found up to degree all, label powers m <= 5 (not a proof of vanishing)"
    # erf(z1), degree 5: y~ exact (E[erf(z) He_n(z)] closed form), y~^2 numerical; at
    # order 2 odd m are excluded (z -> -z, y~ -> -y~); a spent budget is the second reason
    ctx = Context.build("erf(z1)", max_degree=5)
    assert [ctx.power(m).scalars.kind for m in (1, 2)] == ["exact", "float"]
    U0 = Subspace.zero(1, ctx.scalars)
    search = W._Search(ctx, 100.0)
    search.stop_reason = "time budget of 10 s spent"
    assert W._not_found(ctx, 2, 3, search, U0, U0.complement()) == (
        "order 2: not found up to degree 5, label powers m <= 3; odd m excluded by symmetry "
        "(z -> (-z1), y~ -> -y~); time budget of 10 s spent (not a proof of vanishing)")
    # tanh(z1): numerical coefficients already in y~
    ctx = Context.build("tanh(z1)", max_degree=4)
    assert ctx.power(1).scalars.kind == "float"
    U0 = Subspace.zero(1, ctx.scalars)
    assert W._not_found(ctx, 1, 3, W._Search(ctx, 100.0), U0, U0.complement()) == (
        "order 1: numerically zero up to degree 4, label powers m <= 3; even m excluded by "
        "symmetry (z -> (-z1), y~ -> -y~) (not a proof of vanishing)")


# ---------------------------------------------------------------------------------------
# the staircase called directly


def test_reuse_staircase_without_an_image_cache():
    # He2(z1) z2 (y~ = y, E[y] = 0), relevant R^2 (certified). Stage 1, order 1: z1 -> -z1
    # fixes y~ and z2 -> -z2 maps it to -y~, so only odd m carry E[y~^m z], along e2:
    # m = 1 gives E[He2] E[z2^2] = 0; m = 3, 5, 7 give E[He2^m] E[z2^(m+1)] != 0 (computed
    # below), each joining the step (R^2 is not yet learned, so the search goes on to
    # POWER_LIMIT 8). Stage 2, given z2: order 1 vanishes by the z1 flip (certified), order 2
    # has E[y He2(z1) | z2] = 2 z2 at m = 1, which completes R^2.
    z1, z2 = zs = sp.symbols("z1:3")
    assert _gauss_moment(_he(2, z1) * z2**2, zs) == 0
    assert all(_gauss_moment((_he(2, z1) * z2) ** m * z2, zs) != 0 for m in (3, 5, 7))
    ctx = Context.build("He2(z1)*z2")
    res = W.reuse_staircase(ctx, Subspace.whole(2, ctx.scalars), True)
    assert [(s.index, s.order, s.before.dim, s.after.dim) for s in res.steps] == \
        [(0, 1, 0, 1), (1, 2, 1, 2)]
    assert res.witness_powers == ((3, 5, 7), (1,))
    assert res.complete is True and res.note == "every direction learned"
    assert res.searched == () and res.final.dim == 2
    assert [s.cost for s in res.steps] == ["d", "d log d"]
    assert [s.certified for s in res.steps] == [True, True]
    assert ctx.max_power == 8  # raised to the largest power searched


def test_directions_from_a_numerical_power_are_not_exact():
    # y = erf(z1) (1 + z2): E[y z] = (E[z erf(z)], 0) = (2 / sqrt(3 pi), 0) (exact), and z2
    # comes from m = 2 only: E[y^2 z2] = E[erf(z1)^2] E[(1 + z2)^2 z2] = 2 E[erf(z)^2] =
    # (4 / pi) arcsin(2 / 3), a numerical coefficient of y~^2. The step uses both powers, so
    # its directions are not exact (the subspace holds floats), whether max_power is the
    # default 3 or the caller's 2.
    for kw in ({}, {"max_power": 2}):
        ctx = Context.build("erf(z1) + z2*erf(z1)", **kw)
        assert ctx.power(1).scalars.is_exact and ctx.power(2).scalars.kind == "float"
        res = W.reuse_staircase(ctx, Subspace.whole(2, ctx.scalars), True)
        assert [s.order for s in res.steps] == [1] and res.witness_powers == ((1, 2),)
        (step,) = res.steps
        assert step.exact is False and step.exact_directions() is None
        assert step.to_json()["exact_directions"] is None
        assert res.final.dim == 2 and res.complete is True


def _with_power_kinds(ctx, kinds):
    """ctx with the label powers 1, 2, ... re-labelled in the given scalar kinds (their
    forms converted): the staircase must then hold every image in the weakest kind."""
    import dataclasses

    from escalier.derive.algebra import Scalars

    for m, kind in enumerate(kinds, start=1):
        lp = ctx.power(m)
        sc = Scalars(kind, 1e-9 if kind == "float" else 0.0)
        ctx._powers[m] = dataclasses.replace(
            lp, scalars=sc, form={e: sc.convert(v) for e, v in lp.form.items()})
    return ctx


def test_subspace_kind_is_the_weakest_kind_of_the_label_powers():
    # The images of every label power searched (m <= max_power for a non-polynomial target)
    # join the learned subspace, so it holds the weakest kind among y~^1..y~^max_power
    # (rational < exact < float): an exact image cannot live in a rational subspace, and
    # a float one must not be called exact. Powers beyond max_power are never searched.
    # y = z1 + sign(z1 z2) - sign(z1) sign(z2) = z1 a.s. (test_exponents_mutations.py): a
    # non-polynomial target with rational coefficients in every power, max_power 3; the
    # kinds of its powers are re-labelled, each case with the kind the subspace must have.
    cases = [
        (("rational", "exact", "rational"), "exact"),
        (("exact", "rational", "rational"), "exact"),
        (("float", "exact", "exact"), "float"),
        (("rational", "float", "exact"), "float"),
        (("rational", "rational", "rational", "float"), "rational"),  # y~^4: not searched
    ]
    for kinds, want in cases:
        ctx = Context.build("z1 + sign(z1*z2) - sign(z1)*sign(z2)", max_degree=3)
        assert not ctx.polynomial and ctx.max_power == 3
        _with_power_kinds(ctx, kinds)
        relevant = Subspace.span(2, [(1, 0)], ctx.scalars)
        res = W.reuse_staircase(ctx, relevant, True)
        # E[y z] = e1 at m = 1: the relevant direction, learned at first order
        assert [(s.order, s.after.dim) for s in res.steps] == [(1, 1)], kinds
        assert res.final.scalars.kind == want, kinds
        assert res.steps[0].after.scalars.kind == want, kinds


def test_staircase_ends_and_their_notes():
    # He2(z1) written with k = 2 (z2 absent); relevant = span e1. Stage 1: order 1 vanishes
    # by the z1 flip (y~ -> y~; certified), order 2 has E[y He2(z1)] = 2 at m = 1: e1.
    # (a) relevant certified: span e1 is learned, the staircase ends there, complete.
    ctx = Context.build(Target.parse("He2(z1)", k=2))
    relevant = Subspace.span(2, [(1, 0)], ctx.scalars)
    res = W.reuse_staircase(ctx, relevant, True)
    assert [(s.order, s.after.dim) for s in res.steps] == [(2, 1)]
    assert res.complete is True
    assert res.note == "every direction the target depends on is learned"
    assert res.searched == ()
    # (b) not certified: the search goes on given z1. Odd orders vanish by the z2 flip
    # (y~ -> y~, He_k(z2) -> -He_k(z2): certified); even orders have no symmetry argument
    # and E[y~^m He_k(z2) | z1] = 0 (y does not depend on z2): not found, for every m up to
    # POWER_LIMIT 8 (both parities admitted), orders 2, 4, 6 up to MAX_ORDER 6 for a
    # polynomial. The staircase ends without completeness.
    ctx = Context.build(Target.parse("He2(z1)", k=2))
    res = W.reuse_staircase(ctx, relevant, False)
    assert [(s.order, s.after.dim) for s in res.steps] == [(2, 1)]
    assert res.complete is False
    assert res.note == "no further direction found up to order 6 (label powers m <= 8)"
    text = "order {}: not found up to degree all, label powers m <= 8 (not a proof of vanishing)"
    assert res.searched == tuple((1, k, 8, text.format(k)) for k in (2, 4, 6))
    # (c) a non-polynomial target searches the orders up to its truncation degree (3):
    # y = sign(z1 + sqrt(2) z2), E[z y] = sqrt(2/pi) w / |w| (w = (1, sqrt 2)) at m = 1;
    # given w, y depends on nothing else, which the truncated expansion cannot prove
    # (orders 1..3 not found; y takes 2 values, so max_power = 1; z -> -z does not fix w).
    ctx = Context.build("sign(z1 + sqrt(2)*z2)", max_degree=3)
    w = Subspace.span(2, [(1, sp.sqrt(2))], ctx.scalars)
    res = W.reuse_staircase(ctx, w, False)
    assert [(s.order, s.after.dim) for s in res.steps] == [(1, 1)]
    assert res.steps[0].exact_directions() == ((sp.sqrt(3) / 3, sp.sqrt(6) / 3),)
    assert res.complete is False
    assert res.note == "no further direction found up to order 3 (label powers m <= 1)"
    text = "order {}: not found up to degree 3, label powers m <= 1 (not a proof of vanishing)"
    assert res.searched == tuple((1, k, 1, text.format(k)) for k in (1, 2, 3))


def test_an_order_where_no_label_power_is_admitted():
    # The rotated z1 z2 z3 with the caller's max_power = 1: z -> -z maps y~ to -y~, so at
    # order 2 (He_2(-z) = He_2(z)) odd m are excluded and no power m <= 1 is left to
    # search; the order is neither witnessed nor certified (even m would be admitted). Order
    # 1: m = 1 gives E[y z] = 0 (flip two rotated coordinates), not found. Order 3: C_3 of
    # z1 z2 z3 is sym(e1 e2 e3) != 0 in any frame: every direction at m = 1.
    ctx = Context.build(rotated_product(), max_power=1)
    assert [str(S) for S in ctx.symmetries] == ["z -> (-z1, -z2, -z3), y~ -> -y~"]
    res = W.reuse_staircase(ctx, Subspace.whole(3, ctx.scalars), True)
    assert [(s.order, s.after.dim) for s in res.steps] == [(3, 3)]
    assert res.searched == (
        (0, 1, 1, "order 1: not found up to degree all, label powers m <= 1; even m "
                  "excluded by symmetry (z -> (-z1, -z2, -z3), y~ -> -y~) (not a proof of "
                  "vanishing)"),
        (0, 2, 1, "order 2: not found up to degree all, label powers m <= 1; odd m "
                  "excluded by symmetry (z -> (-z1, -z2, -z3), y~ -> -y~) (not a proof of "
                  "vanishing)"))
    assert res.witness_powers == ((1,),) and res.complete is True


def test_a_spent_budget_reports_the_last_power_searched():
    # The rotated z1 z2 z3 (max_power 4 = 12 // 3, POWER_LIMIT 8) with the budget already
    # spent: at order 1 only odd m are admitted (z -> -z, y~ -> -y~), so m = 1, 3 are
    # searched (m <= max_power always), m = 4 is skipped by parity and the search stops
    # before m = 5. The order is reported "not found up to m = 3" (the last power searched,
    # not 4), with both reasons; order 2 (even m) is then searched up to max_power and its
    # witness at m = 2 gives every direction.
    ctx = Context.build(rotated_product())
    res = W.reuse_staircase(ctx, Subspace.whole(3, ctx.scalars), True, seconds=-1.0)
    assert res.searched == ((0, 1, 3, "order 1: not found up to degree all, label powers "
                             "m <= 3; even m excluded by symmetry (z -> (-z1, -z2, -z3), "
                             "y~ -> -y~); time budget of -1 s spent (not a proof of "
                             "vanishing)"),)
    assert [(s.order, s.after.dim) for s in res.steps] == [(2, 3)]
    assert ctx.max_power == 4  # no power beyond max_power was reached
