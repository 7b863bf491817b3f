"""The answer engine: answer questions from an index snapshot with verbatim quotes.

``Engine`` answers from the snapshot it holds (``index.build`` makes one) and swaps in a new
one atomically after a reindex, so a failed reindex leaves the old snapshot serving.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from index.config import DEFAULT_CONFIG, EngineConfig
from index.dense import DenseIndex, DenseView, dense_top, logistic, similarities
from index.encoder import Encoder
from index.gloss import Gloss, SenseIndex, gloss
from index.lexicon import GlossaryEntry
from index.query import MAX_QUESTION_CHARS, Concept
from index.quotes import ConceptTerms, QuoteSpan, best_quote, passage_highlights
from index.records import (
    Answer,
    IndexedArticle,
    IndexedPassage,
    Result,
    Scope,
    Snapshot,
    Understood,
)


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
