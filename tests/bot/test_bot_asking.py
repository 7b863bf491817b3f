"""The real bot answering: ``/ask``, mentions, DMs, ask-channels, the answer's buttons.

End to end: the project's ``NewsBot`` runs on discord.py against the local stand-in of the
Discord API; the assertions read the JSON bodies the bot sent.
"""

from __future__ import annotations

import re

import pytest

from bot.app import NewsBot
from index.records import Snapshot
from tests.bot.botfixtures import (
    ANSWER_TIMEOUT,
    CHINA_QUESTION,
    EPHEMERAL,
    JSON,
    MEETING_QUESTION,
    US_QUESTION,
    US_QUOTE,
    Harness,
    ask,
    assert_answers_the_us_question,
    assert_no_mentions,
    body,
    button_labels,
    click,
    description,
    logged_id,
    plain,
    reply_text,
    slash,
    texts,
)
from tests.support.standin import DiscordStandIn, Role, User, snowflake

pytestmark = pytest.mark.usefixtures("no_discord_errors")

CALLBACK = r"^/interactions/\d+/[^/]+/callback$"


def paragraph(snapshot: Snapshot, article_id: str, ordinal: int) -> str:
    article = snapshot.articles[article_id]
    passage = next(
        p for p in (snapshot.passages[i] for i in article.passage_ids) if p.ordinal == ordinal
    )
    return article.text[passage.start : passage.end]


def first_article(snapshot: Snapshot) -> str:
    """The id of the article dated 2026-01-06 (the one that says what the US committed to)."""
    return next(a.id for a in snapshot.articles.values() if a.date == "2026-01-06")


async def answered(api: DiscordStandIn, question: str) -> tuple[JSON, int]:
    """``/ask``: the answer as the channel shows it (with its buttons) and its question id."""
    interaction, _, _ = await ask(api, question)
    answer = api.original(interaction)
    assert answer is not None
    return answer, logged_id(answer)


# ------------------------------------------------------------------------------ /ask


async def test_ask_defers_then_answers_with_quote_citation_and_buttons(
    api: DiscordStandIn, bot: NewsBot, seed_snapshot: Snapshot
) -> None:
    interaction, callback, followup = await ask(api, US_QUESTION)

    assert callback.json["type"] == 5  # deferred: "newsbot is thinking…"
    assert not (callback.json.get("data") or {}).get("flags", 0) & EPHEMERAL
    message = body(followup)
    assert not (message.get("flags") or 0) & EPHEMERAL
    text = description(message)
    assert "**verpflichten** sich die **USA**" in text  # the question's words in bold
    assert US_QUOTE in plain(text)
    first, _ = plain(text).split("[2]", 1)
    article = seed_snapshot.articles[first_article(seed_snapshot)]
    assert f"{article.title} · 2026-01-06 · paragraph 1" in plain(first).replace("*", "")
    assert "-# Understood as: US → USA" in text
    assert "commit to → verpflichten" in text

    labels = button_labels(message)
    assert labels == [
        ["More results", "👍", "👎", "Gloss"],
        ["Source [1]", "Source [2]", "Source [3]"],
    ]
    qid = logged_id(message)  # the same on every button
    record = await bot.state.question(qid)
    assert record is not None and record.question == US_QUESTION and record.answered
    assert record.origin == "slash"
    # The follow-up replaced the "thinking…" message: that is what the channel shows.
    original = api.original(interaction)
    assert original is not None and original["embeds"] == message["embeds"]
    assert_no_mentions(api)


async def test_private_ask_is_ephemeral(api: DiscordStandIn, bot: NewsBot) -> None:
    _, callback, followup = await ask(api, US_QUESTION, private=True)
    assert callback.json["type"] == 5
    assert callback.json["data"]["flags"] & EPHEMERAL
    assert body(followup)["flags"] & EPHEMERAL
    assert US_QUOTE in reply_text(followup)
    assert_no_mentions(api)


async def test_ask_in_a_dm(api: DiscordStandIn, bot: NewsBot) -> None:
    interaction = api.dm_slash_command("ask", {"question": US_QUESTION})
    await api.dispatch("INTERACTION_CREATE", interaction)
    followup = await api.wait_followup(interaction, ANSWER_TIMEOUT)
    message = body(followup)
    assert US_QUOTE in plain(description(message))
    qid = logged_id(message)
    shown = api.original(interaction)
    assert shown is not None and "guild_id" not in shown
    _, thanks = await click(api, f"nb:fb:{qid}:up", shown)
    assert thanks.content == "Thanks for the feedback 👍"
    assert (await bot.state.question_stats()).thumbs_up == 1
    assert_no_mentions(api)


