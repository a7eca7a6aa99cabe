"""Exact univariate Gaussian integrals m_n = E[g(z) He_n(z)], z ~ N(0, 1), n = 0..N.

Exact routes, tried in order on each additive term of g (results cached):

- polynomial g: the monomial -> Hermite change of basis, z^m = sum_j m!/(j! i! 2^i) He_j with
  m = j + 2i (no integration);
- g = poly(z) exp(b z^2 + a z + c) (cos and sin rewritten as exponentials, a complex):
  completing the square, E[h(z) e^{b z^2 + a z + c}] = s e^{c + a^2 s^2 / 2} E[h(s u + a s^2)]
  with s^2 = 1 / (1 - 2b), then Gaussian moments;
- piecewise polynomials (relu, sign, abs, heaviside, max/min with constants, and their
  products): integral over each interval of the Hermite-expanded piece with
  int_a^b He_m phi = He_{m-1}(a) phi(a) - He_{m-1}(b) phi(b) (m >= 1), Phi(b) - Phi(a) (m = 0);
- g whose derivative falls in an exact class (erf(a z + b)): Stein's identity
  E[g He_n] = E[g' He_{n-1}] for n >= 1, and E[erf(a z + b)] = erf(b / sqrt(1 + 2 a^2)).

Anything else returns None for that term and the caller integrates it numerically.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

__all__ = ["exact_moments", "hermite_of_polynomial", "monomial_to_hermite"]


@lru_cache(maxsize=256)
def monomial_to_hermite(m: int) -> tuple[tuple[int, sp.Rational], ...]:
    """z^m = sum_j coeff_j He_j(z): the pairs (j, coeff_j), j = m, m-2, ..., exact."""
    out = []
    for i in range(m // 2 + 1):
        j = m - 2 * i
        out.append((j, sp.Rational(sp.factorial(m), sp.factorial(j) * sp.factorial(i) * 2**i)))
    return tuple(out)


def hermite_of_polynomial(poly: sp.Poly) -> dict[int, sp.Expr]:
    """Hermite coefficients {j: c_j} of a univariate polynomial, p = sum_j c_j He_j."""
    out: dict[int, sp.Expr] = {}
    for (m,), coeff in poly.terms():
        for j, c in monomial_to_hermite(m):
            out[j] = out.get(j, 0) + coeff * c
    return {j: c for j, c in out.items() if c != 0}


def _he_value(n: int, x: sp.Expr) -> sp.Expr:
    return sp.hermite_prob(n, x) if n >= 0 else sp.Integer(0)


def _phi(x: sp.Expr) -> sp.Expr:
    if x in (sp.oo, -sp.oo):
        return sp.Integer(0)
    return sp.exp(-(x**2) / 2) / sp.sqrt(2 * sp.pi)


def _Phi(x: sp.Expr) -> sp.Expr:
    if x == sp.oo:
        return sp.Integer(1)
    if x == -sp.oo:
        return sp.Integer(0)
    return (1 + sp.erf(x / sp.sqrt(2))) / 2


def _interval_he_integral(m: int, a: sp.Expr, b: sp.Expr) -> sp.Expr:
    """int_a^b He_m(z) phi(z) dz, exact."""
    if m == 0:
        return _Phi(b) - _Phi(a)
    lo = 0 if a == -sp.oo else _he_value(m - 1, a) * _phi(a)
    hi = 0 if b == sp.oo else _he_value(m - 1, b) * _phi(b)
    return lo - hi


def _gaussian_moment(m: int, mu: sp.Expr, s: sp.Expr) -> sp.Expr:
    """E[z^m] for z ~ N(mu, s^2)."""
    total = sp.Integer(0)
    for j in range(0, m + 1, 2):
        total += sp.binomial(m, j) * mu ** (m - j) * s**j * sp.factorial2(j - 1)
    return total


def _moments_polynomial(g: sp.Expr, z: sp.Symbol, N: int) -> list[sp.Expr] | None:
    if not g.is_polynomial(z):
        return None
    coeffs = hermite_of_polynomial(sp.Poly(g, z))
    return [coeffs.get(n, 0) * sp.factorial(n) for n in range(N + 1)]


def _split_exp(term: sp.Expr, z: sp.Symbol):
    """term = poly(z) * exp(q(z)) -> (poly, q) or None."""
    poly, q = sp.Integer(1), sp.Integer(0)
    for f in sp.Mul.make_args(term):
        if isinstance(f, sp.exp):
            q += f.args[0]
        elif f.is_Pow and isinstance(f.base, sp.exp) and f.exp.is_Integer:
            q += f.base.args[0] * f.exp
        elif f.is_polynomial(z):
            poly *= f
        else:
            return None
    q = sp.expand(q)
    if not q.is_polynomial(z) or sp.degree(q, z) > 2:
        return None
    return poly, q


def _moments_exp(g: sp.Expr, z: sp.Symbol, N: int) -> list[sp.Expr] | None:
    if not g.has(sp.exp, sp.cos, sp.sin, sp.cosh, sp.sinh):
        return None
    rewritten = sp.expand(g.rewrite(sp.exp), deep=True, power_exp=True)
    totals = [sp.Integer(0)] * (N + 1)
    complex_ = False
    for term in sp.Add.make_args(rewritten):
        split = _split_exp(sp.powsimp(term), z)
        if split is None:
            return None
        poly, q = split
        qp = sp.Poly(q, z)
        b = qp.coeff_monomial(z**2)
        a = qp.coeff_monomial(z)
        c = qp.coeff_monomial(1)
        if b.free_symbols or not (sp.re(b) < sp.Rational(1, 2)):
            return None
        # a complex curvature (cos(z^2/8)) makes s complex too: the real part must be taken
        complex_ = complex_ or b.has(sp.I) or a.has(sp.I) or c.has(sp.I)
        s2 = 1 / (1 - 2 * b)
        s = sp.sqrt(s2)
        pref = s * sp.exp(c + a**2 * s2 / 2)
        mu = a * s2
        for n in range(N + 1):
            h = sp.Poly(sp.expand(poly * sp.hermite_prob(n, z)), z)
            val = sum(coef * _gaussian_moment(m, mu, s) for (m,), coef in h.terms())
            totals[n] += pref * val
    out = []
    for t in totals:
        t = sp.expand_complex(t) if complex_ else t
        if complex_:
            t = sp.re(t)
        out.append(sp.simplify(t) if complex_ else sp.expand(t))
    return out


def _moments_piecewise(g: sp.Expr, z: sp.Symbol, N: int) -> list[sp.Expr] | None:
    if not g.has(sp.Max, sp.Min, sp.Abs, sp.sign, sp.Heaviside, sp.Piecewise):
        return None
    try:
        pw = sp.piecewise_fold(g.rewrite(sp.Piecewise))
    except Exception:  # noqa: BLE001 - any failure means "no exact route"
        return None
    if not isinstance(pw, sp.Piecewise):
        return _moments_polynomial(pw, z, N) if pw.is_polynomial(z) else None
    remaining: sp.Set = sp.Reals
    totals = [sp.Integer(0)] * (N + 1)
    for expr, cond in pw.args:
        if not expr.is_polynomial(z) or expr.free_symbols - {z}:
            return None
        try:
            region = remaining if cond is sp.true else cond.as_set().intersect(remaining)
        except Exception:  # noqa: BLE001
            return None
        remaining = remaining - region
        intervals = region.args if isinstance(region, sp.Union) else (region,)
        for iv in intervals:
            if isinstance(iv, sp.FiniteSet) or iv is sp.EmptySet:
                continue  # measure zero
            if not isinstance(iv, sp.Interval) or iv.free_symbols:
                return None
            for n in range(N + 1):
                h = hermite_of_polynomial(sp.Poly(sp.expand(expr * sp.hermite_prob(n, z)), z))
                totals[n] += sum(c * _interval_he_integral(m, iv.start, iv.end) for m, c in h.items())
    return [sp.nsimplify(sp.expand(t)) if t.is_Rational else sp.expand(t) for t in totals]


def _mean_closed_form(g: sp.Expr, z: sp.Symbol) -> sp.Expr | None:
    """E[g(z)] from a small table of closed forms, or 0 by oddness, else None."""
    if sp.expand(g.xreplace({z: -z}) + g) == 0:
        return sp.Integer(0)
    c, rest = g.as_coeff_Mul()
    if isinstance(rest, sp.erf):
        arg = sp.expand(rest.args[0])
        if arg.is_polynomial(z) and sp.degree(arg, z) == 1:
            a, b = sp.Poly(arg, z).all_coeffs()
            return c * sp.erf(b / sp.sqrt(1 + 2 * a**2))
    return None


def _moments_derivative(g: sp.Expr, z: sp.Symbol, N: int) -> list[sp.Expr] | None:
    if not g.has(sp.erf):
        return None
    mean = _mean_closed_form(g, z)
    if mean is None:
        return None
    dg = sp.diff(g, z)
    if N == 0:
        return [mean]
    rest = _term_moments(dg, z, N - 1)
    if rest is None:
        return None
    return [mean, *rest]


_ROUTES = (_moments_polynomial, _moments_exp, _moments_piecewise, _moments_derivative)


@lru_cache(maxsize=4096)
def _term_moments_cached(term: sp.Expr, z: sp.Symbol, N: int) -> tuple[sp.Expr, ...] | None:
    for route in _ROUTES:
        out = route(term, z, N)
        if out is not None:
            return tuple(out)
    return None


def _term_moments(g: sp.Expr, z: sp.Symbol, N: int) -> list[sp.Expr] | None:
    total = [sp.Integer(0)] * (N + 1)
    for term in sp.Add.make_args(sp.expand(g, deep=False)):
        coeff, rest = term.as_independent(z, as_Add=False)
        if rest == 1:
            total[0] += coeff
            continue
        out = _term_moments_cached(rest, z, N)
        if out is None:
            return None
        total = [t + coeff * o for t, o in zip(total, out, strict=True)]
    return total


def exact_moments(g: sp.Expr, z: sp.Symbol, N: int) -> list[sp.Expr] | None:
    """E[g(z) He_n(z)] for n = 0..N exactly, or None when no exact route applies.

    Args:
        g: a SymPy expression in the single real symbol z (parameters allowed where the
            route is algebraic).
        z: the variable.
        N: the largest degree.
    """
    return _term_moments(g, z, N)
