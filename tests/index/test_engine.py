"""The engine on the real seed articles: golden answers, quotes, abstention, invariants."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import weakref
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from index.build import build_snapshot
from index.config import DEFAULT_CONFIG
from index.corpus import parse_article
from index.ding import DingEntries
from index.engine import Engine
from index.lexicon import GlossaryEntry, default_glossary
from index.records import Answer, Scope, Snapshot, understood_line
from tests.conftest import RESULT_KEYS, cache_dir

FEED = "000_632348a179117fcd"
LINES = "001_3254392af1d010b4"


def top(answer: Answer, n: int = 3) -> list[tuple[str, int]]:
    return [(r.article_id, r.paragraph) for r in answer.results[:n]]


@pytest.mark.parametrize(
    ("question", "expected_first"),
    [
        ("What did the US commit to?", (FEED, 1)),
        ("Wozu verpflichten sich die USA?", (FEED, 1)),
        ("What is Russia's position on foreign troops?", (FEED, 7)),
        ("What did Germany promise on air defence?", (LINES, 7)),
        ("What did Ursula von der Leyen say?", (LINES, 5)),
        ("Who are the US envoys?", (FEED, 3)),
        ("Was sagte Regierungssprecher Kornelius?", (LINES, 8)),
    ],
)
def test_golden_first_passage(
    seed_engine: Engine, question: str, expected_first: tuple[str, int]
) -> None:
    answer = seed_engine.answer(question)
    assert answer.answered
    assert top(answer)[0] == expected_first


def test_flagship_answer_quote_and_citation(seed_engine: Engine) -> None:
    answer = seed_engine.answer("What did the US commit to?")
    first = answer.results[0]
    assert "verpflichten sich die USA" in first.quote
    assert first.date == "2026-01-06" and first.paragraph == 1
    assert first.title and "Yoan Valat" not in first.title
    assert "US → USA" in understood_line(answer.understood_as)
    assert "commit to → verpflichten" in understood_line(answer.understood_as)
    marked = {
        first.quote[s - first.quote_start : e - first.quote_start] for s, e in first.highlights
    }
    assert {"verpflichten", "USA"} <= marked


def test_both_participation_passages_lead(seed_engine: Engine) -> None:
    answer = seed_engine.answer("Wer nahm an dem Treffen teil?")
    assert set(top(answer, 2)) == {(FEED, 3), (LINES, 7)}


def test_quote_is_the_best_sentence_not_the_whole_paragraph(seed_engine: Engine) -> None:
    first = seed_engine.answer("What did the US commit to?").results[0]
    assert first.quote.startswith("Wie die Nachrichtenagentur AFP berichtet")
    assert "williger Staaten" not in first.quote  # the paragraph's last sentence
    assert len(first.quote) < len(first.passage) / 2


@pytest.mark.parametrize(
    "question",
    [
        "What did China say about the talks?",
        "Wer hat die Fußball-Weltmeisterschaft gewonnen?",
        "What did Japan decide about tariffs?",
        "Wie wird das Wetter morgen in Hamburg?",
        "What did Jens Stoltenberg say about the troops in Paris?",
    ],
)
def test_abstains_when_the_articles_do_not_say(seed_engine: Engine, question: str) -> None:
    answer = seed_engine.answer(question)
    assert not answer.answered and answer.results == () and answer.reason == "not_covered"


def test_a_name_rule_says_why_it_declined(seed_engine: Engine) -> None:
    answer = seed_engine.answer("What did Jens Stoltenberg say about the troops in Paris?")
    assert not answer.answered and answer.signals["unknown_name"] == 1.0
    assert seed_engine.answer("What did the US commit to?").signals["unknown_name"] == 0.0


@pytest.mark.parametrize("question", ["", "   ", "?!?", "🙂🙂", "the of and", "und oder"])
def test_nothing_to_search_for(seed_engine: Engine, question: str) -> None:
    answer = seed_engine.answer(question)
    assert not answer.answered and answer.reason in {"no_terms", "not_covered"}


def test_pagination_continues_the_ranking(seed_engine: Engine) -> None:
    first = seed_engine.answer("Truppen Ukraine", k=2)
    more = seed_engine.answer("Truppen Ukraine", k=2, offset=2)
    assert [r.rank for r in more.results] == [3, 4]
    assert not {r.passage_id for r in first.results} & {r.passage_id for r in more.results}


def test_json_shape(seed_engine: Engine) -> None:
    data = seed_engine.answer("Wer nahm an dem Treffen teil?").to_dict()
    assert {"question", "language", "answered", "results", "understood_as"} <= set(data)
    assert set(data["results"][0]) >= RESULT_KEYS


@given(st.text(max_size=120))
def test_any_question_gives_verbatim_quotes(seed_engine: Engine, question: str) -> None:
    answer = seed_engine.answer(question, abstain=False)
    snap = seed_engine.snapshot
    for r in answer.results:
        text = snap.articles[r.article_id].text
        assert text[r.quote_start : r.quote_end] == r.quote
        assert text[r.passage_start : r.passage_end] == r.passage
        assert r.quote in r.passage
        for s, e in r.highlights:
            assert r.quote_start <= s < e <= r.quote_end


@given(
    st.sampled_from(["Truppen", "USA", "Ukraine", "Macron", "Frieden", "Garantien"]),
    st.sampled_from(["What about", "Was ist mit", ""]),
)
def test_questions_with_real_words_quote_verbatim(
    seed_engine: Engine, word: str, frame: str
) -> None:
    answer = seed_engine.answer(f"{frame} {word}?")
    assert answer.answered
    for r in answer.results:
        assert (
            seed_engine.snapshot.articles[r.article_id].text[r.quote_start : r.quote_end] == r.quote
        )


def test_new_article_is_answerable_after_a_rebuild(ding: DingEntries, seed_articles: list) -> None:
    extra = parse_article(
        "rom",
        "---\ntitle: Gipfel in Rom\ndate: 2026-02-01\n---\n"
        "Italien sagte zu, zwei Fregatten für die Überwachung des Schwarzen Meeres zu stellen.\n",
    )
    engine = Engine(build_snapshot([*seed_articles, extra], ding, default_glossary()))
    first = engine.answer("What did Italy offer for the Black Sea?").results[0]
    assert first.article_id == "rom" and "Fregatten" in first.quote


def test_follow_up_carries_the_earlier_question(seed_engine: Engine) -> None:
    alone = seed_engine.answer("And Germany?")
    follow = seed_engine.answer("And Germany?", context=["What did the US commit to?"])
    assert "Luftverteidigung" in follow.results[0].passage
    assert any(u.kind == "context" for u in follow.understood_as)
    # the new subject replaces the old one: the US is not carried over
    assert not any(u.source == "US" for u in follow.understood_as)
    assert alone.results[0].passage_id != follow.results[0].passage_id or (
        "Luftverteidigung" in alone.results[0].passage
    )


def test_context_does_not_make_an_unanswerable_question_answerable(seed_engine: Engine) -> None:
    answer = seed_engine.answer("And China?", context=["What did the US commit to?"])
    assert not answer.answered


def test_scope_restricts_articles_and_dates(seed_engine: Engine) -> None:
    only = seed_engine.answer("Truppen", k=10, scope=Scope(article_ids=frozenset({LINES})))
    assert {r.article_id for r in only.results} == {LINES}
    dated = seed_engine.answer("Truppen", k=10, scope=Scope(since=dt.date(2026, 1, 1)))
    assert {r.article_id for r in dated.results} == {FEED}
    assert dated.undated_excluded == 1  # the article without a date is said to be left out
    none = seed_engine.answer("Truppen", scope=Scope(until=dt.date(2025, 12, 31)))
    assert not none.answered and none.reason == "out_of_scope"


def test_a_swap_during_an_answer_does_not_mix_two_builds(
    ding: DingEntries, seed_snapshot: Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reindex swaps the snapshot while an answer is being computed (the bot answers in
    worker threads): the answer comes from the build it started on, whole."""
    other = build_snapshot(
        [parse_article("rom", "Italien sagte zwei Fregatten für das Schwarze Meer zu.\n")],
        ding,
        default_glossary(),
    )
    engine = Engine(seed_snapshot)
    understand = engine.builder.build

    def swapping(*args: Any, **kwargs: Any) -> Any:
        engine.swap(other)  # right after the question is read on the old build
        return understand(*args, **kwargs)

    monkeypatch.setattr(engine.builder, "build", swapping)
    answer = engine.answer("What did the US commit to?")
    assert engine.snapshot is other
    assert answer.answered and answer.results
    for r in answer.results:
        article = seed_snapshot.articles[r.article_id]
        assert article.text[r.quote_start : r.quote_end] == r.quote


