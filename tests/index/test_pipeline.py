"""The reindex pipeline: progress while each step runs, and nothing rebuilt when nothing
changed (index/pipeline.py)."""

from __future__ import annotations

import itertools
import os
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from bot.render import render
from index.locks import ReindexBusyError
from index.pipeline import CHILD_NICENESS, reindex, reindex_lock, reindex_running, run_in_child
from index.sources import Sources, inputs_fingerprint
from index.sqlite import SqliteDatabase
from index.store import IndexStore
from tests.conftest import SEEDS, THESAURUS, cache_dir, dictionary_path

STAGES = {"parse", "dictionary", "analyse", "index", "lexicon", "store"}


async def test_every_step_reports_progress_when_it_begins(tmp_path: Path) -> None:
    """A progress bar appears when its step begins, not when it is over: the first event
    of every stage says ``done`` 0, and comes before the stage's last one, which says
    the step is complete."""
    events: list[tuple[str, int, int]] = []
    sources = Sources(SEEDS, dictionary_path(), cache_dir=cache_dir())
    async with await IndexStore.open(tmp_path / "db.sqlite3") as storage:
        await reindex(storage, sources, progress=lambda *e: events.append(e))

    positions: dict[str, list[int]] = defaultdict(list)
    for n, (stage, _, _) in enumerate(events):
        positions[stage].append(n)
    assert set(positions) == STAGES, events
    for stage, where in positions.items():
        first, last = events[where[0]], events[where[-1]]
        assert first[1] == 0, (stage, events)
        assert where[0] < where[-1], (stage, events)
        assert last[1] == last[2], (stage, events)
    # The steps follow each other: a stage's events are not interleaved with later ones.
    order = sorted(positions, key=lambda s: positions[s][0])
    assert order == ["parse", "dictionary", "analyse", "index", "lexicon", "store"]
    for earlier, later in itertools.pairwise(order):
        assert positions[earlier][-1] < positions[later][0], events


async def test_a_reindex_with_nothing_changed_rebuilds_nothing(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    shutil.copytree(SEEDS, articles)
    glossary = tmp_path / "glossary.txt"
    glossary.write_text("Fritz = Merz\n", encoding="utf-8")
    thesaurus = tmp_path / "thesaurus.txt"
    sources = Sources(
        articles,
        None,
        glossary_path=glossary,
        cache_dir=tmp_path / "cache",
        thesaurus_path=thesaurus,  # not installed yet
    )
    async with await IndexStore.open(tmp_path / "db.sqlite3") as storage:
        first = await reindex(storage, sources)
        assert not first.unchanged

        events: list[tuple[str, int, int]] = []
        again = await reindex(storage, sources, progress=lambda *e: events.append(e))
        assert again.unchanged and again.build_id == first.build_id
        assert (again.articles, again.passages) == (first.articles, first.passages)
        assert events == []  # no child process, no step ran
        assert [b.build_id for b in await storage.builds()] == [first.build_id]
        summary = render("reindex.j2", "terminal", report=again)
        assert f"Nothing changed since build {first.build_id}" in summary
        assert "the index is current (2 articles" in summary.splitlines()[0], summary

        # Each input counts: an article's text, a new file (even one that is skipped),
        # the glossary, the thesaurus being installed.
        changes = [
            lambda: (articles / "001_3254392af1d010b4.txt").write_text(
                (SEEDS / "001_3254392af1d010b4.txt").read_text() + "\nNoch ein Satz.\n"
            ),
            lambda: (articles / "leer.txt").write_text(""),
            lambda: glossary.write_text("Fritz = Merz\nOlaf = Scholz\n", encoding="utf-8"),
            lambda: shutil.copy(THESAURUS, thesaurus),
        ]
        previous = first.build_id
        for change in changes:
            before = inputs_fingerprint(sources)
            change()
            assert inputs_fingerprint(sources) != before
            report = await reindex(storage, sources)
            assert not report.unchanged and report.build_id != previous
            previous = report.build_id
        assert (await reindex(storage, sources)).unchanged

        forced = await reindex(storage, sources, force=True)
        assert not forced.unchanged and forced.build_id != previous


def report_niceness(queue: Any) -> None:
    """A child's target: its own scheduling priority."""
    queue.put(("done", os.nice(0)))


async def test_the_reindex_and_encode_children_run_at_a_lower_priority() -> None:
    """Both run through ``run_in_child``: beside a serving bot they take only the CPU
    its answers leave."""
    (niceness,) = await run_in_child(report_niceness, (), "newsbot-test", None, 300)
    assert niceness == min(os.nice(0) + CHILD_NICENESS, 19)


async def test_one_database_has_one_reindex_lock_however_its_path_is_spelled(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    relative = await SqliteDatabase.open(Path("data") / "index.db")
    absolute = await SqliteDatabase.open(tmp_path / "data" / ".." / "data" / "index.db")
    try:
        async with reindex_lock(relative):
            assert reindex_running(absolute)
            with pytest.raises(ReindexBusyError, match="already running"):
                async with reindex_lock(absolute):
                    pass
        assert not reindex_running(absolute)
    finally:
        await relative.close()
        await absolute.close()
