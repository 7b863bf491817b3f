"""Several processes on one PostgreSQL: two bot processes (different shards) against the
Discord stand-in, and a ``python -m bot reindex`` killed with SIGKILL.

A real server (``tests.support.postgres``), started once per test process; each test gets
a schema of its own.
"""

from __future__ import annotations

import asyncio
import shutil
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from benchmarks.synthetic import synthetic_articles, write_corpus
from index.backends import open_database
from index.crashpoints import CRASH_ENV
from index.records import Snapshot
from index.store import _WRITE_CHUNK, IndexStore
from tests.bot.botfixtures import (
    ANSWER_TIMEOUT,
    ITALY_QUESTION,
    REINDEX_TIMEOUT,
    ROME_ARTICLE,
    US_QUESTION,
    US_QUOTE,
    Harness,
    ask,
    plain,
    reply_text,
    slash,
    two_shard_standin,
)
from tests.botcli import Run, bot_environment, run_bot
from tests.conftest import SEEDS
from tests.support.botprocess import BotProcess, bot_process
from tests.support.postgres import PostgresServer
from tests.support.standin import Attach, DiscordStandIn

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_discord_errors")]

SHARDS = 2
SYNONYM_QUESTION = "What did Fritz promise?"  # Fritz is nobody in the articles: until taught


@pytest.fixture
async def api() -> AsyncIterator[DiscordStandIn]:
    async with two_shard_standin() as stand_in:
        yield stand_in


async def seeded(url: str, snapshot: Snapshot) -> None:
    async with await IndexStore.open(url) as storage:
        await storage.save_snapshot(snapshot)