def test_a_swapped_out_snapshot_is_not_kept_alive(
    ding: DingEntries, seed_articles: list[Any]
) -> None:
    old = build_snapshot(seed_articles, ding, default_glossary(), cache_dir=cache_dir())
    engine = Engine(old)
    answer = engine.answer("What did the US commit to?")
    engine.gloss("What did the US commit to?", answer.results[0].quote)  # caches its senses
    engine.swap(build_snapshot(seed_articles, ding, default_glossary(), cache_dir=cache_dir()))
    gone = weakref.ref(old)
    del old, answer
    gc.collect()
    assert gone() is None


def test_warming_up_loads_what_the_first_answer_would(
    ding: DingEntries, seed_articles: list[Any]
) -> None:
    snapshot = build_snapshot(seed_articles, ding, default_glossary(), cache_dir=cache_dir())
    engine = Engine(snapshot)
    assert not snapshot._words and engine._senses is None
    engine.warm_up()
    assert snapshot._words  # passages were ranked and quoted
    assert engine._senses is not None  # the gloss index is built


def test_new_tunables_reach_question_understanding(
    ding: DingEntries, seed_articles: list[Any]
) -> None:
    engine = Engine(build_snapshot(seed_articles, ding, default_glossary(), cache_dir=cache_dir()))
    engine.config = dataclasses.replace(engine.config, typo_weight=0.25)
    assert engine.builder.config is engine.config
    repaired = engine.builder.build("What did the goverment say?").concepts
    assert [c.weight for c in repaired if c.kind == "typo"] == [0.25]


