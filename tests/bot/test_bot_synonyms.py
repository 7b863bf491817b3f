"""Fixing vocabulary gaps from Discord: /gaps shows misses, /synonym fixes them at once."""

from __future__ import annotations

import pytest

from tests.bot.botfixtures import (
    ANSWER_TIMEOUT,
    Harness,
    ask,
    assert_no_mentions,
    plain,
    reply_text,
    slash,
)
from tests.support.standin import DiscordStandIn

pytestmark = pytest.mark.usefixtures("no_discord_errors")

QUESTION = "What did Fritz promise?"


async def admin(api: DiscordStandIn, name: str, options: dict[str, str] | None = None) -> str:
    interaction = await slash(api, name, options, user=api.admin)
    callback = await api.wait_callback(interaction, ANSWER_TIMEOUT)
    data = callback.json["data"]
    parts = [data.get("content") or ""] + [e.get("description", "") for e in data.get("embeds", [])]
    return plain("\n".join(parts))


async def test_a_miss_then_synonym_add_then_a_hit(api: DiscordStandIn, harness: Harness) -> None:
    async with harness.run() as bot:
        _, _, missed = await ask(api, QUESTION)
        assert "The articles don't say" in reply_text(missed)

        gaps = await admin(api, "gaps")
        assert QUESTION in gaps and "Fritz → (not in the articles)" in gaps  # how it was understood

        added = await admin(api, "synonym add", {"term": "Fritz", "means": "Merz"})
        assert "Fritz → Merz" in added
        _, _, hit = await ask(api, QUESTION)  # at once, without a reindex
        text = reply_text(hit)
        assert "Merz" in text and "Fritz → Merz" in text

        listed = await admin(api, "synonym list")
        assert "Fritz" in listed and "Merz" in listed
        assert any(r.action == "synonym add" and r.allowed for r in await bot.state.audit_log())

    async with harness.run():  # the synonym survives a restart
        _, _, again = await ask(api, QUESTION)
        assert "Merz" in reply_text(again)
        removed = await admin(api, "synonym remove", {"term": "Fritz"})
        assert "Removed: Fritz" in removed
        _, _, gone = await ask(api, QUESTION)
        assert "The articles don't say" in reply_text(gone)
    assert_no_mentions(api)


async def test_synonyms_are_for_admins_and_must_meet_the_articles(
    api: DiscordStandIn, harness: Harness
) -> None:
    async with harness.run() as bot:
        refused = await slash(
            api, "synonym add", {"term": "Fritz", "means": "Merz"}, user=api.member
        )
        assert "Only admins" in plain(str((await api.wait_callback(refused)).json))
        assert await bot.state.synonyms() == []
        useless = await admin(api, "synonym add", {"term": "Fritz", "means": "Fußball"})
        assert "None of those words occur in the articles" in useless
        assert await bot.state.synonyms() == []
