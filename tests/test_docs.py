"""The documentation site builds strictly (a broken reference or docstring fails), offline."""

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_mkdocs_build_strict(tmp_path):
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")  # no end-of-life banner of mkdocs-material
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
         str(ROOT / "mkdocs.yml"), "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    warnings = [line for line in log.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert warnings == [], "\n".join(warnings)
    site = tmp_path / "site"
    for page in ("index.html", "theory/index.html", "api/derive/index.html",
                 "api/numerics/index.html"):
        assert (site / page).is_file(), page
    # the API reference is really generated from the docstrings
    api = (site / "api" / "derive" / "index.html").read_text(encoding="utf-8")
    assert 'id="escalier.derive.hermite_expansion"' in api
    assert 'id="escalier.numerics.simulation.simulate"' in \
        (site / "api" / "numerics" / "index.html").read_text(encoding="utf-8")
    # math goes through arithmatex (rendered by MathJax in the browser)
    assert 'class="arithmatex"' in (site / "theory" / "index.html").read_text(encoding="utf-8")
