"""The Discord bot: a ``commands.AutoShardedBot`` holding the engine and the stores, one cog
per area.

Resources are opened in ``bot.cli.cmd_run`` and passed in (discord.py's advanced_startup pattern).
``SHARD_COUNT`` and ``SHARD_IDS`` choose the shards this process runs: several processes
can share one bot, each with its own shards (Discord sends a server's events to shard
``(guild_id >> 22) % SHARD_COUNT``); unset, Discord's recommended count runs here.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import Cooldowns, NotAdmin, UserFacingError
from bot.messages import NO_MENTIONS, content
from bot.questions import clean_question
from bot.service import Asked
from bot.settings import Settings
from bot.startup import sources_from
from bot.state import BotState, LoggedQuestion
from bot.sync import Follower
from index.embedding import semantic_line
from index.engine import Engine
from index.lexicon import GlossaryEntry
from index.pipeline import encode_and_refresh
from index.sources import Sources
from index.store import IndexStore
from index.text import tokenize

log = logging.getLogger("newsbot")

EXTENSIONS: Sequence[str] = ("bot.exts.asking", "bot.exts.lookups", "bot.exts.admin")
COMMANDS_HASH_KEY = "discord_commands_hash"


class NewsBot(commands.AutoShardedBot):
    """The bot. Cogs reach the engine, the stores and the settings through it."""

    def __init__(
        self,
        settings: Settings,
        store: IndexStore,
        state: BotState,
        engine: Engine,
        *,
        guild_ready_timeout: float = 2.0,
        **options: Any,
    ) -> None:
        intents = discord.Intents.default()
        intents.message_content = settings.message_content_intent
        if settings.shard_ids is not None:  # None: every shard of SHARD_COUNT
            options["shard_ids"] = settings.shard_ids
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            allowed_mentions=NO_MENTIONS,
            guild_ready_timeout=guild_ready_timeout,
            shard_count=settings.shard_count,
            **options,
        )
        self.settings = settings
        self.store = store
        self.state = state
        self.engine = engine
        # MAX_QUESTION_CHARS holds for every question the bot answers.
        engine.max_question_chars = settings.max_question_chars
        self.cooldowns = Cooldowns(settings.ask_cooldown_seconds)
        self.ask_channel_ids: set[int] = set(settings.ask_channel_ids)
        self.encoding: asyncio.Task[None] | None = None
        self.follower = Follower(self, settings.sync_poll_seconds)
        self.following: asyncio.Task[None] | None = None
        self.tree.error(self.on_tree_error)

    @property
    def sources(self) -> Sources:
        return sources_from(self.settings)

    async def setup_hook(self) -> None:
        log.info("this process runs %s", shards_line(self.shard_ids, self.shard_count))
        await self.refresh_ask_channels()
        await self.apply_synonyms()
        # What belongs to the whole bot, not to a shard, is done by the process that runs
        # shard 0 (the others would only repeat it): encoding what the index lacks (the
        # others take the vectors up as they are stored) and syncing the slash commands.
        first = self.shard_ids is None or 0 in self.shard_ids
        if first:
            self.start_encoding()
        self.following = asyncio.create_task(self.follower.run(), name="newsbot-follow")
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if first:
            await self.sync_commands()

    async def sync_commands(self) -> bool:
        """Sync slash commands (to ``DEV_GUILD_ID`` when set), only when they changed.

        The stored hash covers the application, the target (guild or global) and the
        commands, so a change of any of them syncs again.
        """
        guild = discord.Object(self.settings.dev_guild_id) if self.settings.dev_guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        payload = [c.to_dict(self.tree) for c in self.tree.get_commands(guild=guild)]
        scope = f"guild:{guild.id}" if guild else "global"
        # Commands belong to an application: another one on this database has none yet.
        target = [self.application_id, scope]
        digest = hashlib.sha256(
            json.dumps([target, payload], sort_keys=True).encode("utf-8")
        ).hexdigest()
        if await self.state.get_meta(COMMANDS_HASH_KEY) == digest:
            log.info("slash commands unchanged; not syncing")
            return False
        synced = await self.tree.sync(guild=guild)
        await self.state.set_meta(COMMANDS_HASH_KEY, digest)
        log.info("synced %d slash commands (%s)", len(synced), scope)
        return True

    async def on_ready(self) -> None:
        user = self.user
        log.info(
            "connected as %s (%s) to %d servers, %s",
            user,
            user.id if user else "?",
            len(self.guilds),
            shards_line(sorted(self.shards), self.shard_count),
        )
        # The ask-channels as setup_hook read them (the commands and other processes keep
        # them current): no database read here, where a shutdown may have closed it already.
        if self.ask_channel_ids and not self.intents.message_content:
            log.warning(
                "ask-channels are configured but the Message Content intent is off: the bot "
                "only sees mentions and DMs there. Enable 'Message Content Intent' in the "
                "developer portal (Bot page) and set MESSAGE_CONTENT_INTENT=true."
            )

    async def on_message(self, message: discord.Message) -> None:
        # Questions in messages are handled by the asking cog; no prefix commands here.
        return

    async def close(self) -> None:
        for task in (self.encoding, self.following):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await super().close()

    # -- shared services for the cogs -------------------------------------------------

    def start_encoding(self) -> None:
        """Encode what the index lacks in the background (a child process); answering goes
        on meanwhile, hybrid for the passages already encoded, lexical for the rest."""
        if self.engine.encoder is None or (self.encoding and not self.encoding.done()):
            return
        self.encoding = asyncio.create_task(self._encode(), name="newsbot-encode")

    async def _encode(self) -> None:
        shown = [-1]

        def progress(stage: str, done: int, total: int) -> None:
            step = 10 * done // max(total, 1)
            if step != shown[0]:
                shown[0] = step
                log.info("semantic index: encoded %d of %d texts", done, total)

        try:
            report = await encode_and_refresh(
                self.store,
                self.engine,
                self.settings.encoder,
                self.settings.embedding_cache,
                progress,
            )
        except Exception as exc:  # the bot keeps answering lexically
            log.warning("semantic index incomplete (%s); answering lexically meanwhile", exc)
            return
        if report is not None:
            log.info("%s", semantic_line(self.engine.semantic_status()))

    async def apply_synonyms(self) -> None:
        """Load the ``/synonym`` entries into the engine (no reindex needed)."""
        entries = [
            GlossaryEntry((term,), tuple(means), "synonym")
            for term, means in await self.state.synonyms()
        ]
        self.engine.set_user_glossary(entries)

    async def refresh_ask_channels(self) -> None:
        self.ask_channel_ids = set(self.settings.ask_channel_ids) | await self.state.ask_channels()

    def frames_german(self, question: str) -> bool:
        """Whether to frame a reply about ``question`` in German: the question's language,
        as for answers (a message has no locale to go by)."""
        builder = self.engine.builder
        text = question[: self.settings.max_question_chars]
        return builder.detect_language(tokenize(text)) == "de"

    # -- errors -----------------------------------------------------------------------

    async def on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """One handler for every slash command: users get a short reply, we get the log."""
        if isinstance(error, NotAdmin):
            text = content("not_admin.j2", de=locale_is_german(interaction))
        elif isinstance(error, app_commands.NoPrivateMessage):
            text = content("guild_only.j2", de=locale_is_german(interaction))
        elif isinstance(error, UserFacingError | app_commands.TransformerError):
            text = str(error)
        elif isinstance(error, app_commands.CheckFailure):
            text = content("not_allowed.j2", de=locale_is_german(interaction))
        else:
            original = getattr(error, "original", error)
            name = interaction.command.qualified_name if interaction.command else "?"
            log.error("command /%s failed", name, exc_info=original)
            text = content("apology.j2", de=locale_is_german(interaction))
        await send_ephemeral(interaction, text)


def shards_line(shard_ids: Sequence[int] | None, shard_count: int | None) -> str:
    """Which shards a process runs, for the log: ``shards 0, 2 of 4``."""
    if shard_count is None:
        return "the shards Discord recommends"
    shards = range(shard_count) if shard_ids is None else shard_ids
    listed = ", ".join(str(shard) for shard in shards)
    return f"shard{'s' if len(shards) > 1 else ''} {listed} of {shard_count}"


def client(interaction: discord.Interaction) -> NewsBot:
    """The bot an interaction came to (a button's callback is typed for any client)."""
    bot = interaction.client
    if not isinstance(bot, NewsBot):
        raise TypeError(f"interaction for {type(bot).__name__}, not NewsBot")
    return bot


def asked(interaction: discord.Interaction, origin: str) -> Asked:
    """Who asked, where, for the question log."""
    return Asked(origin, interaction.user.id, interaction.guild_id, interaction.channel_id)


async def asked_text(interaction: discord.Interaction, text: str) -> str:
    """A slash command's question without Discord markup; empty (after telling the user
    how to ask) when nothing is left: only mentions, links or invisible characters."""
    question = clean_question(text)
    if not question:
        await send_ephemeral(
            interaction, content("mention_help.j2", de=locale_is_german(interaction))
        )
    return question


def locale_is_german(interaction: discord.Interaction) -> bool:
    """Whether the user's Discord client is set to German."""
    return str(interaction.locale).startswith("de")


async def logged_question(interaction: discord.Interaction, qid: int) -> LoggedQuestion | None:
    """The logged question a button refers to; None (after telling the user) if it is gone."""
    record = await client(interaction).state.question(qid)
    if record is None:
        await interaction.response.send_message(
            content("gone.j2", de=locale_is_german(interaction)), ephemeral=True
        )
    return record


async def send_ephemeral(interaction: discord.Interaction, text: str) -> None:
    """Reply privately whether or not the interaction was answered already."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(
                text, ephemeral=True, allowed_mentions=NO_MENTIONS
            )
    except discord.HTTPException:
        log.exception("could not send an error reply")


class TokenFilter(logging.Filter):
    """Replace the bot token wherever it might appear in a log record."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token and self.token in record.getMessage():
            record.msg = record.getMessage().replace(self.token, "[token]")
            record.args = None
        return True


class _BotLogHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The bot's console handler (so a second setup replaces it, and nothing else)."""


def setup_logging(level: str, token: str | None = None) -> None:
    """Timestamped logs on stderr; the token is scrubbed from every record."""
    handler = _BotLogHandler()
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _BotLogHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    if token:
        # On the loggers, not only the handler: other handlers (files, test captures) get
        # scrubbed records too.
        token_filter = TokenFilter(token)
        for name in ("", "discord", "newsbot", "asyncio", "aiohttp"):
            logging.getLogger(name).addFilter(token_filter)
        handler.addFilter(token_filter)
    root.setLevel(level.upper())
    logging.getLogger("discord.http").setLevel(logging.WARNING)
