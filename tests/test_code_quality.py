"""ruff and mypy are part of the definition of done; run them with the tests."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO

PRODUCT = ("bot", "index")
# Where the test and benchmark machinery lives, never in the product.
MACHINERY_PACKAGES = {"tests", "benchmarks"}
MACHINERY_NAMES = re.compile(r"stand_?in|soak|bench|synthetic")
MOVED_OUT = ("bot/standin.py", "bot/soak.py", "bot/bench.py", "index/synthetic.py")

# Statements as SQL writes them (upper-case keywords), not prose such as "a string select".
SQL_STATEMENTS = [
    re.compile(p)
    for p in (
        r"\bSELECT\s+[\w*, ()]+\s+FROM\s+\w+",
        r"\bINSERT\s+(OR\s+\w+\s+)?INTO\s+\w+",
        r"\bDELETE\s+FROM\s+\w+",
        r"\bUPDATE\s+\w+\s+SET\b",
        r"\bCREATE\s+(VIRTUAL\s+)?TABLE\b",
    )
]


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "ruff", "check", "."],
        [sys.executable, "-m", "ruff", "format", "--check", "."],
        [sys.executable, "-m", "mypy"],
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_tool_is_clean(command: list[str]) -> None:
    if shutil.which(command[2]) is None and not (REPO / ".venv" / "bin" / command[2]).exists():
        pytest.fail(f"{command[2]} is not installed; `pip install -e '.[dev]'`")
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_all_sql_lives_in_the_storage_module() -> None:
    """Raw SQL is only written in a store's storage layer, where review sees it all: the
    project database's (index/storage.py) and the machine-wide vector cache's
    (index/vector_cache.py).

    The rule is the product's: the benchmark's FTS5 baseline (benchmarks/bench.py) never
    touches the project's database."""
    layers = {REPO / "index" / "storage.py", REPO / "index" / "vector_cache.py"}
    for path in [*REPO.glob("index/*.py"), *REPO.glob("bot/**/*.py")]:
        if path in layers:
            continue
        text = path.read_text(encoding="utf-8")
        for statement in SQL_STATEMENTS:
            found = statement.search(text)
            assert found is None, f"SQL ({found.group()!r}) in {path}"


def test_storage_sql_is_parameterised() -> None:
    text = (REPO / "index" / "storage.py").read_text(encoding="utf-8")
    assert 'f"SELECT' not in text and 'f"INSERT' not in text and 'f"DELETE' not in text
    assert ".format(" not in text and "% (" not in text


def test_the_product_holds_only_the_product() -> None:
    """``bot/`` and ``index/`` hold the product: the Discord stand-in lives in
    ``tests/support/``, the soak, the benchmark and its synthetic corpus in ``benchmarks/``,
    and no product module imports either."""
    for moved in MOVED_OUT:
        assert not (REPO / moved).exists(), f"{moved} belongs in tests/support/ or benchmarks/"
    modules = sorted(p for package in PRODUCT for p in (REPO / package).rglob("*.py"))
    assert modules
    for path in modules:
        name = path.relative_to(REPO)
        assert not MACHINERY_NAMES.search(path.stem), f"{name}: test or benchmark machinery"
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported = [node.module]
            else:
                continue
            for module in imported:
                top = module.split(".")[0]
                assert top not in MACHINERY_PACKAGES, f"{name} imports {module}"
