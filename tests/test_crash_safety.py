"""SIGKILL a real ``python -m bot reindex`` at each named crash point and at a few random
moments: the index survives every kill.

Runs ``scripts/crash_reindex.py`` (see its docstring) on the tests' articles;
``make crash`` (``scripts/crash_reindex.py --trials 50``) is the long run.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from index.crashpoints import CRASH_POINTS
from tests.conftest import REPO, SEEDS

SCRIPT = REPO / "scripts" / "crash_reindex.py"
RANDOM_KILLS = 4


def load_script() -> ModuleType:
    name = "crash_reindex"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SCRIPT)
    assert spec is not None and spec.loader is not None, SCRIPT
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_kills_at_named_points_and_random_moments_never_lose_the_index(tmp_path: Path) -> None:
    crash = load_script()
    prep = crash.prepare(tmp_path, articles=SEEDS)

    named = crash.run_named_points(prep)
    report = "\n".join(r.line() for r in named)
    assert [r.point for r in named] == list(CRASH_POINTS), report
    for result in named:
        assert result.passed, report
    # Before the switch is committed the old build serves; after it, the new one.
    assert {r.point: r.outcome for r in named} == {
        "after_parse": "old",
        "mid_write": "old",
        "before_activation": "old",
        "after_activation": "new",
    }, report

    randoms = crash.run_random_kills(prep, RANDOM_KILLS, first_number=len(named) + 1)
    report = "\n".join(r.line() for r in [*named, *randoms]) + "\n" + crash.summary(randoms)
    assert len(randoms) == RANDOM_KILLS, report
    # Where a random kill lands depends on the machine: no assertion on it, only that
    # the index survived it.
    assert all(r.passed for r in randoms), report
    assert {r.outcome for r in randoms} <= {"old", "new"}, report

    # Only failed trials leave their databases behind.
    assert not list((tmp_path / "trials").glob("*/*.sqlite3")), report
