"""Targets: y = f(z1, ..., zk) of the latent Gaussian coordinates z ~ N(0, I_k).

A target is parsed from text with a whitelist walk of Python's syntax tree (no `eval`),
or built from a SymPy expression; either way it is checked once, when built: only the
latent variables z1..zk and named real parameters, only supported functions, finite
real constants, and a function that is square-integrable under the Gaussian.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

import sympy as sp

from ..algebra import ArithmeticParser
from ._functions import FUNCTIONS, MAX_HERMITE_DEGREE, hermite_he

__all__ = ["Target", "latent", "parameter"]

_VAR = re.compile(r"^z([0-9]+)$")
_HE = re.compile(r"^He([0-9]+)$")
_RESERVED = re.compile(r"^(x|y|w|z|u|v|lambda|nu)[0-9]*$")
_CONSTANTS = {"pi": sp.pi, "E": sp.E}
_NONFINITE = {"nan", "inf", "infinity", "oo", "zoo"}
_LOOKS_LIKE_VAR = re.compile(r"^(?:[zZ]_?[0-9]+)+$")  # z1z2, Z1, z_1, Z1z2, ...
_VAR_TOKEN = re.compile(r"[zZ]_?([0-9]+)")
# non-ASCII characters seen in papers and their ASCII forms
_UNICODE = {"\u00b7": "*", "\u22c5": "*", "\u2219": "*", "\u00d7": "*", "\u2217": "*",
            "\u2212": "-", "\u2013": "-", "\u03c0": "pi", "\u00b2": "**2", "\u00b3": "**3",
            "\u2070": "**0", "\u00b9": "**1", "\u00a0": " ", "\u2009": " ",
            "\u2080": "0", "\u2081": "1", "\u2082": "2", "\u2083": "3", "\u2084": "4",
            "\u2085": "5", "\u2086": "6", "\u2087": "7", "\u2088": "8", "\u2089": "9",
            "\u2011": "-", "\u2044": "/", "\u00f7": "/"}
_EXCERPT = 60
_MAX_LEN = 10_000
_MAX_INT = 10**12
_MAX_POWER = 64

ACCEPTED = (
    "accepted: variables z1, z2, ...; named real parameters (e.g. c, a, beta); numbers; "
    "+ - * / and integer powers (** or ^); He<k>(.), "
    + ", ".join(f"{name}(.)" if spec.arity == 1 else spec.doc for name, spec in FUNCTIONS.items())
    + "; constants pi and E"
)


def excerpt(text: str, limit: int = _EXCERPT) -> str:
    """A bounded quotation of (part of) a target for error messages."""
    text = str(text)
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _suggest_unicode(text: str) -> str | None:
    """The ASCII form of text with the characters of _UNICODE replaced, or None when some
    other non-ASCII character remains."""
    out = "".join(_UNICODE.get(ch, ch) for ch in text)
    return out if out.isascii() else None


def _check_ascii(text: str) -> None:
    bad = sorted({ch for ch in text if not ch.isascii()})
    if not bad:
        return
    named = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in bad[:5])
    suggestion = _suggest_unicode(text)
    if suggestion is not None:
        raise ValueError(f"non-ASCII character(s) {named} in the target: did you mean "
                         f"{excerpt(suggestion)}?")
    letters = [ch for ch in bad if ch.isalpha()]
    hint = (" (write parameters as ASCII names such as zeta or beta; the latent "
            "coordinates are z1, z2, ...)") if letters else ""
    raise ValueError(f"non-ASCII character(s) {named} in the target {excerpt(text)}{hint}; "
                     "targets are written in ASCII, e.g. 'pi*z1 + z1*z2'")


def _suggest_name(name: str) -> str:
    """The product of latent variables a name like 'z1z2' or 'Z1' was probably meant as."""
    return "*".join(f"z{m.group(1)}" for m in _VAR_TOKEN.finditer(name))


def latent(i: int) -> sp.Symbol:
    """The latent coordinate z_i (i >= 1) as a real SymPy symbol."""
    if i < 1:
        raise ValueError(f"latent coordinates are z1, z2, ...; got index {i}")
    return sp.Symbol(f"z{i}", real=True)


def parameter(name: str) -> sp.Symbol:
    """A named real parameter of a target."""
    return sp.Symbol(name, real=True)


class _Parser(ArithmeticParser):
    """Whitelist translation of a target's text into SymPy (escalier.derive.algebra's
    ArithmeticParser, with the target language's constants, names and functions)."""

    def fail(self, node: ast.AST | None, what: str) -> ValueError:
        segment = self.segment(node)
        where = "" if segment is None else f" in {excerpt(segment)}"
        return ValueError(f"{what}{where}; {ACCEPTED}")

    def suggest(self, node, what: str, name: str, replacement: str) -> ValueError:
        """An error suggesting the target with `name` replaced by `replacement`."""
        fixed = re.sub(rf"\b{re.escape(name)}\b", replacement, self.text)
        return ValueError(f"{what}: did you mean {excerpt(fixed)}?")

    def visit_Constant(self, node):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, int | float | complex):
            raise self.fail(node, f"unsupported constant {v!r}")
        if isinstance(v, complex):
            raise self.fail(node, f"complex constant {v!r} (targets are real functions)")
        if isinstance(v, int):
            if abs(v) > _MAX_INT:
                raise self.fail(node, f"integer constant {v} is too large (at most {_MAX_INT})")
            return sp.Integer(v)
        if v != v or v in (float("inf"), float("-inf")):
            raise self.fail(node, f"non-finite constant {v!r}")
        return sp.Float(v)

    def visit_Name(self, node):
        name = node.id
        m = _VAR.match(name)
        if m:
            i = int(m.group(1))
            if i < 1:
                raise self.fail(node, f"unknown variable {name!r} (latent coordinates start at z1)")
            return latent(i)
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        if name.lower() in _NONFINITE:
            raise self.fail(node, f"non-finite constant {name!r} (targets are finite functions)")
        if _LOOKS_LIKE_VAR.match(name):
            fixed = _suggest_name(name)
            what = (f"{name!r} looks like latent variables written together" if "*" in fixed
                    else f"{name!r} looks like the latent variable {fixed} (written z1, z2, ...)")
            raise self.suggest(node, what, name, fixed)
        if name.lower() == "pi":
            raise self.suggest(node, f"unknown constant {name!r}", name, "pi")
        m = re.match(r"^([zZ][0-9]+)([A-Za-z].*)?", name)
        if m:
            if m.group(2):
                raise self.suggest(node, f"{name!r} looks like a latent variable followed by "
                                   f"a name", name, f"{m.group(1).lower()}*{m.group(2)}")
            raise self.fail(node, f"unknown variable {name!r} (the latent coordinates are z1, "
                            f"z2, ...; a parameter may not start with z and a digit)")
        if name in ("I", "j", "i"):
            raise self.fail(node, f"complex unit {name!r} (targets are real functions)")
        if name == "e":
            raise self.fail(node, "ambiguous name 'e' (write E or exp(1) for Euler's number)")
        if name in FUNCTIONS or _HE.match(name):
            raise self.fail(node, f"function {name!r} used without arguments")
        if _RESERVED.match(name):
            raise self.fail(
                node, f"unknown variable {name!r} (the latent coordinates are z1, z2, ...)"
            )
        if not name.isidentifier() or name.startswith("_"):
            raise self.fail(node, f"invalid parameter name {name!r}")
        return parameter(name)

    def divide(self, node, left, right):
        if right == 0:
            raise self.fail(node, "division by zero")
        return left / right

    def power(self, node, left, right):
        if not (right.is_Integer):
            raise self.fail(node, f"non-integer power {right} (only integer powers are accepted)")
        if abs(int(right)) > _MAX_POWER:
            raise self.fail(node, f"power {right} is too large (at most {_MAX_POWER})")
        if left == 0 and right < 0:
            raise self.fail(node, "division by zero")
        return left**right

    def visit_Call(self, node):
        if not isinstance(node.func, ast.Name):
            raise self.fail(node, "only named functions may be called")
        if node.keywords:
            raise self.fail(node, "keyword arguments are not accepted")
        name = node.func.id
        m = _HE.match(name)
        if m:
            n = int(m.group(1))
            if n > MAX_HERMITE_DEGREE:
                raise self.fail(node, f"Hermite degree {n} is too large (at most {MAX_HERMITE_DEGREE})")
            if len(node.args) != 1:
                raise self.fail(node, f"{name} takes one argument")
            return hermite_he(n, self.visit(node.args[0]))
        spec = FUNCTIONS.get(name)
        if spec is None:
            raise self.fail(node, f"unknown function {name!r}")
        args = [self.visit(a) for a in node.args]
        if spec.arity == 0:
            if len(args) < 2:
                raise self.fail(node, f"{name} takes at least two arguments")
        elif len(args) != spec.arity:
            raise self.fail(node, f"{name} takes {spec.arity} argument(s), got {len(args)}")
        if name == "hermite":
            n = args[0]
            if not (n.is_Integer and 0 <= int(n) <= MAX_HERMITE_DEGREE):
                raise self.fail(
                    node,
                    f"hermite(k, x) needs an integer degree 0 <= k <= {MAX_HERMITE_DEGREE}, got {n}",
                )
        return spec.build(*args)


