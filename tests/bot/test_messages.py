"""Templates and Discord's limits: every reply fits, nothing pings, nothing breaks markdown."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from types import SimpleNamespace

import discord
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.messages import (
    CONTENT_LIMIT,
    DESCRIPTION_LIMIT,
    EMBED_TOTAL_LIMIT,
    FIELDS_LIMIT,
    LABEL_LIMIT,
    button,
    content,
    embed,
    fit_lines,
)
from bot.render import (
    QUOTE_LIMIT,
    Target,
    by_article,
    escape_markdown,
    render,
    render_answer,
    truncate,
)
from index.config import DEFAULT_CONFIG
from index.engine import Engine
from index.records import Answer, Scope, understood_line


def embed_size(e: discord.Embed) -> int:
    return len(e)  # discord.py counts title, description, fields, footer, author


def rendered(
    answer: Answer,
    target: Target = "discord",
    *,
    understood: bool = False,
    quote_limit: int = 700,
) -> str:
    """The reply to ``answer`` for ``target`` (``render_answer``); its "Understood as" line
    only when ``understood``."""
    text = render_answer(answer, target, quote_limit)
    if understood:
        return text
    lines = text.splitlines()
    return "\n".join(x for x in lines if not re.search("Understood as|So verstanden", x)).strip()


def test_escape_markdown_and_mentions() -> None:
    text = "**bold** _it_ `code` ~~s~~ > q @everyone @here <@123> <@&456> ||spoiler||"
    out = escape_markdown(text)
    for raw in ("**bold**", "`code`", "||spoiler||", "@everyone", "@here", "<@123>", "<@&456>"):
        assert raw not in out
    assert "@\u200beveryone" in out and "@\u200bhere" in out


@given(st.text(min_size=0, max_size=300), st.integers(min_value=5, max_value=200))
def test_truncate_respects_limit_and_word_boundaries(text: str, limit: int) -> None:
    out = truncate(text, limit)
    assert len(out) <= limit
    if len(text) <= limit:
        assert out == text
    else:
        assert out.endswith("…")
        assert text.startswith(out[:-1].rstrip())


def test_truncate_cuts_between_words() -> None:
    assert truncate("eins zwei drei vier", 12) == "eins zwei…"


def test_fit_lines_never_leaves_bold_open() -> None:
    text = "\n".join(f"**[{i}]** " + "wort " * 40 for i in range(40))
    out = fit_lines(text, 1000)
    assert len(out) <= 1000 and out.endswith("…")
    assert all(line.count("**") % 2 == 0 for line in out.splitlines())


def test_embed_limits() -> None:
    huge = "x " * 10_000
    e = embed(
        huge, title="t" * 400, footer="f" * 3000, fields=[(f"name {i}", huge) for i in range(40)]
    )
    assert len(e.description or "") <= DESCRIPTION_LIMIT
    assert len(e.title or "") <= 256
    assert len(e.fields) <= FIELDS_LIMIT
    assert all(len(f.value or "") <= 1024 for f in e.fields)
    assert embed_size(e) <= EMBED_TOTAL_LIMIT


def test_content_and_labels() -> None:
    made = button("nb:src:1:1", label="Quelle " * 30)
    assert made.label is not None and len(made.label) <= LABEL_LIMIT
    assert made.custom_id == "nb:src:1:1" and made.style is discord.ButtonStyle.secondary
    text = content("cooldown.j2", seconds=4.2, de=False)
    assert "5 s" in text and len(text) <= CONTENT_LIMIT


def test_a_quote_grows_only_as_far_as_a_reply_shows_it_whole() -> None:
    """The engine adds a third sentence to a quote only within ``quote_chars``: a quote
    it grew is never cut by the reply's own limit, in Discord or in the terminal."""
    assert 0 < DEFAULT_CONFIG.quote_chars <= QUOTE_LIMIT


