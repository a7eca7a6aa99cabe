"""`escalier staircase TARGET --protocol online [--plot out.png]`: the staircase chain of a
protocol, printed (or as JSON) and optionally drawn with labelled edges."""

from __future__ import annotations

import argparse
import json
import pathlib

from escalier.numerics.figures import save_figure

from ._common import (
    add_set_argument,
    add_timeout_argument,
    bounded,
    positive_int,
    target_from_args,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from escalier.derive import PROTOCOLS

    from ._app import DEFAULT_TARGET

    parser.add_argument("target", nargs="?", default=DEFAULT_TARGET, help="the target")
    parser.add_argument("--protocol", default="online", choices=PROTOCOLS,
                        help="training protocol (default online)")
    parser.add_argument("--l", type=positive_int, default=None,
                        help="batch exponent for --protocol few_steps")
    parser.add_argument("--max-degree", type=bounded(int, 1, 24), default=None,
                        help="Hermite truncation degree for non-polynomial targets")
    parser.add_argument("--plot", default=None, metavar="FILE",
                        help="draw the chain into FILE (png, pdf or svg)")
    parser.add_argument("--json", action="store_true", help="print nodes and edges as JSON")
    add_set_argument(parser)
    add_timeout_argument(parser)


def _exponent_text(graph) -> str:
    """The exponent, or its bound when it is not proved (never a bare unproved number)."""
    bound = graph.graph.get("exponent_bound")
    if bound is not None and not bound["proved"]:
        return bound["text"]
    return str(graph.graph.get("exponent"))


def _draw(graph, path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nodes = sorted(graph.nodes)
    fig, ax = plt.subplots(figsize=(max(4.0, 3.2 * len(nodes)), 2.8))
    for n in nodes:
        d = graph.nodes[n]
        ax.text(n, 0, f"U{n}\ndim {d['dimension']}", ha="center", va="center", fontsize=11,
                bbox={"boxstyle": "round,pad=0.5", "fc": "#eef3fb", "ec": "#3a5a99"})
    for a, b, e in graph.edges(data=True):
        ax.annotate("", xy=(b - 0.22, 0), xytext=(a + 0.22, 0),
                    arrowprops={"arrowstyle": "->", "lw": 1.6, "color": "#333333"})
        dirs = "\n".join("(" + ", ".join(f"{x:.2g}" for x in v) + ")"
                          for v in e["directions"])  # every new direction, one per line
        ax.text((a + b) / 2, 0.18, f"leap {e['leap']}\n{e['mechanism']}", ha="center",
                va="bottom", fontsize=8)
        ax.text((a + b) / 2, -0.18, f"cost {e['cost']}\n{dirs}", ha="center", va="top",
                fontsize=8)
    ax.set_xlim(-0.6, max(nodes) + 0.6)
    ax.set_ylim(-0.8, 0.8)
    ax.axis("off")
    ax.set_title(f"{graph.graph['target']}: {graph.graph['protocol']} staircase "
                 f"(exponent {_exponent_text(graph)})", fontsize=11)
    fig.tight_layout()
    save_figure(fig, path)


def run(args: argparse.Namespace) -> int:
    from escalier.derive import staircase

    kwargs = {} if args.max_degree is None else {"max_degree": args.max_degree}
    graph = staircase(target_from_args(args.target, args), args.protocol, l=args.l, **kwargs)
    if args.plot:
        path = pathlib.Path(args.plot)
        if path.suffix.lower() not in (".png", ".pdf", ".svg"):
            raise ValueError(f"--plot needs a .png, .pdf or .svg file name, got {args.plot!r}")
        if not path.parent.exists():
            raise ValueError(f"--plot: folder {str(path.parent)!r} does not exist")
        _draw(graph, path)
    if args.json:
        print(json.dumps({"graph": dict(graph.graph),
                          "nodes": [{"id": n, **d} for n, d in graph.nodes(data=True)],
                          "edges": [{"from": a, "to": b, **d}
                                    for a, b, d in graph.edges(data=True)]}, indent=2))
    else:
        print(f"{graph.graph['target']}: {graph.graph['protocol']} staircase "
              f"(exponent {_exponent_text(graph)})")
        for a, b, e in graph.edges(data=True):
            print(f"  U{a} (dim {graph.nodes[a]['dimension']}) -> U{b} "
                  f"(dim {graph.nodes[b]['dimension']}): leap {e['leap']}, {e['mechanism']}, "
                  f"cost {e['cost']}")
        if args.plot:
            print(f"drawn to {args.plot}")
    return 0
