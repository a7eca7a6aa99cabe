"""The protocol interface: what a training protocol learns about a target, and at what cost.

A protocol is a small frozen object with one method, `analyse(analysis)`, that maps the
shared analysis of a target (its Hermite context and image cache, plus the results of the
protocols it depends on) to a `ProtocolResult`: the staircase (a chain of `Step`s), the
protocol's exponent, which values are proved, and the predicted sample cost. Concrete
protocols are final classes, one module each; the registry in `escalier.derive.protocols`
lists them in the order `exponents()` runs them (docs/theory.md §3, docs/design.md).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

import networkx as nx

from .._budget import stage
from ..algebra import Subspace
from ._context import Context
from ._step import Step
from ._subspace import ImageCache

__all__ = ["Analysis", "Protocol", "ProtocolResult", "staircase_graph"]


@dataclass(frozen=True)
class ProtocolResult:
    """What one protocol learns about a target.

    Attributes:
        protocol: the protocol's registry name.
        title: a human name ("online SGD", "batch reuse", ...).
        steps: the staircase U_0 -> U_1 -> ... as Steps (may be empty).
        start: U_0 (the zero subspace unless the protocol starts elsewhere).
        exponent: the protocol's headline exponent (None when there is none or not found).
        exponent_name: what the exponent is called ("leap", "generative exponent", ...).
        proved: whether the exponent is proved (exact and every vanishing certified); an
            unproved exponent is an upper bound found by a finite search.
        complexity: predicted sample complexity, in powers of d.
        exact: the entries this protocol contributes to ExponentReport.exact.
        note: how the result was obtained (certificates, truncations).
        rows: the (label, value, proved) rows of the summary table.
        section: the title under which the report prints the staircase (None: not printed).
        json: extra JSON entries merged at the top level of ExponentReport.to_json.
        data: protocol-specific objects (for the report's compatibility properties).
    """

    protocol: str
    title: str
    steps: tuple[Step, ...]
    start: Subspace
    exponent: int | float | None
    exponent_name: str
    proved: bool
    complexity: str
    exact: Mapping[str, bool] = field(default_factory=dict)
    note: str = ""
    rows: tuple[tuple[str, Any, bool | None], ...] = ()
    section: str | None = None
    json: Mapping[str, Any] = field(default_factory=dict)
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        for name in ("exact", "json", "data"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def to_json(self) -> dict:
        """The uniform per-protocol JSON entry (under "protocols" in the report)."""
        return {
            "title": self.title,
            "exponent_name": self.exponent_name,
            "exponent": self.exponent,
            "proved": self.proved,
            "complexity": self.complexity,
            "staircase": [s.to_json() for s in self.steps],
            "note": self.note,
        }

    def graph(self, target: str) -> nx.DiGraph:
        """The staircase as a networkx chain (see `escalier.derive.staircase`)."""
        graph = staircase_graph(self.steps, self.start, target=target, protocol=self.protocol)
        graph.graph["exponent"] = self.exponent
        graph.graph["proved"] = self.proved
        return graph


class Analysis:
    """The shared state of one `exponents()` call: the target context, the image cache and
    the results of the protocols analysed so far (a protocol asks for the ones it needs)."""

    def __init__(self, ctx: Context, protocols: Mapping[str, Protocol], *, alpha_c: bool = True):
        self.ctx = ctx
        self.cache = ImageCache(ctx)
        self.alpha_c = alpha_c
        self._protocols = dict(protocols)
        self._results: dict[str, ProtocolResult] = {}
        self._running: set[str] = set()

    def result(self, name: str) -> ProtocolResult:
        """The result of protocol `name`, analysed on first use (cycles are refused)."""
        if name not in self._results:
            if name not in self._protocols:
                raise ValueError(f"protocol {name!r} is not in this analysis; "
                                 f"present: {', '.join(self._protocols)}")
            if name in self._running:
                raise RuntimeError(f"protocol {name!r} depends on itself")
            self._running.add(name)
            try:
                with stage(f"{name} staircase" if name != "amp" else "AMP classes"):
                    res = self._protocols[name].analyse(self)
            finally:
                self._running.discard(name)
            if res.protocol != name:
                raise RuntimeError(f"protocol {name!r} returned a result named {res.protocol!r}")
            self._results[name] = res
        return self._results[name]

    def results(self) -> dict[str, ProtocolResult]:
        """Every protocol's result, in registry order."""
        return {name: self.result(name) for name in self._protocols}

    def zero(self) -> Subspace:
        return Subspace.zero(self.ctx.k, self.ctx.power(1).scalars)


class Protocol(abc.ABC):
    """A training protocol (abstract). Concrete protocols are final frozen dataclasses with a
    class attribute `name` (the registry key) and the method `analyse`."""

    name: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ()

    @abc.abstractmethod
    def analyse(self, analysis: Analysis) -> ProtocolResult:
        """What this protocol learns about `analysis.ctx.target` (its staircase and cost)."""


def _node(graph: nx.DiGraph, index: int, space: Subspace) -> None:
    exact = space.orthonormal() if space.scalars.is_exact else None
    graph.add_node(index, dimension=space.dim,
                   basis=[[float(x) for x in row] for row in space.orthonormal_float()],
                   exact_basis=None if exact is None else [[str(x) for x in r] for r in exact],
                   label=f"U_{index} (dim {space.dim})")


def staircase_graph(steps: tuple[Step, ...], start: Subspace, **attrs) -> nx.DiGraph:
    """A chain of Steps as a DiGraph: nodes 0..T (dimension, basis, exact_basis, label), edges
    t -> t+1 (leap, mechanism, cost, certified, certificates, directions, witness)."""
    graph = nx.DiGraph(**attrs)
    _node(graph, 0, start)
    for i, s in enumerate(steps):
        _node(graph, i + 1, s.after)
        graph.add_edge(i, i + 1, leap=s.order, mechanism=s.mechanism, cost=s.cost,
                       certified=s.certified, certificates=list(s.certificates),
                       directions=s.directions(), witness=s.witness)
    return graph
