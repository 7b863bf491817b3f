"""The index store: index builds, their articles, passages and postings, and the
sentence-encoder vectors.

All of the index's SQL lives in this module, always with ``?`` parameters; the schema is
changed by the numbered migrations in ``index.schema``. The bot's own state
(question log, settings, …) is another store, ``bot.state``, which may share the file.

A reindex writes the new build under its own ``build_id`` while the old one keeps
serving, then flips ``meta.active_build`` in one short transaction: a reindex that fails
or is killed halfway leaves the previous build active, and its leftovers are removed on
the next open.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.analysis import ANALYZER_VERSION
from index.artifacts import ArtifactFormatError
from index.backends import open_database
from index.bm25 import BM25Index, BM25Params
from index.corpus import SkippedFile
from index.crashpoints import crash_point
from index.database import BUSY_TIMEOUT_MS, Database, StorageError, translated
from index.diff import BuildTexts
from index.lexicon import Lexicon
from index.locks import ReindexBusyError
from index.records import BuildInfo, IndexedArticle, IndexedPassage, Snapshot
from index.schema import MIGRATIONS

STORE = "index"
INDEX_CHANNEL = "newsbot_index"  # notified with the build id when a build becomes active
_WRITE_CHUNK = 2_000  # passages per insert transaction (and per progress step)
_ARTICLE_CHUNK = 1_000  # articles (with their full text) per insert transaction


class NoIndexError(StorageError):
    """The database holds no index build yet."""


class StaleIndexError(NoIndexError):
    """The active build was made by another version's analyser: it must be rebuilt (the
    command line and the bot do so on first use, as when there is none)."""


@dataclass(frozen=True, slots=True)
class BuildRow:
    """One build as the database lists it."""

    build_id: str
    state: str  # 'building' or 'ready'
    built_at: str
    articles: int
    passages: int


class IndexStore:
    """The index's tables in the project database. Use ``await IndexStore.open(path)``, or
    ``await IndexStore.on(database)`` to share a connection with another store."""

    def __init__(self, database: Database, owns_database: bool = False) -> None:
        self.database = database
        self._owns_database = owns_database

    @property
    def target(self) -> str | Path:
        """What opens this database again (in a reindex child, say): a file or a URL."""
        return self.database.target

    @property
    def busy_timeout_ms(self) -> int:
        return self.database.busy_timeout_ms

    @classmethod
    async def open(cls, target: str | Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> IndexStore:
        """Open (creating if needed) and migrate the database at ``target`` (a SQLite file
        or a ``postgresql://`` URL); closing the store closes it."""
        database = await open_database(target, busy_timeout_ms)
        try:
            return await cls.on(database, owns_database=True)
        except BaseException:
            await database.close()
            raise

    @classmethod
    async def on(cls, database: Database, owns_database: bool = False) -> IndexStore:
        """The index store on an open database, migrated, with leftovers of a killed
        reindex removed."""
        await database.migrate(STORE, MIGRATIONS)
        store = cls(database, owns_database)
        try:
            await store._remove_unfinished_builds()
        except database.errors as exc:  # damaged inside: one line, as for any other open
            raise database.unusable(exc) from exc
        return store

    async def close(self) -> None:
        if self._owns_database:
            await self.database.close()

    async def __aenter__(self) -> IndexStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @translated
    async def schema_version(self) -> int:
        return await self.database.version(STORE)

    async def _remove_unfinished_builds(self) -> None:
        """Delete every build but the active one: what a killed or failed reindex left.

        That covers builds still marked 'building' and an old build whose removal was
        interrupted right after the switch. Only when no reindex is running (a build being
        written by another connection looks just like a leftover), and only when there is
        something to delete, so that opening never needs the write lock otherwise. A busy
        database just means: not now.
        """
        try:
            async with self.database.reindex_lock():
                active = await self.active_build_id()
                others = "" if active is None else " WHERE build_id <> ?"
                params = () if active is None else (active,)
                if not await self.database.fetchall("SELECT build_id FROM builds" + others, params):
                    return
                async with self.database.transaction() as tx:
                    await tx.execute("DELETE FROM builds" + others, params)
        except Exception as exc:
            if isinstance(exc, (ReindexBusyError, OSError, StorageError, *self.database.transient)):
                return
            raise

    # -- index builds -------------------------------------------------------------------

    @translated
    async def active_build_id(self) -> str | None:
        row = await self.database.fetchone("SELECT value FROM meta WHERE key = 'active_build'")
        return str(row[0]) if row else None

    @translated
    async def save_snapshot(
        self,
        snapshot: Snapshot,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """Store ``snapshot`` as a new build and make it the active one.

        The rows are written first, under the new build id, while the old build stays
        active; the switch is one short transaction at the end.
        """
        async with self.database.reindex_lock(wait=True):
            await self.write_build(snapshot, progress)
            await self.activate(snapshot.info.build_id)

    @translated
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
        total = len(snapshot.passages)
        if progress:
            progress(0, total)
        lexicon_blob, postings_blob = await asyncio.to_thread(
            lambda: (snapshot.lexicon.to_bytes(), snapshot.bm25.to_bytes())
        )
        articles = list(snapshot.articles.values())
        async with self.database.transaction() as db:
            await db.execute(
                "INSERT INTO builds (build_id, state, built_at, analyzer, params, articles,"
                " passages, seconds, skipped, has_dictionary, lexicon, postings, inputs, notes)"
                " VALUES (?, 'building', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    json.dumps(list(info.notes)),
                ),
            )
        for lo in range(0, len(articles), _ARTICLE_CHUNK):
            async with self.database.transaction() as db:
                await db.executemany(
                    "INSERT INTO articles (build_id, id, title, date, source, path, caption,"
                    " text, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [_article_row(info.build_id, a) for a in articles[lo : lo + _ARTICLE_CHUNK]],
                )
        for lo in range(0, total, _WRITE_CHUNK):
            chunk = snapshot.passages[lo : lo + _WRITE_CHUNK]
            async with self.database.transaction() as db:
                await db.executemany(
                    "INSERT INTO passages (build_id, id, article_id, ordinal, section, start,"
                    ' "end") VALUES (?, ?, ?, ?, ?, ?, ?)',
                    [
                        (info.build_id, p.id, p.article_id, p.ordinal, p.section, p.start, p.end)
                        for p in chunk
                    ],
                )
            if progress:
                progress(min(lo + _WRITE_CHUNK, total), total)
            if lo + _WRITE_CHUNK < total:
                crash_point("mid_write")
        if progress and not total:
            progress(0, 0)

    @translated
    async def activate(self, build_id: str) -> None:
        """Make a written build the active one (one short transaction), drop the others."""
        async with self.database.transaction() as db:
            changed = await db.execute(
                "UPDATE builds SET state = 'ready' WHERE build_id = ?", (build_id,)
            )
            if changed != 1:
                raise StorageError(f"build {build_id} vanished before it could be activated")
            await db.execute(
                "INSERT INTO meta (key, value) VALUES ('active_build', ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (build_id,),
            )
            await db.notify(INDEX_CHANNEL, build_id)
        crash_point("after_activation")
        # Old builds are garbage now; removing them may wait for a busy database.
        async with self.database.transaction() as db:
            await db.execute("DELETE FROM builds WHERE build_id <> ?", (build_id,))

    @translated
    async def active_build(self) -> tuple[BuildInfo, str | None] | None:
        """The active build's facts and the fingerprint of its inputs (None when it was
        not recorded), without loading the index; None when there is no index."""
        build_id = await self.active_build_id()
        if build_id is None:
            return None
        row = await self.database.fetchone(
            "SELECT built_at, analyzer, params, articles, passages, seconds, skipped,"
            " has_dictionary, inputs, notes FROM builds WHERE build_id = ?",
            (build_id,),
        )
        if row is None:
            return None
        info = _build_info(build_id, tuple(row), row[9])
        return info, (str(row[8]) if row[8] is not None else None)

    @translated
    async def load_snapshot(self) -> Snapshot:
        """The active build, ready to answer (no article parsing, no dictionary).

        The rows are read without blocking the event loop and assembled in a worker thread, so a
        running bot keeps answering while it loads a new build.
        """
        build_id = await self.active_build_id()
        if build_id is None:
            raise NoIndexError(
                f"no index in {self.database.name}; build one with `python -m bot reindex`"
            )
        row = await self.database.fetchone(
            "SELECT built_at, analyzer, params, articles, passages, seconds, skipped,"
            " has_dictionary, lexicon, postings, notes FROM builds WHERE build_id = ?",
            (build_id,),
        )
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
        except (KeyError, TypeError, ValueError, EOFError, AttributeError, zlib.error) as exc:
            raise StorageError(
                f"the stored index cannot be read by this version ({type(exc).__name__}); "
                "run `python -m bot reindex`"
            ) from exc

    @translated
    async def load_texts(self) -> BuildTexts:
        """The active build's articles and passages only — what a reindex diff compares —
        without reading its index or making a snapshot of it."""
        build_id = await self.active_build_id()
        if build_id is None:
            raise NoIndexError(
                f"no index in {self.database.name}; build one with `python -m bot reindex`"
            )
        passage_rows, article_rows = await self._text_rows(build_id)
        articles, passages = _texts(list(passage_rows), list(article_rows))
        return BuildTexts(articles, passages)

    async def _text_rows(self, build_id: str) -> tuple[Any, Any]:
        passage_rows = await self.database.fetchall(
            'SELECT id, article_id, ordinal, section, start, "end" FROM passages'
            " WHERE build_id = ? ORDER BY id",
            (build_id,),
        )
        article_rows = await self.database.fetchall(
            "SELECT id, title, date, source, path, caption, text, sha256 FROM articles"
            " WHERE build_id = ? ORDER BY id",
            (build_id,),
        )
        return passage_rows, article_rows

    # --- sentence-encoder vectors ------------------------------------------------------

    @translated
    async def vectors_after(
        self, model: str, after_rowid: int = 0, hashes: set[bytes] | None = None
    ) -> tuple[int, list[tuple[bytes, bytes]]]:
        """Vectors of ``model`` stored after row ``after_rowid`` (all: 0), optionally only
        those of ``hashes``; and the last row read, to continue from."""
        rows = await self.database.fetchall(
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

    @translated
    async def vector_hashes(self, model: str) -> set[bytes]:
        rows = await self.database.fetchall("SELECT hash FROM vectors WHERE model = ?", (model,))
        return {bytes(r[0]) for r in rows}

    @translated
    async def put_vectors(self, model: str, items: Sequence[tuple[bytes, bytes]]) -> None:
        async with self.database.transaction() as db:
            await db.executemany(
                "INSERT INTO vectors (model, hash, vector) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [(model, h, v) for h, v in items],
            )

    @translated
    async def prune_vectors(self, model: str, keep: set[bytes]) -> int:
        """Drop ``model``'s vectors of texts no build holds any more; how many went."""
        stale = [h for h in await self.vector_hashes(model) if h not in keep]
        async with self.database.transaction() as db:
            await db.executemany(
                "DELETE FROM vectors WHERE model = ? AND hash = ?", [(model, h) for h in stale]
            )
        return len(stale)

    @translated
    async def builds(self) -> list[BuildRow]:
        """Every build in the database, oldest first (normally just the active one)."""
        rows = await self.database.fetchall(
            "SELECT build_id, state, built_at, articles, passages FROM builds ORDER BY built_at"
        )
        return [BuildRow(str(b), str(s), str(t), int(a), int(p)) for b, s, t, a, p in rows]


def _assemble_snapshot(
    build_id: str,
    row: tuple[Any, ...],
    passage_rows: list[Any],
    article_rows: list[Any],
) -> Snapshot:
    info = _build_info(build_id, row, row[10])
    lexicon = Lexicon.from_bytes(row[8])
    bm25 = BM25Index.from_bytes(row[9], BM25Params(**info.params))
    articles, passages = _texts(passage_rows, article_rows)
    return Snapshot(info, articles, passages, bm25, lexicon)


def _article_row(build_id: str, a: IndexedArticle) -> tuple[Any, ...]:
    return (build_id, a.id, a.title, a.date, a.source, a.path, a.caption, a.text, a.sha256)


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


def _build_info(build_id: str, row: tuple[Any, ...], notes: str) -> BuildInfo:
    """A build's facts from its row (built_at, analyzer, params, articles, passages,
    seconds, skipped, has_dictionary, …) and its notes (JSON)."""
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
        notes=tuple(json.loads(notes)),
    )
