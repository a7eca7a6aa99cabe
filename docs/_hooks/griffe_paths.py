"""mkdocs hook: give griffe (mkdocstrings) an `escalier/` tree to read the API from.

pyproject.toml maps folders of the repository to packages of the `escalier` namespace with
setuptools `package-dir` (derive/ -> escalier.derive, numerics/ -> escalier.numerics). An
editable install resolves that with an import hook, which griffe's static finder cannot
follow (it looks for a folder named `escalier` on its search paths). So, when mkdocs loads
this hook (before any page is rendered), the mapped folders' Python files are copied to
build/docs-griffe/escalier/<name>/ (build/ is ignored by git), and mkdocs.yml lists
build/docs-griffe in the mkdocstrings handler's `paths`. Nothing is imported or downloaded.
"""

from __future__ import annotations

import shutil
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIM = ROOT / "build" / "docs-griffe"


def _package_dirs() -> dict[str, Path]:
    """{"escalier.derive": ROOT / "derive", ...} from pyproject.toml's package-dir."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    mapping = config["tool"]["setuptools"]["package-dir"]
    return {name: ROOT / folder for name, folder in mapping.items() if name}


def _build_shim() -> None:
    SHIM.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="docs-griffe-", dir=SHIM.parent))
    for name, folder in _package_dirs().items():
        shutil.copytree(folder, staging.joinpath(*name.split(".")),
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    old = Path(tempfile.mkdtemp(prefix="docs-griffe-old-", dir=SHIM.parent))
    if SHIM.exists():
        SHIM.replace(old / "tree")
    staging.replace(SHIM)
    shutil.rmtree(old, ignore_errors=True)


_build_shim()
