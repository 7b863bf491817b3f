"""Reindex: articles directory → snapshot → database, with the old index serving meanwhile.

The CPU work (parsing, analysis, dictionary loading and compilation) and writing the new
build's rows run in a child process, so an event loop answering questions is never
blocked, not even by long C calls that hold the GIL (unpickling the dictionary). The
parent activates the written build in one short transaction, loads it in a worker thread
and swaps it in. Reindexes are serialised: within one process by an asyncio lock, across
processes (CLI and bot) by a lock file.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import os
import queue as queue_module
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.corpus import require_article_files
from index.crashpoints import crash_point
from index.database import BUSY_TIMEOUT_MS, Database, StorageError
from index.diff import BuildTexts, ReindexDiff, diff_snapshots
from index.locks import ReindexBusyError
from index.records import BuildInfo, Snapshot
from index.sources import (
    Progress,
    ReindexReport,
    Sources,
    build_from_sources,
    dictionary_warning,
    inputs_fingerprint,
)
from index.store import IndexStore

if TYPE_CHECKING:  # the reindex child imports this module: it needs neither
    from index.embedding import EncodeReport
    from index.engine import Engine


_locks: dict[str, asyncio.Lock] = {}


def _lock_key(database: Database) -> str:
    """One key per database however its path was spelled ("data/x.db", "./data/x.db")."""
    return str(database.target.resolve() if isinstance(database.target, Path) else database.target)


@contextlib.asynccontextmanager
async def reindex_lock(database: Database, wait: bool = False) -> AsyncIterator[None]:
    """Hold the reindex lock for ``database``: in this process, then across processes
    (a file lock for SQLite, an advisory lock for PostgreSQL)."""
    lock = _locks.setdefault(_lock_key(database), asyncio.Lock())
    if lock.locked() and not wait:
        raise ReindexBusyError("a reindex is already running; try again when it has finished")
    async with lock, database.reindex_lock(wait=wait):
        yield


def reindex_running(database: Database) -> bool:
    """Whether this process is reindexing ``database`` now."""
    lock = _locks.get(_lock_key(database))
    return lock is not None and lock.locked()


class ReindexError(RuntimeError):
    """The reindex child failed; the message says why."""


def _child_build(
    queue: Any, target: str, sources: Sources, busy_timeout_ms: int, inputs: str | None
) -> None:
    """Child process: build the snapshot and write it as an inactive build."""

    def progress(stage: str, done: int, total: int) -> None:
        queue.put(("progress", stage, done, total))

    async def store(snapshot: Snapshot) -> ReindexDiff:
        async with await IndexStore.open(target, busy_timeout_ms) as storage:
            try:  # only the texts: loading the whole previous index would take a second
                previous: BuildTexts | None = await storage.load_texts()
            except Exception:  # no index yet, or one this version cannot read: no diff
                previous = None
            await storage.write_build(snapshot, lambda d, t: progress("store", d, t), inputs)
        return diff_snapshots(previous, snapshot)

    # A short-lived process that allocates millions of objects and frees them at exit:
    # the cyclic collector would only walk them again and again (a tenth of the time).
    gc.disable()
    try:
        snapshot = build_from_sources(sources, progress)
        diff = asyncio.run(store(snapshot))
        queue.put(("done", snapshot.info, diff))
    except BaseException as exc:  # report everything; the parent decides
        queue.put(("error", type(exc).__name__, str(exc)))


_ERRORS: dict[str, type[Exception]] = {
    "FileNotFoundError": FileNotFoundError,
    "NotADirectoryError": NotADirectoryError,
    "ValueError": ValueError,
    "NoArticlesError": ValueError,
    "StorageError": StorageError,
    "PermissionError": PermissionError,
}


async def build_in_child(
    target: str | Path,
    sources: Sources,
    progress: Progress | None = None,
    timeout: float = 3600,
    busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    inputs: str | None = None,
) -> tuple[BuildInfo, ReindexDiff]:
    """Run ``_child_build`` in a child process; relay its progress; return what it built
    and how that differs from the previous build.

    If anything goes wrong here (including an exception raised by ``progress``), the child
    is terminated and its build, never activated, is left for the next open to remove.
    """
    done = await run_in_child(
        _child_build,
        (str(target), sources, busy_timeout_ms, inputs),
        "newsbot-reindex",
        progress,
        timeout,
    )
    return done[0], done[1]


def _child_encode(
    queue: Any, target: str, encoder_spec: str, cache_path: Path | None, busy_timeout_ms: int
) -> None:
    """Child process: encode the active build's texts that have no stored vector."""

    def progress(stage: str, done: int, total: int) -> None:
        queue.put(("progress", stage, done, total))

    from index.embedding import cache_for, encode_missing
    from index.encoder import load_encoder

    async def run() -> EncodeReport:
        encoder = load_encoder(encoder_spec)
        if encoder is None:
            raise ValueError("no encoder configured")
        async with await IndexStore.open(target, busy_timeout_ms) as storage:
            return await encode_missing(storage, encoder, cache_for(cache_path), progress)

    try:
        queue.put(("done", asyncio.run(run())))
    except BaseException as exc:
        queue.put(("error", type(exc).__name__, str(exc)))


