"""Encoding the active build's passages and sentences, and loading their vectors.

Encoding is slow (about 3 passages and 20 sentences a second on two cores), so it runs in
its own process after the BM25 build is active, and only for text no stored vector has:
vectors are keyed by text hash, in the database and in the machine-wide cache
(``index.encoder.EmbeddingCache``). Passages come first (they rank), sentences next (they
choose quotes). The serving process picks up what was stored as it goes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from index.crashpoints import crash_point
from index.dense import DenseIndex, sentence_table
from index.diff import BuildTexts
from index.encoder import Encoder, text_hash, to_blob
from index.engine import Engine
from index.records import Snapshot
from index.store import IndexStore
from index.vector_cache import EmbeddingCache

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
PASSAGE_BATCH = 8
SENTENCE_BATCH = 32


@dataclass(frozen=True, slots=True)
class EncodeReport:
    """What one encoding run did."""

    model: str
    passages: int  # the active build's passages
    texts: int  # distinct passage and sentence texts it needs
    stored: int  # already in the database
    cached: int  # taken from the machine-wide cache
    encoded: int  # encoded now
    pruned: int = 0  # vectors of texts no longer indexed, removed


def _texts_of(build: BuildTexts | Snapshot) -> list[tuple[str, int, int]]:
    return [(build.articles[p.article_id].text, p.start, p.end) for p in build.passages]


def texts_to_encode(build: BuildTexts | Snapshot) -> tuple[dict[bytes, str], dict[bytes, str]]:
    """The distinct passage texts and sentence texts of a build, by hash."""
    passages: dict[bytes, str] = {}
    sentences: dict[bytes, str] = {}
    texts = _texts_of(build)
    for (text, a, b), spans in zip(texts, sentence_table(texts), strict=True):
        passages.setdefault(text_hash(text[a:b]), text[a:b])
        for x, y in spans:
            sentences.setdefault(text_hash(text[x:y]), text[x:y])
    return passages, sentences


def empty_index(encoder: Encoder, build: BuildTexts | Snapshot) -> DenseIndex:
    return DenseIndex.for_texts(encoder.model_id, encoder.dim, _texts_of(build))


async def encode_missing(
    storage: IndexStore,
    encoder: Encoder,
    cache: EmbeddingCache | None = None,
    progress: Progress | None = None,
) -> EncodeReport:
    """Store a vector for every passage and sentence text of the active build."""
    build = await storage.load_texts()
    build_id = await storage.active_build_id()
    model = encoder.model_id
    passage_texts, sentence_texts = texts_to_encode(build)
    wanted = {**sentence_texts, **passage_texts}
    stored = await storage.vector_hashes(model)
    missing = [h for h in wanted if h not in stored]
    from_cache = cache.get(model, missing) if cache is not None and missing else {}
    if from_cache:
        await storage.put_vectors(model, list(from_cache.items()))
    todo_p = [(h, t) for h, t in passage_texts.items() if h not in stored and h not in from_cache]
    todo_s = [
        (h, t)
        for h, t in sentence_texts.items()
        if h not in stored and h not in from_cache and h not in passage_texts
    ]
    total = len(todo_p) + len(todo_s)
    done = 0
    if progress:
        progress("encode", 0, total)
    for todo, size in ((todo_p, PASSAGE_BATCH), (todo_s, SENTENCE_BATCH)):
        for i in range(0, len(todo), size):
            batch = todo[i : i + size]
            vectors = encoder.passages([t for _, t in batch])
            items = [(h, to_blob(v)) for (h, _), v in zip(batch, vectors, strict=True)]
            await storage.put_vectors(model, items)
            if cache is not None:
                cache.put(model, items)
            done += len(batch)
            crash_point("mid_encode")
            if progress:
                progress("encode", done, total)
    pruned = 0
    if await storage.active_build_id() == build_id:  # a newer build prunes for itself
        pruned = await storage.prune_vectors(model, set(wanted))
    return EncodeReport(
        model,
        len(build.passages),
        len(wanted),
        len(wanted) - len(missing),
        len(from_cache),
        total,
        pruned,
    )


async def refresh_vectors(storage: IndexStore, engine: Engine) -> DenseIndex | None:
    """Give ``engine`` the stored vectors of the snapshot it serves: all of them for a new
    snapshot, then only those stored since the last call. None without an encoder."""
    encoder = engine.encoder
    if encoder is None:
        return None
    snapshot = engine.snapshot
    dense = engine.dense
    if dense is None:
        dense = empty_index(encoder, snapshot)
        engine.attach_dense(snapshot, dense)
    if dense.complete:
        return dense
    last, items = await storage.vectors_after(encoder.model_id, dense.watermark, dense.wanted)
    dense.fill(items)
    dense.watermark = last
    return dense


async def adopt_cached(storage: IndexStore, engine: Engine, cache: EmbeddingCache | None) -> int:
    """Store, from the machine-wide cache, the vectors ``engine``'s index lacks and has
    been encoded before (by another database, an eval, a test run); how many."""
    dense = await refresh_vectors(storage, engine)
    if dense is None or cache is None or dense.complete:
        return 0
    found = await asyncio.to_thread(cache.get, dense.model_id, dense.missing())
    if found:
        await storage.put_vectors(dense.model_id, list(found.items()))
        await refresh_vectors(storage, engine)
    return len(found)


def cache_for(path: Path | None) -> EmbeddingCache | None:
    return EmbeddingCache(path) if path is not None else None


def semantic_line(status: tuple[int, int] | None) -> str | None:
    """ "semantic index: N of M passages", or None when no encoder is configured."""
    if status is None:
        return None
    return f"semantic index: {status[0]} of {status[1]} passages"
