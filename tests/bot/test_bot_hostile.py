"""Hostile and odd input through the real bot: a sensible reply or a clear refusal, never a
crash, a ping or a broken message; admin commands refused to forged interactions."""

from __future__ import annotations

import pytest

from bot.app import NewsBot
from bot.messages import CONTENT_LIMIT, DESCRIPTION_LIMIT, EMBED_TOTAL_LIMIT
from tests.bot.botfixtures import (
    ANSWER_TIMEOUT,
    assert_no_mentions,
    body,
    sent_messages,
    slash,
    texts,
)
from tests.support.standin import DiscordStandIn, snowflake

pytestmark = pytest.mark.usefixtures("no_discord_errors")

HOSTILE = {
    "whitespace": "   \t  ",
    "punctuation": "?!?!... ;;; ---",
    "emoji": "🙂🔥🇺🇦 👍👍",
    "zero-width and RTL": "Wer\u200b nahm\u202e an dem\u2066 Treffen\u2069 teil?\u200f",
    "NUL": "What did the US\x00 commit to?",
    "combining": "Wer nahm an dem Tre\u0308ffen teil? Z\u0336a\u0337l\u0338g\u0335o\u0334",
    "mixed scripts": "Что сказал Kreml? 克里姆林宫 What about troops?",
    "sql": "'; DROP TABLE questions; -- What did the US commit to?",
    "markdown": "**bold** __under__ ~~strike~~ ||spoiler|| [link](https://x.y) # heading",
    "code fence": "``` @everyone ``` ```` What did the US commit to? `````",
    "mentions": "@everyone @here <@&123456789012345678> <@123456789012345678> Truppen?",
    "long": "Truppen " * 124,  # just under the 1,000 characters /ask accepts
    "too long": "x" * 1001,  # over the option's limit: refused, not crashed
}


def check_message_limits(api: DiscordStandIn) -> None:
    for request in sent_messages(api):
        message = body(request)
        assert len(str(message.get("content") or "")) <= CONTENT_LIMIT
        for item in message.get("embeds") or []:
            assert len(str(item.get("description") or "")) <= DESCRIPTION_LIMIT
            size = sum(len(t) for t in texts({"embeds": [item]}))
            assert size <= EMBED_TOTAL_LIMIT
        for text in texts(message):
            assert "@everyone" not in text and "@here" not in text, text
            assert "<@&" not in text and "<@1" not in text, text


@pytest.mark.parametrize("question", list(HOSTILE.values()), ids=list(HOSTILE))
async def test_hostile_questions_by_slash_command(
    api: DiscordStandIn, bot: NewsBot, question: str
) -> None:
    interaction = await slash(api, "ask", {"question": question})
    callback = await api.wait_callback(interaction, ANSWER_TIMEOUT)
    if callback.json["type"] == 5:  # deferred: the answer (or abstention) follows
        await api.wait_followup(interaction, ANSWER_TIMEOUT)
    else:  # refused at once, with a message
        assert (callback.content or "").strip()
    assert_no_mentions(api)
    check_message_limits(api)


@pytest.mark.parametrize(
    "question",
    [HOSTILE["mentions"], HOSTILE["code fence"], "x" * 100_000, HOSTILE["NUL"]],
    ids=["mentions", "code fence", "100k characters", "NUL"],
)
async def test_hostile_questions_by_mention(
    api: DiscordStandIn, bot: NewsBot, question: str
) -> None:
    message = api.message_create(f"{api.bot_user.mention} {question}")
    await api.dispatch("MESSAGE_CREATE", message)
    reply = await api.wait_channel_message(api.channel.id, ANSWER_TIMEOUT)
    assert reply.json["message_reference"]["message_id"] in (message["id"], int(message["id"]))
    assert_no_mentions(api)
    check_message_limits(api)


async def test_the_question_log_survives_sql_in_questions(
    api: DiscordStandIn, bot: NewsBot
) -> None:
    interaction = await slash(api, "ask", {"question": HOSTILE["sql"]})
    await api.wait_followup(interaction, ANSWER_TIMEOUT)
    stats = await bot.state.question_stats()
    assert stats.asked == 1  # the table is still there, and the row is the question


async def test_admin_command_from_a_forged_guild_is_refused(
    api: DiscordStandIn, bot: NewsBot
) -> None:
    interaction = api.slash_command("stats", user=api.admin)
    interaction["guild_id"] = str(snowflake())  # a server the bot is not in
    interaction["member"]["permissions"] = str(0x20 | 0x8)  # claims Manage Server + Admin
    before = await bot.store.builds()
    await api.dispatch("INTERACTION_CREATE", interaction)
    callback = await api.wait_callback(interaction, ANSWER_TIMEOUT)
    assert callback.json["data"]["flags"] & 64
    assert "Usage" not in str(callback.json)
    (row, *_) = await bot.state.audit_log()
    assert row.allowed == 0 and row.action == "stats"
    assert await bot.store.builds() == before
