"""The real command line, run as ``python -m bot ...`` in a subprocess."""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from index.artifacts import HEADER_SIZE
from index.corpus import load_articles
from index.records import Snapshot
from index.store import IndexStore
from tests.botcli import Run, assert_no_traceback, run_bot
from tests.conftest import DEV_SET, RESULT_KEYS, SEEDS

COMMIT = "What did the US commit to?"
WORLD_CUP = "Wer hat die Fußball-Weltmeisterschaft gewonnen?"
# about a name the articles never mention, in words they do use: declined, yet it matches
ABOUT_CHINA = "Was hat China zu den Truppen gesagt?"


def run(database: Path, *args: str, stdin: str | None = None, **settings: str) -> Run:
    return run_bot(database, *args, stdin=stdin, **settings)


def seed_passage_count() -> int:
    articles, skipped = load_articles(SEEDS)
    assert not skipped
    return sum(len(a.passages) for a in articles)


@pytest.fixture(scope="module")
def reindexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Run]:
    """One database indexed from the seeds by ``python -m bot reindex``, for every test."""
    database = tmp_path_factory.mktemp("cli") / "newsbot.sqlite3"
    return database, run(database, "reindex")


@pytest.fixture(scope="module")
def database(reindexed: tuple[Path, Run]) -> Path:
    path, result = reindexed
    assert result.returncode == 0, result.stderr
    return path


@pytest.fixture(scope="module")
def commit_json(database: Path) -> Run:
    return run(database, "ask", COMMIT, "--json")


# --- reindex ----------------------------------------------------------------------------


def test_reindex_prints_a_summary(reindexed: tuple[Path, Run]) -> None:
    database, result = reindexed
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    assert "Reindex finished" in result.stdout
    assert f"2 articles, {seed_passage_count()} passages" in result.stdout
    assert "Skipped" not in result.stdout
    with closing(sqlite3.connect(database)) as conn:
        (active,) = conn.execute("SELECT value FROM meta WHERE key = 'active_build'").fetchone()
        states = conn.execute("SELECT build_id, state FROM builds").fetchall()
    assert states == [(active, "ready")]


def test_reindex_skips_a_bad_file_and_indexes_the_rest(tmp_path: Path) -> None:
    seeds = tmp_path / "articles"
    seeds.mkdir()
    good = SEEDS / "001_3254392af1d010b4.txt"
    (seeds / good.name).write_bytes(good.read_bytes())
    (seeds / "broken.txt").write_bytes(b"Kaputte Datei\nGr\xfc\xdfe aus M\xfcnchen.\n")

    result = run(tmp_path / "db.sqlite3", "reindex", "--seeds", str(seeds))
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    passages = len(load_articles(seeds)[0][0].passages)
    assert f"1 articles, {passages} passages" in result.stdout
    skipped = [line for line in result.stdout.splitlines() if line.startswith("Skipped")]
    assert len(skipped) == 1, result.stdout
    assert "broken.txt" in skipped[0]
    assert "not valid UTF-8" in skipped[0]

    # The good article really is answerable from that database.
    answer = run(
        tmp_path / "db.sqlite3", "ask", "Wie viele Staaten wollen Truppen entsenden?", "--json"
    )
    assert answer.returncode == 0, answer.stderr
    data = json.loads(answer.stdout)
    assert data["answered"] is True
    assert {r["article_id"] for r in data["results"]} == {"001_3254392af1d010b4"}


