"""The real bot's lookups: ``/search`` with its page buttons, ``/source`` and ``/sources``."""

from __future__ import annotations

import pytest

from bot.app import NewsBot
from index.records import IndexedArticle, Snapshot
from tests.bot.botfixtures import (
    ANSWER_TIMEOUT,
    EPHEMERAL,
    assert_no_mentions,
    body,
    button_labels,
    click,
    custom_ids,
    description,
    embed,
    reply_text,
    slash,
)
from tests.support.standin import DiscordStandIn

pytestmark = pytest.mark.usefixtures("no_discord_errors")


def article_with_title(snapshot: Snapshot, words: str) -> IndexedArticle:
    return next(a for a in snapshot.articles.values() if words in a.title)


async def test_search_pages_forward_and_back_in_place(api: DiscordStandIn, bot: NewsBot) -> None:
    interaction = await slash(api, "search", {"query": "Truppen"})
    assert (await api.wait_callback(interaction)).json["type"] == 5
    first = body(await api.wait_followup(interaction, ANSWER_TIMEOUT))
    head = embed(first)
    assert head["title"] == "„Truppen“ — 7 Stellen"
    assert head["footer"]["text"] == "1–5 / 7"
    assert "**1.**" in head["description"] and "**6.**" not in head["description"]
    assert button_labels(first) == [["▶"]]
    (forward,) = custom_ids(first)

    message = api.original(interaction)
    assert message is not None
    _, edited = await click(api, forward, message)
    assert edited.json["type"] == 7  # the message itself is updated
    second = body(edited)
    assert embed(second)["footer"]["text"] == "6–7 / 7"
    assert "**6.**" in description(second) and "**1.**" not in description(second)
    assert button_labels(second) == [["◀"]]
    shown = api.messages[int(message["id"])]
    assert shown["embeds"][0]["footer"]["text"] == "6–7 / 7"

    (back,) = custom_ids(shown)
    _, again = await click(api, back, shown)
    assert embed(body(again))["footer"]["text"] == "1–5 / 7"
    assert len(api.followups(interaction)) == 1  # pages replace, never add, messages
    assert_no_mentions(api)


async def test_search_without_matches(api: DiscordStandIn, bot: NewsBot) -> None:
    interaction = await slash(api, "search", {"query": "Quantencomputer"})
    message = body(await api.wait_followup(interaction, ANSWER_TIMEOUT))
    assert description(message) in ("No matching passages.", "Keine passenden Stellen.")
    assert (
        embed(message)["title"].endswith("— 0 passages") or "— 0 Stellen" in embed(message)["title"]
    )
    assert not message.get("components")
    assert_no_mentions(api)


async def test_source_autocomplete_finds_the_article(
    api: DiscordStandIn, bot: NewsBot, seed_snapshot: Snapshot
) -> None:
    article = article_with_title(seed_snapshot, "26 Staaten")
    completion = api.autocomplete("source", "article", "Staaten")
    await api.dispatch("INTERACTION_CREATE", completion)
    callback = await api.wait_callback(completion)
    assert callback.json["type"] == 8
    assert callback.json["data"]["choices"] == [{"name": article.title, "value": article.id}]

    everything = api.autocomplete("source", "article", "")
    await api.dispatch("INTERACTION_CREATE", everything)
    choices = (await api.wait_callback(everything)).json["data"]["choices"]
    assert {c["value"] for c in choices} == set(seed_snapshot.articles)
    dated = next(a for a in seed_snapshot.articles.values() if a.date)
    assert any(c["name"].endswith(f"({dated.date})") for c in choices)
    assert all(len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in choices)


async def test_source_paragraph_and_overview(
    api: DiscordStandIn, bot: NewsBot, seed_snapshot: Snapshot
) -> None:
    article = article_with_title(seed_snapshot, "26 Staaten")
    passages = [seed_snapshot.passages[i] for i in article.passage_ids]

    one = await slash(api, "source", {"article": article.id, "paragraph": 1})
    callback = await api.wait_callback(one)
    assert callback.json["type"] == 4
    assert not (body(callback).get("flags") or 0) & EPHEMERAL
    text = reply_text(callback)
    assert article.text[passages[0].start : passages[0].end] in text
    assert article.title in text and "paragraph 1" in text

    overview = await slash(api, "source", {"article": article.id})
    text = reply_text(await api.wait_callback(overview))
    assert article.title in text
    assert f"{len(passages)} paragraphs" in text and article.id in text
    assert all(f"¶{p.ordinal}" in text for p in passages)

    by_title = await slash(api, "source", {"article": "Staaten wollen", "paragraph": 2})
    text = reply_text(await api.wait_callback(by_title))
    assert article.text[passages[1].start : passages[1].end] in text
    assert_no_mentions(api)


