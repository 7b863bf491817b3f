"""The ask service on a real database: ask and log, and what a logged answer's "Source [n]"
shows after the articles changed."""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from pathlib import Path

import pytest

from bot import service
from bot.service import Asked, Question
from bot.state import BotState, QuestionRecord
from index.build import build_snapshot
from index.corpus import load_articles
from index.ding import DingEntries
from index.engine import Engine
from index.lexicon import default_glossary
from index.store import IndexStore
from tests.conftest import cache_dir

ARTICLE = """---
title: Gipfel in Rom
date: 2026-02-01
---
Die Außenminister trafen sich am Montag in Rom.

Deutschland wird 500 Soldaten für die Mission stellen. Die Ausbildung beginnt im Herbst.

Frankreich kündigte Luftabwehrsysteme an.
"""
QUESTION = "Wie viele Soldaten stellt Deutschland?"
QUOTED = "Deutschland wird 500 Soldaten für die Mission stellen."


def engine_over(directory: Path, text: str, ding: DingEntries) -> Engine:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "rom.md").write_text(text, encoding="utf-8")
    articles, skipped = load_articles(directory)
    assert not skipped
    return Engine(build_snapshot(articles, ding, default_glossary(), cache_dir=cache_dir()))


async def asked_and_logged(tmp_path: Path, engine: Engine) -> tuple[BotState, int]:
    store = await IndexStore.open(tmp_path / "newsbot.sqlite3")
    state = await BotState.on(store.database)
    answer, qid = await service.ask(engine, state, Question(QUESTION, k=3), Asked("cli"))
    assert answer.answered and QUOTED in answer.results[0].quote
    return state, qid


async def test_ask_logs_what_the_buttons_need(tmp_path: Path, ding: DingEntries) -> None:
    engine = engine_over(tmp_path / "articles", ARTICLE, ding)
    state, qid = await asked_and_logged(tmp_path, engine)
    try:
        record = await state.question(qid)
        assert record is not None and record.origin == "cli"
        assert len(record.passage_keys) == len(record.quote_spans) == len(record.top_passages)
        source = await service.logged_source(engine, record, 1)
        assert source is not None and source.quote_text is not None
        assert QUOTED in source.quote_text
    finally:
        await state.database.close()


async def test_source_finds_the_quote_after_earlier_paragraphs_changed(
    tmp_path: Path, ding: DingEntries
) -> None:
    """A paragraph inserted before the quoted one, and the one before it longer: the quote
    is found in its paragraph by its text, not at its old offsets or paragraph number."""
    state, qid = await asked_and_logged(tmp_path, engine_over(tmp_path / "a", ARTICLE, ding))
    changed = ARTICLE.replace(
        "Die Außenminister trafen sich am Montag in Rom.",
        "Die Außenminister trafen sich am schönen Montag im sonnigen Rom.\n\n"
        "Die Gespräche dauerten bis in die Nacht.",
    )
    engine = engine_over(tmp_path / "b", changed, ding)
    try:
        record = await state.question(qid)
        assert record is not None
        source = await service.logged_source(engine, record, 1)
        assert source is not None and source.quote_text is not None
        assert source.quote_text.startswith(QUOTED), source.quote_text
        assert source.passage.ordinal == 3  # was paragraph 2
    finally:
        await state.database.close()


async def test_source_of_a_changed_paragraph_shows_it_without_a_stale_quote(
    tmp_path: Path, ding: DingEntries
) -> None:
    state, qid = await asked_and_logged(tmp_path, engine_over(tmp_path / "a", ARTICLE, ding))
    engine = engine_over(tmp_path / "b", ARTICLE.replace("500 Soldaten", "800 Soldaten"), ding)
    try:
        record = await state.question(qid)
        assert record is not None
        source = await service.logged_source(engine, record, 1)
        assert source is not None and source.quote is None  # the words changed: no bold span
        assert "800 Soldaten" in source.article.text[source.passage.start : source.passage.end]
    finally:
        await state.database.close()


async def test_a_question_logged_before_quote_spans_uses_its_logged_paragraph(
    tmp_path: Path, ding: DingEntries
) -> None:
    engine = engine_over(tmp_path / "articles", ARTICLE, ding)
    store = await IndexStore.open(tmp_path / "newsbot.sqlite3")
    state = await BotState.on(store.database)
    try:
        article_id = next(iter(engine.snapshot.articles))
        qid = await state.log_question(  # as the program before quote spans logged it
            QuestionRecord(QUESTION, "de", True, "answered", [f"{article_id}#2"], 1.0, None)
        )
        record = await state.question(qid)
        assert record is not None and record.quote_spans == []
        source = await service.logged_source(engine, record, 1)
        assert source is not None and source.passage.ordinal == 2
        assert source.quote_text is not None and QUOTED in source.quote_text
    finally:
        await store.close()


async def test_engine_work_runs_on_the_engines_own_thread_one_call_at_a_time() -> None:
    """Not on asyncio's default pool: the calls queue, and the event loop keeps the GIL
    free to run. The first call holds the thread until the second has been submitted."""
    first_running, second_submitted = threading.Event(), threading.Event()
    seen: list[tuple[str, str]] = []

    def work(name: str) -> str:
        seen.append((name, threading.current_thread().name))
        first_running.set()
        if name == "first":
            assert second_submitted.wait(300)
        return name

    first = asyncio.ensure_future(service.in_engine_thread(work, "first"))
    assert await asyncio.to_thread(first_running.wait, 300)
    second = asyncio.ensure_future(service.in_engine_thread(work, name="second"))
    await asyncio.sleep(0)  # the second call is handed to the pool
    second_submitted.set()
    assert await asyncio.gather(first, second) == ["first", "second"]
    assert [name for name, _ in seen] == ["first", "second"]
    threads = {thread for _, thread in seen}
    assert len(threads) == 1 and threads.pop().startswith("newsbot-engine"), seen


async def test_settle_warms_the_engine_and_hides_its_snapshot_from_the_collector(
    tmp_path: Path, ding: DingEntries
) -> None:
    """After ``settle`` a full collection no longer walks the snapshot's tables (they
    would hold the GIL, and the event loop, for 100-200 ms); after the next swap and
    ``settle`` the old snapshot is gone, cycles and all."""
    engine = engine_over(tmp_path / "a", ARTICLE, ding)
    try:
        old = engine.snapshot
        cycle: list[object] = [old]
        cycle.append(cycle)  # something of the old build's that refcounting alone won't free
        await service.settle(engine)
        tables = old.passages
        assert gc.get_freeze_count() > 0
        assert not any(o is tables for o in gc.get_objects())  # frozen: not scanned
        gone = weakref.finalize(old, lambda: None)
        del old, tables, cycle
        new = engine_over(tmp_path / "b", ARTICLE.replace("Rom", "Paris"), ding)
        engine.swap(new.snapshot)
        await service.settle(engine)
        assert not gone.alive
        assert QUOTED in engine.answer(QUESTION).results[0].quote
    finally:
        gc.unfreeze()


async def test_a_failing_warm_up_still_settles(
    tmp_path: Path,
    ding: DingEntries,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``settle`` runs in the follower and after /reindex: it must not end either."""
    engine = engine_over(tmp_path, ARTICLE, ding)

    def broken() -> None:
        raise RuntimeError("warm-up broke")

    monkeypatch.setattr(engine, "warm_up", broken)
    try:
        await service.settle(engine)
        assert gc.get_freeze_count() > 0
        assert "warming up the engine failed" in caplog.text
    finally:
        gc.unfreeze()
