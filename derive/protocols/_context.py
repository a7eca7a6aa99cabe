"""What every exponent computation needs about one target, computed once.

The Hermite leading forms (see _poly) of the centred label powers y~^m, y~ = f - E[f]:
exact and complete for polynomial targets (Gaussian moments, no truncation), from
`hermite_expansion` to `max_degree` otherwise. Also the label's value set when it is finite
(a polynomial in sign(.) and heaviside(.) of non-constant polynomials), and the signed
permutation symmetries of the target.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp

from ..algebra import Poly, Scalars, from_sympy, leading_form, mul
from ..hermite import expansion_form, hermite_expansion, scalars_of
from ..targets import Target
from ._symmetry import SignedPermutation, find_symmetries

__all__ = ["Context", "LabelPower"]

DEFAULT_DEGREE = 8
"""Truncation degree of Hermite expansions of non-polynomial targets."""

POWER_LIMIT = 8
"""Largest label power m the reuse witness search reaches for polynomial targets."""


@dataclass(frozen=True)
class LabelPower:
    """The leading form of y~^m: complete (exact, untruncated) or truncated at `degree`."""

    m: int
    form: Poly
    complete: bool
    degree: int
    scalars: Scalars
    expansion: object = None


@dataclass
class Context:
    """Per-target data shared by the online, giant-step, reuse and AMP computations."""

    target: Target
    max_degree: int
    max_power: int
    polynomial: bool
    scalars: Scalars
    mean: object
    centred: sp.Expr
    values: tuple | None
    symmetries: tuple[SignedPermutation, ...]
    _poly: Poly | None = None
    _powers: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    power_limit: int | None = None
    """Largest label power the reuse witness search may raise max_power to (None: max_power
    is fixed, as when the caller gives it)."""

    @classmethod
    def build(cls, target: Target | str, max_degree: int | None = None,
              max_power: int | None = None, atol: float = 1e-9,
              numeric: bool = False) -> Context:
        """The context of a target; `numeric=True` keeps every irrational coefficient as a
        float64 (Scalars kind "float", threshold atol) instead of an exact SymPy number."""
        if isinstance(target, str):
            target = Target.parse(target)
        if not isinstance(target, Target):
            raise ValueError(f"target must be a Target or its text, got {type(target).__name__}")
        if target.parameters:
            names = [str(p) for p in target.parameters]
            raise ValueError(
                f"target has free parameters {names} (names other than z1, z2, ..., pi and E): "
                f"give them values ({' '.join(f'--set {n}=VALUE' for n in names)} on the "
                f"command line, Target.subs in Python)")
        zs = target.variables
        polynomial = target.is_polynomial
        if max_degree is not None and (not isinstance(max_degree, int)
                                       or not 1 <= max_degree <= 24):
            raise ValueError(f"max_degree must be an integer in 1..24, got {max_degree!r}")
        if max_power is not None and (not isinstance(max_power, int) or not 1 <= max_power <= 8):
            raise ValueError(f"max_power must be an integer in 1..8, got {max_power!r}")
        if polynomial:
            coeffs = sp.Poly(sp.expand(target.expr), *zs).coeffs()
            kind = "rational" if all(c.is_Rational for c in coeffs) else "exact"
            scalars = Scalars("float", atol) if numeric and kind == "exact" else Scalars(kind)
            raw = from_sympy(target.expr, zs, scalars.convert)
            form = leading_form(raw)
            degree = sp.Poly(sp.expand(target.expr), *zs).total_degree()
            mean = form.get((0,) * target.k, scalars.convert(0))
            centred_poly = dict(raw)
            if mean != 0:
                key = (0,) * target.k
                centred_poly[key] = centred_poly.get(key, 0) - mean
                if centred_poly[key] == 0:
                    del centred_poly[key]
            centred_form = dict(form)
            centred_form.pop((0,) * target.k, None)
            limit = None
            if max_power is None:
                # the powers searched up front; the reuse witness search goes on to
                # POWER_LIMIT where the symmetries admit them and its time budget allows
                max_power = max(2, min(6, 12 // max(degree, 1)))
                limit = POWER_LIMIT
            # a positive multiple of y~ with integer coefficients: same zeros, spans and
            # symmetries for every power, and Python ints are much faster than Fractions
            if kind == "rational" and centred_poly:
                den = math.lcm(*[c.denominator for c in centred_poly.values()])
                centred_poly = {e: int(c * den) for e, c in centred_poly.items()}
            ctx = cls(target, max(degree, 1), max_power, True, scalars, mean,
                      sp.expand(target.expr - sp.sympify(_to_sympy(mean))), None,
                      find_symmetries(None, zs, centred_poly), centred_poly)
            ctx._powers[1] = LabelPower(1, centred_form, True, degree, scalars)
            ctx.power_limit = limit
            return ctx
        deg = DEFAULT_DEGREE if max_degree is None else max_degree
        try:
            expansion = hermite_expansion(target, deg)
        except TypeError as err:  # a numerical route that cannot evaluate the target
            raise ValueError(f"no Hermite expansion of {target} to degree {deg}: "
                             f"{type(err).__name__}: {err}") from None
        scalars = scalars_of(expansion, atol)
        if numeric and scalars.kind == "exact":
            scalars = Scalars("float", atol)
        form = expansion_form(expansion, scalars)
        zero = (0,) * target.k
        mean = form.pop(zero, scalars.convert(0))
        centred = target.expr - _to_sympy(mean)
        values = _finite_values(target.expr, zs)
        if max_power is None:
            max_power = 3 if values is None else max(1, len(values) - 1)
        elif values is not None:
            max_power = min(max_power, max(1, len(values) - 1))
        ctx = cls(target, deg, max_power, False, scalars, mean, centred, values,
                  find_symmetries(centred, zs, None))
        ctx._powers[1] = LabelPower(1, form, expansion.complete, deg, scalars, expansion)
        return ctx

    @property
    def k(self) -> int:
        return self.target.k

    @property
    def finite_family(self) -> bool:
        """Whether the powers 1..max_power span every centred function of the label."""
        return self.values is not None and self.max_power >= len(self.values) - 1

    def power(self, m: int) -> LabelPower:
        """The leading form of y~^m (cached)."""
        if m in self._powers:
            return self._powers[m]
        if self.polynomial:
            prev = self.power_raw(m)
            form = leading_form(prev)
            deg = max((sum(e) for e in prev), default=0)
            out = LabelPower(m, form, True, deg, self.scalars)
        else:
            expansion = hermite_expansion(Target(self.centred**m, self.k), self.max_degree)
            sc = scalars_of(expansion, self.scalars.atol or 1e-9)
            if sc.kind != self.scalars.kind:
                sc = _weakest(sc, self.scalars)
            out = LabelPower(m, expansion_form(expansion, sc), expansion.complete,
                             self.max_degree, sc, expansion)
        self._powers[m] = out
        return out

    def settle_powers(self) -> None:
        """Compute y~^m for m = 1..max_power; when an expansion fails (no exact or numerical
        route for that power), lower max_power to the last one available and say so."""
        if self.polynomial:
            return  # exact polynomial powers never fail; computed lazily when needed
        for m in range(2, self.max_power + 1):
            try:
                self.power(m)
            except (ValueError, TypeError) as err:
                self.notes.append(f"label powers limited to m <= {m - 1}: the expansion of "
                                  f"y~^{m} failed ({type(err).__name__}: {err})")
                self.max_power = m - 1
                return

    def power_raw(self, m: int) -> Poly:
        key = ("raw", m)
        if key not in self._powers:
            self._powers[key] = self._poly if m == 1 else mul(self.power_raw(m - 1), self._poly)
        return self._powers[key]


def _weakest(a: Scalars, b: Scalars) -> Scalars:
    order = {"rational": 0, "exact": 1, "float": 2}
    return a if order[a.kind] >= order[b.kind] else b


def _to_sympy(x):
    if isinstance(x, Fraction):
        return sp.Rational(x.numerator, x.denominator)
    return sp.sympify(x)


def _finite_values(expr: sp.Expr, zs) -> tuple | None:
    """The finite set of values of f when f is a polynomial in sign(p_j(z)) and
    heaviside(p_j(z)) with non-constant polynomials p_j (values on the complement of the
    null set where some p_j = 0); None otherwise."""
    atoms = [a for a in expr.atoms(sp.sign, sp.Heaviside) if a.free_symbols & set(zs)]
    if not atoms or len(atoms) > 8:
        return None
    for a in atoms:
        arg = a.args[0]
        if not arg.is_polynomial(*zs) or sp.Poly(arg, *zs).total_degree() < 1:
            return None
    symbols = sp.symbols(f"s0:{len(atoms)}")
    reduced = expr.xreplace(dict(zip(atoms, symbols, strict=True)))
    if reduced.free_symbols & set(zs):
        return None
    choices = [(-1, 1) if isinstance(a, sp.sign) else (0, 1) for a in atoms]
    values = set()
    for combo in itertools.product(*choices):
        v = sp.nsimplify(reduced.xreplace(dict(zip(symbols, combo, strict=True))))
        values.add(v)
    return tuple(sorted(values, key=float))
