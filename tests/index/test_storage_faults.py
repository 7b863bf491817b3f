"""The database in bad weather: locked, full, unwritable, corrupt, and two reindexes at once.

Every fault must end in one line a person can act on (never a traceback), and must leave
the previous index serving. The tests run as root, so permissions cannot be taken away
with chmod: a regular file in place of the data directory, ``RLIMIT_FSIZE`` and a second
connection holding the write lock stand in for the real faults.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import resource
import shutil
import signal
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest

from benchmarks.synthetic import synthetic_articles, write_corpus
from bot.state import BotState, QuestionRecord
from index.database import StorageError
from index.engine import Engine
from index.locks import ReindexBusyError, reindex_file_lock
from index.pipeline import reindex
from index.records import Answer, Snapshot
from index.sources import ReindexReport, Sources
from index.sqlite import SqliteDatabase
from index.store import IndexStore
from tests.botcli import TIMEOUT, Run, run_bot
from tests.conftest import SEEDS

QUESTION = "Wer nahm an dem Treffen teil?"
QUESTIONS = (
    QUESTION,
    "Was sagte Macron über Russland?",
    "Wie viele Staaten wollen Truppen entsenden?",
)
# The three commands that open (or first create) the database, each its own way.
EVERY_OPENING = pytest.mark.parametrize(
    "args",
    [("ask", "x"), ("reindex",), ("reindex", "--rebuild")],
    ids=["ask", "reindex", "reindex-rebuild"],
)
KEPT = ("questions", "synonyms", "guild_settings")  # what a rebuild carries over (some)
NO_DICTIONARY = Sources(articles_dir=SEEDS, dictionary_path=None)


# --- helpers ---------------------------------------------------------------------------------


def run(
    database: Path,
    *args: str,
    preexec_fn: Callable[[], None] | None = None,
    **settings: str,
) -> Run:
    """``python -m bot ARGS`` without the dictionary (a supported mode, and fast), with a
    cache of its own."""
    return run_bot(
        database,
        *args,
        preexec_fn=preexec_fn,
        DICTIONARY_PATH="/nonexistent",
        CACHE_DIR=str(database.parent / "cache"),
        **settings,
    )


def one_line_error(result: Run) -> str:
    """The failure's message: exit status not 0, one line on stderr, no traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout
    message = result.stderr.strip()
    assert message, "a failure must say why"
    assert len(message.splitlines()) == 1, message
    return message


def succeeded(result: Run) -> Run:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result


def ask_json(database: Path, question: str = QUESTION) -> dict[str, Any]:
    result = succeeded(run(database, "ask", question, "--json"))
    data: dict[str, Any] = json.loads(result.stdout)
    data.pop("elapsed_ms")
    return data


@pytest.fixture(scope="module")
def cli_seed_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database indexed from the seeds by ``python -m bot reindex``, WAL folded in; made
    once, copied by each test that needs one."""
    database = tmp_path_factory.mktemp("cli-seed") / "newsbot.sqlite3"
    succeeded(run(database, "reindex"))
    assert not database.with_name(database.name + "-wal").exists()
    return database


@pytest.fixture
def cli_database(cli_seed_database: Path) -> Callable[[Path], Path]:
    """``cli_database(directory)``: a fresh copy of the CLI-made seed database there."""

    def copy(directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        database = directory / "newsbot.sqlite3"
        shutil.copyfile(cli_seed_database, database)
        return database

    return copy


def one_more_article(directory: Path) -> Path:
    """The seeds plus one article: a reindex of it has something to do."""
    directory.mkdir(parents=True)
    for article in SEEDS.iterdir():
        (directory / article.name).write_bytes(article.read_bytes())
    (directory / "rom.txt").write_text(
        "---\ntitle: Gipfel in Rom\n---\nItalien sagte zu, zwei Fregatten zu stellen.\n",
        encoding="utf-8",
    )
    return directory


@contextmanager
def raw(path: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(path)) as conn:
        yield conn


def builds(path: Path) -> list[tuple[str, str]]:
    with raw(path) as conn:
        return [(str(b), str(s)) for b, s in conn.execute("SELECT build_id, state FROM builds")]


def active_build(path: Path) -> str | None:
    with raw(path) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = 'active_build'").fetchone()
    return str(row[0]) if row else None


def integrity(path: Path) -> list[str]:
    with raw(path) as conn:
        return [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]


@contextmanager
def write_locked(path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection holds the write lock (``BEGIN EXCLUSIVE``) until the block ends."""
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("BEGIN EXCLUSIVE")
        try:
            yield conn
        finally:
            conn.execute("ROLLBACK")


