"""Sample complexity of a single-index target: the law the information exponent predicts,
the learning rate it prescribes, and escape times measured on trajectories.

Online SGD on a single-index target whose student correlation starts at order k = l
(l = min{k >= 1 : c_k(f) c_k(sigma) != 0}; Ben Arous, Gheissari, Jagannath, JMLR 2021,
arXiv 2003.10409) escapes the equator m ~ d^{-1/2} after

    steps ~ d           (l = 1),  ~ d log d  (l = 2),  ~ d^{l-1}  (l >= 3),

with a learning rate lr = lr0 (l <= 2) and lr = lr0 d^{-(l-2)/2} (l >= 3): with
dm/dt = lr c m^{l-1} - O(lr^2) m (docs/theory.md §4.6 and §7.2), the drift beats the noise term at
m ~ d^{-1/2} only when lr << d^{-(l-2)/2}, and then t ~ d^{(l-2)/2} / lr = d^{l-2}.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._fit import fit_exponent

__all__ = ["ScalingLaw", "escape_times", "information_exponent", "scaling_law"]


@dataclass(frozen=True)
class ScalingLaw:
    """The predicted number of SGD steps to escape, for information exponent l.

    Attributes:
        l: the (student-compatible) information exponent, >= 1.
    """

    l: int

    def __post_init__(self):
        if not (isinstance(self.l, int) and self.l >= 1):
            raise ValueError(f"the information exponent must be an integer >= 1, got {self.l!r}")

    @property
    def law(self) -> str:
        """The law in words: "d", "d log d" or "d^(l-1)" (escalier.derive.online_cost)."""
        from escalier.derive import online_cost

        return online_cost(self.l)

    @property
    def lr_rule(self) -> str:
        """The learning-rate rule in words."""
        return "lr" if self.l <= 2 else f"lr * d^(-{self.l - 2}/2)"

    def steps(self, d) -> np.ndarray:
        """The predicted steps up to a constant factor."""
        d = np.asarray(d, dtype=float)
        if self.l == 1:
            return d
        if self.l == 2:
            return d * np.log(d)
        return d ** (self.l - 1)

    def lr(self, lr0: float, d: int) -> float:
        """The prescribed learning rate at dimension d."""
        return float(lr0) if self.l <= 2 else float(lr0) * d ** (-(self.l - 2) / 2)

    def exponent(self, ds) -> float:
        """The log-log slope of the predicted law over the given d (1 + ~1/log d for d log d)."""
        ds = np.asarray(ds, dtype=float)
        if ds.size < 2:
            return float(self.l - 1 if self.l >= 3 else 1)
        return fit_exponent(ds, self.steps(ds)).exponent

    def threshold_exponent(self, ds, threshold: float, k: int = 1) -> float:
        """d log d at a threshold: the log-log slope over ds of d ln(threshold sqrt(d / k)).

        For l = 2 the overlap grows like m0 exp(c t) from the start's scale m0 = sqrt(k / d)
        (k teacher directions), so it reaches the threshold after t = ln(threshold / m0) / c,
        i.e. d ln(threshold sqrt(d / k)) / c samples: the d log d law with the offset a
        fixed threshold puts on it (its slope falls to 1 + 1/ln d only as d -> infinity).
        nan for l != 2, for fewer than two d, or where threshold sqrt(d / k) <= 1 (the start
        is already at the threshold)."""
        ds = np.asarray(ds, dtype=float)
        x = threshold * np.sqrt(ds / k)
        if self.l != 2 or ds.size < 2 or not np.all(x > 1):
            return math.nan
        return fit_exponent(ds, ds * np.log(x)).exponent


def scaling_law(l: int) -> ScalingLaw:
    """ScalingLaw for information exponent l (see the module docstring)."""
    return ScalingLaw(l)


def information_exponent(target, student, max_degree: int = 8, tol: float = 1e-10) -> int:
    """The student-compatible information exponent of a target, for one neuron.

        l = min{n >= 1 : C_n(f) != 0 and c_n(sigma) != 0},   c_n = E[sigma He_n] / n!

    with C_n(f) the degree-n Hermite tensor of the target (for k = 1, c_n(f); docs/theory.md
    §3.1, student compatibility): one neuron w correlates with the target at degree n through
    c_n(sigma) n! <C_n, u^{(x) n}> (u the unit projection of w on the teacher subspace), and a
    non-zero symmetric tensor has a u with <C_n, u^{(x) n}> != 0. Uses
    escalier.derive.hermite_expansion.

    Args:
        target: a Target or its text.
        student: activation name or expression in x (see escalier.derive.activation).
        max_degree: largest degree searched.

    Raises:
        ValueError: no compatible degree up to max_degree.
    """
    from escalier.derive import Target, hermite_expansion, student_order

    t = Target.parse(target) if isinstance(target, str) else target
    ef = hermite_expansion(t, max_degree)
    orders = sorted({c.degree for c in ef.nonzero() if c.degree >= 1 and abs(
        c.value if c.value is not None else float(c.exact)) > tol})
    k, _ = student_order(student, orders, max_degree)
    if k is not None:
        return k
    raise ValueError(
        f"no degree n <= {max_degree} with C_n(target) != 0 and c_n(student) != 0: this "
        f"student cannot learn {t.text or t.expr} by correlation (try a student sharing its "
        f"Hermite degrees, e.g. He{orders[0] if orders else 1})"
    )


def escape_times(times, overlap, threshold: float = 0.5, P=None) -> np.ndarray:
    """First record time at which the escape measure reaches `threshold`, per run (nan if
    never).

    The measure is the one of the gram engine's event stop (EscapeThreshold):
    |M_1.|_P = sqrt(M_1. P^+ M_1.^T), the norm of the neuron's projection on the teacher
    subspace (escalier.numerics.simulation.teacher_projection); |m| for one teacher row.

    Args:
        times: (T,) record times.
        overlap: (S, T) single-index overlaps m (e.g. M[:, :, 0, 0]), or (S, T, k) the first
            student row's overlaps with the k teacher rows (M[:, :, 0, :]).
        threshold: the level (> 0).
        P: the teacher overlaps W* W*^T / d (k x k; None: the identity).

    Returns:
        (S,) escape times; their resolution is the record spacing.
    """
    from escalier.numerics.simulation import subspace_metric, teacher_projection

    times, overlap = np.asarray(times, dtype=float), np.asarray(overlap, dtype=float)
    if overlap.ndim == 2:
        overlap = overlap[..., None]
    if overlap.ndim != 3 or overlap.shape[1] != times.shape[0]:
        raise ValueError(f"overlap must be (S, {times.shape[0]}) or (S, {times.shape[0]}, k), "
                         f"got {overlap.shape}")
    if not threshold > 0:
        raise ValueError(f"threshold must be > 0, got {threshold}")
    metric = subspace_metric(np.eye(overlap.shape[2]) if P is None else P)
    if metric.shape[0] != overlap.shape[2]:
        raise ValueError(f"P must be {overlap.shape[2]} x {overlap.shape[2]} for overlaps with "
                         f"{overlap.shape[2]} teacher rows, got {metric.shape}")
    hit = teacher_projection(overlap, metric) >= threshold
    first = np.argmax(hit, axis=1)
    return np.where(hit.any(axis=1), times[first], math.nan)