async def test_unanswerable_question_abstains_without_buttons(
    api: DiscordStandIn, bot: NewsBot, seed_snapshot: Snapshot
) -> None:
    _, _, followup = await ask(api, CHINA_QUESTION)
    message = body(followup)
    text = plain(description(message))
    assert "The articles don't say." in text
    for article in seed_snapshot.articles.values():
        assert article.title in text
    assert not message.get("components")
    stats = await bot.state.question_stats()
    assert stats.asked == 1 and stats.answered == 0
    assert_no_mentions(api)


async def test_cooldown_refuses_a_second_question_ephemerally(
    api: DiscordStandIn, harness: Harness
) -> None:
    async with harness.run(ask_cooldown_seconds=60):
        await ask(api, US_QUESTION)
        again = await slash(api, "ask", {"question": MEETING_QUESTION})
        refusal = await api.wait_callback(again)
        assert refusal.json["type"] == 4
        assert refusal.json["data"]["flags"] & EPHEMERAL
        assert re.search(r"ask again in (59|60) s", refusal.content or ""), refusal.content
        assert not api.followups(again)

        # Another user is not held up by the first one's cooldown.
        other = await slash(api, "ask", {"question": MEETING_QUESTION}, user=api.admin)
        assert (await api.wait_callback(other)).json["type"] == 5
        await api.wait_followup(other, ANSWER_TIMEOUT)
    assert_no_mentions(api)


# ------------------------------------------------------------------------------ messages


async def test_mention_in_a_channel_gets_a_reply(api: DiscordStandIn, bot: NewsBot) -> None:
    message = api.message_create(f"{api.bot_user.mention} {MEETING_QUESTION}")
    await api.dispatch("MESSAGE_CREATE", message)
    reply = await api.wait_channel_message(api.channel.id, ANSWER_TIMEOUT)
    assert str(reply.json["message_reference"]["message_id"]) == message["id"]
    assert reply.json["allowed_mentions"] == {"parse": [], "replied_user": False}
    text = reply_text(reply)
    assert "Das steht in den Artikeln:" in text  # a German question gets a German answer
    assert "Merz" in text and "Absatz" in text
    labels = button_labels(reply.json)
    assert labels[0] == ["Weitere Stellen", "👍", "👎"]  # no Gloss: the asker reads German
    assert labels[1] == ["Quelle [1]", "Quelle [2]", "Quelle [3]"]
    qid = logged_id(reply.json)
    record = await bot.state.question(qid)
    assert record is not None and record.question == MEETING_QUESTION
    assert record.origin == "mention"
    assert_no_mentions(api)


async def test_messages_without_mention_and_from_bots_are_ignored_dms_answered(
    api: DiscordStandIn, bot: NewsBot
) -> None:
    other_bot = User(snowflake(), "otherbot", bot=True)
    await api.dispatch("MESSAGE_CREATE", api.message_create(MEETING_QUESTION))
    await api.dispatch(
        "MESSAGE_CREATE",
        api.message_create(f"{api.bot_user.mention} {MEETING_QUESTION}", author=other_bot),
    )
    # A DM after them: once it is answered, the two messages before it were handled.
    dm = api.message_create(US_QUESTION, dm=True)
    await api.dispatch("MESSAGE_CREATE", dm)
    reply = await api.wait_channel_message(int(dm["channel_id"]), ANSWER_TIMEOUT)
    assert str(reply.json["message_reference"]["message_id"]) == dm["id"]
    assert US_QUOTE in reply_text(reply)
    assert api.channel_messages(api.channel.id) == []
    stats = await bot.state.question_stats()
    assert stats.asked == 1
    assert_no_mentions(api)


async def test_bare_mention_gets_help(api: DiscordStandIn, bot: NewsBot) -> None:
    await api.dispatch("MESSAGE_CREATE", api.message_create(api.bot_user.mention))
    reply = await api.wait_channel_message(api.channel.id)
    assert "/ask" in (reply.content or "")
    assert (await bot.state.question_stats()).asked == 0
    assert_no_mentions(api)


