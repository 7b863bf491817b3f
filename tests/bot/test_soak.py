"""The soak in miniature: 500 mixed questions with dropped sockets and a 429 storm.

No timing assertions (the machines are shared); the figures are the soak command's report.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.soak import soak
from index.records import Snapshot


async def test_soak_500_with_faults(tmp_path: Path, seed_snapshot: Snapshot) -> None:
    report = await soak(500, seed_snapshot, tmp_path, faults=True, deadline_s=600)
    assert report.errors == 0, report.error_samples
    assert report.lost == 0, report.error_samples
    assert report.replies == 500
    assert report.resumes >= 3  # the gateway was dropped three times and resumed each time
    assert report.rate_limited >= 20  # the 429 storm was served, and retried through
    assert set(report.kinds) == {"ask", "mention", "search", "thumbs", "more"}
    assert report.rss_start_mb > 0 and report.rss_end_mb > 0