def test_an_article_is_named_by_id_prefix_or_title_and_only_when_one_is(
    seed_snapshot: Snapshot,
) -> None:
    articles = sorted(seed_snapshot.articles.values(), key=lambda a: a.id)
    assert seed_snapshot.matching_articles("  ") == []  # blank names none, not all
    assert seed_snapshot.find_article("0") is None  # both ids start with 0
    assert [a.id for a in seed_snapshot.matching_articles("0")] == [a.id for a in articles]
    for article in articles:
        assert seed_snapshot.find_article(article.id) is article
        assert seed_snapshot.find_article(article.id[:5]) is article
        assert seed_snapshot.find_article(article.title.upper()) is article
    # a title that another title holds is still named by itself
    first, second = articles
    retitled = {
        first.id: dataclasses.replace(first, title="Nato"),
        second.id: dataclasses.replace(second, title="Nato-Gipfel"),
    }
    both = dataclasses.replace(seed_snapshot, articles=retitled)
    assert both.find_article("nato") is retitled[first.id]
    assert both.find_article("Gipfel") is retitled[second.id]
    assert len(both.matching_articles("Nat")) == 2


def test_engines_sharing_a_snapshot_keep_their_own_understanding(seed_snapshot: Snapshot) -> None:
    """An engine's config, lemmatiser and /synonym entries are its own: another engine over
    the same snapshot (an eval beside the bot, a sweep) must not change them."""
    plain = Engine(seed_snapshot)
    other = Engine(
        seed_snapshot, dataclasses.replace(DEFAULT_CONFIG, typo_weight=0.1), lemmatize=str.lower
    )
    other.set_user_glossary([GlossaryEntry(("Blauhelme",), ("friedenstrupp",), "user")])
    assert plain.config is DEFAULT_CONFIG and plain.builder.config is DEFAULT_CONFIG
    assert other.builder.config.typo_weight == 0.1 and other.builder.lemmatize is str.lower
    assert plain.builder.lemmatize is None
    shared = seed_snapshot.builder  # the snapshot's own is neither, and untouched
    assert shared is not plain.builder and shared is not other.builder and shared.lemmatize is None
    asked = "Was sagen die Blauhelme?"
    assert any(c.kind == "name" for c in other.builder.build(asked).concepts)
    assert not any(c.kind == "name" for c in plain.builder.build(asked).concepts)
    other.swap(seed_snapshot)  # a swap keeps what the engine set
    assert other.builder.lemmatize is str.lower and other.builder.config.typo_weight == 0.1
    assert any(c.kind == "name" for c in other.builder.build(asked).concepts)


def test_json_lists_what_the_reply_line_shows(seed_engine: Engine) -> None:
    german = seed_engine.answer("Wer nahm an dem Treffen teil?")
    listed = german.to_dict()["understood_as"]
    assert all("→" in entry for entry in listed)
    assert "Treffen → Treffen" not in listed and any("nahm … teil" in e for e in listed)
    english = seed_engine.answer("What did the US commit to?").to_dict()["understood_as"]
    assert any(e.startswith("US →") for e in english)
    # a name an English question writes as the articles do is searched as asked: no echo
    named = seed_engine.answer("What did Macron promise?")
    assert any(u.source == "Macron" for u in named.understood_as)
    line = understood_line(named.understood_as, "en")
    assert "Macron →" not in line and "promise →" in line
    assert "Macron → Macron" in understood_line(named.understood_as, "en", every=True)
    # a repair names itself once when it is what was searched, in brackets when not
    typo = understood_line(seed_engine.answer("Wer schickt Truppn?").understood_as, "de")
    assert "truppn → Truppen" in typo and "(→" not in typo
    translated = understood_line(seed_engine.answer("what did the us comit to").understood_as)
    assert "comit (→ commit) → " in translated
    # a long word is cut, not the part it was split into
    long = understood_line(seed_engine.answer("Was ist die " + "x" * 50 + "truppe?").understood_as)
    assert "…" in long and "(truppe)" in long
    assert "Macron →" not in " ".join(named.to_dict()["understood_as"])
