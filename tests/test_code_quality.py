"""ruff and mypy are part of the definition of done; run them with the tests."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

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


# Each store's storage layer: the only places that write SQL.
STORAGE_LAYERS = (
    REPO / "index" / "database.py",  # the connection the stores share, migrations
    REPO / "index" / "store.py",  # the search index
    REPO / "index" / "vector_cache.py",  # the machine-wide embedding cache
    REPO / "bot" / "state.py",  # the bot's state
)


def test_all_sql_lives_in_a_storage_layer() -> None:
    """Raw SQL is only written in a store's storage layer, where review sees it all.

    The one exception is the benchmark's FTS5 baseline, which never touches the project's
    database."""
    for path in [*REPO.glob("index/*.py"), *REPO.glob("bot/**/*.py")]:
        if path in STORAGE_LAYERS or path == REPO / "bot" / "bench.py":
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
