"""The command line's ``eval``: answer quality on JSONL question sets, lexical, dense and
hybrid side by side, over the user's database or a temporary one of other articles."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import Any

from rich.console import Console

from bot.render import render
from bot.settings import Settings
from bot.startup import CliError, open_engine
from index.evaluation import AskedBefore, EvalQuestion, evaluate, load_questions
from index.records import understood_line


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
    if args.articles is not None and not args.articles.is_dir():
        what = "is not a directory" if args.articles.exists() else "does not exist"
        raise CliError(f"--articles {args.articles} {what}; give the directory of articles", 2)
    with tempfile.TemporaryDirectory(prefix="newsbot-eval-") as tmp:
        if args.articles is not None:
            # A throwaway database: evaluating other articles never touches the user's.
            settings = settings.model_copy(
                update={
                    "articles_dir": args.articles,
                    "database_path": Path(tmp) / "eval.db",
                    "database_url": None,
                }
            )
        opened = await open_engine(settings)
        await opened.close()
        engine = opened.engine
    if args.ranking != "all":
        rankings = [args.ranking]
    else:  # the product's ranking last, so its detail is what stays on screen
        rankings = ["lexical", "dense", "hybrid"] if engine.dense is not None else ["lexical"]
    asked: AskedBefore = {}  # files that share questions ask each once
    reports = [
        (path, ranking, evaluate(engine, questions, ranking, asked=asked))
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
                understood=partial(understood_line, every=True),
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