async def test_ask_channel_answers_without_mention(api: DiscordStandIn, harness: Harness) -> None:
    api.echo_bot_messages = True  # the bot sees its own replies, as on Discord
    async with harness.run(ask_channel_ids=[api.channel.id], message_content_intent=True) as bot:
        assert bot.intents.message_content
        message = api.message_create(MEETING_QUESTION)
        await api.dispatch("MESSAGE_CREATE", message)
        reply = await api.wait_channel_message(api.channel.id, ANSWER_TIMEOUT)
        assert str(reply.json["message_reference"]["message_id"]) == message["id"]
        assert "Merz" in reply_text(reply)
        # Its own answer, echoed back into the ask-channel, is not a question.
        await api.settle()
        assert len(api.channel_messages(api.channel.id)) == 1
        assert (await bot.state.question_stats()).asked == 1
    assert api.intents is not None and api.intents & (1 << 15)  # MESSAGE_CONTENT requested
    assert_no_mentions(api)


# ------------------------------------------------------------------------------ buttons


async def test_more_results_source_and_feedback_buttons(
    api: DiscordStandIn, bot: NewsBot, seed_snapshot: Snapshot
) -> None:
    answer, qid = await answered(api, US_QUESTION)

    more, deferred = await click(api, f"nb:more:{qid}:3", answer)
    assert deferred.json["type"] == 5 and deferred.json["data"]["flags"] & EPHEMERAL
    page = body(await api.wait_followup(more, ANSWER_TIMEOUT))
    assert page["flags"] & EPHEMERAL
    text = description(page)
    assert "More passages:" in plain(text)
    assert "**[4]**" in text and "**[1]**" not in text

    _, source = await click(api, f"nb:src:{qid}:1", answer)
    assert source.json["type"] == 4 and source.json["data"]["flags"] & EPHEMERAL
    shown = reply_text(source)
    assert paragraph(seed_snapshot, first_article(seed_snapshot), 1) in shown
    assert "paragraph 1" in shown

    _, thanks = await click(api, f"nb:fb:{qid}:up", answer)
    assert thanks.json["type"] == 4 and thanks.json["data"]["flags"] & EPHEMERAL
    assert thanks.content == "Thanks for the feedback 👍"
    stats = await bot.state.question_stats()
    assert (stats.thumbs_up, stats.thumbs_down) == (1, 0)
    # The same user changing their mind replaces the vote.
    await click(api, f"nb:fb:{qid}:down", answer)
    stats = await bot.state.question_stats()
    assert (stats.thumbs_up, stats.thumbs_down) == (0, 1)
    assert_no_mentions(api)


async def test_source_buttons_on_the_more_results_page(
    api: DiscordStandIn, bot: NewsBot, seed_snapshot: Snapshot
) -> None:
    answer, qid = await answered(api, US_QUESTION)
    more, _ = await click(api, f"nb:more:{qid}:3", answer)
    await api.wait_followup(more, ANSWER_TIMEOUT)
    page = api.original(more)
    assert page is not None
    assert button_labels(page) == [["Gloss"], ["Source [4]", "Source [5]", "Source [6]"]]
    quotes = re.findall(r"\*\*\[4\]\*\* (.+)", description(page))
    assert quotes

    _, source = await click(api, f"nb:src:{qid}:4", page)
    shown = reply_text(source)
    assert "no longer have that question" not in shown
    assert plain(quotes[0]).rstrip("…").strip()[:40] in shown
    assert_no_mentions(api)


GLOSS_NOTE = "Glosses are dictionary entries (Ding), not a translation."


async def test_gloss_lists_the_first_quotes_words_with_their_dictionary_senses(
    api: DiscordStandIn, bot: NewsBot
) -> None:
    answer, qid = await answered(api, US_QUESTION)

    gloss, deferred = await click(api, f"nb:gloss:{qid}:1", answer)
    assert deferred.json["type"] == 5 and deferred.json["data"]["flags"] & EPHEMERAL
    reply = body(await api.wait_followup(gloss, ANSWER_TIMEOUT))
    assert reply["flags"] & EPHEMERAL
    text = description(reply)
    lines = plain(text).splitlines()
    assert lines[0] == "Words of quote [1] and their English senses"
    # The sense the question matched comes first; each word once; the quote stays German.
    assert any(line.startswith("• verpflichten — commit to; ") for line in lines)
    assert sum(line.startswith("• verpflichten") for line in lines) == 1
    assert "• USA — US (glossary)" in lines
    assert f"-# {GLOSS_NOTE}" in text
    assert any(line.startswith("• Nachrichtenagentur") and "compound:" in line for line in lines)
    assert_no_mentions(api)


