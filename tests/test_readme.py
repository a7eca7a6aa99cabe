"""The README's promises: its quick example runs, its set-up commands are what CI runs."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_quick_example_runs_and_is_short(capsys):
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)
    assert blocks, "README has no python example"
    code = blocks[0]
    assert len(code.strip().splitlines()) <= 15
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "(1, 1, 0) c None exact" in out and "parity in z2" in out


def test_ci_runs_the_readme_test_command():
    command = 'python3 -m pip install -e ".[test]" && python3 -m pytest'
    assert command in README
    assert command.replace('"', '"') in (ROOT / ".ci" / "run").read_text()
