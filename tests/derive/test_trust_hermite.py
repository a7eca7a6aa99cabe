"""No wrong answer presented as certified (issue 10, class 3): a numerical Hermite
coefficient is called zero only when both it and its quadrature error are below the
tolerance; the precision is validated and honoured, or the expansion says where it is not."""

import mpmath
import pytest

from escalier.derive import hermite_expansion


def _reference_c1_tanh() -> float:
    # c_1 = E[tanh(z) z], by mpmath quadrature at 30 digits, independent of escalier
    with mpmath.workdps(30):
        f = lambda x: mpmath.tanh(x) * x * mpmath.exp(-x * x / 2) / mpmath.sqrt(2 * mpmath.pi)  # noqa: E731
        return float(mpmath.quad(f, [-mpmath.inf, 0, mpmath.inf]))


@pytest.mark.parametrize("precision", [None, 8, 20])
def test_tanh_first_coefficient_is_never_called_zero(precision):
    e = hermite_expansion("tanh(z1)", 5, precision=precision)
    c1 = e[(1,)]
    assert not c1.is_zero
    assert abs(c1.value - _reference_c1_tanh()) <= max(c1.error, 1e-12)
    assert c1.value == pytest.approx(0.6057055096, abs=1e-8)


@pytest.mark.parametrize("precision", [0, 1, 7, 61, 1000, 100000, 2.5, True, "20"])
def test_precision_outside_its_range_is_refused(precision):
    with pytest.raises(ValueError, match="precision must be an integer number of digits"):
        hermite_expansion("tanh(z1)", 3, precision=precision)


@pytest.mark.parametrize("tol", [0, -1e-12, 0.5, 1.0])
def test_tolerance_must_be_small(tol):
    with pytest.raises(ValueError, match="tol must be"):
        hermite_expansion("tanh(z1)", 3, tol=tol)


@pytest.mark.parametrize("text", ["tanh(z1)", "tanh(z1)*tanh(z2)", "sign(z1)*cos(z2 + z1**2)",
                                  "erf(z1)*exp(-z1**2/4) + tanh(z1 + 2*z2)", "sigmoid(z1*z2)"])
@pytest.mark.parametrize("precision", [None, 10])
def test_a_zero_is_never_wider_than_the_tolerance(text, precision):
    tol = 1e-12
    e = hermite_expansion(text, 4, precision=precision, tol=tol)
    for c in e:
        if c.status.startswith("zero (below tolerance"):
            assert c.error <= tol and c.status == f"zero (below tolerance {tol:.1e})"
        if not c.is_zero and not c.is_exact:
            assert c.error >= 0


def test_precision_on_coupled_terms_is_said_not_to_apply():
    e = hermite_expansion("tanh(z1) + sign(z1)*cos(z2 + z1**2)", 3, precision=12)
    assert len(e.notes) == 1 and "float64 Gauss-Hermite" in e.notes[0]
    assert "cos(z1**2 + z2)*sign(z1)" in e.notes[0]
    # a ridge g(v.z) and a one-coordinate term honour the precision: no note
    assert hermite_expansion("tanh(z1 + z2) + tanh(z1)", 3, precision=12).notes == ()
    assert hermite_expansion("sign(z1)*cos(z2 + z1**2)", 3).notes == ()  # no precision asked


def test_inaccurate_quadrature_never_certifies_a_zero(monkeypatch):
    # a quadrature whose error bound (0.1) exceeds its value (0.01): the coefficient is
    # unknown to within 0.1, so it must stay numeric with that error, never "zero"
    import numpy as np

    from escalier.derive.hermite import _expansion as _hermite

    def coarse(expr, vars_, nmax):
        shape = (nmax + 1,) * len(vars_)
        return np.full(shape, 0.01), np.full(shape, 0.1)

    monkeypatch.setattr(_hermite, "_numeric_moments", coarse)
    e = hermite_expansion("sign(z1)*cos(z2 + z1**2)", 2)
    c = e[(1, 0)]
    assert not c.is_zero and c.status == "numeric"
    assert c.value == pytest.approx(0.01) and c.error == pytest.approx(0.1)
