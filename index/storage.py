"""SQLite storage (aiosqlite): index builds, articles, passages, question log, feedback.

All SQL of the project lives in this module, always with ``?`` parameters. The schema is
created and changed by numbered migrations, each applied in one transaction, with the
schema version kept in ``PRAGMA user_version``. The database runs in WAL mode, so
answering (reads) goes on while a reindex writes.

A reindex writes the new build under its own ``build_id`` while the old one keeps
serving, then flips ``meta.active_build`` in one short transaction: a reindex that fails
or is killed halfway leaves the previous build active, and its leftovers are removed on
the next open.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import datetime as dt
import fcntl
import functools
import json
import os
import sqlite3
import zlib
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import aiosqlite

from index.analysis import ANALYZER_VERSION
from index.artifacts import ArtifactFormatError
from index.bm25 import BM25Index, BM25Params
from index.corpus import SkippedFile
from index.crashpoints import crash_point
from index.diff import BuildTexts
from index.lexicon import Lexicon
from index.records import BuildInfo, IndexedArticle, IndexedPassage, Snapshot

BUSY_TIMEOUT_MS = 5_000
_WRITE_CHUNK = 2_000  # passages per insert transaction (and per progress step)
_ARTICLE_CHUNK = 1_000  # articles (with their full text) per insert transaction

MIGRATIONS: tuple[str, ...] = (
    # 1: index builds, articles, passages, question log, feedback
    """
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE builds (
        build_id       TEXT PRIMARY KEY,
        state          TEXT NOT NULL CHECK (state IN ('building', 'ready')),
        built_at       TEXT NOT NULL,
        analyzer       TEXT NOT NULL,
        params         TEXT NOT NULL,
        articles       INTEGER NOT NULL,
        passages       INTEGER NOT NULL,
        seconds        REAL NOT NULL,
        skipped        TEXT NOT NULL,
        has_dictionary INTEGER NOT NULL,
        lexicon        BLOB
    );
    CREATE TABLE articles (
        build_id TEXT NOT NULL REFERENCES builds(build_id) ON DELETE CASCADE,
        id       TEXT NOT NULL,
        title    TEXT NOT NULL,
        date     TEXT,
        source   TEXT,
        path     TEXT NOT NULL,
        caption  TEXT,
        text     TEXT NOT NULL,
        sha256   TEXT NOT NULL,
        PRIMARY KEY (build_id, id)
    );
    CREATE TABLE passages (
        build_id   TEXT NOT NULL REFERENCES builds(build_id) ON DELETE CASCADE,
        id         INTEGER NOT NULL,
        article_id TEXT NOT NULL,
        ordinal    INTEGER NOT NULL,
        section    TEXT,
        start      INTEGER NOT NULL,
        "end"      INTEGER NOT NULL,
        terms      TEXT NOT NULL,
        PRIMARY KEY (build_id, id)
    );
    CREATE TABLE questions (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        asked_at     TEXT NOT NULL,
        question     TEXT NOT NULL,
        language     TEXT NOT NULL,
        answered     INTEGER NOT NULL,
        reason       TEXT NOT NULL,
        top_passages TEXT NOT NULL,
        latency_ms   REAL NOT NULL,
        build_id     TEXT,
        origin       TEXT NOT NULL,
        user_id      TEXT,
        guild_id     TEXT,
        channel_id   TEXT
    );
    CREATE INDEX questions_asked_at ON questions (asked_at);
    CREATE TABLE feedback (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        question_id INTEGER NOT NULL REFERENCES questions(id),
        user_id     TEXT NOT NULL,
        value       INTEGER NOT NULL CHECK (value IN (-1, 1)),
        created_at  TEXT NOT NULL,
        UNIQUE (question_id, user_id)
    );
    """,
    # 2: per-server bot configuration and the audit trail of admin actions
    """
    CREATE TABLE guild_settings (
        guild_id      TEXT PRIMARY KEY,
        admin_role_id TEXT,
        updated_at    TEXT NOT NULL
    );
    CREATE TABLE ask_channels (
        guild_id   TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        added_at   TEXT NOT NULL,
        PRIMARY KEY (guild_id, channel_id)
    );
    CREATE TABLE audit (
        id       INTEGER PRIMARY KEY AUTOINCREMENT,
        at       TEXT NOT NULL,
        guild_id TEXT,
        user_id  TEXT NOT NULL,
        action   TEXT NOT NULL,
        allowed  INTEGER NOT NULL,
        detail   TEXT NOT NULL
    );
    CREATE INDEX audit_at ON audit (at);
    """,
    # 3: postings stored as arrays with the build; passages no longer carry their terms
    """
    DELETE FROM meta WHERE key = 'active_build';
    DELETE FROM builds;
    ALTER TABLE builds ADD COLUMN postings BLOB;
    DROP TABLE passages;
    CREATE TABLE passages (
        build_id   TEXT NOT NULL REFERENCES builds(build_id) ON DELETE CASCADE,
        id         INTEGER NOT NULL,
        article_id TEXT NOT NULL,
        ordinal    INTEGER NOT NULL,
        section    TEXT,
        start      INTEGER NOT NULL,
        "end"      INTEGER NOT NULL,
        PRIMARY KEY (build_id, id)
    );
    """,
    # 4: the question log keeps a question's filters and its conversation, for buttons
    """
    ALTER TABLE questions ADD COLUMN scope TEXT;
    ALTER TABLE questions ADD COLUMN context TEXT;
    """,
    # 5: follow-up conversations in threads, and whether a server wants them
    """
    ALTER TABLE guild_settings ADD COLUMN threads INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE conversations (
        thread_id   TEXT NOT NULL,
        question_id INTEGER NOT NULL REFERENCES questions(id),
        PRIMARY KEY (thread_id, question_id)
    );
    """,
    # 6: glossary entries added from Discord (/synonym), applied without a reindex
    """
    CREATE TABLE synonyms (
        term       TEXT PRIMARY KEY,
        means      TEXT NOT NULL,
        added_by   TEXT NOT NULL,
        added_at   TEXT NOT NULL
    );
    """,
    # 7: the stable ids of the passages an answer quoted, to notice when they change
    """
    ALTER TABLE questions ADD COLUMN passage_keys TEXT;
    """,
    # 8: what a build was made from (a hash of its inputs), so a reindex can tell that
    # nothing changed
    """
    ALTER TABLE builds ADD COLUMN inputs TEXT;
    """,
    # 9: sentence-encoder vectors of passages and sentences, keyed by model and text hash
    # (shared by every build that holds the same text); which ranking answered a question
    """
    CREATE TABLE vectors (
        model  TEXT NOT NULL,
        hash   BLOB NOT NULL,
        vector BLOB NOT NULL,
        UNIQUE (model, hash)
    );
    ALTER TABLE questions ADD COLUMN mode TEXT;
    """,
)


class StorageError(RuntimeError):
    """The database cannot be used; the message says what to do."""


class NoIndexError(StorageError):
    """The database holds no index build yet."""


class StaleIndexError(NoIndexError):
    """The active build was made by another version's analyser: it must be rebuilt (the
    command line and the bot do so on first use, as when there is none)."""


@dataclass(frozen=True, slots=True)
class QuestionRecord:
    """One asked question, for the log."""

    question: str
    language: str
    answered: bool
    reason: str
    top_passages: Sequence[str]
    latency_ms: float
    build_id: str | None
    origin: str = "cli"
    user_id: str | None = None
    guild_id: str | None = None
    channel_id: str | None = None
    scope: dict[str, Any] | None = None  # filters the question was asked with
    context: Sequence[str] = ()  # earlier questions of its conversation
    passage_keys: Sequence[str] = ()  # stable ids of the quoted passages
    mode: str | None = None  # which ranking answered: hybrid, partial, lexical


def reindex_lock_path(database: Path) -> Path:
    """The lock file that serialises reindexes of ``database`` across processes."""
    return database.with_name(database.name + ".reindex.lock")


class ReindexBusyError(RuntimeError):
    """Another reindex of the same database is running."""


# The lock files the current task (or thread) holds; a ContextVar, so that another task of
# the same process opening the database is not mistaken for the lock's holder.
_held_locks: contextvars.ContextVar[frozenset[Path]] = contextvars.ContextVar(
    "held_reindex_locks", default=frozenset()
)


@contextlib.contextmanager
def reindex_file_lock(database: Path, wait: bool = False) -> Iterator[None]:
    """Hold the cross-process reindex lock of ``database`` (re-entrant within a task).

    Writers of index builds hold it; ``Storage.open`` only removes unfinished builds when
    nobody does.
    """
    path = reindex_lock_path(database).resolve()
    held = _held_locks.get()
    if path in held:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise ReindexBusyError(
                "another reindex of this database is running; try again when it has finished"
            ) from None
        token = _held_locks.set(held | {path})
        try:
            yield
        finally:
            _held_locks.reset(token)
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


P = ParamSpec("P")
R = TypeVar("R")


def describe_sqlite_error(
    exc: sqlite3.Error, path: Path, busy_timeout_ms: int | None = None
) -> str:
    """One line a person can act on, for the SQLite errors that happen in real life."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        waited = f" {busy_timeout_ms / 1000:g} s" if busy_timeout_ms is not None else ""
        return (
            f"the database {path} is locked by another process; waited{waited} for it and "
            "gave up (try again when the other writer is done)"
        )
    if "full" in text or "too big" in text or "file size" in text:
        return f"the disk holding {path} is full; free some space and try again"
    if "disk i/o" in text:
        return (
            f"a disk I/O error while writing {path} (is the disk full or failing?); "
            "nothing was changed"
        )
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return f"cannot write to {path}: the file or its directory is not writable"
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (
            f"the database {path} is damaged ({exc}); run `python -m bot reindex --rebuild` "
            "(the old file is kept as a .bak)"
        )
    return f"database error in {path}: {exc}"