def _parse_text(text: str) -> sp.Expr:
    if not isinstance(text, str):
        raise ValueError(f"a target is a string or a SymPy expression, got {type(text).__name__}")
    if len(text) > _MAX_LEN:
        raise ValueError(f"target text is too long ({len(text)} > {_MAX_LEN} characters)")
    if not text.strip():
        raise ValueError(f"empty target; {ACCEPTED}")
    _check_ascii(text)
    source = text.strip().replace("^", "**")  # ^ as a power, with the precedence of **
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError) as err:
        raise ValueError(f"could not parse target {excerpt(text)}: "
                         f"{err.msg if hasattr(err, 'msg') else err}; {ACCEPTED}") from None
    return _Parser(source).visit(tree)


# --- square integrability under the Gaussian ---------------------------------------------


class _Unbounded(Exception):
    pass


def _growth(expr: sp.Expr, zs: tuple[sp.Symbol, ...]) -> sp.Matrix | None:
    """A symmetric matrix A with |f(z)| <= poly(z) exp(z^T A z), or None if f is bounded by a
    polynomial (A = 0). Raises _Unbounded with the offending sub-expression otherwise."""
    if not expr.free_symbols & set(zs):
        return None
    if expr.is_Add or expr.is_Mul or isinstance(expr, sp.Max | sp.Min):
        total = None
        for a in expr.args:
            g = _growth(a, zs)
            if g is None:
                continue
            if expr.is_Mul:
                total = g if total is None else total + g
            else:  # sums and max/min: the larger growth dominates, bound by the sum of PSD parts
                total = g if total is None else _psd_part(total) + _psd_part(g)
        return total
    if expr.is_Pow:
        base, ex = expr.args
        if ex.is_Integer and int(ex) >= 0:
            g = _growth(base, zs)
            return None if g is None else int(ex) * g
        if ex.is_Integer and int(ex) < 0:
            lower = _lower_bound(base, zs)
            if lower is None or lower <= 0:
                if isinstance(base, sp.exp):
                    return _growth(sp.exp(-base.args[0] * (-int(ex))), zs)
                raise _Unbounded(expr)
            return None
        if ex == sp.Rational(1, 2):  # sqrt
            g = _growth(base, zs)
            return None if g is None else g / 2
        raise _Unbounded(expr)
    if isinstance(expr, sp.exp):
        arg = sp.expand(expr.args[0])
        if not arg.is_polynomial(*zs):
            if _is_bounded(arg, zs) or _lower_bound(-arg, zs) is not None:
                return None  # arg bounded, or bounded above (exp(-|z1|)): exp(arg) is bounded
            raise _Unbounded(expr)
        poly = sp.Poly(arg, *zs)
        if poly.total_degree() <= 1:
            return None
        if all(m == (0,) * len(zs) or (all(e % 2 == 0 for e in m) and c.is_negative)
               for m, c in poly.terms()):
            return None  # arg <= its constant term: exp(arg) is bounded
        if poly.total_degree() > 2:
            raise _Unbounded(expr)
        hess = sp.hessian(arg, zs) / 2
        if hess.free_symbols:
            raise _Unbounded(expr)
        return hess
    if expr.func in (sp.sign, sp.tanh, sp.erf, sp.cos, sp.sin, sp.Heaviside):
        _growth(expr.args[0], zs)  # the argument itself must be acceptable
        return None
    if isinstance(expr, sp.Abs):
        return _growth(expr.args[0], zs)
    if expr.is_Symbol:
        return None
    raise _Unbounded(expr)


