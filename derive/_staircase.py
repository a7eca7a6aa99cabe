"""Staircases as graphs: nodes are learned subspaces, edges carry leap, mechanism and cost.

The protocol decides the chain (escalier.derive.protocols): "online" (subspace recursion),
"giant_step" (one step with n = d^l, growing l), "few_steps" (fresh batches of n = d^l),
"reuse" (the generalised staircase under batch reuse), and any registered protocol.
"""

from __future__ import annotations

import networkx as nx

from ._exponents import ExponentReport, exponents
from .protocols import PROTOCOLS, Protocol
from .targets import Target

__all__ = ["PROTOCOLS", "staircase"]


def staircase(target: Target | str | ExponentReport, protocol: str | Protocol = "online", *,
              l: int | None = None, **kwargs) -> nx.DiGraph:
    """The staircase of a target under a protocol, as a networkx DiGraph (a chain).

    Args:
        target: a Target, its text, or an ExponentReport already computed.
        protocol: a Protocol object, or the registry name of one (see PROTOCOLS).
        l: batch exponent for "few_steps" (default: the few-step exponent).
        **kwargs: passed to `exponents` (max_degree, max_power).

    Returns:
        DiGraph with nodes 0..T (attributes: dimension, basis, exact_basis, label) and edges
        t -> t+1 (attributes: leap, mechanism, cost, certified, certificates, directions,
        witness); graph attributes: target, protocol, exponent, proved.

    Raises:
        ValueError: unknown protocol, an l for a protocol without one, or bad target.
    """
    if isinstance(protocol, str):
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown protocol {protocol!r}; accepted: {', '.join(PROTOCOLS)}")
        cls = PROTOCOLS[protocol]
        if l is not None:
            if "l" not in getattr(cls, "__dataclass_fields__", {}):
                raise ValueError(f"protocol {protocol!r} takes no batch exponent l")
            protocol = cls(l=l)
        else:
            protocol = cls()
    elif not isinstance(protocol, Protocol):
        raise ValueError(f"protocol must be a Protocol or one of {', '.join(PROTOCOLS)}, "
                         f"got {protocol!r}")
    if isinstance(target, ExponentReport) and protocol.name in target.protocols and \
            protocol == PROTOCOLS.get(protocol.name, type(protocol))():
        result = target.protocols[protocol.name]
        name = str(target.target)
    else:
        base = target.target if isinstance(target, ExponentReport) else target
        report = exponents(base, alpha_c=False, protocols=[protocol], **kwargs)
        result = report.protocols[protocol.name]
        name = str(report.target)
    if protocol.name == "few_steps" and result.exponent is None:
        raise ValueError("no batch exponent l learns every direction; pass l explicitly")
    graph = result.graph(name)
    if protocol.name == "reuse":  # an unproved value is given only as a bound
        bound = result.data["bound"]
        graph.graph["exponent"] = result.exponent if bound["proved"] else None
        graph.graph["class"] = result.data["class"] if bound["proved"] else None
        graph.graph["exponent_bound"] = bound
    return graph
