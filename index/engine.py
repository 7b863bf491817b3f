"""The answer engine: build an index snapshot, answer questions with verbatim quotes.

``build_snapshot`` turns parsed articles into an immutable ``Snapshot`` (passages, BM25
postings, the lexicon compiled against the vocabulary). ``Engine`` answers from the
snapshot it holds and swaps in a new one atomically after a reindex, so a failed reindex
leaves the old snapshot serving.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import threading
import time
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.analysis import ANALYZER_VERSION, Decompounder, GermanAnalyzer, german_lemmas
from index.bm25 import BM25Index, BM25Params
from index.config import DEFAULT_CONFIG, EngineConfig
from index.corpus import Article, SkippedFile
from index.dense import DenseIndex, DenseView, dense_top, logistic, similarities
from index.encoder import Encoder
from index.gloss import Gloss, SenseIndex, gloss
from index.lexicon import DingEntries, GlossaryEntry, Lexicon, compile_lexicon
from index.lexicon_cache import (
    cached_lexicon,
    lexicon_inputs,
    phrase_words,
    reporting_calls,
    restricted,
    term_function,
)
from index.query import MAX_QUESTION_CHARS, Concept, QueryBuilder
from index.quotes import ConceptTerms, QuoteSpan, best_quote, passage_highlights
from index.text import WORD_RE, fold

DEFAULT_PARAMS = BM25Params(variant="okapi", k1=DEFAULT_CONFIG.k1, b=DEFAULT_CONFIG.b)


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
            allowed[list(article.passage_ids)] = True
        return allowed, undated

    def text_of(self, passage: IndexedPassage) -> str:
        return self.articles[passage.article_id].text[passage.start : passage.end]

    def terms_of(self, surface: str) -> tuple[str, ...]:
        """A word's term and its compound parts' terms, as the index saw them."""
        return self.analyzer.surface_terms(surface)

    def display(self, term: str) -> str:
        return self.lexicon.display.get(term, term)

    def find_article(self, key: str) -> IndexedArticle | None:
        """An article by id, id prefix, or (part of) its title."""
        if key in self.articles:
            return self.articles[key]
        folded = fold(key.strip())
        for article in self.articles.values():
            if article.id.startswith(key.strip()) or folded in fold(article.title):
                return article
        return None


# --- building -----------------------------------------------------------------------


def _index_decompounder(ding: DingEntries | None, articles: Sequence[Article]) -> Decompounder:
    """Known words for splitting: Ding's nouns plus the capitalised words of the corpus
    that Ding lacks (names, new words); the capitals Ding has as another word class
    ("Normalerweise" starting a sentence) are no parts."""
    german = ding.german_words if ding else set()
    known = set(ding.german_nouns) if ding else set()
    for article in articles:
        known.update(
            w for m in _CAPITALISED_RE.findall(article.text) if (w := fold(m)) not in german
        )
    if ding is None:
        return Decompounder(known)
    return Decompounder(known, ding.german_words, ding.english_words)


def stored_lemmas(
    surfaces: Iterable[str],
    ding: DingEntries | None,
    analyzer: GermanAnalyzer,
    vocabulary: Collection[str],
) -> dict[str, str]:
    """The lemmas a loaded index needs to analyse as the build did: of every article word
    whose lemma changes its term, and of every dictionary word whose lemma's term occurs in
    the articles (a question's "zugesagt" meets the articles' "zusagen")."""
    out: dict[str, str] = {}
    for word, lemma in dictionary_lemmas(ding).items():
        if analyzer.stem(lemma) in vocabulary and analyzer.stem(word) != analyzer.stem(lemma):
            out[word] = lemma
    for surface in surfaces:
        folded = fold(surface)
        lemma = analyzer.lemma(surface)
        # The article's own word as the build analysed it, also where that is no change
        # but the dictionary's folded entry would change it.
        if lemma != folded or folded in out:
            out[surface] = lemma
    return out


def dictionary_lemmas(ding: DingEntries | None) -> dict[str, str]:
    """``ding.lemmas``; computed and kept on ``ding`` when its store did not hold them."""
    if ding is None:
        return {}
    if ding.lemmas is None:
        ding.lemmas = german_lemmas(ding.german_words)
    return ding.lemmas


def proper_nouns(surfaces: Counter[str], lexicon: Lexicon) -> tuple[str, ...]:
    """The articles' capitalised words that no dictionary lists as a common German word
    (names; German words Ding knows as names, such as *Spanien*), most frequent first."""
    out = [
        s
        for s, _ in surfaces.most_common()
        if len(s) >= 3
        and s[:1].isupper()
        and s.isalpha()
        and ((f := fold(s)) not in lexicon.german_words or f in lexicon.german_names)
    ]
    return tuple(out)


_CAPITALISED_RE = re.compile(r"\b[^\W\d_a-zß][^\W\d_]{2,}", re.UNICODE)


@dataclass
class Analysed:
    """Articles turned into index documents (one term list per passage)."""

    articles: dict[str, IndexedArticle]
    passages: list[IndexedPassage]
    documents: list[list[str]]
    surface_counts: Counter[str]  # every word form as written, for display and typo repair
    term_of_surface: dict[str, str]
    decompounder: Decompounder


def analyse_articles(
    articles: Sequence[Article],
    ding: DingEntries | None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Analysed:
    """Analyse every passage (its section heading included as context)."""
    if progress:
        progress("analyse", 0, len(articles))
    decompounder = _index_decompounder(ding, articles)
    analyzer = GermanAnalyzer(decompounder)
    index_terms = analyzer.index_terms
    indexed: dict[str, IndexedArticle] = {}
    passages: list[IndexedPassage] = []
    documents: list[list[str]] = []
    surfaces: Counter[str] = Counter()
    step = max(len(articles) // 100, 1)
    for n, article in enumerate(articles, 1):
        ids: list[int] = []
        for p in article.passages:
            words = WORD_RE.findall(p.text)
            surfaces.update(words)
            doc = index_terms(WORD_RE.findall(p.section)) if p.section else []
            doc += index_terms(words)
            documents.append(doc)
            pid = len(passages)
            passages.append(IndexedPassage(pid, article.id, p.ordinal, p.section, p.start, p.end))
            ids.append(pid)
        indexed[article.id] = IndexedArticle(
            article.id,
            article.title,
            article.date.isoformat() if article.date else None,
            article.source,
            article.path,
            article.caption,
            article.text,
            article.sha256,
            tuple(ids),
        )
        if progress and (n % step == 0 or n == len(articles)):
            progress("analyse", n, len(articles))
    term_of_surface = {w: t for w in surfaces if (t := analyzer.term_of(w)) is not None}
    return Analysed(indexed, passages, documents, surfaces, term_of_surface, decompounder)


def build_snapshot(
    articles: Sequence[Article],
    ding: DingEntries | None,
    glossary: Sequence[GlossaryEntry],
    params: BM25Params = DEFAULT_PARAMS,
    skipped: Sequence[SkippedFile] = (),
    progress: Callable[[str, int, int], None] | None = None,
    cache_dir: Path | None = None,
) -> Snapshot:
    """Analyse ``articles`` into a new snapshot (CPU-bound; run it off the event loop).

    With ``cache_dir``, a lexicon compiled earlier from the same inputs is reused
    (``index.lexicon_cache``); a dictionary opened by ``open_dictionary`` is only read for
    the entries the vocabulary can meet.
    """
    began = time.perf_counter()
    analysed = analyse_articles(articles, ding, progress)
    if progress:
        progress("index", 0, 1)
    bm25 = BM25Index.from_documents(analysed.documents, params)
    if progress:
        progress("index", 1, 1)
        progress("lexicon", 0, 1)
    analyzer = GermanAnalyzer()
    vocabulary = bm25.vocabulary

    def compile() -> Lexicon:
        entries = restricted(ding, vocabulary)
        term_of = term_function(ding, analyzer.term_of)
        if progress is not None:  # the bar moves as compiling looks the German words up
            term_of = reporting_calls(
                term_of, phrase_words(entries), lambda d, t: progress("lexicon", d, t)
            )
        return compile_lexicon(
            entries, list(glossary), term_of, vocabulary, DEFAULT_CONFIG.synonym_hop
        )

    lexicon = cached_lexicon(cache_dir, lexicon_inputs(ding, glossary, vocabulary), compile)
    display: dict[str, tuple[int, str]] = {}
    for surface, count in analysed.surface_counts.items():
        term = analysed.term_of_surface.get(surface)
        if term is not None and count > display.get(term, (0, ""))[0]:
            display[term] = (count, surface)
    # Terms seen only inside compounds ("regier" of "Bundesregierung") are shown as the
    # part, capitalised like the noun it came from, never as a stem.
    for surface in analysed.surface_counts:
        if not surface[:1].isupper():
            continue
        for part in analysed.decompounder.split(fold(surface)):
            term = analyzer.stem(part)
            if term not in display:
                display[term] = (0, part.capitalize())
    lexicon.display = {t: s for t, (_, s) in display.items()}
    lexicon.surfaces = {fold(s): t for s, t in analysed.term_of_surface.items() if len(s) >= 3}
    lexicon.names = proper_nouns(analysed.surface_counts, lexicon)
    # Stored with the build, so that a loaded snapshot splits words as the build did.
    words = {w for article in analysed.articles.values() for w in WORD_RE.findall(article.text)}
    # every word of the articles, headings and captions included
    lexicon.lemmas = stored_lemmas(words, ding, analyzer, vocabulary)
    word_stems = {analyzer.stem(fold(w)) for w in words}
    lexicon.compound_parts = analysed.decompounder.kept_parts(
        lambda stem: stem in bm25.vocabulary or stem in word_stems
    )
    info = BuildInfo(
        build_id=uuid.uuid4().hex[:12],
        built_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        analyzer=ANALYZER_VERSION,
        params=asdict(params),
        articles=len(analysed.articles),
        passages=len(analysed.passages),
        seconds=round(time.perf_counter() - began, 3),
        skipped=tuple(skipped),
        has_dictionary=ding is not None,
    )
    if progress:
        progress("lexicon", 1, 1)
    return Snapshot(info, analysed.articles, analysed.passages, bm25, lexicon)


# --- answering ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Understood:
    """How one concept of the question was understood, for display."""

    source: str
    terms: tuple[str, ...]  # German words as they appear in the articles
    kind: str
    note: str = ""

    @property
    def changed(self) -> bool:
        """Whether it was searched as something other than the word asked: another form,
        a translation, a part, a repaired spelling, or nothing at all."""
        return [fold(t) for t in self.terms] != [fold(self.source)]

    def __str__(self) -> str:
        return self.line("en")

    def line(self, language: str) -> str:
        missing = "(nicht in den Artikeln)" if language == "de" else "(not in the articles)"
        return f"{self.source} → {', '.join(self.terms) if self.terms else missing}"


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
    total_hits: int
    offset: int = 0
    undated_excluded: int = 0  # articles without a date left out by a date filter
    # "hybrid" (BM25 + encoder), "partial" (some passages still lack vectors: they are
    # ranked lexically), "lexical" (no encoder, or none of its vectors yet), "dense"
    mode: str = "lexical"
    # what the abstention decided on (coverage, cosines, margin …) and P(answerable)
    signals: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``python -m bot ask --json``."""
        return {
            "question": self.question,
            "language": self.language,
            "answered": self.answered,
            "reason": self.reason,
            "coverage": round(self.coverage, 4),
            "truncated": self.truncated,
            "total_hits": self.total_hits,
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
                    "score": round(r.score, 6),
                }
                for r in self.results
            ],
            "understood_as": [str(u) for u in self.understood_as],
        }


