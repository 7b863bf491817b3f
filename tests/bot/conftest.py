"""Fixtures of the end-to-end bot tests: the stand-in, a harness for the real bot, the bot."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from bot.app import NewsBot
from index.records import Snapshot
from index.store import IndexStore
from tests.bot.botfixtures import ERROR_LOGGERS, Harness
from tests.conftest import SEEDS
from tests.support.standin import DiscordStandIn, capture_errors


@pytest.fixture
def no_discord_errors() -> Iterator[None]:
    """Fail the test when discord.py, the bot or asyncio logs an ERROR.

    discord.py only logs an exception in an event handler or a view callback, and the bot's
    tree error handler turns one in a command into an apology plus an ERROR log record.
    """
    with capture_errors(ERROR_LOGGERS) as log:
        yield
    if log.records:
        pytest.fail("errors were logged:\n" + log.report())


@pytest.fixture
async def api() -> AsyncIterator[DiscordStandIn]:
    async with DiscordStandIn() as stand_in:
        yield stand_in


@pytest.fixture(scope="session")
def seed_database(
    tmp_path_factory: pytest.TempPathFactory, seed_snapshot: Snapshot
) -> tuple[Path, Snapshot]:
    """A database holding the seed index, written once, and that index as loaded from it:
    each bot starts on a copy of the file (writing and loading the index takes a second,
    copying a file a millisecond)."""
    path = tmp_path_factory.mktemp("seed-database") / "db.sqlite3"

    async def write() -> Snapshot:
        async with await IndexStore.open(path) as storage:
            await storage.save_snapshot(seed_snapshot)
            return await storage.load_snapshot()

    stored = asyncio.run(write())
    with closing(sqlite3.connect(path)) as conn:  # fold the WAL into the file: copy one file
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path, stored


@pytest.fixture
def harness(
    api: DiscordStandIn,
    tmp_path: Path,
    seed_snapshot: Snapshot,
    seed_database: tuple[Path, Snapshot],
) -> Harness:
    shutil.copytree(SEEDS, tmp_path / "articles")
    return Harness(api, tmp_path, seed_snapshot, *seed_database)


@pytest.fixture
async def bot(harness: Harness) -> AsyncIterator[NewsBot]:
    """The project's bot with the default test settings (no cooldown)."""
    async with harness.run() as running:
        yield running