def test_reindex_of_an_empty_directory_is_one_line_and_keeps_the_index(
    database: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "articles"
    empty.mkdir()
    message = one_line_error(run(database, "reindex", "--seeds", str(empty)))
    assert f"no articles in {empty}" in message, message
    still = run(database, "ask", COMMIT, "--json")
    assert still.returncode == 0 and json.loads(still.stdout)["answered"] is True


# --- ask ----------------------------------------------------------------------------------


def test_ask_gloss_lists_the_first_quotes_words_with_dictionary_senses(database: Path) -> None:
    result = run(database, "ask", "What did Merz promise on air defence?", "--gloss")
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    answer, gloss = result.stdout.split("Words of quote [1] and their English senses", 1)
    assert "Luftverteidigung eine deutliche Steigerung zugesagt" in answer  # the quote, German
    # the question's sense first, marked with a * where no bold can show (a pipe)
    assert "• zugesagt — promise*; " in gloss
    assert "• Luftverteidigung — air defence*; " in gloss
    assert "Marked *: the sense your question matched." in gloss
    assert "(compound: Luft " in gloss and " + Verteidigung " in gloss
    assert "Glosses are dictionary entries (Ding), not a translation." in gloss

    german = run(database, "ask", "Was hat Merz bei der Luftverteidigung zugesagt?", "--gloss")
    assert german.returncode == 0, german.stderr
    assert "Wörter aus Zitat [1] und ihre englischen Bedeutungen" in german.stdout
    assert "Glossen sind Wörterbucheinträge (Ding), keine Übersetzung." in german.stdout
    # a German question asks in no English sense: no mark to explain
    assert "*" not in german.stdout.split("englischen Bedeutungen", 1)[1]
    assert "Mit * markiert" not in german.stdout


def test_ask_json(commit_json: Run, database: Path) -> None:
    assert commit_json.returncode == 0, commit_json.stderr
    assert_no_traceback(commit_json)
    lines = commit_json.stdout.strip().splitlines()
    assert len(lines) == 1, commit_json.stdout
    data: dict[str, Any] = json.loads(lines[0])
    assert isinstance(data, dict)
    assert {"question", "language", "answered", "results", "understood_as"} <= data.keys()
    assert data["question"] == COMMIT
    assert data["language"] == "en"
    assert data["answered"] is True
    assert isinstance(data["understood_as"], list) and data["understood_as"]
    results: list[dict[str, Any]] = data["results"]
    assert 1 <= len(results) <= 3
    assert [r["rank"] for r in results] == list(range(1, len(results) + 1))
    assert "verpflichten sich die USA" in results[0]["quote"]
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    for r in results:
        assert r.keys() >= RESULT_KEYS
        text = (SEEDS / f"{r['article_id']}.txt").read_text(encoding="utf-8")
        assert r["quote"] and r["quote"] in text
        assert r["quote"] in r["passage"]
        assert r["passage"] in text
        assert text[r["quote_start"] : r["quote_end"]] == r["quote"]
        assert isinstance(r["paragraph"], int) and r["paragraph"] >= 1
        assert r["title"]
    assert results[0]["date"] == "2026-01-06"

    # The question went into the log.
    with closing(sqlite3.connect(database)) as conn:
        logged = conn.execute(
            "SELECT answered, origin FROM questions WHERE question = ?", (COMMIT,)
        ).fetchall()
    assert (1, "cli") in logged


def test_ask_text(database: Path, commit_json: Run) -> None:
    expected = json.loads(commit_json.stdout)["results"][0]
    result = run(database, "ask", COMMIT)
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    out = result.stdout
    assert expected["quote"] in out
    assert expected["title"] in out
    understood = [line for line in out.splitlines() if line.startswith("Understood as:")]
    assert len(understood) == 1, out
    assert "US → " in understood[0] and "verpflichten" in understood[0]


def test_ask_unanswerable(database: Path) -> None:
    text = run(database, "ask", WORLD_CUP)
    assert text.returncode == 0, text.stderr
    assert_no_traceback(text)
    assert "Dazu steht nichts in den Artikeln" in text.stdout

    as_json = run(database, "ask", WORLD_CUP, "--json")
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["answered"] is False
    assert data["results"] == []
    assert data["language"] == "de"


def test_ask_without_abstaining_says_when_the_articles_seem_not_to_answer(database: Path) -> None:
    doubtful = run(database, "ask", ABOUT_CHINA, "--no-abstain", "-k", "1")
    assert doubtful.returncode == 0, doubtful.stderr
    assert "Das beantworten die Artikel wohl nicht; die nächsten Stellen:" in doubtful.stdout
    assert "> [1]" in doubtful.stdout
    data = json.loads(run(database, "ask", ABOUT_CHINA, "--no-abstain", "--json").stdout)
    assert data["answered"] is True and data["doubtful"] is True and data["results"]

    sure = run(database, "ask", COMMIT, "--no-abstain", "-k", "1")
    assert "Here is what the articles say:" in sure.stdout, sure.stdout
    assert (
        json.loads(run(database, "ask", COMMIT, "--no-abstain", "--json").stdout)["doubtful"]
        is False
    )


def one_line_error(result: Run) -> str:
    """The failure's message: non-zero exit, no traceback, one line on stderr."""
    assert result.returncode != 0, result.stdout
    assert_no_traceback(result)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


def test_ask_before_any_reindex_builds_the_index_first(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    shutil.copytree(SEEDS, articles)
    database = tmp_path / "fresh" / "newsbot.sqlite3"
    result = run(database, "ask", COMMIT, "--json", ARTICLES_DIR=str(articles))
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    assert json.loads(result.stdout)["answered"] is True  # stdout holds only the answer
    assert "building it from the articles" in result.stderr
    assert database.is_file()
    # Built once: the next question uses the stored index.
    again = run(database, "ask", COMMIT, ARTICLES_DIR=str(articles))
    assert again.returncode == 0 and "building" not in again.stderr, again.stderr


def test_an_index_stored_in_an_older_format_is_rebuilt_on_first_use(
    database: Path, tmp_path: Path
) -> None:
    old = tmp_path / "old.sqlite3"
    with closing(sqlite3.connect(database)) as source, closing(sqlite3.connect(old)) as copy:
        source.backup(copy)
        # as the version before versioned formats wrote it: postings without a header, and
        # another fingerprint of the inputs (the code was another)
        (blob,) = copy.execute("SELECT postings FROM builds").fetchone()  # the one build
        copy.execute("UPDATE builds SET postings = ?, inputs = 'older'", (blob[HEADER_SIZE:],))
        copy.commit()
    result = run(old, "ask", COMMIT, "--json")
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    assert "built by an older version: rebuilding" in " ".join(result.stderr.split())
    assert json.loads(result.stdout)["answered"] is True


@pytest.mark.parametrize("command", ["ask", "eval", "shell"])
@pytest.mark.parametrize("articles", ["empty", "missing"])
def test_a_first_use_build_that_fails_is_one_line_and_leaves_no_file(
    tmp_path: Path, command: str, articles: str
) -> None:
    directory = tmp_path / "articles"
    if articles == "empty":
        directory.mkdir()
    questions = tmp_path / "questions.jsonl"
    questions.write_text(json.dumps({"question": COMMIT, "expect_any": ["USA"]}) + "\n")
    args = {"ask": ("ask", COMMIT), "eval": ("eval", str(questions)), "shell": ("shell",)}
    database = tmp_path / "data" / "newsbot.sqlite3"
    result = run(database, *args[command], stdin=":quit\n", ARTICLES_DIR=str(directory))
    message = one_line_error(result)
    assert str(directory) in message, message
    assert not database.exists()
    assert not list(database.parent.glob("*")) if database.parent.exists() else True


@pytest.fixture
def damaged_database(tmp_path: Path, seed_snapshot: Snapshot) -> Path:
    """A database whose header and schema are intact but whose data pages are garbage."""
    database = tmp_path / "newsbot.sqlite3"

    async def build() -> None:
        async with await IndexStore.open(database) as storage:
            await storage.save_snapshot(seed_snapshot)

    asyncio.run(build())
    assert not database.with_name(database.name + "-wal").exists()
    data = bytearray(database.read_bytes())
    page = 4096
    pages = len(data) // page
    for number in range(pages // 3, 2 * pages // 3):
        data[number * page : (number + 1) * page] = b"\xab" * page
    database.write_bytes(bytes(data))

    async def still_opens() -> None:  # the damage is inside: opening alone does not see it
        async with await IndexStore.open(database):
            pass

    asyncio.run(still_opens())
    return database


@pytest.mark.parametrize("command", ["ask", "eval", "shell", "start", "reindex"])
def test_a_database_damaged_inside_is_one_line_from_every_command(
    damaged_database: Path, tmp_path: Path, command: str
) -> None:
    questions = tmp_path / "questions.jsonl"
    questions.write_text(json.dumps({"question": COMMIT, "expect_any": ["USA"]}) + "\n")
    args = {
        "ask": ("ask", COMMIT),
        "eval": ("eval", str(questions)),
        "shell": ("shell",),
        "start": ("start",),
        "reindex": ("reindex",),
    }
    articles = tmp_path / "articles"
    shutil.copytree(SEEDS, articles)
    result = run(damaged_database, *args[command], stdin=":quit\n", ARTICLES_DIR=str(articles))
    message = one_line_error(result)
    assert "python -m bot reindex --rebuild" in message, message


def test_ask_on_a_corrupt_database(tmp_path: Path) -> None:
    database = tmp_path / "newsbot.sqlite3"
    database.write_bytes(b"definitely not SQLite " * 200)
    result = run(database, "ask", COMMIT)
    assert result.returncode != 0
    assert_no_traceback(result)
    assert "reindex --rebuild" in " ".join(result.stderr.split())


def test_ask_reads_max_question_chars(database: Path) -> None:
    question = COMMIT + " " + " ".join(["Und was sagten die Verbündeten dazu?"] * 4)
    assert len(question) > 100
    result = run(database, "ask", question, "--json", MAX_QUESTION_CHARS="50")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["truncated"] is True
    assert len(data["question"]) <= 50 and COMMIT.startswith(data["question"][:20])
    text = run(database, "ask", question, MAX_QUESTION_CHARS="50")
    assert "I only read its beginning" in text.stdout
    whole = json.loads(run(database, "ask", question, "--json").stdout)  # default 500
    assert whole["truncated"] is False


@pytest.mark.parametrize(
    "args",
    [
        ("ask",),
        ("ask", "x", "-k", "0"),
        ("ask", "   "),
        ("ask", "\u200b\u200d\u2060"),
        ("search", "   "),
        ("search", "x", "--page", "0"),
        ("eval", "missing.jsonl"),
        ("frobnicate",),
        ("source", "000", "abc"),
    ],
    ids=[
        "ask-without-question",
        "k-zero",
        "blank-question",
        "invisible-question",
        "blank-search",
        "page-zero",
        "eval-missing-file",
        "unknown-command",
        "paragraph-not-a-number",
    ],
)
def test_bad_arguments(database: Path, args: Sequence[str]) -> None:
    result = run(database, *args)
    assert result.returncode == 2
    assert_no_traceback(result)
    # one line, as every error of the command line: argparse's too, without its usage
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    if args[-1] == "abc":  # a number's error reads alike wherever a number is asked for
        assert "not a number: 'abc'" in lines[0]


# --- search and filters ----------------------------------------------------------------

SEARCH = "Truppen in der Ukraine"


def test_search_lists_the_passages_a_page_at_a_time(database: Path) -> None:
    first = json.loads(run(database, "search", SEARCH, "-k", "2", "--json").stdout)
    second = json.loads(run(database, "search", SEARCH, "-k", "2", "--page", "2", "--json").stdout)
    assert first["answered"] and second["answered"]
    assert [r["rank"] for r in first["results"]] == [1, 2]
    assert [r["rank"] for r in second["results"]] == [3, 4]
    seen = {r["passage_id"] for r in first["results"]}
    assert seen.isdisjoint(r["passage_id"] for r in second["results"])
    total = first["total_hits"]
    assert total == second["total_hits"] > 4

    text = run(database, "search", SEARCH, "-k", "2")
    assert text.returncode == 0, text.stderr
    assert f"1–2 von {total} · weiter: --page 2" in text.stdout
    assert text.stdout.count("Absatz") == 2  # a German query: the German labels
    english = run(database, "search", "troops in Ukraine", "-k", "2")
    assert english.stdout.count("paragraph") == 2 and "Absatz" not in english.stdout
    past = run(database, "search", SEARCH, "--page", "99")
    assert past.returncode == 0, past.stderr
    assert f"Seite 99 liegt hinter der letzten ({-(-total // 5)})." in past.stdout


def test_search_of_words_the_articles_lack_says_the_passages_are_only_the_nearest(
    database: Path,
) -> None:
    result = run(database, "search", ABOUT_CHINA, "-k", "1")
    assert result.returncode == 0, result.stderr
    assert "Das steht wohl nicht in den Artikeln; die nächsten Stellen:" in result.stdout
    plain = run(database, "search", SEARCH, "-k", "1")
    assert "nicht in den Artikeln" not in plain.stdout
    # a word of a section heading only: matched by its words, not "by meaning"
    heading = json.loads(run(database, "search", "verständigt", "--json").stdout)
    assert heading["results"] and not any(r["by_meaning"] for r in heading["results"])
    assert all(r["matched"] == [] for r in heading["results"])  # the quote lacks the word


def test_ask_and_search_keep_to_the_article_and_dates_given(database: Path) -> None:
    articles, _ = load_articles(SEEDS)
    one = articles[0]
    asked = json.loads(run(database, "ask", COMMIT, "--source", one.id, "--json").stdout)
    assert asked["results"]
    assert {r["article_id"] for r in asked["results"]} == {one.id}
    # a question the article does not answer names only that article as searched
    declined = run(database, "ask", ABOUT_CHINA, "--source", one.id)
    others = [a.title for a in articles if a.id != one.id]
    assert "Durchsucht: " + one.title in declined.stdout
    assert not any(title in declined.stdout for title in others)
    dated = [a for a in articles if a.date]
    assert dated, "the tests' articles are dated"
    later = max(str(a.date) for a in dated)
    found = json.loads(run(database, "search", SEARCH, "--since", later, "--json").stdout)
    assert found["results"]
    # an article without a date is left out by a date filter
    newest = {a.id for a in dated if str(a.date) == later}
    assert {r["article_id"] for r in found["results"]} == newest


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "2026-13-01"), "error: --since must be a date like 2026-01-06."),
        (("--since", "2026-02-01", "--until", "2026-01-01"), "error: --since is after --until."),
        (("--source", "no such article"), "No article matches"),
        (("--source", ""), "No article matches"),
    ],
    ids=["bad-date", "dates-reversed", "unknown-article", "empty-source"],
)
def test_a_bad_filter_is_one_line(database: Path, args: Sequence[str], message: str) -> None:
    for command in ("ask", "search"):
        result = run(database, command, COMMIT, *args)
        assert result.returncode == 2
        assert_no_traceback(result)
        assert message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


