"""One BLAS thread per process once an engine exists (index/threads.py)."""

from __future__ import annotations

from tests.conftest import SEEDS
from tests.support.fresh_python import run_fresh_python

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
    out = run_fresh_python(CHECK, {"OPENBLAS_NUM_THREADS": "2"})
    before, after = out.strip().split("] [")
    assert before == "[2", out
    assert after == "1]", out
