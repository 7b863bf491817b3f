""" "Did you mean": suggestions as buttons when a question abstains on a misspelling, or a
/source lookup matches no title; pressing one runs the suggested lookup."""

from __future__ import annotations

import pytest

from bot.app import NewsBot
from tests.bot.botfixtures import (
    ANSWER_TIMEOUT,
    ask,
    assert_no_mentions,
    button_labels,
    click,
    custom_ids,
    plain,
    reply_text,
    slash,
)
from tests.support.standin import DiscordStandIn

pytestmark = pytest.mark.usefixtures("no_discord_errors")


async def test_misspelled_name_offers_the_right_spelling(api: DiscordStandIn, bot: NewsBot) -> None:
    # One edit from a name of the articles is understood at once ("Selenskiii"); farther
    # ones abstain and offer the right spelling.
    _, _, missed = await ask(api, "Wer ist Selnskxyz?")
    assert "Dazu steht nichts in den Artikeln" in reply_text(missed)
    labels = [label for row in button_labels(missed.response) for label in row]
    assert labels[0] == "Wer ist Selenskyj?" and len(labels) <= 5
    suggestion = next(c for c in custom_ids(missed.response) if c.startswith("nb:dym:"))
    clicked, deferred = await click(api, suggestion, missed.response)
    assert deferred.json["type"] == 5
    answer = await api.wait_followup(clicked, ANSWER_TIMEOUT)
    assert "Selenskyj" in reply_text(answer)
    assert_no_mentions(api)


async def test_source_lookup_without_match_suggests_titles(
    api: DiscordStandIn, bot: NewsBot
) -> None:
    interaction = await slash(api, "source", {"article": "Staaten wolen Trupen entsenden"})
    callback = await api.wait_callback(interaction, ANSWER_TIMEOUT)
    message = callback.json["data"]
    assert "Did you mean" in (message.get("content") or "")
    shown = callback.response["resource"]["message"]  # the message as Discord stored it
    assert any(
        "26 Staaten wollen Truppen entsenden" in label
        for row in button_labels(message)
        for label in row
    )
    button = next(c for c in custom_ids(message) if c.startswith("nb:art:001_"))
    _, overview = await click(api, button, shown)
    assert "26 Staaten wollen Truppen entsenden" in plain(str(overview.json))
