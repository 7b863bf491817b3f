"""German–German synonyms from OpenThesaurus: parsed, restricted to the articles, used by
German questions whose word the articles never use."""

from __future__ import annotations

from pathlib import Path

from index.analysis import GermanAnalyzer
from index.build import build_snapshot
from index.concepts import Concept
from index.corpus import Article
from index.ding import DingEntries
from index.engine import Engine
from index.lemma_dictionary import german_lemmatizer
from index.lexicon import Lexicon, default_glossary
from index.thesaurus import (
    Thesaurus,
    load_thesaurus,
    parse_thesaurus,
    synonym_terms,
    thesaurus_identity,
    written_forms,
)
from tests.conftest import THESAURUS, cache_dir


def test_sets_keep_their_one_word_members_without_usage_notes() -> None:
    sets = parse_thesaurus(
        "# a comment\nschicken;senden;entsenden\n(sich) fügen;schlucken (ugs.);hinnehmen\n"
        "pensionieren;in Rente schicken\nschicken;schicken\n"
    )
    assert sets == (("schicken", "senden", "entsenden"), ("fügen", "schlucken", "hinnehmen"))


def test_a_missing_file_is_no_thesaurus(tmp_path: Path) -> None:
    assert load_thesaurus(tmp_path / "absent.txt") is None
    assert load_thesaurus(None) is None
    assert thesaurus_identity(tmp_path / "absent.txt") == "none"
    loaded = load_thesaurus(THESAURUS)
    assert loaded is not None and loaded.identity == thesaurus_identity(THESAURUS) != "none"


def test_only_words_the_articles_lack_get_synonyms_and_only_indexed_ones() -> None:
    thesaurus = load_thesaurus(THESAURUS)
    found = synonym_terms(thesaurus, str.lower, {"entsenden", "waffenruhe", "kiew"})
    assert found["schicken"] == found["senden"] == {"entsenden": 1.0}
    assert found["feuerpause"] == {"waffenruhe": 1.0}
    assert "entsenden" not in found  # indexed itself: matched as itself
    assert "hinnehmen" not in found  # its set holds no indexed word
    assert synonym_terms(None, str.lower, {"entsenden"}) == {}


def test_synonyms_are_keyed_by_the_word_not_its_stem() -> None:
    # Snowball stems "Inder" (Indian) and "indes" (however) alike: keyed by the stem, a
    # question's "Inder" took the synonyms of *indes*
    analyzer = GermanAnalyzer()
    thesaurus = Thesaurus("test", parse_thesaurus("indes;jedoch\n"))
    assert analyzer.term_of("Inder") == analyzer.term_of("indes")
    found = synonym_terms(thesaurus, analyzer.term_of, {analyzer.term_of("jedoch")})
    assert set(found) == {"indes"}


def test_a_word_of_many_sets_shares_them() -> None:
    thesaurus = Thesaurus(
        "test",
        parse_thesaurus("Annahme;Hypothese\nAnnahme;Aufnahme\nAnnahme;Akzeptanz;Billigung\n"),
    )
    vocab = {"hypothese", "aufnahme", "akzeptanz", "billigung"}
    found = synonym_terms(thesaurus, str.lower, vocab, sense_power=1.0)
    assert found["annahme"] == dict.fromkeys(vocab, 0.3333)
    assert synonym_terms(thesaurus, str.lower, vocab, sense_power=0.0)["annahme"] == dict.fromkeys(
        vocab, 1.0
    )
    twice = Thesaurus("test", parse_thesaurus("Annahme;Hypothese\nAnnahme;Hypothese;These\n"))
    assert synonym_terms(twice, str.lower, {"hypothese"}, 1.0)["annahme"] == {"hypothese": 1.0}


