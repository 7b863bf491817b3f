"""Opening the project database on the backend its target names."""

from __future__ import annotations

from pathlib import Path

from index.database import BUSY_TIMEOUT_MS, Database, is_postgres_url
from index.postgres import PostgresDatabase
from index.sqlite import SqliteDatabase


async def open_database(target: str | Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Database:
    """The database at ``target``: a ``postgresql://`` URL, or the path of a SQLite file
    (created if needed)."""
    if is_postgres_url(target):
        return await PostgresDatabase.open(str(target), busy_timeout_ms)
    return await SqliteDatabase.open(Path(target), busy_timeout_ms)