def fingerprint(answer: Answer) -> tuple[Any, ...]:
    return (
        answer.answered,
        tuple((r.article_id, r.paragraph, r.quote) for r in answer.results),
    )


def fingerprints(engine: Engine) -> list[tuple[Any, ...]]:
    return [fingerprint(engine.answer(q)) for q in QUESTIONS]


def record(question: str = QUESTION) -> QuestionRecord:
    return QuestionRecord(question, "de", True, "answered", ["001_3254392af1d010b4#7"], 2.0, None)


def renamed(snapshot: Snapshot, build_id: str) -> Snapshot:
    info = dataclasses.replace(snapshot.info, build_id=build_id)
    return Snapshot(info, snapshot.articles, snapshot.passages, snapshot.bm25, snapshot.lexicon)


# --- locked database ---------------------------------------------------------------------------


async def test_reindex_of_a_locked_database_fails_soon_and_the_old_index_serves(
    tmp_path: Path,
) -> None:
    database = tmp_path / "newsbot.sqlite3"
    async with await IndexStore.open(database, busy_timeout_ms=300) as storage:
        state = await BotState.on(storage.database)
        old = await reindex(storage, NO_DICTIONARY)
        engine = Engine(await storage.load_snapshot())
        serving = engine.snapshot
        before = fingerprints(engine)
        assert all(answered for answered, _ in before)

        with write_locked(database):
            # force: the inputs are unchanged, and a reindex would rightly do nothing
            job = asyncio.create_task(reindex(storage, NO_DICTIONARY, engine, force=True))
            await asyncio.sleep(0)
            # Meanwhile: reads go on in WAL mode, from this connection and from a new one.
            assert fingerprints(engine) == before
            assert (await storage.load_snapshot()).info.build_id == old.build_id
            async with await IndexStore.open(database, busy_timeout_ms=300) as reader:
                assert (await reader.load_snapshot()).info.build_id == old.build_id

            with pytest.raises(Exception) as caught:
                await asyncio.wait_for(job, TIMEOUT)
            assert isinstance(caught.value, StorageError), repr(caught.value)
            assert "locked" in str(caught.value), str(caught.value)
            # The child honoured the configured busy timeout (300 ms), not the 5 s default.
            assert "waited 0.3 s" in str(caught.value), str(caught.value)

            # The old build still serves, in the engine and in the database.
            assert engine.snapshot is serving
            assert fingerprints(engine) == before
            assert await storage.active_build_id() == old.build_id
            assert (await storage.load_snapshot()).info.build_id == old.build_id

            # Writing the question log fails with a StorageError, not a raw sqlite3 error.
            with pytest.raises(StorageError, match="locked"):
                await state.log_question(record())

        # Once the lock is released, a reindex goes through.
        report = await reindex(storage, NO_DICTIONARY, engine, force=True)
        assert engine.snapshot.info.build_id == report.build_id != old.build_id
        assert [(b.build_id, b.state) for b in await storage.builds()] == [
            (report.build_id, "ready")
        ]
        assert fingerprints(engine) == before
        assert await state.log_question(record()) > 0
    assert integrity(database) == ["ok"]