async def encode_in_child(
    target: str | Path,
    encoder_spec: str,
    cache_path: Path | None,
    progress: Progress | None = None,
    timeout: float = 24 * 3600,
    busy_timeout_ms: int = BUSY_TIMEOUT_MS,
) -> EncodeReport:
    """Encode what the active build lacks, in a child process (the caller keeps serving:
    it sees the vectors as they are stored, through ``refresh_vectors``)."""
    done = await run_in_child(
        _child_encode,
        (str(target), encoder_spec, cache_path, busy_timeout_ms),
        "newsbot-encode",
        progress,
        timeout,
    )
    report: EncodeReport = done[0]
    return report


# A reindex or an encoding runs beside the bot's answers. At a lower priority it takes the
# cores only when the answers leave them idle, and a question asked meanwhile is not kept
# waiting behind it; alone on the machine it runs as fast as before.
CHILD_NICENESS = 10


# The children fork from a server process that imported the pipeline once, rather than
# each starting Python and importing it again: that took half a second of every child, and
# a bot or a test process reindexes many times. The server is itself spawned, on the first
# child, so nothing of this process (its threads, event loop, open databases) is forked.
_START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
_PRELOAD = ["index.pipeline", "index.embedding"]


def _child_context() -> Any:  # a ForkServerContext, or a SpawnContext where there is none
    context = multiprocessing.get_context(_START_METHOD)
    if _START_METHOD == "forkserver":
        context.set_forkserver_preload(_PRELOAD)  # read when the server starts
    return context


def _in_background(target: Callable[..., None], environ: dict[str, str], *args: Any) -> None:
    """Child process: ``target(*args)`` at a lower scheduling priority, with the parent's
    environment as it is now (the fork server's is that of its start)."""
    os.environ.clear()
    os.environ.update(environ)
    with contextlib.suppress(OSError):  # a platform without nice: run at the same priority
        os.nice(CHILD_NICENESS)
    target(*args)


async def run_in_child(
    target: Callable[..., None],
    args: tuple[Any, ...],
    name: str,
    progress: Progress | None,
    timeout: float,
) -> tuple[Any, ...]:
    """Run ``target(queue, *args)`` in a child process and relay its messages:
    ("progress", stage, done, total), then ("done", …) or ("error", type, text)."""
    context = _child_context()
    queue = context.Queue()
    child = context.Process(
        target=_in_background,
        args=(target, dict(os.environ), queue, *args),
        name=name,
        daemon=True,
    )
    # Not on the event loop: the first start waits for the fork server to import the
    # pipeline (half a second), and each start for its fork.
    started = asyncio.ensure_future(asyncio.to_thread(child.start))
    deadline = time.monotonic() + timeout
    try:
        await asyncio.shield(started)
        while True:
            try:
                message = await asyncio.to_thread(queue.get, True, 0.2)
            except queue_module.Empty:
                what = name.removeprefix("newsbot-")
                if not child.is_alive():
                    raise ReindexError(
                        f"the {what} process died (exit code {child.exitcode})"
                    ) from None
                if time.monotonic() > deadline:
                    raise ReindexError(f"the {what} took longer than {timeout:.0f} s") from None
                continue
            kind = message[0]
            if kind == "progress":
                if progress is not None:
                    progress(message[1], message[2], message[3])
            elif kind == "done":
                return tuple(message[1:])
            else:
                error, text = message[1], message[2]
                raise _ERRORS.get(error, ReindexError)(text)
    finally:
        if not started.done():  # cancelled while starting: the child must not outlive us
            await asyncio.wait({started})
        if not started.cancelled() and started.exception() is None:
            if child.is_alive():
                child.terminate()
            await asyncio.to_thread(child.join, 5)
        queue.close()