async def test_source_refuses_unknown_article_and_paragraph(
    api: DiscordStandIn, bot: NewsBot, seed_snapshot: Snapshot
) -> None:
    unknown = await slash(api, "source", {"article": "Weltmeisterschaft"})
    callback = await api.wait_callback(unknown)
    assert callback.json["data"]["flags"] & EPHEMERAL
    assert "No article matches" in (callback.content or "")

    several = await slash(api, "source", {"article": "0"})  # every id starts with 0
    callback = await api.wait_callback(several)
    assert callback.content == "“0” matches 2 articles. Which one?"
    buttons = [c for row in callback.json["data"]["components"] for c in row["components"]]
    assert len(buttons) == len(seed_snapshot.articles)

    article = article_with_title(seed_snapshot, "26 Staaten")
    too_far = await slash(api, "source", {"article": article.id, "paragraph": 99})
    callback = await api.wait_callback(too_far)
    assert callback.json["data"]["flags"] & EPHEMERAL
    assert callback.content == f"That article has paragraphs 1–{len(article.passage_ids)}."
    assert_no_mentions(api)


async def test_sources_lists_the_articles_and_the_build(
    api: DiscordStandIn, bot: NewsBot, seed_snapshot: Snapshot
) -> None:
    interaction = await slash(api, "sources")
    callback = await api.wait_callback(interaction)
    assert callback.json["type"] == 4
    text = reply_text(callback)
    info = seed_snapshot.info
    assert f"Index of {info.built_at}: 2 articles, {info.passages} passages" in text
    lines = text.splitlines()[1:]
    assert len(lines) == 2
    # Newest first; an article without a date says so.
    for line, article in zip(
        lines,
        sorted(seed_snapshot.articles.values(), key=lambda a: (a.date or "", a.id), reverse=True),
        strict=True,
    ):
        assert article.title[:40] in line
        assert (article.date or "date unknown") in line
        assert f"{len(article.passage_ids)} paragraphs" in line
        assert f"`{article.id}`" in line  # code in Discord
    assert_no_mentions(api)


async def test_source_is_framed_in_german_for_a_german_client(
    api: DiscordStandIn, bot: NewsBot, seed_snapshot: Snapshot
) -> None:
    article = article_with_title(seed_snapshot, "26 Staaten")
    count = len(article.passage_ids)

    unknown = await slash(api, "source", {"article": "Weltmeisterschaft"}, locale="de")
    assert (await api.wait_callback(unknown)).content == (
        "Kein Artikel passt zu „Weltmeisterschaft“. Die Liste zeigt /sources."
    )
    near = await slash(api, "source", {"article": "26 Staaten wollen Trupen"}, locale="de")
    assert (await api.wait_callback(near)).content == (
        "Kein Artikel passt zu „26 Staaten wollen Trupen“. Meintest du einen dieser?"
    )
    too_far = await slash(api, "source", {"article": article.id, "paragraph": 99}, locale="de")
    assert (await api.wait_callback(too_far)).content == (
        f"Dieser Artikel hat die Absätze 1–{count}."
    )
    one = await slash(api, "source", {"article": article.id, "paragraph": 1}, locale="de")
    text = reply_text(await api.wait_callback(one))
    assert "Absatz 1" in text and "paragraph" not in text
    assert "Datum unbekannt" not in text  # a citation leaves an unknown date out
    overview = await slash(api, "source", {"article": article.id}, locale="de")
    text = reply_text(await api.wait_callback(overview))
    assert f"{count} Absätze" in text and "Datum unbekannt" in text
    assert "paragraphs" not in text and "date unknown" not in text

    english = await slash(api, "source", {"article": "Weltmeisterschaft"})
    assert (await api.wait_callback(english)).content == (
        "No article matches “Weltmeisterschaft”. Try /sources for the list."
    )
    assert_no_mentions(api)
