"""Sample exponents kappa = log n / log d of deep and shallow learners on a hierarchical target
(SIGHT / MIGHT, arXiv 2502.13961), derived from the Hermite structure of P and g*
(docs/depth.md).

What is implemented (the d -> oo staircase of each learner's test error):

* y's chaos in x. Write g*(sigma u) = sum_alpha gamma_alpha He_alpha(u) (sigma^2 = E h*^2) and
  q_j = j! p_j^2 / sigma^2 (a probability law on j >= 1). As D -> oo, He_alpha(h*/sigma) is
  dominated by products over |alpha| distinct first-level features, so its squared norm
  alpha! gamma_alpha^2 is spread over polynomial degrees of x as the law of
  S_m = J_1 + ... + J_m, m = |alpha|, J_i iid ~ q. The mass of y on degrees <= L is
  M(L) = sum_alpha alpha! gamma_alpha^2 Pr(S_|alpha| <= L).
* kernel (rotation-invariant kernel ridge, or polynomial of degree m0): with n = d^kappa,
  kappa not an integer, it learns the projection of y on polynomials of x of degree
  <= min(floor(kappa), m0) (Ghorbani, Mei, Misiakiewicz, Montanari arXiv 1904.12191;
  Mei, Misiakiewicz, Montanari arXiv 2101.10588): error E[y^2] - M(L).
* the first level: the degree-2 Hermite matrix E[y (x x^T - I)] = c W*^T diag(a*) W* with
  c = 2 p_2 gamma_1 / (sigma sqrt(D)) (SIGHT; one block per branch for MIGHT) has D
  eigenvalues of order D^(-1/2) above a noise bulk of order sqrt(d / n): a first layer
  trained by gradient steps recovers span(W*) at kappa = 1 + eps when p_2 != 0 and
  gamma_1 != 0 (arXiv 2502.13961, main theorem: n_1 = O~(d^(1 + eps))).
* two-layer network: kernel-like below 1 + eps; above it a kernel on the D = d^eps learned
  coordinates, learning their polynomials of degree L at kappa = L eps (n >> D^L):
  error E[y^2] - M(floor(kappa / eps)).
* three-layer network trained layer-wise: as the two-layer one until it recovers h*, a
  degree-deg(P) polynomial of the D coordinates, at kappa = l deg(P) eps (n >> D^deg(P);
  l = the smallest degree of g* that involves every branch, l = 1 in the theorem:
  n_2 = O~(d^(k eps))), then g* from O~(1) samples: error -> 0 at
  kappa* = max(1 + eps, l deg(P) eps). l > 1 is outside the theorem and marked unproved.

The predicted kappa of a learner (the one number per learner of the JSON) is the smallest
kappa at which its d -> oo test error vanishes (None: never at finite kappa, e.g. a shallow
learner and a non-polynomial g*); `first_drop` is where it first falls below Var(y).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp

from ..hermite import hermite_expansion
from ..targets import Hierarchical, Target

__all__ = ["LEARNERS", "DepthReport", "Level", "depth_exponents"]

LEARNERS = ("three_layer", "two_layer", "kernel")
PAPER = "arXiv 2502.13961"
KERNEL_REF = "arXiv 1904.12191, 2101.10588"
_TOL = 1e-10


@dataclass(frozen=True)
class Level:
    """One row of the report: a learner reaches a stage at kappa, after which its d -> oo
    test error is `error`."""

    learner: str
    stage: str
    kappa: float | None
    error: float | None
    reason: str
    reference: str
    proved: bool = True

    def to_json(self) -> dict:
        return {"learner": self.learner, "stage": self.stage, "kappa": self.kappa,
                "error": self.error, "reason": self.reason, "reference": self.reference,
                "proved": self.proved}


@dataclass(frozen=True)
class DepthReport:
    """The derived exponents of a hierarchical target (see the module docstring)."""

    target: Hierarchical
    gamma: dict = field(repr=False)            # alpha -> gamma_alpha (float)
    second_moment: float = 0.0                 # E[y^2] (d -> oo)
    mean: float = 0.0                          # E[y]
    max_degree: int = 8
    kernel_degree: int | None = None
    rows: tuple[Level, ...] = ()
    level: str = "vanishing test error as d -> oo (noiseless target)"
    q: dict = field(default_factory=dict, repr=False)

    # the law of the chaos degree --------------------------------------------------------

    def _sum_law(self, m: int) -> dict[int, float]:
        """The law of S_m = J_1 + ... + J_m, J_i iid ~ q (q_j = j! p_j^2 / sigma^2, the share
        of Var(h*) on Hermite degree j of P)."""
        return _sum_law(tuple(sorted(self.q.items())), m)

    def mass(self, L: int) -> float:
        """M(L): the squared norm of y's projection on polynomials of degree <= L (d -> oo)."""
        total = 0.0
        for alpha, g in self.gamma.items():
            m = sum(alpha)
            w = math.prod(math.factorial(a) for a in alpha) * g * g
            if m == 0:
                total += w
                continue
            total += w * sum(p for s, p in self._sum_law(m).items() if s <= L)
        return total

    @property
    def remainder(self) -> float:
        """E[y^2] minus the mass of the computed coefficients (degrees > max_degree of g*):
        counted as never learned by the shallow learners (exact when g* is a polynomial of
        degree <= max_degree, then 0)."""
        return max(self.second_moment - self.mass(10**6), 0.0)

    @property
    def trivial_error(self) -> float:
        """Var(y): the error of the constant predictor E[y]."""
        return self.second_moment - self.mean**2

    @property
    def info_exponent(self) -> int | None:
        """l: the smallest |alpha| such that every branch b has a non-zero gamma_alpha with
        alpha_b >= 1 and |alpha| <= l (1 when g* has a linear part in every h*_b)."""
        best = 0
        for b in range(self.target.branches):
            degs = [sum(a) for a, g in self.gamma.items() if a[b] >= 1 and abs(g) > _TOL]
            if not degs:
                return None
            best = max(best, min(degs))
        return best

    @property
    def first_level(self) -> float | None:
        """kappa of the recovery of span(W*): 1 + eps when p_2 != 0 and g* is linear in
        every branch at first order, else None (not covered)."""
        p2 = self.target.p_coefficients[2] if self.target.degree >= 2 else 0
        if p2 == 0 or self.info_exponent != 1:
            return None
        return 1.0 + float(self.target.eps)

    @property
    def second_level(self) -> float | None:
        """kappa of the recovery of h*: l deg(P) eps."""
        ell = self.info_exponent
        return None if ell is None else ell * self.target.degree * float(self.target.eps)

    @property
    def three_layer_threshold(self) -> float | None:
        k1, k2 = self.first_level, self.second_level
        return None if k1 is None or k2 is None else max(k1, k2)

    # the staircases ---------------------------------------------------------------------

    def _degree_learned(self, learner: str, kappa: float) -> int:
        eps = float(self.target.eps)
        L = math.floor(kappa + 1e-9)
        if learner == "kernel":
            return L if self.kernel_degree is None else min(L, self.kernel_degree)
        k1 = self.first_level
        if k1 is not None and kappa >= k1 - 1e-9:
            return max(L, math.floor(kappa / eps + 1e-9))
        return L

    def error(self, learner: str, kappa: float) -> float:
        """The d -> oo test error of `learner` at n = d^kappa (values at a threshold are the
        values just above it)."""
        if learner not in LEARNERS:
            raise ValueError(f"unknown learner {learner!r}; accepted: {', '.join(LEARNERS)}")
        if learner == "three_layer":
            k3 = self.three_layer_threshold
            if k3 is not None and kappa >= k3 - 1e-9:
                return 0.0
            learner = "two_layer"
        return max(self.second_moment - self.mass(self._degree_learned(learner, kappa)), 0.0)

    def candidates(self, kappa_max: float) -> list[float]:
        eps = Fraction(str(float(self.target.eps))).limit_denominator(10**6)
        out = {0.0}
        L = 1
        while float(L * eps) <= kappa_max + 1e-9:
            out.add(float(L * eps))
            L += 1
        out.update(float(m) for m in range(1, int(kappa_max) + 1))
        for k in (self.first_level, self.three_layer_threshold):
            if k is not None:
                out.add(round(k, 12))
        return sorted(x for x in out if x <= kappa_max + 1e-9)

    def steps(self, learner: str, kappa_max: float = 4.0) -> list[tuple[float, float]]:
        """[(kappa, error from kappa on)], starting at kappa = 0, one entry per drop."""
        out: list[tuple[float, float]] = []
        for k in self.candidates(kappa_max):
            e = self.error(learner, k)
            if not out or e < out[-1][1] - 1e-12:
                out.append((k, e))
        return out

    def first_drop(self, learner: str, kappa_max: float = 8.0) -> float | None:
        for k, e in self.steps(learner, kappa_max):
            if e < self.trivial_error - 1e-9 * max(self.trivial_error, 1):
                return k
        return None

    def predicted(self, learner: str, kappa_max: float = 32.0) -> float | None:
        """The smallest kappa at which the d -> oo error of `learner` vanishes, or None."""
        if learner == "three_layer":
            return self.three_layer_threshold
        if self.remainder > _TOL:
            return None
        for k, e in self.steps(learner, kappa_max):
            if e <= _TOL * max(self.second_moment, 1):
                return k
        return None

    # output -----------------------------------------------------------------------------

    def table(self) -> str:
        lines = [f"SIGHT/MIGHT target: P = {self.target.P.text}, g* = {self.target.g.text}, "
                 f"eps = {float(self.target.eps):g}, deg P = {self.target.degree}, "
                 f"branches = {self.target.branches}",
                 f"E[h*^2] = {self.target.h_variance}, E[y^2] = {self.second_moment:.6g}, "
                 f"Var(y) = {self.trivial_error:.6g} (d -> oo)",
                 f"predicted kappa ({self.level}): "
                 + ", ".join(f"{lr} = {_fmt(self.predicted(lr))}" for lr in LEARNERS),
                 "", f"{'learner':<12} {'stage':<44} {'kappa':>7} {'error':>9}  reason"]
        for r in self.rows:
            err = "" if r.error is None else f"{r.error:.4g}"
            mark = "" if r.proved else " [unproved]"
            lines.append(f"{r.learner:<12} {r.stage:<44} {_fmt(r.kappa):>7} {err:>9}  "
                         f"{r.reason} ({r.reference}){mark}")
        return "\n".join(lines)

    def to_json(self, kappa_max: float = 4.0) -> dict:
        return {
            "target": self.target.to_json(),
            "level": self.level,
            "predicted": {lr: self.predicted(lr) for lr in LEARNERS},
            "first_drop": {lr: self.first_drop(lr) for lr in LEARNERS},
            "first_level": self.first_level, "second_level": self.second_level,
            "info_exponent": self.info_exponent,
            "second_moment": self.second_moment, "trivial_error": self.trivial_error,
            "steps": {lr: [[k, e] for k, e in self.steps(lr, kappa_max)] for lr in LEARNERS},
            "gamma": {",".join(map(str, a)): g for a, g in sorted(self.gamma.items())},
            "rows": [r.to_json() for r in self.rows],
        }


