"""The compound splitter with the real Ding dictionary: a word list, and one splitter for
index, quote and query time, before and after a save/load round trip."""

from __future__ import annotations

from pathlib import Path

from index.analysis import Decompounder, GermanAnalyzer, part_stems
from index.build import analyse_articles
from index.corpus import Article
from index.ding import DingEntries
from index.lexicon import Lexicon
from index.records import Snapshot
from index.text import WORD_RE, fold

WORDS = Path(__file__).parent.parent / "data" / "decompound.tsv"


def word_list() -> list[tuple[str, tuple[str, ...]]]:
    """(word, expected parts) rows; an empty tuple means the word must not be split."""
    rows = []
    for line in WORDS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        word, _, parts = line.partition("\t")
        rows.append((word, tuple(parts.split("+")) if parts else ()))
    return rows


def test_word_list_splits_as_expected(ding: DingEntries) -> None:
    splitter = Decompounder(ding.german_nouns, ding.german_words, ding.english_words)
    stem = GermanAnalyzer().stem
    rows = word_list()
    assert len(rows) >= 200
    wrong = []
    for word, expected in rows:
        got = splitter.split(fold(word))
        # Compared by stems: "Garantie" and "Garantien" are the same index term.
        if tuple(stem(p) for p in got) != tuple(stem(fold(p)) for p in expected):
            wrong.append(
                f"{word}: expected {'+'.join(expected) or '-'}, got {'+'.join(got) or '-'}"
            )
    assert not wrong, f"{len(wrong)} of {len(rows)} rows:\n" + "\n".join(wrong)


def test_articles_split_alike_at_index_and_quote_time(
    ding: DingEntries, seed_articles: list[Article], seed_snapshot: Snapshot
) -> None:
    analysed = analyse_articles(seed_articles, ding)
    words = {w for article in seed_articles for w in WORD_RE.findall(article.text)}
    build = GermanAnalyzer(analysed.decompounder)
    differ = [w for w in words if build.surface_terms(w) != seed_snapshot.terms_of(w)]
    assert not differ
    # The index's documents are exactly the quote-time analysis of each passage: its
    # words' terms, then those of the separable verbs it splits ("fand … statt").
    for passage, document in zip(analysed.passages, analysed.documents, strict=True):
        heading = WORD_RE.findall(passage.section) if passage.section else []
        text = seed_snapshot.text_of(passage)
        verbs = [term for _, _, term in seed_snapshot.split_verbs(text, 0)]
        words = seed_snapshot.analyzer.index_terms([*heading, *WORD_RE.findall(text)])
        assert [*words, *verbs] == document


def test_the_stored_parts_split_as_the_build_did(
    seed_articles: list[Article], seed_snapshot: Snapshot
) -> None:
    loaded = Lexicon.from_bytes(seed_snapshot.lexicon.to_bytes())
    assert loaded.compound_parts == seed_snapshot.lexicon.compound_parts
    splitter = Decompounder(loaded.compound_parts, loaded.german_words, loaded.english_words)
    words = {fold(w) for article in seed_articles for w in WORD_RE.findall(article.text)}
    assert all(splitter.split(w) == seed_snapshot.analyzer.decompounder.split(w) for w in words)  # type: ignore[union-attr]
    assert seed_snapshot.analyzer.decompounder.split("sicherheitsgarantien")  # type: ignore[union-attr]


def test_questions_use_the_index_splitter(seed_snapshot: Snapshot) -> None:
    assert seed_snapshot.builder._query_splitter is seed_snapshot.analyzer.decompounder


def test_stems_made_earlier_split_as_a_fresh_decompounder_does(ding: DingEntries) -> None:
    """The dictionary store keeps its nouns' ``part_stems`` so that a build need not stem
    them again; a decompounder given them is the same as one that made them."""
    nouns = set(ding.german_nouns)
    extra = {"selenskyj", "koalitionsgipfel", "ab", "ungs"}  # a name, a compound, unusable
    fresh = Decompounder(nouns | extra, ding.german_words, ding.english_words)
    given = Decompounder(
        nouns | extra, ding.german_words, ding.english_words, stems=part_stems(nouns)
    )
    assert given.parts == fresh.parts and "selenskyj" in given.parts and "ab" not in given.parts
    for word, _ in word_list():
        assert given.split(fold(word)) == fresh.split(fold(word)), word
