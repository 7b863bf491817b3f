"""Fixtures of the end-to-end bot tests: the stand-in, a harness for the real bot, the bot."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.app import NewsBot
from bot.standin import DiscordStandIn
from index.engine import Snapshot
from tests.bot.botfixtures import Harness, capture_errors
from tests.conftest import SEEDS


@pytest.fixture
def no_discord_errors() -> Iterator[None]:
    """Fail the test when discord.py, the bot or asyncio logs an ERROR.

    discord.py only logs an exception in an event handler or a view callback, and the bot's
    tree error handler turns one in a command into an apology plus an ERROR log record.
    """
    with capture_errors() as log:
        yield
    if log.records:
        pytest.fail("errors were logged:\n" + log.report())


@pytest.fixture
async def api() -> AsyncIterator[DiscordStandIn]:
    async with DiscordStandIn() as stand_in:
        yield stand_in


@pytest.fixture
def harness(api: DiscordStandIn, tmp_path: Path, seed_snapshot: Snapshot) -> Harness:
    shutil.copytree(SEEDS, tmp_path / "articles")
    return Harness(api, tmp_path, seed_snapshot)


@pytest.fixture
async def bot(harness: Harness) -> AsyncIterator[NewsBot]:
    """The project's bot with the default test settings (no cooldown)."""
    async with harness.run() as running:
        yield running