async def test_buttons_work_after_a_restart(api: DiscordStandIn, harness: Harness) -> None:
    async with harness.run():
        answer, qid = await answered(api, US_QUESTION)
    assert api.identify_count == 1

    # A new process: a new bot, a new connection to the same database, the same Discord.
    async with harness.run() as bot:
        assert api.identify_count == 2
        _, source = await click(api, f"nb:src:{qid}:1", answer)
        assert US_QUOTE in reply_text(source)
        more, deferred = await click(api, f"nb:more:{qid}:3", answer)
        assert deferred.json["type"] == 5
        assert "**[4]**" in description(body(await api.wait_followup(more, ANSWER_TIMEOUT)))
        _, thanks = await click(api, f"nb:fb:{qid}:down", answer)
        assert thanks.content == "Thanks for the feedback 👎"
        gloss, _ = await click(api, f"nb:gloss:{qid}:1", answer)
        assert GLOSS_NOTE in description(body(await api.wait_followup(gloss, ANSWER_TIMEOUT)))
        assert (await bot.state.question_stats()).thumbs_down == 1
    assert_no_mentions(api)


async def test_button_of_an_unknown_question_says_so(api: DiscordStandIn, bot: NewsBot) -> None:
    interaction = api.button_click("nb:src:999999:1")
    await api.dispatch("INTERACTION_CREATE", interaction)
    callback = await api.wait_callback(interaction)
    assert callback.json["data"]["flags"] & EPHEMERAL
    assert "no longer have that question" in (callback.content or "")
    assert_no_mentions(api)


# ------------------------------------------------------------------------------ mentions


async def test_mentions_inside_questions_are_defused(api: DiscordStandIn, bot: NewsBot) -> None:
    role = Role(snowflake(), "Everybody")
    question = f"@everyone @here {role.mention} {US_QUESTION}"
    _, _, followup = await ask(api, question)
    assert US_QUOTE in reply_text(followup)

    mention = api.message_create(f"{api.bot_user.mention} @everyone {MEETING_QUESTION}")
    await api.dispatch("MESSAGE_CREATE", mention)
    await api.wait_channel_message(api.channel.id, ANSWER_TIMEOUT)

    search = await slash(api, "search", {"query": "@everyone Truppen"})
    await api.wait_followup(search, ANSWER_TIMEOUT)
    source = await slash(api, "source", {"article": "@everyone"})
    await api.wait_callback(source)

    assert_no_mentions(api)
    for request in [*api.followups(), *api.callbacks(), *api.channel_messages()]:
        for text in texts(body(request)):
            assert "@everyone" not in text and "@here" not in text, text
            assert role.mention not in text, text


# ------------------------------------------------------------------------------ resilience


async def test_rate_limited_callback_is_retried(api: DiscordStandIn, bot: NewsBot) -> None:
    api.fail_next("POST", CALLBACK, status=429, retry_after=0.05)
    _, callback, followup = await ask(api, US_QUESTION)
    assert callback.json["type"] == 5
    assert US_QUOTE in reply_text(followup)
    attempts = [r.status for r in api.requests if re.match(CALLBACK, r.path)]
    assert attempts == [429, 200]


async def test_answers_after_the_gateway_resumes(api: DiscordStandIn, bot: NewsBot) -> None:
    session = api.session_id
    await api.drop_connection(4000)
    await api.wait_ready()
    assert api.resume_count == 1 and api.identify_count == 1
    assert api.resume_payloads[0]["session_id"] == session
    await assert_answers_the_us_question(api)

    # A question asked while the bot is away arrives with the RESUME.
    missed = api.slash_command("ask", {"question": MEETING_QUESTION})
    async with api.disconnected(4000):
        await api.dispatch("INTERACTION_CREATE", missed)
        await api.settle()  # the bot has done all it can: the event is not delivered
        assert not api.callbacks(missed)
    assert api.resume_count == 2 and api.replayed_count >= 1
    assert "Merz" in reply_text(await api.wait_followup(missed, ANSWER_TIMEOUT))
    assert_no_mentions(api)


async def test_cooldown_applies_to_mentions_too(api: DiscordStandIn, harness: Harness) -> None:
    async with harness.run(ask_cooldown_seconds=60):
        await ask(api, US_QUESTION)
        mention = api.message_create(f"{api.bot_user.mention} {MEETING_QUESTION}")
        await api.dispatch("MESSAGE_CREATE", mention)
        reply = await api.wait_channel_message(api.channel.id)
        assert str(reply.json["message_reference"]["message_id"]) == mention["id"]
        # framed in the question's language (a message has no locale)
        assert re.search(r"Du kannst in (59|60) s wieder fragen", reply.content or ""), (
            reply.content
        )
        assert not reply.json.get("embeds")
    assert_no_mentions(api)
