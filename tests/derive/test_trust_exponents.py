"""Derivations never hang (issue 10, class 1): mixed targets finish within a fixed budget,
and the exact arithmetic that used to grow without bound is canonical and bounded."""

import signal
import time
from contextlib import contextmanager

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalier.derive import exponents
from escalier.derive.algebra._linalg import MAX_EXACT_SIZE, ExactTooLarge, Scalars, Subspace, canonical

BUDGET = 60.0  # seconds of wall clock per target (generous: the machine is shared)


@contextmanager
def budget(seconds: float):
    """Fail (instead of hanging) when the enclosed code runs past `seconds`."""

    def handler(signum, frame):
        raise TimeoutError(f"exponents ran past its budget of {seconds} s")

    previous = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


NONPOLY = ["sign({a})", "tanh({a})", "erf({a})", "relu({a})", "cos({a})", "abs({a})",
           "heaviside({a})", "sigmoid({a})", "exp(-({a})**2/8)"]
ARGS = ["z1", "z2", "2*z1", "z1 + z2", "z1 - z2", "z1*z2", "z1 + 2*z2"]
POLY = ["z1", "z2", "z1*z2", "z1**2", "He3(z2)", "z2**3"]
CONSTANTS = ["1", "pi", "sqrt(2)", "E", "1/3", "-2", "sqrt(3)/2"]

term = st.one_of(
    st.builds(lambda c, f, a: f"{c}*{f.format(a=a)}", st.sampled_from(CONSTANTS),
              st.sampled_from(NONPOLY), st.sampled_from(ARGS)),
    st.builds(lambda c, m: f"{c}*{m}", st.sampled_from(CONSTANTS), st.sampled_from(POLY)),
)
mixed = st.builds(
    lambda nonpoly, terms, const: " + ".join([nonpoly, *terms] + ([const] if const else [])),
    st.builds(lambda f, a: f.format(a=a), st.sampled_from(NONPOLY), st.sampled_from(ARGS)),
    st.lists(term, min_size=1, max_size=2),
    st.one_of(st.none(), st.sampled_from(CONSTANTS)),
)


def _check_finishes(text: str) -> float:
    start = time.monotonic()
    with budget(BUDGET):
        report = exponents(text, alpha_c=False)
    elapsed = time.monotonic() - start
    assert report.information_exponent is None or report.information_exponent >= 1
    # a value the report calls exact must come from exact arithmetic
    if report.exact["directions"]:
        assert report.relevant.scalars.is_exact
    return elapsed


@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(mixed)
def test_random_mixed_targets_finish(text):
    assert _check_finishes(text) < BUDGET


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mixed)
def test_random_mixed_targets_finish_many(text):
    assert _check_finishes(text) < BUDGET


# Exponents derived by hand. C_k = E[f He_k] (tensor), T_k(U)(x) = E[f He_k(z_perp) | z_U = x].
HAND = [
    # sign(z1) + z2: c_1 = (sqrt(2/pi), 1) != 0 -> IE 1. With u along c_1 and w perpendicular,
    # z2 = <e2, u> x - <e2, w>' t, so E[y w | x] contains the constant -<...> != 0 -> leap 1.
    # C_2 = 0 (sign is odd, z2 has degree 1); C_3 = c_3(sign) e1^3 != 0 -> one giant step
    # needs l = 3, while a few steps with n = d learn u then w (l = 1). E[z | y] spans R^2
    # (y continuous, not symmetric in z1 or z2 alone) -> generative 1, O(d).
    ("sign(z1) + z2", 1, 1, 3, 1, 1, "O(d)"),
    # pi z1^2 + sqrt(2) sign(z2): c_1 = sqrt(2) sqrt(2/pi) e2 -> IE 1, U_1 = e2. Given z2,
    # E[y He_1(z1)] = 0 (even in z1) and E[y He_2(z1)] = pi E[z1^2 He_2(z1)] = 2 pi -> leap 2,
    # l = 2 (C_2 = 2 pi e1 e1). z1 -> -z1 fixes y: E[z1 | y] = 0, E[He_2(z1) | y] != 0 ->
    # generative 2, O(d log d).
    ("pi*z1**2 + sqrt(2)*sign(z2)", 1, 2, 2, 2, 2, "O(d log d)"),
    # sign(z1 z2) + pi: z -> -z fixes y, so C_1 = 0 and E[z | y] = 0; C_2 = (2/pi) sym(e1 e2)
    # != 0 spans R^2 -> IE = leap = l = 2, generative 2, O(d log d).
    ("sign(z1*z2) + pi", 2, 2, 2, 2, 2, "O(d log d)"),
    # E z1 + exp(-1/2) cos(z2): c_1 = E e1 (cos is even) -> IE 1; given z1, cos(z2) has
    # E[cos(z2) He_2(z2)] = -exp(-1/2) != 0 and no He_1 -> leap 2, l = 2; z2 -> -z2 fixes y ->
    # generative 2, O(d log d).
    ("E*z1 + exp(-1/2)*cos(z2)", 1, 2, 2, 2, 2, "O(d log d)"),
    # tanh(z1) + sqrt(3) z1 z2: c_1 = c_1(tanh) e1 -> IE 1; E[y z2 | z1 = x] = sqrt(3) x -> leap
    # 1; C_2 = sqrt(3) sym(e1 e2) is needed for e2 in one step -> l = 2; generative 1.
    ("tanh(z1) + sqrt(3)*z1*z2", 1, 1, 2, 1, 1, "O(d)"),
]


