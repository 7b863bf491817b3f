"""Engines with the real encoder for tests: vectors through the tests' own cache, so each
text is encoded once per machine, not once per test."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from index.embedding import empty_index, texts_to_encode
from index.encoder import Encoder, to_blob
from index.engine import Engine
from index.lemma_dictionary import Lemmatize
from index.records import Snapshot
from index.vector_cache import EmbeddingCache
from tests.conftest import cache_dir


def vectors_for(snapshot: Snapshot, encoder: Encoder) -> list[tuple[bytes, bytes]]:
    """Every passage and sentence vector of ``snapshot``, through the tests' cache."""
    cache = EmbeddingCache(cache_dir() / "embeddings.sqlite3")
    passages, sentences = texts_to_encode(snapshot)
    texts = {**sentences, **passages}
    found = cache.get(encoder.model_id, texts)
    todo = [h for h in texts if h not in found]
    if todo:
        vectors = encoder.passages([texts[h] for h in todo])
        fresh = [(h, to_blob(v)) for h, v in zip(todo, vectors, strict=True)]
        cache.put(encoder.model_id, fresh)
        found.update(fresh)
    return list(found.items())


def hybrid_engine(
    snapshot: Snapshot,
    encoder: Encoder,
    keep: Iterable[int] | None = None,
    lemmatize: Lemmatize | None = None,
) -> Engine:
    """An engine with all vectors, or only those of the passages ``keep``."""
    engine = Engine(snapshot, encoder=encoder, lemmatize=lemmatize)
    dense = empty_index(encoder, snapshot)
    dense.fill(vectors_for(snapshot, encoder))
    if keep is not None:
        drop = np.ones(len(snapshot.passages), dtype=bool)
        drop[list(keep)] = False
        dense.passage_has[drop] = False
    engine.attach_dense(snapshot, dense)
    return engine
