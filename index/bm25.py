"""BM25 over an inverted index, with scores identical to rank-bm25's.

rank-bm25 defines the scores (``BM25Okapi``, ``BM25L``, ``BM25Plus``: the same idf,
length normalisation and defaults), but its ``get_scores`` walks every document in Python
for every query term. Here each term has a posting list (document ids and term
frequencies as numpy arrays), so a query touches only the documents that contain its
terms. ``tests/index/test_bm25.py`` checks the equality against rank-bm25 itself.

Queries are weighted *concepts*: a concept's term frequency in a document is the sum over
its alternative terms, and its document frequency the largest of its terms' (Lucene's
SynonymQuery). A one-term concept with weight 1 is exactly a rank-bm25 query term.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

Variant = Literal["okapi", "l", "plus"]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int32]


@dataclass(frozen=True, slots=True)
class BM25Params:
    """BM25 variant and parameters; defaults are rank-bm25's."""

    variant: Variant = "okapi"
    k1: float = 1.5
    b: float = 0.75
    epsilon: float = 0.25  # Okapi: negative idf is floored at epsilon × mean idf
    delta: float | None = None  # BM25L: 0.5, BM25+: 1.0 when None

    @property
    def effective_delta(self) -> float:
        if self.delta is not None:
            return self.delta
        return 0.5 if self.variant == "l" else 1.0


@dataclass(frozen=True, slots=True)
class ConceptHits:
    """Which documents a concept matched, with its idf and summed term frequencies."""

    doc_ids: IntArray
    tfs: FloatArray
    idf: float
    weight: float


