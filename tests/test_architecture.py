"""The house, checked: the import graph of escalier has no cycle (imports inside functions
included), derive never imports JAX, and no module reaches into another package's private
module or another module's private names."""

from __future__ import annotations

import ast
import pathlib

import networkx as nx

ROOT = pathlib.Path(__file__).resolve().parents[1]
TOPS = {"derive": "escalier.derive", "numerics": "escalier.numerics"}


def _modules() -> dict[str, tuple[pathlib.Path, bool]]:
    """module name -> (file, is_package)."""
    out = {}
    for top, name in TOPS.items():
        for path in (ROOT / top).rglob("*.py"):
            rel = path.relative_to(ROOT / top).with_suffix("").parts
            if rel[-1] == "__init__":
                out[".".join((name, *rel[:-1]))] = (path, True)
            else:
                out[".".join((name, *rel))] = (path, False)
    return out


MODULES = _modules()


def _resolve(module: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str):
    """(imported module, private name or None, line) for every import in `module`."""
    path, is_pkg = MODULES[module]
    tree = ast.parse(path.read_text())
    typing_only = {id(n) for block in ast.walk(tree) if isinstance(block, ast.If)
                   and getattr(block.test, "id", None) == "TYPE_CHECKING"
                   for stmt in block.body for n in ast.walk(stmt)}
    for node in ast.walk(tree):
        if id(node) in typing_only:  # annotations only: not an import at run time
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, is_pkg, node)
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                if sub in MODULES:
                    yield sub, None, node.lineno
                else:
                    private = alias.name.startswith("_") and not alias.name.startswith("__")
                    yield target, alias.name if private else None, node.lineno


def _graph() -> nx.DiGraph:
    g = nx.DiGraph()
    for module in MODULES:
        g.add_node(module)
        for target, _, _ in _imports(module):
            if target in MODULES and target != module:
                g.add_edge(module, target)
    return g


def _package(module: str) -> str:
    return module if MODULES[module][1] else module.rsplit(".", 1)[0]


def test_no_import_cycles():
    g = _graph()
    # a package's __init__ re-exporting its children is not a cycle of logic: drop the edges
    # from a package to its own descendants, keep everything else
    for a, b in list(g.edges):
        if MODULES[a][1] and b.startswith(a + "."):
            g.remove_edge(a, b)
    cycles = [c for c in nx.strongly_connected_components(g) if len(c) > 1]
    assert cycles == [], f"import cycles: {cycles}"


def test_derive_never_imports_jax():
    bad = [(m, t) for m in MODULES if m.startswith("escalier.derive")
           for t, _, _ in _imports(m) if t == "jax" or t.startswith("jax.")
           or t.startswith("escalier.numerics")]
    assert bad == []


def test_no_private_module_of_another_package():
    bad = []
    for m in MODULES:
        for target, _, line in _imports(m):
            parts = target.split(".")
            for i, part in enumerate(parts):
                if part.startswith("_") and not part.startswith("__"):
                    owner = ".".join(parts[:i])
                    if not (_package(m) + ".").startswith(owner + "."):
                        bad.append(f"{m}:{line} imports {target}")
                    break
    assert bad == []


def test_no_private_names_across_modules():
    bad = [f"{m}:{line} imports {name} from {target}" for m in MODULES
           for target, name, line in _imports(m) if name is not None and target != m]
    assert bad == []
