"""Sweep one tunable of the quote choice on the answer-span dev sets.

    .venv/bin/python scripts/sweep_quotes.py --field quote_similarity --values 0,0.5,1,2
    .venv/bin/python scripts/sweep_quotes.py --field neighbour_gap --values=-1,0.01,0.02

    .venv/bin/python scripts/sweep_quotes.py --ranking lexical --field continuation --values 0,3

hit@1, quote@1 (the first quote holds the gold answer span) and the first quote's mean
length per language for each value, under ``--ranking`` (hybrid by default); everything
else as configured. Nothing is written. ``--also field=value,…`` holds other fields fixed
for the whole sweep, as the rows of EVALUATION.md that move several fields together:

    .venv/bin/python scripts/sweep_quotes.py --field context_after --values 0,0.2 \
        --also context_before=0.5,neighbour_gap=0.02
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.settings import load_settings  # noqa: E402
from bot.startup import open_engine  # noqa: E402
from index.evaluation import evaluate, load_questions  # noqa: E402

XQUAD = ROOT.parent / "shared" / "eval" / "xquad-dev"


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--field", default="quote_similarity", help="an EngineConfig field")
    parser.add_argument("--values", default="0,0.25,0.5,1,2,4", help="comma separated")
    parser.add_argument("--ranking", default="hybrid", choices=("hybrid", "lexical", "dense"))
    parser.add_argument("--also", default="", help="other fields held fixed: a=1,b=2")
    args = parser.parse_args()
    values = [float(v) for v in args.values.split(",")]
    also = dict(pair.split("=", 1) for pair in args.also.split(",") if pair)
    with tempfile.TemporaryDirectory(prefix="newsbot-sweep-") as tmp:
        settings = load_settings(None).model_copy(
            update={"articles_dir": XQUAD / "articles", "database_path": Path(tmp) / "x.db"}
        )
        opened = await open_engine(settings)
        await opened.close()
        engine = opened.engine
    sets = {name: load_questions(XQUAD / f"{name}.jsonl") for name in ("en-answer", "de-answer")}
    fixed = engine.config
    base = dataclasses.replace(
        fixed, **{k: type(getattr(fixed, k))(float(v)) for k, v in also.items()}
    )
    for value in values:
        kind = type(getattr(base, args.field))
        engine.config = dataclasses.replace(base, **{args.field: kind(value)})
        cells = []
        for name, questions in sets.items():
            report = evaluate(engine, questions, ranking=args.ranking)
            firsts = [o.answer.results[0].quote for o in report.outcomes if o.answer.results]
            mean = sum(map(len, firsts)) / max(len(firsts), 1)
            cells.append(
                f"{name} hit@1 {report.hit_at_1:.3f} quote@1 {report.quote_at_1:.3f} "
                f"({mean:.0f} chars)"
            )
        print(f"{args.field} {value:5.3f}  " + " · ".join(cells), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
