"""The answer engine: answer questions from an index snapshot with verbatim quotes.

``Engine`` answers from the snapshot it holds (``index.build`` makes one) and swaps in a new
one atomically after a reindex, so a failed reindex leaves the old snapshot serving.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from index.config import DEFAULT_CONFIG, EngineConfig
from index.context import carried_concepts
from index.dense import DenseIndex
from index.encoder import Encoder
from index.gloss import Gloss, SenseIndex, gloss
from index.lexical import Asked, lexical_scores, rerank, results
from index.lexicon import GlossaryEntry
from index.query import MAX_QUESTION_CHARS, QueryBuilder
from index.quotes import passage_highlights
from index.ranking import Ranked, declines, fuse, name_overlap, named_only
from index.records import (
    SEARCHED_TITLES,
    Answer,
    IndexedArticle,
    IndexedPassage,
    Result,
    Scope,
    Snapshot,
)
from index.separable import with_separable_verbs
from index.suggest import suggestions
from index.threads import limit_blas_threads

QUERY_CACHE_SIZE = 512

# Neutral questions for ``Engine.warm_up``: they go through each language's analysis.
WARM_UP_QUESTIONS = ("What happened?", "Was ist passiert?")


class Engine:
    """Answers questions from the snapshot it currently holds."""

    def __init__(
        self,
        snapshot: Snapshot,
        config: EngineConfig = DEFAULT_CONFIG,
        max_question_chars: int = MAX_QUESTION_CHARS,
        encoder: Encoder | None = None,
        lemmatize: Callable[[str], str] | None = None,
    ) -> None:
        # lemmatises the question words the build stored no lemma for (QueryBuilder.lemma)
        self.lemmatize = lemmatize
        self.encoder = encoder
        self._dense: tuple[Snapshot, DenseIndex] | None = None
        self._query_vectors: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._encoding = threading.Lock()
        self._user_glossary: list[GlossaryEntry] = []
        self._config = config
        # The snapshot served, with this engine's own understanding of questions (config,
        # lemmatiser, /synonym entries: a snapshot may serve several engines), swapped as one.
        self._serve(snapshot)
        self.max_question_chars = max_question_chars  # longer questions are cut
        self._senses: tuple[Snapshot, SenseIndex] | None = None
        limit_blas_threads()  # answers run side by side with the encoder: see index.threads

    @property
    def snapshot(self) -> Snapshot:
        return self._served[0]

    @property
    def builder(self) -> QueryBuilder:
        return self._served[1]

    def _serve(self, snapshot: Snapshot) -> None:
        """Serve ``snapshot`` with a new copy of its question understanding set up as this
        engine's, in one assignment: an answer in a worker thread never sees a half-set one."""
        builder = copy.copy(snapshot.builder)
        builder.config, builder.lemmatize = self._config, self.lemmatize
        if self._user_glossary:
            builder.set_user_glossary(self._user_glossary)
        self._served = (snapshot, builder)

    @property
    def config(self) -> EngineConfig:
        """The tunables; setting them also sets those of question understanding."""
        return self._config

    @config.setter
    def config(self, config: EngineConfig) -> None:
        self._config = config
        self._serve(self.snapshot)

    @property
    def dense(self) -> DenseIndex | None:
        """The vectors of the snapshot being served (None: none attached yet)."""
        return self._dense_of(self.snapshot)

    def _dense_of(self, snap: Snapshot) -> DenseIndex | None:
        pair = self._dense
        return pair[1] if pair is not None and pair[0] is snap else None

    def attach_dense(self, snapshot: Snapshot, dense: DenseIndex) -> None:
        """Use ``dense`` whenever ``snapshot`` is the one being served."""
        self._dense = (snapshot, dense)

    def semantic_status(self) -> tuple[int, int] | None:
        """(passages with vectors, passages), or None when no encoder is configured."""
        if self.encoder is None:
            return None
        dense = self.dense
        return (dense.passages_done if dense else 0), len(self.snapshot.passages)

    def swap(self, snapshot: Snapshot) -> None:
        """Serve ``snapshot`` from now on (a single reference assignment: atomic)."""
        self._serve(snapshot)
        self._senses = None  # it holds the old snapshot: let that go now

    def warm_up(self) -> None:
        """Make what loads on first use load now, not while a user waits for the first
        answer: throwaway questions in English and German, one made of the first passage's
        words (ranking, quoting and the encoder surely run: a vague one may be declined
        before them), a gloss of its quote, the "did you mean" index, the cognates' keys."""
        snap = self.snapshot
        questions = list(WARM_UP_QUESTIONS)
        if snap.passages:
            questions.append(" ".join(snap.text_of(snap.passages[0]).split()[:8]))
        answer = None
        for question in questions:
            answer = self.answer(question, abstain=False)
        if answer is not None and answer.results:
            self.gloss(questions[-1], answer.results[0].quote)
        self.suggestions(WARM_UP_QUESTIONS[0])
        if self.config.cognate_similarity:  # made on a question's first untranslated word
            _ = self.builder.spellings.word_keys
        if self.encoder is not None and self.dense is None:  # vectors still to come
            self._query_vector(questions[-1])  # loads the model

    def set_user_glossary(self, entries: Sequence[GlossaryEntry]) -> None:
        """Apply run-time glossary entries (``/synonym``) at once, no reindex needed."""
        self._user_glossary = list(entries)
        self._serve(self.snapshot)

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
        asked = self._understand(question, offset, context, scope, ranking)
        if (refusal := self._refusal(asked)) is not None:
            return self._reply(asked, refusal)
        ranked = self._rank(asked, max(self.config.rerank_depth, offset + k), ranking)
        ranked = named_only(ranked, asked.query.concepts, asked.snap)
        if not ranked.candidates:
            return self._reply(asked, "not_covered", ranked)
        declined = declines(asked.query, ranked, self.config)  # judged even when not abstaining
        if abstain and declined:
            return self._reply(asked, "not_covered", ranked)
        return self._reply(
            asked, "answered", ranked, results(asked, ranked, k, self.config), declined
        )

    def _understand(
        self,
        question: str,
        offset: int,
        context: Sequence[str],
        scope: Scope | None,
        ranking: str,
    ) -> Asked:
        """The question as concepts (its own, then those carried from ``context``), the
        passages in ``scope``, and the vectors to rank with, if any."""
        began = time.perf_counter()
        snap, builder = self._served  # read once: a swap during this answer does not mix builds
        dense = self._dense_of(snap) if ranking != "lexical" and self.encoder is not None else None
        if dense is not None and not dense.passages_done:
            dense = None
        query = with_separable_verbs(builder.build(question, self.max_question_chars), builder)
        concepts = (
            *query.concepts,
            *carried_concepts(builder, query.concepts, context, self.config),
        )
        mask, undated = snap.scope_mask(scope)
        return Asked(
            snap=snap,
            query=query,
            concepts=concepts,
            understood=tuple(snap.understood(c) for c in concepts),
            scope=scope,
            mask=mask,
            undated=undated,
            dense=dense,
            offset=offset,
            began=began,
        )

    def _refusal(self, asked: Asked) -> str | None:
        """Why no passage can answer, if that is clear before scoring any."""
        if not asked.snap.passages:
            return "empty_index"
        if not asked.query.concepts:
            return "no_terms"
        if not asked.query.searchable and asked.dense is None:
            return "not_covered"  # with vectors, the encoder may still see a paraphrase
        if asked.mask is not None and not asked.mask.any():
            return "out_of_scope"
        return None

    def _rank(self, asked: Asked, depth: int, ranking: str) -> Ranked:
        """The candidates, best first: BM25's ``depth`` best passages, each scored again by
        its best quote, and with vectors, fused with the encoder's nearest passages."""
        bm25 = asked.snap.bm25
        hits = [bm25.concept_hits(c.terms, c.weight, c.boosts) for c in asked.concepts]
        own = asked.query.concepts
        named = name_overlap(asked.query.question, own, hits[: len(own)], self.config.name_overlap)
        scores = lexical_scores(asked, named + hits[len(own) :], self.config)
        baseline = sum(bm25.baseline(h) for h in named)
        ranked = rerank(asked, hits, scores, baseline, depth, self.config)
        if asked.dense is None:
            return ranked
        qvec = self._query_vector(asked.query.question)
        fused, view, signals = fuse(
            ranked.candidates, asked.dense, qvec, asked.mask, scores, baseline, ranking, self.config
        )
        meaning = sum(c.bm25 <= 0 for c in fused)
        if ranking == "dense":
            mode = "dense"
        else:
            mode = "hybrid" if bool(asked.dense.passage_has.all()) else "partial"
        return dataclasses.replace(
            ranked,
            candidates=fused,
            # the passages that hold the question's words, and those the encoder adds
            total=ranked.total + meaning,
            by_meaning=meaning,
            mode=mode,
            signals=signals,
            view=view,
        )

    def _reply(
        self,
        asked: Asked,
        reason: str,
        ranked: Ranked | None = None,
        results: Sequence[Result] = (),
        doubtful: bool = False,
    ) -> Answer:
        """The answer to ``asked``: ``results`` when ``reason`` is "answered"; else why not
        (a question the articles do not cover names those it searched)."""
        searched: list[str] = []
        count = 0
        if reason == "not_covered":
            inside = asked.snap.articles_in(asked.scope)[0]
            searched, count = [a.title for a in inside[:SEARCHED_TITLES]], len(inside)
        return Answer(
            question=asked.query.question,
            language=asked.query.language,
            answered=reason == "answered",
            results=tuple(results),
            understood_as=asked.understood,
            coverage=ranked.coverage if ranked else 0.0,
            reason=reason,
            truncated=asked.query.truncated,
            elapsed_ms=(time.perf_counter() - asked.began) * 1000,
            total_hits=ranked.total if ranked else 0,
            by_meaning_hits=ranked.by_meaning if ranked else 0,
            offset=asked.offset,
            undated_excluded=asked.undated,
            mode=ranked.mode if ranked else "lexical",
            signals=ranked.signals if ranked else {},
            doubtful=doubtful,
            searched=tuple(searched),
            searched_articles=count,
        )

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

    def suggestions(self, question: str, limit: int = 5) -> list[str]:
        """Near questions to offer when ``question`` is not covered ("did you mean")."""
        builder = self.builder
        return suggestions(builder, builder.build(question, self.max_question_chars), limit)

    def gloss(self, question: str, quote: str) -> Gloss:
        """The dictionary senses of ``quote``'s words, those ``question`` matched first."""
        snap, builder = self._served
        cached = self._senses
        if cached is None or cached[0] is not snap:
            cached = self._senses = (snap, SenseIndex(snap.lexicon))
        query = builder.build(question, self.max_question_chars)
        # A German question matched German words: it asked in no English sense.
        concepts = query.concepts if query.language == "en" else ()
        verbs = snap.split_verbs(quote, 0)
        return gloss(snap.lexicon, snap.analyzer, quote, concepts, cached[1], verbs)

    def passage_view(
        self, article_id: str, ordinal: int, question: str | None = None
    ) -> tuple[IndexedArticle, IndexedPassage, tuple[tuple[int, int], ...]]:
        """One paragraph of an article, with the question's words marked when given."""
        snap, builder = self._served
        article = snap.articles[article_id]
        for pid in article.passage_ids:
            passage = snap.passages[pid]
            if passage.ordinal == ordinal:
                marks: tuple[tuple[int, int], ...] = ()
                if question:
                    query = builder.build(question)
                    marks = passage_highlights(
                        snap.words_of(pid), [c.term_boosts() for c in query.concepts]
                    )
                return article, passage, marks
        raise KeyError(f"{article_id} has no paragraph {ordinal}")
