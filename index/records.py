"""The index's records: what a build holds and what an answer says.

A ``Snapshot`` is one build (its articles, passages, BM25 postings and compiled lexicon),
never mutated once made; ``Scope`` restricts the articles a question searches. An
``Answer`` holds the ``Result`` passages of one question with their verbatim quotes, and
``Understood`` says how each of the question's concepts was searched.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz
from rapidfuzz.process import extract

from index.analysis import Decompounder, GermanAnalyzer
from index.bm25 import BM25Index, BM25Params
from index.concepts import Concept
from index.corpus import SkippedFile
from index.lexicon import Lexicon
from index.query import QueryBuilder
from index.quotes import PassageWords, passage_words
from index.separable import separable_verbs
from index.text import fold

PASSAGE_WORDS_KEPT = 20_000  # passages whose words a snapshot keeps worked out (~40 MB)
SEARCHED_TITLES = 5  # a declined question names the articles it searched up to this many
SHOWN_WORD = 40  # the most of a question's word an "Understood as" line shows
_LONG_WORD = re.compile(rf"\S{{{SHOWN_WORD + 1},}}")


@dataclass(frozen=True, slots=True)
class IndexedArticle:
    """An article as the index holds it (the full original text is kept)."""

    id: str
    title: str
    date: str | None  # ISO date
    source: str | None
    path: str
    caption: str | None
    text: str
    sha256: str
    passage_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class IndexedPassage:
    """A passage by its global id; ``start``/``end`` index into the article text."""

    id: int
    article_id: str
    ordinal: int
    section: str | None
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class BuildInfo:
    """Facts about one index build."""

    build_id: str
    built_at: str
    analyzer: str
    params: dict[str, Any]
    articles: int
    passages: int
    seconds: float
    skipped: tuple[SkippedFile, ...] = ()
    has_dictionary: bool = True
    notes: tuple[str, ...] = ()  # files read with a warning, a line each ("a.md: …")


@dataclass(frozen=True, slots=True)
class Scope:
    """Which articles to search: some ids, and/or a date range (inclusive)."""

    article_ids: frozenset[str] | None = None
    since: dt.date | None = None
    until: dt.date | None = None

    @property
    def dated(self) -> bool:
        return self.since is not None or self.until is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "article_ids": sorted(self.article_ids) if self.article_ids is not None else None,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Scope | None:
        if not data:
            return None
        ids = data.get("article_ids")
        since, until = data.get("since"), data.get("until")
        return cls(
            frozenset(ids) if ids is not None else None,
            dt.date.fromisoformat(since) if since else None,
            dt.date.fromisoformat(until) if until else None,
        )


@dataclass
class Snapshot:
    """Everything needed to answer questions; never mutated after construction."""

    info: BuildInfo
    articles: dict[str, IndexedArticle]
    passages: list[IndexedPassage]
    bm25: BM25Index
    lexicon: Lexicon
    builder: QueryBuilder = field(init=False)
    analyzer: GermanAnalyzer = field(init=False)
    # Each passage's sentences and indexed words, as questions first need them (bounded).
    _words: dict[int, PassageWords] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        vocab = self.bm25.vocabulary
        lex = self.lexicon
        self.analyzer = GermanAnalyzer(
            Decompounder(lex.compound_parts, lex.german_words, lex.english_words), lex.lemmas
        )
        self.builder = QueryBuilder(self.lexicon, self.analyzer, vocab)

    @property
    def params(self) -> BM25Params:
        return self.bm25.params

    def scope_mask(self, scope: Scope | None) -> tuple[npt.NDArray[np.bool_] | None, int]:
        """Passages inside ``scope`` (None: all), and how many undated articles a date
        filter left out."""
        if scope is None or (scope.article_ids is None and not scope.dated):
            return None, 0
        allowed = np.zeros(len(self.passages), dtype=bool)
        articles, undated = self.articles_in(scope)
        for article in articles:
            allowed[list(article.passage_ids)] = True
        return allowed, undated

    def articles_in(self, scope: Scope | None) -> tuple[list[IndexedArticle], int]:
        """The articles inside ``scope`` (None: all), and how many undated articles a date
        filter left out."""
        if scope is None:
            return list(self.articles.values()), 0
        inside: list[IndexedArticle] = []
        undated = 0
        for article in self.articles.values():
            if scope.article_ids is not None and article.id not in scope.article_ids:
                continue
            if scope.dated:
                if article.date is None:
                    undated += 1
                    continue
                day = dt.date.fromisoformat(article.date)
                if (scope.since and day < scope.since) or (scope.until and day > scope.until):
                    continue
            inside.append(article)
        return inside, undated

    def text_of(self, passage: IndexedPassage) -> str:
        return self.articles[passage.article_id].text[passage.start : passage.end]

    def words_of(self, pid: int) -> PassageWords:
        """Passage ``pid``'s sentences and its words with their index terms."""
        words = self._words.get(pid)
        if words is None:
            passage = self.passages[pid]
            text = self.articles[passage.article_id].text
            words = passage_words(text, passage.start, passage.end, self.terms_of, self.split_verbs)
            if len(self._words) >= PASSAGE_WORDS_KEPT:
                self._words.clear()
            self._words[pid] = words
        return words

    def split_verbs(self, text: str, base: int) -> list[tuple[int, int, str]]:
        """The separable verbs split in ``text``: verb and particle offsets, the term."""
        found = separable_verbs(text, self.analyzer.lemma, self.lexicon.german_words, base)
        stem = self.analyzer.stem
        return [(v.verb_start, v.particle_start, stem(v.infinitive)) for v in found]

    def terms_of(self, surface: str) -> tuple[str, ...]:
        """A word's term and its compound parts' terms, as the index saw them."""
        return self.analyzer.surface_terms(surface)

    def display(self, term: str) -> str:
        return self.lexicon.display.get(term, term)

    def understood(self, concept: Concept) -> Understood:
        """How ``concept`` was searched, in the articles' spelling; a split verb as the
        dictionary lists it ("teilnehmen"), not as a noun of its stem ("Teilnehmer").
        A word searched as the one term of a form the articles use ("Truppe", which they
        use, though "Truppen" more often) was searched as asked."""
        shown = [concept.note] if concept.kind == "verb" else map(self.display, concept.terms)
        shown = list(dict.fromkeys(shown))
        # a repaired word names its repair, unless that is what was searched ("macorn →
        # Macron", not "macorn (→ Macron) → Macron")
        repaired = concept.kind in ("typo", "cognate") and concept.terms != (
            self.analyzer.term_of(concept.note),
        )
        source = f"{concept.source} (→ {concept.note})" if repaired else concept.source
        as_asked = (
            concept.kind == "word"
            and len(concept.terms) == 1
            and self.lexicon.surfaces.get(fold(concept.source)) == concept.terms[0]
        )
        return Understood(source, tuple(shown), concept.kind, concept.note, as_asked)

    def matching_articles(self, key: str) -> list[IndexedArticle]:
        """The articles ``key`` names: the one of that id or that title, else those whose
        id starts with it or whose title holds it (a blank key names none)."""
        key = key.strip()
        if not key:
            return []
        if key in self.articles:
            return [self.articles[key]]
        folded = fold(key)
        titled = [a for a in self.articles.values() if fold(a.title) == folded]
        if len(titled) == 1:  # "Nato" is that title, though "Nato-Gipfel" holds it too
            return titled
        return [
            a for a in self.articles.values() if a.id.startswith(key) or folded in fold(a.title)
        ]

    def find_article(self, key: str) -> IndexedArticle | None:
        """The one article ``key`` names (``matching_articles``); None for none or several."""
        found = self.matching_articles(key)
        return found[0] if len(found) == 1 else None

    def articles_meant(
        self, key: str, listed: int, limit: int = 5
    ) -> tuple[list[IndexedArticle], list[IndexedArticle]]:
        """For a ``key`` that names no one article: the articles it matches, and those to
        offer (up to ``listed`` of the matching, else up to ``limit`` near titles)."""
        several = self.matching_articles(key)
        return several, several[:listed] or self.near_articles(key, limit=limit)

    def near_articles(self, key: str, limit: int = 5) -> list[IndexedArticle]:
        """Articles whose titles are near ``key`` (what to offer when nothing matched)."""
        titles = {a.id: a.title for a in self.articles.values()}
        near = extract(key, titles, scorer=fuzz.WRatio, limit=limit, score_cutoff=50)
        return [self.articles[article_id] for _, _, article_id in near]

    def articles_newest_first(self) -> list[IndexedArticle]:
        return sorted(self.articles.values(), key=lambda a: (a.date or "", a.id), reverse=True)


