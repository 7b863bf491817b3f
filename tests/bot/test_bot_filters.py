"""News-aware lookups: ``source``, ``since`` and ``until`` on ``/ask`` and ``/search``."""

from __future__ import annotations

import pytest

from bot.app import NewsBot
from tests.bot.botfixtures import (
    ANSWER_TIMEOUT,
    assert_no_mentions,
    click,
    custom_ids,
    reply_text,
    slash,
)
from tests.support.standin import DiscordStandIn

pytestmark = pytest.mark.usefixtures("no_discord_errors")

FEED = "000_632348a179117fcd"
LINES = "001_3254392af1d010b4"


async def test_ask_restricted_to_one_article(api: DiscordStandIn, bot: NewsBot) -> None:
    interaction = await slash(api, "ask", {"question": "Ukraine", "source": LINES})
    followup = await api.wait_followup(interaction, ANSWER_TIMEOUT)
    text = reply_text(followup)
    assert "26 Staaten wollen Truppen entsenden" in text
    assert "2026-01-06" not in text  # nothing from the other (dated) article
    # More results keeps the filter: it is stored with the question
    more = next(c for c in custom_ids(followup.response) if c.startswith("nb:more:"))
    clicked, _ = await click(api, more, followup.response)
    page = await api.wait_followup(clicked, ANSWER_TIMEOUT)
    assert "2026-01-06" not in reply_text(page)
    assert_no_mentions(api)


async def test_date_filters_say_what_was_left_out(api: DiscordStandIn, bot: NewsBot) -> None:
    interaction = await slash(api, "ask", {"question": "Truppen", "since": "2026-01-01"})
    followup = await api.wait_followup(interaction, ANSWER_TIMEOUT)
    text = reply_text(followup)
    assert "2026-01-06" in text and "date unknown" not in text
    assert "1 Artikel ohne Datum nicht durchsucht" in text  # framing in the question's language

    empty = await slash(api, "ask", {"question": "What about troops?", "until": "2025-12-31"})
    reply = await api.wait_followup(empty, ANSWER_TIMEOUT)
    assert "No article matches those filters" in reply_text(reply)


async def test_search_with_a_filter(api: DiscordStandIn, bot: NewsBot) -> None:
    interaction = await slash(api, "search", {"query": "Truppen", "source": FEED})
    followup = await api.wait_followup(interaction, ANSWER_TIMEOUT)
    text = reply_text(followup)
    assert "26 Staaten wollen" not in text and "Wie die Nachrichtenagentur" in text


@pytest.mark.parametrize(
    ("options", "locale", "message"),
    [
        ({"since": "gestern"}, "en-US", "`since` must be a date like 2026-01-06."),
        ({"since": "2026-02-01", "until": "2026-01-01"}, "en-US", "`since` is after `until`."),
        ({"source": "kein solcher Artikel"}, "en-US", "No article matches"),
        ({"source": "0"}, "en-US", "“0” matches 2 articles; pick one from the list."),
        ({"since": "gestern"}, "de", "`since` muss ein Datum wie 2026-01-06 sein."),
        ({"since": "2026-02-01", "until": "2026-01-01"}, "de", "`since` liegt nach `until`."),
        ({"source": "kein solcher Artikel"}, "de", "Kein Artikel passt zu „kein solcher Artikel“"),
    ],
)
async def test_bad_filters_are_refused_clearly(
    api: DiscordStandIn, bot: NewsBot, options: dict[str, str], locale: str, message: str
) -> None:
    interaction = await slash(api, "ask", {"question": "Truppen", **options}, locale=locale)
    callback = await api.wait_callback(interaction, ANSWER_TIMEOUT)
    assert callback.json["data"]["flags"] & 64
    assert message in (callback.content or "")


async def test_source_option_autocompletes_titles(api: DiscordStandIn, bot: NewsBot) -> None:
    interaction = api.autocomplete("ask", "source", "Staaten", options={"question": "x"})
    await api.dispatch("INTERACTION_CREATE", interaction)
    callback = await api.wait_callback(interaction, ANSWER_TIMEOUT)
    choices = callback.json["data"]["choices"]
    assert [c["value"] for c in choices] == [LINES]
