from __future__ import annotations

import pytest

from index.analysis import GermanAnalyzer
from index.build import analyse_articles, never_nouns, part_as_written
from index.corpus import parse_article
from index.ding import DingEntries, english_key, english_lemma_keys, parse_ding
from index.lexicon import (
    Lexicon,
    compile_lexicon,
    default_glossary,
    parse_glossary,
    variant_matcher,
)
from tests.conftest import DATA


@pytest.fixture(scope="module")
def sample() -> DingEntries:
    return parse_ding((DATA / "ding-sample.txt").read_text(encoding="utf-8").splitlines())


def german(entries: DingEntries, *words: str) -> set[str]:
    return {" ".join(p) for p in entries.translations.get(english_key(words), {})}


def test_annotations_are_stripped(sample: DingEntries) -> None:
    assert german(sample, "air", "defence") == {
        "Luftverteidigung",
        "Luftabwehr",
        "Flugabwehr",
        "Fliegerabwehr",
    }
    assert german(sample, "air", "defense") == german(sample, "air", "defence")
    assert german(sample, "envoy") >= {"Gesandter"}
    assert german(sample, "envoys") >= {"Gesandten"}


def test_phrase_entry_links_commit_to_verpflichten(sample: DingEntries) -> None:
    assert "gegenüber verpflichten" in german(sample, "commit", "to")
    assert "verpflichten" in german(sample, "commit", "to")  # from "commit yourself to do sth."


def test_inflected_forms_meet_through_lemmas(sample: DingEntries) -> None:
    promised = german(sample, "promised")
    assert "versprochen" in promised and "versprach" in promised
    assert "versprechen" in german(sample, "promise")
    # German forms meet on their lemma's term, so "promise" and "promised" find the same.
    analyzer = GermanAnalyzer()
    vocab = {analyzer.term_of("versprochen"), analyzer.term_of("Truppen")}
    assert analyzer.term_of("versprochen") == analyzer.term_of("versprechen")
    lex = compile_lexicon(sample, [], analyzer.term_of, {t for t in vocab if t})
    assert set(lex.translations[english_key(["promise"])]) == set(
        lex.translations[english_key(["promised"])]
    )


def test_keys_are_words_not_stems() -> None:
    assert english_key(["positive"]) != english_key(["position"])
    assert english_key(["election"]) != english_key(["elective"])
    assert english_lemma_keys(["elections"]) == ["election"]
    assert english_lemma_keys(["committed", "to"]) == ["commit to"]
    assert "commit" in english_lemma_keys(["committed"])


def test_word_classes_are_kept(sample: DingEntries) -> None:
    assert sample.classes[("versprechen",)] == "v"
    assert sample.classes[("Truppe",)] == "n"
    analyzer = GermanAnalyzer()
    lex = compile_lexicon(sample, [], analyzer.term_of, {"versprech", "trupp", "zusag"})
    assert lex.classes[english_key(["promise"])]["versprech"] == "v"


def test_multi_word_translations_are_phrases_not_words(sample: DingEntries) -> None:
    analyzer = GermanAnalyzer()
    vocab = {t for w in ("Verbrechen", "begehen") if (t := analyzer.term_of(w))}
    lex = compile_lexicon(sample, [], analyzer.term_of, vocab)
    # "Verbrechen begehen" is one phrase: its words alone are no translation of it.
    assert english_key(["commit", "a", "crime"]) not in lex.translations
    assert "verbrech" not in lex.translations.get(english_key(["commit"]), {})


def test_example_sentences_are_not_translations(sample: DingEntries) -> None:
    assert not any("Oberbefehlshaber" in p for p in german(sample, "troops"))


def test_compile_keeps_only_corpus_terms_with_boosts(sample: DingEntries) -> None:
    analyzer = GermanAnalyzer()
    vocab = {"verpflicht", "zusag", "trupp"}
    lex = compile_lexicon(sample, [], analyzer.term_of, vocab)
    assert lex.translations[english_key(["commit", "to"])]["verpflicht"] == 1.0
    assert 0 < lex.translations[english_key(["commit", "to"])]["zusag"] <= 1.0
    assert english_key(["air", "defence"]) not in lex.translations
    assert lex.translations[english_key(["troops"])] == {"trupp": 1.0}
    assert "troops" in lex.english_words and "truppen" in lex.german_words
    again = Lexicon.from_bytes(lex.to_bytes())
    assert again.translations == lex.translations and again.english_words == lex.english_words


def test_glossary_format_and_errors() -> None:
    entries = parse_glossary("# c\nUS, America = USA, amerikanisch\n\nKremlin = Kreml\n")
    assert entries[0].variants == ("US", "America") and entries[1].terms == ("Kreml",)
    with pytest.raises(ValueError, match="glossary:1"):
        parse_glossary("no equals sign here")
    assert any("Selenskyj" in e.terms for e in default_glossary())


def test_short_capital_variants_match_case_exactly() -> None:
    assert variant_matcher("US") == (("US",), True)
    assert variant_matcher("Zelensky") == (("zelensky",), False)


def test_abbreviations_between_slashes_do_not_split_a_sense() -> None:
    entries = parse_ding(
        [
            "Regierung {f} [pol.] | Regierungen {pl} :: government /Gov.; Govt./; "
            "administration [Am.] | governments; administrations",
            "Spanien {n} /ES/ (Kfz: /E/) [geogr.] | Südspanien {n} :: Spain | southern Spain",
        ]
    )
    assert ("Regierung",) in entries.translations["government"]
    assert ("Spanien",) in entries.translations["spain"]
    assert "spanien" in entries.german_names