def _psd_part(a: sp.Matrix) -> sp.Matrix:
    """An upper bound in the PSD order of a symmetric matrix: its positive part."""
    vals = a.eigenvals()
    if all(v <= 0 for v in vals):
        return sp.zeros(*a.shape)
    return a


def _is_bounded(expr: sp.Expr, zs) -> bool:
    if not expr.free_symbols & set(zs):
        return True
    if expr.func in (sp.sign, sp.tanh, sp.erf, sp.cos, sp.sin, sp.Heaviside):
        return True
    if expr.is_Add or expr.is_Mul:
        return all(_is_bounded(a, zs) for a in expr.args)
    return False


def _lower_bound(expr: sp.Expr, zs) -> sp.Expr | None:
    """A constant c with expr >= c everywhere, or None if none is easily certified."""
    if not expr.free_symbols & set(zs):
        return expr if expr.is_real else None
    if isinstance(expr, sp.exp):
        return sp.Integer(0)
    if expr.is_Add:
        total = sp.Integer(0)
        for a in expr.args:
            lo = _lower_bound(a, zs)
            if lo is None:
                return None
            total += lo
        return total
    if expr.func in (sp.tanh, sp.erf, sp.cos, sp.sin, sp.sign):
        return sp.Integer(-1)
    if expr.is_Mul:
        c, rest = expr.as_coeff_Mul()
        if rest.func in (sp.tanh, sp.erf, sp.cos, sp.sin, sp.sign):
            return -abs(c)
        if c.is_positive and rest.is_nonnegative:
            return sp.Integer(0)
        if c.is_positive:
            lo = _lower_bound(rest, zs)
            return None if lo is None else c * lo
        return None
    if expr.is_nonnegative:
        return sp.Integer(0)
    return None


