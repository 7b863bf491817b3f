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

Each variant is two small formulas, an idf and a term-frequency component, as bm25s
(xhluca/bm25s, ``scoring.py``) writes them; ``FORMULAS`` maps a variant's name to them.
Kamphuis et al. (2020) compare the variants: "Which BM25 Do You Mean? A Large-Scale
Reproducibility Study of Scoring Variants", ECIR 2020.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from index.artifacts import ArtifactFormat

Variant = Literal["okapi", "l", "plus"]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int32]
# The layout of ``BM25Index.to_bytes`` (stored with each build); bump it when that changes.
POSTINGS_FORMAT = ArtifactFormat("postings", b"NBPS", 2)


# --- the variants' formulas ------------------------------------------------------------
#
# ``df`` holds document frequencies and ``n`` is the number of documents; ``tf`` holds a
# term's frequencies in some documents and ``length`` those documents' length relative to
# the average, L = 1 − b + b · |d| / avgdl. Every formula works on arrays of any size.


def okapi_idf(df: FloatArray, n: int) -> FloatArray:
    """log((N − df + 0.5) / (df + 0.5)): the Robertson–Spärck Jones weight.

    Robertson et al., "Okapi at TREC-3" (1994); Kamphuis et al. (2020), variant
    "Robertson". Negative for a term in more than half of the documents: rank-bm25's
    ``BM25Okapi`` then uses ``epsilon`` × the mean idf instead (``Formula.floors_idf``).
    """
    out: FloatArray = np.log(n - df + 0.5) - np.log(df + 0.5)
    return out


def okapi_tf(tf: FloatArray, length: FloatArray, k1: float, delta: float) -> FloatArray:
    """(k1 + 1) · tf / (tf + k1 · L).

    Robertson et al., "Okapi at TREC-3" (1994), as rank-bm25's ``BM25Okapi`` and ATIRE
    compute it (Kamphuis et al. 2020: their "Robertson" variant leaves out the constant
    k1 + 1, which changes no ranking). ``delta`` is unused.
    """
    out: FloatArray = tf * (k1 + 1) / (tf + k1 * length)
    return out


def bm25l_idf(df: FloatArray, n: int) -> FloatArray:
    """log((N + 1) / (df + 0.5)).

    Lv and Zhai, "When documents are very long, BM25 fails!" (SIGIR 2011); Kamphuis et al.
    (2020), variant "BM25L"; rank-bm25's ``BM25L``.
    """
    out: FloatArray = np.log(n + 1) - np.log(df + 0.5)
    return out


def bm25l_tf(tf: FloatArray, length: FloatArray, k1: float, delta: float) -> FloatArray:
    """tf · (k1 + 1) · (c + δ) / (k1 + c + δ), with c = tf / L.

    Lv and Zhai (SIGIR 2011), variant "BM25L" in Kamphuis et al. (2020), times tf as
    rank-bm25's ``BM25L`` computes it: so a document without the term gets nothing for it,
    where the paper's formula would give it (k1 + 1) · δ / (k1 + δ).
    """
    ctd = tf / length
    out: FloatArray = tf * (k1 + 1) * (ctd + delta) / (k1 + ctd + delta)
    return out


def bm25plus_idf(df: FloatArray, n: int) -> FloatArray:
    """log((N + 1) / df); a df of 0 counts as 1 (the most specific a term can be).

    Lv and Zhai, "Lower-bounding term frequency normalization" (CIKM 2011); Kamphuis et al.
    (2020), variant "BM25+"; rank-bm25's ``BM25Plus``.
    """
    out: FloatArray = np.log((n + 1) / np.maximum(df, 1))
    return out


def bm25plus_tf(tf: FloatArray, length: FloatArray, k1: float, delta: float) -> FloatArray:
    """(k1 + 1) · tf / (k1 · L + tf), the part of BM25+'s component that needs the term.

    Lv and Zhai (CIKM 2011), variant "BM25+" in Kamphuis et al. (2020), rank-bm25's
    ``BM25Plus``. The lower bound δ of the component is what every document gets, holding
    the term or not: ``BM25Index.baseline`` adds it (``Formula.lower_bound``).
    """
    out: FloatArray = tf * (k1 + 1) / (k1 * length + tf)
    return out