def test_answer_template_for_discord(seed_engine: Engine) -> None:
    answer = seed_engine.answer("What did the US commit to?")
    text = rendered(answer, understood=True)
    assert "**[1]**" in text and "**verpflichten**" in text and "**USA**" in text
    assert "-# Understood as: US → USA" in text
    assert "paragraph 1" in text and "2026-01-06" in text


def test_answer_quotes_are_truncated_with_an_ellipsis(seed_engine: Engine) -> None:
    answer = seed_engine.answer("What did the US commit to?")
    text = rendered(answer, quote_limit=60)
    assert text.count("…") >= 1
    assert all(len(line) < 200 for line in text.splitlines() if line.startswith(">"))


def test_abstention_lists_the_articles_in_the_question_language(seed_engine: Engine) -> None:
    de = seed_engine.answer("Wer hat die Fußball-Weltmeisterschaft gewonnen?")
    text = rendered(de)
    assert text.startswith("Dazu steht nichts in den Artikeln.")
    titles = [a.title for a in seed_engine.snapshot.articles.values()]
    assert de.searched == tuple(titles)
    assert all(escape_markdown(t) in text for t in titles)
    en = seed_engine.answer("What did China say about the talks?")
    text = rendered(en)
    assert text.startswith("The articles don't say.")


@pytest.mark.parametrize("target", ["discord", "terminal"])
def test_mention_in_question_never_renders_raw(seed_engine: Engine, target: Target) -> None:
    answer = seed_engine.answer("@everyone <@&123> What did the US commit to?")
    text = rendered(answer, target, understood=True)
    if target == "discord":
        assert "@everyone" not in text and "<@&123>" not in text


MACRON_QUESTION = "What did Macron say about Russia?"


@pytest.mark.parametrize("target", ["discord", "terminal"])
def test_quotes_print_in_rank_order_grouped_by_article(seed_engine: Engine, target: Target) -> None:
    # The Macron quote is [1] and stands in the undated article: it used to print last,
    # under the dated article's Kremlin sentence ([2] … [3] … [1]).
    answer = seed_engine.answer(MACRON_QUESTION)
    assert answer.results[0].quote.startswith("Macron stellte klar")
    assert answer.results[0].article_id != answer.results[1].article_id
    text = rendered(answer, target)
    printed = [int(n) for n in re.findall(r"\[(\d+)\]", text)]
    assert printed == [1, 2, 3]


def test_groups_follow_their_best_rank_and_ranks_ascend_within_a_group() -> None:
    def result(rank: int, article: str, date: str | None) -> SimpleNamespace:
        return SimpleNamespace(rank=rank, article_id=article, date=date)

    results = [result(2, "new", "2026-02-01"), result(1, "old", None), result(3, "old", None)]
    results += [result(4, "new", "2026-02-01")]
    groups = by_article(list(reversed(results)))
    assert [[r.rank for r in g] for g in groups] == [[1, 3], [2, 4]]


@pytest.mark.parametrize("language", ["en", "de"])
def test_citations_neither_repeat_the_quote_nor_say_date_unknown(
    seed_engine: Engine, language: str
) -> None:
    question = (
        "What did the US commit to?" if language == "en" else "Wozu verpflichten sich die USA?"
    )
    answer = seed_engine.answer(question)
    assert {r.date for r in answer.results} == {"2026-01-06", None}  # both articles cited
    text = rendered(answer, "terminal")
    text = re.sub(r"\[/?(?:bold|italic|dim)\]", "", text)
    assert "date unknown" not in text and "Datum unbekannt" not in text
    word = "Absatz" if language == "de" else "paragraph"
    citations = [line for line in text.splitlines() if f" · {word} " in line]
    assert len(citations) == 3
    assert f"AFP-Meldung vom 6. Januar 2026 · 2026-01-06 · {word} 1" in citations
    assert not any("berichtet" in line for line in citations)  # not quote [1] again
    assert any(line.startswith("26 Staaten wollen Truppen entsenden · Blick") for line in citations)


def test_searched_line_lists_short_titles(seed_engine: Engine) -> None:
    answer = seed_engine.answer("What did China say about the talks?")
    text = rendered(answer, "terminal")
    assert "Searched: AFP-Meldung vom 6. Januar 2026 · 26 Staaten wollen Truppen entsenden" in text


