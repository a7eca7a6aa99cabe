"""OdeSystem: the overlap ODEs of one scenario as SymPy, with printers and initial states."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from .._scenario import Scenario

__all__ = ["OdeSystem"]


@dataclass(frozen=True)
class OdeSystem:
    """dy/dt = rhs(y; parameters) for the overlaps y of online SGD (see ode_system).

    Attributes:
        scenario: the Scenario it was derived from (teacher, student, protocol).
        state: state symbols: Q_jl (j <= l), M_jr, then a_j when the second layer trains
            (spherical: Q_jl for j < l and M_jr, Q_jj = 1).
        rhs: one SymPy expression per state symbol.
        risk: population risk E[(f - yhat)^2] / 2 as a function of the state.
        parameters: eta, n_b, then Delta (label noise), eta_a or the fixed a_j, P_rs.
        defaults: (parameter, value) pairs from the scenario.
        backend: least exact expectation backend used: "wick", "closed-form" or "numeric".
        symbolic_P: whether the teacher overlaps P are parameters.
        kind: "ode" (rhs = dy/dt) or "map" (rhs = the expected change of y in one SGD
            step at finite d, a parameter; see escalier.derive.ode.overlap_map).
    """

    scenario: Scenario
    state: tuple[sp.Symbol, ...]
    rhs: tuple[sp.Expr, ...]
    risk: sp.Expr
    parameters: tuple[sp.Symbol, ...]
    defaults: tuple[tuple[sp.Symbol, float], ...]
    backend: str
    symbolic_P: bool = False
    kind: str = "ode"

    def __post_init__(self):
        if self.kind not in ("ode", "map"):
            raise ValueError(f"kind must be 'ode' or 'map', got {self.kind!r}")
        if len(self.state) != len(self.rhs):
            raise ValueError(f"{len(self.state)} state symbols but {len(self.rhs)} equations")
        extra = set().union(*(e.free_symbols for e in (*self.rhs, self.risk))) - set(
            self.state) - set(self.parameters)
        if extra:
            raise ValueError(f"equations use symbols that are neither state nor parameters: "
                             f"{sorted(map(str, extra))}")

    # --- access --------------------------------------------------------------------------

    @property
    def equations(self) -> dict[sp.Symbol, sp.Expr]:
        """state symbol -> its time derivative."""
        return dict(zip(self.state, self.rhs, strict=True))

    @property
    def default_args(self) -> dict[str, float]:
        """Parameter name -> default value (the `args` of the emitted rhs)."""
        return {s.name: v for s, v in self.defaults}

    def _values(self, y, args) -> dict:
        y = np.asarray(y, dtype=float).ravel()
        if y.shape != (len(self.state),):
            raise ValueError(f"y must have {len(self.state)} entries "
                             f"({', '.join(s.name for s in self.state)}), got {y.shape}")
        values = {**self.default_args, **(args or {})}
        unknown = set(values) - {s.name for s in self.parameters}
        if unknown:
            raise ValueError(f"unknown parameters {sorted(unknown)}; accepted: "
                             f"{[s.name for s in self.parameters]}")
        missing = [s.name for s in self.parameters if s.name not in values]
        if missing:
            raise ValueError(f"parameters {missing} have no default value: pass them in args")
        reps = {s: sp.Float(v) for s, v in zip(self.state, y, strict=True)}
        reps.update({s: sp.Float(values[s.name]) for s in self.parameters})
        return reps

    def evaluate(self, y, args: dict | None = None) -> np.ndarray:
        """The right-hand side at state y as floats, through SymPy (slow; for checks)."""
        reps = self._values(y, args)
        return np.array([float(e.xreplace(reps).evalf(17)) for e in self.rhs])

    def evaluate_risk(self, y, args: dict | None = None) -> float:
        """The population risk at state y, through SymPy."""
        return float(self.risk.xreplace(self._values(y, args)).evalf(17))

    # --- printers ------------------------------------------------------------------------

    def latex(self) -> str:
        """The system as a LaTeX `aligned` block (one line per equation, then the risk)."""
        left = (r"\mathbb{{E}}\,\Delta {}" if self.kind == "map" else r"\frac{{d {}}}{{dt}}")
        lines = [left.format(sp.latex(s)) + f" &= {sp.latex(e)}"
                 for s, e in zip(self.state, self.rhs, strict=True)]
        lines.append(rf"R &= {sp.latex(self.risk)}")
        return "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$$" + self.latex() + "$$"

    def to_sympy(self) -> str:
        """The system as plain text: `d<state>/dt = <expr>` lines, then `R = <risk>`."""
        left = "E[Delta {}]" if self.kind == "map" else "d{}/dt"
        lines = [f"{left.format(s)} = {e}" for s, e in zip(self.state, self.rhs, strict=True)]
        return "\n".join([*lines, f"R = {self.risk}"])

    # --- initial conditions ----------------------------------------------------------------

    def initial_state(self, W, W_star) -> np.ndarray:
        """The state of given weights, in `state` order: Q = W W^T / d, M = W W*^T / d (the
        rows of W renormalised to ||w||^2 = d when spherical), then a from the scenario.

        A random start has one sampler, `escalier.numerics.simulation.initial_weights(scenario,
        d, key)` (w_j ~ N(0, init_scale^2 I_d), W* = sqrt(d) Scenario.teacher_factor() O):
        pass the weights it returns.

        Args:
            W: student weights (p x d).
            W_star: teacher weights (k x d).

        Raises:
            ValueError: weights of the wrong shapes.
        """
        sc = self.scenario
        p, k = sc.p, sc.k
        W = np.asarray(W, dtype=float)
        W_star = np.asarray(W_star, dtype=float)
        if W.ndim != 2 or W.shape[0] != p or W_star.shape != (k, W.shape[1]):
            raise ValueError(f"W must be {p} x d and W_star {k} x d, got {W.shape}, "
                             f"{W_star.shape}")
        d = W.shape[1]
        if sc.spherical:
            W = W * np.sqrt(d) / np.linalg.norm(W, axis=1, keepdims=True)
        Q, M = W @ W.T / d, W @ W_star.T / d
        if sc.spherical:
            y = [Q[j, m] for j in range(p) for m in range(j + 1, p)] + list(M.ravel())
        else:
            y = [Q[j, m] for j in range(p) for m in range(j, p)] + list(M.ravel())
        if sc.train_second_layer:
            y += list(sc.a)
        return np.array(y, dtype=float)

    # --- the Hermite form ------------------------------------------------------------------

    def hermite_form(self, max_degree: int = 12):
        """dm/dt as a power series in m (spherical single-index only); see HermiteForm."""
        from ._hermite_form import hermite_form

        return hermite_form(self, max_degree)
