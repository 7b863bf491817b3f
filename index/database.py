"""The SQLite connection the stores share, their migrations, and clear errors.

A project database holds two stores: the search index (``index.store``) and the bot's
state (``bot.state``). Each has its own numbered migrations and its own version in the
``schema_versions`` table, so either can change without the other. They can share one
file and one aiosqlite connection; every write goes through ``Database.transaction``,
which serialises the writers of that connection (an explicit ``BEGIN`` that met another
coroutine's open transaction would fail).

The database runs in WAL mode, so answering (reads) goes on while a reindex writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, cast

import aiosqlite

BUSY_TIMEOUT_MS = 5_000


class StorageError(RuntimeError):
    """The database cannot be used; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of a store's schema: its statements run in one transaction.

    ``legacy`` is the version of the single schema that databases made before the stores
    were split carry in ``PRAGMA user_version`` (1–9), when that schema included this
    step: such a database starts each store past the steps it already has.
    """

    number: int
    statements: tuple[str, ...]
    legacy: int | None = None


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


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


class Database:
    """One aiosqlite connection to the project database. Use ``await Database.open(path)``."""

    def __init__(self, conn: aiosqlite.Connection, path: Path, busy_timeout_ms: int) -> None:
        self.conn = conn
        self.path = path
        self.busy_timeout_ms = busy_timeout_ms
        self._writing = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Database:
        """Open (creating if needed) the database at ``path``, in WAL mode."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create data directory {path.parent}: {exc}") from exc
        try:
            conn = await aiosqlite.connect(path, timeout=busy_timeout_ms / 1000)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open database {path}: {exc}") from exc
        try:
            await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            await conn.execute("PRAGMA foreign_keys = ON")
            await (await conn.execute("PRAGMA journal_mode = WAL")).fetchone()
            await conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            await conn.close()
            raise unusable(exc, path, busy_timeout_ms) from exc
        return cls(conn, path, busy_timeout_ms)

    async def close(self) -> None:
        await self.conn.close()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction (``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any
        error), never interleaved with another writer of this connection. Not re-entrant:
        a store method that writes must not be called inside another's transaction."""
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
                yield self.conn
                await asyncio.shield(self.conn.commit())
            except BaseException:
                if self.conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error, ValueError):
                        await asyncio.shield(self.conn.rollback())
                raise

    async def migrate(self, store: str, migrations: Sequence[Migration]) -> None:
        """Bring ``store``'s tables up to its last migration, one transaction per step.

        A database already up to date is only read: opening it never waits for the write
        lock that another process may hold.
        """
        try:
            version = await self._steps_taken(store, migrations)
            for migration in migrations[version:]:
                async with self.transaction() as conn:
                    await conn.execute(
                        "CREATE TABLE IF NOT EXISTS schema_versions ("
                        " store TEXT PRIMARY KEY, version INTEGER NOT NULL)"
                    )
                    # Another process may have taken this step since we looked.
                    if migration.number <= await self._steps_taken(store, migrations):
                        continue
                    for statement in migration.statements:
                        await conn.execute(statement)
                    await conn.execute(
                        "INSERT INTO schema_versions (store, version) VALUES (?, ?)"
                        " ON CONFLICT (store) DO UPDATE SET version = excluded.version",
                        (store, migration.number),
                    )
        except sqlite3.Error as exc:
            raise unusable(exc, self.path, self.busy_timeout_ms) from exc
        if version > len(migrations):
            raise StorageError(
                f"the {store} schema of {self.path} is version {version}, newer than this "
                f"program's ({len(migrations)}); update the program"
            )

    async def version(self, store: str) -> int:
        """``store``'s version in ``schema_versions`` (0 before its first migration)."""
        return await self._tracked(store) or 0

    async def _tracked(self, store: str) -> int | None:
        tables = await self.conn.execute_fetchall(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_versions'"
        )
        if not tables:
            return None
        rows = list(
            await self.conn.execute_fetchall(
                "SELECT version FROM schema_versions WHERE store = ?", (store,)
            )
        )
        return int(rows[0][0]) if rows else None

    async def _steps_taken(self, store: str, migrations: Sequence[Migration]) -> int:
        """The steps of ``store`` that the database has (read only)."""
        tracked = await self._tracked(store)
        if tracked is not None:
            return tracked
        # A database from before the split: its single version says which steps it has.
        row = await (await self.conn.execute("PRAGMA user_version")).fetchone()
        legacy = int(row[0]) if row else 0
        return sum(1 for m in migrations if m.legacy is not None and m.legacy <= legacy)


def unusable(exc: sqlite3.Error, path: Path, busy_timeout_ms: int) -> StorageError:
    """The error for a database that cannot be opened or migrated."""
    if isinstance(exc, sqlite3.OperationalError):  # locked, disk full, read-only, …
        return StorageError(describe_sqlite_error(exc, path, busy_timeout_ms))
    return StorageError(  # not a database, malformed
        f"database {path} is unusable ({exc}); run `python -m bot reindex --rebuild` to recreate it"
    )


class HasDatabase(Protocol):
    database: Database


S = TypeVar("S", bound=HasDatabase)
P = ParamSpec("P")
R = TypeVar("R")


def translated(
    method: Callable[Concatenate[S, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, R]]:
    """Turn a store method's sqlite3 errors into StorageError with a clear message."""

    @functools.wraps(method)
    async def wrapper(self: S, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(self, *args, **kwargs)
        except sqlite3.Error as exc:
            db = self.database
            raise StorageError(describe_sqlite_error(exc, db.path, db.busy_timeout_ms)) from exc

    return cast("Callable[Concatenate[S, P], Coroutine[Any, Any, R]]", wrapper)
