"""The machine-wide vector cache: its own small SQLite store and its storage layer.

Vectors are keyed by (model, text hash), so every index on the machine (an eval's
temporary database, a test run, a ``--rebuild``) shares them: the same text is never
encoded twice. The cache is an optimisation only: when it cannot be opened or written,
encoding goes on without it, with a warning.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


def default_cache_path() -> Path:
    """``$NEWSBOT_EMBEDDING_CACHE``, else ``$XDG_CACHE_HOME/newsbot/embeddings.sqlite3``."""
    explicit = os.environ.get("NEWSBOT_EMBEDDING_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "newsbot" / "embeddings.sqlite3"


@dataclass(frozen=True, slots=True)
class EmbeddingCache:
    """Vectors shared by every index on this machine, keyed by (model, text hash).

    An eval over a temporary database, a test run or a ``--rebuild`` then never encodes
    the same text twice. The cache is an optimisation only: when it cannot be opened or
    written, encoding goes on without it.
    """

    path: Path

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model TEXT NOT NULL, hash BLOB NOT NULL, "
            "vector BLOB NOT NULL, PRIMARY KEY (model, hash)) WITHOUT ROWID"
        )
        return db

    def get(self, model: str, hashes: Iterable[bytes]) -> dict[bytes, bytes]:
        wanted = list(dict.fromkeys(hashes))
        found: dict[bytes, bytes] = {}
        try:
            with closing(self._connect()) as db:
                for i in range(0, len(wanted), 500):
                    chunk = wanted[i : i + 500]
                    marks = ",".join("?" * len(chunk))
                    rows = db.execute(
                        f"SELECT hash, vector FROM vectors WHERE model = ? AND hash IN ({marks})",
                        [model, *chunk],
                    )
                    found.update((bytes(h), bytes(v)) for h, v in rows)
        except (sqlite3.Error, OSError) as exc:
            log.warning("embedding cache %s unreadable (%s); encoding without it", self.path, exc)
        return found

    def put(self, model: str, items: Iterable[tuple[bytes, bytes]]) -> None:
        rows = [(model, h, v) for h, v in items]
        if not rows:
            return
        try:
            with closing(self._connect()) as db, db:
                db.executemany("INSERT OR IGNORE INTO vectors VALUES (?, ?, ?)", rows)
        except (sqlite3.Error, OSError) as exc:
            log.warning("embedding cache %s not written (%s)", self.path, exc)