def _check_square_integrable(expr: sp.Expr, zs: tuple[sp.Symbol, ...]) -> None:
    try:
        a = _growth(expr, zs)
    except _Unbounded as err:
        raise ValueError(
            f"cannot certify that the target is square-integrable under the Gaussian: "
            f"{err.args[0]} grows too fast or is singular (accepted: polynomial growth, "
            f"exp of an at most quadratic form z^T A z with A < I/4, denominators bounded "
            f"away from zero such as 1 + z1**2)"
        ) from None
    if a is None:
        return
    # E[f^2] < inf needs 2 A < I / 2, i.e. I/4 - A positive definite.
    margin = sp.eye(a.shape[0]) / 4 - a
    if not all(v > 0 for v in margin.eigenvals()):
        raise ValueError(
            "the target is not square-integrable under the Gaussian: it grows like "
            f"exp(z^T A z) with A = {a.tolist()}, and E[f(z)^2] is finite only when A < I/4"
        )


# --- the Target ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A target y = f(z1, ..., zk) of z ~ N(0, I_k), checked when built.

    Attributes:
        expr: the SymPy expression, in the real symbols z1..zk and parameters.
        k: the number of latent coordinates (the largest index present, or given).
        text: the text it was parsed from, or its SymPy string form.
    """

    expr: sp.Expr
    k: int
    text: str = field(default="", compare=False)

    def __post_init__(self):
        expr = self.expr
        if not isinstance(expr, sp.Expr):
            raise ValueError(f"a target expression must be a SymPy expression, got {type(expr).__name__}")
        if self.k < 1:
            raise ValueError(f"a target needs at least one latent coordinate, got k = {self.k}")
        idx = _indices(expr)
        if idx and max(idx) > self.k:
            raise ValueError(f"target uses z{max(idx)} but k = {self.k}")
        bad = expr.atoms(sp.Symbol) - set(self.variables) - set(self.parameters)
        if bad:
            raise ValueError(f"unknown variable(s) {sorted(map(str, bad))}; {ACCEPTED}")
        if expr.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
            raise ValueError(f"target {excerpt(str(expr))} is not finite (division by zero or "
                             f"infinity)")
        if expr.has(sp.I) or any(a.is_real is False for a in expr.atoms(sp.Number)):
            raise ValueError(f"target {excerpt(str(expr))} has a complex constant (targets are "
                             f"real functions)")
        _check_square_integrable(expr, self.variables)
        if not self.text:
            object.__setattr__(self, "text", str(expr))

    # construction ----------------------------------------------------------------------

    @classmethod
    def parse(cls, text: str, k: int | None = None) -> Target:
        """Parse a target from text, e.g. ``"He3(z1) + c*z1*z2"``.

        Args:
            text: the expression (see the module docstring for the grammar).
            k: the number of latent coordinates; default the largest index present.

        Raises:
            ValueError: naming the offending part and what is accepted.
        """
        try:
            expr = _parse_text(text)
        except ValueError:
            raise
        except RecursionError:
            raise ValueError(f"target {excerpt(text)} is nested too deeply") from None
        except (TypeError, OverflowError, ZeroDivisionError, MemoryError, AttributeError) as err:
            raise ValueError(f"could not build target {excerpt(text)}: "
                             f"{str(err)[:200]}; {ACCEPTED}") from None
        return cls.from_sympy(expr, k=k, text=text.strip())

    @classmethod
    def from_sympy(cls, expr, k: int | None = None, text: str = "") -> Target:
        """Build a target from a SymPy expression in the real symbols z1..zk.

        Non-real symbols named z<i> are replaced by the real ones.
        """
        expr = sp.sympify(expr)
        reps = {s: latent(int(_VAR.match(s.name).group(1))) for s in expr.free_symbols
                if _VAR.match(s.name) and not s.is_real and int(_VAR.match(s.name).group(1)) >= 1}
        reps.update({s: parameter(s.name) for s in expr.free_symbols
                     if not _VAR.match(s.name) and not s.is_real})
        expr = expr.xreplace(reps)
        for s in expr.free_symbols:
            m = _VAR.match(s.name)
            if (m and int(m.group(1)) < 1) or (not m and _RESERVED.match(s.name)):
                raise ValueError(f"unknown variable {s.name!r} (the latent coordinates are z1, z2, ...)")
        idx = _indices(expr)
        if k is None:
            k = max(idx) if idx else 1
        return cls(expr=expr, k=int(k), text=text)

    # properties ------------------------------------------------------------------------

    @property
    def variables(self) -> tuple[sp.Symbol, ...]:
        """(z1, ..., zk)."""
        return tuple(latent(i) for i in range(1, self.k + 1))

    @property
    def parameters(self) -> tuple[sp.Symbol, ...]:
        """The named real parameters, sorted by name."""
        return tuple(sorted((s for s in self.expr.free_symbols if not _VAR.match(s.name)),
                            key=lambda s: s.name))

    @property
    def is_polynomial(self) -> bool:
        """Whether f is a polynomial in z (coefficients may involve parameters)."""
        return bool(self.expr.is_polynomial(*self.variables))

    def subs(self, values: dict) -> Target:
        """The target with parameters replaced by values ({name or symbol: value})."""
        reps = {parameter(str(key)) if not isinstance(key, sp.Symbol) else key: sp.sympify(v)
                for key, v in values.items()}
        return Target(self.expr.xreplace(reps), self.k)

    def rotate(self, rotation) -> Target:
        """f(R z) for an orthogonal k x k matrix R (exact when R is)."""
        r = sp.Matrix(rotation)
        if r.shape != (self.k, self.k):
            raise ValueError(f"rotation must be {self.k} x {self.k}, got {r.shape}")
        z = sp.Matrix(self.variables)
        rz = r * z
        return Target(self.expr.xreplace(dict(zip(self.variables, rz, strict=True))), self.k)

    def __call__(self, *z):
        """Evaluate numerically (floats in, float out); parameters must be substituted."""
        if len(z) != self.k:
            raise ValueError(f"target takes {self.k} coordinates, got {len(z)}")
        return float(self.expr.xreplace(dict(zip(self.variables, map(sp.Float, z), strict=True))))

    def __str__(self) -> str:
        return self.text


def _indices(expr: sp.Expr) -> list[int]:
    out = []
    for s in expr.free_symbols:
        m = _VAR.match(s.name)
        if m:
            out.append(int(m.group(1)))
    return out
