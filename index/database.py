"""The database the stores share: one interface, two backends, numbered migrations.

A project database holds two stores: the search index (``index.store``) and the bot's
state (``bot.state``). Each has its own numbered migrations, one list per backend, and its
own version in the ``schema_versions`` table, so either can change without the other.

Two backends implement :class:`Database`:

- SQLite (``index.sqlite``), the embedded default: one file, nothing to install;
- PostgreSQL (``index.postgres``), through asyncpg, selected by a ``postgresql://`` URL,
  for several bot processes (on several machines) that share one index and one state.

The stores write their SQL once, with ``?`` parameters, in the subset both dialects
share; the PostgreSQL backend numbers the parameters for the server. Every write goes
through :meth:`Database.transaction`.
"""

from __future__ import annotations

import abc
import contextlib
import datetime as dt
import functools
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, cast

BUSY_TIMEOUT_MS = 5_000
POSTGRES_SCHEMES = ("postgresql://", "postgres://")

Row = tuple[Any, ...]


class StorageError(RuntimeError):
    """The database cannot be used; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of a store's schema: its statements run in one transaction.

    ``legacy`` is the version of the single schema that SQLite databases made before the
    stores were split carry in ``PRAGMA user_version`` (1–9), when that schema included
    this step: such a database starts each store past the steps it already has. ``data``
    changes the rows in ways SQL cannot, in the same transaction, after the statements.
    """

    number: int
    statements: tuple[str, ...]
    legacy: int | None = None
    data: Callable[[Transaction], Awaitable[None]] | None = None


# A store's migrations for each backend ("sqlite", "postgresql"), numbered from 1.
Migrations = Mapping[str, Sequence[Migration]]


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Transaction(Protocol):
    """What a store does inside :meth:`Database.transaction`."""

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; the number of rows it changed."""

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    async def notify(self, channel: str, payload: str = "") -> None:
        """Tell the other processes on this database, when the transaction commits."""


class Database(abc.ABC):
    """A connection (or pool) to the project database. Open one with :func:`open_database`."""

    backend: str  # "sqlite" or "postgresql"
    busy_timeout_ms: int
    errors: tuple[type[BaseException], ...]  # what the driver raises
    transient: tuple[type[BaseException], ...]  # of those: busy, locked, unreachable

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """Where the database is, for messages (a file, or a URL without its password)."""

    @property
    @abc.abstractmethod
    def target(self) -> str | Path:
        """What opens this database again (in another process): a file or a URL."""

    @property
    def path(self) -> Path | None:
        """The database file (SQLite), or None."""
        return None

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Read rows (outside any transaction)."""

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    @abc.abstractmethod
    def transaction(self) -> contextlib.AbstractAsyncContextManager[Transaction]:
        """One write transaction, committed at the end of the block, rolled back on any
        error. Not re-entrant: a store method that writes must not be called inside
        another's transaction."""

    @abc.abstractmethod
    def reindex_lock(self, wait: bool = False) -> contextlib.AbstractAsyncContextManager[None]:
        """Hold the lock that serialises reindexes across processes (re-entrant within a
        task); ``ReindexBusyError`` when another holds it and ``wait`` is off. It is
        released when its holder dies, however it dies."""

    async def listen(self, channel: str, callback: Callable[[str], None]) -> bool:
        """Call ``callback(payload)`` when another process notifies ``channel``; False
        when this backend cannot push (the caller polls instead)."""
        return False

    @abc.abstractmethod
    def describe(self, exc: BaseException) -> str:
        """One line a person can act on, for an error of this database's driver."""

    @abc.abstractmethod
    async def _tracked(self, store: str) -> int | None:
        """``store``'s version in ``schema_versions``; None when it has no row there."""

    @abc.abstractmethod
    def _serialised(self) -> contextlib.AbstractAsyncContextManager[Transaction]:
        """A transaction that other processes' migrations wait for."""

    async def _legacy_steps(self, migrations: Sequence[Migration]) -> int:
        """The steps a database made before the stores were split already has."""
        return 0

    async def version(self, store: str) -> int:
        """``store``'s version in ``schema_versions`` (0 before its first migration)."""
        return await self._tracked(store) or 0

    async def _steps_taken(self, store: str, migrations: Sequence[Migration]) -> int:
        tracked = await self._tracked(store)
        return tracked if tracked is not None else await self._legacy_steps(migrations)

    async def migrate(self, store: str, migrations: Migrations) -> None:
        """Bring ``store``'s tables up to its last migration for this backend, one
        transaction per step.

        A database already up to date is only read: opening it never waits for the write
        lock that another process may hold.
        """
        steps = migrations[self.backend]
        try:
            version = await self._steps_taken(store, steps)
            for migration in steps[version:]:
                async with self._serialised() as tx:
                    await tx.execute(
                        "CREATE TABLE IF NOT EXISTS schema_versions ("
                        " store TEXT PRIMARY KEY, version INTEGER NOT NULL)"
                    )
                    # Another process may have taken this step since we looked.
                    if migration.number <= await self._steps_taken(store, steps):
                        continue
                    for statement in migration.statements:
                        await tx.execute(statement)
                    if migration.data is not None:
                        await migration.data(tx)
                    await tx.execute(
                        "INSERT INTO schema_versions (store, version) VALUES (?, ?)"
                        " ON CONFLICT (store) DO UPDATE SET version = excluded.version",
                        (store, migration.number),
                    )
        except self.errors as exc:
            raise self.unusable(exc) from exc
        if version > len(steps):
            raise StorageError(
                f"the {store} schema of {self.name} is version {version}, newer than this "
                f"program's ({len(steps)}); update the program"
            )

    def unusable(self, exc: BaseException) -> StorageError:
        """The error for a database that cannot be opened or migrated."""
        return StorageError(self.describe(exc))


def is_postgres_url(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


class HasDatabase(Protocol):
    database: Database


S = TypeVar("S", bound=HasDatabase)
P = ParamSpec("P")
R = TypeVar("R")


def translated(
    method: Callable[Concatenate[S, P], Coroutine[Any, Any, R]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, R]]:
    """Turn a store method's driver errors into StorageError with a clear message."""

    @functools.wraps(method)
    async def wrapper(self: S, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await method(self, *args, **kwargs)
        except StorageError:
            raise
        except self.database.errors as exc:
            raise StorageError(self.database.describe(exc)) from exc

    return cast("Callable[Concatenate[S, P], Coroutine[Any, Any, R]]", wrapper)
