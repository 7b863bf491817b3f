"""Follow-ups in threads: an answer opens a thread (when the server wants that), and a
question there is answered with the thread's earlier questions as context."""

from __future__ import annotations

import pytest

from bot.app import NewsBot
from tests.bot.botfixtures import (
    ANSWER_TIMEOUT,
    Harness,
    ask,
    assert_no_mentions,
    click,
    plain,
    reply_text,
    slash,
)
from tests.support.standin import DiscordStandIn

pytestmark = pytest.mark.usefixtures("no_discord_errors")


async def conversation(api: DiscordStandIn, bot: NewsBot, thread_id: int) -> list[str]:
    """The thread's questions, once the bot has done all it will do (and recorded them)."""
    await api.settle()
    return await bot.state.conversation(thread_id) or []


async def enable_threads(api: DiscordStandIn) -> None:
    interaction = await slash(api, "config threads", {"enabled": True}, user=api.admin)
    callback = await api.wait_callback(interaction, ANSWER_TIMEOUT)
    assert "each answer opens a thread" in plain(str(callback.json))


async def test_two_turn_conversation_in_a_thread(api: DiscordStandIn, harness: Harness) -> None:
    async with harness.run(message_content_intent=True) as bot:
        await enable_threads(api)
        await ask(api, "What did the US commit to?")
        opened = await api.wait_thread(ANSWER_TIMEOUT)
        thread_id = int(opened.response["id"])
        assert await conversation(api, bot, thread_id) == ["What did the US commit to?"]

        follow_up = api.message_create("And Germany?", channel_id=thread_id)
        await api.dispatch("MESSAGE_CREATE", follow_up)
        reply = await api.wait_channel_message(thread_id, ANSWER_TIMEOUT)
        text = reply_text(reply)
        assert "Deutschlands Beitrag bleibt begrenzt" in text  # the German contribution
        assert await conversation(api, bot, thread_id) == [
            "What did the US commit to?",
            "And Germany?",
        ]
        # the whole paragraph behind quote [1] holds the air-defence pledge
        _, source = await click(
            api,
            next(
                c
                for row in reply.response["components"]
                for c in row["components"]
                if c["custom_id"].startswith("nb:src:")
            )["custom_id"],
            reply.response,
        )
        assert "Luftverteidigung" in plain(str(source.json))
        assert len(api.threads()) == 1  # a follow-up does not open a thread of its own
    assert_no_mentions(api)


async def test_no_thread_unless_the_server_wants_one(api: DiscordStandIn, harness: Harness) -> None:
    async with harness.run():
        await ask(api, "What did the US commit to?")
        mention = api.message_create(f"{api.bot_user.mention} Wer nahm an dem Treffen teil?")
        await api.dispatch("MESSAGE_CREATE", mention)
        await api.wait_channel_message(api.channel.id, ANSWER_TIMEOUT)
        assert api.threads() == []


async def test_mention_answers_open_threads_too(api: DiscordStandIn, harness: Harness) -> None:
    async with harness.run(message_content_intent=True) as bot:
        await enable_threads(api)
        mention = api.message_create(f"{api.bot_user.mention} Wer nahm an dem Treffen teil?")
        await api.dispatch("MESSAGE_CREATE", mention)
        opened = await api.wait_thread(ANSWER_TIMEOUT)
        thread_id = int(opened.response["id"])
        assert await conversation(api, bot, thread_id) == ["Wer nahm an dem Treffen teil?"]
        # an abstention opens no thread
        china = await slash(api, "ask", {"question": "What did China say about the talks?"})
        await api.wait_followup(china, ANSWER_TIMEOUT)
        assert len(api.threads()) == 1
