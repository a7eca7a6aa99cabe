"""The exponents report: what each training protocol learns about a target, at what cost.

`exponents(target)` gathers (docs/theory.md §3, the specification):

1. the information exponent IE = min{k : C_k != 0} and its student-aware variant
   min{k : C_k(f) c_k(sigma) != 0};
2. the online staircase (subspace recursion), its leap and costs d^max(k_t - 1, 1);
3. one giant GD step: U*_l = sum_{k <= l} Im C_k, the smallest l learning every relevant
   direction, and the few-step staircases with fresh batches of n = d^l;
4. the generalised staircase under batch reuse, the generative exponent (largest conditional
   order met) and the reuse class "O(d)", "O(d log d)" or "hard";
5. the AMP classes (trivial, easy, hard subspaces) and alpha_c (numerical, labelled so).

Every "vanishes" carries a certificate (exact zero, symmetry) or says "not found up to ...";
`exact` tells which values are proved exactly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ._budget import stage
from ._scenario import activation
from .algebra import MAX_EXACT_SIZE, MAX_FIELD_DEGREE, ExactTooLarge, Subspace
from .hermite import hermite_expansion
from .protocols import PROTOCOLS, Analysis, Context, ProtocolResult
from .protocols.amp import AmpReport
from .targets import Target, latent

__all__ = ["AmpReport", "ExponentReport", "exponents", "student_order"]


@dataclass(frozen=True)
class ExponentReport:
    """Immutable report of exponents and staircases for one target (see `exponents`).

    `protocols` maps each protocol's registry name to its ProtocolResult (staircase,
    exponent, proof status, cost); the named properties (leap, online, reuse_steps, amp, ...)
    read the built-in protocols' entries.
    """

    target: Target
    student: str | None
    information_exponent: int | None
    student_information_exponent: int | None
    relevant: Subspace
    protocols: Mapping[str, ProtocolResult]
    exact: Mapping[str, bool]
    max_degree: int
    max_power: int
    notes: tuple[str, ...] = field(default=())

    def generative_bound(self) -> dict:
        """The generative exponent as what is proved about it: {"proved", "relation",
        "value", "reuse", "text"} (see escalier.derive.protocols.reuse.generative_bound)."""
        return dict(self._get("reuse").data["bound"])

    def _get(self, name: str) -> ProtocolResult:
        if name not in self.protocols:
            raise AttributeError(f"protocol {name!r} was not analysed in this report")
        return self.protocols[name]

    # the built-in protocols' entries, by name
    leap = property(lambda self: self._get("online").exponent)
    online = property(lambda self: self._get("online").steps)
    online_note = property(lambda self: self._get("online").note)
    giant_step_exponent = property(lambda self: self._get("giant_step").exponent)
    giant_step_subspaces = property(lambda self: self._get("giant_step").data["subspaces"])
    few_step_exponent = property(lambda self: self._get("few_steps").exponent)
    few_steps = property(lambda self: MappingProxyType(self._get("few_steps").data["chains"]))
    generative_exponent = property(lambda self: self._get("reuse").exponent)
    reuse = property(lambda self: self._get("reuse").data["class"])
    reuse_steps = property(lambda self: self._get("reuse").steps)
    reuse_note = property(lambda self: self._get("reuse").note)
    amp = property(lambda self: self._get("amp").data["report"])

    def _repr_html_(self) -> str:
        from ._display import html_table

        rows = [["information exponent", self.information_exponent,
                 self.exact.get("information_exponent"), ""]]
        if self.student is not None:  # as the command line's table
            rows.append([f"student-aware IE ({self.student})",
                         "none" if self.student_information_exponent is None
                         else self.student_information_exponent,
                         self.exact.get("student_information_exponent"), ""])
        for res in self.protocols.values():
            for label, value, proved in res.rows:
                # a row whose text carries its own proof status (a bound) takes the
                # protocol's flag here: the column must not show None
                rows.append([label, value, res.proved if proved is None else proved,
                             res.complexity])
        return html_table(["quantity", "value", "proved", "predicted cost"], rows,
                          caption=f"exponents of {self.target}")

    def complexity(self) -> dict[str, str]:
        """Predicted sample complexity per protocol (in powers of d)."""
        return {name: res.complexity for name, res in self.protocols.items()}

    def to_json(self) -> dict:
        """JSON-ready dictionary: the scalar exponents, each protocol's entries, and a
        uniform "protocols" mapping (exponent, proved, complexity, staircase per protocol)."""
        out = {
            "target": str(self.target),
            "k": self.target.k,
            "student": self.student,
            "information_exponent": self.information_exponent,
            "student_information_exponent": self.student_information_exponent,
        }
        for res in self.protocols.values():
            out.update(res.json)
        out.update({
            "protocols": {name: res.to_json() for name, res in self.protocols.items()},
            "complexity": self.complexity(),
            "exact": dict(self.exact),
            "notes": [res.note for name, res in self.protocols.items()
                      if name in ("online", "reuse")] + list(self.notes),
            "max_degree": self.max_degree,
            "max_label_power": self.max_power,
        })
        return out


def student_order(student, orders, max_degree: int | None = None) -> tuple[int | None, bool]:
    """The student-compatible information exponent: the smallest k among `orders` (the k
    with C_k(f) != 0) with c_k(sigma) != 0, c_k(sigma) = E[sigma(x) He_k(x)] / k!
    (docs/theory.md §3.1, student compatibility).

    Args:
        student: an activation name or an expression in x.
        orders: the target's non-zero orders.
        max_degree: expansion degree of sigma (default: the largest order).

    Returns:
        (k or None, whether every c_k(sigma) used is exact: the c_j with j in `orders` up to
        the k returned, or all of them when none is returned).
    """
    sigma = activation(student)
    x = next(iter(sigma.variables))
    expr = sigma.expr.xreplace({x: latent(1)})
    orders = sorted(set(orders))
    e = hermite_expansion(Target(expr, 1), max_degree or max(orders, default=1))
    for k in orders:
        c = e[(k,)]
        if not c.is_zero:
            return k, all(e[(j,)].is_exact for j in orders if j <= k)
    return None, all(e[(j,)].is_exact for j in orders)


def exponents(target: Target | str, *, student=None, max_degree: int | None = None,
              max_power: int | None = None, alpha_c: bool = True,
              protocols: Iterable | None = None) -> ExponentReport:
    """Exponents and staircases of a target for every protocol (docs/theory.md §3).

    Args:
        target: a Target or its text, e.g. "z1 + He3(z2)" (no free parameters).
        student: optional student activation (name in ACTIVATIONS or an expression in x)
            for the student-aware information exponent and the student-aware giant-step
            subspaces and few-steps chain (GiantStep / FewSteps(student=...): only the terms
            whose Hermite order the student sees, docs/theory.md §3.3).
        max_degree: truncation degree of the Hermite expansions of non-polynomial targets
            (default 8; polynomial targets are expanded exactly and completely).
        max_power: largest label power m in the generative witnesses E[y~^m He(z)]
            (default: for polynomials, the powers with m * degree <= 12 and then, at orders
            neither witnessed nor certified, the powers whose parity the target's symmetries
            admit up to 8 within a time budget (see `reuse_staircase`); 3 for other targets,
            n - 1 for a label with n values).
        alpha_c: whether to compute the numerical AMP threshold when it is needed (Monte
            Carlo, n = 2e5, seed 0; about 0.2-0.8 s; see `alpha_c`).
        protocols: the protocols to analyse: Protocol objects or registry names (default:
            every protocol of `escalier.derive.protocols.PROTOCOLS`). The protocols they
            require are analysed too.

    Returns:
        An immutable ExponentReport.

    Exact arithmetic is kept canonical and bounded: when an exact scalar would grow past
    MAX_EXACT_SIZE nodes, the whole report is recomputed in float64 (Hermite coefficients,
    subspaces) and every value derived from floats is marked not exact, with a note.

    Raises:
        ValueError: bad target (free parameters, unsupported), bad degree or power, unknown
            student activation, unknown protocol.

    References: Ben Arous et al. 2021 (arXiv 2003.10409); Abbe et al. 2023 (arXiv 2302.11055);
    Dandi et al. 2023 (arXiv 2305.18270); Damian et al. 2024 (arXiv 2403.05529); Arnaboldi
    et al. 2024 (arXiv 2405.15459); Troiani et al. 2025 (arXiv 2405.15480).
    """
    chosen = _protocol_objects(protocols)
    for name in ("giant_step", "few_steps"):
        proto = chosen.get(name)
        if student is not None and proto is not None and proto.student is None:
            chosen[name] = dataclasses.replace(proto, student=str(student))
    kwargs = dict(student=student, max_degree=max_degree, max_power=max_power, alpha_c=alpha_c)
    try:
        return _exponents(target, chosen, numeric=None, **kwargs)
    except ExactTooLarge as err:
        return _exponents(target, chosen, numeric=str(err), **kwargs)


def _exponents(target, chosen, *, numeric: str | None, student, max_degree, max_power,
               alpha_c) -> ExponentReport:
    with stage("Hermite expansion of the target"):
        ctx = Context.build(target, max_degree=max_degree, max_power=max_power,
                            numeric=numeric is not None)
    if numeric is not None:
        ctx.notes.append(f"computed in float64, values marked not exact: exact arithmetic "
                         f"outgrew its bounds ({MAX_EXACT_SIZE} nodes, radicals of degree "
                         f"{MAX_FIELD_DEGREE}): {numeric}")
    analysis = Analysis(ctx, chosen, alpha_c=alpha_c)
    results = analysis.results()
    online = results["online"]
    steps = online.steps
    ie = steps[0].order if steps else None
    exact_kind = ctx.scalars.is_exact

    student_ie = None
    student_exact = True
    student_name = None
    if student is not None:
        student_name = str(student)
        U0 = Subspace.zero(ctx.k, ctx.scalars)
        imgs = analysis.cache.images(1, U0, U0.complement(), max(ctx.power(1).degree, 1))
        orders = {k for k, v in imgs.items() if v}
        with stage("student-aware information exponent"):
            student_ie, student_exact = student_order(student, orders)

    exact = {"information_exponent": bool(steps) and steps[0].certified and exact_kind}
    for res in results.values():
        exact.update(res.exact)
    # "none" is proved only when every order of the target was seen: past the degree of a
    # truncated expansion, some C_k(f) c_k(sigma) may still be non-zero
    seen_all = ctx.power(1).complete
    exact["student_information_exponent"] = (student is not None and exact_kind and student_exact
                                             and bool(steps) and steps[0].certified
                                             and (student_ie is not None or seen_all))
    exact["directions"] = exact_kind
    notes = list(ctx.notes)
    if student is not None and student_ie is None and not seen_all:
        notes.append(f"student-aware information exponent not found up to degree "
                     f"{ctx.max_degree} (the expansion of the target is truncated there)")
    if not ctx.polynomial:
        notes.append("non-polynomial target: Hermite expansion truncated at degree "
                     f"{ctx.max_degree}")
    if ctx.values is not None:
        notes.append(f"the label takes finitely many values: {', '.join(map(str, ctx.values))}")
    return ExponentReport(
        target=ctx.target, student=student_name, information_exponent=ie,
        student_information_exponent=student_ie, relevant=online.data["relevant"],
        protocols=MappingProxyType(results), exact=MappingProxyType(exact),
        max_degree=ctx.max_degree, max_power=ctx.max_power, notes=tuple(notes))


def _protocol_objects(protocols) -> dict:
    """name -> Protocol object, with every requirement included, in registry order."""
    if protocols is None:
        chosen = {name: cls() for name, cls in PROTOCOLS.items()}
    else:
        chosen = {}
        for p in protocols:
            if isinstance(p, str):
                if p not in PROTOCOLS:
                    raise ValueError(f"unknown protocol {p!r}; accepted: {', '.join(PROTOCOLS)}")
                p = PROTOCOLS[p]()
            chosen[p.name] = p
        pending = ["online", *chosen]
        while pending:
            name = pending.pop()
            if name not in chosen:
                if name not in PROTOCOLS:
                    raise ValueError(f"protocol requirement {name!r} is not registered")
                chosen[name] = PROTOCOLS[name]()
            pending += [r for r in chosen[name].requires if r not in chosen]
    order = list(PROTOCOLS) + [n for n in chosen if n not in PROTOCOLS]
    return {n: chosen[n] for n in order if n in chosen}
