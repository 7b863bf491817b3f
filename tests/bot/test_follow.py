"""A bot follows what another process does to its SQLite database (a reindex in a terminal,
a /synonym by another bot process): it polls every ``SYNC_POLL_SECONDS``."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable

import pytest

from bot.app import NewsBot
from bot.state import BotState
from index.records import BuildInfo, Snapshot
from index.store import IndexStore
from tests.bot.botfixtures import ANSWER_TIMEOUT, Harness

pytestmark = pytest.mark.usefixtures("no_discord_errors")

POLL = 0.05  # seconds; the waits below end when the change is taken up


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + ANSWER_TIMEOUT
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"the bot never {what}")
        await asyncio.sleep(POLL)


def renamed(snapshot: Snapshot, build_id: str) -> Snapshot:
    info: BuildInfo = dataclasses.replace(snapshot.info, build_id=build_id)
    return Snapshot(info, snapshot.articles, snapshot.passages, snapshot.bm25, snapshot.lexicon)


async def test_a_build_activated_by_another_process_is_swapped_in(
    harness: Harness, seed_snapshot: Snapshot
) -> None:
    async with harness.run(sync_poll_seconds=POLL) as bot:
        assert isinstance(bot, NewsBot)
        async with await IndexStore.open(harness.database) as other:  # another process
            await other.save_snapshot(renamed(seed_snapshot, "fromterminal"))

        async def swapped() -> bool:
            return bot.engine.snapshot.info.build_id == "fromterminal"

        await until(swapped, "swapped to the new build")


async def test_a_synonym_added_by_another_process_is_taken_up(harness: Harness) -> None:
    async with harness.run(sync_poll_seconds=POLL) as bot:
        async with await IndexStore.open(harness.database) as other:
            state = await BotState.on(other.database)
            await state.set_synonym("Fritz", ["Merz"], 1)

        async def known() -> bool:
            understood = bot.engine.answer("What did Fritz promise?")
            return understood.answered

        await until(known, "took up the synonym")
