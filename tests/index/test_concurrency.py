"""Answers keep coming while a reindex runs (issue: performance, concurrency).

The questions are asked when the reindex's steps begin (its progress events), so they are
asked during the reindex by construction, on any machine, whatever the corpus size; each
is answered before the reindex is over. Only correctness and order are asserted here; the
latencies and the event-loop lag under reindex are measured by ``python -m benchmarks.bench``.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from benchmarks.synthetic import synthetic_articles, write_corpus
from index.engine import Engine
from index.pipeline import reindex
from index.records import Answer, Snapshot
from index.sources import Sources
from index.store import IndexStore
from tests.conftest import SEEDS, cache_dir, dictionary_path

QUESTIONS = [
    "What did the US commit to?",
    "Wer nahm an dem Treffen teil?",
    "Wie reagiert der Kreml auf ausländische Truppen?",
    "What did Germany promise on air defence?",
    "Was sagte Regierungssprecher Kornelius?",
]
PASSAGES = 1_500  # the size does not matter for what is asserted
ASKED = 50
CEILING = 300  # seconds: a hung reindex, not a slow one (it takes seconds)


async def test_fifty_questions_during_a_reindex(tmp_path: Path, seed_snapshot: Snapshot) -> None:
    corpus = tmp_path / "corpus"
    write_corpus(synthetic_articles(PASSAGES, SEEDS), corpus)
    async with await IndexStore.open(tmp_path / "db.sqlite3") as storage:
        await storage.save_snapshot(seed_snapshot)
        engine = Engine(await storage.load_snapshot())
        old_build = engine.snapshot.info.build_id
        lags: list[float] = []
        done = asyncio.Event()
        asked: list[asyncio.Task[tuple[Answer, bool]]] = []
        job: asyncio.Task[object] | None = None

        async def probe() -> None:
            while not done.is_set():
                began = time.perf_counter()
                await asyncio.sleep(0.01)
                lags.append(time.perf_counter() - began - 0.01)

        async def ask(i: int) -> tuple[Answer, bool]:
            answer = await asyncio.to_thread(engine.answer, QUESTIONS[i % len(QUESTIONS)])
            return answer, job is not None and not job.done()

        def progress(stage: str, done_: int, total: int) -> None:
            # Ten questions when each of the first steps begins (the event loop's thread).
            if done_ == 0 and len(asked) < ASKED:
                asked.extend(asyncio.create_task(ask(len(asked) + i)) for i in range(10))

        prober = asyncio.create_task(probe())
        sources = Sources(corpus, dictionary_path(), cache_dir=cache_dir())
        job = asyncio.create_task(reindex(storage, sources, engine, progress))
        report = await asyncio.wait_for(job, CEILING)
        answers = await asyncio.wait_for(asyncio.gather(*asked), CEILING)
        done.set()
        await prober

    assert len(answers) == ASKED
    for answer, during in answers:
        assert during, "an answer waited for the reindex to finish"
        assert answer.answered, answer.question
        for r in answer.results:
            assert r.quote and r.quote in r.passage
    assert report.passages == PASSAGES
    assert engine.snapshot.info.build_id == report.build_id != old_build
    assert lags  # the loop kept turning; the figures are the benchmark's business
