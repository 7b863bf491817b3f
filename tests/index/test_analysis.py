from __future__ import annotations

from index.analysis import Decompounder, GermanAnalyzer
from index.ding import DingEntries
from index.text import fold


def analyzer_with(nouns: set[str]) -> GermanAnalyzer:
    return GermanAnalyzer(Decompounder({fold(n) for n in nouns}))


def test_stemming_folding_and_stopwords() -> None:
    analyzer = GermanAnalyzer()
    terms = [t.term for t in analyzer.analyze("Die USA verpflichten sich, der Präsident")]
    assert terms == ["usa", "verpflicht", "prasident"]
    assert analyzer.term_of("Prasident") == analyzer.term_of("Präsident")
    assert analyzer.term_of("Maßnahmen") == analyzer.term_of("Massnahmen")
    assert analyzer.term_of("und") is None


def test_offsets_of_terms() -> None:
    text = "Bei der Luftverteidigung"
    for t in GermanAnalyzer().analyze(text, base=100):
        assert text[t.start - 100 : t.end - 100] == "Luftverteidigung"


def test_compounds_split_into_known_parts() -> None:
    analyzer = analyzer_with(
        {
            "Sicherheit",
            "Garantie",
            "Luft",
            "Verteidigung",
            "Frieden",
            "Truppe",
            "Strecke",
            "Rakete",
            "Pflicht",
        }
    )
    split = analyzer.decompounder.split  # type: ignore[union-attr]
    assert split("sicherheitsgarantien") == ("sicherheit", "garantie")  # known words
    assert split("luftverteidigung") == ("luft", "verteidigung")
    assert [analyzer.stem(p) for p in split("friedenstruppe")] == ["fried", "trupp"]
    assert split("verpflichten") == ()  # "ver" is a prefix, not a word
    assert split("truppe") == ()  # too short to split


def test_compound_parts_are_indexed_beside_the_word() -> None:
    analyzer = analyzer_with({"Luft", "Verteidigung"})
    terms = analyzer.analyze("Luftverteidigung")
    stem = analyzer.stem
    assert [(t.term, t.part) for t in terms] == [
        (stem("luftverteidigung"), False),
        ("luft", True),
        (stem("verteidigung"), True),
    ]


def test_seed_compounds_with_the_real_dictionary(ding: DingEntries) -> None:
    analyzer = GermanAnalyzer()
    decompounder = Decompounder(ding.german_nouns, ding.german_words, ding.english_words)

    def stems(word: str) -> tuple[str, ...]:
        return tuple(analyzer.stem(p) for p in decompounder.split(word))

    assert stems("sicherheitsgarantien") == (analyzer.stem("sicherheit"), "garanti")
    assert stems("luftverteidigung") == ("luft", analyzer.stem("verteidigung"))
    assert stems("friedenstruppe") == (analyzer.stem("frieden"), "trupp")
    assert stems("rustungsunternehmen")[-1] == analyzer.stem("unternehmen")
    # simple words, derivational endings and English words stay whole
    for word in ("regierung", "unterstutzung", "entsendung", "wirtschaft", "greenland"):
        assert decompounder.split(word) == (), word
