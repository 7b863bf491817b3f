"""How long ``python -m bot reindex`` takes, as a user runs it: with nothing changed, and
after adding one article to the seeds.

Each trial adds a different synthetic article (a new vocabulary, so no compiled lexicon
is reused), times the whole command (process start, the reindex child, activation), then
takes the article out again, untimed. The caches in ``--cache-dir`` (the dictionary store,
simplemma's dictionary) are what a user's ``make run`` leaves; the first, untimed reindex
makes them when they are missing.

    python -m benchmarks.reindex_time [--trials 5] [--seeds seeds] [--cache-dir data/cache]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.measure import report
from benchmarks.synthetic import synthetic_articles, write_corpus
from index.corpus import load_articles

ROOT = Path(__file__).resolve().parent.parent


def reindex(env: dict[str, str]) -> float:
    """Seconds of one ``python -m bot reindex``; fails loudly when the command fails."""
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "reindex"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"error: reindex failed: {(done.stderr or done.stdout).strip()}")
    return seconds


def measure(seeds: Path, cache_dir: Path, trials: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="newsbot-reindex-time-") as tmp:
        articles = Path(tmp) / "articles"
        shutil.copytree(seeds, articles)
        env = {
            **os.environ,
            "ARTICLES_DIR": str(articles),
            "DATABASE_PATH": str(Path(tmp) / "index.sqlite3"),
            "DATABASE_URL": "",
            "CACHE_DIR": str(cache_dir),
            "ENCODER": "none",  # the BM25 index; encoding runs after it, in the background
            "DISCORD_TOKEN": "",
        }
        reindex(env)  # the first index, and any cache that is missing: not timed
        unchanged = [reindex(env) for _ in range(trials)]
        real = load_articles(seeds)[0]
        seed_ids, seed_passages = {a.id for a in real}, sum(len(a.passages) for a in real)
        added: list[float] = []
        for trial in range(trials):
            # one new article of eight paragraphs, another vocabulary each trial
            fresh = [
                a
                for a in synthetic_articles(
                    seed_passages + 8, seeds, seed=1000 + trial, vocabulary_size=20_000
                )
                if a.id not in seed_ids
            ][:1]
            extra = Path(tmp) / f"extra-{trial}"
            write_corpus(fresh, extra)
            (file,) = extra.iterdir()
            target = articles / f"zz-added-{trial}{file.suffix}"
            shutil.copyfile(file, target)
            added.append(reindex(env))
            target.unlink()
            reindex(env)  # back to the seeds, untimed
    return {
        "trials": trials,
        "unchanged_median_s": round(statistics.median(unchanged), 3),
        "add_one_median_s": round(statistics.median(added), 3),
        "add_one_max_s": round(max(added), 3),
        "add_one_vs_unchanged": round(statistics.median(added) / statistics.median(unchanged), 2),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "data" / "cache")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    figures = measure(args.seeds, args.cache_dir, max(args.trials, 1))
    report(figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