def test_a_noun_whose_term_the_articles_never_capitalise_is_a_weaker_synonym() -> None:
    thesaurus = Thesaurus("test", parse_thesaurus("Standpunkt;Seite;Sicht\n"))
    found = synonym_terms(thesaurus, str.lower, {"seite", "sicht"}, 0.0, {"seite", "sicht"}, 0.3)
    assert found["standpunkt"] == {"seite": 0.3, "sicht": 0.3}
    # a member written in small letters is no noun: its term is not weakened
    small = Thesaurus("test", parse_thesaurus("Standpunkt;seit\n"))
    assert synonym_terms(small, str.lower, {"seit"}, 0.0, {"seit"}, 0.3)["standpunkt"] == {
        "seit": 1.0
    }


def test_a_synonym_means_only_a_word_the_articles_write_not_one_it_stems_alike() -> None:
    # *fördern* (to mine: a sense of gewinnen) and the articles' *forderte* (demanded) are
    # one Snowball stem: "Wer hat gewonnen?" found what Selenskyj demanded
    analyzer = GermanAnalyzer()
    thesaurus = Thesaurus("test", parse_thesaurus("fördern;gewinnen;abbauen\n"))
    term = analyzer.term_of("forderte")
    assert term == analyzer.term_of("fördern")
    assert synonym_terms(thesaurus, analyzer.term_of, {term})["gewinnen"] == {term: 1.0}
    written = written_forms({"forderte": term}, lambda word: "fordern")
    assert written == {term: {"forderte", "fordern"}}
    assert synonym_terms(thesaurus, analyzer.term_of, {term}, written=written) == {}
    # the word itself, or its lemma, as the articles write it is the synonym still
    mined = written_forms({"förderte": term}, lambda word: "fördern")
    found = synonym_terms(thesaurus, analyzer.term_of, {term}, written=mined)
    assert found["gewinnen"] == {term: 1.0}


def test_a_set_counts_once_for_a_word_it_spells_twice() -> None:
    thesaurus = Thesaurus(
        "test", parse_thesaurus("ausnutzen;ausnützen;verwerten\nausnutzen;missbrauchen\n")
    )
    found = synonym_terms(thesaurus, str.lower, {"verwerten", "missbrauchen"}, sense_power=1.0)
    assert found["ausnutzen"] == {"verwerten": 0.5, "missbrauchen": 0.5}


def concept_of(engine: Engine, question: str, source: str) -> Concept:
    return next(c for c in engine.builder.build(question).concepts if c.source == source)


def test_a_german_question_reaches_the_articles_word_through_a_synonym(
    ding: DingEntries, seed_articles: list[Article]
) -> None:
    snapshot = build_snapshot(
        seed_articles,
        ding,
        default_glossary(),
        cache_dir=cache_dir(),
        thesaurus_path=THESAURUS,
    )
    question = "Wie viele Staaten wollen Truppen schicken?"
    concept = next(c for c in snapshot.builder.build(question).concepts if c.source == "schicken")
    assert concept.terms == (snapshot.analyzer.term_of("entsenden"),)
    assert concept.weight < 1  # one hop: weaker than the word itself
    answer = Engine(snapshot).answer(question)
    assert answer.answered
    shown = next(u for u in answer.understood_as if u.source == "schicken")
    assert shown.changed and shown.terms == ("entsenden",)  # "schicken → entsenden"
    # A verb's form no article uses reaches the synonyms once lemmatised (as the bot does)
    schickt = "Schickt Deutschland Soldaten?"
    assert concept_of(Engine(snapshot), schickt, "Schickt").terms == ()
    lemmatizing = Engine(snapshot, lemmatize=german_lemmatizer(cache_dir()))
    assert concept_of(lemmatizing, schickt, "Schickt").terms == concept.terms
    # gewinnen's only synonym the articles seem to hold is fördern, but they write
    # *forderte*, of fordern: the word is then not searched for at all
    assert concept_of(lemmatizing, "Wer hat gewonnen?", "gewonnen").terms == ()
    # The synonyms survive the stored form of the lexicon.
    again = Lexicon.from_bytes(snapshot.lexicon.to_bytes())
    assert again.german_synonyms == snapshot.lexicon.german_synonyms != {}