def test_cli_ask_answers_while_another_process_holds_the_write_lock(
    tmp_path: Path, cli_database: Callable[[Path], Path]
) -> None:
    database = cli_database(tmp_path)
    expected = ask_json(database)
    with write_locked(database):
        result = succeeded(run(database, "ask", QUESTION, "--json", BUSY_TIMEOUT_MS="300"))
        data = json.loads(result.stdout)
        data.pop("elapsed_ms")
        assert data == expected  # the question log is best-effort; the answer is not


def test_cli_reindex_of_a_locked_database_says_so_in_one_line(
    tmp_path: Path, cli_database: Callable[[Path], Path]
) -> None:
    database = cli_database(tmp_path)
    old = active_build(database)
    with write_locked(database):
        changed = one_more_article(tmp_path / "changed")
        message = one_line_error(
            run(database, "reindex", "--seeds", str(changed), BUSY_TIMEOUT_MS="300")
        )
    assert "locked" in message, message
    assert "--rebuild" not in message, message  # a busy database is not a broken one
    assert integrity(database) == ["ok"]
    assert active_build(database) == old
    assert builds(database) == [(old, "ready")]


# --- disk full ---------------------------------------------------------------------------------


def test_reindex_on_a_full_disk_fails_in_one_line_and_keeps_the_old_index(
    tmp_path: Path, cli_database: Callable[[Path], Path]
) -> None:
    database = cli_database(tmp_path / "data")
    old = active_build(database)
    before = ask_json(database)
    assert before["answered"] is True
    corpus = tmp_path / "corpus"
    write_corpus(synthetic_articles(300, SEEDS), corpus)

    limit = database.stat().st_size + 64 * 1024  # far less than the new build needs

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = run(database, "reindex", "--seeds", str(corpus), preexec_fn=small_disk)
    message = one_line_error(result)
    assert "full" in message.lower() or "disk" in message.lower(), message

    assert integrity(database) == ["ok"]
    assert active_build(database) == old
    assert ask_json(database) == before
    # The next open removed the half-written build.
    assert builds(database) == [(old, "ready")]


# --- unwritable data directory ----------------------------------------------------------------


@EVERY_OPENING
def test_data_directory_that_cannot_be_created(tmp_path: Path, args: tuple[str, ...]) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a regular file where the data directory should be\n")
    message = one_line_error(run(blocker / "newsbot.sqlite3", *args))
    assert "cannot create data directory" in message, message
    assert str(blocker) in message and "a file is in the way" in message, message
    assert blocker.read_text() == "a regular file where the data directory should be\n"


@EVERY_OPENING
def test_a_database_path_that_names_a_directory(tmp_path: Path, args: tuple[str, ...]) -> None:
    directory = tmp_path / "data"
    (directory / "inside").mkdir(parents=True)
    message = one_line_error(run(directory, *args))
    assert message == f"error: {directory} is a directory, not a database file; give a file's path"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # not moved aside
    assert [p.name for p in directory.iterdir()] == ["inside"]


