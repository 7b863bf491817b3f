"""ruff and mypy are part of the definition of done; run them with the tests."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, cache_dir

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
        # The machine's test cache keeps mypy's cache too: a fresh clone checks only
        # what changed (mypy checks each cached module against its file's hash).
        [sys.executable, "-m", "mypy", "--cache-dir", str(cache_dir() / "mypy")],
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_tool_is_clean(command: list[str]) -> None:
    if shutil.which(command[2]) is None and not (REPO / ".venv" / "bin" / command[2]).exists():
        pytest.fail(f"{command[2]} is not installed; `pip install -e '.[dev]'`")
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


# Each store's storage layer: the only places that write SQL.
STORAGE_LAYERS = (
    REPO / "index" / "database.py",  # the database interface the stores share, migrations
    REPO / "index" / "sqlite.py",  # its SQLite backend
    REPO / "index" / "postgres.py",  # its PostgreSQL backend
    REPO / "index" / "schema.py",  # the search index's migrations
    REPO / "index" / "store.py",  # the search index
    REPO / "index" / "vector_cache.py",  # the machine-wide embedding cache
    REPO / "bot" / "schema.py",  # the bot state's migrations
    REPO / "bot" / "state.py",  # the bot's state
)


def test_all_sql_lives_in_a_storage_layer() -> None:
    """Raw SQL is only written in a store's storage layer, where review sees it all.

    The rule is the product's: the benchmark's FTS5 baseline (benchmarks/bench.py) never
    touches the project's database."""
    for path in [*REPO.glob("index/*.py"), *REPO.glob("bot/**/*.py")]:
        if path in STORAGE_LAYERS:
            continue
        text = path.read_text(encoding="utf-8")
        for statement in SQL_STATEMENTS:
            found = statement.search(text)
            assert found is None, f"SQL ({found.group()!r}) in {path}"


# An f-string statement may only splice in ``marks``, a run of ``?`` placeholders.
_SPLICED_SQL = re.compile(r'f"(SELECT|INSERT|DELETE|UPDATE)[^"]*\{(?!marks\})')


@pytest.mark.parametrize("path", STORAGE_LAYERS, ids=lambda p: p.name)
def test_storage_sql_is_parameterised(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert _SPLICED_SQL.search(text) is None
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


MODULE_LINE_LIMIT = 500


def product_modules() -> dict[str, Path]:
    """Every product module by its dotted name."""
    return {
        ".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__"): p
        for package in PRODUCT
        for p in sorted((REPO / package).rglob("*.py"))
    }


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The product modules ``path`` imports, ``if TYPE_CHECKING:`` imports included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # ``from bot import service`` imports the module bot.service
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        else:
            continue
        found |= {n for n in names if n in modules}
    return found


def test_no_product_module_is_over_the_size_limit() -> None:
    sizes = {
        name: len(path.read_text(encoding="utf-8").splitlines())
        for name, path in product_modules().items()
    }
    over = {name: n for name, n in sizes.items() if n > MODULE_LINE_LIMIT}
    assert not over, f"modules over {MODULE_LINE_LIMIT} lines: {over}"


def test_there_is_no_import_cycle() -> None:
    """No product module imports itself through others (a package's ``__init__`` counts
    as its own module)."""
    modules = product_modules()
    graph = {name: imports_of(path, modules) - {name} for name, path in modules.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        path.append(name)
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                cycle = [*path[path.index(target) :], target]
                pytest.fail("import cycle: " + " → ".join(cycle))
            if target not in state:
                visit(target)
        path.pop()
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
