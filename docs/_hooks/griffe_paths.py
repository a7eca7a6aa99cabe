"""mkdocs hook: give griffe (mkdocstrings) an `escalier/` tree to read the API from.

The installed package maps the folders derive/ and numerics/ to escalier.derive and
escalier.numerics (setuptools package-dir). An editable install resolves that with an import
hook, which griffe's static finder cannot follow (it looks for a folder named `escalier` on
its search paths). This hook copies the two packages' Python files, once per build, into
build/docs-griffe/escalier/ (ignored by git); mkdocs.yml lists build/docs-griffe in the
mkdocstrings handler's `paths`. Nothing is imported or downloaded.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIM = ROOT / "build" / "docs-griffe"
PACKAGES = {"derive": "derive", "numerics": "numerics"}


def _build_shim() -> None:
    SHIM.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="docs-griffe-", dir=SHIM.parent))
    for name, folder in PACKAGES.items():
        shutil.copytree(ROOT / folder, staging / "escalier" / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    old = None
    if SHIM.exists():
        old = SHIM.with_name(f"{SHIM.name}-old-{os.getpid()}")
        SHIM.rename(old)
    staging.rename(SHIM)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


_build_shim()