class BM25Index:
    """Posting lists plus rank-bm25's corpus statistics."""

    # A concept's document frequency: Lucene's SynonymQuery takes the max over its terms,
    # so a loose alternative found everywhere cannot drown the idf of the main term.
    synonym_df: Literal["union", "max"] = "max"

    def __init__(self, documents: Sequence[Sequence[str]], params: BM25Params | None = None):
        self.params = params or BM25Params()
        self.corpus_size = len(documents)
        postings: dict[str, tuple[list[int], list[int]]] = {}
        lengths = np.zeros(self.corpus_size, dtype=np.float64)
        for doc_id, doc in enumerate(documents):
            lengths[doc_id] = len(doc)
            for term, tf in Counter(doc).items():
                ids, tfs = postings.setdefault(term, ([], []))
                ids.append(doc_id)
                tfs.append(tf)
        self.doc_len = lengths
        self.avgdl = float(lengths.sum() / self.corpus_size) if self.corpus_size else 0.0
        self.postings: dict[str, tuple[IntArray, FloatArray]] = {
            t: (np.asarray(ids, dtype=np.int32), np.asarray(tfs, dtype=np.float64))
            for t, (ids, tfs) in postings.items()
        }
        self.idf: dict[str, float] = {}
        self.average_idf = 0.0
        self._compute_idf()
        p = self.params
        # The per-document length factor of the BM25 denominator, computed once.
        if self.avgdl:
            self._norm = p.k1 * (1 - p.b + p.b * self.doc_len / self.avgdl)
        else:
            self._norm = np.zeros(self.corpus_size)

    # -- statistics -------------------------------------------------------------------

    def raw_idf(self, df: int) -> float:
        """The variant's idf for a document frequency, before Okapi's floor."""
        n = self.corpus_size
        if self.params.variant == "okapi":
            return math.log(n - df + 0.5) - math.log(df + 0.5)
        if self.params.variant == "l":
            return math.log(n + 1) - math.log(df + 0.5)
        return math.log((n + 1) / df) if df else 0.0

    def idf_of_df(self, df: int) -> float:
        """The idf rank-bm25 would give a term with document frequency ``df``."""
        idf = self.raw_idf(df)
        if self.params.variant == "okapi" and idf < 0:
            return self.params.epsilon * self.average_idf
        return idf

    def _compute_idf(self) -> None:
        raw = {t: self.raw_idf(len(ids)) for t, (ids, _) in self.postings.items()}
        self.average_idf = sum(raw.values()) / len(raw) if raw else 0.0
        self.idf = {t: self.idf_of_df(len(self.postings[t][0])) for t in raw}

    @property
    def vocabulary(self) -> set[str]:
        return set(self.postings)

    def unseen_idf(self) -> float:
        """The idf of a term no document contains (the most specific a term can be)."""
        if self.params.variant == "plus":
            return math.log(self.corpus_size + 1)
        return self.raw_idf(0)

    # -- scoring -----------------------------------------------------------------------

    def concept_hits(
        self, terms: Sequence[str], weight: float = 1.0, boosts: Sequence[float] = ()
    ) -> ConceptHits:
        """Union the postings of ``terms``: summed tf per document, idf of the max df.

        ``boosts`` scale each term's frequency (Lucene's boosted SynonymQuery terms); a
        concept of one unboosted term is exactly a rank-bm25 query term.
        """
        boost_of = dict(zip(terms, boosts, strict=False)) if boosts else {}
        present = [t for t in dict.fromkeys(terms) if t in self.postings]
        if not present:
            return ConceptHits(np.zeros(0, np.int32), np.zeros(0), 0.0, weight)
        if len(present) == 1 and boost_of.get(present[0], 1.0) == 1.0:
            ids, tfs = self.postings[present[0]]
            return ConceptHits(ids, tfs, self.idf[present[0]], weight)
        all_ids = np.concatenate([self.postings[t][0] for t in present])
        all_tfs = np.concatenate([self.postings[t][1] * boost_of.get(t, 1.0) for t in present])
        uniq, inverse = np.unique(all_ids, return_inverse=True)
        summed = np.bincount(inverse, weights=all_tfs).astype(np.float64)
        if self.synonym_df == "max":
            df = max(len(self.postings[t][0]) for t in present)
        else:
            df = len(uniq)
        return ConceptHits(uniq.astype(np.int32), summed, self.idf_of_df(df), weight)

    def contribution(self, hits: ConceptHits) -> FloatArray:
        """The concept's score in each of ``hits.doc_ids`` (rank-bm25's formula)."""
        p = self.params
        tf = hits.tfs
        norm = self._norm[hits.doc_ids]
        if p.variant == "okapi":
            part = tf * (p.k1 + 1) / (tf + norm)
        elif p.variant == "l":
            ctd = tf / (1 - p.b + p.b * self.doc_len[hits.doc_ids] / self.avgdl)
            delta = p.effective_delta
            # rank-bm25's BM25L multiplies by tf as well, so absent terms add nothing.
            part = tf * (p.k1 + 1) * (ctd + delta) / (p.k1 + ctd + delta)
        else:
            part = tf * (p.k1 + 1) / (norm + tf)
        return hits.weight * hits.idf * part

    def baseline(self, hits: ConceptHits) -> float:
        """What rank-bm25 adds to *every* document for this concept (BM25+ only)."""
        if self.params.variant == "plus":
            return hits.weight * hits.idf * self.params.effective_delta
        return 0.0

    def score(self, concepts: Sequence[ConceptHits]) -> FloatArray:
        """Dense scores for all documents, equal to rank-bm25's ``get_scores``."""
        scores = np.zeros(self.corpus_size, dtype=np.float64)
        for hits in concepts:
            if hits.doc_ids.size:
                np.add.at(scores, hits.doc_ids, self.contribution(hits))
            base = self.baseline(hits)
            if base:
                scores += base
        return scores

    def top_k(self, scores: FloatArray, k: int) -> IntArray:
        """Indices of the ``k`` best scores, best first; ties keep document order."""
        k = min(k, scores.size)
        if k <= 0:
            return np.zeros(0, np.int32)
        part = np.argpartition(-scores, k - 1)[:k] if k < scores.size else np.arange(scores.size)
        order = np.lexsort((part, -scores[part]))
        return part[order].astype(np.int32)