def test_searched_line_names_only_the_articles_the_filters_left(seed_engine: Engine) -> None:
    article = next(iter(seed_engine.snapshot.articles.values()))
    scope = Scope(frozenset({article.id}))
    answer = seed_engine.answer("Was hat China zu den Truppen gesagt?", scope=scope)
    assert not answer.answered and answer.searched == (article.title,)
    assert answer.searched_articles == 1
    assert rendered(answer).endswith("Durchsucht: " + escape_markdown(article.title))
    assert answer.to_dict()["searched"] == [article.title]


def test_searched_line_counts_a_long_list_of_articles(seed_engine: Engine) -> None:
    answer = seed_engine.answer("What did China say about the talks?")
    five = tuple(f"Article {i}" for i in range(5))
    many = dataclasses.replace(answer, searched=five, searched_articles=6)
    assert rendered(many).endswith("Searched: 6 articles")
    german = dataclasses.replace(many, language="de")
    assert rendered(german).endswith("Durchsucht: 6 Artikel")
    few = dataclasses.replace(answer, searched=five, searched_articles=5)
    assert "Article 4" in rendered(few)


@pytest.mark.parametrize(
    ("several", "de", "says"),
    [
        (2, False, "“0” matches 2 articles. Which one?"),
        (12, False, "“0” matches 12 articles. Which one? The first 5:"),
        (12, True, "„0“ passt zu 12 Artikeln. Welcher ist gemeint? Die ersten 5:"),
    ],
)
def test_a_key_that_names_several_articles_says_how_many_are_listed(
    several: int, de: bool, says: str
) -> None:
    shown = render("source_missing.j2", query="0", near=True, several=several, listed=5, de=de)
    assert shown == says


@pytest.mark.parametrize(
    ("count", "de", "line"),
    [
        (1, False, "That article has only paragraph 1."),
        (1, True, "Dieser Artikel hat nur Absatz 1."),
        (7, False, "That article has paragraphs 1–7."),
    ],
)
def test_a_paragraph_out_of_range_names_the_range_in_words(count: int, de: bool, line: str) -> None:
    assert render("source_range.j2", "discord", count=count, de=de) == line


def test_a_one_paragraph_article_is_listed_with_one_paragraph() -> None:
    info = SimpleNamespace(built_at="2026-12-07", articles=2, passages=3, has_dictionary=True)
    articles = [
        SimpleNamespace(title="Kurz", date=None, passage_ids=(0,), id="a"),
        SimpleNamespace(title="Lang", date="2026-01-06", passage_ids=(1, 2), id="b"),
    ]
    text = render("sources.j2", "discord", info=info, articles=articles, semantic=None)
    assert "· 1 paragraph ·" in text and "· 2 paragraphs ·" in text, text


def test_a_search_of_no_words_says_so_as_a_question_does(seed_engine: Engine) -> None:
    answer = seed_engine.answer("der die das", k=5, abstain=False)
    text = render("search.j2", "discord", answer=answer)
    assert answer.reason == "no_terms" and "keine Suchbegriffe" in text
    later = Scope(since=dt.date(2099, 1, 1))  # filters that leave no article: as /ask says
    outside = seed_engine.answer("Truppen", k=5, abstain=False, scope=later)
    assert "Kein Artikel passt zu diesen Filtern." in render("search.j2", "discord", answer=outside)


def test_a_long_word_is_cut_in_the_understood_line(seed_engine: Engine) -> None:
    line = understood_line(seed_engine.answer("x" * 300).understood_as)
    assert line.startswith("x" * 40 + "… →") and len(line) < 80


def test_filters_that_leave_no_article_show_no_understood_line(seed_engine: Engine) -> None:
    later = Scope(since=dt.date(2099, 1, 1))
    answer = seed_engine.answer("What did the US commit to?", scope=later)
    text = rendered(answer, understood=True)
    assert answer.reason == "out_of_scope" and "Understood as" not in text
