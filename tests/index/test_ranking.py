"""A name's words count about once in BM25's scores (``index.ranking.name_overlap``), and
results after the first come from articles that name the question's subject
(``index.ranking.named_only``)."""

from __future__ import annotations

import dataclasses

import pytest

from index.bm25 import BM25Index
from index.build import build_snapshot
from index.concepts import Concept
from index.config import DEFAULT_CONFIG
from index.corpus import Article, parse_article
from index.ding import DingEntries
from index.engine import Engine
from index.lexicon import default_glossary
from index.ranking import name_overlap, name_words
from tests.conftest import cache_dir


def word(source: str, term: str) -> Concept:
    return Concept(source, (term,), "word")


def test_capitalised_words_side_by_side_may_be_one_name() -> None:
    concepts = [word("sang", "sing"), word("Super", "sup"), word("Bowl", "bowl"), word("50", "50")]
    assert name_words("Wer sang beim Super Bowl 50?", concepts) == [(1, 2)]
    assert name_words("Wer sang beim Super-Bowl?", concepts[1:3]) == []  # not side by side
    assert name_words("Super und Bowl", concepts[1:3]) == []
    assert name_words("super bowl", [word("super", "sup"), word("bowl", "bowl")]) == []
    # a word that merely ends like the next one's start is no neighbour ("XSuper Bowl")
    assert name_words("XSuper Bowl", concepts[1:3]) == []
    # the question's order counts, not the concepts' (glossary names come first)
    reordered = [concepts[2], concepts[0], concepts[1]]
    assert name_words("Wer sang beim Super Bowl?", reordered) == [(0, 2)]


def test_words_always_found_together_count_about_once() -> None:
    docs = [["sup", "bowl", "spiel"], ["sup", "bowl"], ["hymn"], ["anna", "x"], ["berta", "y"]]
    bm25 = BM25Index.from_documents(docs)
    concepts = [word("Super", "sup"), word("Bowl", "bowl"), word("Anna", "anna")]
    hits = [bm25.concept_hits(c.terms, c.weight) for c in concepts]
    out = name_overlap("Super Bowl Anna", concepts, hits, share=1.0)
    assert [h.weight for h in out] == [1.0, 0.0, 1.0]  # J(Super, Bowl) = 1; Anna is apart
    half = name_overlap("Super Bowl Anna", concepts, hits, share=0.5)
    assert [h.weight for h in half] == [1.0, 0.5, 1.0]
    unchanged = name_overlap("Super Bowl Anna", concepts, hits, share=0.0)
    assert all(a is b for a, b in zip(unchanged, hits, strict=True))
    assert hits[1].weight == 1.0  # the hits given are not changed
    clamped = name_overlap("Super Bowl Anna", concepts, hits, share=3.0)
    assert [h.weight for h in clamped] == [1.0, 0.0, 1.0]  # never below zero


def test_a_name_typed_twice_or_turned_round_is_cut_once() -> None:
    docs = [["sup", "bowl", "spiel"], ["sup", "bowl"], ["hymn"], ["anna", "x"], ["berta", "y"]]
    bm25 = BM25Index.from_documents(docs)
    concepts = [word("Super", "sup"), word("Bowl", "bowl")]
    hits = [bm25.concept_hits(c.terms, c.weight) for c in concepts]
    for question in ("War der Super Bowl ein Super Bowl?", "Super Bowl oder Bowl Super"):
        assert name_words(question, concepts) == [(0, 1)]
        # equal idf (J = 1): the later word gives way, the name still counts once
        assert [h.weight for h in name_overlap(question, concepts, hits, 1.0)] == [1.0, 0.0]


def test_a_word_in_two_pairs_is_cut_once_by_the_larger_overlap() -> None:
    docs = [["new", "york", "times"], ["new", "york"], ["new"], ["times", "x"], ["y"], ["z"]]
    bm25 = BM25Index.from_documents(docs)
    concepts = [word("New", "new"), word("York", "york"), word("Times", "times")]
    hits = [bm25.concept_hits(c.terms, c.weight) for c in concepts]
    assert name_words("New York Times", concepts) == [(0, 1), (1, 2)]
    # New (3 passages, the lowest idf) gives way to York by J = 2/3; of York and Times
    # (2 each, a tie) the later, Times, gives way by J = 1/3; York is cut by neither
    weights = [h.weight for h in name_overlap("New York Times", concepts, hits, 1.0)]
    assert weights == pytest.approx([1 / 3, 1.0, 2 / 3])


