"""A training scenario: teacher, student, loss and protocol, defined once.

The same Scenario feeds the symbolic ODE system (derive) and both simulators of the real
network (numerics), so the analytic object and its microscopic twin cannot drift apart.

Conventions (docs/theory.md §1.2 and §4), with the update written out:

    x ~ N(0, I_d),  lambda_j = w_j . x / sqrt(d),  nu_r = w*_r . x / sqrt(d)
    y = f(nu) + sqrt(noise) * xi,  yhat = sum_j a_j sigma(lambda_j)
    Delta_e = y - yhat (square loss), y (correlation loss) or y exp(-y yhat) (exponential
    loss exp(-y yhat), as in margin-based classification; simulation only: the ODE
    derivation refuses it)
    w_j <- w_j + (lr / n_b) sum_mu a_j Delta_e^mu sigma'(lambda_j^mu) x^mu / sqrt(d)
    a_j <- a_j + (lr_a / (n_b d)) sum_mu Delta_e^mu sigma(lambda_j^mu)     (train_second_layer)
    spherical: w_j <- sqrt(d) w_j / ||w_j|| after each step, for every row (||w_j||^2 = d,
    Q_jj = 1); tangent (spherical only): the step of w_j is first projected on the sphere's
    tangent space at w_j, Delta w_j <- Delta w_j - (Delta w_j . w_j / d) w_j, then the row
    is renormalised (docs/theory.md §4.9)
    time t = steps / d

This is plain SGD with learning rate `lr` on the per-sample loss as a function of w_j
(whose gradient carries the 1/sqrt(d) of lambda_j), which gives dM/dt = lr E[...] as in
docs/theory.md §4.2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields

import sympy as sp

from .targets import FUNCTIONS, Target, hermite_he

__all__ = ["ACTIVATIONS", "Scenario", "activation"]

_X = sp.Symbol("x", real=True)

ACTIVATIONS: dict[str, sp.Expr] = {
    "erf": sp.erf(_X / sp.sqrt(2)),  # Saad & Solla's g(x) = erf(x / sqrt 2)
    "relu": sp.Max(_X, 0),
    "tanh": sp.tanh(_X),
    "sigmoid": 1 / (1 + sp.exp(-_X)),
    "linear": _X,
    "quadratic": _X**2,
    "abs": sp.Abs(_X),
    **{f"He{k}": hermite_he(k, _X) for k in range(1, 7)},
}
"""Named student activations, as expressions in the real symbol x."""


def activation(spec: str | sp.Expr) -> sp.Lambda:
    """A univariate activation as a SymPy Lambda in x.

    Args:
        spec: a name from ACTIVATIONS ("erf" is erf(x / sqrt 2)), or an expression in x
            in the target language, e.g. "x**2 + tanh(x)".

    Raises:
        ValueError: unknown name or an expression that is not a function of x alone.
    """
    if isinstance(spec, sp.Lambda):
        return spec
    if isinstance(spec, sp.Expr):
        expr = spec
        extra = expr.free_symbols - {_X}
        if extra:
            raise ValueError(f"an activation is a function of x alone, got symbols {extra}")
        return sp.Lambda(_X, expr)
    if not isinstance(spec, str):
        raise ValueError(f"an activation is a name or an expression in x, got {spec!r}")
    if spec in ACTIVATIONS:
        return sp.Lambda(_X, ACTIVATIONS[spec])
    if not re.search(r"\bx\b", spec):
        raise ValueError(
            f"unknown activation {spec!r}; accepted: {sorted(ACTIVATIONS)} or an expression "
            f"in x such as 'x**2 + tanh(x)' (functions: {sorted(FUNCTIONS)})"
        )
    if re.search(r"\bz[0-9]+\b", spec):
        raise ValueError(f"an activation is a function of x alone, got {spec!r}")
    target = Target.parse(re.sub(r"\bx\b", "z1", spec), k=1)
    if target.parameters:
        raise ValueError(f"an activation may not have free parameters, got {target.parameters}")
    return sp.Lambda(_X, target.expr.xreplace({target.variables[0]: _X}))


LOSSES = ("square", "correlation", "exponential")


@dataclass(frozen=True)
class Scenario:
    """Teacher, student and protocol of online SGD on a two-layer network (see module doc).

    Attributes:
        target: the teacher f(z1..zk).
        student: the student activation (name or expression in x).
        p: number of student hidden units.
        lr: first-layer learning rate eta.
        loss: "square", "correlation" or "exponential".
        batch: mini-batch size n_b (samples averaged per step).
        noise: label-noise variance Delta.
        a: second-layer weights (fixed, or initial when trained); default all ones.
        train_second_layer: whether a is trained (with learning rate lr_a, step lr_a / d).
        lr_a: second-layer learning rate (default lr).
        spherical: project every row w_j onto the sphere ||w_j||^2 = d after each step.
        tangent: (spherical only) project each row's step on the tangent space of the sphere
            at w_j before the renormalisation (Riemannian SGD); default: plain step, then
            renormalise.
        P: teacher overlap matrix W* W*^T / d (default identity).
        init_scale: student rows drawn w_j ~ N(0, init_scale^2 I_d).
        symbolic_parameters: allow free parameters in the target (kept symbolic, e.g. by
            ode_system); such a Scenario describes equations, it cannot be simulated.
    """

    target: Target
    # metadata: "help" (one line) and "kind" (how a command line reads it: text, int>=1,
    # positive, nonnegative, choice, flag); fields without "kind" are set from Python only
    student: str = field(default="erf", metadata={
        "kind": "text", "help": "student activation: a name (erf = erf(x/sqrt2), relu, tanh, "
                                "He3, ...) or an expression in x"})
    p: int = field(default=2, metadata={"kind": "int>=1", "help": "student hidden units"})
    lr: float = field(default=1.0, metadata={
        "kind": "positive", "help": "first-layer learning rate eta"})
    loss: str = field(default="square", metadata={
        "kind": "choice", "choices": LOSSES, "help": "per-sample loss"})
    batch: int = field(default=1, metadata={"kind": "int>=1", "help": "mini-batch size n_b"})
    noise: float = field(default=0.0, metadata={
        "kind": "nonnegative", "help": "label-noise variance Delta"})
    a: tuple[float, ...] | None = None
    train_second_layer: bool = field(default=False, metadata={
        "kind": "flag", "help": "train the second layer too (step lr_a / d)"})
    lr_a: float | None = None
    spherical: bool = field(default=False, metadata={
        "kind": "flag", "help": "every student row on the sphere ||w_j||^2 = d (renormalised "
                                "after each step)"})
    tangent: bool = field(default=False, metadata={
        "kind": "flag", "help": "spherical: project each step on the sphere's tangent space "
                                "before renormalising"})
    P: tuple[tuple[float, ...], ...] | None = None
    init_scale: float = field(default=1.0, metadata={
        "kind": "positive", "help": "student rows w_j ~ N(0, s^2 I_d) at the start"})
    symbolic_parameters: bool = False
    sigma: sp.Lambda = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        target = self.target
        if isinstance(target, str):
            target = Target.parse(target)
            object.__setattr__(self, "target", target)
        if not isinstance(target, Target):
            raise ValueError(f"target must be a Target or a string, got {type(target).__name__}")
        object.__setattr__(self, "sigma", activation(self.student))
        if not (isinstance(self.p, int) and self.p >= 1):
            raise ValueError(f"p (student hidden units) must be an integer >= 1, got {self.p!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; accepted: {LOSSES}")
        if not (isinstance(self.batch, int) and self.batch >= 1):
            raise ValueError(f"batch must be an integer >= 1, got {self.batch!r}")
        if self.noise < 0:
            raise ValueError(f"noise (label-noise variance) must be >= 0, got {self.noise}")
        a = (1.0,) * self.p if self.a is None else tuple(float(v) for v in self.a)
        if len(a) != self.p:
            raise ValueError(f"a must have p = {self.p} entries, got {len(a)}")
        object.__setattr__(self, "a", a)
        if self.lr_a is None:
            object.__setattr__(self, "lr_a", float(self.lr))
        if self.tangent and not self.spherical:
            raise ValueError("tangent (projected steps) needs spherical=True")
        k = target.k
        if self.P is None:
            P = tuple(tuple(1.0 if i == j else 0.0 for j in range(k)) for i in range(k))
        else:
            P = tuple(tuple(float(v) for v in row) for row in self.P)
            if len(P) != k or any(len(row) != k for row in P):
                raise ValueError(f"P must be {k} x {k} for a target of k = {k} coordinates")
        object.__setattr__(self, "P", P)
        if target.parameters and not self.symbolic_parameters:
            names = [str(s) for s in target.parameters]
            raise ValueError(
                f"the target has free parameters {names} (names other than z1, z2, ..., pi "
                f"and E): give them values to train on it "
                f"({' '.join(f'--set {n}=VALUE' for n in names)} on the command line, "
                f"Target.subs in Python)"
            )
        if not self.init_scale > 0:
            raise ValueError(f"init_scale must be > 0, got {self.init_scale}")

    @property
    def k(self) -> int:
        """Number of teacher directions."""
        return self.target.k

    def teacher_factor(self):
        """A k x k matrix L with L L^T = P: the symmetric PSD square root, so that a singular
        P (a teacher with coinciding directions) is allowed. Every initial-state sampler
        builds W* = sqrt(d) L O (O with orthonormal rows) from it.

        Raises:
            ValueError: P not symmetric or not positive semi-definite.
        """
        import numpy as np

        P = np.asarray(self.P, dtype=np.float64)
        if not np.allclose(P, P.T, rtol=0, atol=1e-12):
            raise ValueError(f"P (teacher overlaps) must be symmetric, got {P.tolist()}")
        evals, evecs = np.linalg.eigh(P)
        if evals.min() < -1e-12 * max(1.0, float(np.abs(evals).max())):
            raise ValueError(f"P (teacher overlaps) must be positive semi-definite, got "
                             f"eigenvalues {evals.tolist()}")
        return (evecs * np.sqrt(np.clip(evals, 0.0, None))) @ evecs.T

    @classmethod
    def command_line_options(cls) -> dict:
        """{name: field metadata} of the options a command line sets (see the fields)."""
        return {f.name: dict(f.metadata) for f in fields(cls) if "kind" in f.metadata}

    @classmethod
    def options(cls) -> dict:
        """The Scenario's options (every field but the target) with their defaults: the one
        list that ode_system, the command line and the JSON read."""
        return {f.name: f.default for f in fields(cls) if f.init and f.name != "target"}

    def to_json(self) -> dict:
        """A JSON-ready description; Scenario.from_json(s.to_json()) == s."""
        out = {"target": str(self.target.expr), "k": self.k}
        for name in self.options():
            value = getattr(self, name)
            if isinstance(value, tuple):
                value = [list(v) if isinstance(v, tuple) else v for v in value]
            out[name] = str(value) if isinstance(value, sp.Basic) else value
        return out

    @classmethod
    def from_json(cls, data: dict) -> Scenario:
        """The Scenario a to_json dictionary describes (ValueError on unknown keys)."""
        data = dict(data)
        unknown = set(data) - {"target", "k", *cls.options()}
        if unknown:
            raise ValueError(f"unknown Scenario keys {sorted(unknown)}; accepted: "
                             f"{['target', *cls.options()]}")
        k = data.pop("k", None)
        target = Target.parse(data.pop("target"), k=k)
        for name in ("a", "P"):
            if data.get(name) is not None:
                data[name] = tuple(tuple(v) if isinstance(v, list) else v for v in data[name])
        return cls(target, **data)
