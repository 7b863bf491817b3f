"""The real bot's admin commands: ``/reindex`` with uploads, ``/stats``, ``/config``.

Admins are members with Manage Server (the stand-in's admin owns the guild) or the role set
with ``/config admin-role``; everyone else is refused, and the refusal is audited.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.app import NewsBot
from tests.bot.botfixtures import (
    ANSWER_TIMEOUT,
    EPHEMERAL,
    ITALY_QUESTION,
    REINDEX_TIMEOUT,
    ROME_ARTICLE,
    US_QUESTION,
    Harness,
    ask,
    assert_answers_the_us_question,
    assert_no_mentions,
    body,
    description,
    embed,
    plain,
    reply_text,
    slash,
)
from tests.support.standin import (
    WEBHOOK_MESSAGE_RE,
    Attach,
    DiscordStandIn,
    Request,
    Role,
    snowflake,
)

pytestmark = pytest.mark.usefixtures("no_discord_errors")

NOT_ADMIN = "Only admins can do that"


def is_edit_of(request: Request, interaction: dict[str, Any]) -> bool:
    """A successful PATCH of a message of the interaction (its progress and result)."""
    match = request.matched("PATCH", WEBHOOK_MESSAGE_RE)
    return match is not None and match.group(2) == interaction["token"]


def edits_of(api: DiscordStandIn, interaction: dict[str, Any]) -> list[Request]:
    return [r for r in api.requests if is_edit_of(r, interaction)]


async def refused(api: DiscordStandIn, interaction: dict[str, Any]) -> str:
    """The ephemeral refusal of ``interaction``; nothing else was sent for it."""
    callback = await api.wait_callback(interaction)
    assert callback.json["type"] == 4, callback.json
    assert callback.json["data"]["flags"] & EPHEMERAL
    assert not api.followups(interaction)
    return callback.content or ""


async def reindex(
    api: DiscordStandIn, file: Attach | None = None, *, interaction: dict[str, Any] | None = None
) -> tuple[dict[str, Any], Request]:
    """``/reindex`` by the admin (or ``interaction``); returns it and the PATCH with the result."""
    if interaction is None:
        options = {"file": file} if file is not None else None
        interaction = await slash(api, "reindex", options, user=api.admin)
    else:
        await api.dispatch("INTERACTION_CREATE", interaction)
    deferred = await api.wait_callback(interaction, ANSWER_TIMEOUT)
    assert deferred.json["type"] == 5 and deferred.json["data"]["flags"] & EPHEMERAL
    final = await api.wait_for(
        lambda r: (
            is_edit_of(r, interaction)
            and bool(r.json.get("embeds"))
            and "Reindex finished" in r.json["embeds"][0].get("description", "")
        ),
        REINDEX_TIMEOUT,
    )
    return interaction, final


async def upload_error(api: DiscordStandIn, file: Attach) -> str:
    """``/reindex file:…`` by the admin that ends in an ephemeral error; the error text."""
    interaction = await slash(api, "reindex", {"file": file}, user=api.admin)
    callback = await api.wait_callback(interaction, ANSWER_TIMEOUT)
    if callback.json["type"] == 4:  # refused before downloading the file
        assert callback.json["data"]["flags"] & EPHEMERAL
        return callback.content or ""
    assert callback.json["type"] == 5 and callback.json["data"]["flags"] & EPHEMERAL
    followup = await api.wait_followup(interaction, ANSWER_TIMEOUT)
    assert body(followup)["flags"] & EPHEMERAL
    assert not edits_of(api, interaction)  # no reindex started
    return followup.content or ""


def article_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# ------------------------------------------------------------------------------ /reindex


async def test_reindex_by_a_member_is_refused_and_audited(
    api: DiscordStandIn, harness: Harness, bot: NewsBot
) -> None:
    before = await bot.store.active_build_id()
    files = article_files(harness.articles_dir)
    interaction = await slash(
        api, "reindex", {"file": Attach("rom.txt", ROME_ARTICLE.encode())}, user=api.member
    )
    assert NOT_ADMIN in await refused(api, interaction)
    await api.settle()  # the bot has done all it will do with the interaction
    assert not edits_of(api, interaction)
    assert await bot.store.active_build_id() == before
    assert article_files(harness.articles_dir) == files
    assert not [r for r in api.requests if r.path.startswith("/attachments/")]  # not fetched
    (row, *_) = await bot.state.audit_log()
    assert row.action == "reindex" and row.allowed == 0
    assert row.user_id == str(api.member.id) and row.guild_id == str(api.guild.id)
    assert_no_mentions(api)


async def test_reindex_with_an_upload_adds_the_article(
    api: DiscordStandIn, harness: Harness, bot: NewsBot
) -> None:
    before = await bot.store.active_build_id()
    interaction, final = await reindex(api, Attach("gipfel-rom.txt", ROME_ARTICLE.encode()))

    progress = [r for r in edits_of(api, interaction) if r is not final]
    assert progress, "no progress was shown"
    assert all(r.path.endswith("/messages/@original") for r in edits_of(api, interaction))
    assert all((r.json.get("content") or "").startswith("**Reindexing…**") for r in progress)
    summary = reply_text(final)
    assert "3 articles" in summary
    assert final.json.get("content") is None
    saved = harness.articles_dir / "gipfel-rom.txt"
    assert saved.read_text(encoding="utf-8") == ROME_ARTICLE
    assert [p.name for p in harness.articles_dir.iterdir() if p.name.startswith(".")] == []

    after = await bot.store.active_build_id()
    assert after is not None and after != before
    assert bot.engine.snapshot.info.build_id == after
    (row, *_) = await bot.state.audit_log()
    assert row.action == "reindex" and row.allowed == 1
    assert "uploaded gipfel-rom.txt" in row.detail and "3 articles" in row.detail

    _, _, followup = await ask(api, ITALY_QUESTION)
    answer = reply_text(followup)
    assert "Fregatten" in answer and "Gipfel in Rom · 2026-02-01" in answer.replace("*", "")

    # Late progress edits must not overwrite the result.
    await api.settle()
    shown = api.original(interaction)
    assert shown is not None and shown["content"] == ""
    assert "3 articles" in plain(shown["embeds"][0]["description"])
    assert shown["flags"] & EPHEMERAL
    assert_no_mentions(api)


async def test_reindex_without_upload_rebuilds(
    api: DiscordStandIn, harness: Harness, bot: NewsBot
) -> None:
    _, final = await reindex(api)
    assert "2 articles" in reply_text(final)
    await assert_answers_the_us_question(api)
    assert_no_mentions(api)


async def test_upload_path_traversal_stays_inside_the_articles_dir(
    api: DiscordStandIn, harness: Harness, bot: NewsBot
) -> None:
    # A forged interaction: Discord itself would not keep the slashes in a file name. The file
    # is served from a plain URL, as the CDN would (a "../" in a URL is resolved by the client).
    interaction = api.slash_command(
        "reindex", {"file": Attach("../../evil.txt", ROME_ARTICLE.encode())}, user=api.admin
    )
    (attachment,) = interaction["data"]["resolved"]["attachments"].values()
    assert attachment["filename"] == "../../evil.txt"
    attachment["url"] = api.add_attachment("upload/evil.txt", ROME_ARTICLE.encode())
    _, final = await reindex(api, interaction=interaction)
    assert "3 articles" in reply_text(final)
    assert (harness.articles_dir / "evil.txt").read_text(encoding="utf-8") == ROME_ARTICLE
    assert not (harness.articles_dir / "../../evil.txt").resolve().exists()
    assert not (harness.tmp_path / "evil.txt").exists()
    assert_no_mentions(api)


async def test_failed_reindex_says_why_and_keeps_the_index(
    api: DiscordStandIn, harness: Harness, bot: NewsBot
) -> None:
    before = await bot.store.active_build_id()
    shutil.rmtree(harness.articles_dir)
    interaction = await slash(api, "reindex", user=api.admin)
    failed = await api.wait_for(
        lambda r: is_edit_of(r, interaction) and "failed" in (r.json.get("content") or ""),
        REINDEX_TIMEOUT,
    )
    text = plain(failed.json["content"])
    assert "Reindex failed: articles directory not found" in text
    assert "previous index stays in use" in text
    shown = api.original(interaction)
    assert shown is not None and shown["content"] == failed.json["content"]  # not "Reindexing…"
    assert await bot.store.active_build_id() == before
    (row, *_) = await bot.state.audit_log()
    assert row.action == "reindex" and row.allowed == 0
    assert row.detail.startswith("failed: articles directory not found")
    await assert_answers_the_us_question(api)
    assert_no_mentions(api)


async def test_a_second_reindex_meanwhile_is_turned_away(
    api: DiscordStandIn, harness: Harness, bot: NewsBot
) -> None:
    first = await slash(api, "reindex", user=api.admin)
    await api.wait_for(lambda r: is_edit_of(r, first), ANSWER_TIMEOUT)  # it is running
    second = await slash(api, "reindex", user=api.admin)
    busy = await api.wait_for(
        lambda r: is_edit_of(r, second) and "already running" in (r.json.get("content") or ""),
        REINDEX_TIMEOUT,
    )
    assert busy.json["allowed_mentions"] == {"parse": []}
    await api.wait_for(
        lambda r: is_edit_of(r, first) and bool(r.json.get("embeds")), REINDEX_TIMEOUT
    )
    details = [(r.allowed, r.detail) for r in await bot.state.audit_log()]
    assert (0, "busy: another reindex was running") in details
    assert [a for a, _ in details].count(1) == 1
    assert_no_mentions(api)


@pytest.mark.parametrize(
    ("filename", "data", "expected"),
    [
        ("latin1.txt", ROME_ARTICLE.encode("latin-1"), "not valid UTF-8"),
        ("binary.txt", b"\x00\x01\x02 title", "binary"),
        ("empty.md", b"   \n", "empty"),
        ("nur-titel.txt", b"---\ntitle: Nur ein Titel\n---\n", "no paragraphs"),
        ("notes.pdf", b"%PDF-1.4", "Upload a .txt or .md file."),
        ("....txt", ROME_ARTICLE.encode(), "no usable characters"),
    ],
)
async def test_unusable_uploads_are_refused_and_change_nothing(
    api: DiscordStandIn,
    harness: Harness,
    bot: NewsBot,
    filename: str,
    data: bytes,
    expected: str,
) -> None:
    before = await bot.store.active_build_id()
    files = article_files(harness.articles_dir)
    text = await upload_error(api, Attach(filename, data))
    assert expected in text
    assert await bot.store.active_build_id() == before
    assert article_files(harness.articles_dir) == files
    assert await bot.store.builds() == [b for b in await bot.store.builds() if b.build_id == before]
    assert_no_mentions(api)


async def test_oversized_upload_is_refused_before_download(
    api: DiscordStandIn, harness: Harness
) -> None:
    async with harness.run(max_upload_bytes=40) as bot:
        before = await bot.store.active_build_id()
        text = await upload_error(api, Attach("gross.txt", ROME_ARTICLE.encode()))
        size = len(ROME_ARTICLE.encode())
        assert text == f"That file is {size:,} bytes; the limit is 40."
        assert await bot.store.active_build_id() == before
        assert not (harness.articles_dir / "gross.txt").exists()
        assert not [r for r in api.requests if r.path.startswith("/attachments/")]
        (row, *_) = await bot.state.audit_log()
        assert row.allowed == 0 and "too large" in row.detail
    assert_no_mentions(api)


# ------------------------------------------------------------------------------ /stats, /config


async def test_stats_for_the_admin_only(api: DiscordStandIn, bot: NewsBot) -> None:
    await ask(api, US_QUESTION)
    await ask(api, "What did China say about the talks?")

    denied = await slash(api, "stats", user=api.member)
    assert NOT_ADMIN in await refused(api, denied)

    allowed = await slash(api, "stats", user=api.admin)
    callback = await api.wait_callback(allowed)
    assert callback.json["data"]["flags"] & EPHEMERAL
    shown = embed(body(callback))
    assert shown["title"] == "Usage"
    text = plain(shown["description"])
    assert "Questions: 2 asked · 1 answered (50 %)" in text
    assert "1× What did China say about the talks?" in text
    actions = [(r.action, r.allowed) for r in await bot.state.audit_log()]
    assert actions == [("stats", 1), ("stats", 0)]
    assert_no_mentions(api)


async def test_config_ask_channel(api: DiscordStandIn, harness: Harness) -> None:
    async with harness.run(message_content_intent=True) as bot:
        channel = api.channel
        denied = await slash(
            api, "config ask-channel", {"channel": channel, "enabled": True}, user=api.member
        )
        assert NOT_ADMIN in await refused(api, denied)
        assert await bot.state.ask_channels() == set()

        allowed = await slash(
            api, "config ask-channel", {"channel": channel, "enabled": True}, user=api.admin
        )
        callback = await api.wait_callback(allowed)
        assert callback.json["data"]["flags"] & EPHEMERAL
        shown = embed(body(callback))
        assert shown["title"] == "Configuration"
        assert f"<#{channel.id}>" in shown["description"]
        assert await bot.state.ask_channels(api.guild.id) == {channel.id}
        assert channel.id in bot.ask_channel_ids

        # Every message there is a question now.
        question = api.message_create("Wer nahm an dem Treffen teil?")
        await api.dispatch("MESSAGE_CREATE", question)
        reply = await api.wait_channel_message(channel.id, ANSWER_TIMEOUT)
        assert "Merz" in reply_text(reply)

        again = await slash(
            api, "config ask-channel", {"channel": channel, "enabled": True}, user=api.admin
        )
        assert "(no change)" in reply_text(await api.wait_callback(again))
        off = await slash(
            api, "config ask-channel", {"channel": channel, "enabled": False}, user=api.admin
        )
        await api.wait_callback(off)
        assert await bot.state.ask_channels() == set()
        assert channel.id not in bot.ask_channel_ids
    assert_no_mentions(api)


async def test_config_show_lists_the_ask_channels_of_the_settings(
    api: DiscordStandIn, harness: Harness
) -> None:
    channel, missing = api.channel, snowflake()
    async with harness.run(ask_channel_ids=[channel.id, missing]):
        interaction = await slash(api, "config show", user=api.admin)
        text = description(body(await api.wait_callback(interaction)))
        (line,) = [row for row in text.splitlines() if row.startswith("**Ask-channels**")]
        assert "none" not in line
        assert f"<#{channel.id}> (from ASK_CHANNEL_IDS)" in line, line
        assert f"{missing} (in ASK_CHANNEL_IDS, but not a channel I can see)" in line, line
        assert "Message Content intent" in text  # they need it, and it is off
    assert_no_mentions(api)


async def test_config_admin_role_lets_its_members_in(api: DiscordStandIn, harness: Harness) -> None:
    helpers = Role(snowflake(), "Helpers", 0, 1)
    api.guild.roles.append(helpers)  # before the bot starts: it comes with GUILD_CREATE
    async with harness.run() as bot:
        member_roles = [helpers.id]
        before = await slash(api, "stats", user=api.member, member_roles=member_roles)
        assert NOT_ADMIN in await refused(api, before)

        denied = await slash(api, "config admin-role", {"role": helpers}, user=api.member)
        assert NOT_ADMIN in await refused(api, denied)
        assert await bot.state.admin_role(api.guild.id) is None

        allowed = await slash(api, "config admin-role", {"role": helpers}, user=api.admin)
        callback = await api.wait_callback(allowed)
        assert f"<@&{helpers.id}>" in description(body(callback))
        assert await bot.state.admin_role(api.guild.id) == helpers.id

        with_role = await slash(api, "stats", user=api.member, member_roles=member_roles)
        assert embed(body(await api.wait_callback(with_role)))["title"] == "Usage"
        without = await slash(api, "stats", user=api.member, member_roles=[])
        assert NOT_ADMIN in await refused(api, without)

        cleared = await slash(api, "config admin-role", user=api.admin)
        assert "none" in description(body(await api.wait_callback(cleared)))
        assert await bot.state.admin_role(api.guild.id) is None
        after = await slash(api, "stats", user=api.member, member_roles=member_roles)
        assert NOT_ADMIN in await refused(api, after)
    assert_no_mentions(api)


@pytest.mark.parametrize("command", ["reindex", "stats", "config show"])
async def test_admin_commands_are_refused_in_dms(
    api: DiscordStandIn, bot: NewsBot, command: str
) -> None:
    before = await bot.store.active_build_id()
    interaction = api.dm_slash_command(command, user=api.admin)
    await api.dispatch("INTERACTION_CREATE", interaction)
    text = await refused(api, interaction)
    assert "only works in a server" in text
    assert await bot.store.active_build_id() == before
    (row, *_) = await bot.state.audit_log()
    assert row.allowed == 0 and row.guild_id is None
    assert_no_mentions(api)
