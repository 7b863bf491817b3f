"""The index store on real database files: migrations, snapshots, reindex safety."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest

import index.store as storage_module
from index.backends import open_database
from index.bm25 import POSTINGS_FORMAT
from index.database import StorageError
from index.engine import Engine
from index.lexicon import LEXICON_FORMAT
from index.pipeline import reindex
from index.records import Answer, Snapshot
from index.schema import MIGRATIONS
from index.sources import Sources
from index.store import IndexStore, NoIndexError, StaleIndexError
from index.text import WORD_RE
from tests.conftest import SEEDS

QUESTIONS = (
    "What did the US commit to?",
    "Wer nahm an dem Treffen teil?",
    "How many countries are willing to send troops?",
    "Was sagte Macron über Russland?",
)


class InjectedFailure(RuntimeError):
    """Raised by a progress callback to break a reindex in the middle."""


@contextmanager
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    """A second, plain sqlite3 connection to look at what is really in the file."""
    with closing(sqlite3.connect(path)) as conn:
        yield conn


async def count(target: str | Path, sql: str, *params: Any) -> int:
    """A count read through a connection of its own, on either backend."""
    database = await open_database(target)
    try:
        row = await database.fetchone(sql, params)
    finally:
        await database.close()
    assert row is not None
    return int(row[0])


def fingerprint(answer: Answer) -> tuple[Any, ...]:
    """Everything a user sees of an answer, except the timing."""
    return (
        answer.language,
        answer.answered,
        answer.reason,
        answer.coverage,
        answer.total_hits,
        tuple(str(u) for u in answer.understood_as),
        tuple(
            (
                r.rank,
                r.passage_id,
                r.article_id,
                r.title,
                r.date,
                r.section,
                r.paragraph,
                r.quote,
                r.quote_start,
                r.quote_end,
                r.passage,
                r.highlights,
                r.score,
                r.matched,
            )
            for r in answer.results
        ),
    )


def fingerprints(engine: Engine) -> list[tuple[Any, ...]]:
    return [fingerprint(engine.answer(q, k=5)) for q in QUESTIONS]


def renamed(snapshot: Snapshot, build_id: str) -> Snapshot:
    """The same index under another build id (a second build, without re-analysing)."""
    info = dataclasses.replace(snapshot.info, build_id=build_id)
    return Snapshot(
        info,
        snapshot.articles,
        snapshot.passages,
        snapshot.bm25,
        snapshot.lexicon,
    )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "newsbot.sqlite3"


# --- schema ---------------------------------------------------------------------------


async def test_new_database_is_migrated_and_in_wal_mode(db_path: Path) -> None:
    async with await IndexStore.open(db_path) as storage:
        assert await storage.schema_version() == len(MIGRATIONS["sqlite"])
        assert await storage.active_build_id() is None
        assert await storage.builds() == []
    assert db_path.is_file()  # the data directory was created too
    with raw(db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        versions = dict(conn.execute("SELECT store, version FROM schema_versions"))
    assert {"meta", "builds", "articles", "passages", "vectors"} <= tables
    assert "questions" not in tables  # the bot's state is another store (bot.state)
    assert versions == {"index": len(MIGRATIONS["sqlite"])}


async def test_reopening_does_not_rerun_migrations(db_path: Path, seed_snapshot: Snapshot) -> None:
    async with await IndexStore.open(db_path) as storage:
        await storage.save_snapshot(seed_snapshot)
    with raw(db_path) as conn:
        schema_before = conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    # A second migration run would fail on CREATE TABLE or wipe the data; neither happens.
    async with await IndexStore.open(db_path) as storage:
        assert await storage.schema_version() == len(MIGRATIONS["sqlite"])
        assert await storage.active_build_id() == seed_snapshot.info.build_id
    with raw(db_path) as conn:
        assert conn.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall() == (
            schema_before
        )


async def test_a_database_from_a_newer_program_is_refused_clearly(db_path: Path) -> None:
    async with await IndexStore.open(db_path):
        pass
    with raw(db_path) as conn:
        conn.execute("UPDATE schema_versions SET version = 99 WHERE store = 'index'")
        conn.commit()
    with pytest.raises(StorageError, match="newer than this program"):
        await IndexStore.open(db_path)


# --- snapshots ----------------------------------------------------------------------


async def test_snapshot_round_trip_answers_identically(
    database_target: str | Path, seed_snapshot: Snapshot, seed_engine: Engine
) -> None:
    async with await IndexStore.open(database_target) as storage:
        await storage.save_snapshot(seed_snapshot)
        assert await storage.active_build_id() == seed_snapshot.info.build_id
    # Load through a fresh connection, as another process (the bot) would.
    async with await IndexStore.open(database_target) as storage:
        loaded = await storage.load_snapshot()

    assert loaded is not seed_snapshot
    assert loaded.info == seed_snapshot.info
    assert loaded.articles == seed_snapshot.articles
    assert loaded.passages == seed_snapshot.passages
    assert loaded.bm25.terms == seed_snapshot.bm25.terms
    for name in ("ptr", "doc_ids", "tfs", "doc_len"):
        assert (getattr(loaded.bm25, name) == getattr(seed_snapshot.bm25, name)).all(), name
    assert loaded.lexicon == seed_snapshot.lexicon
    assert loaded.params == seed_snapshot.params
    # Compounds split as the build split them (the splitter's parts are stored with it).
    words = {w for article in loaded.articles.values() for w in WORD_RE.findall(article.text)}
    assert [loaded.terms_of(w) for w in sorted(words)] == [
        seed_snapshot.terms_of(w) for w in sorted(words)
    ]

    # Articles keep their full text, titles and dates; passage offsets still cut the text.
    feed = loaded.articles["000_632348a179117fcd"]
    assert feed.date == "2026-01-06"
    assert feed.title == "AFP-Meldung vom 6. Januar 2026"
    assert feed.text == (SEEDS / "000_632348a179117fcd.txt").read_text(encoding="utf-8")
    plain = loaded.articles["001_3254392af1d010b4"]
    assert plain.title == "26 Staaten wollen Truppen entsenden"
    assert plain.date is None
    for passage in loaded.passages:
        assert loaded.text_of(passage) == seed_snapshot.text_of(passage)
        assert loaded.text_of(passage).strip() == loaded.text_of(passage) != ""

    loaded_engine = Engine(loaded)
    first = loaded_engine.answer("What did the US commit to?")
    assert first.answered
    assert "verpflichten sich die USA" in first.results[0].quote
    assert loaded_engine.answer("Wer nahm an dem Treffen teil?").answered
    assert fingerprints(loaded_engine) == fingerprints(seed_engine)


async def test_load_snapshot_on_empty_database_raises_no_index(
    database_target: str | Path,
) -> None:
    async with await IndexStore.open(database_target) as storage:
        with pytest.raises(NoIndexError, match="reindex"):
            await storage.load_snapshot()


async def test_an_unreadable_stored_index_is_a_clear_error_and_reindex_recovers(
    db_path: Path, seed_snapshot: Snapshot
) -> None:
    async with await IndexStore.open(db_path) as storage:
        await storage.save_snapshot(seed_snapshot)
    with closing(sqlite3.connect(db_path)) as db:  # its header is right, the rest is not
        db.execute("UPDATE builds SET lexicon = ?", (LEXICON_FORMAT.wrap(b"not zlib at all"),))
        db.commit()
    async with await IndexStore.open(db_path) as storage:
        with pytest.raises(StorageError, match="cannot be read by this version"):
            await storage.load_snapshot()
        report = await reindex(storage, Sources(SEEDS, None))  # the diff is best-effort
        assert report.passages == len(seed_snapshot.passages)
        assert (await storage.load_snapshot()).info.build_id == report.build_id


@pytest.mark.parametrize(
    ("column", "blob", "message"),
    [
        ("postings", POSTINGS_FORMAT.magic + (1).to_bytes(4, "big"), "postings format 1 is not"),
        ("lexicon", b"x\x9c", "no lexicon format header"),  # before formats had a version
    ],
)
async def test_a_build_in_another_artifact_format_is_stale(
    db_path: Path, seed_snapshot: Snapshot, column: str, blob: bytes, message: str
) -> None:
    """Stale, as an index made by another analyser is: the command line rebuilds it."""
    async with await IndexStore.open(db_path) as storage:
        await storage.save_snapshot(seed_snapshot)
    with closing(sqlite3.connect(db_path)) as db:
        db.execute(f"UPDATE builds SET {column} = ?", (blob,))
        db.commit()
    async with await IndexStore.open(db_path) as storage:
        with pytest.raises(StaleIndexError, match=message) as raised:
            await storage.load_snapshot()
        assert "rebuild the index with `python -m bot reindex`" in str(raised.value)


async def test_saving_a_second_build_replaces_the_first(
    database_target: str | Path, seed_snapshot: Snapshot
) -> None:
    second = renamed(seed_snapshot, "second000000")
    old = seed_snapshot.info.build_id
    async with await IndexStore.open(database_target) as storage:
        await storage.save_snapshot(seed_snapshot)
        await storage.save_snapshot(second)
        assert await storage.active_build_id() == "second000000"
        builds = await storage.builds()
        assert [(b.build_id, b.state) for b in builds] == [("second000000", "ready")]
        assert (await storage.load_snapshot()).info.build_id == "second000000"
        for table in ("passages", "articles"):
            sql = f"SELECT COUNT(*) FROM {table} WHERE build_id = ?"
            assert await storage.database.fetchone(sql, (old,)) == (0,)


async def test_a_front_matter_key_nobody_reads_is_a_warning_kept_with_the_build(
    database_target: str | Path, tmp_path: Path
) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "rom.md").write_text(
        "---\ntitle_: Gipfel in Rom\ndate: 2026-02-01\n---\nItalien stellt zwei Fregatten.\n",
        encoding="utf-8",
    )
    sources = Sources(articles_dir=articles, dictionary_path=None)
    async with await IndexStore.open(database_target) as storage:
        report = await reindex(storage, sources)
        said = [w for w in report.warnings if "rom.md" in w]
        assert said == [
            f"{articles / 'rom.md'}: unknown front matter key 'title_', ignored "
            "(did you mean 'title'?)"
        ]
        assert report.articles == 1  # read all the same, only its title is derived
        again = await reindex(storage, sources)  # nothing changed: the build's notes stand
        assert again.unchanged and said[0] in again.warnings
        assert (await storage.load_snapshot()).info.notes == (said[0],)


# --- a reindex that fails halfway -------------------------------------------------------


async def test_failed_reindex_leaves_the_old_index_serving(
    database_target: str | Path, seed_snapshot: Snapshot
) -> None:
    old_id = seed_snapshot.info.build_id
    async with await IndexStore.open(database_target) as storage:
        await storage.save_snapshot(seed_snapshot)
        engine = Engine(await storage.load_snapshot())
        serving = engine.snapshot
        before = fingerprints(engine)
        stages: list[str] = []

        def progress(stage: str, done: int, total: int) -> None:
            stages.append(stage)
            if stage == "store" and done > 0:  # the first passages are in the database now
                raise InjectedFailure("disk full")

        # No dictionary: this build only has to get as far as being written.
        sources = Sources(articles_dir=SEEDS, dictionary_path=None)
        with pytest.raises(InjectedFailure, match="disk full"):
            await reindex(storage, sources, engine, progress)
        assert "analyse" in stages and stages[-1] == "store"

        # Database and engine still serve the old build.
        assert await storage.active_build_id() == old_id
        assert engine.snapshot is serving
        assert fingerprints(engine) == before
        assert (await storage.load_snapshot()).info.build_id == old_id

        half = [b for b in await storage.builds() if b.build_id != old_id]
        assert [b.state for b in half] == ["building"]
        failed_id = half[0].build_id
        sql = "SELECT COUNT(*) FROM passages WHERE build_id = ?"
        assert await count(database_target, sql, failed_id) > 0

    # The next open removes the half-written build, rows and all.
    async with await IndexStore.open(database_target) as storage:
        builds = await storage.builds()
        assert [(b.build_id, b.state) for b in builds] == [(old_id, "ready")]
        assert await storage.active_build_id() == old_id
        reloaded = await storage.load_snapshot()
    for table in ("builds", "articles", "passages"):
        sql = f"SELECT COUNT(*) FROM {table} WHERE build_id = ?"
        assert await count(database_target, sql, failed_id) == 0, table
    passages = await count(database_target, "SELECT COUNT(*) FROM passages")
    assert passages == len(seed_snapshot.passages)
    assert fingerprints(Engine(reloaded)) == before

    # And a later reindex that succeeds takes over.
    async with await IndexStore.open(database_target) as storage:
        report = await reindex(storage, Sources(articles_dir=SEEDS, dictionary_path=None), engine)
        assert await storage.active_build_id() == report.build_id != old_id
        assert engine.snapshot.info.build_id == report.build_id
        assert [b.build_id for b in await storage.builds()] == [report.build_id]


async def test_failure_between_passage_chunks_leaves_the_old_build_active(
    database_target: str | Path, seed_snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small write chunks, so that the failure comes with only part of the passages written."""
    monkeypatch.setattr(storage_module, "_WRITE_CHUNK", 4)
    old_id = seed_snapshot.info.build_id
    total = len(seed_snapshot.passages)
    assert total > 8
    calls: list[tuple[int, int]] = []

    def progress(done: int, of: int) -> None:
        calls.append((done, of))
        if done > 0:  # the first chunk is committed
            raise InjectedFailure("killed")

    async with await IndexStore.open(database_target) as storage:
        await storage.save_snapshot(seed_snapshot)
        with pytest.raises(InjectedFailure):
            await storage.save_snapshot(renamed(seed_snapshot, "halfwritten0"), progress)
        assert calls == [(0, total), (4, total)]
        assert await storage.active_build_id() == old_id
        sql = "SELECT COUNT(*) FROM passages WHERE build_id = ?"
        assert await count(database_target, sql, "halfwritten0") == 4
        assert await count(database_target, sql, old_id) == total
        assert (await storage.load_snapshot()).info.build_id == old_id

    async with await IndexStore.open(database_target) as storage:
        assert [b.build_id for b in await storage.builds()] == [old_id]
        loaded = await storage.load_snapshot()
    sql = "SELECT COUNT(*) FROM passages WHERE build_id = ?"
    assert await count(database_target, sql, "halfwritten0") == 0
    assert loaded.passages == seed_snapshot.passages


