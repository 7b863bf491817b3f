"""The PostgreSQL figures of ``bench`` alone, at any size: a synthetic corpus of N passages
is built once, stored in SQLite and in a throwaway PostgreSQL, then loaded from both, and
a new build is swapped into a second connection's engine (NOTIFY, load, swap).

    python -m benchmarks.postgres_load --passages 100000 [--json FILE]

The full ``make bench`` reports the same figures next to everything else; this is the
quick way to the 100k row.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.bench import postgres_figures
from benchmarks.measure import report
from benchmarks.synthetic import synthetic_articles, write_corpus
from index.ding import DING_DEFAULT_PATH
from index.sources import Sources, build_from_sources
from index.store import IndexStore
from tests.support import postgres as postgres_support

ROOT = Path(__file__).resolve().parent.parent


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "data" / "cache")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if (why_not := postgres_support.missing()) is not None:
        raise SystemExit(f"error: {why_not}")
    with tempfile.TemporaryDirectory(prefix="newsbot-pgload-") as tmp:
        corpus = Path(tmp) / "corpus"
        write_corpus(synthetic_articles(args.passages, args.seeds), corpus)
        began = time.perf_counter()
        snapshot = build_from_sources(Sources(corpus, DING_DEFAULT_PATH, None, args.cache_dir))
        built = time.perf_counter() - began
        sqlite_db = Path(tmp) / "index.sqlite3"

        async def store_sqlite() -> None:
            async with await IndexStore.open(sqlite_db) as storage:
                await storage.save_snapshot(snapshot)

        asyncio.run(store_sqlite())
        with postgres_support.running() as server:
            figures = asyncio.run(postgres_figures(snapshot, sqlite_db, server.fresh_schema()))
    result = {"passages": len(snapshot.passages), "build_s": round(built, 1), **figures}
    report(result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