def test_partly_overlapping_words_keep_what_they_do_not_share() -> None:
    docs = [["sup", "bowl"], ["sup"], ["sup"], ["bowl", "x"], ["y"], ["z"]]
    bm25 = BM25Index.from_documents(docs)
    concepts = [word("Super", "sup"), word("Bowl", "bowl")]
    hits = [bm25.concept_hits(c.terms, c.weight) for c in concepts]
    out = name_overlap("Super Bowl", concepts, hits, share=1.0)
    # J = 1 / 4; "Bowl" (two passages) has the higher idf, so "Super" gives way
    assert out[0].weight == pytest.approx(0.75) and out[1].weight == 1.0


@pytest.fixture(scope="module")
def engine(ding: DingEntries) -> Engine:
    filler = [
        "Der Stadtrat beschloss einen neuen Haushalt für die Schulen.",
        "Im Winter fiel in den Bergen ungewöhnlich viel Schnee.",
        "Die Bibliothek öffnet künftig auch am Sonntag.",
        "Ein Sturm beschädigte mehrere Dächer am Hafen.",
    ]
    text = "\n\n".join(
        [
            "Beim Super Bowl siegten die Broncos. Der Super Bowl war ausverkauft, und der "
            "Super Bowl brachte der Liga Rekorde.",
            "Beim Finale sang Lady Gaga die Nationalhymne.",
            *filler,
        ]
    )
    article = parse_article("finale", f"---\ntitle: Finale\ndate: 2026-02-01\n---\n{text}")
    return Engine(build_snapshot([article], ding, default_glossary()))


def test_a_name_said_often_does_not_outweigh_what_was_asked(engine: Engine) -> None:
    question = "Wer sang die Nationalhymne beim Super Bowl?"
    first = engine.answer(question, k=2, abstain=False).results[0]
    assert "Nationalhymne" in first.quote
    engine.config = dataclasses.replace(DEFAULT_CONFIG, name_overlap=0.0)
    try:  # each word of the name as its own evidence: the name's passage wins
        first = engine.answer(question, k=2, abstain=False).results[0]
        assert "Super Bowl" in first.quote
    finally:
        engine.config = DEFAULT_CONFIG


CHINA = """---
title: Reaktionen aus Peking
date: 2026-01-07
---
China sagte, es unterstütze Gespräche über einen Frieden in der Ukraine.

Das Außenministerium in Peking äußerte sich sonst zurückhaltend.
"""


@pytest.fixture(scope="module")
def with_china(ding: DingEntries, seed_articles: list[Article]) -> Engine:
    china = parse_article("china", CHINA)
    articles = [*seed_articles, china]
    return Engine(build_snapshot(articles, ding, default_glossary(), cache_dir=cache_dir()))


@pytest.mark.parametrize("abstain", [True, False])
def test_results_after_the_first_come_from_articles_that_name_the_subject(
    with_china: Engine, abstain: bool
) -> None:
    answer = with_china.answer("What did China say?", k=3, abstain=abstain)
    assert answer.results and answer.results[0].article_id == "china", answer
    assert {r.article_id for r in answer.results} == {"china"}
    assert answer.total_hits == len(answer.results)  # no "more" that shows nothing


def test_a_question_that_names_nothing_keeps_every_article(with_china: Engine) -> None:
    plain = with_china.answer("What was said about peace talks?", k=5, abstain=False)
    assert len({r.article_id for r in plain.results}) > 1, plain


def test_a_name_the_glossary_does_not_know_leaves_the_ranking_as_it_is(
    with_china: Engine,
) -> None:
    # "Kornelius" is named in one seed article only, but the glossary does not know him:
    # the articles' capitalised words are often a noun's form ("Soldaten"), no subject
    ranked = with_china.answer("Was sagte Kornelius über Truppen?", k=5, abstain=False)
    assert len({r.article_id for r in ranked.results}) > 1, ranked
