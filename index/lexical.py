"""The lexical stage of an answer, and the results it shows: every passage's BM25 score,
the best passages ranked again by how much of the question their best quote holds, and
each shown candidate as a cited ``Result`` with its verbatim quote.

``index.engine`` runs these for each question; ``index.ranking`` fuses their candidates
with the encoder's and decides whether to decline.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from index.bm25 import ConceptHits, FloatArray
from index.concepts import Concept, Query
from index.config import EngineConfig
from index.dense import DenseIndex
from index.quotes import ConceptTerms, QuoteSpan, best_quote
from index.ranking import Candidate, Ranked, coverage
from index.records import Result, Scope, Snapshot, Understood


@dataclass(frozen=True, slots=True)
class Asked:
    """One question as ``Engine.answer`` understood it."""

    snap: Snapshot
    query: Query
    concepts: tuple[Concept, ...]  # the question's own, then those carried from its thread
    understood: tuple[Understood, ...]
    scope: Scope | None  # the articles to search (None: all)
    mask: npt.NDArray[np.bool_] | None  # the passages in scope (None: all)
    undated: int  # articles without a date that a date filter left out
    dense: DenseIndex | None  # the vectors to rank with (None: BM25 alone)
    offset: int  # the first result wanted
    began: float  # time.perf_counter() when it was asked


def lexical_scores(asked: Asked, hits: Sequence[ConceptHits], config: EngineConfig) -> FloatArray:
    """Every passage's BM25 score for the question (-inf outside its scope).

    Earlier questions of a thread refine the ranking among the passages that answer
    this one; they never outweigh it (at most ``context_weight`` of its score).
    """
    bm25 = asked.snap.bm25
    own = len(asked.query.concepts)
    scores = bm25.score(hits[:own])
    if len(hits) > own:
        extra = bm25.score(hits[own:]) - sum(bm25.baseline(h) for h in hits[own:])
        mine = scores - sum(bm25.baseline(h) for h in hits[:own])
        scores = scores + np.minimum(extra, config.context_weight * np.maximum(mine, 0))
    if asked.mask is not None:
        scores[~asked.mask] = -np.inf
    return scores


def rerank(
    asked: Asked,
    hits: Sequence[ConceptHits],
    scores: FloatArray,
    baseline: float,
    depth: int,
    config: EngineConfig,
) -> Ranked:
    """The ``depth`` best passages by BM25 that match the question at all, ranked again
    by how much of it their best quote holds (``candidate``)."""
    bm25 = asked.snap.bm25
    matching = [int(i) for i in bm25.top_k(scores, depth) if scores[i] > baseline + 1e-12]
    concept_terms = [c.term_boosts() for c in asked.concepts]
    weights = [
        c.weight * (h.idf if h.doc_ids.size else bm25.unseen_idf())
        for c, h in zip(asked.concepts, hits, strict=True)
    ]
    wants_number = asked.query.wants_number
    candidates = [
        candidate(
            asked.snap,
            pid,
            max(float(scores[pid]) - baseline, 0.0),
            concept_terms,
            weights,
            wants_number,
            config,
        )
        for pid in matching
    ]
    candidates.sort(key=lambda c: -c.final)
    # Only the question itself decides whether the articles cover it: the share of it
    # the best lexical passage holds (before fusion, which may rank a paraphrase first).
    own = asked.query.concepts
    covered = (
        coverage(own, hits[: len(own)], candidates[0].pid, bm25.unseen_idf(), config)
        if candidates
        else 0.0
    )
    total = int((scores > baseline + 1e-12).sum())
    return Ranked(candidates, total, covered, concept_terms, weights)


def results(asked: Asked, ranked: Ranked, k: int, config: EngineConfig) -> list[Result]:
    """Results ``offset + 1`` to ``offset + k``. Their quotes are chosen again with the
    sentences' cosines (and chosen at all for a candidate only the encoder brought)."""
    view = ranked.view
    shown = [
        c
        if c.quote is not None and view is None
        else dataclasses.replace(
            c,
            quote=quote_of(
                asked.snap,
                c.pid,
                ranked.concept_terms,
                ranked.weights,
                config,
                view.quote_similarities(c.pid) if view else None,
            ),
        )
        for c in ranked.candidates[asked.offset : asked.offset + k]
    ]
    return [
        result_of(asked.snap, rank, cand, asked.concepts)
        for rank, cand in enumerate(shown, asked.offset + 1)
    ]


def candidate(
    snap: Snapshot,
    pid: int,
    score: float,
    concept_terms: Sequence[ConceptTerms],
    weights: list[float],
    wants_number: bool,
    config: EngineConfig,
) -> Candidate:
    """Score a passage by BM25 and by how much of the question its best quote holds.

    Two passages that share the question's words are told apart badly by length
    normalisation alone; the one whose single sentence holds more of the question
    is the better answer, so the quote's share of the question weight scales the score.
    A question asking "how many" prefers a sentence with a number in it.
    """
    quote = quote_of(snap, pid, concept_terms, weights, config)
    share = quote.core_value / (sum(weights) or 1.0)
    if wants_number and quote.has_number:
        share += config.number_bonus
    return Candidate(pid, score, score * (1 + config.sentence_boost * share), quote)


def quote_of(
    snap: Snapshot,
    pid: int,
    concept_terms: Sequence[ConceptTerms],
    weights: Sequence[float],
    config: EngineConfig,
    similarity: Sequence[float] | None = None,
) -> QuoteSpan:
    """Passage ``pid``'s best quote; with ``similarity`` (each sentence's cosine to the
    question) the encoder has a say in which sentences it is."""
    return best_quote(
        snap.articles[snap.passages[pid].article_id].text,
        snap.words_of(pid),
        concept_terms,
        weights,
        similarity,
        config.quote_rules,
    )


def result_of(snap: Snapshot, rank: int, cand: Candidate, concepts: Sequence[Concept]) -> Result:
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
        by_meaning=cand.bm25 <= 0,
    )
