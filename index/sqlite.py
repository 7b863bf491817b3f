"""The SQLite backend: one file, one aiosqlite connection shared by the stores.

Every write goes through ``SqliteDatabase.transaction``, which serialises the writers of
the connection (an explicit ``BEGIN`` that met another coroutine's open transaction would
fail). The database runs in WAL mode, so answering (reads) goes on while a reindex writes.
Reindexes are serialised across processes by a file lock next to the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from index.database import BUSY_TIMEOUT_MS, Database, Migration, Row, StorageError
from index.locks import ReindexBusyError, reindex_file_lock

WORKER_STOP_S = 30.0  # a generous ceiling: the thread only closes nothing and returns


class _SqliteTransaction:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = await self.conn.execute(sql, tuple(params))
        return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self.conn.executemany(sql, [tuple(r) for r in rows])

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return [tuple(r) for r in await self.conn.execute_fetchall(sql, tuple(params))]

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row = await (await self.conn.execute(sql, tuple(params))).fetchone()
        return tuple(row) if row is not None else None

    async def notify(self, channel: str, payload: str = "") -> None:
        """Nothing to do: other processes on a SQLite file poll for changes."""


def describe_sqlite_error(
    exc: BaseException, path: Path, busy_timeout_ms: int | None = None
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


def not_a_database_file(path: Path) -> str | None:
    """Why ``path`` cannot be a database file (a directory, /dev/null, a socket), or None
    (it is a file, or nothing is there yet)."""
    if not path.exists() or path.is_file():
        return None
    what = "a directory" if path.is_dir() else "a device or other special file"
    return f"{path} is {what}, not a database file; give a file's path"


async def _worker_stopped(conn: aiosqlite.Connection) -> None:
    """Wait for the worker thread of a connection that failed to open.

    aiosqlite stops that thread without waiting for it, and the thread's last act is to
    post to the event loop: once ``asyncio.run`` has closed the loop, that is a traceback
    on stderr ("Event loop is closed") under the one-line error, on a slow machine.
    """
    thread = conn if isinstance(conn, threading.Thread) else getattr(conn, "_thread", None)
    if isinstance(thread, threading.Thread) and thread.is_alive():
        await asyncio.to_thread(thread.join, WORKER_STOP_S)


class SqliteDatabase(Database):
    """One aiosqlite connection to a database file. ``await SqliteDatabase.open(path)``."""

    backend = "sqlite"
    errors = (sqlite3.Error,)
    transient = (sqlite3.OperationalError,)

    def __init__(self, conn: aiosqlite.Connection, path: Path, busy_timeout_ms: int) -> None:
        self.conn = conn
        self._path = path
        self.busy_timeout_ms = busy_timeout_ms
        self._writing = asyncio.Lock()

    @property
    def name(self) -> str:
        return str(self._path)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def target(self) -> Path:
        return self._path

    @classmethod
    async def open(cls, path: Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> SqliteDatabase:
        """Open (creating if needed) the database at ``path``, in WAL mode."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise StorageError(
                f"cannot create data directory {path.parent}: a file is in the way "
                "(a database path must lie in a directory)"
            ) from None
        except OSError as exc:
            reason = exc.strerror or exc
            raise StorageError(f"cannot create data directory {path.parent}: {reason}") from exc
        if (wrong := not_a_database_file(path)) is not None:
            raise StorageError(wrong)
        opening = aiosqlite.connect(path, timeout=busy_timeout_ms / 1000)
        try:
            conn = await opening
        except BaseException as exc:  # cancelled too: the thread must not outlive the loop
            await asyncio.shield(_worker_stopped(opening))
            if isinstance(exc, sqlite3.Error):
                raise StorageError(f"cannot open database {path}: {exc}") from exc
            raise
        database = cls(conn, path, busy_timeout_ms)
        try:
            await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            await conn.execute("PRAGMA foreign_keys = ON")
            await (await conn.execute("PRAGMA journal_mode = WAL")).fetchone()
            await conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException as exc:
            # Cancelled here too: an unclosed connection's (non-daemon) thread would keep
            # the process from exiting.
            with contextlib.suppress(Exception):
                await conn.close()
            if isinstance(exc, sqlite3.Error):
                raise database.unusable(exc) from exc
            raise
        return database

    async def close(self) -> None:
        await self.conn.close()

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await _SqliteTransaction(self.conn).fetchall(sql, params)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return await _SqliteTransaction(self.conn).fetchone(sql, params)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[_SqliteTransaction]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, never interleaved with another writer of
        this connection."""
        async with self._writing:
            # aiosqlite runs a statement on its own thread: one cancelled while waiting
            # for the write lock still begins the transaction later. Wait for it, and undo
            # it, so that the next writer never finds a transaction left open.
            begin = asyncio.ensure_future(self.conn.execute("BEGIN IMMEDIATE"))
            try:
                await asyncio.shield(begin)
            except BaseException:
                with contextlib.suppress(Exception):
                    await begin
                    await self.conn.rollback()
                raise
            try:
                yield _SqliteTransaction(self.conn)
                await asyncio.shield(self.conn.commit())
            except BaseException:
                if self.conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error, ValueError):
                        await asyncio.shield(self.conn.rollback())
                raise

    def _serialised(self) -> contextlib.AbstractAsyncContextManager[_SqliteTransaction]:
        return self.transaction()  # BEGIN IMMEDIATE already excludes other writers

    @contextlib.asynccontextmanager
    async def reindex_lock(self, wait: bool = False) -> AsyncIterator[None]:
        while True:
            try:
                held = contextlib.ExitStack()
                held.enter_context(reindex_file_lock(self.path))
                break
            except ReindexBusyError:
                if not wait:
                    raise
                # Waiting for another process must not block the event loop.
                await asyncio.sleep(0.2)
        with held:
            yield

    def describe(self, exc: BaseException) -> str:
        return describe_sqlite_error(exc, self.path, self.busy_timeout_ms)

    def unusable(self, exc: BaseException) -> StorageError:
        if isinstance(exc, sqlite3.OperationalError):  # locked, disk full, read-only, …
            return StorageError(self.describe(exc))
        return StorageError(  # not a database, malformed
            f"database {self.path} is unusable ({exc}); run `python -m bot reindex --rebuild` "
            "to recreate it"
        )

    async def integrity_check(self) -> str:
        row = await self.fetchone("PRAGMA integrity_check")
        return str(row[0]) if row else "no answer"

    async def _tracked(self, store: str) -> int | None:
        tables = await self.fetchall(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_versions'"
        )
        if not tables:
            return None
        row = await self.fetchone("SELECT version FROM schema_versions WHERE store = ?", (store,))
        return int(row[0]) if row else None

    async def _legacy_steps(self, migrations: Sequence[Migration]) -> int:
        # A database from before the split: its single version says which steps it has.
        row = await self.fetchone("PRAGMA user_version")
        legacy = int(row[0]) if row else 0
        return sum(1 for m in migrations if m.legacy is not None and m.legacy <= legacy)
