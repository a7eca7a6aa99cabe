"""Parsing targets: good input, bad input, and fuzzing (nothing but a Target or a ValueError)."""

import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from escalier.derive import Target, targets
from escalier.derive.targets._target import latent, parameter

z1, z2, z3 = (latent(i) for i in (1, 2, 3))


@pytest.mark.parametrize(
    ("text", "expected", "k"),
    [
        ("He3(z1) + z1*z2*z3", z1**3 - 3 * z1 + z1 * z2 * z3, 3),
        ("sign(z1*z2*z3)", sp.sign(z1 * z2 * z3), 3),
        ("relu(z1) + tanh(z2)", sp.Max(z1, 0) + sp.tanh(z2), 2),
        ("z1**2*exp(-z1**2)", z1**2 * sp.exp(-(z1**2)), 1),
        ("erf(z1/sqrt(2))", sp.erf(z1 / sp.sqrt(2)), 1),
        ("z1 + c*z1*z2", z1 + parameter("c") * z1 * z2, 2),
        ("hermite(2, z2)", z2**2 - 1, 2),
        ("z1^2 + 1", z1**2 + 1, 1),
        ("sigmoid(z1) + heaviside(z2) + abs(z3)",
         1 / (1 + sp.exp(-z1)) + sp.Heaviside(z2, sp.Rational(1, 2)) + sp.Abs(z3), 3),
        ("max(z1, z2) - min(z1, 0) + cos(z1) * sin(z2)",
         sp.Max(z1, z2) - sp.Min(z1, 0) + sp.cos(z1) * sp.sin(z2), 2),
        ("2.5*z1 + 1/3", sp.Float(2.5) * z1 + sp.Rational(1, 3), 1),
        ("z1/(1 + z1**2)", z1 / (1 + z1**2), 1),
    ],
)
def test_parse_good(text, expected, k):
    t = Target.parse(text)
    assert sp.simplify(t.expr - expected) == 0
    assert t.k == k


def test_k_can_be_given_and_coordinates_ignored():
    t = Target.parse("z2", k=4)
    assert t.k == 4 and t.variables == tuple(latent(i) for i in range(1, 5))
    with pytest.raises(ValueError, match="uses z3 but k = 2"):
        Target.parse("z3", k=2)


def test_parameters_stay_symbolic():
    t = Target.parse("z1 + c*z1*z2")
    assert t.parameters == (parameter("c"),)
    assert t.subs({"c": 2}).expr == z1 + 2 * z1 * z2


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("foo(z1)", "unknown function 'foo'"),
        ("x + z1", "unknown variable 'x'"),
        ("w*z1", "unknown variable 'w'"),
        ("z0 + z1", "unknown variable 'z0'"),
        ("1j*z1", "complex constant"),
        ("I*z1", "complex unit"),
        ("z1 +", "could not parse"),
        ("exp(z1**2)", "not square-integrable"),
        ("exp(z1**3)", "cannot certify"),
        ("1/z1", "cannot certify"),
        ("z1**0.5", "non-integer power"),
        ("1/0", "division by zero"),
        ("", "empty target"),
        ("z1.real", "unsupported syntax"),
        ("z1 if z2 else z3", "unsupported syntax"),
        ("relu(z1, z2)", "relu takes 1 argument"),
        ("He99(z1)", "too large"),
        ("__import__('os')", "unknown function"),
    ],
)
def test_parse_bad_names_the_problem(text, fragment):
    with pytest.raises(ValueError, match="accepted|square-integrable|certify|empty") as err:
        Target.parse(text)
    assert fragment in str(err.value)


def test_square_integrability_threshold():
    # E[exp(2 a z^2)] < inf iff a < 1/4 for z ~ N(0, 1)
    Target.parse("exp(z1**2/5)")
    with pytest.raises(ValueError, match="not square-integrable"):
        Target.parse("exp(z1**2/4)")
    with pytest.raises(ValueError, match="not square-integrable"):
        Target.parse("exp(z1*z2)")  # quadratic form with eigenvalue 1/2


def test_from_sympy_accepts_plain_symbols():
    x1, x2 = sp.symbols("z1 z2")  # not declared real
    t = Target.from_sympy(x1 * sp.tanh(x2))
    assert t.k == 2 and t.expr == z1 * sp.tanh(z2)
    with pytest.raises(ValueError, match="unknown variable"):
        Target.from_sympy(sp.Symbol("x") + x1)


def test_library():
    assert targets.hermite(3).expr == z1**3 - 3 * z1
    assert targets.staircase(3).expr == z1 + z1 * z2 + z1 * z2 * z3
    assert targets.parity(3).expr == sp.sign(z1 * z2 * z3)
    c = targets.committee("erf", 2)
    assert c.k == 2 and c.expr == sp.erf(z1 / sp.sqrt(2)) + sp.erf(z2 / sp.sqrt(2))
    assert targets.committee("relu", 1).expr == sp.Max(z1, 0)
    with pytest.raises(ValueError, match="unknown activation"):
        targets.committee("softplus", 2)


def test_rotation_is_exact():
    r = sp.Matrix([[sp.Rational(3, 5), -sp.Rational(4, 5)], [sp.Rational(4, 5), sp.Rational(3, 5)]])
    t = Target.parse("z1*z2").rotate(r)
    assert sp.expand(t.expr) == sp.expand((sp.Rational(3, 5) * z1 - sp.Rational(4, 5) * z2)
                                          * (sp.Rational(4, 5) * z1 + sp.Rational(3, 5) * z2))


# --- fuzzing -----------------------------------------------------------------------------

_ATOMS = ["z1", "z2", "z3", "z0", "x", "c", "beta", "2", "0", "1.5", "1j", "pi", "E", "I", "e"]
_FUNCS = ["relu", "sign", "abs", "tanh", "erf", "exp", "cos", "sin", "sigmoid", "heaviside",
          "He2", "He3", "foo", "sqrt", "max", "min", "log"]


def _trees():
    atoms = st.sampled_from(_ATOMS)
    return st.recursive(
        atoms,
        lambda sub: st.one_of(
            st.tuples(sub, st.sampled_from(["+", "-", "*", "/", "**", "^"]), sub).map(
                lambda t: f"({t[0]}{t[1]}{t[2]})"),
            st.tuples(st.sampled_from(_FUNCS), sub).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(st.sampled_from(["max", "min", "hermite"]), sub, sub).map(
                lambda t: f"{t[0]}({t[1]}, {t[2]})"),
            sub.map(lambda s: f"-{s}"),
        ),
        max_leaves=12,
    )


def _only_target_or_valueerror(text):
    try:
        out = Target.parse(text)
    except ValueError as err:
        assert str(err)
        return
    assert isinstance(out, Target)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_trees())
def test_fuzz_expression_trees(text):
    _only_target_or_valueerror(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="z123+-*/^()., ejIabcxrelusigntahp*%&|<>=!'\"[]{}:;\\\n\t\x00", max_size=40))
def test_fuzz_random_strings(text):
    _only_target_or_valueerror(text)