def test_placeholders_are_dropped_also_when_several_share_a_word() -> None:
    entries = parse_ding(
        [
            "auf jdn./etw. angewiesen sein; von jdm. abhängen {vi} :: to be dependent on "
            "sb./sth.; to depend on sb./sth.",
            "sich auf jdn. stützen {vr} :: to lean on sb.; to depend on sb.",
            "jds. Abgang {m} :: sb.’s leaving; sb.’s exit (from sth.)",
            "sich an etw. erinnern {vr} :: to remember sth./ doing sth.",
        ]
    )
    assert german(entries, "remember", "doing") == {"an erinnern"}  # "sth./" joined a word
    assert german(entries, "leaving") == {"Abgang"}  # "sb.’s", typographic apostrophe
    # "sb./sth." is no word of the key: "depend on" means both entries
    assert german(entries, "depend", "on") == {"auf angewiesen sein", "von abhängen", "auf stützen"}
    assert german(entries, "be", "dependent", "on") == {"auf angewiesen sein", "von abhängen"}
    assert not any("sth" in key.split() for key in entries.translations)


def test_synonym_hops_are_weaker_and_only_one_deep() -> None:
    entries = parse_ding(
        [
            "Feuerpause {f}; Waffenruhe {f} :: cease-fire; ceasefire; truce",
            "Waffenstillstand {m} :: armistice; truce",
        ]
    )
    analyzer = GermanAnalyzer()
    vocab = {analyzer.term_of("Waffenstillstand") or ""}
    lex = compile_lexicon(entries, [], analyzer.term_of, vocab, synonym_hop=0.5)
    assert lex.translations["truce"] == {"waffenstillstand": 1.0}
    assert lex.translations["ceasefire"] == {"waffenstillstand": 0.5}
    assert "ceasefire" in lex.hop_keys and "truce" not in lex.hop_keys
    assert "armistice" not in lex.hop_keys  # it has a direct translation


def test_a_compound_s_part_is_shown_as_the_compound_writes_it() -> None:
    assert part_as_written("Kommissionspräsidentin", "prasidentin") == "Präsidentin"
    assert part_as_written("Bundesregierung", "regierung") == "Regierung"
    assert part_as_written("Straßenbahnhaltestelle", "haltestelle") == "Haltestelle"
    assert part_as_written("Großmächte", "machte") == "Mächte"  # an ß before it
    assert part_as_written("Großmächte", "gross") == "Groß"
    assert part_as_written("Wehrdienst", "dienen") == "Dienen"  # a base the surface lacks


def test_a_noun_sense_is_weaker_where_the_articles_never_capitalise_its_term() -> None:
    entries = parse_ding(
        [
            "Seite {f} | Seiten {pl} :: side | sides",
            "Partei {f}; Seite {f} :: party; side",
            "seit; seitdem :: since",
        ]
    )
    analyzer = GermanAnalyzer()
    seit = analyzer.term_of("seit") or ""
    # the articles write "seit" (a preposition) and never "Seite"; "Seit" opens a sentence
    surfaces = {"seit": seit, "Seit": seit, "Partei": "partei", "seitdem": "seitd"}
    nounless = never_nouns(surfaces, {"Partei"})
    assert nounless == {seit, "seitd"}
    assert never_nouns(surfaces, {"Partei", "Seit"}) == {"seitd"}  # capitalised inside one
    vocab = {seit, "partei"}
    plain = compile_lexicon(entries, [], analyzer.term_of, vocab)
    weak = compile_lexicon(
        entries, [], analyzer.term_of, vocab, never_nouns=nounless, class_mismatch=0.3
    )
    assert plain.translations["side"][seit] == 1.0
    assert weak.translations["side"][seit] == pytest.approx(0.3)
    assert weak.translations["party"] == {"partei": 1.0, seit: pytest.approx(0.3)}
    assert weak.translations["since"] == plain.translations["since"]  # not a noun sense


def test_only_a_capital_inside_a_sentence_tells_a_noun() -> None:
    text = "Seit Jahren gilt das, sagte sie. Sie bleibt seit dem Treffen in Paris. Seite 2 fehlt.\n"
    analysed = analyse_articles([parse_article("a", text)], None)
    assert {"Jahren", "Treffen", "Paris"} <= analysed.inside_capitals
    assert not {"Seit", "Sie", "Seite"} & analysed.inside_capitals  # each opens a sentence
    seit = GermanAnalyzer().term_of("seit")
    assert seit in never_nouns(analysed.term_of_surface, analysed.inside_capitals)


def test_a_heading_s_words_are_the_article_s_once_per_heading() -> None:
    text = (
        "Titel\n\nDer Text beginnt hier.\n\n## Deutschlands Beitrag für Kiew\n\n"
        "Berlin zögert noch.\n\nDie Regierung wartet ab.\n"
    )
    analysed = analyse_articles([parse_article("a", text)], None)
    # shown as the articles write it (before: the stem), counted once though two
    # paragraphs stand under it, so a heading does not outvote the text's own spellings
    assert analysed.surface_counts["Deutschlands"] == 1
    assert analysed.term_of_surface["Deutschlands"] == GermanAnalyzer().term_of("Deutschland")
    assert "Kiew" in analysed.inside_capitals and "Deutschlands" not in analysed.inside_capitals
