"""The real bot's command tree: what is synced to Discord, and that it is synced only once."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from bot.app import COMMANDS_HASH_KEY
from tests.bot.botfixtures import Harness, assert_answers_the_us_question
from tests.support.standin import MANAGE_GUILD, DiscordStandIn, snowflake

pytestmark = pytest.mark.usefixtures("no_discord_errors")

COMMANDS = {"ask", "search", "source", "sources", "reindex", "stats", "config", "gaps", "synonym"}
ADMIN_COMMANDS = {"reindex", "stats", "config", "gaps", "synonym"}
NAME_RE = re.compile(r"^[-_\w]{1,32}$")


def walk(commands: list[dict[str, Any]], prefix: str = "") -> list[tuple[str, dict[str, Any]]]:
    """(qualified name, payload) of every command, group and subcommand."""
    out = []
    for command in commands:
        name = f"{prefix}{command['name']}"
        out.append((name, command))
        subs = [o for o in command.get("options") or [] if o.get("type") in (1, 2)]
        out += walk(subs, name + " ")
    return out


async def test_commands_sync_once_and_not_again_after_a_restart(
    api: DiscordStandIn, harness: Harness
) -> None:
    async with harness.run() as bot:
        assert api.sync_count == 1
        digest = await bot.state.get_meta(COMMANDS_HASH_KEY)
        assert digest
    synced = api.commands(api.guild.id)
    assert {c["name"] for c in synced} == COMMANDS
    assert api.commands() == []  # DEV_GUILD_ID: synced to the guild, not globally

    async with harness.run() as bot:
        assert api.sync_count == 1  # unchanged commands: no second sync
        assert await bot.state.get_meta(COMMANDS_HASH_KEY) == digest
        # The commands synced by the first run still reach the second one.
        await assert_answers_the_us_question(api)
    assert api.identify_count == 2

    # A different scope (global instead of the dev guild) is a change: synced once more.
    async with harness.run(dev_guild_id=None):
        assert api.sync_count == 2
    assert {c["name"] for c in api.commands()} == COMMANDS
    async with harness.run(dev_guild_id=None):
        assert api.sync_count == 2


async def test_command_names_are_unique_and_valid(api: DiscordStandIn, harness: Harness) -> None:
    async with harness.run() as bot:
        local = [c.qualified_name for c in bot.tree.walk_commands(guild=api.guild)]
        assert not [n for n, k in Counter(local).items() if k > 1]
    synced = api.commands(api.guild.id)
    names = Counter(c["name"] for c in synced)
    assert not [n for n, k in names.items() if k > 1], names
    everything = walk(synced)
    qualified = Counter(name for name, _ in everything)
    assert not [n for n, k in qualified.items() if k > 1], qualified
    assert {n for n, _ in everything} >= {"config show", "config ask-channel", "config admin-role"}
    for name, command in everything:
        assert all(NAME_RE.match(part) and part == part.lower() for part in name.split()), name
        assert 1 <= len(command.get("description") or "") <= 100, name
        for option in command.get("options") or []:
            if option.get("type") not in (1, 2):
                assert NAME_RE.match(option["name"]), (name, option["name"])
                assert 1 <= len(option.get("description") or "") <= 100, (name, option)


async def test_admin_commands_are_hidden_from_members_and_dms(
    api: DiscordStandIn, harness: Harness
) -> None:
    async with harness.run():
        pass
    synced = {c["name"]: c for c in api.commands(api.guild.id)}
    for name in ADMIN_COMMANDS:
        assert synced[name]["default_member_permissions"] == str(MANAGE_GUILD), name
        assert synced[name].get("dm_permission") is False or synced[name].get("contexts") == [0]
    for name in COMMANDS - ADMIN_COMMANDS:
        assert synced[name]["default_member_permissions"] is None, name


async def test_a_second_application_on_the_same_database_gets_its_commands(
    api: DiscordStandIn, harness: Harness
) -> None:
    async with harness.run():
        assert api.sync_count == 1
    await api.stop()  # one stand-in at a time (discord.py has one Route.BASE)
    # Another application (a second bot, or a new one for the same server) on this database:
    # the same guild and the same commands, but it has none of them yet.
    async with DiscordStandIn(
        bot_user=api.bot_user, guilds=api.guilds, application_id=snowflake()
    ) as other:
        other_harness = Harness(other, harness.tmp_path, harness.seed)
        async with other_harness.run():
            assert other.sync_count == 1
        assert {c["name"] for c in other.commands(other.guild.id)} == COMMANDS
        async with other_harness.run():
            assert other.sync_count == 1  # and only once