IdfFormula = Callable[[FloatArray, int], FloatArray]
TfFormula = Callable[[FloatArray, FloatArray, float, float], FloatArray]


@dataclass(frozen=True, slots=True)
class Formula:
    """One variant: a term's score in a document is idf × tf component (× the concept's
    weight), plus idf × δ in every document when the variant has a lower bound."""

    idf: IdfFormula
    tf: TfFormula
    delta: float = 0.0  # δ when the parameters give none (rank-bm25's defaults)
    floors_idf: bool = False  # a negative idf becomes epsilon × the mean idf (Okapi)
    lower_bound: bool = False  # every document gets idf × δ (BM25+)


FORMULAS: dict[Variant, Formula] = {
    "okapi": Formula(okapi_idf, okapi_tf, floors_idf=True),
    "l": Formula(bm25l_idf, bm25l_tf, delta=0.5),
    "plus": Formula(bm25plus_idf, bm25plus_tf, delta=1.0, lower_bound=True),
}


@dataclass(frozen=True, slots=True)
class BM25Params:
    """BM25 variant and parameters; defaults are rank-bm25's."""

    variant: Variant = "okapi"
    k1: float = 1.5
    b: float = 0.75
    epsilon: float = 0.25  # Okapi: negative idf is floored at epsilon × mean idf
    delta: float | None = None  # BM25L: 0.5, BM25+: 1.0 when None (Formula.delta)


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
        self.params = p = params or BM25Params()
        if p.variant not in FORMULAS:
            raise ValueError(f"unknown BM25 variant {p.variant!r} (one of {', '.join(FORMULAS)})")
        self.formula = FORMULAS[p.variant]
        self.delta = self.formula.delta if p.delta is None else p.delta
        self.terms = terms
        self.term_ids = {t: i for i, t in enumerate(terms)}
        self.ptr = ptr
        self.doc_ids = doc_ids
        self.tfs = tfs
        self.doc_len = doc_len
        self.corpus_size = int(doc_len.size)
        self.avgdl = float(doc_len.sum() / self.corpus_size) if self.corpus_size else 0.0
        self.df = np.diff(ptr).astype(np.int64)
        raw = self.formula.idf(self.df.astype(np.float64), self.corpus_size)
        self.average_idf = float(raw.mean()) if raw.size else 0.0
        self.idf_array: FloatArray = self._floored(raw)
        # Each document's length relative to the average (L), computed once.
        self._length: FloatArray = (
            1 - p.b + p.b * doc_len / self.avgdl if self.avgdl else np.ones(self.corpus_size)
        )

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
        return POSTINGS_FORMAT.wrap(buffer.getvalue())

    @classmethod
    def from_bytes(cls, blob: bytes, params: BM25Params | None = None) -> BM25Index:
        """The index ``to_bytes`` wrote; ``ArtifactFormatError`` if another version did."""
        with np.load(io.BytesIO(POSTINGS_FORMAT.unwrap(blob)), allow_pickle=False) as data:
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

    def _floored(self, raw: FloatArray) -> FloatArray:
        """``raw`` idf values, negative ones floored as the variant does (Okapi)."""
        if self.formula.floors_idf:
            out: FloatArray = np.where(raw < 0, self.params.epsilon * self.average_idf, raw)
            return out
        return raw

    def idf_of_df(self, df: int) -> float:
        """The idf rank-bm25 would give a term with document frequency ``df``."""
        raw = self.formula.idf(np.array([df], dtype=np.float64), self.corpus_size)
        return float(self._floored(raw)[0])

    @property
    def vocabulary(self) -> dict[str, int]:
        """Term → id; supports ``in`` like a set."""
        return self.term_ids

    def unseen_idf(self) -> float:
        """The idf of a term no document contains (the most specific a term can be)."""
        return float(self.formula.idf(np.zeros(1), self.corpus_size)[0])

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
        """The concept's score in each of ``hits.doc_ids`` (rank-bm25's formula), less the
        ``baseline`` every document gets."""
        part = self.formula.tf(hits.tfs, self._length[hits.doc_ids], self.params.k1, self.delta)
        return hits.weight * hits.idf * part

    def baseline(self, hits: ConceptHits) -> float:
        """What rank-bm25 adds to *every* document for this concept (BM25+ only)."""
        if self.formula.lower_bound:
            return hits.weight * hits.idf * self.delta
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