@functools.lru_cache(maxsize=256)
def _sum_law(q: tuple[tuple[int, float], ...], m: int) -> dict[int, float]:
    law = {0: 1.0}
    for _ in range(m):
        nxt: dict[int, float] = {}
        for s, ps in law.items():
            for j, qj in q:
                nxt[s + j] = nxt.get(s + j, 0.0) + ps * qj
        law = nxt
    return law


def _fmt(k: float | None) -> str:
    return "never" if k is None else f"{k:g}"


def depth_exponents(target: Hierarchical, *, max_degree: int = 8,
                    kernel_degree: int | None = None) -> DepthReport:
    """The exponent report of a SIGHT / MIGHT target (module docstring).

    Args:
        target: escalier.derive.targets.sight(...) or might(...).
        max_degree: the largest total Hermite degree of g*(sigma u) computed.
        kernel_degree: restrict the kernel to polynomials of this degree (None: a generic
            rotation-invariant kernel, learning every degree in turn).
    """
    if max_degree < 1:
        raise ValueError(f"max_degree must be >= 1, got {max_degree}")
    gn = target.normalised_g()
    exp = hermite_expansion(gn, max_degree)
    gamma = {c.alpha: float(c.value) for c in exp.nonzero() if c.value is not None
             and abs(c.value) > _TOL}
    second = hermite_expansion(Target(sp.expand(gn.expr**2) if gn.is_polynomial
                                      else gn.expr**2, gn.k), 0)
    m2 = float(second[(0,) * gn.k].value)
    mean = gamma.get((0,) * gn.k, 0.0)
    var = float(target.h_variance)
    q = {j: math.factorial(j) * float(c) ** 2 / var
         for j, c in enumerate(target.p_coefficients) if j >= 1 and c != 0}
    rep = DepthReport(target, gamma, m2, mean, max_degree, kernel_degree, q=q)
    object.__setattr__(rep, "rows", _rows(rep))
    return rep