# --- eval and shell -------------------------------------------------------------------


def test_eval_text(database: Path) -> None:
    assert DEV_SET.is_file(), f"dev set missing at {DEV_SET}"
    result = run(database, "eval", str(DEV_SET))
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    out = result.stdout
    for figure in ("hit@1", "hit@3", "MRR", "abstention"):
        assert figure in out, out
    questions = sum(1 for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip())
    assert f": {questions} questions" in out


def test_eval_verbose_lists_each_miss_with_how_it_was_understood(
    database: Path, tmp_path: Path
) -> None:
    questions = tmp_path / "miss.jsonl"
    questions.write_text(  # answerable, but no passage holds the expected words
        '{"question": "What did the US commit to?", "expect_any": ["Nichtvorhandenes"],'
        ' "answerable": true}\n',
        encoding="utf-8",
    )
    result = run(database, "eval", str(questions), "--verbose")
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    assert "understood: US → USA" in " ".join(result.stdout.split()), result.stdout


def test_eval_of_a_directory_is_one_line(database: Path, tmp_path: Path) -> None:
    message = one_line_error(run(database, "eval", str(tmp_path)))
    assert str(tmp_path) in message and "directory" in message, message


def test_eval_of_articles_that_are_not_there_names_the_option(
    database: Path, tmp_path: Path
) -> None:
    result = run(database, "eval", str(DEV_SET), "--articles", str(tmp_path / "absent"))
    assert result.returncode == 2
    assert one_line_error(result) == (
        f"error: --articles {tmp_path / 'absent'} does not exist; give the directory of articles"
    )