async def test_opening_the_database_during_a_reindex_keeps_both_builds(
    database_target: str | Path, seed_snapshot: Snapshot
) -> None:
    """A reader (``python -m bot ask``, the bot) that opens the database while a reindex is
    writing must neither break that reindex nor lose the index."""
    new = renamed(seed_snapshot, "concurrent00")
    seen_by_reader: list[str] = []

    async def open_as_reader() -> None:
        async with await IndexStore.open(database_target) as reader:
            seen_by_reader.append((await reader.load_snapshot()).info.build_id)

    def progress(done: int, total: int) -> None:
        if done < total:
            return
        # The new build's rows are written, not yet active: another connection opens now.
        thread = threading.Thread(target=asyncio.run, args=(open_as_reader(),))
        thread.start()
        thread.join()

    async with await IndexStore.open(database_target) as storage:
        await storage.save_snapshot(seed_snapshot)
        await storage.save_snapshot(new, progress)
        assert seen_by_reader == [seed_snapshot.info.build_id]
        assert await storage.active_build_id() == "concurrent00"
        loaded = await storage.load_snapshot()  # the active build must exist
        assert [b.build_id for b in await storage.builds()] == ["concurrent00"]
    assert loaded.info.build_id == "concurrent00"
    assert loaded.passages == seed_snapshot.passages


# --- unusable files -------------------------------------------------------------------


async def test_garbage_file_raises_storage_error_naming_rebuild(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(bytes(range(1, 256)) * 64)
    with pytest.raises(StorageError) as caught:
        await IndexStore.open(db_path)
    assert not isinstance(caught.value, NoIndexError)
    assert "reindex --rebuild" in str(caught.value)
    assert str(db_path) in str(caught.value)


async def test_a_database_damaged_inside_is_one_clear_error(db_path: Path) -> None:
    """The header is intact, the builds table's pages are not: opening says so in one
    line that names the rebuild (it used to escape as a raw sqlite3.DatabaseError)."""
    async with await IndexStore.open(db_path):
        pass
    with raw(db_path) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
        roots = [
            r[0]
            for r in conn.execute(
                "SELECT rootpage FROM sqlite_master WHERE tbl_name = 'builds' AND rootpage > 0"
            )
        ]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    with db_path.open("r+b") as fh:
        for root in roots:
            fh.seek((root - 1) * page_size)
            fh.write(b"\xff" * 64)
    with pytest.raises(StorageError, match="rebuild"):
        await IndexStore.open(db_path)
