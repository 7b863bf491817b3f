"""Sweep the quote choice's sentence-similarity weight on the answer-span dev sets.

    .venv/bin/python scripts/sweep_quotes.py

quote@1 (the first quote holds the gold answer span) per language, for each
``quote_similarity``; everything else as configured. Nothing is written.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.cli import open_engine  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from index.evaluation import evaluate, load_questions  # noqa: E402

XQUAD = ROOT.parent / "shared" / "eval" / "xquad-dev"
WEIGHTS = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)


async def main() -> int:
    with tempfile.TemporaryDirectory(prefix="newsbot-sweep-") as tmp:
        settings = load_settings(None).model_copy(
            update={"articles_dir": XQUAD / "articles", "database_path": Path(tmp) / "x.db"}
        )
        storage, engine = await open_engine(settings)
        await storage.close()
    sets = {name: load_questions(XQUAD / f"{name}.jsonl") for name in ("en-answer", "de-answer")}
    base = engine.config
    for weight in WEIGHTS:
        engine.config = dataclasses.replace(base, quote_similarity=weight)
        cells = [
            f"{name} quote@1 {evaluate(engine, questions).quote_at_1:.3f}"
            for name, questions in sets.items()
        ]
        print(f"quote_similarity {weight:4.2f}  " + " · ".join(cells), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
