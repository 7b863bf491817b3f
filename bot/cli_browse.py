"""The command line's lookups, as the Discord commands of the same names show them:
``sources``, ``source``, ``search`` (passages, best first, a page at a time) and ``stats``."""

from __future__ import annotations

import argparse
import json
import sys

from rich.console import Console

from bot import service
from bot.questions import clean_question
from bot.render import paragraph_cite, render
from bot.service import LISTED, Question, Refused
from bot.settings import Settings
from bot.startup import CliError, open_engine
from index.embedding import semantic_line
from index.records import IndexedArticle, Scope, Snapshot


def article_named(snap: Snapshot, key: str) -> IndexedArticle:
    """The article ``key`` names (its id or title), else an error that lists the articles
    it could have meant."""
    found = snap.find_article(key)
    if found is not None:
        return found
    several, near = snap.articles_meant(key, LISTED, limit=3)
    missing = render(
        "source_missing.j2",
        query=key,
        near=bool(near),
        several=len(several),
        listed=LISTED,
        cli=True,
        de=False,
    )
    named = (f"{a.id} “{a.title}”" if several else f"“{a.title}”" for a in near)
    raise CliError(f"{missing} {'; '.join(named)}" if near else missing, 2)


def scope_of_args(snap: Snapshot, args: argparse.Namespace) -> Scope | None:
    """``--source``, ``--since`` and ``--until``, checked as ``/ask`` checks them."""
    # an empty --source "" names no article: an error as a blank one is, not "all articles"
    source = article_named(snap, args.source).id if args.source is not None else None
    try:
        return service.scope_of(snap, source, args.since, args.until)
    except Refused as exc:
        message = render("refusal.j2", reason=exc.reason, de=False, cli=True, **exc.context)
        raise CliError(message, 2) from None


async def cmd_search(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """The passages that match, best first, ``-k`` to a page (what ``/search`` shows):
    never declined, as a search lists what there is."""
    query = clean_question(args.query)
    if not query:
        raise CliError('nothing to search for; give some words, e.g. "Sicherheitsgarantien"', 2)
    async with await open_engine(settings) as opened:
        scope = scope_of_args(opened.engine.snapshot, args)
        offset = (args.page - 1) * args.k
        q = Question(query, k=args.k, offset=offset, abstain=False, scope=scope)
        # logged as a search: a list of passages, never a gap in the articles (``/gaps``)
        answer, _ = await service.ask(opened.engine, opened.state, q, service.Asked("search"))
    if args.json:
        sys.stdout.write(json.dumps(answer.to_dict(), ensure_ascii=False) + "\n")
        return 0
    text = render("search_page.j2", "terminal", answer=answer, page=args.page, per_page=args.k)
    console.print(text, highlight=False)
    return 0


async def cmd_sources(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """The indexed articles, newest first (what ``/sources`` shows)."""
    async with await open_engine(settings) as opened:
        engine = opened.engine
        snap = engine.snapshot
        semantic = semantic_line(engine.semantic_status())
        articles = snap.articles_newest_first()
        text = render("sources.j2", info=snap.info, articles=articles, semantic=semantic)
    console.print(text, highlight=False)
    return 0


async def cmd_source(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """One paragraph of an article, or the article's overview (what ``/source`` shows)."""
    async with await open_engine(settings) as opened:
        snap = opened.engine.snapshot
    found = article_named(snap, args.article)
    passages = [snap.passages[i] for i in found.passage_ids]
    if args.paragraph is None:
        texts = [found.text[p.start : p.end] for p in passages]
        console.print(render("article.j2", article=found, passages=passages, texts=texts, de=False))
        return 0
    match = next((p for p in passages if p.ordinal == args.paragraph), None)
    if match is None:
        raise CliError(render("source_range.j2", count=len(passages), de=False), 2)
    cite = paragraph_cite(found, match)
    text = render(
        "source.j2",
        article=found,
        cite=cite,
        lang="en",
        text=found.text[match.start : match.end],
        start=match.start,
        marks=[],
    )
    console.print(text, highlight=False)
    return 0


async def cmd_stats(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Questions asked and answered, feedback, frequent unanswered (what ``/stats`` shows)."""
    async with await open_engine(settings) as opened:
        engine = opened.engine
        text = render("stats.j2", **await service.usage(engine, opened.state))
    console.print(text, highlight=False)
    return 0