def test_a_database_path_that_names_a_device(tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")  # not beside the device
    result = run_bot(Path("/dev/null"), "ask", "x", DICTIONARY_PATH="/nonexistent", CACHE_DIR=cache)
    message = one_line_error(result)
    assert "/dev/null is a device or other special file, not a database file" in message


@EVERY_OPENING
def test_a_database_file_that_cannot_be_created(tmp_path: Path, args: tuple[str, ...]) -> None:
    # a dangling link: the directory is there, the file cannot be made (as in a read-only
    # directory, which root cannot have)
    path = tmp_path / "newsbot.sqlite3"
    path.symlink_to(tmp_path / "gone" / "newsbot.sqlite3")
    message = one_line_error(run(path, *args))
    assert message == f"error: cannot open database {path}: unable to open database file"


def test_a_failed_open_leaves_no_worker_thread_to_write_after_the_loop_closed(
    tmp_path: Path,
) -> None:
    """aiosqlite stops a failed connection's thread without waiting; its last post to a
    closed event loop was a traceback under the one-line error on a slow machine."""
    path = tmp_path / "newsbot.sqlite3"
    path.symlink_to(tmp_path / "gone" / "newsbot.sqlite3")
    raised: list[threading.ExceptHookArgs] = []
    before = threading.excepthook
    threading.excepthook = raised.append
    try:
        with pytest.raises(StorageError, match="cannot open database"):
            asyncio.run(SqliteDatabase.open(path))
        workers = [t for t in threading.enumerate() if "_connection_worker" in t.name]
    finally:
        threading.excepthook = before
    assert workers == [] and raised == []


# --- corrupt database file ---------------------------------------------------------------------


def test_corrupt_database_is_reported_and_rebuilt_with_a_backup(
    tmp_path: Path, cli_database: Callable[[Path], Path]
) -> None:
    database = cli_database(tmp_path)
    logged = "Wie viele Staaten wollen Truppen entsenden?"
    assert ask_json(database, logged)["answered"] is True
    with raw(database) as conn:
        sql = "SELECT COUNT(*) FROM questions WHERE question = ?"
        assert conn.execute(sql, (logged,)).fetchone()[0] >= 1
    assert not database.with_name(database.name + "-wal").exists()

    broken = bytearray(database.read_bytes())
    broken[:100] = b"\xde\xad\xbe\xef garbage " * 6 + b"\x00" * 4
    database.write_bytes(bytes(broken))

    message = one_line_error(run(database, "ask", QUESTION))
    assert "reindex --rebuild" in message, message

    rebuilt = succeeded(run(database, "reindex", "--rebuild"))
    assert "Reindex finished" in rebuilt.stdout
    backups = list(tmp_path.glob("newsbot.sqlite3.*.bak"))
    assert len(backups) == 1, backups
    said = " ".join(rebuilt.stdout.split())
    assert "could not be copied from the old database" in said and backups[0].name in said, said
    assert backups[0].read_bytes() == bytes(broken)  # the original bytes, untouched
    assert logged.encode() in backups[0].read_bytes()  # the question log is in there

    assert integrity(database) == ["ok"]
    assert ask_json(database)["answered"] is True
    assert len(builds(database)) == 1


def test_a_rebuild_keeps_the_question_log_settings_and_synonyms(
    tmp_path: Path, cli_database: Callable[[Path], Path]
) -> None:
    database = cli_database(tmp_path)
    ask_json(database, "Wie viele Staaten wollen Truppen entsenden?")
    with raw(database) as conn:
        conn.execute(
            "INSERT INTO synonyms (term, means, added_by, added_at)"
            " VALUES ('feuerpause', '[\"Waffenruhe\"]', '1', '2026-12-06')"
        )
        conn.execute(
            "INSERT INTO guild_settings (guild_id, admin_role_id, updated_at)"
            " VALUES ('7', '8', '2026-12-06')"
        )
        conn.commit()
        before = {t: conn.execute(f"SELECT * FROM {t}").fetchall() for t in KEPT}
    assert len(before["questions"]) == 1

    rebuilt = succeeded(run(database, "reindex", "--rebuild"))
    said = " ".join(rebuilt.stdout.split())
    assert "Kept from the old database: the question log (1)" in said, said
    assert "/synonym entries (1)" in said, said
    with raw(database) as conn:
        assert {t: conn.execute(f"SELECT * FROM {t}").fetchall() for t in KEPT} == before
    ask_json(database)  # the log goes on after the questions kept
    with raw(database) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM questions ORDER BY id")]
    assert len(ids) == 2 and ids[0] == before["questions"][0][0] < ids[1], ids


# --- concurrent reindex requests -------------------------------------------------------------


async def test_two_reindexes_at_once_one_runs_and_one_is_refused(tmp_path: Path) -> None:
    database = tmp_path / "newsbot.sqlite3"
    async with (
        await IndexStore.open(database) as first,
        await IndexStore.open(database) as second,
    ):
        outcomes = await asyncio.gather(
            reindex(first, NO_DICTIONARY),
            reindex(second, NO_DICTIONARY),
            return_exceptions=True,
        )
        done = [o for o in outcomes if isinstance(o, ReindexReport)]
        refused = [o for o in outcomes if isinstance(o, BaseException)]
        assert len(done) == 1 and len(refused) == 1, outcomes
        assert isinstance(refused[0], ReindexBusyError), repr(refused[0])
        assert "already running" in str(refused[0]) or "another" in str(refused[0])
        assert [(b.build_id, b.state) for b in await first.builds()] == [
            (done[0].build_id, "ready")
        ]
    assert builds(database) == [(done[0].build_id, "ready")]


async def test_two_reindexes_that_wait_run_one_after_the_other(tmp_path: Path) -> None:
    database = tmp_path / "newsbot.sqlite3"
    async with await IndexStore.open(database) as storage:
        reports = await asyncio.gather(
            reindex(storage, NO_DICTIONARY, wait=True, force=True),
            reindex(storage, NO_DICTIONARY, wait=True, force=True),
        )
        ids = {r.build_id for r in reports}
        assert len(ids) == 2
        active = await storage.active_build_id()
        assert active in ids
        assert [(b.build_id, b.state) for b in await storage.builds()] == [(active, "ready")]
        assert Engine(await storage.load_snapshot()).answer(QUESTION).answered
    assert builds(database) == [(active, "ready")]


async def test_cli_reindex_during_an_in_process_reindex_is_refused_politely(
    tmp_path: Path,
) -> None:
    database = tmp_path / "data" / "newsbot.sqlite3"
    cli: list[Run] = []

    def progress(stage: str, done: int, total: int) -> None:
        # The in-process reindex holds the lock now, and cannot let go of it before this
        # callback returns: the CLI's reindex meets it for certain.
        if not cli:
            cli.append(run(database, "reindex"))

    async with await IndexStore.open(database) as storage:
        report = await reindex(storage, NO_DICTIONARY, progress=progress)
        assert len(cli) == 1
        message = one_line_error(cli[0])
        assert "another reindex" in message and "running" in message, message
        assert await storage.active_build_id() == report.build_id
    # Never two builds, and nothing half-written.
    assert builds(database) == [(report.build_id, "ready")]
    assert integrity(database) == ["ok"]


# --- killed between activation and clean-up -------------------------------------------------


async def test_killed_after_activation_leaves_only_the_new_build_on_next_open(
    tmp_path: Path,
) -> None:
    """``activate`` commits the switch, then deletes the old build in a second transaction.

    A kill between the two leaves the old build's rows; the next open must remove them,
    as it removes every other leftover of a killed reindex."""
    database = tmp_path / "newsbot.sqlite3"
    async with await IndexStore.open(database) as storage:
        old = await reindex(storage, NO_DICTIONARY)
        snapshot = await storage.load_snapshot()
        new = renamed(snapshot, "activated001")
        with reindex_file_lock(database):
            await storage.write_build(new)
    # The first of activate()'s two transactions, as a killed process left it.
    with raw(database) as conn:
        conn.execute("UPDATE builds SET state = 'ready' WHERE build_id = 'activated001'")
        conn.execute("UPDATE meta SET value = 'activated001' WHERE key = 'active_build'")
        conn.commit()
    assert sorted(builds(database)) == sorted([(old.build_id, "ready"), ("activated001", "ready")])

    async with await IndexStore.open(database) as storage:
        assert await storage.active_build_id() == "activated001"
        assert [(b.build_id, b.state) for b in await storage.builds()] == [
            ("activated001", "ready")
        ]
        loaded = await storage.load_snapshot()
    assert loaded.info.build_id == "activated001"
    assert loaded.passages == snapshot.passages
    with raw(database) as conn:
        for table in ("articles", "passages"):
            sql = f"SELECT COUNT(*) FROM {table} WHERE build_id = ?"
            assert conn.execute(sql, (old.build_id,)).fetchone()[0] == 0, table
