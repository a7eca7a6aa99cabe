"""Exact-or-numeric linear algebra on small subspaces of R^k (k = number of latent coordinates).

Three scalar kinds, chosen once per computation:

- "rational": `fractions.Fraction` (polynomial targets with rational coefficients; everything
  exact and fast);
- "exact": SymPy expressions (exact irrational coefficients such as 1/sqrt(2 pi)), kept in a
  canonical form at every step (`canonical`: a reduced fraction of polynomials in powers of pi
  and E with coefficients in the algebraic numbers); a scalar is zero when its canonical form
  is, and a value below 1e-25 at 40 digits whose canonical form is not zero raises, never
  silently passes. An entry whose canonical form grows past `MAX_EXACT_SIZE` nodes raises
  `ExactTooLarge`, so that the caller can redo the computation in floating point (marked
  numerical) instead of spending unbounded time on exact algebra; so does a scalar with
  radicals of total degree over MAX_FIELD_DEGREE;
- "float": float64 with an absolute threshold (numerical Hermite coefficients).

Subspaces are stored by an orthogonal (not normalised) basis in the chosen kind, so that
rational subspaces stay rational; `orthonormal()` gives the exact normalised basis (square
roots) or floats.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

__all__ = ["MAX_EXACT_SIZE", "ExactTooLarge", "Scalars", "Subspace", "canonical"]

MAX_EXACT_SIZE = 400
"""Largest exact scalar (nodes of its canonical SymPy tree) before `ExactTooLarge`."""

MAX_FIELD_DEGREE = 8
"""Largest product of root orders of the radicals in one exact scalar (e.g. three square
roots) before `ExactTooLarge`: arithmetic in larger number fields is too slow in SymPy."""


class ExactTooLarge(ArithmeticError):
    """An exact scalar grew past MAX_EXACT_SIZE nodes: redo the computation in floats."""


_SMALL = 40  # exact scalars up to this many nodes are taken as they come


def _size(x) -> int:
    return sum(1 for _ in sp.preorder_traversal(x))


def canonical(value) -> sp.Expr:
    """A canonical form of an exact real constant built from rationals, radicals, pi and E.

    Every power of pi (and of E, including exp(q) for rational q) is written as an integer
    power of one new symbol t (pi = t^q with q the common denominator of the exponents), the
    result is reduced to p(t)/q(t) over the algebraic numbers it contains (SymPy `cancel` with
    `extension=True`), and t is put back. Two constants with the same value in this field of
    rational functions get the same form, so repeated arithmetic does not grow expressions.

    Raises:
        ExactTooLarge: the form has more than MAX_EXACT_SIZE nodes.
    """
    x = sp.sympify(value)
    if x.is_Rational:
        return x
    if _size(x) > 4 * MAX_EXACT_SIZE:  # built from a few canonical operands at most
        raise ExactTooLarge(f"an exact scalar has more than {4 * MAX_EXACT_SIZE} nodes "
                            f"({str(x)[:80]}...)")
    return _canonical(x)


@functools.lru_cache(maxsize=4096)
def _canonical(x: sp.Expr) -> sp.Expr:
    reps: dict = {}
    back: dict = {}
    atoms = x.atoms(sp.Pow, sp.exp, sp.NumberSymbol)
    for base in (sp.pi, sp.E):
        exps = []
        for a in atoms:
            if a == base:
                exps.append((a, sp.Integer(1)))
            elif isinstance(a, sp.Pow) and a.base == base and a.exp.is_Rational:
                exps.append((a, a.exp))
            elif base == sp.E and isinstance(a, sp.exp) and a.args[0].is_Rational:
                exps.append((a, a.args[0]))
        if not exps:
            continue
        q = math.lcm(*[int(e.q) for _, e in exps])
        t = sp.Dummy(positive=True)
        for a, e in exps:
            reps[a] = t ** int(e * q)
        back[t] = base ** sp.Rational(1, q)
    y = x.xreplace(reps) if reps else x
    radicals = [a for a in y.atoms(sp.Pow) if a.base.is_Rational and not a.exp.is_Integer]
    if math.prod(int(a.exp.q) for a in radicals) > MAX_FIELD_DEGREE:
        raise ExactTooLarge(f"exact scalar {str(x)[:80]} needs the radicals "
                            f"{sorted(map(str, radicals))}: more than degree "
                            f"{MAX_FIELD_DEGREE} over the rationals")
    try:
        y = sp.cancel(sp.together(y), extension=True)
    except (sp.PolynomialError, NotImplementedError, sp.CoercionFailed):
        y = sp.cancel(sp.together(y))
    out = sp.factor_terms(y.xreplace(back)) if back else y
    if _size(out) > MAX_EXACT_SIZE:
        raise ExactTooLarge(f"an exact scalar grew past {MAX_EXACT_SIZE} nodes "
                            f"({str(out)[:80]}...)")
    return out


@dataclass(frozen=True)
class Scalars:
    """The scalar kind of a computation and its zero test.

    Attributes:
        kind: "rational", "exact" or "float".
        atol: absolute threshold under which a float is called zero (kind "float" only).
    """

    kind: str
    atol: float = 0.0

    def __post_init__(self):
        if self.kind not in ("rational", "exact", "float"):
            raise ValueError(
                f"scalar kind must be 'rational', 'exact' or 'float', got {self.kind!r}")

    @property
    def is_exact(self) -> bool:
        return self.kind != "float"

    def convert(self, value):
        """A SymPy number, Fraction, int or float in this kind."""
        if self.kind == "rational":
            if isinstance(value, Fraction):
                return value
            if isinstance(value, int):
                return Fraction(value)
            v = sp.nsimplify(value) if isinstance(value, float) else sp.sympify(value)
            if not v.is_Rational:
                raise ValueError(f"{value} is not rational")
            return Fraction(int(v.p), int(v.q))
        if self.kind == "exact":
            if isinstance(value, Fraction):
                return sp.Rational(value.numerator, value.denominator)
            value = sp.sympify(value)
            return canonical(value) if _size(value) > _SMALL else value
        return float(value)

    def is_zero(self, value) -> bool:
        if self.kind == "rational":
            return value == 0
        if self.kind == "float":
            return abs(value) <= self.atol
        return _exact_is_zero(value)

    def to_float(self, value) -> float:
        return float(value)


def _exact_is_zero(value) -> bool:
    if isinstance(value, Fraction | int):
        return value == 0
    v = sp.sympify(value)
    if v.is_Number:
        return v == 0
    if abs(complex(v.evalf(30))) > 1e-20:  # clearly not zero: no algebra needed
        return False
    v = canonical(v)
    if v == 0:
        return True
    if v.is_Number:
        return False
    num = complex(v.evalf(40))
    if abs(num) > 1e-25:
        return False
    raise ValueError(f"cannot decide whether the exact value {value} is zero")


def _dot(a, b):
    total = 0
    for x, y in zip(a, b, strict=True):
        total = total + x * y
    return total


@dataclass(frozen=True)
class Subspace:
    """A subspace of R^k given by an orthogonal basis (exact or float).

    Attributes:
        k: ambient dimension.
        basis: orthogonal basis vectors (tuples), not normalised for exact kinds,
            orthonormal for floats.
        scalars: the scalar kind.
    """

    k: int
    basis: tuple[tuple, ...]
    scalars: Scalars

    # construction --------------------------------------------------------------------

    @classmethod
    def zero(cls, k: int, scalars: Scalars) -> Subspace:
        return cls(k, (), scalars)

    @classmethod
    def span(cls, k: int, vectors, scalars: Scalars) -> Subspace:
        """span(vectors), reduced to an orthogonal basis."""
        return cls.zero(k, scalars).extend(vectors)

    @classmethod
    def whole(cls, k: int, scalars: Scalars) -> Subspace:
        one = scalars.convert(1)
        zero = scalars.convert(0)
        return cls(k, tuple(tuple(one if i == j else zero for j in range(k)) for i in range(k)),
                   scalars)

    # queries -------------------------------------------------------------------------

    @property
    def dim(self) -> int:
        return len(self.basis)

    @property
    def is_whole(self) -> bool:
        return self.dim == self.k

    def residual(self, v) -> tuple:
        """v minus its orthogonal projection onto the subspace."""
        v = tuple(self.scalars.convert(x) for x in v)
        if self.scalars.kind == "float":
            arr = np.asarray(v, dtype=float)
            for b in self.basis:
                barr = np.asarray(b, dtype=float)
                arr = arr - barr * (barr @ arr)
            return tuple(float(x) for x in arr)
        exact = self.scalars.kind == "exact"
        for b in self.basis:
            c = _dot(b, v) / _dot(b, b)
            if exact:
                c = canonical(c)
                if c == 0:
                    continue
            v = tuple(x - c * y for x, y in zip(v, b, strict=True))
            if exact:
                v = tuple(canonical(x) for x in v)
        return v

    def contains(self, v) -> bool:
        return self._is_zero_vector(self.residual(v), reference=v)

    def _is_zero_vector(self, r, reference=None) -> bool:
        if self.scalars.kind == "float":
            scale = 1.0 if reference is None else max(1.0, float(np.max(np.abs(
                np.asarray(reference, dtype=float)))))
            return float(np.max(np.abs(np.asarray(r, dtype=float)))) <= self.scalars.atol * scale
        return all(self.scalars.is_zero(x) for x in r)

    # operations ----------------------------------------------------------------------

    def extend(self, vectors) -> Subspace:
        """self + span(vectors)."""
        basis = list(self.basis)
        out = self
        for v in vectors:
            if out.dim == self.k:
                break
            r = out.residual(v)
            if out._is_zero_vector(r, reference=v):
                continue
            if self.scalars.kind == "float":
                arr = np.asarray(r, dtype=float)
                r = tuple(float(x) for x in arr / np.linalg.norm(arr))
            else:
                r = _normalise_exact(r, self.scalars)
            basis.append(r)
            out = Subspace(self.k, tuple(basis), self.scalars)
        return out

    def sum(self, other: Subspace) -> Subspace:
        return self.extend(other.basis)

    def complement(self) -> Subspace:
        """The orthogonal complement, with an orthogonal basis."""
        out = self
        one = self.scalars.convert(1)
        zero = self.scalars.convert(0)
        for i in range(self.k):
            out = out.extend([tuple(one if j == i else zero for j in range(self.k))])
        return Subspace(self.k, out.basis[self.dim:], self.scalars)

    def relative_complement(self, inner: Subspace) -> Subspace:
        """The part of self orthogonal to inner (inner must be contained in self)."""
        out = inner
        for b in self.basis:
            out = out.extend([b])
        return Subspace(self.k, out.basis[inner.dim:], self.scalars)

    def orthonormal(self) -> tuple[tuple, ...]:
        """Orthonormal basis: exact SymPy entries for exact kinds, floats otherwise."""
        if self.scalars.kind == "float":
            return self.basis
        out = []
        for b in self.basis:
            bb = [sp.Rational(x.numerator, x.denominator) if isinstance(x, Fraction)
                  else sp.sympify(x) for x in b]
            norm = sp.sqrt(sum(x**2 for x in bb))
            out.append(tuple(sp.radsimp(sp.nsimplify(x / norm)) if x != 0 else sp.Integer(0)
                             for x in bb))
        return tuple(out)

    def orthonormal_float(self) -> np.ndarray:
        """Orthonormal basis as a (dim, k) float array."""
        if self.dim == 0:
            return np.zeros((0, self.k))
        arr = np.array([[float(x) for x in b] for b in self.basis], dtype=float)
        return arr / np.linalg.norm(arr, axis=1, keepdims=True)

    def projector_float(self) -> np.ndarray:
        q = self.orthonormal_float()
        return q.T @ q

    def same_as(self, other: Subspace, atol: float = 1e-8) -> bool:
        """Equality of subspaces, compared through float projectors."""
        return self.dim == other.dim and bool(np.allclose(
            self.projector_float(), other.projector_float(), atol=atol))


def _normalise_exact(r: tuple, scalars: Scalars) -> tuple:
    """Scale an exact vector by its first non-zero entry so that rational directions become
    rational (useful when coefficients share an irrational factor such as sqrt(2/pi))."""
    pivot = next(x for x in r if not scalars.is_zero(x))
    if scalars.kind == "rational":
        return tuple(x / pivot for x in r)
    return tuple(canonical(x / pivot) for x in r)
