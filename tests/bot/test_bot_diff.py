"""A reindex reports what changed; /stats flags answers whose quote has changed since."""

from __future__ import annotations

import pytest

from bot.app import NewsBot
from tests.bot.botfixtures import (
    REINDEX_TIMEOUT,
    US_QUESTION,
    Harness,
    ask,
    plain,
    slash,
)
from tests.bot.test_bot_admin import is_edit_of
from tests.support.standin import DiscordStandIn

pytestmark = pytest.mark.usefixtures("no_discord_errors")


async def test_reindex_diff_and_changed_quotes_in_stats(
    api: DiscordStandIn, harness: Harness, bot: NewsBot
) -> None:
    await ask(api, US_QUESTION)  # quotes the feed article's first paragraph
    feed = next(harness.articles_dir.glob("000_*.txt"))
    text = feed.read_text(encoding="utf-8")
    feed.write_text(
        text.replace("verpflichten sich die USA", "verpflichten sich die Vereinigten Staaten"),
        encoding="utf-8",
    )

    interaction = await slash(api, "reindex", user=api.admin)
    done = await api.wait_for(
        lambda r: is_edit_of(r, interaction) and bool(r.json.get("embeds")), REINDEX_TIMEOUT
    )
    summary = plain(done.json["embeds"][0]["description"])
    assert "Articles: +0 · −0 · changed 1" in summary
    assert "Passages: +0 · −0 · changed 1" in summary
    assert "paragraph 1" in summary  # the sample names the rewritten paragraph

    stats = await slash(api, "stats", user=api.admin)
    shown = plain((await api.wait_callback(stats)).json["data"]["embeds"][0]["description"])
    assert "Quotes a reindex changed: 1 answer quotes text a reindex has since changed" in shown
