"""The semantic side of the index: passage and sentence vectors of one snapshot, and the
fusion of their similarities with BM25.

Vectors arrive after the BM25 build is active (encoding is slow: see ``index.embedding``),
so a ``DenseIndex`` starts empty and fills as the encoder stores them; a passage without
its vector is ranked by the lexical stages alone. Every number that shapes the fusion or
the abstention lives in ``index.config.EngineConfig``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from index.encoder import from_blob, text_hash
from index.text import sentence_spans

Spans = tuple[tuple[int, int], ...]


def sentence_table(texts: Sequence[tuple[str, int, int]]) -> list[Spans]:
    """Each passage's sentence spans (absolute offsets), as the quotes cut them."""
    return [tuple(sentence_spans(text, start, end) or [(start, end)]) for text, start, end in texts]


@dataclass
class DenseIndex:
    """Unit vectors for the passages and sentences of one snapshot, filled incrementally.

    ``passage_hashes[i]`` keys passage ``i``'s text; ``sentence_hashes`` the sentences,
    passage by passage (``sentence_start[i]`` is passage ``i``'s first). Missing vectors are
    zero rows with their ``has`` flag off.
    """

    model_id: str
    dim: int
    passage_hashes: list[bytes]
    sentence_hashes: list[bytes]
    sentence_start: npt.NDArray[np.int64]
    sentence_spans: list[Spans]
    passage_vectors: npt.NDArray[np.float32] = field(init=False)
    passage_has: npt.NDArray[np.bool_] = field(init=False)
    sentence_vectors: npt.NDArray[np.float16] = field(init=False)
    sentence_has: npt.NDArray[np.bool_] = field(init=False)
    watermark: int = 0  # the last stored vector row read (see IndexStore.vectors_after)
    _where: dict[bytes, list[tuple[bool, int]]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n, m = len(self.passage_hashes), len(self.sentence_hashes)
        self.passage_vectors = np.zeros((n, self.dim), dtype=np.float32)
        self.passage_has = np.zeros(n, dtype=bool)
        self.sentence_vectors = np.zeros((m, self.dim), dtype=np.float16)
        self.sentence_has = np.zeros(m, dtype=bool)
        where: dict[bytes, list[tuple[bool, int]]] = {}
        for i, h in enumerate(self.passage_hashes):
            where.setdefault(h, []).append((True, i))
        for j, h in enumerate(self.sentence_hashes):
            where.setdefault(h, []).append((False, j))
        self._where = where

    @classmethod
    def for_texts(
        cls, model_id: str, dim: int, passages: Sequence[tuple[str, int, int]]
    ) -> DenseIndex:
        """An empty index for passages given as (article text, start, end)."""
        spans = sentence_table(passages)
        p_hashes = [text_hash(text[a:b]) for text, a, b in passages]
        s_hashes: list[bytes] = []
        starts = [0]
        for (text, _, _), sentence in zip(passages, spans, strict=True):
            s_hashes.extend(text_hash(text[a:b]) for a, b in sentence)
            starts.append(len(s_hashes))
        return cls(model_id, dim, p_hashes, s_hashes, np.asarray(starts, dtype=np.int64), spans)

    @property
    def wanted(self) -> set[bytes]:
        return set(self._where)

    def fill(self, items: Iterable[tuple[bytes, bytes]]) -> int:
        """Take the stored vectors of this index's texts; how many rows were filled."""
        filled = 0
        for h, blob in items:
            places = self._where.get(h)
            if not places:
                continue
            vec = from_blob(blob)
            if vec.shape[0] != self.dim:
                continue
            for is_passage, i in places:
                if is_passage:
                    self.passage_vectors[i] = vec
                    self.passage_has[i] = True
                else:
                    self.sentence_vectors[i] = vec
                    self.sentence_has[i] = True
                filled += 1
        return filled

    def missing(self) -> set[bytes]:
        """The hashes of the texts that still lack a vector."""
        out = {self.passage_hashes[int(i)] for i in np.flatnonzero(~self.passage_has)}
        out.update(self.sentence_hashes[int(j)] for j in np.flatnonzero(~self.sentence_has))
        return out

    @property
    def passages_done(self) -> int:
        return int(self.passage_has.sum())

    @property
    def complete(self) -> bool:
        return bool(self.passage_has.all() and self.sentence_has.all())

    def sentence_similarities(
        self,
        pid: int,
        query: npt.NDArray[np.float32],
        before: float = 0.0,
        after: float = 0.0,
    ) -> list[float]:
        """Cosine of each sentence of passage ``pid`` to the query; NaN where missing.

        With ``before`` / ``after``, a sentence's vector first takes in those shares of the
        vectors of the sentences before and after it (renormalised): a sentence read in its
        context, as "Er hält den Rekord" says nothing of whom without the one before.
        """
        a, b = int(self.sentence_start[pid]), int(self.sentence_start[pid + 1])
        vectors = self.sentence_vectors[a:b].astype(np.float32)
        if (before or after) and b - a > 1:
            read = vectors.copy()
            read[1:] += before * vectors[:-1]
            read[:-1] += after * vectors[1:]
            norms = np.linalg.norm(read, axis=1, keepdims=True)
            vectors = read / np.maximum(norms, np.float32(1e-12))
        sims = vectors @ query
        has = self.sentence_has[a:b]
        return [float(s) if ok else math.nan for s, ok in zip(sims, has, strict=True)]


@dataclass(frozen=True, slots=True)
class DenseView:
    """One question's similarities: passages (all), and sentences of the candidates."""

    passage: npt.NDArray[np.float32]  # cosine per passage; NaN where the vector is missing
    sentences: dict[int, list[float]]  # passage → cosine per sentence (candidates only)
    # passage → its sentences' cosines, each read in its context (EngineConfig.context_before
    # and context_after); None when no context is configured. Asked only for the passages
    # shown, so it is not worked out for the whole candidate pool.
    in_context: Callable[[int], list[float]] | None = None
    # Filled on demand, within the one answer the view serves. The vectors read are the
    # index's as they are then: one the encoder filled since ranking shows in the quote.
    _quoted: dict[int, list[float]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def quote_similarities(self, pid: int) -> list[float] | None:
        """The cosines a candidate's quote is chosen on: its sentences read in context when
        that is configured, else alone; None for a passage that is not a candidate. Ranking
        and abstention read the sentences alone (``sentences``)."""
        if pid not in self.sentences:
            return None
        if self.in_context is None:
            return self.sentences[pid]
        if pid not in self._quoted:
            self._quoted[pid] = self.in_context(pid)
        return self._quoted[pid]

    def best_sentence(self, pid: int) -> float:
        sims = [s for s in self.sentences.get(pid, ()) if not math.isnan(s)]
        return max(sims) if sims else float(self.passage[pid])

    def blended(self, pid: int, sentence_mix: float) -> float:
        """The passage's similarity to the question: its own vector's, blended with its
        best sentence's (a passage answers through one sentence more often than whole)."""
        p = float(self.passage[pid])
        if math.isnan(p):
            return math.nan
        return (1 - sentence_mix) * p + sentence_mix * self.best_sentence(pid)

    def contrast(self, mask: npt.NDArray[np.bool_] | None = None) -> float:
        """How far the best passage stands out beyond what chance gives: its cosine's
        z-score, (max − mean) / std, less the z-score the best of as many unrelated
        passages would reach (``chance_max``).

        The best of N draws stands out more the larger N is, so the raw z-score grows with
        the corpus: about 1.8 for 16 passages, 2.5 for 100, 4.4 for 100,000. Without the
        correction an answerable question on a small corpus looked off-corpus, and every
        question on a large one would look answerable.
        """
        values = self.passage if mask is None else self.passage[mask]
        values = values[~np.isnan(values)]
        if values.size < 2:
            return 0.0
        spread = float(values.std())
        if spread <= 0:
            return 0.0
        z = (float(values.max()) - float(values.mean())) / spread
        return z - chance_max(int(values.size))


def chance_max(n: int) -> float:
    """The expected largest of ``n`` standard normal draws, by Blom's approximation
    Φ⁻¹((n − 0.375) / (n + 0.25)); within 0.1 of the simulated z-score of the best of n
    for n ≥ 16 (0.4 at n = 2, where a z-score is 1 whatever the values)."""
    return NormalDist().inv_cdf((n - 0.375) / (n + 0.25))


def similarities(
    dense: DenseIndex, query: npt.NDArray[np.float32], mask: npt.NDArray[np.bool_] | None
) -> npt.NDArray[np.float32]:
    """Cosine of every passage to the query; NaN where missing or outside ``mask``."""
    out = dense.passage_vectors @ query
    out = np.where(dense.passage_has, out, np.nan).astype(np.float32)
    if mask is not None:
        out[~mask] = np.nan
    return out


def dense_top(passage: npt.NDArray[np.float32], n: int) -> list[int]:
    """The ``n`` passages most similar to the question (those with vectors)."""
    filled = np.where(np.isnan(passage), -np.inf, passage)
    if n >= filled.size:
        order = np.argsort(-filled)
    else:
        part = np.argpartition(-filled, n)[:n]
        order = part[np.argsort(-filled[part])]
    return [int(i) for i in order if np.isfinite(filled[i])]


def logistic(features: Sequence[float], weights: Sequence[float], bias: float) -> float:
    """P(answerable) of a fitted logistic model over standardised features."""
    z = bias + sum(w * f for w, f in zip(weights, features, strict=True))
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))
