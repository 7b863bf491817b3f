"""``python -m bot bench --quick`` runs end to end (a smoke test: no timing assertions)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, cache_dir


def test_quick_benchmark_runs_and_checks_exactness(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {**os.environ, "CACHE_DIR": str(cache_dir()), "DATABASE_PATH": str(tmp_path / "db")}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "bench", "--quick", "--json", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(out.read_text())
    assert set(data["sizes"]) == {"1000", "10000"}
    for size, report in data["sizes"].items():
        assert report["exact"] is True
        assert report["passages"] == int(size)
        for system in ("answer", "scoring", "terms", "rank_bm25", "fts5"):
            assert {"p50", "p95"} <= set(report["latency_ms"][system])
        assert report["reindex_s"] > 0 and report["cold_start_s"] > 0
        assert report["serve_peak_rss_mb"] > 0 and report["disk_mb"] > 0
    assert data["sizes"]["10000"]["under_reindex"]["questions"] == 50
    assert "rank-bm25" in result.stdout and "FTS5" in result.stdout