def _rows(rep: DepthReport) -> tuple[Level, ...]:
    t = rep.target
    deg = t.degree
    p = t.p_coefficients
    p2 = p[2] if deg >= 2 else sp.Integer(0)
    ell = rep.info_exponent
    lin = [g for a, g in rep.gamma.items() if sum(a) == 1]
    g1 = f"gamma_1 = {lin[0]:.4g}" if len(lin) == 1 else f"{len(lin)} linear coefficients"
    rows: list[Level] = []
    k1, k2, k3 = rep.first_level, rep.second_level, rep.three_layer_threshold
    if k1 is not None:
        why = (f"p_2 = {p2} != 0 and {g1} != 0: E[y (x x^T - I)] has D = d^eps eigenvalues "
               f"~ D^(-1/2) over a bulk ~ sqrt(d/n)")
        rows.append(Level("three_layer", "level 1: span(W*) by the first layer", k1,
                          rep.error("three_layer", k1), why, PAPER + ", n_1 = O~(d^(1+eps))"))
    else:
        why = ("p_2 = 0" if p2 == 0 else "g* has no linear part in some branch") + \
            ": the degree-2 Hermite matrix of y is blind to W*; outside the theorem"
        rows.append(Level("three_layer", "level 1: span(W*) by the first layer", None, None,
                          why, PAPER, proved=False))
    if k2 is not None:
        why = (f"h* is a degree-{deg} polynomial of the D learned coordinates, reached through "
               f"the degree-{ell} part of g* in h*: n >> D^{ell * deg} = d^({ell}*{deg}*eps)")
        rows.append(Level("three_layer", "level 2: h* by the second layer", k2, None, why,
                          PAPER + ", n_2 = O~(d^(k eps))", proved=ell == 1))
    if k3 is not None:
        rows.append(Level("three_layer", "level 3: g*(h*) by the readout", k3, 0.0,
                          "a function of the learned scalar h*: O~(1) more samples",
                          PAPER + ", n_3 = O~(1)", proved=ell == 1))
    for learner, where in (("two_layer", "of the D learned coordinates"),
                           ("kernel", "of x")):
        for k, e in rep.steps(learner, max(4.0, (k3 or 0) + 1)):
            if k == 0:
                rows.append(Level(learner, "start: the mean of y", 0.0, e,
                                  "Var(y)", "-"))
                continue
            L = rep._degree_learned(learner, k)
            if learner == "two_layer" and k1 is not None and abs(k - k1) < 1e-9:
                stage = f"span(W*) learned; degree <= {L} {where}"
            else:
                stage = f"polynomials of degree <= {L} {where}"
            unit = "D^L = d^(L eps)" if (learner == "two_layer" and k1 is not None
                                         and k >= k1 - 1e-9) else "d^L"
            rows.append(Level(learner, stage, k, e,
                              f"n >> {unit}; mass of y on degrees <= {L} learned",
                              PAPER if learner == "two_layer" else KERNEL_REF,
                              proved=learner == "kernel"))
        if rep.predicted(learner) is None:
            rows.append(Level(learner, "vanishing error", None, None,
                              "g* has Hermite mass on every degree (or beyond max_degree): "
                              "never at finite kappa" if rep.remainder > _TOL else
                              "beyond the kappa range scanned",
                              PAPER))
    return tuple(rows)
