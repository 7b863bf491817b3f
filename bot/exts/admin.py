"""Admin commands: ``/reindex`` (with an optional article upload), ``/stats``, ``/config``.

Allowed to members with Manage Server or the server's admin role, checked here on every
call (``default_permissions`` only hides the commands in the client). Every admin action,
and every refusal, is written to the audit table.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import service
from bot.app import NewsBot
from bot.messages import NO_MENTIONS, content, embed, title
from bot.options import refusal
from bot.permissions import admin_only
from bot.render import render
from bot.service import Question, Refused
from index.locks import ReindexBusyError
from index.pipeline import reindex
from index.records import understood_line

log = logging.getLogger("newsbot.admin")
PROGRESS_EVERY = 1.0  # seconds between progress edits (Discord rate limits edits)
Interaction = discord.Interaction[NewsBot]


@dataclass
class _Progress:
    stage: str = "starting"
    done: int = 0
    total: int = 0
    shown: float = 0.0


def admin_group(name: str, description: str) -> app_commands.Group:
    """A group of admin commands, hidden in DMs and from members without Manage Server."""
    return app_commands.Group(
        name=name,
        description=description,
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )


async def _private(interaction: Interaction, reply: discord.Embed) -> None:
    await interaction.response.send_message(
        embed=reply, ephemeral=True, allowed_mentions=NO_MENTIONS
    )


class Admin(commands.Cog):
    """Keep the index current and see how the bot is used."""

    def __init__(self, bot: NewsBot) -> None:
        self.bot = bot

    @app_commands.command(name="reindex")
    @app_commands.describe(file="A new article to add first (.txt or .md, UTF-8)")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @admin_only()
    async def reindex_command(
        self, interaction: Interaction, file: discord.Attachment | None = None
    ) -> None:
        """Rebuild the index from the articles directory (admins only)."""
        bot = self.bot
        detail = ""
        if file is not None:
            limit = bot.settings.max_upload_bytes
            try:
                name = service.safe_article_name(file.filename)
                if file.size > limit:
                    await self._refuse(interaction, f"upload too large: {file.filename}")
                    raise Refused("upload_size", size=file.size, limit=limit)
                await interaction.response.defer(ephemeral=True, thinking=True)
                try:
                    text = service.validate_upload(name, await file.read(), limit)
                except Refused:
                    await self._refuse(interaction, f"bad upload: {file.filename}")
                    raise
                directory = bot.settings.articles_dir
                path = await asyncio.to_thread(service.save_article, directory, name, text)
            except Refused as refused:
                raise refusal(refused.reason, **refused.context) from None
            detail = f"uploaded {path.name}"
        else:
            await interaction.response.defer(ephemeral=True, thinking=True)
        await self._run_reindex(interaction, detail)

    async def _refuse(self, interaction: Interaction, detail: str) -> None:
        await self._audit(interaction, "reindex", False, detail)

    async def _audit(
        self, interaction: Interaction, action: str, allowed: bool, detail: str = ""
    ) -> None:
        """Record an admin action (or its refusal) in the audit table."""
        await self.bot.state.audit(
            interaction.guild_id, interaction.user.id, action, allowed, detail
        )

    async def _run_reindex(self, interaction: Interaction, detail: str) -> None:
        bot = self.bot
        loop = asyncio.get_running_loop()
        began = time.monotonic()
        state = _Progress()

        async def show() -> None:
            text = render(
                "reindex_progress.j2",
                "discord",
                stage=state.stage,
                done=state.done,
                total=state.total,
                elapsed=time.monotonic() - began,
            )
            try:
                await interaction.edit_original_response(content=text, allowed_mentions=NO_MENTIONS)
            except discord.HTTPException:
                log.warning("could not edit the reindex progress message")

        pending: list[concurrent.futures.Future[None]] = []

        def progress(stage: str, done: int, total: int) -> None:  # any thread
            state.stage, state.done, state.total = stage, done, total
            now = time.monotonic()
            if now - state.shown >= PROGRESS_EVERY:
                state.shown = now
                pending.append(asyncio.run_coroutine_threadsafe(show(), loop))

        async def final(**edit: Any) -> None:
            # No progress edit may land after the final one and overwrite it.
            for future in pending:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.wrap_future(future), 10)
            await interaction.edit_original_response(allowed_mentions=NO_MENTIONS, **edit)

        await show()
        before = bot.engine.snapshot
        try:
            report = await reindex(bot.store, bot.sources, bot.engine, progress)
        except ReindexBusyError:
            await self._audit(
                interaction,
                "reindex",
                False,
                "busy: another reindex was running",
            )
            await final(content=content("reindex_busy.j2"))
            return
        except (OSError, ValueError, RuntimeError) as exc:
            # A missing articles directory, an unreadable glossary, a failed build: the
            # previous index keeps serving. Say why, instead of leaving "Reindexing…" up.
            log.warning("reindex failed: %s", exc)
            await self._audit(interaction, "reindex", False, f"failed: {exc}")
            await final(content=content("reindex_failed.j2", reason=str(exc)))
            return
        summary = render("reindex.j2", "discord", report=report)
        await self._audit(
            interaction,
            "reindex",
            True,
            f"{detail}; {report.articles} articles, {report.passages} passages".strip("; "),
        )
        await final(content=None, embed=embed(summary))
        if bot.engine.snapshot is not before:  # also an unchanged build another process made
            await service.settle(bot.engine)  # the new build's first-use loads, out of gc
        bot.start_encoding()  # the new passages' vectors, in the background

    @app_commands.command(name="stats")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @admin_only()
    async def stats(self, interaction: Interaction) -> None:
        """Questions asked, answered share, feedback, frequent unanswered (admins only)."""
        bot = self.bot
        text = render("stats.j2", "discord", **await service.usage(bot.engine, bot.state))
        await self._audit(interaction, "stats", True)
        await _private(interaction, embed(text, title=title("usage")))

    @app_commands.command(name="gaps")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @admin_only()
    async def gaps(self, interaction: Interaction) -> None:
        """Questions the bot could not answer or got 👎, and how it understood them."""
        bot = self.bot
        rows = []
        for gap in await bot.state.gaps():
            answer = await service.answer(bot.engine, Question(gap.question, k=1))
            rows.append(
                {
                    "question": gap.question,
                    "asked": gap.asked,
                    "down": gap.thumbs_down,
                    "understood": understood_line(
                        answer.understood_as, answer.language, every=True
                    ),
                }
            )
        await self._audit(interaction, "gaps", True)
        await _private(
            interaction, embed(render("gaps.j2", "discord", rows=rows), title=title("gaps"))
        )

    synonym = admin_group(
        "synonym", "Words the bot should understand (applied at once, no reindex)"
    )

    @synonym.command(name="add")
    @app_commands.describe(
        term="An English or German word or name, as people ask it",
        means="The German words to search for, separated by commas",
    )
    @admin_only()
    async def synonym_add(
        self,
        interaction: Interaction,
        term: app_commands.Range[str, 1, 60],
        means: app_commands.Range[str, 1, 200],
    ) -> None:
        """Teach the bot a word: questions with ``term`` search for ``means``."""
        words = [w.strip() for w in means.split(",") if w.strip()]
        if not service.words_in_articles(self.bot.engine, words):
            raise refusal("synonym_unknown_words")
        await self.bot.state.set_synonym(term.strip(), words, interaction.user.id)
        await self.bot.apply_synonyms()
        await self._audit(
            interaction,
            "synonym add",
            True,
            f"{term.strip()} = {', '.join(words)}",
        )
        added = render("note.j2", "discord", what="synonym_added", term=term.strip(), means=words)
        await self._reply_synonyms(interaction, added)

    @synonym.command(name="remove")
    @app_commands.describe(term="The word to forget")
    @admin_only()
    async def synonym_remove(
        self, interaction: Interaction, term: app_commands.Range[str, 1, 60]
    ) -> None:
        """Forget a word taught with /synonym add."""
        if not await self.bot.state.remove_synonym(term.strip()):
            raise refusal("synonym_missing", value=term)
        await self.bot.apply_synonyms()
        await self._audit(interaction, "synonym remove", True, term.strip())
        removed = render("note.j2", "discord", what="synonym_removed", term=term.strip())
        await self._reply_synonyms(interaction, removed)

    @synonym.command(name="list")
    @admin_only()
    async def synonym_list(self, interaction: Interaction) -> None:
        """The words taught with /synonym add."""
        await self._reply_synonyms(interaction, "")

    async def _reply_synonyms(self, interaction: Interaction, note: str) -> None:
        entries = await self.bot.state.synonyms()
        await _private(
            interaction,
            embed(
                render("synonyms.j2", "discord", entries=entries, note=note),
                title=title("synonyms"),
            ),
        )

    config = admin_group("config", "Bot settings for this server")

    @config.command(name="show")
    @admin_only()
    async def config_show(self, interaction: Interaction) -> None:
        """Show this server's ask-channels and admin role."""
        await self._reply_config(interaction, "")

    @config.command(name="ask-channel")
    @app_commands.describe(channel="The channel", enabled="Answer every message there?")
    @admin_only()
    async def config_ask_channel(
        self, interaction: Interaction, channel: discord.TextChannel, enabled: bool
    ) -> None:
        """Add or remove an ask-channel, where every message is a question."""
        assert interaction.guild_id is not None
        changed = await self.bot.state.set_ask_channel(interaction.guild_id, channel.id, enabled)
        await self.bot.refresh_ask_channels()
        await self._audit(
            interaction,
            "config ask-channel",
            True,
            f"{channel.id} {'on' if enabled else 'off'}",
        )
        note = "" if changed else render("note.j2", "discord", what="no_change")
        await self._reply_config(interaction, note)

    @config.command(name="threads")
    @app_commands.describe(enabled="Open a thread on each answer for follow-up questions?")
    @admin_only()
    async def config_threads(self, interaction: Interaction, enabled: bool) -> None:
        """Open a follow-up thread on answers in this server (or stop doing so)."""
        assert interaction.guild_id is not None
        await self.bot.state.set_threads(interaction.guild_id, enabled)
        await self._audit(
            interaction,
            "config threads",
            True,
            "on" if enabled else "off",
        )
        await self._reply_config(interaction, "")

    @config.command(name="admin-role")
    @app_commands.describe(
        role="Members with this role may use the admin commands; leave empty to clear"
    )
    @admin_only()
    async def config_admin_role(
        self, interaction: Interaction, role: discord.Role | None = None
    ) -> None:
        """Set or clear the role that may use the admin commands."""
        assert interaction.guild_id is not None
        await self.bot.state.set_admin_role(interaction.guild_id, role.id if role else None)
        await self._audit(
            interaction,
            "config admin-role",
            True,
            str(role.id) if role else "cleared",
        )
        await self._reply_config(interaction, "")

    async def _reply_config(self, interaction: Interaction, note: str) -> None:
        assert interaction.guild_id is not None
        channels = sorted(await self.bot.state.ask_channels(interaction.guild_id))
        from_settings, not_found = self._settings_channels(interaction.guild_id, channels)
        role = await self.bot.state.admin_role(interaction.guild_id)
        text = render(
            "config.j2",
            "discord",
            channels=channels,
            from_settings=from_settings,
            not_found=not_found,
            role=role,
            note=note,
            intent=self.bot.intents.message_content,
            threads=await self.bot.state.threads_enabled(interaction.guild_id),
        )
        await _private(interaction, embed(text, title=title("configuration")))

    def _settings_channels(self, guild_id: int, stored: list[int]) -> tuple[list[int], list[int]]:
        """``ASK_CHANNEL_IDS`` as this server sees them: its own channels there, and the ids
        the bot cannot find in any server (a typo, or a channel it cannot see)."""
        here, not_found = [], []
        for channel_id in sorted(set(self.bot.settings.ask_channel_ids) - set(stored)):
            channel = self.bot.get_channel(channel_id)
            if channel is None:
                not_found.append(channel_id)
            elif getattr(getattr(channel, "guild", None), "id", None) == guild_id:
                here.append(channel_id)
        return here, not_found


async def setup(bot: NewsBot) -> None:
    await bot.add_cog(Admin(bot))
