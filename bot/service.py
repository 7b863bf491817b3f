"""What the bot does, apart from Discord: ask and log, look up what a logged answer
quoted, check and save an uploaded article, and the figures behind ``/stats``.

The command line and every Discord entry point (slash commands, mentions, buttons) call
these; the cogs only turn Discord input into calls and results into replies.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import gc
import logging
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bot.state import BotState, LoggedQuestion, QuestionRecord
from index.corpus import ARTICLE_SUFFIXES, ArticleError, decode_article, parse_article
from index.database import StorageError
from index.diff import passage_key, passage_keys
from index.embedding import semantic_line
from index.engine import Engine
from index.records import Answer, IndexedArticle, IndexedPassage, Result, Scope, Snapshot
from index.text import WORD_RE

log = logging.getLogger("newsbot")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
T = TypeVar("T")
# A key that names several articles lists at most this many (terminal lines, buttons).
LISTED = 5

# The engine's work (answers, suggestions, glosses) runs on one thread of its own, not on
# asyncio's default pool of up to 32. It is Python: more threads only fight over the GIL,
# and keep the event loop from it. Eight questions at once while the encoder ran: the
# default pool took up to 6.8 s for an answer and kept the loop from running for 1.7 s;
# two threads 1.9 s and 0.4 s; one 1.0 s and 0.16 s (``BENCHMARKS.md``). Questions asked
# meanwhile wait their turn in its queue.
ENGINE_THREADS = 1
_engine_pool = ThreadPoolExecutor(ENGINE_THREADS, thread_name_prefix="newsbot-engine")


async def in_engine_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)`` on one of the engine's threads."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_engine_pool, functools.partial(function, *args, **kwargs))


def _settle(engine: Engine) -> None:
    gc.unfreeze()  # the previous snapshot's objects, cycles included, can go now
    try:
        engine.warm_up()
    except Exception:  # a speed-up only: whatever broke shows on the next real question
        log.exception("warming up the engine failed; answering on")
    gc.collect()
    gc.freeze()


async def settle(engine: Engine) -> None:
    """Make ``engine``'s first-use loads now, and take its snapshot out of the garbage
    collector's sight: at start and after each swap to a new build.

    A full collection walks every container the process holds (the snapshot's tables run
    to a few hundred thousand entries) while holding the GIL, and the first answer loads
    the lazy parts; either kept the event loop from running for 100-200 ms while the
    encoder child ran. ``gc.freeze`` moves everything alive into a generation the
    collector never scans; objects still go away when nothing refers to them, and the
    next ``settle`` unfreezes first, so an old snapshot's cycles are collected too.
    """
    await in_engine_thread(_settle, engine)


class Refused(Exception):
    """A user's input refused; ``reason`` names the message in ``refusal.j2``."""

    def __init__(self, reason: str, **context: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.context = context


@dataclass(frozen=True, slots=True)
class Asked:
    """Where a question came from, for the log."""

    origin: str = "cli"
    user_id: int | None = None
    guild_id: int | None = None
    channel_id: int | None = None


@dataclass(frozen=True, slots=True)
class Question:
    """A question with everything that shapes its answer."""

    text: str
    k: int = 3
    offset: int = 0
    abstain: bool = True
    scope: Scope | None = None
    context: Sequence[str] = field(default_factory=tuple)


async def answer(engine: Engine, q: Question) -> Answer:
    """The engine's answer, computed on an engine thread (an event loop keeps serving)."""
    return await in_engine_thread(
        engine.answer, q.text, q.k, q.offset, q.abstain, scope=q.scope, context=q.context
    )


async def ask(engine: Engine, state: BotState, q: Question, asked: Asked) -> tuple[Answer, int]:
    """Answer ``q`` and log it; returns the answer and its log id (0 when the log could
    not be written: the log is a record, not a reason to fail an answer)."""
    reply = await answer(engine, q)
    record = QuestionRecord(
        question=reply.question,
        language=reply.language,
        answered=reply.answered,
        reason=reply.reason,
        top_passages=[f"{r.article_id}#{r.paragraph}" for r in reply.results],
        latency_ms=reply.elapsed_ms,
        build_id=engine.snapshot.info.build_id,
        origin=asked.origin,
        user_id=str(asked.user_id) if asked.user_id else None,
        guild_id=str(asked.guild_id) if asked.guild_id else None,
        channel_id=str(asked.channel_id) if asked.channel_id else None,
        scope=q.scope.to_dict() if q.scope else None,
        context=list(q.context),
        passage_keys=[passage_key(r.article_id, r.passage) for r in reply.results],
        quote_spans=[_span_in_paragraph(r) for r in reply.results],
        mode=reply.mode,
    )
    try:
        qid = await state.log_question(record)
    except StorageError as exc:
        log.warning("could not log a question: %s", exc)
        qid = 0
    return reply, qid


def scope_of(
    snap: Snapshot, source: str | None, since: str | None, until: str | None
) -> Scope | None:
    """The filters of ``/ask``, ``/search`` and the command line's ``ask`` and ``search``,
    checked, or None when there are none; raises ``Refused`` naming what is wrong."""
    article_ids = None
    if source:
        found = snap.find_article(source)
        if found is None:
            several = len(snap.matching_articles(source))
            raise Refused("no_such_article", value=source, several=several)
        article_ids = frozenset({found.id})
    start, end = _date(since, "since"), _date(until, "until")
    if start and end and start > end:
        raise Refused("dates_reversed")
    if article_ids is None and start is None and end is None:
        return None
    return Scope(article_ids, start, end)


def _date(value: str | None, name: str) -> dt.date | None:
    if value is None or not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise Refused("bad_date", value=name) from None


def again(record: LoggedQuestion, *, k: int, offset: int = 0, abstain: bool = True) -> Question:
    """A logged question, to answer again with the filters and context it had."""
    return Question(
        record.question,
        k=k,
        offset=offset,
        abstain=abstain,
        scope=Scope.from_dict(record.scope),
        context=tuple(record.context),
    )


@dataclass(frozen=True, slots=True)
class Source:
    """The paragraph behind one quote of a logged answer."""

    article: IndexedArticle
    passage: IndexedPassage
    quote: tuple[int, int] | None  # the quote's span, while the paragraph is unchanged
    marks: tuple[tuple[int, int], ...]  # the question's words in the paragraph

    @property
    def quote_text(self) -> str | None:
        return self.article.text[self.quote[0] : self.quote[1]] if self.quote else None


async def logged_source(engine: Engine, record: LoggedQuestion, rank: int) -> Source | None:
    """What quote [rank] of a logged answer cites, read from the log.

    The paragraph is found by its text (its stable key) in the article, so paragraphs
    inserted or changed before it since do not matter; by its number when its text
    changed, and then without the quote. Only a rank past the logged first page (a "More
    results" page) is answered again, and a question logged before quotes were is answered
    again for its quote only. None when the article or its paragraph is gone.
    """
    if rank < 1:
        return None
    key: str | None = None
    relative: tuple[int, int] | None = None  # the quote's span within its paragraph
    if rank <= len(record.top_passages):
        article_id, _, number = record.top_passages[rank - 1].rpartition("#")
        if rank <= min(len(record.quote_spans), len(record.passage_keys)):
            key, relative = record.passage_keys[rank - 1], record.quote_spans[rank - 1]
        else:  # logged before quotes were: the quote, if the answer still gives it there
            hit = await _answered_again(engine, record, rank)
            if hit is not None and f"{hit.article_id}#{hit.paragraph}" == f"{article_id}#{number}":
                key, relative = passage_key(hit.article_id, hit.passage), _span_in_paragraph(hit)
    else:
        hit = await _answered_again(engine, record, rank)
        if hit is None:
            return None
        article_id, number = hit.article_id, str(hit.paragraph)
        key, relative = passage_key(hit.article_id, hit.passage), _span_in_paragraph(hit)
    snap = engine.snapshot
    article = snap.articles.get(article_id)
    if article is None:
        return None
    passages = [snap.passages[pid] for pid in article.passage_ids]
    same = [p for p in passages if passage_key(article.id, article.text[p.start : p.end]) == key]
    numbered = [p for p in passages if str(p.ordinal) == number]
    if not (same or numbered):
        return None
    passage = (same or numbered)[0]
    _, _, marks = engine.passage_view(article.id, passage.ordinal, record.question)
    quote = None
    if (
        same
        and relative is not None
        and 0 <= relative[0] < relative[1] <= passage.end - passage.start
    ):
        quote = (passage.start + relative[0], passage.start + relative[1])
    return Source(article, passage, quote, marks)


def _span_in_paragraph(r: Result) -> tuple[int, int]:
    return r.quote_start - r.passage_start, r.quote_end - r.passage_start


async def _answered_again(engine: Engine, record: LoggedQuestion, rank: int) -> Result | None:
    reply = await answer(engine, again(record, k=rank, abstain=False))
    return next((r for r in reply.results if r.rank == rank), None)


@dataclass(frozen=True, slots=True)
class StaleQuotes:
    """Answers whose quoted paragraphs are no longer in the index as they were."""

    changed: int
    with_feedback: int


async def stale_quotes(engine: Engine, state: BotState) -> StaleQuotes:
    current = set(passage_keys(engine.snapshot).values())
    stale = [
        q for q in await state.quoted_passages() if any(k not in current for k in q.passage_keys)
    ]
    return StaleQuotes(len(stale), sum(q.has_feedback for q in stale))


async def usage(engine: Engine, state: BotState) -> dict[str, Any]:
    """What ``stats.j2`` shows (``/stats``, ``python -m bot stats``)."""
    return {
        "s": await state.question_stats(),
        "stale": await stale_quotes(engine, state),
        "semantic": semantic_line(engine.semantic_status()),
    }


def words_in_articles(engine: Engine, words: Sequence[str]) -> list[str]:
    """Those of ``words`` that the index holds (what a ``/synonym`` may point to)."""
    snap = engine.snapshot
    return [
        w
        for w in words
        if any(
            (t := snap.analyzer.term_of(tok)) is not None and t in snap.bm25.vocabulary
            for tok in WORD_RE.findall(w)
        )
    ]


def safe_article_name(filename: str) -> str:
    """A file name that stays inside the articles directory: no path, no odd characters."""
    base = os.path.basename(filename.replace("\\", "/"))
    stem, dot, suffix = base.rpartition(".")
    if not dot or f".{suffix.lower()}" not in ARTICLE_SUFFIXES:
        raise Refused("upload_type")
    stem = _SAFE_NAME.sub("_", stem).strip("._-")[:80]
    if not stem:
        raise Refused("upload_name")
    return f"{stem}.{suffix.lower()}"


def validate_upload(name: str, data: bytes, limit: int) -> str:
    """Check an uploaded article; returns its text or raises ``Refused`` with the reason."""
    if len(data) > limit:
        raise Refused("upload_size", size=len(data), limit=limit)
    try:
        text = decode_article(data, name)
        parse_article(Path(name).stem, text, name)
    except ArticleError as exc:
        raise Refused("upload_unusable", value=name, detail=str(exc)) from None
    return text


def save_article(directory: Path, name: str, text: str) -> Path:
    """Write atomically (temp file + rename) inside ``directory``."""
    target = (directory / name).resolve()
    if target.parent != directory.resolve():
        raise Refused("upload_outside")
    directory.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.upload")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)
    return target
