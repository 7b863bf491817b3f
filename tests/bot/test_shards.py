"""Sharding: the stand-in gives each shard a session of its own and sends a server's events
only to the shard that owns it; the project's bot runs the shards of ``SHARD_IDS``, next to
another bot in this process or in processes of their own, on one database.

The stand-in here recommends two shards; its default guild is on shard 0, the second guild
(added below) on shard 1.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest
from pydantic import SecretStr
from rich.console import Console

from bot.app import NewsBot
from bot.cli import cmd_run
from bot.settings import Settings
from bot.startup import CliError
from index.records import Snapshot
from tests.bot.botfixtures import US_QUESTION, US_QUOTE, Harness, ask, reply_text, two_shard_standin
from tests.botcli import bot_environment
from tests.conftest import SEEDS, cache_dir, dictionary_path
from tests.support.botprocess import bot_process
from tests.support.standin import DiscordStandIn, shard_of

pytestmark = pytest.mark.usefixtures("no_discord_errors")

SHARDS = 2


@pytest.fixture
async def api() -> AsyncIterator[DiscordStandIn]:
    async with two_shard_standin() as stand_in:
        yield stand_in


class ShardedClient(discord.AutoShardedClient):
    """A minimal sharded client that notes each interaction it gets (guild id, id)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.1, **options)
        self.heard: list[tuple[int | None, int]] = []

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """No pause of 5 s between two shards' IDENTIFYs: the stand-in has no rate limit."""

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        self.heard.append((interaction.guild_id, interaction.id))


def heard_by(bot: NewsBot) -> list[int]:
    """The ids of the interactions ``bot`` gets from now on."""
    heard: list[int] = []

    async def note(interaction: discord.Interaction) -> None:
        heard.append(interaction.id)

    bot.add_listener(note, "on_interaction")
    return heard


# -------------------------------------------------------------------------- the stand-in


async def test_one_client_runs_every_shard_the_stand_in_recommends(api: DiscordStandIn) -> None:
    first, second = api.guilds
    client = ShardedClient()
    async with api.running(client):
        assert [r.path for r in api.requests].count("/gateway/bot") == 1
        assert client.shard_count == SHARDS and sorted(client.shards) == [0, 1]
        assert sorted(p["shard"] for p in api.identify_payloads) == [[0, 2], [1, 2]]
        assert [(s.shard_id, s.shard_count, s.live) for s in api.sessions] == [
            (0, 2, True),
            (1, 2, True),
        ]
        assert len({s.session_id for s in api.sessions}) == SHARDS  # a READY each
        for guild, shard in ((first, 0), (second, 1)):
            cached = client.get_guild(guild.id)
            assert cached is not None and cached.shard_id == shard

        in_guilds = [api.slash_command("ask", guild_id=g.id) for g in (first, second)]
        in_dm = api.dm_slash_command("ask")
        for interaction in (*in_guilds, in_dm):
            await api.dispatch("INTERACTION_CREATE", interaction)
        await api.settle()
    assert [api.delivered(i) for i in (*in_guilds, in_dm)] == [[0], [1], [0]]
    assert sorted(client.heard, key=lambda h: h[1]) == [
        (first.id, int(in_guilds[0]["id"])),
        (second.id, int(in_guilds[1]["id"])),
        (None, int(in_dm["id"])),
    ]


async def test_two_clients_each_get_only_the_events_of_their_shard(api: DiscordStandIn) -> None:
    first, second = api.guilds
    zero = ShardedClient(shard_count=SHARDS, shard_ids=[0])
    one = ShardedClient(shard_count=SHARDS, shard_ids=[1])
    async with api.running(zero), api.running(one):
        assert "/gateway/bot" not in [r.path for r in api.requests]  # the count was given
        assert [g.id for g in zero.guilds] == [first.id]
        assert [g.id for g in one.guilds] == [second.id]

        asked = [api.slash_command("ask", guild_id=g.id) for g in (first, second)]
        in_dm = api.dm_slash_command("ask")
        message = api.message_create("Hallo", guild_id=second.id)
        for interaction in (*asked, in_dm):
            await api.dispatch("INTERACTION_CREATE", interaction)
        await api.dispatch("MESSAGE_CREATE", message)
        third = await api.add_guild("Dritte Redaktion", shard=1)  # GUILD_CREATE
        await api.settle()

        assert zero.heard == [(first.id, int(asked[0]["id"])), (None, int(in_dm["id"]))]
        assert one.heard == [(second.id, int(asked[1]["id"]))]
        assert api.delivered(message) == [1]
        assert [g.id for g in zero.guilds] == [first.id]
        assert sorted(g.id for g in one.guilds) == sorted([second.id, third.id])


async def test_one_shard_resumes_while_the_other_stays_connected(api: DiscordStandIn) -> None:
    second = api.guilds[1]
    zero = ShardedClient(shard_count=SHARDS, shard_ids=[0])
    one = ShardedClient(shard_count=SHARDS, shard_ids=[1])
    async with api.running(zero), api.running(one):
        kept = api.session(0)
        missed = api.slash_command("ask", guild_id=second.id)
        async with api.disconnected(4000, shard=1):
            await api.dispatch("INTERACTION_CREATE", missed)  # buffered for shard 1
            assert kept is not None and kept.live
        await api.settle()
        assert one.heard == [(second.id, int(missed["id"]))]  # replayed on its RESUME
        assert api.resume_count == 1 and api.replayed_count == 1
        assert api.identify_count == SHARDS and api.session(0) is kept and not zero.heard


