"""The bot's state on real database files: its migrations (also from a database made
before the index store and the bot state were split), the question log and feedback."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

import pytest

from bot import schema as state_module
from bot.questions import question_key
from bot.startup import carry_over_state
from bot.state import NOTHING_TO_SEARCH, OUTSIDE_FILTERS, BotState, QuestionRecord, QuestionStats
from index import schema as store_module
from index.database import StorageError
from index.records import Scope
from index.sqlite import SqliteDatabase
from index.store import IndexStore
from tests.conftest import REPO

LEGACY = json.loads((REPO / "tests" / "data" / "legacy-migrations.json").read_text())


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "newsbot.sqlite3"


@asynccontextmanager
async def stores(path: str | Path) -> AsyncIterator[tuple[IndexStore, BotState]]:
    """Both stores on one connection, as the bot and the command line open them."""
    async with await IndexStore.open(path) as store:
        yield store, await BotState.on(store.database)


def schema(path: Path) -> dict[str, set[str]]:
    """Each table's columns: what two ways of reaching the same schema must agree on."""
    with closing(sqlite3.connect(path)) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' AND name <> 'schema_versions'"
            )
        ]
        return {t: {c[1] for c in conn.execute(f"PRAGMA table_info({t})")} for t in tables}


def record(question: str, answered: bool, **extra: Any) -> QuestionRecord:
    return QuestionRecord(
        question=question,
        language="en" if question.startswith("What") else "de",
        answered=answered,
        reason="answered" if answered else "not_covered",
        top_passages=["000_632348a179117fcd#1"] if answered else [],
        latency_ms=3.5,
        build_id="b1",
        **extra,
    )


async def test_each_store_has_its_own_version(db_path: Path) -> None:
    async with stores(db_path) as (store, state):
        assert await store.schema_version() == len(store_module.MIGRATIONS["sqlite"])
        assert await state.schema_version() == len(state_module.MIGRATIONS["sqlite"])
    with closing(sqlite3.connect(db_path)) as conn:
        versions = dict(conn.execute("SELECT store, version FROM schema_versions"))
    assert versions == {
        "index": len(store_module.MIGRATIONS["sqlite"]),
        "bot": len(state_module.MIGRATIONS["sqlite"]),
    }


@pytest.mark.parametrize("legacy_version", range(len(LEGACY["migrations"]) + 1))
async def test_a_database_from_before_the_split_keeps_its_data_and_ends_in_todays_schema(
    tmp_path: Path, legacy_version: int
) -> None:
    """A database made by the single-schema program, at any of its versions, opens with
    both stores migrated on from where it stood: the same tables and columns as a new
    database, and the question it logged still there."""
    fresh = tmp_path / "fresh.sqlite3"
    async with stores(fresh):
        pass
    old = tmp_path / "old.sqlite3"
    with closing(sqlite3.connect(old)) as conn:
        for statements in LEGACY["migrations"][:legacy_version]:
            for statement in statements:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {legacy_version}")
        if legacy_version:
            conn.execute(
                "INSERT INTO questions (asked_at, question, language, answered, reason,"
                " top_passages, latency_ms, origin) VALUES ('2026-01-01', 'Wer?', 'de', 0,"
                " 'not_covered', '[]', 1.0, 'cli')"
            )
        conn.commit()
    async with stores(old) as (_, state):
        logged = await state.question(1)
        assert (logged is not None and logged.question == "Wer?") == bool(legacy_version)
        assert await state.log_question(record("Noch eine Frage?", False)) > 0
    assert schema(old) == schema(fresh)


async def test_reopening_does_not_rerun_migrations(db_path: Path) -> None:
    async with stores(db_path) as (_, state):
        qid = await state.log_question(record("Wer?", False))
    async with stores(db_path) as (_, state):
        logged = await state.question(qid)
        assert logged is not None and logged.question == "Wer?"


