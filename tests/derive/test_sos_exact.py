"""Exact half of the SOS certificates: parsing, bases, exact PSD test, certificate checks."""

import itertools
import random
from fractions import Fraction as F

import pytest
import sympy as sp

from escalier.derive.sos import (
    ExactCertificate,
    exact_psd,
    monomial_basis,
    parse_polynomial,
    round_certificate,
    sos_target,
    unbounded_below,
)


def test_parse_reads_decimals_exactly_and_caret_as_power():
    p = parse_polynomial("0.1*x^2 - y/3 + 2")
    x, y = sp.symbols("x y", real=True)
    assert p.as_expr() == sp.Rational(1, 10) * x**2 - y / 3 + 2
    assert p.gens == (x, y)


@pytest.mark.parametrize("bad", ["sin(x)", "x**-1", "1/x", "x**y", "x.real", "x +", "__import__('os')",
                                 "3", "x**1.5"])
def test_parse_rejects_non_polynomials(bad):
    with pytest.raises(ValueError):
        parse_polynomial(bad)


def test_monomial_basis_counts_and_order():
    from math import comb

    for n, d in [(1, 3), (2, 2), (3, 4), (5, 2)]:
        basis = monomial_basis(n, d)
        assert len(basis) == len(set(basis)) == comb(n + d, d)
        assert basis[0] == (0,) * n
        assert [sum(m) for m in basis] == sorted(sum(m) for m in basis)


def test_sos_target_is_the_expansion_of_the_multiplier():
    p = parse_polynomial("x^4*y^2 + x^2*y^4 - 3*x^2*y^2 + 1")
    x, y = p.gens
    b, c = sos_target(p, 2)
    expected = sp.Poly(sp.expand((1 + x**2 + y**2) ** 2 * p.as_expr()), x, y)
    assert b == {m: F(int(v.p), int(v.q)) for m, v in expected.terms()}
    assert c == {m: F(int(v.p), int(v.q)) for m, v in sp.Poly((1 + x**2 + y**2) ** 2, x, y).terms()}


def test_unbounded_below_proofs():
    assert "odd" in unbounded_below(parse_polynomial("x^3 + y^2"))
    assert "negative" in unbounded_below(parse_polynomial("x^4 - y^4 + x"))
    # top form x^2 y^2 - x^4/10 ... is negative at (1, 0)
    assert unbounded_below(parse_polynomial("x^2*y^2 - x^4/10")) is not None
    assert unbounded_below(parse_polynomial("x^4 + y^4 - 4*x*y + 1")) is None


def _sympy_psd(G):
    """Independent test: symmetric G is PSD iff every principal minor is >= 0."""
    M = sp.Matrix([[sp.Rational(v.numerator, v.denominator) for v in row] for row in G])
    n = M.rows
    return all(M.extract(list(S), list(S)).det() >= 0
               for k in range(1, n + 1) for S in itertools.combinations(range(n), k))


def test_exact_psd_agrees_with_sympy_eigenvalues():
    rng = random.Random(3)
    for _ in range(60):
        n = rng.randint(1, 4)
        # random low-rank-ish symmetric matrices: B B^T - t I with t sometimes 0
        k = rng.randint(1, n)
        B = [[F(rng.randint(-2, 2)) for _ in range(k)] for _ in range(n)]
        t = F(rng.choice([0, 0, 1, 1, 3]), rng.choice([1, 4]))
        G = [[sum(B[i][a] * B[j][a] for a in range(k)) - (t if i == j else 0) for j in range(n)]
             for i in range(n)]
        assert exact_psd(G) == _sympy_psd(G), G


def test_hand_certificate_of_x4_y4_minus_4xy():
    # p + 1 = (x^2 - y^2)^2 + 2 (x y - 1)^2 (hand expansion); basis 1, x, y, x^2, xy, y^2
    p = parse_polynomial("x^4 + y^4 - 4*x*y + 1")
    basis = monomial_basis(2, 2)
    v1, v2 = [0, 0, 0, 1, 0, -1], [-1, 0, 0, 0, 1, 0]
    G = tuple(tuple(F(v1[i] * v1[j] + 2 * v2[i] * v2[j]) for j in range(6)) for i in range(6))
    assert ExactCertificate(p, F(-1), 0, basis, G).verify()
    assert not ExactCertificate(p, F(-2), 0, basis, G).verify()  # identity fails
    bad = tuple(tuple(-v for v in row) for row in G)
    assert not ExactCertificate(p, F(-1), 0, basis, bad).verify()
    cert = ExactCertificate(p, F(-1), 0, basis, G)
    assert sp.expand(cert.as_expr() - p.as_expr() - 1) == 0


def test_rounding_recovers_a_perturbed_interior_certificate():
    # p = (x^2 - 1)^2 + (x - 2)^2 + 1 has a strictly positive Gram matrix at gamma = 0
    p = parse_polynomial("(x^2 - 1)^2 + (x - 2)^2 + 1")
    basis = monomial_basis(1, 2)
    x = p.gens[0]
    # Gram of p in basis (1, x, x^2): coefficients p = x^4 - x^2 - 4x + 6
    G = [[6.0, -2.0, -1.5], [-2.0, 2.0, 0.0], [-1.5, 0.0, 1.0]]
    noisy = [[v + 1e-4 * ((i + 2 * j) % 3 - 1) for j, v in enumerate(row)] for i, row in enumerate(G)]
    cert = round_certificate(p, F(0), basis, noisy)
    assert cert is not None and cert.verify()
    assert sp.expand(cert.as_expr() - p.as_expr()) == 0
    assert sp.expand(p.as_expr() - (x**4 - x**2 - 4 * x + 6)) == 0
    for a, b in itertools.product(range(3), repeat=2):
        assert abs(float(cert.gram[a][b]) - G[a][b]) < 1e-3
