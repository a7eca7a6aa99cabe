"""Staircases as graphs: nodes are learned subspaces, edges carry leap, mechanism and cost.

Protocols:

- "online": the online-SGD subspace recursion (edge leap = k_t, cost d^max(k_t - 1, 1));
- "giant_step": one GD step with a batch of n = d^l, for growing l (node l = U*_l, edge
  leap = l, cost d^l);
- "few_steps": a few GD steps with fresh batches of n = d^l each (l = the smallest batch
  exponent whose chain learns every relevant direction, or the given l);
- "reuse": the generalised staircase under batch reuse (edge leap = conditional order;
  cost d, d log d or hard).
"""

from __future__ import annotations

import networkx as nx

from ._exponents import ExponentReport, exponents
from ._linalg import Subspace
from ._online import ImageCache, few_steps
from ._step import Step
from ._target import Target

__all__ = ["PROTOCOLS", "staircase"]

PROTOCOLS = ("online", "giant_step", "few_steps", "reuse")


def _node(graph: nx.DiGraph, index: int, space: Subspace) -> None:
    exact = space.orthonormal() if space.scalars.is_exact else None
    graph.add_node(index, dimension=space.dim,
                   basis=[[float(x) for x in row] for row in space.orthonormal_float()],
                   exact_basis=None if exact is None else [[str(x) for x in r] for r in exact],
                   label=f"U_{index} (dim {space.dim})")


def _from_steps(graph: nx.DiGraph, steps: tuple[Step, ...], start: Subspace) -> None:
    _node(graph, 0, start)
    for s in steps:
        _node(graph, s.index + 1, s.after)
        graph.add_edge(s.index, s.index + 1, leap=s.order, mechanism=s.mechanism, cost=s.cost,
                       certified=s.certified, certificates=list(s.certificates),
                       directions=s.directions(), witness=s.witness)


def staircase(target: Target | str | ExponentReport, protocol: str = "online", *,
              l: int | None = None, **kwargs) -> nx.DiGraph:
    """The staircase of a target under a protocol, as a networkx DiGraph (a chain).

    Args:
        target: a Target, its text, or an ExponentReport already computed.
        protocol: one of "online", "giant_step", "few_steps", "reuse".
        l: batch exponent for "few_steps" (default: the few-step exponent).
        **kwargs: passed to `exponents` (max_degree, max_power).

    Returns:
        DiGraph with nodes 0..T (attributes: dimension, basis, exact_basis, label) and edges
        t -> t+1 (attributes: leap, mechanism, cost, certified, certificates, directions,
        witness); graph attributes: target, protocol, exponent.

    Raises:
        ValueError: unknown protocol or bad target.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; accepted: {', '.join(PROTOCOLS)}")
    report = target if isinstance(target, ExponentReport) else \
        exponents(target, alpha_c=False, **kwargs)
    graph = nx.DiGraph(target=str(report.target), protocol=protocol)
    zero = Subspace.zero(report.target.k, report.relevant.scalars)
    if protocol == "online":
        _from_steps(graph, report.online, zero)
        graph.graph["exponent"] = report.leap
    elif protocol == "reuse":
        start = report.reuse_steps[0].before if report.reuse_steps else zero
        _from_steps(graph, report.reuse_steps, start)
        graph.graph["exponent"] = report.generative_exponent
        graph.graph["class"] = report.reuse
    elif protocol == "few_steps":
        ell = report.few_step_exponent if l is None else l
        if ell is None:
            raise ValueError("no batch exponent l learns every direction; pass l explicitly")
        if ell in report.few_steps:
            chain = report.few_steps[ell]
        else:
            from ._context import Context

            ctx = Context.build(report.target, max_degree=kwargs.get("max_degree"),
                                max_power=kwargs.get("max_power"),
                                numeric=not report.relevant.scalars.is_exact)
            chain, _ = few_steps(ctx, ell, report.relevant, ImageCache(ctx))
        _from_steps(graph, chain, zero)
        graph.graph["exponent"] = ell
    else:
        _node(graph, 0, zero)
        index, last = 0, zero
        for ell, space in enumerate(report.giant_step_subspaces, start=1):
            if space.dim == last.dim:
                continue
            index += 1
            _node(graph, index, space)
            new = space.relative_complement(last)
            graph.add_edge(index - 1, index, leap=ell,
                           mechanism=f"one giant step, n = d^{ell}",
                           cost="d" if ell == 1 else f"d^{ell}", certified=True,
                           certificates=[], witness=f"Im C_{ell} adds directions",
                           directions=[[float(x) for x in r] for r in new.orthonormal_float()])
            last = space
        graph.graph["exponent"] = report.giant_step_exponent
    return graph
