"""Reindex diffs: stable passage ids tell what was added, removed or changed."""

from __future__ import annotations

import dataclasses

from index.build import build_snapshot
from index.corpus import Article, parse_article
from index.diff import diff_snapshots, passage_key
from index.ding import DingEntries
from index.lexicon import default_glossary
from index.records import Snapshot


def test_stable_ids_depend_on_article_and_text_only() -> None:
    assert passage_key("a", "Text.") == passage_key("a", "Text.")
    assert passage_key("a", "Text.") != passage_key("b", "Text.")
    assert passage_key("a", "Text.") != passage_key("a", "Text!")


def test_no_change_is_reported_as_none(seed_snapshot: Snapshot) -> None:
    diff = diff_snapshots(seed_snapshot, seed_snapshot)
    assert diff.unchanged and diff.passages_changed == diff.passages_added == 0


def test_added_removed_and_changed(
    ding: DingEntries, seed_articles: list[Article], seed_snapshot: Snapshot
) -> None:
    feed, lines = seed_articles
    edited_text = lines.text.replace("26 Staaten bereit erklärt", "27 Staaten bereit erklärt")
    edited = parse_article(lines.id, edited_text, lines.path)
    rome = parse_article("rom", "---\ntitle: Gipfel in Rom\n---\nItalien sagte zu.\n")
    new = build_snapshot([edited, rome], ding, default_glossary())  # the feed is gone
    diff = diff_snapshots(seed_snapshot, new)
    assert diff.articles_added == ("rom",)
    assert diff.articles_removed == (feed.id,)
    assert diff.articles_changed == (lines.id,)
    assert diff.passages_changed == 1  # one paragraph rewritten in place
    assert diff.passages_added == 1  # Rome's paragraph
    assert diff.passages_removed == len(feed.passages)
    assert any(
        s.startswith("~ 26 Staaten wollen Truppen entsenden, paragraph 1") for s in diff.samples
    )
    assert dataclasses.replace(diff).samples == diff.samples


def test_first_build_adds_everything(seed_snapshot: Snapshot) -> None:
    diff = diff_snapshots(None, seed_snapshot)
    assert len(diff.articles_added) == 2 and diff.passages_added == len(seed_snapshot.passages)


def test_a_sample_that_lists_not_all_says_how_many_more(ding: DingEntries) -> None:
    articles = [
        parse_article(f"a{i}", f"---\ntitle: Artikel {i}\n---\nItalien sagte {i} zu.\n")
        for i in range(5)
    ]
    diff = diff_snapshots(None, build_snapshot(articles, ding, default_glossary()))
    assert diff.samples == ("+ Artikel 0", "+ Artikel 1", "+ Artikel 2", "+ … and 2 more")
    assert diff_snapshots(None, build_snapshot(articles[:3], ding, default_glossary())).samples[
        -1
    ] == ("+ Artikel 2")
