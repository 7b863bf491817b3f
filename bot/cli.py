"""Command line: ``python -m bot ask|search|sources|source|stats|reindex|eval|shell|run|start``.

Every command opens the database named in the settings; messages meant for people are
rendered from the same templates as the Discord replies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.table import Table

from bot import service
from bot.cli_browse import cmd_search, cmd_source, cmd_sources, cmd_stats, scope_of_args
from bot.cli_eval import cmd_eval
from bot.questions import clean_question
from bot.render import render, render_answer
from bot.service import Question
from bot.settings import Settings, SettingsProblem, load_settings
from bot.startup import (
    CliError,
    backup_database,
    carry_over_state,
    open_engine,
    open_store,
    run_encode,
    run_reindex,
    sources_from,
)
from index.database import StorageError
from index.embedding import semantic_line
from index.encoder import try_load_encoder
from index.engine import Engine
from index.records import Answer

MAX_K = 50


def explain_table(answer: Answer) -> Table:
    table = Table(title="How the question was understood", show_lines=False)
    for column in ("question words", "kind", "German terms searched"):
        table.add_column(column)
    for u in answer.understood_as:
        table.add_row(u.source, u.kind, ", ".join(u.terms) or "— (not in the articles)")
    table.caption = (
        f"language {answer.language} · coverage {answer.coverage:.2f} · "
        f"{answer.total_hits - answer.by_meaning_hits} matching passages"
        + (f" (+{answer.by_meaning_hits} by meaning)" if answer.by_meaning_hits else "")
        + f" · {answer.elapsed_ms:.1f} ms"
    )
    return table


# --- commands --------------------------------------------------------------------------


async def cmd_ask(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    batch = args.question == "-"
    if not batch and not clean_question(args.question):  # blank, or only invisible characters
        raise CliError('the question is empty; ask something, e.g. "What did the US commit to?"', 2)
    async with await open_engine(settings) as opened:
        engine = opened.engine
        scope = scope_of_args(engine.snapshot, args)
        # "-": one question per line of standard input, each answered like a single one.
        lines = sys.stdin if batch else [args.question]
        asked = 0
        for line in lines:
            question = clean_question(line)
            if not question:
                continue
            asked += 1
            q = Question(question, k=args.k, abstain=not args.no_abstain, scope=scope)
            answer, _ = await service.ask(engine, opened.state, q, service.Asked("cli"))
            if args.json:
                sys.stdout.write(json.dumps(answer.to_dict(), ensure_ascii=False) + "\n")
                sys.stdout.flush()
                continue
            if batch:  # which answer is which, when several follow each other
                text = render("note.j2", "terminal", what="batch_question", question=question)
                console.print(text, highlight=False)
            console.print(render_answer(answer), highlight=False)
            if args.explain:
                console.print(explain_table(answer))
            if args.gloss and answer.results:
                first = answer.results[0]
                glossed = engine.gloss(answer.question, first.quote)
                de = answer.language == "de"
                styled = console.is_terminal
                text = render(
                    "gloss.j2", "terminal", gloss=glossed, rank=first.rank, de=de, styled=styled
                )
                console.print("\n" + text, highlight=False)
    if not asked:  # "-" with nothing on standard input
        raise CliError("no question on standard input; give one question per line", 2)
    return 0


async def cmd_reindex(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    if args.rebuild and not settings.uses_postgres:  # PostgreSQL: back up with pg_dump
        backup = backup_database(settings.database_path)
        if backup:
            console.print(render("note.j2", "terminal", what="backup", backup=backup))
    else:
        backup = None
    async with await open_store(settings) as storage:
        if backup:  # the question log, settings and /synonym entries live on
            console.print(await carry_over_state(storage.database, backup), highlight=False)
        sources = sources_from(settings, args.seeds)
        report = await run_reindex(storage, sources, console, force=args.rebuild)
        console.print(render("reindex.j2", "terminal", report=report), highlight=False)
        encoder, why_not = try_load_encoder(settings.encoder)
        if why_not:
            console.print(
                render("note.j2", "terminal", what="lexical", reason=why_not), highlight=False
            )
        if encoder is not None:  # the new text's vectors, now: the index is then complete
            engine = Engine(await storage.load_snapshot(), encoder=encoder)
            began = time.perf_counter()
            encoded = await run_encode(storage, engine, settings, console)
            line = render(
                "note.j2",
                "terminal",
                what="encoded",
                semantic=semantic_line(engine.semantic_status()),
                report=encoded,
                seconds=time.perf_counter() - began,
            )
            console.print(line, highlight=False)
    return 0


def cmd_shell(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """The interactive session; its input is read outside the event loop (see bot.shell)."""
    from bot.shell import HISTORY_FILE, Session

    with asyncio.Runner() as runner:
        opened = runner.run(open_engine(settings))
        try:
            session = Session(
                opened.engine,
                console,
                args.k,
                ask=lambda q: runner.run(
                    service.ask(opened.engine, opened.state, q, service.Asked("cli"))
                )[0],
            )
            return session.run(settings.database_path.parent / HISTORY_FILE)
        finally:
            runner.run(opened.close())


async def cmd_run(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """Start the Discord bot."""
    import aiohttp
    import discord

    from bot.app import NewsBot, setup_logging

    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        raise CliError(
            "DISCORD_TOKEN is not set: put the bot token into .env or the environment "
            "(see .env.example)",
            2,
        )
    token = settings.discord_token.get_secret_value().strip()
    setup_logging(settings.log_level, token)
    # The bot encodes what the index lacks in the background, answering meanwhile.
    opened = await open_engine(settings, wait_for_vectors=False)
    await service.settle(opened.engine)  # first-use loads before the first question
    async with opened, NewsBot(settings, opened.store, opened.state, opened.engine) as bot:
        try:
            await bot.start(token)
        except discord.LoginFailure:
            raise CliError(
                "Discord rejected DISCORD_TOKEN (invalid or reset); copy a fresh token "
                "from the developer portal, Bot page"
            ) from None
        except discord.PrivilegedIntentsRequired:
            raise CliError(
                "MESSAGE_CONTENT_INTENT=true, but the Message Content intent is not enabled "
                "for this bot in the developer portal (Bot page → Privileged Gateway Intents)"
            ) from None
        except discord.GatewayNotFound:  # only asked when SHARD_COUNT is unset
            raise CliError(
                "Discord did not say how many shards to run (GET /gateway/bot failed): "
                "try again later, or set SHARD_COUNT"
            ) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise CliError(
                f"cannot reach Discord ({unreachable_reason(exc)}): check the network"
            ) from None
    return 0


def unreachable_reason(exc: BaseException) -> str:
    """Where and why a connection failed, in a few words (``discord.com:443: …``)."""
    import aiohttp

    if isinstance(exc, aiohttp.ClientConnectorError):
        why = exc.os_error.strerror or str(exc.os_error) or type(exc.os_error).__name__
        return f"{exc.host}:{exc.port}: {why}"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return str(exc) or type(exc).__name__


def cmd_start(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """The main job: the Discord bot when a token is configured, else the terminal."""
    if settings.discord_token is not None and settings.discord_token.get_secret_value().strip():
        return int(asyncio.run(cmd_run(args, settings, console)))
    console.print(render("note.j2", "terminal", what="no_token"))
    return cmd_shell(args, settings, console)


class OneLineParser(argparse.ArgumentParser):
    """argparse with its errors in one line, as every other error of the command line,
    naming where the usage is instead of printing it (subcommands' parsers are of this
    class too)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m bot",
        description="Answer questions about German news articles with verbatim quotes.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument(
        "question", help="the question, in English or German; - reads one per line from stdin"
    )
    ask.add_argument("-k", type=_k, default=3, help="number of quotes (default 3)")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--explain", action="store_true", help="show how the question was read")
    ask.add_argument(
        "--gloss", action="store_true", help="list the first quote's words with their senses"
    )
    ask.add_argument("--no-abstain", action="store_true", help="show passages even when unsure")
    scoped(ask)
    ask.set_defaults(handler=cmd_ask)

    search = sub.add_parser("search", help="list the matching passages, a page at a time")
    search.add_argument("query", help="words to look for, in English or German")
    search.add_argument("-k", type=_k, default=5, help="passages per page (default 5)")
    search.add_argument("--page", type=_page, default=1, help="which page (default 1)")
    search.add_argument("--json", action="store_true", help="print one JSON object")
    scoped(search)
    search.set_defaults(handler=cmd_search)

    sub.add_parser("sources", help="list the indexed articles").set_defaults(handler=cmd_sources)
    src = sub.add_parser("source", help="show an article's paragraphs, or one paragraph")
    src.add_argument("article", help="the article's id, or (part of) its title")
    src.add_argument("paragraph", type=_paragraph, nargs="?", default=None, help="paragraph number")
    src.set_defaults(handler=cmd_source)
    stats = sub.add_parser("stats", help="questions asked and answered, and feedback")
    stats.set_defaults(handler=cmd_stats)

    rx = sub.add_parser("reindex", help="rebuild the index from the articles directory")
    rx.add_argument("--seeds", type=Path, default=None, help="articles directory")
    rx.add_argument(
        "--rebuild",
        action="store_true",
        help="move the database aside (kept as .bak) and build a fresh one",
    )
    rx.set_defaults(handler=cmd_reindex)

    ev = sub.add_parser("eval", help="measure answer quality on JSONL question sets")
    ev.add_argument("files", type=Path, nargs="+", metavar="FILE", help="JSONL question sets")
    ev.add_argument(
        "--articles",
        type=Path,
        default=None,
        metavar="DIR",
        help="index DIR into a temporary database and evaluate there",
    )
    ev.add_argument("--verbose", action="store_true", help="list each miss")
    ev.add_argument("--json", action="store_true", help="print the figures as JSON")
    ev.add_argument(
        "--ranking",
        choices=("all", "hybrid", "lexical", "dense"),
        default="all",
        help="which ranking to measure (all: lexical, dense and hybrid side by side)",
    )
    ev.set_defaults(handler=cmd_eval)

    run = sub.add_parser("run", help="start the Discord bot (needs DISCORD_TOKEN)")
    run.set_defaults(handler=cmd_run)

    for name, handler, text in (
        ("shell", cmd_shell, "interactive terminal session"),
        ("start", cmd_start, "the main job (bot or terminal)"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("-k", type=_k, default=3, help="quotes per answer")
        p.set_defaults(handler=handler)
    return parser


def scoped(parser: argparse.ArgumentParser) -> None:
    """The filters ``/ask`` and ``/search`` have."""
    parser.add_argument("--source", metavar="ARTICLE", help="only this article (id or title)")
    parser.add_argument("--since", metavar="DATE", help="only articles from this date on")
    parser.add_argument("--until", metavar="DATE", help="only articles up to this date")


def _number(low: int | None, high: int | None = None) -> Callable[[str], int]:
    """An argument's parser: a whole number from ``low`` (to ``high``; None: any)."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
        if low is None:  # the command itself says what range fits ("paragraphs 1–9")
            return number
        if number < low or (high is not None and number > high):
            bounds = f"between {low} and {high}" if high is not None else f"{low} or more"
            raise argparse.ArgumentTypeError(f"must be {bounds}")
        return number

    return parse


_k = _number(1, MAX_K)
_page = _number(1)
_paragraph = _number(None)


Handler = Callable[[argparse.Namespace, Settings, Console], int | Coroutine[Any, Any, int]]


def run_command(handler: Handler, args: argparse.Namespace) -> int:
    """Run a command with the settings and a console; any error is one line. Returns the
    exit status (the benchmark commands run through here too)."""
    # Wrap at word boundaries for a terminal (or a width given in COLUMNS); piped output
    # keeps one line per paragraph, for other programs to read.
    wrap = sys.stdout.isatty() or "COLUMNS" in os.environ
    console = Console(stderr=False, soft_wrap=not wrap)
    errors = Console(stderr=True, soft_wrap=True)
    try:
        settings = load_settings()
    except SettingsProblem as exc:
        errors.print(f"error: {exc}", highlight=False, markup=False)
        return 2
    try:
        outcome = handler(args, settings, console)
        if asyncio.iscoroutine(outcome):
            outcome = asyncio.run(outcome)
        return int(outcome)
    except CliError as exc:
        errors.print(f"error: {exc}", highlight=False, markup=False)
        return exc.code
    except StorageError as exc:  # any database trouble not reported above: still one line
        errors.print(f"error: {exc}", highlight=False, markup=False)
        return 1
    except KeyboardInterrupt:
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_command(args.handler, args)
