"""The PostgreSQL backend, through asyncpg: one database shared by several bot processes.

``DATABASE_URL=postgresql://user@host/db`` selects it. The stores' SQL is the same as for
SQLite (``?`` parameters, numbered here for the server). What differs:

- **Transactions** come from a small connection pool; PostgreSQL itself keeps concurrent
  writers apart, and a write waits for a row lock at most ``busy_timeout_ms``
  (``lock_timeout``), as a SQLite write waits for the file.
- **The reindex lock** is a session advisory lock held on a pooled connection: a process
  that dies, however it dies, loses its connection and with it the lock.
- **Changes** (a new active build, a ``/synonym``, a setting) are announced with
  ``NOTIFY`` when their transaction commits; :meth:`PostgresDatabase.listen` hears them
  on a dedicated connection. Those who listen also poll, in case that connection drops.
- **A server restart** costs the pool its connections: the first statement on each fails
  before anything was sent, and is tried once more on a fresh connection.

Everything a deployment holds lives in the URL's database and, with ``?search_path=name``
in the URL, in that schema (several deployments can share one database that way).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import hashlib
import re
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any

import asyncpg

from index.database import BUSY_TIMEOUT_MS, Database, Row, StorageError
from index.locks import ReindexBusyError

POOL_SIZE = 4
CONNECT_TIMEOUT_S = 10.0
_MIGRATION_LOCK = "migrations"
_REINDEX_LOCK = "reindex"

# Errors that mean "this connection is gone" (a restart, a network cut): the pool makes a
# new one on the next acquire.
_CONNECTION_LOST: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    ConnectionError,
    OSError,
)

# Locks held by the current task, by key: a lock is re-entrant within a task, and another
# task of the same process is not mistaken for its holder.
_held_locks: contextvars.ContextVar[frozenset[int]] = contextvars.ContextVar(
    "held_advisory_locks", default=frozenset()
)


@functools.lru_cache(maxsize=512)
def numbered(sql: str) -> str:
    """``sql`` with its ``?`` parameters numbered ``$1``, ``$2``, … (not those inside
    quotes)."""
    out: list[str] = []
    n = 0
    quote: str | None = None
    for ch in sql:
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "?":
            n += 1
            out.append(f"${n}")
            continue
        out.append(ch)
    return "".join(out)


def redacted(url: str) -> str:
    """``url`` without its password."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _rowcount(status: str) -> int:
    """The row count of a command status such as ``UPDATE 1`` or ``INSERT 0 3``."""
    match = re.search(r"(\d+)$", status or "")
    return int(match.group(1)) if match else 0


class _PgTransaction:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return _rowcount(await self.conn.execute(numbered(sql), *params))

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        batch = [tuple(r) for r in rows]
        if batch:
            await self.conn.executemany(numbered(sql), batch)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return [tuple(r) for r in await self.conn.fetch(numbered(sql), *params)]

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row = await self.conn.fetchrow(numbered(sql), *params)
        return tuple(row) if row is not None else None

    async def notify(self, channel: str, payload: str = "") -> None:
        await self.conn.execute("SELECT pg_notify($1, $2)", channel, payload)


