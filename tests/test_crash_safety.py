"""SIGKILL a real ``python -m bot reindex`` at twenty moments: the index survives every one.

Runs ``scripts/crash_reindex.py`` (see its docstring); ``python scripts/crash_reindex.py
--trials 50`` is the longer version of the same check.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "crash_reindex.py"
TRIALS = 20


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
def test_twenty_kills_during_reindex_never_lose_the_index(tmp_path: Path) -> None:
    crash = load_script()
    began = time.monotonic()
    results = crash.run_trials(TRIALS, tmp_path)
    elapsed = time.monotonic() - began

    report = "\n".join(r.line() for r in results) + "\n" + crash.summary(results)
    assert len(results) == TRIALS, report
    failed = [r for r in results if not r.passed]
    assert not failed, report
    assert {r.outcome for r in results} <= {"old", "new"}, report

    # The kill points really spread over the run: some kills left the old index active,
    # and the kills landed in several distinct phases of the reindex.
    outcomes = {r.outcome for r in results}
    phases = {r.phase for r in results}
    assert "old" in outcomes, report
    assert "new" in outcomes or len(phases) >= 3, report
    assert len(phases) >= 2, report
    assert {"start", "build"} & phases, report
    delays = sorted(r.fraction for r in results)
    assert delays[0] < 0.1 and delays[-1] > 0.9, report
    assert elapsed < 150, f"took {elapsed:.0f} s\n{report}"

    # Only failed trials leave their databases behind.
    assert not list((tmp_path / "trials").glob("*/*.sqlite3")), report