def _translated(
    method: Callable[Concatenate[Storage, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[Storage, P], Coroutine[Any, Any, R]]:
    """Turn sqlite3 errors into StorageError with a clear message; roll back first."""

    @functools.wraps(method)
    async def wrapper(self: Storage, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error, ValueError):
                await self._db.rollback()
            raise StorageError(describe_sqlite_error(exc, self.path, self.busy_timeout_ms)) from exc

    return cast("Callable[Concatenate[Storage, P], Coroutine[Any, Any, R]]", wrapper)


class Storage:
    """One aiosqlite connection to the project database. Use ``await Storage.open(path)``."""

    def __init__(self, db: aiosqlite.Connection, path: Path) -> None:
        self._db = db
        self.path = path
        self.busy_timeout_ms = BUSY_TIMEOUT_MS

    @classmethod
    async def open(cls, path: Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Storage:
        """Open (creating if needed) and migrate the database at ``path``."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create data directory {path.parent}: {exc}") from exc
        try:
            db = await aiosqlite.connect(path, timeout=busy_timeout_ms / 1000)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open database {path}: {exc}") from exc
        storage = cls(db, path)
        try:
            await db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            await db.execute("PRAGMA foreign_keys = ON")
            mode = await (await db.execute("PRAGMA journal_mode = WAL")).fetchone()
            del mode
            await db.execute("PRAGMA synchronous = NORMAL")
            await storage._migrate()
            await storage._remove_unfinished_builds()
        except sqlite3.OperationalError as exc:  # locked, disk full, read-only, …
            await db.close()
            raise StorageError(describe_sqlite_error(exc, path, busy_timeout_ms)) from exc
        except sqlite3.DatabaseError as exc:  # not a database, malformed
            await db.close()
            raise StorageError(
                f"database {path} is unusable ({exc}); "
                "run `python -m bot reindex --rebuild` to recreate it"
            ) from exc
        storage.busy_timeout_ms = busy_timeout_ms
        return storage

    async def close(self) -> None:
        await self._db.close()

    async def __aenter__(self) -> Storage:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- schema -----------------------------------------------------------------------

    @_translated
    async def schema_version(self) -> int:
        row = await (await self._db.execute("PRAGMA user_version")).fetchone()
        return int(row[0]) if row else 0

    async def _migrate(self) -> None:
        version = await self.schema_version()
        for number, script in enumerate(MIGRATIONS, 1):
            if number <= version:
                continue
            # executescript() would commit on its own; run statements in one transaction.
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                for statement in _statements(script):
                    await self._db.execute(statement)
                await self._db.execute(f"PRAGMA user_version = {number}")
                await self._db.commit()
            except BaseException:
                await self._db.rollback()
                raise

    async def _remove_unfinished_builds(self) -> None:
        """Delete every build but the active one: what a killed or failed reindex left.

        That covers builds still marked 'building' and an old build whose removal was
        interrupted right after the switch. Only when no reindex is running (a build being
        written by another connection looks just like a leftover), and only when there is
        something to delete, so that opening never needs the write lock otherwise. A busy
        database just means: not now.
        """
        try:
            with reindex_file_lock(self.path):
                active = await self.active_build_id()
                leftovers = await self._db.execute_fetchall(
                    "SELECT build_id FROM builds WHERE build_id IS NOT ?", (active,)
                )
                if not leftovers:
                    return
                await self._db.execute("DELETE FROM builds WHERE build_id IS NOT ?", (active,))
                await self._db.commit()
        except (ReindexBusyError, OSError, StorageError):
            return
        except sqlite3.OperationalError:
            with contextlib.suppress(sqlite3.Error):
                await self._db.rollback()

    # -- index builds -------------------------------------------------------------------

    @_translated
    async def active_build_id(self) -> str | None:
        row = await (
            await self._db.execute("SELECT value FROM meta WHERE key = 'active_build'")
        ).fetchone()
        return str(row[0]) if row else None

    @_translated
    async def save_snapshot(
        self,
        snapshot: Snapshot,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """Store ``snapshot`` as a new build and make it the active one.

        The rows are written first, under the new build id, while the old build stays
        active; the switch is one short transaction at the end.
        """
        with reindex_file_lock(self.path, wait=True):
            await self.write_build(snapshot, progress)
            await self.activate(snapshot.info.build_id)

    @_translated
    async def write_build(
        self,
        snapshot: Snapshot,
        progress: Callable[[int, int], None] | None = None,
        inputs: str | None = None,
    ) -> None:
        """Write ``snapshot``'s rows as an inactive build (the caller holds the lock).

        ``inputs`` is the fingerprint of what the build was made from. Serialising the
        arrays and the lexicon runs in a worker thread, so an event loop sharing this
        process keeps serving.
        """
        info = snapshot.info
        db = self._db
        total = len(snapshot.passages)
        if progress:
            progress(0, total)
        lexicon_blob, postings_blob = await asyncio.to_thread(
            lambda: (snapshot.lexicon.to_bytes(), snapshot.bm25.to_bytes())
        )
        await db.execute(
            "INSERT INTO builds (build_id, state, built_at, analyzer, params, articles,"
            " passages, seconds, skipped, has_dictionary, lexicon, postings, inputs)"
            " VALUES (?, 'building', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                info.build_id,
                info.built_at,
                info.analyzer,
                json.dumps(info.params),
                info.articles,
                info.passages,
                info.seconds,
                json.dumps([[s.path, s.reason] for s in info.skipped]),
                int(info.has_dictionary),
                lexicon_blob,
                postings_blob,
                inputs,
            ),
        )
        articles = list(snapshot.articles.values())
        for lo in range(0, len(articles), _ARTICLE_CHUNK):
            await db.executemany(
                "INSERT INTO articles (build_id, id, title, date, source, path, caption, text,"
                " sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        info.build_id,
                        a.id,
                        a.title,
                        a.date,
                        a.source,
                        a.path,
                        a.caption,
                        a.text,
                        a.sha256,
                    )
                    for a in articles[lo : lo + _ARTICLE_CHUNK]
                ],
            )
            await db.commit()
        for lo in range(0, total, _WRITE_CHUNK):
            chunk = snapshot.passages[lo : lo + _WRITE_CHUNK]
            await db.executemany(
                'INSERT INTO passages (build_id, id, article_id, ordinal, section, start, "end")'
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (info.build_id, p.id, p.article_id, p.ordinal, p.section, p.start, p.end)
                    for p in chunk
                ],
            )
            await db.commit()
            if progress:
                progress(min(lo + _WRITE_CHUNK, total), total)
            if lo + _WRITE_CHUNK < total:
                crash_point("mid_write")
        if progress and not total:
            progress(0, 0)

    @_translated
    async def activate(self, build_id: str) -> None:
        """Make a written build the active one (one short transaction), drop the others."""
        db = self._db
        await db.execute("BEGIN IMMEDIATE")
        try:
            cursor = await db.execute(
                "UPDATE builds SET state = 'ready' WHERE build_id = ?", (build_id,)
            )
            if cursor.rowcount != 1:
                raise StorageError(f"build {build_id} vanished before it could be activated")
            await db.execute(
                "INSERT INTO meta (key, value) VALUES ('active_build', ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (build_id,),
            )
            await db.commit()
        except BaseException:
            await db.rollback()
            raise
        crash_point("after_activation")
        # Old builds are garbage now; removing them may wait for a busy database.
        await db.execute("DELETE FROM builds WHERE build_id <> ?", (build_id,))
        await db.commit()

    @_translated
    async def active_build(self) -> tuple[BuildInfo, str | None] | None:
        """The active build's facts and the fingerprint of its inputs (None when it was
        not recorded), without loading the index; None when there is no index."""
        build_id = await self.active_build_id()
        if build_id is None:
            return None
        row = await (
            await self._db.execute(
                "SELECT built_at, analyzer, params, articles, passages, seconds, skipped,"
                " has_dictionary, inputs FROM builds WHERE build_id = ?",
                (build_id,),
            )
        ).fetchone()
        if row is None:
            return None
        return _build_info(build_id, tuple(row)), (str(row[8]) if row[8] is not None else None)

    @_translated
    async def load_snapshot(self) -> Snapshot:
        """The active build, ready to answer (no article parsing, no dictionary).

        The rows are read by aiosqlite's thread and assembled in a worker thread, so a
        running bot keeps answering while it loads a new build.
        """
        build_id = await self.active_build_id()
        if build_id is None:
            raise NoIndexError(f"no index in {self.path}; build one with `python -m bot reindex`")
        db = self._db
        row = await (
            await db.execute(
                "SELECT built_at, analyzer, params, articles, passages, seconds, skipped,"
                " has_dictionary, lexicon, postings FROM builds WHERE build_id = ?",
                (build_id,),
            )
        ).fetchone()
        if row is None:
            raise StorageError(f"active build {build_id} is missing; run reindex --rebuild")
        if row[9] is None or row[1] != ANALYZER_VERSION:
            # Its terms were made by another analyser: questions would not meet them.
            raise StaleIndexError(
                "the stored index predates this version; run `python -m bot reindex`"
            )
        passage_rows, article_rows = await self._text_rows(build_id)
        try:
            return await asyncio.to_thread(
                _assemble_snapshot, build_id, tuple(row), list(passage_rows), list(article_rows)
            )
        except ArtifactFormatError as exc:  # written by another version: stale, as above
            raise StaleIndexError(f"{exc} with `python -m bot reindex`") from exc
        except (KeyError, TypeError, ValueError, AttributeError, zlib.error) as exc:
            raise StorageError(
                f"the stored index cannot be read by this version ({type(exc).__name__}); "
                "run `python -m bot reindex`"
            ) from exc

    @_translated
    async def load_texts(self) -> BuildTexts:
        """The active build's articles and passages only — what a reindex diff compares —
        without reading its index or making a snapshot of it."""
        build_id = await self.active_build_id()
        if build_id is None:
            raise NoIndexError(f"no index in {self.path}; build one with `python -m bot reindex`")
        passage_rows, article_rows = await self._text_rows(build_id)
        articles, passages = _texts(list(passage_rows), list(article_rows))
        return BuildTexts(articles, passages)

    async def _text_rows(self, build_id: str) -> tuple[Any, Any]:
        passage_rows = await self._db.execute_fetchall(
            'SELECT id, article_id, ordinal, section, start, "end" FROM passages'
            " WHERE build_id = ? ORDER BY id",
            (build_id,),
        )
        article_rows = await self._db.execute_fetchall(
            "SELECT id, title, date, source, path, caption, text, sha256 FROM articles"
            " WHERE build_id = ? ORDER BY id",
            (build_id,),
        )
        return passage_rows, article_rows

    # --- sentence-encoder vectors ------------------------------------------------------

    @_translated
    async def vectors_after(
        self, model: str, after_rowid: int = 0, hashes: set[bytes] | None = None
    ) -> tuple[int, list[tuple[bytes, bytes]]]:
        """Vectors of ``model`` stored after row ``after_rowid`` (all: 0), optionally only
        those of ``hashes``; and the last row read, to continue from."""
        rows = await self._db.execute_fetchall(
            "SELECT rowid, hash, vector FROM vectors WHERE model = ? AND rowid > ? ORDER BY rowid",
            (model, after_rowid),
        )
        last = after_rowid
        out: list[tuple[bytes, bytes]] = []
        for rowid, h, v in rows:
            last = max(last, int(rowid))
            if hashes is None or bytes(h) in hashes:
                out.append((bytes(h), bytes(v)))
        return last, out

    @_translated
    async def vector_hashes(self, model: str) -> set[bytes]:
        rows = await self._db.execute_fetchall("SELECT hash FROM vectors WHERE model = ?", (model,))
        return {bytes(r[0]) for r in rows}

    @_translated
    async def put_vectors(self, model: str, items: Sequence[tuple[bytes, bytes]]) -> None:
        # One implicit transaction, like every other write that shares this connection
        # with concurrent coroutines (an explicit BEGIN could meet one already open).
        await self._db.executemany(
            "INSERT OR IGNORE INTO vectors (model, hash, vector) VALUES (?, ?, ?)",
            [(model, h, v) for h, v in items],
        )
        await self._db.commit()

    @_translated
    async def prune_vectors(self, model: str, keep: set[bytes]) -> int:
        """Drop ``model``'s vectors of texts no build holds any more; how many went."""
        stale = [h for h in await self.vector_hashes(model) if h not in keep]
        await self._db.executemany(
            "DELETE FROM vectors WHERE model = ? AND hash = ?", [(model, h) for h in stale]
        )
        await self._db.commit()
        return len(stale)

    @_translated
    async def builds(self) -> list[dict[str, Any]]:
        rows = await self._db.execute_fetchall(
            "SELECT build_id, state, built_at, articles, passages FROM builds ORDER BY built_at"
        )
        keys = ("build_id", "state", "built_at", "articles", "passages")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    # -- question log and feedback -----------------------------------------------------

    @_translated
    async def log_question(self, record: QuestionRecord) -> int:
        cursor = await self._db.execute(
            "INSERT INTO questions (asked_at, question, language, answered, reason,"
            " top_passages, latency_ms, build_id, origin, user_id, guild_id, channel_id,"
            " scope, context, passage_keys, mode)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                _now(),
                record.question,
                record.language,
                int(record.answered),
                record.reason,
                json.dumps(list(record.top_passages)),
                record.latency_ms,
                record.build_id,
                record.origin,
                record.user_id,
                record.guild_id,
                record.channel_id,
                json.dumps(record.scope) if record.scope else None,
                json.dumps(list(record.context)) if record.context else None,
                json.dumps(list(record.passage_keys)) if record.passage_keys else None,
                record.mode,
            ),
        )
        await self._db.commit()
        return int(cursor.lastrowid or 0)

    @_translated
    async def question(self, question_id: int) -> dict[str, Any] | None:
        cursor = await self._db.execute(
            "SELECT id, asked_at, question, language, answered, reason, top_passages,"
            " latency_ms, build_id, origin, scope, context, mode FROM questions WHERE id = ?",
            (question_id,),
        )
        row = await cursor.fetchone()
        if row is None:
            return None
        keys = (
            "id",
            "asked_at",
            "question",
            "language",
            "answered",
            "reason",
            "top_passages",
            "latency_ms",
            "build_id",
            "origin",
            "scope",
            "context",
            "mode",
        )
        out = dict(zip(keys, row, strict=True))
        out["top_passages"] = json.loads(out["top_passages"])
        out["scope"] = json.loads(out["scope"]) if out["scope"] else None
        out["context"] = json.loads(out["context"]) if out["context"] else []
        out["answered"] = bool(out["answered"])
        return out

    @_translated
    async def add_feedback(self, question_id: int, user_id: str, value: int) -> None:
        """Record 👍 (+1) or 👎 (-1); a user's second vote on a question replaces the first."""
        if value not in (-1, 1):
            raise ValueError("feedback value must be -1 or 1")
        await self._db.execute(
            "INSERT INTO feedback (question_id, user_id, value, created_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (question_id, user_id) DO UPDATE SET value = excluded.value,"
            " created_at = excluded.created_at",
            (question_id, user_id, value, _now()),
        )
        await self._db.commit()

    @_translated
    async def question_stats(self) -> dict[str, Any]:
        row = await (
            await self._db.execute("SELECT COUNT(*), COALESCE(SUM(answered), 0) FROM questions")
        ).fetchone()
        asked, answered = (int(row[0]), int(row[1])) if row else (0, 0)
        votes = await self._db.execute_fetchall(
            "SELECT value, COUNT(*) FROM feedback GROUP BY value"
        )
        counts = {int(v): int(n) for v, n in votes}
        unanswered = await self._db.execute_fetchall(
            "SELECT question, COUNT(*) AS n FROM questions WHERE answered = 0"
            " GROUP BY lower(question) ORDER BY n DESC, MAX(asked_at) DESC LIMIT 10"
        )
        modes = await self._db.execute_fetchall(
            "SELECT COALESCE(mode, 'lexical'), COUNT(*) FROM questions GROUP BY 1 ORDER BY 2 DESC"
        )
        return {
            "asked": asked,
            "answered": answered,
            "modes": [(str(m), int(n)) for m, n in modes],
            "thumbs_up": counts.get(1, 0),
            "thumbs_down": counts.get(-1, 0),
            "top_unanswered": [(q, int(n)) for q, n in unanswered],
        }

    # -- bot configuration, audit, meta ---------------------------------------------------

    @_translated
    async def get_meta(self, key: str) -> str | None:
        row = await (
            await self._db.execute("SELECT value FROM meta WHERE key = ?", (key,))
        ).fetchone()
        return str(row[0]) if row else None

    @_translated
    async def set_meta(self, key: str, value: str) -> None:
        await self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
        await self._db.commit()

    @_translated
    async def admin_role(self, guild_id: int) -> int | None:
        row = await (
            await self._db.execute(
                "SELECT admin_role_id FROM guild_settings WHERE guild_id = ?", (str(guild_id),)
            )
        ).fetchone()
        return int(row[0]) if row and row[0] else None

    @_translated
    async def set_admin_role(self, guild_id: int, role_id: int | None) -> None:
        await self._db.execute(
            "INSERT INTO guild_settings (guild_id, admin_role_id, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (guild_id) DO UPDATE SET admin_role_id = excluded.admin_role_id,"
            " updated_at = excluded.updated_at",
            (str(guild_id), str(role_id) if role_id else None, _now()),
        )
        await self._db.commit()

    @_translated
    async def threads_enabled(self, guild_id: int) -> bool:
        row = await (
            await self._db.execute(
                "SELECT threads FROM guild_settings WHERE guild_id = ?", (str(guild_id),)
            )
        ).fetchone()
        return bool(row and row[0])

    @_translated
    async def set_threads(self, guild_id: int, enabled: bool) -> None:
        await self._db.execute(
            "INSERT INTO guild_settings (guild_id, threads, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (guild_id) DO UPDATE SET threads = excluded.threads,"
            " updated_at = excluded.updated_at",
            (str(guild_id), int(enabled), _now()),
        )
        await self._db.commit()

    @_translated
    async def add_to_conversation(self, thread_id: int, question_id: int) -> None:
        await self._db.execute(
            "INSERT OR IGNORE INTO conversations (thread_id, question_id) VALUES (?, ?)",
            (str(thread_id), question_id),
        )
        await self._db.commit()

    @_translated
    async def conversation(self, thread_id: int) -> list[str] | None:
        """The questions asked so far in a thread the bot opened (oldest first), or None
        when the thread is not one of the bot's conversations."""
        rows = await self._db.execute_fetchall(
            "SELECT q.question FROM conversations c JOIN questions q ON q.id = c.question_id"
            " WHERE c.thread_id = ? ORDER BY q.id",
            (str(thread_id),),
        )
        return [str(r[0]) for r in rows] if rows else None

    @_translated
    async def quoted_passages(self) -> list[tuple[int, list[str], bool]]:
        """Answered questions with the stable ids they quoted, and whether they got feedback."""
        rows = await self._db.execute_fetchall(
            "SELECT q.id, q.passage_keys, EXISTS (SELECT 1 FROM feedback f"
            " WHERE f.question_id = q.id) FROM questions q"
            " WHERE q.answered = 1 AND q.passage_keys IS NOT NULL"
        )
        return [(int(i), json.loads(k), bool(f)) for i, k, f in rows]

    @_translated
    async def synonyms(self) -> list[tuple[str, list[str]]]:
        """Run-time glossary entries: (term, German words), in the order added."""
        rows = await self._db.execute_fetchall(
            "SELECT term, means FROM synonyms ORDER BY added_at, term"
        )
        return [(str(t), json.loads(m)) for t, m in rows]

    @_translated
    async def set_synonym(self, term: str, means: Sequence[str], user_id: int) -> None:
        await self._db.execute(
            "INSERT INTO synonyms (term, means, added_by, added_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (term) DO UPDATE SET means = excluded.means,"
            " added_by = excluded.added_by, added_at = excluded.added_at",
            (term, json.dumps(list(means), ensure_ascii=False), str(user_id), _now()),
        )
        await self._db.commit()

    @_translated
    async def remove_synonym(self, term: str) -> bool:
        cursor = await self._db.execute("DELETE FROM synonyms WHERE term = ?", (term,))
        await self._db.commit()
        return cursor.rowcount > 0

    @_translated
    async def gaps(self, limit: int = 15) -> list[tuple[str, int, int]]:
        """Questions abstained on or voted 👎, most frequent first: (question, asked, 👎)."""
        rows = await self._db.execute_fetchall(
            "SELECT q.question, COUNT(DISTINCT q.id) AS asked,"
            " COUNT(f.id) AS down FROM questions q"
            " LEFT JOIN feedback f ON f.question_id = q.id AND f.value = -1"
            " WHERE q.origin <> 'search' AND (q.answered = 0 OR f.id IS NOT NULL)"
            " GROUP BY lower(q.question) ORDER BY asked + down DESC, MAX(q.asked_at) DESC"
            " LIMIT ?",
            (limit,),
        )
        return [(str(q), int(a), int(d)) for q, a, d in rows]

    @_translated
    async def ask_channels(self, guild_id: int | None = None) -> set[int]:
        if guild_id is None:
            rows = await self._db.execute_fetchall("SELECT channel_id FROM ask_channels")
        else:
            rows = await self._db.execute_fetchall(
                "SELECT channel_id FROM ask_channels WHERE guild_id = ?", (str(guild_id),)
            )
        return {int(r[0]) for r in rows}

    @_translated
    async def set_ask_channel(self, guild_id: int, channel_id: int, enabled: bool) -> bool:
        """Add or remove an ask-channel; returns whether anything changed."""
        if enabled:
            cursor = await self._db.execute(
                "INSERT OR IGNORE INTO ask_channels (guild_id, channel_id, added_at)"
                " VALUES (?, ?, ?)",
                (str(guild_id), str(channel_id), _now()),
            )
        else:
            cursor = await self._db.execute(
                "DELETE FROM ask_channels WHERE guild_id = ? AND channel_id = ?",
                (str(guild_id), str(channel_id)),
            )
        await self._db.commit()
        return cursor.rowcount > 0

    @_translated
    async def audit(
        self, guild_id: int | None, user_id: int, action: str, allowed: bool, detail: str = ""
    ) -> None:
        """Record an admin action, or the refusal of one."""
        await self._db.execute(
            "INSERT INTO audit (at, guild_id, user_id, action, allowed, detail)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                _now(),
                str(guild_id) if guild_id else None,
                str(user_id),
                action,
                int(allowed),
                detail,
            ),
        )
        await self._db.commit()

    @_translated
    async def audit_log(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = await self._db.execute_fetchall(
            "SELECT at, guild_id, user_id, action, allowed, detail FROM audit"
            " ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        keys = ("at", "guild_id", "user_id", "action", "allowed", "detail")
        return [dict(zip(keys, r, strict=True)) for r in rows]


def _assemble_snapshot(
    build_id: str,
    row: tuple[Any, ...],
    passage_rows: list[Any],
    article_rows: list[Any],
) -> Snapshot:
    info = _build_info(build_id, row)
    lexicon = Lexicon.from_bytes(row[8])
    bm25 = BM25Index.from_bytes(row[9], BM25Params(**info.params))
    articles, passages = _texts(passage_rows, article_rows)
    return Snapshot(info, articles, passages, bm25, lexicon)


def _texts(
    passage_rows: list[Any], article_rows: list[Any]
) -> tuple[dict[str, IndexedArticle], list[IndexedPassage]]:
    passages = [IndexedPassage(*r) for r in passage_rows]
    by_article: dict[str, list[int]] = {}
    for p in passages:
        by_article.setdefault(p.article_id, []).append(p.id)
    articles = {
        r[0]: IndexedArticle(
            r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], tuple(by_article.get(r[0], ()))
        )
        for r in article_rows
    }
    return articles, passages


def _build_info(build_id: str, row: tuple[Any, ...]) -> BuildInfo:
    """A build's facts from its row (built_at, analyzer, params, articles, passages,
    seconds, skipped, has_dictionary, …)."""
    return BuildInfo(
        build_id=build_id,
        built_at=row[0],
        analyzer=row[1],
        params=json.loads(row[2]),
        articles=row[3],
        passages=row[4],
        seconds=row[5],
        skipped=tuple(SkippedFile(p, r) for p, r in json.loads(row[6])),
        has_dictionary=bool(row[7]),
    )


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def build_info_dict(info: BuildInfo) -> dict[str, Any]:
    out = asdict(info)
    out["skipped"] = [str(s) for s in info.skipped]
    return out
