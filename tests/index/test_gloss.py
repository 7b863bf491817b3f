"""Glosses: a quote's words with their English senses, from what the build stores."""

from __future__ import annotations

from index.engine import Engine
from index.gloss import Gloss, GlossWord

GUARANTEES = (
    "Ziel sei es gewesen, die Rolle der USA bei den geplanten Sicherheitsgarantien zu klären."
)
AIR_DEFENCE = "Wir haben vor allem bei der Luftverteidigung eine deutliche Steigerung zugesagt."
COMMITTED = "Die USA haben sich verpflichtet. Sie verpflichten sich, Europa zu unterstützen."


def word(gloss: Gloss, written: str) -> GlossWord:
    (found,) = [w for w in gloss.words if w.word == written]
    return found


def english(w: GlossWord) -> list[str]:
    return [s.english for s in w.senses]


def test_a_compound_shows_its_parts_with_their_senses(seed_engine: Engine) -> None:
    gloss = seed_engine.gloss("What role did the US play in the guarantees?", GUARANTEES)
    compound = word(gloss, "Sicherheitsgarantien")
    assert [p.word for p in compound.parts] == ["Sicherheit", "Garantien"]
    security, guarantees = compound.parts
    assert "security" in [s.english for s in security.senses]
    assert guarantees.senses[0].english == "guarantees"  # the sense the question matched
    assert guarantees.senses[0].matched
    assert english(word(gloss, "Rolle"))[0] == "role"


def test_participles_get_their_verbs_senses_the_asked_one_first(seed_engine: Engine) -> None:
    promised = word(
        seed_engine.gloss("What did Merz promise on air defence?", AIR_DEFENCE), "zugesagt"
    )
    assert english(promised)[0] == "promise" and promised.senses[0].matched
    assert not any(s.matched for s in promised.senses[1:])
    assert "agree" in english(promised)  # a verb sense of "zusagen" besides the asked one

    gloss = seed_engine.gloss("What did the US commit to?", COMMITTED)
    committed = word(gloss, "verpflichtet")
    assert english(committed)[0] == "commit to" and committed.senses[0].matched
    # Each word once: "verpflichten" is the same word as "verpflichtet".
    assert [w.word for w in gloss.words].count("verpflichten") == 0
    assert word(gloss, "USA").senses[0].glossary  # a name from the glossary, marked so


def test_without_a_matching_question_senses_come_by_the_dictionary_alone(
    seed_engine: Engine,
) -> None:
    gloss = seed_engine.gloss("Was hat Merz zugesagt?", AIR_DEFENCE)
    assert not any(s.matched for w in gloss.words for s in w.senses)
    assert "air defence" in english(word(gloss, "Luftverteidigung"))
    assert "increase" in english(word(gloss, "Steigerung"))


def test_every_sense_is_a_dictionary_entry_of_the_word(seed_engine: Engine) -> None:
    snap = seed_engine.snapshot
    translations = snap.lexicon.translations
    for quote in (GUARANTEES, AIR_DEFENCE, COMMITTED):
        gloss = seed_engine.gloss("What did the US commit to?", quote)
        words = [w.word for w in gloss.words]
        assert len(words) == len(set(words))
        for w in gloss.words:
            term, *parts = snap.terms_of(w.word)
            for s in w.senses:
                assert s.glossary or term in translations[s.english], (w.word, s)
            for part, part_term in zip(w.parts, parts, strict=False):
                for s in part.senses:
                    assert s.glossary or part_term in translations[s.english], (part.word, s)
        assert "verpflichten" not in gloss.unknown


def test_a_split_verb_is_glossed_as_the_verb(seed_engine: Engine) -> None:
    quote = "Der Kreml lehnt eine Präsenz ausländischer Truppen strikt ab."
    gloss = seed_engine.gloss("What did Russia reject?", quote)
    verb = word(gloss, "lehnt … ab")
    assert english(verb)[0] == "reject" and verb.senses[0].matched  # ablehnen, as asked
    assert not [w for w in gloss.words if w.word in {"lehnt", "ab"}]


def test_a_split_verb_opening_a_sentence_is_still_a_verb(seed_engine: Engine) -> None:
    verb = word(seed_engine.gloss("", "Lehnt der Kreml das ab?"), "Lehnt … ab")
    assert not verb.parts and "decline" in english(verb)  # verb senses
    assert "rejection" not in english(verb)  # not the noun *Ablehnung*'s
