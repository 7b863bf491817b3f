"""The Discord stand-in drives the REAL discord.py client end to end.

The bot here is a minimal one defined in this file, not the project's bot.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import pytest
from discord import app_commands
from discord.ext import commands

from tests.support.standin import Attach, DiscordStandIn, ThreadChannel

pytestmark = pytest.mark.usefixtures("no_discord_errors")

CALLBACK = r"^/interactions/\d+/[^/]+/callback$"


class PersistentView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Persistent", custom_id="standin:persistent")
    async def persistent(
        self, interaction: discord.Interaction, button: discord.ui.Button[PersistentView]
    ) -> None:
        await interaction.response.send_message("persistent clicked", ephemeral=True)


class MenuView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=30)

    @discord.ui.button(label="More", custom_id="menu:more")
    async def more(
        self, interaction: discord.Interaction, button: discord.ui.Button[MenuView]
    ) -> None:
        await interaction.response.edit_message(content="more!", view=None)


class VoteButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"vote:(?P<choice>[a-z]+)",
):
    def __init__(self, choice: str) -> None:
        super().__init__(discord.ui.Button(label=choice, custom_id=f"vote:{choice}"))
        self.choice = choice

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> VoteButton:
        return cls(match["choice"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.edit_message(content=f"voted {self.choice}")


class StandInBot(commands.Bot):
    """A minimal bot: slash commands synced to the stand-in's guild, views, on_message."""

    def __init__(self, api: DiscordStandIn) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        intents.members = True  # members are cached, and guilds must arrive "chunked"
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            guild_ready_timeout=0.1,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.api = api
        self.resumed_count = 0
        self.seen: list[discord.Message] = []  # messages on_message handled
        self.started_threads: list[discord.Thread] = []  # returned by create_thread
        self.thread_events: list[discord.Thread] = []  # on_thread_create
        self.followup_guilds: list[discord.Guild | None] = []

    async def setup_hook(self) -> None:
        self.add_view(PersistentView())
        self.add_dynamic_items(VoteButton)
        self.tree.on_error = self.on_tree_error  # type: ignore[method-assign]

        @app_commands.command(description="Ask a question")
        async def ask(interaction: discord.Interaction, question: str) -> None:
            where = "dm" if interaction.guild is None else "guild"
            await interaction.response.send_message(f"answer ({where}): {question}")

        @ask.autocomplete("question")
        async def ask_autocomplete(
            interaction: discord.Interaction, current: str
        ) -> list[app_commands.Choice[str]]:
            return [app_commands.Choice(name=f"{current} suggestion", value=f"{current}!")]

        @app_commands.command(description="Think, then follow up")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.followup.send("done")

        @app_commands.command(description="Defer, then edit")
        async def edit(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            await interaction.edit_original_response(content="edited")
            await interaction.followup.send("and a follow-up")

        @app_commands.command(description="Upload a file")
        async def upload(interaction: discord.Interaction, file: discord.Attachment) -> None:
            data = await file.read()
            await interaction.response.send_message(
                f"{file.filename}: {data.decode()}",
                file=discord.File(io.BytesIO(data.upper()), filename="upper.txt"),
            )

        @app_commands.command(description="Answer, then discuss in a thread")
        async def discuss(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("let's discuss")
            starter = await interaction.followup.send("thread starter", wait=True)
            # discord.py pitfall: a follow-up's WebhookMessage has no guild (the follow-up
            # webhook is partial), so starter.create_thread() raises ValueError before any
            # request. Start the thread through the channel instead.
            self.followup_guilds.append(starter.guild)
            channel = interaction.channel
            assert isinstance(channel, discord.TextChannel)
            thread = await channel.create_thread(
                name="Discussion", message=starter, auto_archive_duration=60
            )
            self.started_threads.append(thread)
            await thread.send("welcome to the thread")

        @app_commands.command(description="A menu with a button")
        async def menu(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pick", view=MenuView())

        @app_commands.command(description="Moderators only")
        @app_commands.default_permissions(manage_guild=True)
        @app_commands.checks.has_permissions(manage_guild=True)
        async def settings(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("settings ok")

        news = app_commands.Group(name="news", description="News")

        @news.command(name="latest", description="Latest articles")
        async def latest(interaction: discord.Interaction, count: int) -> None:
            await interaction.response.send_message(f"latest {count}")

        all_commands: list[app_commands.Command[Any, ..., Any] | app_commands.Group] = [
            ask,
            slow,
            edit,
            upload,
            menu,
            settings,
            news,
            discuss,
        ]
        for command in all_commands:
            self.tree.add_command(command)
        guild = discord.Object(id=self.api.guild.id)
        self.tree.copy_global_to(guild=guild)
        await self.tree.sync(guild=guild)

    async def on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        if isinstance(error, app_commands.MissingPermissions):
            await interaction.response.send_message("denied", ephemeral=True)
            return
        raise error

    async def on_message(self, message: discord.Message) -> None:
        if message.author.bot or self.user is None:
            return
        if self.user not in message.mentions:
            return
        self.seen.append(message)
        if "later" in message.content:  # a handler that takes its time before it replies
            for _ in range(10):
                await asyncio.sleep(0.01)
            await message.reply("later", mention_author=False)
            return
        if "thread" in message.content and not isinstance(message.channel, discord.Thread):
            reply = await message.reply("see the thread", mention_author=False)
            self.started_threads.append(await reply.create_thread(name="Answers"))
            return
        await message.reply(f"pong {message.author.display_name}", mention_author=False)

    async def on_thread_create(self, thread: discord.Thread) -> None:
        self.thread_events.append(thread)

    async def on_resumed(self) -> None:
        self.resumed_count += 1


@pytest.fixture
async def bot(api: DiscordStandIn) -> AsyncIterator[StandInBot]:
    client = StandInBot(api)
    async with api.running(client):  # closes the client in a finally
        yield client


# -------------------------------------------------------------------------- the stand-in alone


async def test_patches_discord_py_and_restores_it() -> None:
    before_base = discord.http.Route.BASE
    before_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    async with DiscordStandIn() as api:
        assert api.api_base == discord.http.Route.BASE
        assert api.api_base.startswith("http://127.0.0.1:")
        assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY) == api.gateway_url
    assert before_base == discord.http.Route.BASE
    assert before_gateway == discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY


async def test_rest_basics_without_a_client(api: DiscordStandIn) -> None:
    url = api.add_attachment("hello.txt", b"hello")
    async with aiohttp.ClientSession() as session:
        async with session.get(api.api_base + "/users/@me") as response:
            assert response.headers["Content-Type"] == "application/json"
            assert (await response.json())["id"] == str(api.bot_user.id)
        async with session.get(api.api_base + "/no/such/route") as response:
            assert response.status == 404
            assert response.headers["Content-Type"] == "application/json"
        async with session.get(url) as response:
            assert await response.read() == b"hello"
    assert [str(r) for r in api.requests] == [
        "GET /users/@me -> 200",
        "GET /no/such/route -> 404",
        "GET /attachments/hello.txt -> 200",
    ]
    with pytest.raises(TimeoutError, match="no request matched"):
        await api.wait_for(lambda r: r.method == "DELETE", timeout=0.05)


# -------------------------------------------------------------------------- with discord.py


async def test_login_ready_and_command_sync(api: DiscordStandIn, bot: StandInBot) -> None:
    assert [str(r) for r in list(api.requests)[:2]] == [
        "GET /users/@me -> 200",
        "GET /oauth2/applications/@me -> 200",
    ]
    put = f"/applications/{api.application_id}/guilds/{api.guild.id}/commands"
    assert [r.path for r in api.requests if r.method == "PUT"] == [put]
    assert api.sync_count == 1
    synced = {c["name"]: c for c in api.commands(api.guild.id)}
    assert set(synced) == {
        "ask",
        "slow",
        "edit",
        "upload",
        "menu",
        "settings",
        "news",
        "discuss",
    }
    assert all(c["application_id"] == str(api.application_id) for c in synced.values())
    assert synced["settings"]["default_member_permissions"] == "32"
    assert api.identify_count == 1 and api.intents == bot.intents.value
    assert api.heartbeat_count >= 1
    assert bot.user is not None and bot.user.id == api.bot_user.id
    assert bot.application_id == api.application_id

    guild = bot.get_guild(api.guild.id)
    assert guild is not None and guild.chunked
    assert guild.get_channel(api.channel.id) is not None
    admin = guild.get_member(api.admin.id)
    member = guild.get_member(api.member.id)
    assert admin is not None and admin.guild_permissions.manage_guild
    assert member is not None and not member.guild_permissions.manage_guild


async def test_slash_command_answers(api: DiscordStandIn, bot: StandInBot) -> None:
    interaction = api.slash_command("ask", {"question": "Wer hat gewonnen?"})
    await api.dispatch("INTERACTION_CREATE", interaction)
    callback = await api.wait_callback(interaction)
    assert callback.json["type"] == 4
    assert callback.content == "answer (guild): Wer hat gewonnen?"
    original = api.original(interaction)
    assert original is not None and original["content"] == callback.content

    subcommand = api.slash_command("news latest", {"count": 3})
    await api.dispatch("INTERACTION_CREATE", subcommand)
    assert (await api.wait_callback(subcommand)).content == "latest 3"

    dm = api.dm_slash_command("ask", {"question": "privat?"})
    await api.dispatch("INTERACTION_CREATE", dm)
    assert (await api.wait_callback(dm)).content == "answer (dm): privat?"

    completion = api.autocomplete("ask", "question", "Wer")
    await api.dispatch("INTERACTION_CREATE", completion)
    choices = await api.wait_callback(completion)
    assert choices.json == {
        "type": 8,
        "data": {"choices": [{"name": "Wer suggestion", "value": "Wer!"}]},
    }


async def test_permissions_reach_checks(api: DiscordStandIn, bot: StandInBot) -> None:
    allowed = api.slash_command("settings", user=api.admin)
    denied = api.slash_command("settings", user=api.member)
    await api.dispatch("INTERACTION_CREATE", allowed)
    await api.dispatch("INTERACTION_CREATE", denied)
    assert (await api.wait_callback(allowed)).content == "settings ok"
    refusal = await api.wait_callback(denied)
    assert refusal.content == "denied" and refusal.json["data"]["flags"] == 64


async def test_deferred_response_then_followup(api: DiscordStandIn, bot: StandInBot) -> None:
    interaction = api.slash_command("slow")
    await api.dispatch("INTERACTION_CREATE", interaction)
    assert (await api.wait_callback(interaction)).json["type"] == 5
    followup = await api.wait_followup(interaction)
    assert followup.content == "done" and followup.query["wait"] == "1"
    original = api.original(interaction)
    assert original is not None and original["content"] == "done"  # replaced the "thinking…"

    edited = api.slash_command("edit")
    await api.dispatch("INTERACTION_CREATE", edited)
    await api.wait_followup(edited)
    patch = [r for r in api.edits() if edited["token"] in r.path]
    assert [r.path.rsplit("/", 1)[-1] for r in patch] == ["@original"]
    assert patch[0].content == "edited"
    assert (api.original(edited) or {})["content"] == "edited"


async def test_attachment_option_and_file_upload(api: DiscordStandIn, bot: StandInBot) -> None:
    interaction = api.slash_command("upload", {"file": Attach("notes.txt", b"hallo welt")})
    assert interaction["data"]["resolved"]["attachments"]
    await api.dispatch("INTERACTION_CREATE", interaction)
    callback = await api.wait_callback(interaction)
    assert callback.content == "notes.txt: hallo welt"
    assert [(f.filename, f.data) for f in callback.files] == [("upper.txt", b"HALLO WELT")]
    original = api.original(interaction)
    assert original is not None
    url = original["attachments"][0]["url"]
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert await response.read() == b"HALLO WELT"


async def test_buttons_reach_their_handlers(api: DiscordStandIn, bot: StandInBot) -> None:
    persistent = api.button_click("standin:persistent")
    await api.dispatch("INTERACTION_CREATE", persistent)
    clicked = await api.wait_callback(persistent)
    assert clicked.content == "persistent clicked" and clicked.json["data"]["flags"] == 64

    vote = api.button_click("vote:yes")
    await api.dispatch("INTERACTION_CREATE", vote)
    voted = await api.wait_callback(vote)
    assert voted.json["type"] == 7 and voted.content == "voted yes"

    menu = api.slash_command("menu")
    await api.dispatch("INTERACTION_CREATE", menu)
    await api.wait_callback(menu)
    message = api.original(menu)
    assert message is not None and message["components"]
    more = api.button_click("menu:more", message)
    await api.dispatch("INTERACTION_CREATE", more)
    updated = await api.wait_callback(more)
    assert updated.json["type"] == 7
    assert api.messages[int(message["id"])]["content"] == "more!"
    assert api.messages[int(message["id"])]["components"] == []


async def test_on_message_reply(api: DiscordStandIn, bot: StandInBot) -> None:
    message = api.message_create(f"{api.bot_user.mention} ping", mentions=[api.bot_user])
    await api.dispatch("MESSAGE_CREATE", message)
    reply = await api.wait_channel_message(api.channel.id)
    assert reply.content == "pong Reader"
    assert str(reply.json["message_reference"]["message_id"]) == message["id"]
    assert reply.json["allowed_mentions"] == {"parse": [], "replied_user": False}
    # Messages without a mention, and bot messages, are ignored.
    await api.dispatch("MESSAGE_CREATE", api.message_create("no mention"))
    await api.dispatch("MESSAGE_CREATE", api.message_create("x", author=api.bot_user))
    await api.settle()
    assert len(api.channel_messages()) == 1


async def test_settle_waits_until_the_client_has_done_everything(
    api: DiscordStandIn, bot: StandInBot
) -> None:
    """``settle`` is what "nothing else happened" checks wait for: it returns only when
    the handlers of every event sent so far have finished, however long they take."""
    for _ in range(3):
        slow = api.message_create(f"{api.bot_user.mention} later", mentions=[api.bot_user])
        await api.dispatch("MESSAGE_CREATE", slow)
    await api.settle()
    assert [r.content for r in api.channel_messages()] == ["later"] * 3
    await api.settle()  # nothing pending: returns at once
    async with api.disconnected(4000):
        await api.settle()  # nothing can reach a disconnected client


async def test_rate_limited_callback_is_retried(api: DiscordStandIn, bot: StandInBot) -> None:
    api.fail_next("POST", CALLBACK, status=429, retry_after=0.05)
    interaction = api.slash_command("ask", {"question": "trotz 429?"})
    await api.dispatch("INTERACTION_CREATE", interaction)
    callback = await api.wait_callback(interaction)
    assert callback.content == "answer (guild): trotz 429?"
    attempts = [r.status for r in api.requests if re.match(CALLBACK, r.path)]
    assert attempts == [429, 200]


async def test_server_error_is_retried(api: DiscordStandIn, bot: StandInBot) -> None:
    api.fail_next("POST", r"^/channels/\d+/messages$", status=500)
    await api.dispatch("MESSAGE_CREATE", api.message_create(f"{api.bot_user.mention} hi"))
    reply = await api.wait_channel_message()  # discord.py retries a 500 after a second
    assert reply.content == "pong Reader"
    attempts = [r.status for r in api.requests if r.path.endswith("/messages")]
    assert attempts == [500, 200]


async def test_resume_after_dropped_socket(api: DiscordStandIn, bot: StandInBot) -> None:
    session = api.session_id
    await api.drop_connection(4000)
    await api.wait_ready()
    assert api.resume_count == 1 and api.identify_count == 1
    assert api.resume_payloads[0]["session_id"] == session
    assert api.gateway_connections[-1].startswith("/resume-ws")
    await api.wait_until(lambda: bot.resumed_count == 1)

    after = api.slash_command("ask", {"question": "danach?"})
    await api.dispatch("INTERACTION_CREATE", after)
    assert (await api.wait_callback(after)).content == "answer (guild): danach?"


async def test_missed_events_are_replayed_on_resume(api: DiscordStandIn, bot: StandInBot) -> None:
    missed = api.slash_command("ask", {"question": "verpasst?"})
    async with api.disconnected(4000):
        await api.dispatch("INTERACTION_CREATE", missed)  # buffered: nobody is connected
        await api.settle()
        assert not api.callbacks(missed)
    assert api.replayed_count == 1 and api.resume_count == 1
    assert (await api.wait_callback(missed)).content == "answer (guild): verpasst?"

    await api.request_reconnect()  # op 7 RECONNECT
    await api.wait_ready()
    assert api.resume_count == 2 and api.identify_count == 1
    again = api.slash_command("ask", {"question": "nochmal?"})
    await api.dispatch("INTERACTION_CREATE", again)
    assert (await api.wait_callback(again)).content == "answer (guild): nochmal?"


# -------------------------------------------------------------------------- threads


async def test_thread_from_reply_then_message_in_thread(
    api: DiscordStandIn, bot: StandInBot
) -> None:
    question = api.message_create(f"{api.bot_user.mention} open a thread")
    await api.dispatch("MESSAGE_CREATE", question)
    start = await api.wait_thread()
    reply = (await api.wait_channel_message(api.channel.id)).response
    assert start.path == f"/channels/{api.channel.id}/messages/{reply['id']}/threads"
    assert start.json["name"] == "Answers" and start.json["auto_archive_duration"] == 1440
    assert start.headers["Content-Type"] == "application/json"
    data = start.response
    assert data["id"] == reply["id"]  # a thread started from a message takes its id
    assert data["type"] == 11 and data["parent_id"] == str(api.channel.id)
    assert data["owner_id"] == str(api.bot_user.id) and data["guild_id"] == str(api.guild.id)
    assert data["thread_metadata"]["archived"] is False
    assert api.threads() == [data] and api.thread_requests() == [start]
    thread_id = int(data["id"])
    starter = api.messages[thread_id]
    assert starter["thread"]["id"] == data["id"] and starter["flags"] & 32  # HAS_THREAD

    await api.wait_until(lambda: bool(bot.thread_events))
    cached = bot.get_channel(thread_id)
    assert isinstance(cached, discord.Thread) and cached is bot.thread_events[0]
    assert cached.name == "Answers" and cached.parent_id == api.channel.id
    assert cached.owner_id == api.bot_user.id and cached.parent is not None
    assert bot.started_threads[0].id == thread_id  # create_thread returns a fresh object

    url = f"{api.api_base}/channels/{thread_id}"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.headers["Content-Type"] == "application/json"
        assert (await response.json())["thread_metadata"]["auto_archive_duration"] == 1440

    inside = api.message_create(f"{api.bot_user.mention} in the thread", channel_id=thread_id)
    assert inside["guild_id"] == str(api.guild.id) and inside["channel_id"] == str(thread_id)
    await api.dispatch("MESSAGE_CREATE", inside)
    answer = await api.wait_channel_message(thread_id)
    assert answer.content == "pong Reader"
    assert answer.response["channel_id"] == str(thread_id)
    assert bot.seen[-1].channel is cached  # message.channel is the cached Thread
    assert len(bot.thread_events) == 1  # no second thread for a message inside the thread
    assert api.threads()[0]["message_count"] == 2  # the injected message and the answer


async def test_thread_from_followup_message(api: DiscordStandIn, bot: StandInBot) -> None:
    interaction = api.slash_command("discuss")
    await api.dispatch("INTERACTION_CREATE", interaction)
    assert (await api.wait_callback(interaction)).content == "let's discuss"
    followup = await api.wait_followup(interaction)
    starter = followup.response
    assert starter["webhook_id"] == str(api.application_id)
    start = await api.wait_thread(parent_id=api.channel.id)
    assert start.path == f"/channels/{api.channel.id}/messages/{starter['id']}/threads"
    thread_id = int(start.response["id"])
    assert start.response["thread_metadata"]["auto_archive_duration"] == 60
    welcome = await api.wait_channel_message(thread_id)
    assert welcome.content == "welcome to the thread"
    await api.wait_until(lambda: isinstance(bot.get_channel(thread_id), discord.Thread))
    assert bot.started_threads[0].id == thread_id
    assert bot.followup_guilds == [None]  # why the bot could not use starter.create_thread()

    # A slash command used inside the thread sees the thread as its channel.
    inside = api.slash_command("ask", {"question": "im Thread?"}, channel_id=thread_id)
    assert inside["guild_id"] == str(api.guild.id) and inside["channel"]["type"] == 11
    await api.dispatch("INTERACTION_CREATE", inside)
    assert (await api.wait_callback(inside)).content == "answer (guild): im Thread?"
    assert api.original(inside) is not None
    assert (api.original(inside) or {})["channel_id"] == str(thread_id)


async def test_threads_started_in_other_ways(api: DiscordStandIn, bot: StandInBot) -> None:
    channel = bot.get_channel(api.channel.id)
    assert isinstance(channel, discord.TextChannel)
    direct = await channel.create_thread(name="direct", type=discord.ChannelType.public_thread)
    request = await api.wait_thread()
    assert request.path == f"/channels/{api.channel.id}/threads"
    assert request.json["type"] == 11
    await api.wait_until(lambda: isinstance(bot.get_channel(direct.id), discord.Thread))

    # A thread someone else started from their message.
    question = api.message_create("a question worth a thread")
    await api.dispatch("MESSAGE_CREATE", question)
    users = await api.create_thread("user thread", message_id=int(question["id"]))
    assert users["id"] == question["id"] and users["owner_id"] == str(api.member.id)
    await api.wait_until(lambda: len(bot.thread_events) == 2)
    assert bot.thread_events[1].owner_id == api.member.id
    assert [t["name"] for t in api.threads()] == ["direct", "user thread"]

    # The guild payload (GUILD_CREATE on a new IDENTIFY) lists active threads apart.
    payload = api.guild.payload()
    assert {t["id"] for t in payload["threads"]} == {str(direct.id), users["id"]}
    assert all(c["type"] == 0 for c in payload["channels"])

    # Archiving removes it from discord.py's cache; the bot posting unarchives it.
    await api.update_thread(direct.id, archived=True)
    await api.wait_until(lambda: bot.get_channel(direct.id) is None)
    await direct.send("wieder da")
    await api.wait_until(lambda: bot.get_channel(direct.id) is not None)
    thread = api.thread(direct.id)
    assert isinstance(thread, ThreadChannel) and not thread.archived
    assert thread.message_count == 1

    await api.delete_thread(direct.id)
    await api.wait_until(lambda: bot.get_channel(direct.id) is None)
    assert [t["name"] for t in api.threads()] == ["user thread"]


async def test_thread_routes_without_a_client(api: DiscordStandIn) -> None:
    channel_id = api.channel.id
    message = api.message_create("starter")
    base = f"{api.api_base}/channels/{channel_id}"
    async with aiohttp.ClientSession() as session:
        body = {"name": "t", "auto_archive_duration": 1440}
        async with session.post(f"{base}/messages/{message['id']}/threads", json=body) as r:
            assert r.status == 200 and r.headers["Content-Type"] == "application/json"
            thread = await r.json()
        async with session.post(f"{base}/messages/{message['id']}/threads", json=body) as r:
            assert r.status == 400 and (await r.json())["code"] == 160004
        async with session.post(f"{base}/messages/1/threads", json=body) as r:
            assert r.status == 404 and (await r.json())["code"] == 10008
        async with session.post(f"{base}/threads", json={"name": "x"}) as r:
            assert r.status == 400 and (await r.json())["code"] == 50035  # type is required
        private = {"name": "p", "type": 12, "auto_archive_duration": 60, "invitable": False}
        async with session.post(f"{base}/threads", json=private) as r:
            assert r.status == 200
            assert (await r.json())["thread_metadata"]["invitable"] is False
        thread_base = f"{api.api_base}/channels/{thread['id']}"
        async with session.post(f"{thread_base}/threads", json={"name": "n", "type": 11}) as r:
            assert r.status == 400 and (await r.json())["code"] == 50024  # no nested threads
        async with session.post(f"{thread_base}/messages", json={"content": "hi"}) as r:
            assert r.status == 200 and (await r.json())["guild_id"] == str(api.guild.id)
        async with session.patch(thread_base, json={"archived": True, "locked": True}) as r:
            assert (await r.json())["thread_metadata"]["locked"] is True
        async with session.post(f"{thread_base}/messages", json={"content": "hi"}) as r:
            assert r.status == 400 and (await r.json())["code"] == 160005
    assert [t["type"] for t in api.threads()] == [11, 12]
    assert api.sequence == 0  # no session: nothing was dispatched, nothing waited for
    with pytest.raises(TimeoutError):
        await api.wait_thread(0.05, parent_id=thread["id"])
