"""Asking: ``/ask``, mentions, DMs and ask-channels, and the buttons under an answer.

The buttons are ``DynamicItem``s whose custom ids carry the question-log id, so they work
for every answer ever sent, across restarts.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import service
from bot.app import (
    NewsBot,
    asked,
    asked_text,
    client,
    locale_is_german,
    logged_question,
    send_ephemeral,
)
from bot.messages import (
    MUTED,
    NO_MENTIONS,
    button,
    content,
    embed,
    paragraph_embed,
    unstored,
)
from bot.options import SCOPE_OPTIONS, autocomplete_article, scope_from_options
from bot.questions import clean_question
from bot.render import render, render_answer, truncate
from bot.service import Asked, Question
from bot.state import LoggedQuestion
from index.database import StorageError
from index.records import Answer

log = logging.getLogger("newsbot.asking")
Interaction = discord.Interaction[NewsBot]
PAGE = 3
THREAD_NAME_LIMIT = 90


def answer_embed(answer: Answer) -> discord.Embed:
    """The answer (or the abstention) as an embed; templates shared with the terminal."""
    description = render_answer(answer, "discord")
    return embed(description, colour=discord.Colour.blurple() if answer.answered else MUTED)


def answer_view(answer: Answer, qid: int) -> discord.ui.View | None:
    """More results, 👍, 👎, Gloss (English questions), Source [n] — or nothing for an
    abstention."""
    if not answer.answered or not qid:
        return None
    de = answer.language == "de"
    view = discord.ui.View(timeout=None)
    if answer.total_hits > answer.offset + len(answer.results):
        view.add_item(MoreResults(qid, answer.offset + PAGE, de))
    if answer.offset == 0:
        view.add_item(Feedback(qid, 1))
        view.add_item(Feedback(qid, -1))
    if not de and answer.results:  # a reader who asked in English may not read German
        view.add_item(GlossButton(qid, answer.results[0].rank))
    for r in answer.results:
        view.add_item(ShowSource(qid, r.rank, de))
    return unstored(view)


def suggestion_view(qid: int, suggestions: list[str]) -> discord.ui.View | None:
    """ "Did you mean" buttons for an abstention (up to five)."""
    if not qid or not suggestions:
        return None
    view = discord.ui.View(timeout=None)
    for i, text in enumerate(suggestions[:5]):
        view.add_item(DidYouMean(qid, i, text))
    return unstored(view)


async def reply_view(bot: NewsBot, answer: Answer, qid: int) -> discord.ui.View | None:
    """The buttons for an answer, or the "did you mean" buttons for an abstention."""
    if answer.answered:
        return answer_view(answer, qid)
    if answer.reason != "not_covered":
        return None
    suggestions = await service.in_engine_thread(bot.engine.suggestions, answer.question)
    return suggestion_view(qid, suggestions)


class DidYouMean(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"nb:dym:(?P<qid>\d+):(?P<i>\d)"
):
    """Ask the suggested question instead (the suggestion is recomputed from the log)."""

    def __init__(self, qid: int, index: int, text: str = "?") -> None:
        self.qid, self.index = qid, index
        super().__init__(button(f"nb:dym:{qid}:{index}", label=text, primary=True))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> DidYouMean:
        return cls(int(match["qid"]), int(match["i"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = client(interaction)
        record = await logged_question(interaction, self.qid)
        if record is None:
            return
        suggestions = await service.in_engine_thread(bot.engine.suggestions, record.question)
        if self.index >= len(suggestions):
            await interaction.response.send_message(content("gone.j2", de=False), ephemeral=True)
            return
        await interaction.response.defer(thinking=True)
        answer, qid = await service.ask(
            bot.engine,
            bot.state,
            Question(suggestions[self.index], k=PAGE),
            asked(interaction, "suggestion"),
        )
        view = await reply_view(bot, answer, qid)
        await interaction.followup.send(
            embed=answer_embed(answer),
            view=view or discord.utils.MISSING,
            allowed_mentions=NO_MENTIONS,
        )


class MoreResults(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"nb:more:(?P<qid>\d+):(?P<offset>\d+)"
):
    """The next page of passages for a logged question (ephemeral)."""

    def __init__(self, qid: int, offset: int, de: bool = False) -> None:
        self.qid, self.offset = qid, offset
        super().__init__(
            button(
                f"nb:more:{qid}:{offset}",
                label=render("label.j2", "discord", what="more", de=de),
                row=0,
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> MoreResults:
        return cls(int(match["qid"]), int(match["offset"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = client(interaction)
        record = await logged_question(interaction, self.qid)
        if record is None:
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        answer = await service.answer(bot.engine, service.again(record, k=PAGE, offset=self.offset))
        view = answer_view(answer, self.qid) if answer.results else None
        await interaction.followup.send(
            embed=answer_embed(answer),
            view=view or discord.utils.MISSING,
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


class ShowSource(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"nb:src:(?P<qid>\d+):(?P<rank>\d+)"
):
    """The whole paragraph behind quote [rank], with the quote in bold (ephemeral)."""

    def __init__(self, qid: int, rank: int, de: bool = False) -> None:
        self.qid, self.rank = qid, rank
        super().__init__(
            button(
                f"nb:src:{qid}:{rank}",
                label=render("label.j2", "discord", what="source", rank=rank, de=de),
                row=1,
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ShowSource:
        return cls(int(match["qid"]), int(match["rank"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = client(interaction)
        record = await logged_question(interaction, self.qid)
        if record is None:
            return
        await interaction.response.send_message(
            embed=await source_embed(bot, record, self.rank),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


async def source_embed(bot: NewsBot, record: LoggedQuestion, rank: int) -> discord.Embed:
    """Paragraph view for result ``rank`` of a logged question."""
    german = record.language == "de"
    found = await service.logged_source(bot.engine, record, rank)
    if found is None:
        return embed(content("gone.j2", de=german), colour=MUTED)
    # The quote in bold when it still stands where it stood; else the question's words.
    marks = [found.quote] if found.quote else list(found.marks)
    return paragraph_embed(found.article, found.passage, german, marks)


class GlossButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"nb:gloss:(?P<qid>\d+):(?P<rank>\d+)"
):
    """The words of quote [rank] with their dictionary senses (ephemeral): quotes stay
    German, and this helps a reader without German follow one."""

    def __init__(self, qid: int, rank: int) -> None:
        self.qid, self.rank = qid, rank
        super().__init__(
            button(
                f"nb:gloss:{qid}:{rank}", label=render("label.j2", "discord", what="gloss"), row=0
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> GlossButton:
        return cls(int(match["qid"]), int(match["rank"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = client(interaction)
        record = await logged_question(interaction, self.qid)
        if record is None:
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        de = record.language == "de"
        found = await service.logged_source(bot.engine, record, self.rank)
        quote = found.quote_text if found else None
        if quote is None:
            reply = embed(content("gone.j2", de=de), colour=MUTED)
        else:
            glossed = await service.in_engine_thread(bot.engine.gloss, record.question, quote)
            reply = embed(render("gloss.j2", "discord", gloss=glossed, rank=self.rank, de=de))
        await interaction.followup.send(embed=reply, ephemeral=True, allowed_mentions=NO_MENTIONS)


class Feedback(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"nb:fb:(?P<qid>\d+):(?P<vote>up|down)"
):
    """👍 / 👎, stored with the question log (one vote per user, the last one counts)."""

    def __init__(self, qid: int, vote: int) -> None:
        self.qid, self.vote = qid, vote
        super().__init__(
            button(
                f"nb:fb:{qid}:{'up' if vote > 0 else 'down'}",
                emoji="👍" if vote > 0 else "👎",
                row=0,
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Feedback:
        return cls(int(match["qid"]), 1 if match["vote"] == "up" else -1)

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = client(interaction)
        record = await logged_question(interaction, self.qid)
        if record is None:
            return
        await bot.state.add_feedback(self.qid, str(interaction.user.id), self.vote)
        await interaction.response.send_message(
            content("thanks.j2", vote=self.vote, de=record.language == "de"), ephemeral=True
        )


class Asking(commands.Cog):
    """Questions by slash command, mention, DM or ask-channel."""

    def __init__(self, bot: NewsBot) -> None:
        self.bot = bot

    @app_commands.command(name="ask")
    @app_commands.describe(
        question="Your question, in English or German",
        private="Only you see the answer (default: no)",
        **SCOPE_OPTIONS,
    )
    @app_commands.autocomplete(source=autocomplete_article)
    async def ask(
        self,
        interaction: Interaction,
        question: app_commands.Range[str, 1, 1000],
        private: bool = False,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> None:
        """Ask a question about the articles; the answer quotes them verbatim."""
        question = await asked_text(interaction, question)
        if not question:
            return
        scope = scope_from_options(self.bot, source, since, until, locale_is_german(interaction))
        wait = self.bot.cooldowns.retry_after(interaction.user.id)
        if wait:
            de = locale_is_german(interaction)
            await send_ephemeral(interaction, content("cooldown.j2", seconds=wait, de=de))
            return
        await interaction.response.defer(ephemeral=private, thinking=True)
        answer, qid = await service.ask(
            self.bot.engine,
            self.bot.state,
            Question(question, k=PAGE, scope=scope),
            asked(interaction, "slash"),
        )
        view = await reply_view(self.bot, answer, qid)
        channel = interaction.channel
        thread = (
            not private
            and isinstance(channel, discord.TextChannel)
            and await self._wants_thread(interaction.guild_id, answer, qid)
        )
        sent = await interaction.followup.send(
            embed=answer_embed(answer),
            view=view or discord.utils.MISSING,
            ephemeral=private,
            allowed_mentions=NO_MENTIONS,
            wait=True,
        )
        if thread and isinstance(channel, discord.TextChannel):
            # A follow-up webhook message has no guild attached: start from the channel.
            await self._open_thread(
                qid, question, lambda name: channel.create_thread(name=name, message=sent)
            )

    async def _wants_thread(self, guild_id: int | None, answer: Answer, qid: int) -> bool:
        """Whether to open a follow-up thread on this answer (asked before sending it, so
        that nothing but the thread itself happens after the reply)."""
        if guild_id is None or not answer.answered or not qid:
            return False
        return await self.bot.state.threads_enabled(guild_id)

    async def _open_thread(
        self,
        qid: int,
        question: str,
        create: Callable[[str], Awaitable[discord.Thread]],
    ) -> None:
        """Open a follow-up thread on an answer and remember its first question."""
        try:
            thread = await create(truncate(question, THREAD_NAME_LIMIT))
            await self.bot.state.add_to_conversation(thread.id, qid)
        except (discord.HTTPException, StorageError):
            log.warning("could not open a follow-up thread on an answer")

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Answer mentions, DMs and every message in an ask-channel."""
        bot = self.bot
        if message.author.bot or bot.user is None or message.author.id == bot.user.id:
            return
        direct = message.guild is None
        mentioned = any(u.id == bot.user.id for u in message.mentions)
        in_ask_channel = message.channel.id in bot.ask_channel_ids
        # A thread the bot opened on an answer: every message there is a follow-up.
        context = (
            await bot.state.conversation(message.channel.id)
            if isinstance(message.channel, discord.Thread)
            else None
        )
        if not (direct or mentioned or in_ask_channel or context is not None):
            return
        question = clean_question(message.content)
        if not question:
            if direct or mentioned:
                locale = message.guild.preferred_locale if message.guild else None
                await message.reply(
                    content("mention_help.j2", de=str(locale or "").startswith("de")),
                    mention_author=False,
                    allowed_mentions=NO_MENTIONS,
                )
            return
        wait = bot.cooldowns.retry_after(message.author.id)
        if wait:
            await message.reply(
                content("cooldown.j2", seconds=wait, de=bot.frames_german(question)),
                mention_author=False,
                allowed_mentions=NO_MENTIONS,
                delete_after=min(wait, 30.0),
            )
            return
        guild_id = message.guild.id if message.guild else None
        async with message.channel.typing():
            answer, qid = await service.ask(
                bot.engine,
                bot.state,
                Question(question, k=PAGE, context=tuple(context or ())),
                Asked(
                    origin="dm" if direct else ("thread" if context is not None else "mention"),
                    user_id=message.author.id,
                    guild_id=guild_id,
                    channel_id=message.channel.id,
                ),
            )
        view = await reply_view(bot, answer, qid)
        thread = (
            context is None
            and isinstance(message.channel, discord.TextChannel)
            and await self._wants_thread(guild_id, answer, qid)
        )
        if context is not None and qid:  # recorded before replying: nothing after it
            await bot.state.add_to_conversation(message.channel.id, qid)
        reply = await message.reply(
            embed=answer_embed(answer),
            view=view or discord.utils.MISSING,
            mention_author=False,
            allowed_mentions=NO_MENTIONS,
        )
        if thread:
            await self._open_thread(qid, question, lambda name: reply.create_thread(name=name))


async def setup(bot: NewsBot) -> None:
    bot.add_dynamic_items(MoreResults, ShowSource, GlossButton, Feedback, DidYouMean)
    await bot.add_cog(Asking(bot))
