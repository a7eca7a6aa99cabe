"""The layout promises of docs/design.md, checked."""

import pathlib
import re
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    found = set()
    for top, name in (("derive", "escalier.derive"), ("numerics", "escalier.numerics")):
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top).parts
            found.add(".".join((name, *rel)))
    assert found == listed


def test_derive_never_imports_jax():
    pattern = re.compile(r"^\s*(import jax|from jax)", re.MULTILINE)
    offenders = [p.name for p in (ROOT / "derive").rglob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


def test_version_comes_from_metadata():
    from importlib.metadata import version

    import escalier.derive
    import escalier.numerics

    assert escalier.derive.__version__ == version("escalier") == escalier.numerics.__version__