@dataclass(frozen=True, slots=True)
class _Candidate:
    pid: int
    bm25: float
    final: float
    quote: QuoteSpan | None  # None: not chosen yet (a candidate only the encoder brought)


RANKINGS = ("hybrid", "lexical", "dense")
QUERY_CACHE_SIZE = 512


class Engine:
    """Answers questions from the snapshot it currently holds."""

    def __init__(
        self,
        snapshot: Snapshot,
        config: EngineConfig = DEFAULT_CONFIG,
        max_question_chars: int = MAX_QUESTION_CHARS,
        encoder: Encoder | None = None,
    ) -> None:
        self._snapshot = snapshot
        self.encoder = encoder
        self._dense: tuple[Snapshot, DenseIndex] | None = None
        self._query_vectors: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._encoding = threading.Lock()
        self._user_glossary: list[GlossaryEntry] = []
        self.config = config
        snapshot.builder.config = config
        self.max_question_chars = max_question_chars  # longer questions are cut
        self._senses: tuple[Snapshot, SenseIndex] | None = None

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    @property
    def dense(self) -> DenseIndex | None:
        """The vectors of the snapshot being served (None: none attached yet)."""
        pair = self._dense
        return pair[1] if pair is not None and pair[0] is self._snapshot else None

    def attach_dense(self, snapshot: Snapshot, dense: DenseIndex) -> None:
        """Use ``dense`` whenever ``snapshot`` is the one being served."""
        self._dense = (snapshot, dense)

    def semantic_status(self) -> tuple[int, int] | None:
        """(passages with vectors, passages), or None when no encoder is configured."""
        if self.encoder is None:
            return None
        dense = self.dense
        return (dense.passages_done if dense else 0), len(self._snapshot.passages)

    def swap(self, snapshot: Snapshot) -> None:
        """Serve ``snapshot`` from now on (a single reference assignment: atomic)."""
        snapshot.builder.config = self.config
        if self._user_glossary:
            snapshot.builder.set_user_glossary(self._user_glossary)
        self._snapshot = snapshot

    def set_user_glossary(self, entries: Sequence[GlossaryEntry]) -> None:
        """Apply run-time glossary entries (``/synonym``) at once, no reindex needed."""
        self._user_glossary = list(entries)
        self._snapshot.builder.set_user_glossary(self._user_glossary)

    def answer(
        self,
        question: str,
        k: int = 3,
        offset: int = 0,
        abstain: bool = True,
        *,
        context: Sequence[str] = (),
        scope: Scope | None = None,
        ranking: str = "hybrid",
    ) -> Answer:
        """Answer ``question`` with up to ``k`` quotes, starting at result ``offset``.

        With ``abstain`` (the default) the engine declines when the best passage covers
        too little of the question; ``/search`` lists passages without that judgement.
        ``context`` holds earlier questions of the same conversation (oldest first): their
        concepts join the query at a lower weight, so "And Germany?" after "What did the US
        commit to?" looks for Germany's commitment. ``scope`` restricts the articles.
        ``ranking`` "hybrid" (the default) fuses BM25 with the encoder's similarities when
        vectors are there; "lexical" and "dense" rank by one side alone (for ``eval``).
        """
        began = time.perf_counter()
        snap = self._snapshot
        dense = self.dense if ranking != "lexical" and self.encoder is not None else None
        if dense is not None and not dense.passages_done:
            dense = None
        query = snap.builder.build(question, self.max_question_chars)
        carried = self._carried_concepts(query.concepts, context)
        concepts = (*query.concepts, *carried)
        understood = tuple(_understood(c, snap) for c in concepts)
        mask, undated = snap.scope_mask(scope)

        mode = "lexical"
        signals: dict[str, float] = {}

        def reply(
            answered: bool, results: Sequence[Result], coverage: float, reason: str, total: int = 0
        ) -> Answer:
            return Answer(
                query.question,
                query.language,
                answered,
                tuple(results),
                understood,
                coverage,
                reason,
                query.truncated,
                (time.perf_counter() - began) * 1000,
                total,
                offset,
                undated,
                mode,
                signals,
            )

        if not snap.passages:
            return reply(False, [], 0.0, "empty_index")
        if not query.concepts:
            return reply(False, [], 0.0, "no_terms")
        if not query.searchable and dense is None:  # the encoder may still see a paraphrase
            return reply(False, [], 0.0, "not_covered")
        if mask is not None and not mask.any():
            return reply(False, [], 0.0, "out_of_scope")

        hits = [snap.bm25.concept_hits(c.terms, c.weight, c.boosts) for c in concepts]
        own = len(query.concepts)
        scores = snap.bm25.score(hits[:own])
        if carried:
            # Earlier questions of a thread refine the ranking among the passages that
            # answer this one; they never outweigh it (at most context_weight of its score).
            extra = snap.bm25.score(hits[own:]) - sum(snap.bm25.baseline(h) for h in hits[own:])
            mine = scores - sum(snap.bm25.baseline(h) for h in hits[:own])
            scores = scores + np.minimum(extra, self.config.context_weight * np.maximum(mine, 0))
        if mask is not None:
            scores[~mask] = -np.inf
        baseline = sum(snap.bm25.baseline(h) for h in hits[:own])
        depth = max(self.config.rerank_depth, offset + k)
        ranked = [int(i) for i in snap.bm25.top_k(scores, depth) if scores[i] > baseline + 1e-12]
        total = int((scores > baseline + 1e-12).sum())
        if not ranked and dense is None:
            return reply(False, [], 0.0, "not_covered")

        concept_terms = [_term_boosts(c) for c in concepts]
        weights = [
            c.weight * (h.idf if h.doc_ids.size else snap.bm25.unseen_idf())
            for c, h in zip(concepts, hits, strict=True)
        ]

        def candidate(pid: int) -> _Candidate:
            lexical = max(float(scores[pid]) - baseline, 0.0)
            return self._candidate(pid, lexical, concept_terms, weights, query.wants_number)

        candidates = [candidate(pid) for pid in ranked]
        candidates.sort(key=lambda c: -c.final)
        # Only the question itself decides whether the articles cover it: the share of it
        # the best lexical passage holds (before fusion, which may rank a paraphrase first).
        coverage = (
            self._coverage(query.concepts, hits[:own], candidates[0].pid) if candidates else 0.0
        )
        view: DenseView | None = None
        if dense is not None:
            assert self.encoder is not None
            qvec = self._query_vector(query.question)
            mode = "hybrid" if bool(dense.passage_has.all()) else "partial"
            candidates, view, signals = self._fuse(
                candidates, dense, qvec, mask, scores, baseline, ranking
            )
            total = max(total, len(candidates))
            if ranking == "dense":
                mode = "dense"
        if not candidates:
            return reply(False, [], 0.0, "not_covered")
        signals["coverage"] = coverage
        declined = self._declines(query, coverage, signals, view is not None)
        if abstain and declined:
            return reply(False, [], coverage, "not_covered", total)
        # The quotes shown are chosen again with the sentences' cosines (and chosen at all
        # for a candidate only the encoder brought).
        shown = [
            c
            if c.quote is not None and view is None
            else dataclasses.replace(
                c,
                quote=self._quote(
                    c.pid, concept_terms, weights, view.sentences.get(c.pid) if view else None
                ),
            )
            for c in candidates[offset : offset + k]
        ]
        results = [
            self._result(rank, cand, concepts) for rank, cand in enumerate(shown, offset + 1)
        ]
        return reply(True, results, coverage, "answered", total)

    def _query_vector(self, text: str) -> npt.NDArray[np.float32]:
        """The question's vector; the last few hundred are kept (buttons, pages and
        repeated questions encode nothing again)."""
        assert self.encoder is not None
        cache = self._query_vectors
        with self._encoding:  # answers run in worker threads; one encoder call at a time
            vector = cache.get(text)
            if vector is None:
                vector = cache[text] = self.encoder.query(text)
                if len(cache) > QUERY_CACHE_SIZE:
                    cache.popitem(last=False)
            else:
                cache.move_to_end(text)
            return vector

    def _fuse(
        self,
        lexical: list[_Candidate],
        dense: DenseIndex,
        qvec: npt.NDArray[np.float32],
        mask: npt.NDArray[np.bool_] | None,
        scores: npt.NDArray[np.float64],
        baseline: float,
        ranking: str,
    ) -> tuple[list[_Candidate], DenseView, dict[str, float]]:
        """BM25's candidates plus the encoder's top N, ranked by the calibrated fusion:
        lexical score / best lexical score + dense_weight × (blended cosine − best).

        A passage without its vector yet keeps the best cosine's place in the sum (it is
        judged lexically alone, neither pushed down nor up).
        """
        cfg = self.config
        sims = similarities(dense, qvec, mask)
        pool = {c.pid: c for c in lexical}
        for pid in dense_top(sims, cfg.dense_depth):
            if pid not in pool:  # its quote is chosen only if it is shown
                score = max(float(scores[pid]) - baseline, 0.0)
                pool[pid] = _Candidate(pid, score, score, None)
        view = DenseView(sims, {pid: dense.sentence_similarities(pid, qvec) for pid in pool})
        blended = {pid: view.blended(pid, cfg.sentence_mix) for pid in pool}
        known = [b for b in blended.values() if b == b]
        best = max(known) if known else 0.0
        top_lexical = max((c.final for c in lexical), default=0.0) or 1.0

        def fused(c: _Candidate) -> float:
            cosine = blended[c.pid] if blended[c.pid] == blended[c.pid] else best
            if ranking == "dense":
                return cosine
            return c.final / top_lexical + cfg.dense_weight * (cosine - best)

        order = sorted(pool.values(), key=lambda c: -fused(c))
        ranked = [dataclasses.replace(c, final=fused(c)) for c in order]
        margin = ranked[0].final - ranked[1].final if len(ranked) > 1 else 1.0
        signals = {
            "sentence_cosine": view.best_sentence(ranked[0].pid) if ranked else 0.0,
            "contrast": view.contrast(mask),
            "margin": margin,
        }
        return ranked, view, signals

    def _declines(
        self, query: Any, coverage: float, signals: dict[str, float], semantic: bool
    ) -> bool:
        """Whether the articles do not cover the question.

        A question about a name the glossary knows (a country, a person) that the articles
        never mention is declined whatever the similarities. Lexically, the rule is the
        coverage threshold; with the encoder, a logistic model over coverage, absent names,
        the best sentence's cosine, how far the best passage stands out, and the fused
        margin (weights fitted by ``scripts/calibrate.py``, in ``EngineConfig``).
        """
        cfg = self.config
        own = query.concepts
        names = [c for c in own if c.entity]
        signals["names_absent"] = float(bool(names) and all(not c.terms for c in names))
        if any(c.kind == "name" and c.note and not c.terms for c in own):
            return True
        if not semantic:
            return coverage < cfg.min_coverage
        features = (
            coverage,
            signals["names_absent"],
            signals["sentence_cosine"],
            signals["contrast"],
            signals["margin"],
            float(query.language == "en"),
        )
        signals["p_answerable"] = p = logistic(features, cfg.abstain_weights, cfg.abstain_bias)
        return p < cfg.abstain_below

    def suggestions(self, question: str, limit: int = 5) -> list[str]:
        """Near questions to offer when ``question`` is not covered ("did you mean")."""
        snap = self._snapshot
        return snap.builder.suggestions(
            snap.builder.build(question, self.max_question_chars), limit
        )

    def gloss(self, question: str, quote: str) -> Gloss:
        """The dictionary senses of ``quote``'s words, those ``question`` matched first."""
        snap = self._snapshot
        cached = self._senses
        if cached is None or cached[0] is not snap:
            cached = self._senses = (snap, SenseIndex(snap.lexicon))
        query = snap.builder.build(question, self.max_question_chars)
        # A German question matched German words: it asked in no English sense.
        concepts = query.concepts if query.language == "en" else ()
        return gloss(snap.lexicon, snap.analyzer, quote, concepts, cached[1])

    def _carried_concepts(
        self, own: Sequence[Concept], context: Sequence[str]
    ) -> tuple[Concept, ...]:
        """Concepts of earlier questions, weaker the older they are, minus repeats.

        A question that names its own subject ("And Germany?") replaces the earlier
        subject: then the earlier questions' names are not carried, only what was asked.
        """
        seen = {c.terms for c in own if c.terms}
        new_subject = any(c.entity for c in own)
        carried: list[Concept] = []
        for age, earlier in enumerate(reversed(context[-self.config.context_turns :])):
            weight = self.config.context_weight / (age + 1)
            for c in self._snapshot.builder.build(earlier).concepts:
                if new_subject and c.entity:
                    continue
                if c.terms and c.terms not in seen:
                    seen.add(c.terms)
                    carried.append(
                        dataclasses.replace(
                            c,
                            weight=c.weight * weight,
                            kind="context",
                            entity=False,
                            note=f"from “{earlier[:60]}”",
                        )
                    )
        return tuple(carried)

    def _candidate(
        self,
        pid: int,
        score: float,
        concept_terms: Sequence[ConceptTerms],
        weights: list[float],
        wants_number: bool,
    ) -> _Candidate:
        """Score a passage by BM25 and by how much of the question its best quote holds.

        Two passages that share the question's words are told apart badly by length
        normalisation alone; the one whose single sentence holds more of the question
        is the better answer, so the quote's share of the question weight scales the score.
        A question asking "how many" prefers a sentence with a number in it.
        """
        quote = self._quote(pid, concept_terms, weights)
        share = quote.core_value / (sum(weights) or 1.0)
        if wants_number and quote.has_number:
            share += self.config.number_bonus
        return _Candidate(pid, score, score * (1 + self.config.sentence_boost * share), quote)

    def _quote(
        self,
        pid: int,
        concept_terms: Sequence[ConceptTerms],
        weights: Sequence[float],
        similarity: Sequence[float] | None = None,
    ) -> QuoteSpan:
        """Passage ``pid``'s best quote; with ``similarity`` (each sentence's cosine to the
        question) the encoder has a say in which sentences it is."""
        snap = self._snapshot
        passage = snap.passages[pid]
        cfg = self.config
        return best_quote(
            snap.articles[passage.article_id].text,
            passage.start,
            passage.end,
            snap.terms_of,
            concept_terms,
            weights,
            cfg.short_sentence,
            similarity,
            cfg.quote_similarity,
            cfg.neighbour_gap,
        )

    def _coverage(self, concepts: Sequence[Concept], hits: Sequence[Any], top: int) -> float:
        """Share of the question's idf weight that the top passage matches.

        A concept that matches nothing in the articles counts with the idf of an unseen
        term, scaled: an unmatched *name* counts double, as a question about a name the
        articles never mention is almost surely not covered; an unmatched ordinary word
        counts half, as it is often just a gap in the dictionary.
        """
        bm25 = self._snapshot.bm25
        total = matched = 0.0
        for concept, h in zip(concepts, hits, strict=True):
            if h.doc_ids.size:
                weight = concept.weight * max(h.idf, 1e-9)
                total += weight
                if top in h.doc_ids:
                    matched += weight
            else:
                cfg = self.config
                if concept.entity:
                    factor = cfg.entity_miss_factor
                elif concept.known:
                    factor = cfg.known_miss_factor
                else:
                    factor = cfg.word_miss_factor
                total += concept.weight * bm25.unseen_idf() * factor
        return matched / total if total else 0.0

    def _result(self, rank: int, cand: _Candidate, concepts: Sequence[Concept]) -> Result:
        snap = self._snapshot
        passage = snap.passages[cand.pid]
        article = snap.articles[passage.article_id]
        quote = cand.quote
        assert quote is not None  # chosen for every shown candidate
        return Result(
            rank=rank,
            passage_id=cand.pid,
            article_id=article.id,
            title=article.title,
            date=article.date,
            section=passage.section,
            paragraph=passage.ordinal,
            quote=article.text[quote.start : quote.end],
            quote_start=quote.start,
            quote_end=quote.end,
            passage=article.text[passage.start : passage.end],
            passage_start=passage.start,
            passage_end=passage.end,
            highlights=quote.highlights,
            score=cand.final,
            matched=tuple(concepts[i].source for i in sorted(quote.matched)),
        )

    def passage_view(
        self, article_id: str, ordinal: int, question: str | None = None
    ) -> tuple[IndexedArticle, IndexedPassage, tuple[tuple[int, int], ...]]:
        """One paragraph of an article, with the question's words marked when given."""
        snap = self._snapshot
        article = snap.articles[article_id]
        for pid in article.passage_ids:
            passage = snap.passages[pid]
            if passage.ordinal == ordinal:
                marks: tuple[tuple[int, int], ...] = ()
                if question:
                    query = snap.builder.build(question)
                    marks = passage_highlights(
                        article.text,
                        passage.start,
                        passage.end,
                        snap.terms_of,
                        [_term_boosts(c) for c in query.concepts],
                    )
                return article, passage, marks
        raise KeyError(f"{article_id} has no paragraph {ordinal}")


def _term_boosts(concept: Concept) -> dict[str, float]:
    boosts = concept.boosts or (1.0,) * len(concept.terms)
    return dict(zip(concept.terms, boosts, strict=True))


def _understood(concept: Concept, snap: Snapshot) -> Understood:
    terms = tuple(dict.fromkeys(snap.display(t) for t in concept.terms))
    source = concept.source if concept.kind != "typo" else f"{concept.source} (→ {concept.note})"
    return Understood(source, terms, concept.kind, concept.note)


def understood_line(items: Iterable[Understood], language: str = "en") -> str:
    """``US → USA; commit to → verpflichten``. A German question echoes only what was
    searched differently from how it was asked (a form, a part, a name's spelling)."""
    shown = [u for u in items if u.changed] if language == "de" else list(items)
    return "; ".join(u.line(language) for u in shown)
