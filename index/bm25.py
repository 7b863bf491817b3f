"""BM25 over an inverted index, with scores identical to rank-bm25's.

rank-bm25 defines the scores (``BM25Okapi``, ``BM25L``, ``BM25Plus``: the same idf,
length normalisation and defaults), but its ``get_scores`` walks every document in Python
for every query term. Here the postings sit in compressed-sparse-row arrays (for each
term, the ids of the documents that contain it and the term frequencies), so a query
touches only the documents that contain its terms, in numpy. ``tests/index/test_bm25.py``
checks the equality against rank-bm25 itself, and the benchmark checks it at 100k passages.

Queries are weighted *concepts*: a concept's term frequency in a document is the sum over
its alternative terms, and its document frequency the largest of its terms' (Lucene's
SynonymQuery). A one-term concept with weight 1 is exactly a rank-bm25 query term.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
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


_EMPTY_IDS: IntArray = np.zeros(0, np.int32)
_EMPTY_TFS: FloatArray = np.zeros(0, np.float64)


class BM25Index:
    """Postings in CSR arrays plus rank-bm25's corpus statistics.

    ``terms[t]`` has postings ``doc_ids[ptr[t]:ptr[t+1]]`` (ascending) with frequencies
    ``tfs[ptr[t]:ptr[t+1]]``; ``doc_len`` counts every token of a document.
    """

    # A concept's document frequency: Lucene's SynonymQuery takes the max over its terms,
    # so a loose alternative found everywhere cannot drown the idf of the main term.
    synonym_df: Literal["union", "max"] = "max"

    def __init__(
        self,
        terms: list[str],
        ptr: npt.NDArray[np.int64],
        doc_ids: IntArray,
        tfs: npt.NDArray[np.float32],
        doc_len: FloatArray,
        params: BM25Params | None = None,
    ) -> None:
        self.params = params or BM25Params()
        self.terms = terms
        self.term_ids = {t: i for i, t in enumerate(terms)}
        self.ptr = ptr
        self.doc_ids = doc_ids
        self.tfs = tfs
        self.doc_len = doc_len
        self.corpus_size = int(doc_len.size)
        self.avgdl = float(doc_len.sum() / self.corpus_size) if self.corpus_size else 0.0
        self.df = np.diff(ptr).astype(np.int64)
        raw = self._raw_idf_array(self.df)
        self.average_idf = float(raw.mean()) if raw.size else 0.0
        if self.params.variant == "okapi":
            raw = np.where(raw < 0, self.params.epsilon * self.average_idf, raw)
        self.idf_array: FloatArray = raw
        p = self.params
        # The per-document length factor of the BM25 denominator, computed once.
        if self.avgdl:
            self._norm = p.k1 * (1 - p.b + p.b * doc_len / self.avgdl)
            self._ctd_norm = 1 - p.b + p.b * doc_len / self.avgdl
        else:
            self._norm = np.zeros(self.corpus_size)
            self._ctd_norm = np.ones(self.corpus_size)

    # -- construction -----------------------------------------------------------------

    @classmethod
    def from_documents(
        cls, documents: Iterable[Sequence[str]], params: BM25Params | None = None
    ) -> BM25Index:
        """Index tokenised documents (one list of terms per document)."""
        vocab: dict[str, int] = {}
        ids: list[int] = []
        lengths: list[int] = []
        for doc in documents:
            lengths.append(len(doc))
            ids.extend([vocab.setdefault(t, len(vocab)) for t in doc])
        n_docs = len(lengths)
        term_ids = np.asarray(ids, dtype=np.int64)
        doc_of = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        # One key per (term, document); sorting groups postings by term, then document.
        keys, counts = np.unique(term_ids * max(n_docs, 1) + doc_of, return_counts=True)
        post_terms = keys // max(n_docs, 1)
        ptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(np.bincount(post_terms, minlength=len(vocab)), out=ptr[1:])
        return cls(
            list(vocab),
            ptr,
            (keys % max(n_docs, 1)).astype(np.int32),
            counts.astype(np.float32),
            np.asarray(lengths, dtype=np.float64),
            params,
        )

    def to_bytes(self) -> bytes:
        """The arrays as one compact blob (for the database)."""
        buffer = io.BytesIO()
        np.savez(
            buffer,
            terms=np.array("\n".join(self.terms)),
            ptr=self.ptr,
            doc_ids=self.doc_ids,
            tfs=self.tfs.astype(np.uint16) if self.tfs.max(initial=0) < 65_536 else self.tfs,
            doc_len=self.doc_len.astype(np.uint32),
        )
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes, params: BM25Params | None = None) -> BM25Index:
        with np.load(io.BytesIO(blob), allow_pickle=False) as data:
            text = str(data["terms"])
            return cls(
                text.split("\n") if text else [],
                data["ptr"].astype(np.int64),
                data["doc_ids"].astype(np.int32),
                data["tfs"].astype(np.float32),
                data["doc_len"].astype(np.float64),
                params,
            )

    # -- statistics -------------------------------------------------------------------

    def _raw_idf_array(self, df: npt.NDArray[np.int64]) -> FloatArray:
        n = self.corpus_size
        d = df.astype(np.float64)
        if self.params.variant == "okapi":
            return np.log(n - d + 0.5) - np.log(d + 0.5)
        if self.params.variant == "l":
            out: FloatArray = np.log(n + 1) - np.log(d + 0.5)
            return out
        out = np.where(d > 0, np.log((n + 1) / np.maximum(d, 1)), 0.0)
        return out

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

    @property
    def idf(self) -> dict[str, float]:
        return {t: float(self.idf_array[i]) for i, t in enumerate(self.terms)}

    @property
    def vocabulary(self) -> dict[str, int]:
        """Term → id; supports ``in`` like a set."""
        return self.term_ids

    def unseen_idf(self) -> float:
        """The idf of a term no document contains (the most specific a term can be)."""
        if self.params.variant == "plus":
            return math.log(self.corpus_size + 1)
        return self.raw_idf(0)

    def postings(self, term: str) -> tuple[IntArray, npt.NDArray[np.float32]]:
        tid = self.term_ids.get(term)
        if tid is None:
            return _EMPTY_IDS, np.zeros(0, np.float32)
        lo, hi = self.ptr[tid], self.ptr[tid + 1]
        return self.doc_ids[lo:hi], self.tfs[lo:hi]

    # -- scoring -----------------------------------------------------------------------

    def concept_hits(
        self, terms: Sequence[str], weight: float = 1.0, boosts: Sequence[float] = ()
    ) -> ConceptHits:
        """Union the postings of ``terms``: summed tf per document, idf of the max df.

        ``boosts`` scale each term's frequency (Lucene's boosted SynonymQuery terms); a
        concept of one unboosted term is exactly a rank-bm25 query term.
        """
        boost_of = dict(zip(terms, boosts, strict=False)) if boosts else {}
        present = [(t, self.term_ids[t]) for t in dict.fromkeys(terms) if t in self.term_ids]
        if not present:
            return ConceptHits(_EMPTY_IDS, _EMPTY_TFS, 0.0, weight)
        if len(present) == 1 and boost_of.get(present[0][0], 1.0) == 1.0:
            tid = present[0][1]
            lo, hi = self.ptr[tid], self.ptr[tid + 1]
            return ConceptHits(
                self.doc_ids[lo:hi],
                self.tfs[lo:hi].astype(np.float64),
                float(self.idf_array[tid]),
                weight,
            )
        slices = [(self.ptr[tid], self.ptr[tid + 1], boost_of.get(t, 1.0)) for t, tid in present]
        all_ids = np.concatenate([self.doc_ids[lo:hi] for lo, hi, _ in slices])
        all_tfs = np.concatenate(
            [self.tfs[lo:hi].astype(np.float64) * boost for lo, hi, boost in slices]
        )
        uniq, inverse = np.unique(all_ids, return_inverse=True)
        summed: FloatArray = np.bincount(inverse, weights=all_tfs).astype(np.float64)
        if self.synonym_df == "max":
            df = max(int(hi - lo) for lo, hi, _ in slices)
        else:
            df = int(uniq.size)
        return ConceptHits(uniq.astype(np.int32), summed, self.idf_of_df(df), weight)

    def contribution(self, hits: ConceptHits) -> FloatArray:
        """The concept's score in each of ``hits.doc_ids`` (rank-bm25's formula)."""
        p = self.params
        tf = hits.tfs
        if p.variant == "okapi":
            part = tf * (p.k1 + 1) / (tf + self._norm[hits.doc_ids])
        elif p.variant == "l":
            ctd = tf / self._ctd_norm[hits.doc_ids]
            delta = p.effective_delta
            # rank-bm25's BM25L multiplies by tf as well, so absent terms add nothing.
            part = tf * (p.k1 + 1) * (ctd + delta) / (p.k1 + ctd + delta)
        else:
            part = tf * (p.k1 + 1) / (self._norm[hits.doc_ids] + tf)
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
                # Postings of one concept are unique per document: plain fancy-index add.
                scores[hits.doc_ids] += self.contribution(hits)
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