async def test_a_failing_migration_changes_nothing(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each step is one transaction: a step that fails leaves the schema where it was."""
    database = await SqliteDatabase.open(db_path)
    try:
        broken = (
            *state_module.MIGRATIONS["sqlite"][:2],
            state_module.Migration(3, ("CREATE TABLE x (a)", "NOT SQL")),
        )
        with pytest.raises(StorageError):
            await database.migrate("bot", {"sqlite": broken})
        assert await database.version("bot") == 2
        tables = {
            r[0] for r in await database.conn.execute_fetchall("SELECT name FROM sqlite_master")
        }
        assert "x" not in tables and "guild_settings" in tables
    finally:
        await database.close()


async def test_question_log_and_feedback(database_target: str | Path) -> None:
    async with stores(database_target) as (store, state):
        first = await state.log_question(
            record(
                "What did the US commit to?",
                True,
                origin="discord",
                user_id="42",
                guild_id="7",
                channel_id="8",
                passage_keys=["k1"],
                quote_spans=[(10, 42)],
            )
        )
        assert first > 0
        stored = await state.question(first)
        assert stored is not None
        assert stored.id == first
        assert stored.question == "What did the US commit to?"
        assert stored.language == "en"
        assert stored.answered is True
        assert stored.reason == "answered"
        assert stored.top_passages == ["000_632348a179117fcd#1"]
        assert stored.passage_keys == ["k1"] and stored.quote_spans == [(10, 42)]
        assert stored.latency_ms == 3.5
        assert stored.build_id == "b1"
        assert stored.origin == "discord"
        assert stored.asked_at
        assert await state.question(first + 1000) is None

        unanswered = [
            "Wer hat die WM gewonnen?",
            "Wie wird das Wetter?",
            "Wer hat die WM gewonnen?",
            "Wer hat die WM gewonnen?",
            "Wie wird das Wetter?",
            "Was kostet Brot?",
        ]
        ids = [await state.log_question(record(q, False)) for q in unanswered]
        assert len(set(ids)) == len(ids) and first not in ids
        nothing = dataclasses.replace(record("???", False), reason=NOTHING_TO_SEARCH)
        filtered = dataclasses.replace(record("Merz?", False), reason=OUTSIDE_FILTERS)
        searched = dataclasses.replace(record("Kreml", False), origin="search")
        for _ in range(4):  # asked, but no gap in the articles: not among the unanswered
            await state.log_question(nothing)
        # nor a question its filters left no passage for, nor a search (a list, not a question)
        await state.log_question(filtered)
        await state.log_question(searched)
        gaps = [g.question for g in await state.gaps()]
        assert "Wer hat die WM gewonnen?" in gaps
        assert not {"???", "Merz?", "Kreml"} & set(gaps)
        second = await state.log_question(record("Wer nahm an dem Treffen teil?", True))
        again = await state.question(ids[0])
        assert again is not None and again.answered is False

        await state.add_feedback(first, "alice", 1)
        await state.add_feedback(first, "bob", 1)
        await state.add_feedback(second, "alice", -1)
        # A second vote by the same user on the same question replaces the first.
        await state.add_feedback(first, "bob", -1)
        with pytest.raises(ValueError):
            await state.add_feedback(first, "carol", 0)
        with pytest.raises(ValueError):
            await state.add_feedback(first, "carol", 2)

        stats = await state.question_stats()
        votes = await store.database.fetchall(
            "SELECT user_id, value FROM feedback WHERE question_id = ? ORDER BY user_id", (first,)
        )
    assert stats.asked == 14
    assert stats.answered == 2
    assert stats.thumbs_up == 1
    assert stats.thumbs_down == 2
    assert stats.top_unanswered == [
        ("Wer hat die WM gewonnen?", 3),
        ("Wie wird das Wetter?", 2),
        ("Was kostet Brot?", 1),
    ]
    assert votes == [("alice", 1), ("bob", -1)]


async def test_a_question_in_other_case_or_punctuation_is_one_gap(
    database_target: str | Path,
) -> None:
    """SQLite's lower() folds ASCII only: "Über" and "über" were two questions in /stats."""
    asked = ["Über die Truppen?", "über die  truppen", "ÜBER DIE TRUPPEN!!", "Wer zahlt?"]
    async with stores(database_target) as (_, state):
        for question in asked:
            await state.log_question(record(question, False))
        stats = await state.question_stats()
        gaps = await state.gaps()
    assert [n for _, n in stats.top_unanswered] == [3, 1]
    assert stats.top_unanswered[0][0] == "ÜBER DIE TRUPPEN!!"  # the latest spelling
    assert [(g.asked, g.thumbs_down) for g in gaps] == [(3, 0), (1, 0)]
    assert gaps[0].question == "ÜBER DIE TRUPPEN!!"
    assert (
        question_key("Über die  Truppen?")
        == question_key("über die truppen")
        == ("über die truppen")
    )
    assert question_key("???") == "???"  # no word: the text itself
    assert question_key("U\u0308ber") == question_key("Über")  # decomposed umlaut


async def test_questions_logged_before_the_key_get_theirs_and_group_with_the_new(
    database_target: str | Path,
) -> None:
    async with stores(database_target) as (store, state), store.database.transaction() as tx:
        # the database as the version before the key left it: no column, one step back
        await tx.execute("ALTER TABLE questions DROP COLUMN question_key")
        await tx.execute("UPDATE schema_versions SET version = version - 1 WHERE store = 'bot'")
        for question in ("Wer zahlt?", "WER ZAHLT"):  # as that version logged them
            await tx.execute(
                "INSERT INTO questions (asked_at, question, language, answered, reason,"
                " top_passages, latency_ms, origin) VALUES ('2026-01-01', ?, 'de', 0,"
                " 'not_covered', '[]', 1.0, 'cli')",
                (question,),
            )
    async with stores(database_target) as (store, state):
        await state.log_question(record("wer zahlt", False))
        keys = await store.database.fetchall("SELECT DISTINCT question_key FROM questions")
        stats = await state.question_stats()
    assert keys == [("wer zahlt",)]
    assert [n for _, n in stats.top_unanswered] == [3]


async def test_question_stats_on_empty_log(database_target: str | Path) -> None:
    async with stores(database_target) as (_, state):
        assert await state.question_stats() == QuestionStats(0, 0, 0, 0)


async def test_concurrent_writers_on_one_connection_never_meet_an_open_transaction(
    database_target: str | Path, seed_snapshot: Any
) -> None:
    """The bot logs questions while a reindex writes a build on the same connection: the
    writes are serialised, none fails with "cannot start a transaction within a
    transaction", and every row lands."""
    async with stores(database_target) as (store, state):
        questions = [state.log_question(record(f"Frage {i}?", False)) for i in range(40)]
        audits = [state.audit(1, 2, "stats", True) for _ in range(20)]
        await asyncio.gather(store.save_snapshot(seed_snapshot), *questions, *audits)
        assert (await state.question_stats()).asked == 40
        assert len(await state.audit_log(100)) == 20
        assert await store.active_build_id() == seed_snapshot.info.build_id


async def test_a_writer_cancelled_while_waiting_for_the_lock_leaves_no_transaction_open(
    db_path: Path,
) -> None:
    """Cancelled while its BEGIN waits for another process's write lock (the bot shutting
    down, Ctrl-C): aiosqlite's thread still runs the BEGIN; the connection must not stay
    inside that transaction, or every later write would fail."""
    database = await SqliteDatabase.open(db_path, busy_timeout_ms=500)
    try:
        state = await BotState.on(database)
        with closing(sqlite3.connect(db_path, isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
            writer = asyncio.create_task(state.log_question(record("Wer?", False)))
            while not database._writing.locked():  # until the writer waits for the lock
                await asyncio.sleep(0)
            writer.cancel()
            with pytest.raises(asyncio.CancelledError):
                await writer
            other.execute("COMMIT")
        assert not database.conn.in_transaction
        assert await state.log_question(record("Noch eine?", False)) > 0
    finally:
        await database.close()


async def test_a_rebuild_carries_every_bot_table_with_every_column(db_path: Path) -> None:
    async with stores(db_path):
        pass
    bot_tables = {
        t: columns
        for t, columns in schema(db_path).items()
        if t not in {"meta", "builds", "articles", "passages", "vectors"}  # the index's
    }
    carried = {}
    for table, select, insert in state_module.CARRIED:
        named = select.removeprefix("SELECT ").split(" FROM ")[0].split(", ")
        assert f" FROM {table}" in select and insert.startswith(f"INSERT INTO {table} (")
        inserted = insert.split(" (", 1)[1].split(") VALUES ")[0].split(", ")
        assert inserted == named  # the same columns, in the same order
        assert insert.count("?") == len(named)
        carried[table] = set(named)
    assert carried == bot_tables  # a new table or column is carried too


async def test_a_backup_of_an_older_bot_schema_is_brought_up_to_date_and_carried(
    db_path: Path, tmp_path: Path
) -> None:
    old_steps = state_module.MIGRATIONS["sqlite"][:-1]  # before the last column was added
    old = tmp_path / "old.sqlite3"
    database = await SqliteDatabase.open(old)
    try:
        await database.migrate("bot", {"sqlite": old_steps})
        async with database.transaction() as tx:
            await tx.execute(
                "INSERT INTO questions (asked_at, question, language, answered, reason,"
                " top_passages, latency_ms, origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                ("2026-12-06T10:00:00", "Wer nahm teil?", "de", 1, "answered", "[]", 3.0, "cli"),
            )
    finally:
        await database.close()
    async with stores(db_path) as (_, state):
        database = await SqliteDatabase.open(old)
        try:
            with pytest.raises(StorageError, match="bot tables are version"):
                await state.carry_over(BotState(database))  # as it is: another version
        finally:
            await database.close()
        note = await carry_over_state(state.database, old)
        assert "the question log (1)" in note, note
        assert (await state.question_stats()).asked == 1
    with closing(sqlite3.connect(old)) as conn:  # the backup itself is only read
        version = conn.execute("SELECT version FROM schema_versions WHERE store = 'bot'")
        assert version.fetchone()[0] == len(old_steps)


async def test_a_carry_over_that_fails_midway_copies_nothing(db_path: Path, tmp_path: Path) -> None:
    async with stores(tmp_path / "old.sqlite3") as (_, old), stores(db_path) as (_, state):
        for question in ("What did the US commit to?", "Wer nahm teil?"):
            await old.log_question(record(question, True))
        await state.log_question(record("What did the US commit to?", True))
        await state.log_question(record("Wer nahm teil?", True))
        with closing(sqlite3.connect(db_path)) as conn:  # the first row copies, the second
            conn.execute("DELETE FROM questions WHERE id = 1")  # clashes on its id
            conn.commit()
        with pytest.raises(StorageError):
            await state.carry_over(old)
        assert (await state.question_stats()).asked == 1  # nothing half-copied


def test_nothing_to_search_is_the_engines_reason(seed_engine: Any) -> None:
    assert seed_engine.answer("???").reason == NOTHING_TO_SEARCH


def test_outside_the_filters_is_the_engines_reason(seed_engine: Any) -> None:
    nowhere = Scope(None, dt.date(2031, 1, 1), None)  # no article is from then on
    assert seed_engine.answer("Wer nahm teil?", scope=nowhere).reason == OUTSIDE_FILTERS