class PostgresDatabase(Database):
    """A pool of asyncpg connections. ``await PostgresDatabase.open(url)``."""

    backend = "postgresql"
    errors = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, asyncio.TimeoutError)
    transient = (*_CONNECTION_LOST, asyncpg.exceptions.LockNotAvailableError, TimeoutError)

    def __init__(self, pool: asyncpg.Pool, url: str, busy_timeout_ms: int, namespace: str) -> None:
        self.pool = pool
        self.url = url
        self.busy_timeout_ms = busy_timeout_ms
        self.namespace = namespace  # database.schema: what the advisory locks are for
        self._listener: asyncpg.Connection | None = None
        self._callbacks: dict[str, list[Callable[[str], None]]] = {}
        self._listening: set[str] = set()

    @property
    def name(self) -> str:
        return redacted(self.url)

    @property
    def target(self) -> str:
        return self.url

    @classmethod
    async def open(cls, url: str, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> PostgresDatabase:
        """Connect to ``url``; a clear one-line StorageError when that cannot be done."""
        settings = {"lock_timeout": str(max(int(busy_timeout_ms), 1))}
        try:
            pool = await asyncpg.create_pool(
                url,
                min_size=1,
                max_size=POOL_SIZE,
                timeout=CONNECT_TIMEOUT_S,
                server_settings=settings,
            )
        except (*cls.errors, ValueError) as exc:
            raise StorageError(_describe(exc, redacted(url), busy_timeout_ms)) from exc
        try:
            row = await pool.fetchrow("SELECT current_database(), current_schema()")
        except cls.errors as exc:
            await pool.close()
            raise StorageError(_describe(exc, redacted(url), busy_timeout_ms)) from exc
        if row is None or row[1] is None:
            await pool.close()
            raise StorageError(
                f"the schema named in {redacted(url)} (search_path) does not exist; "
                "create it first (CREATE SCHEMA …)"
            )
        return cls(pool, url, busy_timeout_ms, f"{row[0]}.{row[1]}")

    async def close(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close(timeout=CONNECT_TIMEOUT_S)
            self._listener = None
        await self.pool.close()

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        query = numbered(sql)
        try:
            rows = await self.pool.fetch(query, *params)
        except _CONNECTION_LOST:  # a connection the server dropped: once more, anew
            rows = await self.pool.fetch(query, *params)
        return [tuple(r) for r in rows]

    @contextlib.asynccontextmanager
    async def _begun(self) -> AsyncIterator[_PgTransaction]:
        """A started transaction on a pooled connection (a dead connection is replaced
        once: nothing was written on it)."""
        for attempt in (1, 2):
            conn = await self.pool.acquire()
            tx = conn.transaction()
            try:
                await tx.start()
                break
            except _CONNECTION_LOST:
                await self.pool.release(conn)
                if attempt == 2:
                    raise
            except BaseException:
                await self.pool.release(conn)
                raise
        try:
            try:
                yield _PgTransaction(conn)
            except BaseException:
                with contextlib.suppress(Exception):
                    await asyncio.shield(tx.rollback())
                raise
            await asyncio.shield(tx.commit())
        finally:
            await asyncio.shield(self.pool.release(conn))

    def transaction(self) -> contextlib.AbstractAsyncContextManager[_PgTransaction]:
        return self._begun()

    @contextlib.asynccontextmanager
    async def _serialised(self) -> AsyncIterator[_PgTransaction]:
        async with self._begun() as tx:
            await tx.execute("SELECT pg_advisory_xact_lock(?)", (self._lock_key(_MIGRATION_LOCK),))
            yield tx

    def _lock_key(self, purpose: str) -> int:
        digest = hashlib.blake2b(f"newsbot:{self.namespace}:{purpose}".encode(), digest_size=8)
        return int.from_bytes(digest.digest(), "big", signed=True)

    @contextlib.asynccontextmanager
    async def reindex_lock(self, wait: bool = False) -> AsyncIterator[None]:
        key = self._lock_key(_REINDEX_LOCK)
        held = _held_locks.get()
        if key in held:
            yield
            return
        try:
            conn = await self.pool.acquire()
        except self.errors as exc:
            raise StorageError(self.describe(exc)) from exc
        try:
            while not await self._try_lock(conn, key):
                if not wait:
                    raise ReindexBusyError(
                        "another reindex of this database is running; try again when it has "
                        "finished"
                    )
                await asyncio.sleep(0.2)
            token = _held_locks.set(held | {key})
            try:
                yield
            finally:
                _held_locks.reset(token)
                with contextlib.suppress(Exception):
                    await asyncio.shield(conn.fetchval("SELECT pg_advisory_unlock($1)", key))
        finally:
            await asyncio.shield(self.pool.release(conn))

    async def _try_lock(self, conn: asyncpg.Connection, key: int) -> bool:
        try:
            return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", key))
        except self.errors as exc:
            raise StorageError(self.describe(exc)) from exc

    async def listen(self, channel: str, callback: Callable[[str], None]) -> bool:
        """Hear ``channel`` on a dedicated connection, made again if it was lost (so
        calling this again after a server restart listens again); registering the same
        callback twice is harmless."""
        callbacks = self._callbacks.setdefault(channel, [])
        if callback not in callbacks:
            callbacks.append(callback)
        listener = self._listener
        if listener is not None and not listener.is_closed():
            if channel in self._listening:
                return True
            with contextlib.suppress(*_CONNECTION_LOST):
                await listener.add_listener(channel, self._dispatch)
                self._listening.add(channel)
                return True
        self._listening = set()
        try:
            self._listener = await asyncpg.connect(self.url, timeout=CONNECT_TIMEOUT_S)
            for name in self._callbacks:
                await self._listener.add_listener(name, self._dispatch)
                self._listening.add(name)
        except (TimeoutError, *_CONNECTION_LOST, asyncpg.PostgresError):
            self._listener = None
            return False
        return True

    def _dispatch(self, conn: Any, pid: int, channel: str, payload: str) -> None:
        for callback in self._callbacks.get(channel, ()):
            callback(payload)

    def describe(self, exc: BaseException) -> str:
        return _describe(exc, self.name, self.busy_timeout_ms)

    async def _tracked(self, store: str) -> int | None:
        if await self.fetchone("SELECT to_regclass('schema_versions')") == (None,):
            return None
        row = await self.fetchone("SELECT version FROM schema_versions WHERE store = ?", (store,))
        return int(row[0]) if row else None


def _describe(exc: BaseException, name: str, busy_timeout_ms: int) -> str:
    """One line a person can act on, for what asyncpg raises."""
    if isinstance(exc, asyncpg.exceptions.LockNotAvailableError):
        return (
            f"the database {name} is locked by another process; waited "
            f"{busy_timeout_ms / 1000:g} s for it and gave up (try again when the other "
            "writer is done)"
        )
    if isinstance(exc, asyncpg.exceptions.InvalidCatalogNameError):
        return f"the database in {name} does not exist ({exc}); create it with createdb"
    if isinstance(
        exc,
        asyncpg.exceptions.InvalidPasswordError
        | asyncpg.exceptions.InvalidAuthorizationSpecificationError,
    ):
        return f"PostgreSQL at {name} refused the login ({exc}); check the user and password"
    if isinstance(exc, asyncpg.exceptions.DiskFullError):
        return f"the disk of the PostgreSQL server at {name} is full; free some space"
    if isinstance(exc, (*_CONNECTION_LOST, asyncio.TimeoutError)):
        detail = str(exc) or type(exc).__name__
        return f"cannot reach PostgreSQL at {name} ({detail}); is the server running?"
    if isinstance(exc, ValueError):
        return f"bad DATABASE_URL {name}: {exc}"
    return f"database error in {name}: {exc}"
