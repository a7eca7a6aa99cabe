"""Mutation testing of escalier's core with mutmut (not part of CI; see docs/mutation.md).

mutmut 3 names mutants after the module path of the file it mutates and needs the tests to
import that copy. escalier installs `escalier.derive` and `escalier.numerics` from top-level
folders (setuptools package-dir), so this script stages a src/ layout in a scratch folder
(src/escalier/derive, src/escalier/numerics, tests/) with its own pyproject.toml holding the
mutmut configuration (the project's pytest run never sees it), runs `mutmut run` there on the
chosen modules with only the chosen tests, and prints the results.

    python scripts/mutation.py derive/protocols/_step.py --tests tests/derive/test_exponents.py
    python scripts/mutation.py --list            # the module -> tests table below

mutmut runs, for each mutant, only the selected tests that execute the mutated function.
"""

from __future__ import annotations

import argparse
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]

# core modules and the tests that cover them (issue 21, section 3)
SUITES = {
    "derive/protocols/_step.py": ["tests/derive/test_exponents.py",
                                  "tests/derive/test_exponents_mutations.py"],
    "derive/protocols/_witness.py": ["tests/derive/test_generative_search.py",
                                     "tests/derive/test_witness_mutations.py",
                                     "tests/derive/test_exponents.py",
                                     "tests/derive/test_exponents_mutations.py"],
    "derive/protocols/_subspace.py": ["tests/derive/test_reuse_report.py",
                                      "tests/derive/test_few_steps_student.py",
                                      "tests/derive/test_exponents.py",
                                      "tests/derive/test_exponents_mutations.py"],
    "derive/_exponents.py": ["tests/derive/test_exponents.py",
                             "tests/derive/test_exponents_mutations.py",
                             "tests/derive/test_generative_search.py",
                             "tests/derive/test_exponents_module_mutations.py"],
    "derive/protocols/reuse.py": ["tests/derive/test_reuse_report.py",
                                  "tests/derive/test_generative_search.py",
                                  "tests/derive/test_exponents.py",
                                  "tests/derive/test_exponents_mutations.py",
                                  "tests/numerics/test_cli_exponents.py"],
    "derive/gaussian/_reduce.py": ["tests/derive/test_gaussian_reduce.py",
                                   "tests/derive/test_gaussian_engine.py"],
    "derive/gaussian/_table.py": ["tests/derive/test_gaussian_table.py",
                                  "tests/derive/test_gaussian_table_mutations.py",
                                  "tests/derive/test_gaussian_engine.py",
                                  "tests/derive/test_gaussian_reduce.py"],
    "derive/hermite/_expansion.py": ["tests/derive/test_hermite.py",
                                     "tests/derive/test_hermite_numeric.py",
                                     "tests/derive/test_hermite_expansion_mutations.py",
                                     "tests/derive/test_hermite_routes.py",
                                     "tests/derive/test_trust_hermite.py",
                                     "tests/derive/test_exponents_parts.py"],
    "derive/hermite/_univariate.py": ["tests/derive/test_hermite.py",
                                     "tests/derive/test_hermite_routes.py",
                                     "tests/derive/test_hermite_mutations.py"],
    "derive/hermite/_tensor.py": ["tests/derive/test_hermite.py",
                                  "tests/derive/test_exponents_parts.py",
                                  "tests/derive/test_exponents.py",
                                  "tests/derive/test_hermite_mutations.py"],
}

PYPROJECT = """\
[tool.pytest.ini_options]
testpaths = ["tests"]
addopts = "-ra --strict-markers -m 'not slow' -p no:cacheprovider"
markers = ["slow: long-running tests"]
filterwarnings = ["error"]

[tool.mutmut]
source_paths = ["src"]
only_mutate = {only}
pytest_add_cli_args_test_selection = {tests}
"""


# Appended to the staged tests/conftest.py. mutmut forks every mutant from a process whose
# module-level caches (functools.lru_cache, _MEMO dicts) the clean run has filled: a cached
# function is then never called under the mutant and the mutant "survives" falsely
# (derive/gaussian/_reduce.py: an even count of odd factors reported 0 passed the mutation
# run but fails the suite). Every test therefore starts with escalier's caches empty.
FRESH_CACHES = """

import sys as _sys

import pytest as _pytest


@_pytest.fixture(autouse=True)
def _mutation_fresh_caches():
    for _name, _mod in list(_sys.modules.items()):
        if not _name.startswith("escalier."):
            continue
        for _obj in list(vars(_mod).values()):
            if callable(getattr(_obj, "cache_clear", None)) and \\
                    getattr(_obj, "__module__", "").startswith("escalier."):
                _obj.cache_clear()
            elif isinstance(_obj, dict) and _obj is vars(_mod).get("_MEMO"):
                _obj.clear()
    yield
"""


def _toml_list(items) -> str:
    return "[" + ", ".join(f'"{x}"' for x in items) + "]"


def stage(workdir: pathlib.Path, modules: list[str], tests: list[str]) -> None:
    if workdir.exists():
        shutil.rmtree(workdir)
    (workdir / "src" / "escalier").mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for pkg in ("derive", "numerics"):
        shutil.copytree(ROOT / pkg, workdir / "src" / "escalier" / pkg, ignore=ignore)
    shutil.copytree(ROOT / "tests", workdir / "tests", ignore=ignore)
    conftest = workdir / "tests" / "conftest.py"
    conftest.write_text(conftest.read_text() + FRESH_CACHES)
    only = [f"src/escalier/{m}" for m in modules]
    (workdir / "pyproject.toml").write_text(
        PYPROJECT.format(only=_toml_list(only), tests=_toml_list(tests)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="files to mutate, e.g. derive/protocols/_step.py")
    parser.add_argument("--tests", nargs="*", default=None,
                        help="test files to run (default: the SUITES entry of the modules)")
    parser.add_argument("--workdir", default="/tmp/escalier-mutation",
                        help="scratch folder (deleted and re-created)")
    parser.add_argument("--max-children", type=int, default=2, help="parallel mutants")
    parser.add_argument("--only", nargs="*", default=[],
                        help="mutant names or globs to run (default: all), e.g. "
                             "'escalier.derive.hermite._univariate.x__moments_exp__mutmut_*'")
    parser.add_argument("--list", action="store_true", help="print the module -> tests table")
    args = parser.parse_args(argv)
    if args.list or not args.modules:
        for module, tests in SUITES.items():
            print(f"{module}: {' '.join(tests)}")
        return 0
    for m in args.modules:
        if not (ROOT / m).is_file():
            raise SystemExit(f"no such module {m!r} (paths relative to the repository root)")
    tests = args.tests or sorted({t for m in args.modules for t in SUITES.get(m, [])})
    if not tests:
        raise SystemExit("no tests: pass --tests or add the module to SUITES")
    workdir = pathlib.Path(args.workdir)
    stage(workdir, args.modules, tests)
    run = subprocess.run([sys.executable, "-m", "mutmut", "run",
                          "--max-children", str(args.max_children), *args.only], cwd=workdir)
    subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=workdir)
    print(f"browse: cd {workdir} && {sys.executable} -m mutmut browse")
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
