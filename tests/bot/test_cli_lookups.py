"""The command line's lookups, run as ``python -m bot ...`` in a subprocess: what
``/sources``, ``/source`` and ``/stats`` show in Discord, and batch answers as text.

A file of its own, so that the test workers run it beside ``test_cli.py``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from index.corpus import load_articles
from tests.botcli import Run, assert_no_traceback, run_bot
from tests.conftest import SEEDS

COMMIT = "What did the US commit to?"
WORLD_CUP = "Wer hat die Fußball-Weltmeisterschaft gewonnen?"


def run(database: Path, *args: str, stdin: str | None = None) -> Run:
    return run_bot(database, *args, stdin=stdin)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database indexed from the seeds, for every test of this file."""
    path = tmp_path_factory.mktemp("lookups") / "newsbot.sqlite3"
    result = run(path, "reindex")
    assert result.returncode == 0, result.stderr
    return path


def test_ask_from_stdin_as_text_heads_each_answer_with_its_question(database: Path) -> None:
    result = run(database, "ask", "-", stdin=f"{COMMIT}\n{WORLD_CUP}\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"── {COMMIT}" in out and f"── {WORLD_CUP}" in out
    assert out.index(f"── {COMMIT}") < out.index("verpflichten") < out.index(f"── {WORLD_CUP}")


def test_ask_from_stdin_heads_a_huge_question_with_its_start(database: Path) -> None:
    huge = "Truppen " * 30_000
    result = run(database, "ask", "-", stdin=huge + "\n")
    assert result.returncode == 0, result.stderr
    header = result.stdout.splitlines()[0]
    assert header.startswith("── Truppen Truppen") and header.endswith("…")
    assert len(header) <= 210, len(header)


@pytest.mark.parametrize("stdin", ["", "\n  \n"])
def test_ask_from_empty_stdin_says_so(database: Path, stdin: str) -> None:
    result = run(database, "ask", "-", stdin=stdin)
    assert result.returncode == 2
    assert result.stderr == "error: no question on standard input; give one question per line\n"


# --- the articles: what /sources, /source and /stats show in Discord -------------------


def test_sources_lists_every_article_with_its_paragraphs(database: Path) -> None:
    result = run(database, "sources")
    assert result.returncode == 0, result.stderr
    articles = load_articles(SEEDS)[0]
    for article in articles:
        assert article.title in result.stdout
        assert f"{len(article.passages)} paragraphs" in result.stdout
        assert f"· {article.id}\n" in result.stdout  # no Discord backticks in a terminal
    assert f"{sum(len(a.passages) for a in articles)} passages" in result.stdout


def test_source_shows_an_article_or_one_paragraph_verbatim(database: Path) -> None:
    article = load_articles(SEEDS)[0][1]
    overview = run(database, "source", article.id)
    assert overview.returncode == 0, overview.stderr
    assert article.title in overview.stdout and "¶1" in overview.stdout
    paragraph = run(database, "source", article.id, "2")
    assert paragraph.returncode == 0, paragraph.stderr
    second = article.passages[1]
    assert article.text[second.start : second.end] in paragraph.stdout.replace("\n", " ")
    assert "paragraph 2" in paragraph.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("source", "zzzz"), "No article matches “zzzz”. `python -m bot sources` lists them."),
        (
            ("source", "Trupen"),
            "No article matches “Trupen”. Did you mean one of these? "
            "“26 Staaten wollen Truppen entsenden”",
        ),
        (("source", "Truppen", "99"), "That article has paragraphs 1–9."),
    ],
)
def test_source_of_nothing_is_one_line_that_says_what_to_do(
    database: Path, args: Sequence[str], says: str
) -> None:
    result = run(database, *args)
    assert result.returncode == 2
    assert_no_traceback(result)
    assert result.stderr == f"error: {says}\n"  # not even a blank line before it


def test_a_source_that_names_several_articles_lists_them(database: Path) -> None:
    articles = sorted(load_articles(SEEDS)[0], key=lambda a: a.id)
    prefix = articles[0].id[:1]
    assert all(a.id.startswith(prefix) for a in articles)  # "0" starts every id
    result = run(database, "source", prefix)
    assert result.returncode == 2
    listed = "; ".join(f"{a.id} “{a.title}”" for a in articles)
    assert result.stderr == f"error: “{prefix}” matches 2 articles. Which one? {listed}\n"


def test_stats_counts_the_questions_asked(tmp_path: Path) -> None:
    fresh = tmp_path / "stats.sqlite3"
    assert run(fresh, "ask", WORLD_CUP).returncode == 0  # builds the index first
    result = run(fresh, "stats")
    assert result.returncode == 0, result.stderr
    assert "1 asked · 0 answered" in result.stdout
    assert f"1× {WORLD_CUP}" in result.stdout


def test_a_question_pasted_from_discord_loses_its_markup(database: Path) -> None:
    result = run(database, "ask", "--json", "<@123456> Wer nahm an dem Treffen teil? <#42>")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["question"] == "Wer nahm an dem Treffen teil?"
    assert not any("123456" in u or "42" in u for u in answer["understood_as"])