@dataclass(frozen=True, slots=True)
class Understood:
    """How one concept of the question was understood, for display."""

    source: str
    terms: tuple[str, ...]  # German words as they appear in the articles
    kind: str
    note: str = ""
    as_asked: bool = False  # the one term of a form the articles use as it was asked

    @property
    def changed(self) -> bool:
        """Whether it was searched as something other than the word asked: another form,
        a translation, a part, a repaired spelling, or nothing at all. A form the articles
        use is searched as asked, whichever of its forms they use most."""
        return not self.as_asked and [fold(t) for t in self.terms] != [fold(self.source)]

    def __str__(self) -> str:
        return self.line("en")

    def line(self, language: str) -> str:
        missing = "(nicht in den Artikeln)" if language == "de" else "(not in the articles)"
        source = _LONG_WORD.sub(lambda m: m[0][:SHOWN_WORD] + "…", self.source)
        return f"{source} → {', '.join(self.terms) if self.terms else missing}"


@dataclass(frozen=True, slots=True)
class Result:
    """One answering passage with its verbatim quote and citation."""

    rank: int
    passage_id: int
    article_id: str
    title: str
    date: str | None
    section: str | None
    paragraph: int
    quote: str
    quote_start: int
    quote_end: int
    passage: str
    passage_start: int
    passage_end: int
    highlights: tuple[tuple[int, int], ...]
    score: float
    matched: tuple[str, ...]
    by_meaning: bool = False  # none of the question's words: the encoder alone brought it