async def wait_for_log(process: BotProcess, text: str, timeout: float = ANSWER_TIMEOUT) -> None:
    """Until ``process`` has logged ``text`` (a ceiling for a process that never does)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while text not in process.log():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"the process never logged {text!r}:\n{process.log()}")
        await asyncio.sleep(0.05)


async def admin(api: DiscordStandIn, name: str, options: dict[str, str], guild_id: int) -> str:
    interaction = await slash(api, name, options, user=api.admin, guild_id=guild_id)
    callback = await api.wait_callback(interaction, ANSWER_TIMEOUT)
    data = callback.json["data"]
    parts = [data.get("content") or ""] + [e.get("description", "") for e in data.get("embeds", [])]
    return plain("\n".join(parts))


async def test_two_bot_processes_share_one_postgres(
    api: DiscordStandIn, tmp_path: Path, postgres_url: str, seed_snapshot: Snapshot
) -> None:
    """A reindex, a question log and a /synonym made in one process are seen by the other,
    without a restart."""
    await seeded(postgres_url, seed_snapshot)
    articles = tmp_path / "articles"
    shutil.copytree(SEEDS, articles)
    homes = [tmp_path / f"shard-{shard}" for shard in range(SHARDS)]
    for home in homes:
        home.mkdir()

    def environment(shard: int) -> dict[str, str]:
        return bot_environment(
            tmp_path / "unused.sqlite3",
            DATABASE_URL=postgres_url,
            ARTICLES_DIR=str(articles),
            SHARD_COUNT=str(SHARDS),
            SHARD_IDS=str(shard),
            ASK_COOLDOWN_SECONDS="0",
            SYNC_POLL_SECONDS="30",  # the notification must do it, long before a poll
        )

    first, second = (g.id for g in api.guilds)
    async with (
        bot_process(api, environment(0), cwd=homes[0]) as zero,
        bot_process(api, environment(1), cwd=homes[1]) as one,
    ):
        # A question in each process; /stats in either counts both.
        for guild in (first, second):
            _, _, followup = await ask(api, US_QUESTION, guild_id=guild)
            assert US_QUOTE in reply_text(followup)
        stats = await admin(api, "stats", {}, second)
        assert "Questions: 2 asked" in stats, stats

        # An admin reindexes with an upload in one; the other answers from the new article.
        interaction = await slash(
            api,
            "reindex",
            {"file": Attach("gipfel-rom.txt", ROME_ARTICLE.encode())},
            user=api.admin,
            guild_id=first,
        )
        await api.wait_for(lambda r: "Reindex finished" in str(r.json or ""), REINDEX_TIMEOUT)
        assert interaction
        await wait_for_log(one, "activated by another process")
        _, _, followup = await ask(api, ITALY_QUESTION, guild_id=second)
        assert "Fregatten" in reply_text(followup)

        # A word taught in one is understood in the other.
        _, _, missed = await ask(api, SYNONYM_QUESTION, guild_id=second)
        assert "The articles don't say" in reply_text(missed)
        added = await admin(api, "synonym add", {"term": "Fritz", "means": "Merz"}, first)
        assert "Fritz → Merz" in added
        await wait_for_log(one, "took up /synonym changes")
        _, _, hit = await ask(api, SYNONYM_QUESTION, guild_id=second)
        assert "Merz" in reply_text(hit)
    for process in (zero, one):
        log = process.log()
        assert "Traceback" not in log and " ERROR " not in log, log


async def test_a_postgres_restart_while_the_bot_runs_costs_only_the_log(
    api: DiscordStandIn, harness: Harness, postgres: PostgresServer
) -> None:
    """The index is in memory: questions are answered while the server is down (their log
    entries are reported, not retried forever), and logged again once it is back."""
    url = postgres.fresh_schema()
    async with harness.run(database_url=url) as bot:
        await asyncio.to_thread(postgres.stop)
        try:
            _, _, followup = await ask(api, US_QUESTION)
            assert US_QUOTE in reply_text(followup)
            await bot.follower.step()  # the follower reports the outage, and goes on
        finally:
            await asyncio.to_thread(postgres.restart)
        _, _, followup = await ask(api, US_QUESTION)
        assert US_QUOTE in reply_text(followup)
        assert (await bot.state.question_stats()).asked == 1  # the one asked after
        await bot.follower.step()
    assert bot.follower.outages == 1


# --------------------------------------------------------------------- kill -9, PostgreSQL

KILLED_AT = {  # where the kill lands: which build serves afterwards
    "after_parse": "old",  # the reindex child dies; the parent reports it
    "mid_write": "old",  # the child dies with some passage chunks of the build committed
    "before_activation": "old",  # the process holding the lock dies
    "after_activation": "new",
}


async def serving(url: str) -> tuple[str | None, list[tuple[str, str]]]:
    async with await IndexStore.open(url) as storage:
        snapshot = await storage.load_snapshot()  # the active build loads, whole
        assert len(snapshot.passages) == snapshot.info.passages
        builds = [(b.build_id, b.state) for b in await storage.builds()]
        return snapshot.info.build_id, builds


@pytest.mark.parametrize("point", list(KILLED_AT))
async def test_a_killed_reindex_on_postgres_leaves_a_build_serving_and_the_lock_free(
    tmp_path: Path, postgres_url: str, seed_snapshot: Snapshot, point: str
) -> None:
    await seeded(postgres_url, seed_snapshot)
    old = seed_snapshot.info.build_id
    articles = tmp_path / "articles"
    shutil.copytree(SEEDS, articles)
    (articles / "gipfel-rom.txt").write_text(ROME_ARTICLE, encoding="utf-8")
    if point == "mid_write":  # more passages than one write chunk (index/store.py)
        write_corpus(synthetic_articles(_WRITE_CHUNK + 500, SEEDS, seed=3), articles)

    def cli_reindex(**settings: str) -> Run:
        return run_bot(
            tmp_path / "unused.sqlite3",
            "reindex",
            DATABASE_URL=postgres_url,
            ARTICLES_DIR=str(articles),
            **settings,
        )

    killed = await asyncio.to_thread(cli_reindex, **{CRASH_ENV: point})
    if point in ("after_parse", "mid_write"):  # the child died: the parent says so
        assert killed.returncode == 1 and "error:" in killed.stderr, killed.stderr
    else:
        assert killed.returncode == -signal.SIGKILL, killed.stderr

    # The lock died with its holder's connection: it can be taken at once.
    database = await open_database(postgres_url)
    try:
        async with database.reindex_lock(wait=False):
            pass
    finally:
        await database.close()
    active, builds = await serving(postgres_url)
    assert (active == old) is (KILLED_AT[point] == "old"), (point, active)
    assert builds == [(active, "ready")]  # leftovers were removed on open

    # And the next reindex goes through.
    done = await asyncio.to_thread(cli_reindex)
    assert done.returncode == 0, done.stderr
    active, builds = await serving(postgres_url)
    assert len(builds) == 1 and active != old
