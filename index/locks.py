"""The cross-process lock that serialises the reindexes of one database (a file lock)."""

from __future__ import annotations

import contextlib
import contextvars
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


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

    Writers of index builds hold it; ``IndexStore.open`` only removes unfinished builds when
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