@dataclass(frozen=True, slots=True)
class Answer:
    """The engine's reply to one question."""

    question: str
    language: str
    answered: bool
    results: tuple[Result, ...]
    understood_as: tuple[Understood, ...]
    coverage: float
    reason: str  # "answered", "not_covered", "no_terms", "empty_index", "out_of_scope"
    truncated: bool
    elapsed_ms: float
    total_hits: int  # the passages to page through: by the question's words or meaning
    offset: int = 0
    undated_excluded: int = 0  # articles without a date left out by a date filter
    # "hybrid" (BM25 + encoder), "partial" (some passages still lack vectors: they are
    # ranked lexically), "lexical" (no encoder, or none of its vectors yet), "dense"
    mode: str = "lexical"
    # what the abstention decided on (coverage, cosines, margin …) and P(answerable)
    signals: dict[str, float] = field(default_factory=dict)
    # answered without abstaining where the engine would decline (--no-abstain says so)
    doubtful: bool = False
    by_meaning_hits: int = 0  # of total_hits, those holding none of the question's words
    # declined: how many articles were searched (those the filters left in), and the
    # titles of the first SEARCHED_TITLES (a reply names them when they are all)
    searched: tuple[str, ...] = ()
    searched_articles: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``python -m bot ask --json`` and ``search --json``."""
        return {
            "question": self.question,
            "language": self.language,
            "answered": self.answered,
            "doubtful": self.doubtful,
            "reason": self.reason,
            "coverage": round(self.coverage, 4),
            "truncated": self.truncated,
            "total_hits": self.total_hits,
            "by_meaning_hits": self.by_meaning_hits,
            "offset": self.offset,
            "undated_excluded": self.undated_excluded,
            "searched": list(self.searched),
            "searched_articles": self.searched_articles,
            "elapsed_ms": round(self.elapsed_ms, 3),
            "mode": self.mode,
            "signals": {k: round(v, 4) for k, v in self.signals.items()},
            "results": [
                {
                    "rank": r.rank,
                    "passage_id": r.passage_id,
                    "article_id": r.article_id,
                    "title": r.title,
                    "date": r.date,
                    "section": r.section,
                    "paragraph": r.paragraph,
                    "quote": r.quote,
                    "quote_start": r.quote_start,
                    "quote_end": r.quote_end,
                    "passage": r.passage,
                    "highlights": [list(h) for h in r.highlights],
                    "matched": list(r.matched),
                    "by_meaning": r.by_meaning,
                    "score": round(r.score, 6),
                }
                for r in self.results
            ],
            # as the reply's line shows it: only what was searched otherwise than asked
            "understood_as": [str(u) for u in self.understood_as if u.changed],
        }


def understood_line(items: Iterable[Understood], language: str = "en", every: bool = False) -> str:
    """``US → USA; commit to → verpflichten``: only what was searched differently from
    how it was asked (a translation, a form, a part, a name's spelling, or nothing). A
    word searched as it was written ("Macron" in an English question) says nothing, in
    either language, unless ``every`` (the diagnostics: /gaps, ``eval --verbose``)."""
    return "; ".join(u.line(language) for u in items if every or u.changed)