@pytest.mark.parametrize("content", ["", "\n  \n"], ids=["empty", "blank-lines"])
def test_eval_of_a_file_without_questions_says_so(
    database: Path, tmp_path: Path, content: str
) -> None:
    questions = tmp_path / "none.jsonl"
    questions.write_text(content, encoding="utf-8")
    message = one_line_error(run(database, "eval", str(questions)))
    assert "no questions" in message, message
    assert "precision" not in message


def test_eval_json(database: Path) -> None:
    result = run(database, "eval", str(DEV_SET), "--json")
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    summary = json.loads(result.stdout)
    assert summary["hit@1"] >= 0.9, summary
    assert summary["hit@1"] <= summary["hit@3"] <= 1.0
    assert 0.0 <= summary["mrr"] <= 1.0
    assert {"abstention_precision", "abstention_recall"} <= summary.keys()


def test_shell_answers_from_stdin(database: Path) -> None:
    result = run(database, "shell", stdin=f"{COMMIT}\n:quit\n")
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    assert "verpflichten sich die USA" in result.stdout
    assert "Understood as:" in result.stdout


def test_eval_of_other_articles_uses_a_temporary_database(database: Path, tmp_path: Path) -> None:
    """``eval --articles DIR`` indexes DIR apart: the user's database is never touched."""
    articles = tmp_path / "other"
    articles.mkdir()
    (articles / "rom.md").write_text(
        "---\ntitle: Gipfel in Rom\ndate: 2026-02-01\n---\n"
        "Die Minister trafen sich in Rom und beschlossen einen Fonds für Schulen.\n\n"
        "Der Fonds umfasst zwei Milliarden Euro.\n\n"
        "Das Wetter war am ersten Tag regnerisch, am zweiten sonnig.\n\n"
        "Die Delegationen reisten mit dem Zug aus Mailand an.\n\n"
        "Ein Abendessen im Palast beendete das Treffen.\n\n"
        "Die Presse berichtete ausführlich über die Beschlüsse.\n",
        encoding="utf-8",
    )
    questions = tmp_path / "rom.jsonl"
    rows = [
        {
            "id": "r1",
            "lang": "de",
            "question": "Wo trafen sich die Minister?",
            "expect_any": ["in Rom"],
        },
        {
            "id": "r2",
            "lang": "en",
            "question": "How large is the fund?",
            "expect_any": ["zwei Milliarden Euro"],
        },
        {
            "id": "r3",
            "lang": "en",
            "question": "Who won the football world cup?",
            "answerable": False,
        },
    ]
    questions.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    before = database.stat().st_mtime_ns if database.exists() else None
    result = run(database, "eval", str(questions), str(DEV_SET), "--articles", str(articles))
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    assert "All sets" in result.stdout and "quote@1" in result.stdout
    assert (database.stat().st_mtime_ns if database.exists() else None) == before

    table = result.stdout[result.stdout.index("All sets") :].splitlines()
    # set, ranking, lang, …: the command line is lexical here (ENCODER=none)
    rom = {line.split()[2]: line.split()[3:] for line in table if line.startswith("rom ")}
    # lang → n, hit@1, hit@3, MRR, quote@1, abstention precision, recall, false abstentions
    assert rom["de"][:5] == ["1", "1.000", "1.000", "1.000", "1.000"], table
    assert rom["en"][0] == "2" and rom["en"][-1] == "0", table  # one answerable, one not
    assert rom["en"][6] == "1.000", table  # the world cup question abstained


