"""Spherical training for p > 1 (every row ||w_j||^2 = d; docs/theory.md §4.9): the ODE, the
finite-step map and the tangent projection against hand derivations and limits.

References independent of the derivation code: the linear student with the correlation
loss, whose one-step moments follow from Wishart moments by hand (E[S] = n_b I,
E[S^2] = n_b (n_b + d + 1) I for S = sum_mu x^mu x^mu^T, and E[(sum_mu lambda nu)^2]
from Isserlis), and the d -> infinity limit d * map -> ODE.
"""

from __future__ import annotations

import numpy as np
import pytest

from escalier.derive import Scenario
from escalier.derive.ode import ode_system, overlap_map


def _hand_linear_tangent(Q12, M, a, eta, n_b, d, tangent):
    """One step of the linear student (sigma = x), correlation loss, f = z1, p = 2, by hand.

    g_j = a_j nu, so every row takes the step u_j = a_j u, u = (eta / (n_b d)) S w*, and
    (u . w_j) / d = (eta / d) L_j with L_j = (1/n_b) sum_mu lambda_j nu, L_* = (1/n_b)
    sum_mu nu^2. Tangent: u_j -> u_j - a_j (eta / d) L_j w_j. Pre-renormalisation:
      E[Delta M_j] = a_j (eta / d) (1 - t M_j^2)           (t = 1 tangent, 0 plain)
      E[Delta Q_jl] = (eta / d) (a_j (M_l - t Q_jl M_j) + a_l (M_j - t Q_jl M_l))
                      + a_j a_l (eta^2 (n_b + d + 1) / (n_b d^2)
                                 - t (eta / d)^2 (E L_l^2 + E L_j^2 - Q_jl E L_j L_l))   (j != l)
      E[Delta Q_jj] = 2 (eta / d) a_j (1 - t) M_j + a_j^2 (eta^2 (n_b + d + 1) / (n_b d^2)
                                                    - t (eta / d)^2 E L_j^2)
    with E[L_j L_l] = (Q_jl + 2 M_j M_l) / n_b + (1 - 1/n_b) M_j M_l (Isserlis), then the
    renormalisation M_j' = (M_j + E dM_j) / sqrt(1 + E dQ_jj), Q_12' likewise."""
    t = 1.0 if tangent else 0.0
    Q = np.array([[1.0, Q12], [Q12, 1.0]])
    M = np.asarray(M, float)
    a = np.asarray(a, float)
    EL = lambda j, l: (Q[j, l] + 2 * M[j] * M[l]) / n_b + (1 - 1 / n_b) * M[j] * M[l]
    uu = eta**2 * (n_b + d + 1) / (n_b * d**2)
    dM = a * (eta / d) * (1 - t * M**2)
    dQ = np.zeros((2, 2))
    for j in range(2):
        for m in range(2):
            first = (eta / d) * (a[j] * (M[m] - t * Q[j, m] * M[j])
                                 + a[m] * (M[j] - t * Q[j, m] * M[m]))
            second = a[j] * a[m] * (uu - t * (eta / d) ** 2 * (
                EL(m, m) + EL(j, j) - Q[j, m] * EL(j, m) if j != m else EL(j, j)))
            dQ[j, m] = first + second
    q12 = (Q12 + dQ[0, 1]) / np.sqrt((1 + dQ[0, 0]) * (1 + dQ[1, 1])) - Q12
    m = (M + dM) / np.sqrt(1 + np.diag(dQ)) - M
    return np.array([q12, *m])


@pytest.mark.parametrize("tangent", [False, True])
def test_linear_correlation_map_matches_the_hand_derivation(tangent):
    sc = Scenario("z1", student="linear", p=2, loss="correlation", a=(0.7, -1.3),
                  spherical=True, tangent=tangent)
    system = overlap_map(sc)
    assert [s.name for s in system.state] == ["Q12", "M11", "M21"]
    for Q12, M, eta, n_b, d in [(0.3, (0.4, -0.2), 0.8, 3, 50), (-0.5, (0.1, 0.6), 2.0, 400, 20)]:
        got = system.evaluate([Q12, *M], {"eta": eta, "n_b": n_b, "d": d})
        want = _hand_linear_tangent(Q12, M, (0.7, -1.3), eta, n_b, d, tangent)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("tangent", [False, True])
def test_spherical_map_times_d_tends_to_the_ode(tangent):
    """d * E[dy] -> dy/dt (both step rules have the same ODE) with a gap O(1/d): the
    renormalisation differentiated at Q_jj = 1 and its eta^2 (Ito) part."""
    sc = Scenario("z1*z2 + z1", student="He2", p=2, lr=0.7, batch=3, spherical=True,
                  tangent=tangent)
    ode = ode_system(sc)
    y = np.array([0.2, 0.3, 0.1, -0.1, 0.4])
    ref = ode.evaluate(y)
    F = overlap_map(sc)
    gaps = [d * (d * F.evaluate(y, {"d": d}) - ref) for d in (1e5, 1e7)]
    np.testing.assert_allclose(gaps[0], gaps[1], rtol=2e-2, atol=1e-8)
    assert np.max(np.abs(ref)) > 0.1


def test_spherical_ode_ito_term_by_hand():
    """Linear student, correlation loss, f = z1, p = 2 (the hand case above as d -> infinity):
    dM_j/dt = a_j eta (1 - M_j^2) - a_j^2 eta^2 M_j / (2 n_b)  (E[g_j^2] = a_j^2),
    dQ12/dt = eta (a_1 M_2 + a_2 M_1) + a_1 a_2 eta^2 / n_b
              - Q12 (eta (a_1 M_1 + a_2 M_2) + eta^2 (a_1^2 + a_2^2) / (2 n_b))."""
    a1, a2, eta, n_b = 0.7, -1.3, 0.9, 2
    sc = Scenario("z1", student="linear", p=2, loss="correlation", a=(a1, a2), lr=eta,
                  batch=n_b, spherical=True)
    s = ode_system(sc)
    Q12, M1, M2 = 0.3, 0.4, -0.2
    got = s.evaluate([Q12, M1, M2])
    want = [eta * (a1 * M2 + a2 * M1) + a1 * a2 * eta**2 / n_b
            - Q12 * (eta * (a1 * M1 + a2 * M2) + eta**2 * (a1**2 + a2**2) / (2 * n_b)),
            a1 * eta * (1 - M1**2) - a1**2 * eta**2 * M1 / (2 * n_b),
            a2 * eta * (1 - M2**2) - a2**2 * eta**2 * M2 / (2 * n_b)]
    np.testing.assert_allclose(got, want, rtol=1e-13)
    assert ode_system(Scenario("z1", student="linear", p=2, loss="correlation", a=(a1, a2),
                               lr=eta, batch=n_b, spherical=True, tangent=True)).rhs == s.rhs


def test_tangent_needs_spherical():
    with pytest.raises(ValueError, match="spherical"):
        Scenario("z1", p=2, tangent=True)
