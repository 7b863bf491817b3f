"""How the real bot reads a question, whatever way it arrives: the length limit, Discord
markup (mentions, emoji, timestamps, links) removed, questions of nothing refused, and the
framing in the question's language."""

from __future__ import annotations

from typing import Any

import pytest

from bot.standin import DiscordStandIn
from tests.bot.botfixtures import (
    US_QUESTION,
    US_QUOTE,
    Harness,
    ask,
    body,
    custom_ids,
    description,
    plain,
)

pytestmark = pytest.mark.usefixtures("no_discord_errors")

LONG_QUESTION = US_QUESTION + " " + " ".join(["Und was sagten die Verbündeten dazu?"] * 4)
SHORTENED = "Your question was very long; I only read its beginning."


async def test_max_question_chars_is_the_limit(api: DiscordStandIn, harness: Harness) -> None:
    assert len(LONG_QUESTION) > 100
    async with harness.run(max_question_chars=50) as bot:
        _, _, followup = await ask(api, LONG_QUESTION)
        text = plain(description(body(followup)))
        assert SHORTENED in text
        assert US_QUOTE in text  # the beginning, which was read, is answered
        record = await bot.storage.question(logged_id(body(followup)))
        assert record is not None and len(record["question"]) <= 50


def logged_id(message: dict[str, Any]) -> int:
    """The question-log id that an answer's buttons carry."""
    ids = {int(i.split(":")[2]) for i in custom_ids(message)}
    assert len(ids) == 1, ids
    return ids.pop()