def test_ask_reads_questions_from_stdin(database: Path) -> None:
    result = run(database, "ask", "--json", "-", stdin=f"{COMMIT}\n\n{WORLD_CUP}\n")
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["question"] for a in answers] == [COMMIT, WORLD_CUP]
    assert answers[0]["answered"] and not answers[1]["answered"]
    assert answers[0]["results"][0].keys() >= RESULT_KEYS


# --- independence from the developer's own setup ---------------------------------------


def test_a_users_articles_env_file_and_environment_change_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An extra article in a project's ``seeds/``, a ``.env`` there and ``ARTICLES_DIR``
    in the environment do not reach a test's ``python -m bot``."""
    project = tmp_path / "project"
    (project / "seeds").mkdir(parents=True)
    for article in SEEDS.iterdir():
        (project / "seeds" / article.name).write_bytes(article.read_bytes())
    (project / "seeds" / "rom.txt").write_text(
        "---\ntitle: Gipfel in Rom\n---\nItalien sagte zu, zwei Fregatten zu stellen.\n",
        encoding="utf-8",
    )
    (project / ".env").write_text(
        "ARTICLES_DIR=seeds\nDATABASE_PATH=theirs.sqlite3\nDICTIONARY_PATH=/nonexistent\n"
        "GLOSSARY_PATH=missing.txt\nMAX_QUESTION_CHARS=5\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("ARTICLES_DIR", str(project / "seeds"))
    monkeypatch.setenv("MAX_QUESTION_CHARS", "5")
    database = tmp_path / "db.sqlite3"

    result = run_bot(database, "reindex", cwd=project)
    assert result.returncode == 0, result.stderr
    assert f"2 articles, {seed_passage_count()} passages" in result.stdout
    assert "Warning" not in result.stdout  # the real dictionary, no missing glossary
    assert database.is_file() and not (project / "theirs.sqlite3").exists()
    answer = json.loads(run_bot(database, "ask", COMMIT, "--json", cwd=project).stdout)
    assert answer["question"] == COMMIT and answer["answered"] is True


@pytest.mark.parametrize("args", [("reindex",), ("ask", "x")], ids=["reindex", "ask"])
def test_a_missing_articles_directory_names_where_it_looked_and_the_setting(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    result = run(tmp_path / "db.sqlite3", *args, ARTICLES_DIR="nowhere")
    assert result.returncode != 0
    assert_no_traceback(result)
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: articles directory not found: nowhere (/"), line
    assert "ARTICLES_DIR" in line, line


def test_an_articles_directory_that_is_a_file_says_so(tmp_path: Path) -> None:
    article = tmp_path / "one.txt"
    article.write_text("Ein Absatz.\n", encoding="utf-8")
    result = run(tmp_path / "db.sqlite3", "reindex", ARTICLES_DIR=str(article))
    assert result.returncode != 0
    assert_no_traceback(result)
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"error: the articles directory is not a directory: {article}")
    assert "ARTICLES_DIR" in line, line
