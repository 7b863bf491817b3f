"""German separable verbs split in a clause ("fand … statt") are indexed, asked and quoted
as the verb the dictionary lists (index/separable.py)."""

from __future__ import annotations

import pytest

from index.analysis import GermanAnalyzer
from index.engine import Engine
from index.records import Snapshot
from index.separable import SeparableVerb, separable_verbs, spelled_infinitive

KNOWN = frozenset({"stattfinden", "teilnehmen", "ablehnen", "vorsehen", "klarstellen"})


@pytest.fixture(scope="module")
def lemma() -> object:
    return GermanAnalyzer().lemma


@pytest.mark.parametrize(
    ("text", "verb", "particle", "infinitive"),
    [
        ("Zum Abschluss fand ein Austausch mit Trump statt.", "fand", "statt", "stattfinden"),
        (
            "Merz nahm virtuell an den Beratungen teil und ließ verlauten",
            "nahm",
            "teil",
            "teilnehmen",
        ),
        # an insertion between dashes stays inside the clause
        (
            "Der Kreml lehnt Truppen - zumal aus Nato-Staaten - strikt ab.",
            "lehnt",
            "ab",
            "ablehnen",
        ),
        # a capitalised word inside the clause is a noun, not the verb
        ("Der Plan sieht Truppen vor.", "sieht", "vor", "vorsehen"),
        ("Macron stellte klar: „Diese Streitmacht …“", "stellte", "klar", "klarstellen"),
    ],
)
def test_a_clause_ending_in_a_particle_gives_the_verb_back(
    lemma: object, text: str, verb: str, particle: str, infinitive: str
) -> None:
    (found,) = separable_verbs(text, lemma, KNOWN, base=100)  # type: ignore[arg-type]
    assert (found.verb, found.particle, found.infinitive) == (verb, particle, infinitive)
    assert text[found.verb_start - 100 :].startswith(verb)
    assert text[found.particle_start - 100 :].startswith(particle)


@pytest.mark.parametrize(
    "text",
    [
        "Die Truppen stehen bereit.",  # no particle at the clause's end
        "Das Treffen fand statt, aber",  # the verb is known only with its particle …
        "Er sah das Haus an.",  # … and "ansehen" is not in KNOWN: nothing is invented
        "Statt.",  # a particle alone
    ],
)
def test_nothing_else_is_a_separable_verb(lemma: object, text: str) -> None:
    found = separable_verbs(text, lemma, KNOWN - {"stattfinden"})  # type: ignore[arg-type]
    assert found == []


def test_the_index_holds_the_whole_verb(seed_snapshot: Snapshot) -> None:
    # "Zum Abschluss des Treffens fand ein Austausch mit US-Präsident Donald Trump statt."
    assert seed_snapshot.analyzer.stem("stattfinden") in seed_snapshot.bm25.term_ids


def test_an_english_phrase_meets_the_split_verb_and_the_quote_marks_both_words(
    seed_engine: Engine,
) -> None:
    answer = seed_engine.answer("Where did the meeting take place?")
    place = next(u for u in answer.understood_as if u.source == "take place")
    assert place.terms == ("stattfinden",)
    quoted = next(r for r in answer.results if "fand ein Austausch" in r.quote)
    marked = {
        quoted.quote[a - quoted.quote_start : b - quoted.quote_start] for a, b in quoted.highlights
    }
    assert {"fand", "statt"} <= marked, marked


def test_a_german_question_asks_for_the_whole_verb(seed_engine: Engine) -> None:
    answer = seed_engine.answer("Wer nahm an dem Treffen teil?")
    verb = next(u for u in answer.understood_as if u.source == "nahm … teil")
    # shown as the verb (its term teilnehm also stands for "Teilnehmer" and any split form)
    assert verb.terms == ("teilnehmen",) and verb.kind == "verb"
    firsts = " ".join(r.quote for r in answer.results[:2])
    assert "Teilnehmer sind" in firsts and "Merz nahm virtuell" in firsts


def test_the_verb_is_shown_with_the_umlauts_it_was_written_with() -> None:
    def shown(verb: str, particle: str, infinitive: str) -> str:
        return spelled_infinitive(SeparableVerb(verb, 0, particle, 10, infinitive))

    assert shown("führte", "aus", "ausfuhren") == "ausführen"
    assert shown("nahm", "teil", "teilnehmen") == "teilnehmen"
    assert shown("Lehnt", "ab", "ablehnen") == "ablehnen"
    assert shown("stieß", "auf", "aufstossen") == "aufstossen"  # ß → ss: left folded
    # a present form's umlaut is not the infinitive's: only the verb's lemma knows it
    trägt = SeparableVerb("trägt", 0, "bei", 10, "beitragen")
    assert spelled_infinitive(trägt, "tragen") == "beitragen"
    assert spelled_infinitive(SeparableVerb("Stieß", 0, "auf", 10, "aufstossen"), "stoßen") == (
        "aufstoßen"
    )
    assert spelled_infinitive(trägt, "legen") == spelled_infinitive(trägt)  # does not fit
