"""``python -m benchmarks.bench`` runs end to end on a small corpus (a smoke test: no timing
assertions; ``make bench`` is the full run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.botcli import run_bot

pytestmark = pytest.mark.long  # about a minute: `make test-long`, and `make bench` in full

SIZES = ("500",)  # one size: the run end to end is the point, not the figures


def test_small_benchmark_runs_and_checks_exactness(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = run_bot(
        tmp_path / "db", "--sizes", ",".join(SIZES), "--json", str(out), module="benchmarks.bench"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(out.read_text())
    assert set(data["sizes"]) == set(SIZES)
    for size, report in data["sizes"].items():
        assert report["exact"] is True
        assert report["passages"] == int(size)
        for system in ("answer", "scoring", "terms", "rank_bm25", "fts5"):
            assert {"p50", "p95"} <= set(report["latency_ms"][system])
        assert report["reindex_s"] > 0 and report["cold_start_s"] > 0
        assert report["serve_peak_rss_mb"] > 0 and report["disk_mb"] > 0
        assert report["hybrid"]["answer_p95_ms"] > 0 and report["hybrid"]["vectors_mb"] > 0
        assert report["hybrid"]["serve_peak_rss_mb"] > report["serve_peak_rss_mb"] * 0.5
    assert data["sizes"][SIZES[-1]]["under_reindex"]["questions"] == 50
    semantic = data["semantic"]
    assert semantic["passages_per_s"] > 0 and semantic["sentences_per_s"] > 0
    assert semantic["answers_while_encoding"] > 0
    assert semantic["add_article_texts_encoded"] > 0
    assert "rank-bm25" in result.stdout and "FTS5" in result.stdout
