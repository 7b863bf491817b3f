"""How the real bot reads a question, whatever way it arrives: the length limit, Discord
markup (mentions, emoji, timestamps, links) removed, questions of nothing refused, and the
framing in the question's language."""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.questions import clean_question
from tests.bot.botfixtures import (
    ANSWER_TIMEOUT,
    EPHEMERAL,
    JSON,
    US_QUESTION,
    US_QUOTE,
    Harness,
    ask,
    assert_no_mentions,
    body,
    description,
    logged_id,
    plain,
    reply_text,
    slash,
)
from tests.support.standin import CHANNEL_MESSAGES_RE, DiscordStandIn, Request

pytestmark = pytest.mark.usefixtures("no_discord_errors")

LONG_QUESTION = US_QUESTION + " " + " ".join(["Und was sagten die Verbündeten dazu?"] * 4)
SHORTENED = "Your question was very long; I only read its beginning."


async def test_max_question_chars_is_the_limit(api: DiscordStandIn, harness: Harness) -> None:
    assert len(LONG_QUESTION) > 100
    async with harness.run(max_question_chars=50) as bot:
        _, _, followup = await ask(api, LONG_QUESTION)
        text = reply_text(followup)
        assert SHORTENED in text
        assert US_QUOTE in text  # the beginning, which was read, is answered
        record = await bot.state.question(logged_id(body(followup)))
        assert record is not None and len(record.question) <= 50


# ------------------------------------------------------------------------------ Discord markup

ROLE, CHANNEL, EMOJI = "123456789012345678", "234567890123456789", "345678901234567890"
MARKED_UP = (
    f"<@&{ROLE}> <#{CHANNEL}> @everyone @here <:party:{EMOJI}> <a:wave:{EMOJI}> "
    "<t:1767225600:R> <t:1767225600> </ask:456789012345678901> "
    "```What did the US commit to?``` https://example.com/path?q=1 <https://x.example.org>"
)
CLEANED = "```What did the US commit to?```"
JUNK = (ROLE, CHANNEL, EMOJI, "everyone", "here", "party", "wave", "1767225600", "https", "com")


async def dispatch_message(api: DiscordStandIn, content: str, **kwargs: Any) -> JSON:
    """Send a message as a member; the bot's reply in that channel."""
    message = api.message_create(content, **kwargs)
    await api.dispatch("MESSAGE_CREATE", message)

    def replies_to_it(request: Request) -> bool:
        sent = request.json if isinstance(request.json, dict) else {}
        reference = sent.get("message_reference") or {}
        return (
            request.ok
            and request.method == "POST"
            and CHANNEL_MESSAGES_RE.fullmatch(request.path) is not None
            and str(reference.get("message_id")) == message["id"]
        )

    reply = await api.wait_for(replies_to_it, ANSWER_TIMEOUT)
    assert isinstance(reply.json, dict)
    return reply.json


async def enable_threads(api: DiscordStandIn) -> None:
    interaction = await slash(api, "config threads", {"enabled": True}, user=api.admin)
    await api.wait_callback(interaction, ANSWER_TIMEOUT)


async def reply_by(api: DiscordStandIn, entry: str) -> JSON:
    """The answer to ``MARKED_UP`` asked by way of ``entry``."""
    if entry == "slash":
        _, _, followup = await ask(api, MARKED_UP)
        return body(followup)
    if entry == "mention":
        return await dispatch_message(api, f"{api.bot_user.mention} {MARKED_UP}")
    if entry == "dm":
        return await dispatch_message(api, MARKED_UP, dm=True)
    if entry == "ask-channel":
        return await dispatch_message(api, MARKED_UP)
    assert entry == "thread"
    await enable_threads(api)
    await ask(api, "Wer nahm an dem Treffen teil?")
    opened = await api.wait_thread(ANSWER_TIMEOUT)
    # The bot records the thread as a conversation just after opening it: a message sent
    # before that is no follow-up. Wait until its handler is done, as a person would.
    await api.settle()
    return await dispatch_message(api, MARKED_UP, channel_id=int(opened.response["id"]))


@pytest.mark.parametrize("entry", ["slash", "mention", "dm", "ask-channel", "thread"])
async def test_discord_markup_is_not_searched_from_any_entry_point(
    api: DiscordStandIn, harness: Harness, entry: str
) -> None:
    ask_channels = [api.channel.id] if entry == "ask-channel" else []
    async with harness.run(ask_channel_ids=ask_channels, message_content_intent=True) as bot:
        reply = await reply_by(api, entry)
        record = await bot.state.question(logged_id(reply))
        assert record is not None
        assert record.question == CLEANED
        text = plain(description(reply))
        assert US_QUOTE in text
        (understood,) = [line for line in text.splitlines() if "Understood as:" in line]
        words = set(re.findall(r"\w+", understood.lower()))
        assert not words & set(JUNK), understood
    assert_no_mentions(api)


def test_clean_question_removes_every_kind_of_markup() -> None:
    assert clean_question(MARKED_UP) == CLEANED
    assert clean_question("<@123> <@!456> Wer?") == "Wer?"
    assert clean_question("Wer? www.example.com\u200b ") == "Wer?"
    assert clean_question("\u200b\u200d\u2060 \ufeff") == ""
    assert clean_question("E-Mail an a@example.com?") == "E-Mail an a@example.com?"


# ------------------------------------------------------------------ questions of nothing

INVISIBLE = "\u200b\u200d\u2060\u200b"


async def test_a_question_of_invisible_characters_is_refused_before_logging(
    api: DiscordStandIn, harness: Harness
) -> None:
    async with harness.run() as bot:
        interaction = await slash(api, "ask", {"question": INVISIBLE})
        callback = await api.wait_callback(interaction, ANSWER_TIMEOUT)
        assert callback.json["type"] == 4 and callback.json["data"]["flags"] & EPHEMERAL
        assert "Ask me something about the articles" in (callback.content or "")

        mention = await dispatch_message(api, f"{api.bot_user.mention} {INVISIBLE}")
        assert "Ask me something about the articles" in mention["content"]

        search = await slash(api, "search", {"query": f"<@&{ROLE}> {INVISIBLE}"})
        refused = await api.wait_callback(search, ANSWER_TIMEOUT)
        assert refused.json["data"]["flags"] & EPHEMERAL

        assert (await bot.state.question_stats()).asked == 0
        stats = await slash(api, "stats", user=api.admin)
        shown = reply_text(await api.wait_callback(stats, ANSWER_TIMEOUT))
        assert "1×" not in shown and "No unanswered questions yet." in shown
    assert_no_mentions(api)


# ------------------------------------------------------------------------------ framing language


async def test_mentions_are_framed_in_the_questions_language(
    api: DiscordStandIn, harness: Harness
) -> None:
    async with harness.run(ask_cooldown_seconds=600):
        first = await dispatch_message(api, f"{api.bot_user.mention} Wer nahm an dem Treffen teil?")
        assert "Das steht in den Artikeln:" in plain(description(first))
        again = await dispatch_message(api, f"{api.bot_user.mention} Wer hat Truppen zugesagt?")
        assert again["content"].startswith("Nicht so schnell"), again["content"]
    assert_no_mentions(api)
