"""Keeping an engine on the database's active build, when another process activates one.

Several processes can serve one database: bot processes for different shards, or a bot
and a ``python -m bot reindex`` in a terminal. The one that reindexes swaps its own engine;
the others call :func:`catch_up` when told (PostgreSQL ``NOTIFY`` on ``INDEX_CHANNEL``) or
when they poll, and swap to the new build without a restart.
"""

from __future__ import annotations

from index.embedding import refresh_vectors
from index.engine import Engine
from index.pipeline import reindex_running
from index.store import IndexStore


async def catch_up(storage: IndexStore, engine: Engine) -> str | None:
    """Swap ``engine`` to the active build if it serves another one; the new build's id,
    or None when nothing changed. Vectors stored since the last call are taken up either
    way (another process may be encoding them).

    A reindex running in this process swaps the engine itself: then nothing is done.
    """
    if reindex_running(storage.database):
        return None
    active = await storage.active_build_id()
    swapped = None
    if active is not None and active != engine.snapshot.info.build_id:
        engine.swap(await storage.load_snapshot())
        swapped = active
    dense = engine.dense
    if engine.encoder is not None and (dense is None or not dense.complete):
        await refresh_vectors(storage, engine)
    return swapped