async def test_an_identify_for_a_shard_out_of_range_is_refused(api: DiscordStandIn) -> None:
    identify = {"token": "t", "intents": 0, "properties": {}, "shard": [2, 2]}
    async with aiohttp.ClientSession() as session, session.ws_connect(api.gateway_url) as ws:
        assert (await ws.receive_json())["op"] == 10  # HELLO
        await ws.send_json({"op": 2, "d": identify})
        closing = await ws.receive()
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4010  # Invalid shard
    assert api.sessions == []


# -------------------------------------------------------------------------- the bot


async def test_two_bots_each_answer_the_questions_of_their_own_shard(
    api: DiscordStandIn, harness: Harness
) -> None:
    first, second = api.guilds
    async with contextlib.AsyncExitStack() as stack:
        zero, one = [
            await stack.enter_async_context(
                harness.run(dev_guild_id=None, shard_count=SHARDS, shard_ids=[shard])
            )
            for shard in (0, 1)
        ]
        heard = heard_by(zero), heard_by(one)
        assert (zero.shard_ids, one.shard_ids) == ([0], [1])
        assert [g.id for g in zero.guilds] == [first.id]
        assert [g.id for g in one.guilds] == [second.id]

        asked = []
        for where in ({"guild_id": first.id}, {"guild_id": second.id}, {"dm": True}):
            interaction, _, followup = await ask(api, US_QUESTION, **where)
            assert US_QUOTE in reply_text(followup)
            asked.append(interaction)
        await api.settle()
    ids = [int(i["id"]) for i in asked]
    assert heard == ([ids[0], ids[2]], [ids[1]])  # the DM went to shard 0
    assert [api.delivered(i) for i in asked] == [[0], [1], [0]]
    assert [len(api.callbacks(i)) for i in asked] == [1, 1, 1]
    assert api.sync_count == 1  # the commands were synced by shard 0's bot only


async def test_without_shard_settings_the_bot_runs_the_one_shard_discord_recommends(
    tmp_path: Path, seed_snapshot: Snapshot, seed_database: tuple[Path, Snapshot]
) -> None:
    shutil.copytree(SEEDS, tmp_path / "articles")
    async with DiscordStandIn() as api:
        harness = Harness(api, tmp_path, seed_snapshot, *seed_database)
        async with harness.run() as bot:
            assert isinstance(bot, NewsBot) and bot.shard_ids is None
            assert bot.shard_count == 1 and [g.id for g in bot.guilds] == [api.guild.id]
            assert [p["shard"] for p in api.identify_payloads] == [[0, 1]]
            assert [r.path for r in api.requests].count("/gateway/bot") == 1
            assert api.sync_count == 1


async def test_no_recommended_shard_count_is_one_clear_line(
    tmp_path: Path, seed_database: tuple[Path, Snapshot]
) -> None:
    shutil.copyfile(seed_database[0], tmp_path / "db.sqlite3")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token=SecretStr("standin-token"),
        database_path=tmp_path / "db.sqlite3",
        articles_dir=SEEDS,
        dictionary_path=dictionary_path(),
        cache_dir=cache_dir(),
        encoder="none",
    )
    async with DiscordStandIn() as api:
        api.fail_next("GET", r"^/gateway/bot$", status=403)
        with pytest.raises(CliError) as failure:
            await cmd_run(argparse.Namespace(), settings, Console(file=io.StringIO()))
    message = str(failure.value)
    assert "GET /gateway/bot failed" in message and "SHARD_COUNT" in message
    assert "\n" not in message


# -------------------------------------------------------------------------- bot processes


@pytest.mark.slow
async def test_two_bot_processes_on_one_database_each_answer_their_shard(
    api: DiscordStandIn, tmp_path: Path, seed_database: tuple[Path, Snapshot]
) -> None:
    """The product's ``start`` in two processes (SHARD_IDS=0 and 1 of SHARD_COUNT=2), on
    one SQLite file: each question is answered by the process of the shard that owns it."""
    database = tmp_path / "db.sqlite3"
    shutil.copyfile(seed_database[0], database)
    homes = [tmp_path / f"shard-{shard}" for shard in (0, 1)]
    for home in homes:
        home.mkdir()

    def environment(shard: int) -> dict[str, str]:
        return bot_environment(
            database, SHARD_COUNT=str(SHARDS), SHARD_IDS=str(shard), ASK_COOLDOWN_SECONDS="0"
        )

    async with (
        bot_process(api, environment(0), cwd=homes[0]) as zero,
        bot_process(api, environment(1), cwd=homes[1]) as one,
    ):
        assert (zero.shards, one.shards) == ((0,), (1,))
        for guild, process in zip(api.guilds, (zero, one), strict=True):
            interaction, _, followup = await ask(api, US_QUESTION, guild_id=guild.id)
            assert US_QUOTE in reply_text(followup)
            shard = shard_of(guild.id, SHARDS)
            sent = [(d.shard_id, d.session_id) for d in api.deliveries if d.data is interaction]
            assert sent == [(shard, process.sessions[shard].session_id)]
            assert len(api.callbacks(interaction)) == 1
        assert api.sync_count == 1  # by the process of shard 0
    for process, shard in ((zero, 0), (one, 1)):
        log = process.log()
        assert f"this process runs shard {shard} of 2" in log
        assert "Traceback" not in log and " ERROR " not in log, log
        assert process.returncode == 130, process.log()  # stopped by SIGTERM, as by Ctrl-C


async def test_a_bot_process_that_cannot_start_fails_at_once_with_its_log(
    api: DiscordStandIn, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    env = bot_environment(tmp_path / "db.sqlite3", ARTICLES_DIR=str(tmp_path / "empty"))
    with pytest.raises(RuntimeError, match="exited with status 1") as failure:
        async with bot_process(api, env, cwd=tmp_path):
            pytest.fail("a bot without articles and without an index was ready")
    assert "error: " in str(failure.value)  # the process's one line, in the message
    assert api.identify_count == 0
