"""One BLAS thread per process once an engine exists (index/threads.py)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO, SEEDS

CHECK = f"""
from threadpoolctl import threadpool_info
import numpy
from pathlib import Path
SEEDS = Path({str(SEEDS)!r})
before = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
from index.build import build_snapshot
from index.corpus import load_articles
from index.engine import Engine
Engine(build_snapshot(load_articles(SEEDS)[0], None, ()))
after = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
print(before, after)
"""


def test_an_engine_leaves_blas_one_thread() -> None:
    """In a fresh process (the limit is for the whole process) with two BLAS threads."""
    env = {"OPENBLAS_NUM_THREADS": "2", "PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [sys.executable, "-c", CHECK], env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    before, after = run.stdout.strip().split("] [")
    assert before == "[2", run.stdout
    assert after == "1]", run.stdout
