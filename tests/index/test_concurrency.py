"""Answers keep coming while a reindex of 10k passages runs (issue: performance, concurrency).

Only correctness is asserted here (every answer arrives, quotes verbatim); the latencies and
the event-loop lag under reindex are measured and reported by ``python -m bot bench``.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from index.engine import Answer, Engine, Snapshot
from index.pipeline import Sources, reindex
from index.storage import Storage
from index.synthetic import synthetic_articles, write_corpus
from tests.conftest import SEEDS, cache_dir, dictionary_path

QUESTIONS = [
    "What did the US commit to?",
    "Wer nahm an dem Treffen teil?",
    "Wie reagiert der Kreml auf ausländische Truppen?",
    "What did Germany promise on air defence?",
    "Was sagte Regierungssprecher Kornelius?",
]


async def test_fifty_questions_during_a_10k_reindex(
    tmp_path: Path, seed_snapshot: Snapshot
) -> None:
    corpus = tmp_path / "corpus"
    write_corpus(synthetic_articles(10_000, SEEDS), corpus)
    async with await Storage.open(tmp_path / "db.sqlite3") as storage:
        await storage.save_snapshot(seed_snapshot)
        engine = Engine(await storage.load_snapshot())
        old_build = engine.snapshot.info.build_id
        lags: list[float] = []
        done = asyncio.Event()

        async def probe() -> None:
            while not done.is_set():
                began = time.perf_counter()
                await asyncio.sleep(0.01)
                lags.append(time.perf_counter() - began - 0.01)

        async def ask(i: int) -> Answer:
            await asyncio.sleep(0.02 * i)  # spread over the reindex
            return await asyncio.to_thread(engine.answer, QUESTIONS[i % len(QUESTIONS)])

        prober = asyncio.create_task(probe())
        job = asyncio.create_task(
            reindex(storage, Sources(corpus, dictionary_path(), cache_dir=cache_dir()), engine)
        )
        answers = await asyncio.wait_for(asyncio.gather(*(ask(i) for i in range(50))), 120)
        report = await asyncio.wait_for(job, 300)
        done.set()
        await prober

    assert len(answers) == 50
    for answer in answers:
        assert answer.answered, answer.question
        for r in answer.results:
            assert r.quote and r.quote in r.passage
    assert report.passages == 10_000
    assert engine.snapshot.info.build_id == report.build_id != old_build
    assert lags  # the loop kept turning; the figures are the benchmark's business