@pytest.mark.parametrize(("text", "ie", "leap", "l", "few", "gen", "reuse"), HAND)
def test_hand_derived_mixed_exponents(text, ie, leap, l, few, gen, reuse):
    with budget(BUDGET):
        r = exponents(text, alpha_c=False)
    assert (r.information_exponent, r.leap, r.giant_step_exponent, r.few_step_exponent,
            r.generative_exponent, r.reuse) == (ie, leap, l, few, gen, reuse)


def test_sign_plus_linear_direction_is_exact():
    # the second online step of sign(z1) + z2 learns the direction orthogonal to
    # c_1 = (sqrt(2/pi), 1): proportional to (1, -sqrt(2/pi)), an exact vector
    r = exponents("sign(z1) + z2", alpha_c=False)
    assert r.exact["directions"]
    (d,) = r.online[1].directions()
    ratio = d[1] / d[0]
    assert ratio == pytest.approx(-(2 / sp.pi.evalf()) ** 0.5, rel=1e-12)


def test_canonical_form_collapses_nested_fractions():
    # (-pi/(1 + pi/2) - 2/(1 + pi/2) + 2 + pi) = pi exactly: the residuals of sign(z1) + z2
    # used to keep such nested forms and grow at every projection
    x = sp.sympify("-pi/(1 + pi/2) - 2/(1 + pi/2) + 2 + pi")
    assert canonical(x) == sp.pi
    y = sp.sympify("exp(-1/2)*sqrt(2)/(sqrt(3)*sqrt(pi)) - exp(-1/2)*sqrt(6)/(3*sqrt(pi))")
    assert canonical(y) == 0


def test_exact_scalars_are_bounded():
    big = sum(sp.sqrt(p) / (sp.pi + k) for k, p in enumerate([2, 3, 5, 7]))
    with pytest.raises(ExactTooLarge):
        canonical(big)
    many = sum(sp.pi**k / (k + sp.E) for k in range(1, 12))
    with pytest.raises(ExactTooLarge, match=str(MAX_EXACT_SIZE)):
        canonical(many)


def test_orthogonalisation_stays_small():
    # Gram-Schmidt of exact vectors in Q(sqrt 2, sqrt pi): every basis entry stays small
    sc = Scalars("exact")
    v1 = (sp.sqrt(2) / sp.sqrt(sp.pi), sp.Integer(1), sp.Integer(0))
    v2 = (sp.Integer(1), sp.pi, sp.sqrt(2))
    v3 = (sp.E, sp.Integer(0), sp.Integer(1))
    s = Subspace.span(3, [v1, v2, v3], sc)
    assert s.dim == 3
    for b in s.basis:
        for x in b:
            assert sum(1 for _ in sp.preorder_traversal(x)) < 120
    # orthogonality, exactly
    for i in range(3):
        for j in range(i):
            dot = sum(a * b for a, b in zip(s.basis[i], s.basis[j], strict=True))
            assert canonical(dot) == 0


def test_outgrown_exact_arithmetic_falls_back_to_floats_marked_numerical():
    # five square roots: a number field of degree 32, past the bound -> float64, and the
    # report says so and claims nothing exact; the exponents are those of the structure
    # (c_1 has both coordinates -> IE 1, leap 1; E[z | y] spans R^2 -> generative 1)
    text = "sign(z1) + sqrt(3)*z2 + sqrt(5)*z1*z2 + sqrt(7)*z2**2 + sqrt(11)*z1**2"
    r = exponents(text, alpha_c=False)
    assert not any(r.exact.values())
    assert any("computed in float64" in n for n in r.notes)
    assert (r.information_exponent, r.leap, r.generative_exponent) == (1, 1, 1)
    assert r.relevant.dim == 2