def _report(
    info: BuildInfo, began: float, warnings: tuple[str, ...], **extra: Any
) -> ReindexReport:
    return ReindexReport(
        info.build_id,
        info.articles,
        info.passages,
        info.skipped,
        round(time.perf_counter() - began, 3),
        info.has_dictionary,
        (*warnings, *info.notes),
        built_at=info.built_at,
        **extra,
    )


async def reindex(
    storage: IndexStore,
    sources: Sources,
    engine: Engine | None = None,
    progress: Progress | None = None,
    wait: bool = False,
    force: bool = False,
) -> ReindexReport:
    """Rebuild the index from ``sources``, store it, and swap it into ``engine``.

    Until the new build is stored completely, the previous one stays active in the
    database and in ``engine``; any failure leaves both untouched. When nothing the index
    is made from changed since the active build (same ``inputs_fingerprint``), nothing is
    rebuilt and the report says so (``unchanged``), unless ``force`` is given.
    """
    from index.embedding import refresh_vectors

    began = time.perf_counter()
    require_article_files(sources.articles_dir)  # at once, not after starting the child
    warnings = tuple(w for w in [dictionary_warning(sources.dictionary_path)] if w)
    async with reindex_lock(storage.database, wait=wait):
        try:
            inputs: str | None = await asyncio.to_thread(inputs_fingerprint, sources)
        except (OSError, ValueError):
            inputs = None  # the child meets the same problem and reports it properly
        active = await storage.active_build()
        if not force and inputs is not None and active is not None and active[1] == inputs:
            info = active[0]
            if engine is not None and engine.snapshot.info.build_id != info.build_id:
                engine.swap(await storage.load_snapshot())
                await refresh_vectors(storage, engine)
            return _report(info, began, warnings, unchanged=True)
        info, diff = await build_in_child(
            storage.target,
            sources,
            progress,
            busy_timeout_ms=storage.busy_timeout_ms,
            inputs=inputs,
        )
        crash_point("before_activation")
        await storage.activate(info.build_id)
        if engine is not None:
            engine.swap(await storage.load_snapshot())
            # unchanged passages keep their vectors (keyed by text): hybrid at once for them
            await refresh_vectors(storage, engine)
    return _report(info, began, warnings, diff=diff)


async def encode_and_refresh(
    storage: IndexStore,
    engine: Engine,
    encoder_spec: str,
    cache_path: Path | None,
    progress: Progress | None = None,
) -> EncodeReport | None:
    """Encode what the active build lacks (in a child) while ``engine`` keeps answering,
    taking up the vectors batch by batch; None when ``engine`` has no encoder."""
    from index.embedding import adopt_cached, cache_for, refresh_vectors

    if engine.encoder is None:
        return None
    await adopt_cached(storage, engine, cache_for(cache_path))
    dense = engine.dense
    if dense is not None and dense.complete:
        return None
    stored = asyncio.Event()

    def relay(stage: str, done: int, total: int) -> None:
        stored.set()
        if progress is not None:
            progress(stage, done, total)

    async def take_up() -> None:
        while True:
            await stored.wait()
            stored.clear()
            await refresh_vectors(storage, engine)

    follower = asyncio.create_task(take_up())
    try:
        report = await encode_in_child(
            storage.target, encoder_spec, cache_path, relay, busy_timeout_ms=storage.busy_timeout_ms
        )
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
    await refresh_vectors(storage, engine)
    return report
