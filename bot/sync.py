"""Keeping one bot process in step with the others that share its database.

What one process changes, the others take up without a restart:

- a new index build (a ``/reindex`` in another process, or ``python -m bot reindex``):
  the engine swaps to it (``index.follow.catch_up``);
- ``/synonym`` entries: the engine's run-time glossary is loaded again;
- ask-channels and per-server settings: the ask-channels are read again.

PostgreSQL pushes every change (``LISTEN``/``NOTIFY``), so it arrives within the time it
takes to load; a poll every ``SYNC_POLL_SECONDS`` is the fallback, and SQLite's only way.
The state counts its changes (``BotState.changes``), so a poll sees what a lost
notification would have said.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from bot.service import settle
from bot.state import CHANGES_CHANNEL, BotState
from index.database import StorageError
from index.engine import Engine
from index.follow import catch_up
from index.store import INDEX_CHANNEL, IndexStore, StaleIndexError

log = logging.getLogger("newsbot.sync")


class Followed(Protocol):
    """What the follower keeps in step (the bot)."""

    store: IndexStore
    state: BotState
    engine: Engine

    async def apply_synonyms(self) -> None: ...

    async def refresh_ask_channels(self) -> None: ...


class Follower:
    """Runs in the bot (``NewsBot.setup_hook``) until it closes."""

    def __init__(self, bot: Followed, poll_seconds: float) -> None:
        self.bot = bot
        self.poll_seconds = poll_seconds
        self.wake = asyncio.Event()
        self._seen: dict[str, int] = {}
        self._failing = False
        self.outages = 0  # how often the database became unreachable

    def _notified(self, payload: str) -> None:
        self.wake.set()

    async def _listen(self) -> bool:
        database = self.bot.store.database
        pushed = False
        for channel in (INDEX_CHANNEL, CHANGES_CHANNEL):
            with contextlib.suppress(Exception):  # no push: the poll still runs
                pushed = await database.listen(channel, self._notified) or pushed
        return pushed

    async def run(self) -> None:
        self._seen = await self.bot.state.changes()
        if await self._listen():
            log.info(
                "following other processes' changes (notified, and every %gs)", self.poll_seconds
            )
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.poll_seconds)
            self.wake.clear()
            await self.step()

    async def step(self) -> None:
        """Take up whatever changed since the last step; a database that cannot be reached
        is logged once per outage, and the bot keeps answering from memory."""
        try:
            await self._take_up()
            await self._listen()  # again, if the listening connection was lost
        except (StorageError, StaleIndexError) as exc:
            if not self._failing:
                self.outages += 1
                log.warning("cannot follow the shared database (%s); answering on", exc)
            self._failing = True
            return
        if self._failing:
            log.info("the shared database is reachable again")
        self._failing = False

    async def _take_up(self) -> None:
        bot = self.bot
        swapped = await catch_up(bot.store, bot.engine)
        if swapped is not None:
            log.info("swapped to index build %s, activated by another process", swapped)
            await settle(bot.engine)
        changes = await bot.state.changes()
        if changes.get("synonyms") != self._seen.get("synonyms"):
            await bot.apply_synonyms()
            log.info("took up /synonym changes")
        if changes.get("config") != self._seen.get("config"):
            await bot.refresh_ask_channels()
            log.info("took up settings changes")
        self._seen = changes
