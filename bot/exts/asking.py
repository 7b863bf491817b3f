"""Asking: ``/ask``, mentions, DMs and ask-channels, and the buttons under an answer.

The buttons are ``DynamicItem``s whose custom ids carry the question-log id, so they work
for every answer ever sent, across restarts.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import locale_is_german, logged_question, send_ephemeral
from bot.messages import MUTED, NO_MENTIONS, QUOTE_LIMIT, content, embed, label, unstored
from bot.options import autocomplete_article, scope_from_options
from bot.questions import clean_question
from bot.render import render, truncate
from index.records import Answer, understood_line
from index.storage import StorageError

if TYPE_CHECKING:
    from bot.app import NewsBot

log = logging.getLogger("newsbot.asking")
PAGE = 3
THREAD_NAME_LIMIT = 90


def answer_embed(bot: NewsBot, answer: Answer) -> discord.Embed:
    """The answer (or the abstention) as an embed; templates shared with the terminal."""
    titles = bot.article_titles()
    description = render(
        "answer.j2",
        "discord",
        answer=answer,
        titles=titles[:10],
        understood=understood_line(answer.understood_as, answer.language),
        show_understood=True,
        quote_limit=QUOTE_LIMIT,
    )
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
    return suggestion_view(qid, await asyncio.to_thread(bot.engine.suggestions, answer.question))


class DidYouMean(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"nb:dym:(?P<qid>\d+):(?P<i>\d)"
):
    """Ask the suggested question instead (the suggestion is recomputed from the log)."""

    def __init__(self, qid: int, index: int, text: str = "?") -> None:
        self.qid, self.index = qid, index
        super().__init__(
            discord.ui.Button(
                label=label(text),
                style=discord.ButtonStyle.primary,
                custom_id=f"nb:dym:{qid}:{index}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> DidYouMean:
        return cls(int(match["qid"]), int(match["i"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: NewsBot = interaction.client  # type: ignore[assignment]
        record = await logged_question(interaction, self.qid)
        if record is None:
            return
        suggestions = await asyncio.to_thread(bot.engine.suggestions, record["question"])
        if self.index >= len(suggestions):
            await interaction.response.send_message(content("gone.j2", de=False), ephemeral=True)
            return
        await interaction.response.defer(thinking=True)
        answer, qid = await bot.ask(
            suggestions[self.index],
            k=PAGE,
            origin="suggestion",
            user_id=interaction.user.id,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
        )
        view = await reply_view(bot, answer, qid)
        await interaction.followup.send(
            embed=answer_embed(bot, answer),
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
            discord.ui.Button(
                label=label(render("label.j2", "discord", what="more", de=de)),
                style=discord.ButtonStyle.secondary,
                custom_id=f"nb:more:{qid}:{offset}",
                row=0,
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> MoreResults:
        return cls(int(match["qid"]), int(match["offset"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: NewsBot = interaction.client  # type: ignore[assignment]
        record = await logged_question(interaction, self.qid)
        if record is None:
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        answer = await bot.answer_logged(record, k=PAGE, offset=self.offset)
        view = answer_view(answer, self.qid) if answer.results else None
        await interaction.followup.send(
            embed=answer_embed(bot, answer),
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
            discord.ui.Button(
                label=label(render("label.j2", "discord", what="source", rank=rank, de=de)),
                style=discord.ButtonStyle.secondary,
                custom_id=f"nb:src:{qid}:{rank}",
                row=1,
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ShowSource:
        return cls(int(match["qid"]), int(match["rank"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: NewsBot = interaction.client  # type: ignore[assignment]
        record = await logged_question(interaction, self.qid)
        if record is None:
            return
        await interaction.response.send_message(
            embed=await source_embed(bot, record, self.rank),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


async def source_embed(bot: NewsBot, record: dict[str, Any], rank: int) -> discord.Embed:
    """Paragraph view for result ``rank`` of a logged question."""
    question, top = record["question"], record["top_passages"]
    snap = bot.engine.snapshot
    german = False
    if 0 < rank <= len(snap.passages):
        answer = await bot.answer_logged(record, k=rank, abstain=False)
        german = answer.language == "de"
        # The log keeps the first page; a rank from a later page (More results) is recomputed.
        if rank <= len(top):
            article_id, _, paragraph = top[rank - 1].rpartition("#")
        elif rank <= len(answer.results):
            article_id = answer.results[rank - 1].article_id
            paragraph = str(answer.results[rank - 1].paragraph)
        else:
            article_id = paragraph = ""
        hit = next(
            (
                r
                for r in answer.results
                if r.article_id == article_id and str(r.paragraph) == paragraph
            ),
            None,
        )
        if article_id in snap.articles:
            article = snap.articles[article_id]
            try:
                _, passage, marks = bot.engine.passage_view(article_id, int(paragraph), question)
            except (KeyError, ValueError):
                passage = None
            if passage is not None:
                # The quote in bold when it still stands where it stood; else the words.
                spans = [(hit.quote_start, hit.quote_end)] if hit else list(marks)
                cite = {
                    "title": article.title,
                    "date": article.date,
                    "section": passage.section,
                    "paragraph": passage.ordinal,
                }
                return embed(
                    render(
                        "source.j2",
                        "discord",
                        article=article,
                        cite=cite,
                        lang="de" if german else "en",
                        text=article.text[passage.start : passage.end],
                        start=passage.start,
                        marks=spans,
                    )
                )
    return embed(content("gone.j2", de=german), colour=MUTED)


class GlossButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"nb:gloss:(?P<qid>\d+):(?P<rank>\d+)"
):
    """The words of quote [rank] with their dictionary senses (ephemeral): quotes stay
    German, and this helps a reader without German follow one."""

    def __init__(self, qid: int, rank: int) -> None:
        self.qid, self.rank = qid, rank
        super().__init__(
            discord.ui.Button(
                label=label("Gloss"),
                style=discord.ButtonStyle.secondary,
                custom_id=f"nb:gloss:{qid}:{rank}",
                row=0,
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> GlossButton:
        return cls(int(match["qid"]), int(match["rank"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: NewsBot = interaction.client  # type: ignore[assignment]
        record = await logged_question(interaction, self.qid)
        if record is None:
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        answer = await bot.answer_logged(record, k=self.rank, abstain=False)
        de = answer.language == "de"
        hit = next((r for r in answer.results if r.rank == self.rank), None)
        if hit is None:
            reply = embed(content("gone.j2", de=de), colour=MUTED)
        else:
            glossed = await asyncio.to_thread(bot.engine.gloss, answer.question, hit.quote)
            reply = embed(render("gloss.j2", "discord", gloss=glossed, rank=hit.rank, de=de))
        await interaction.followup.send(embed=reply, ephemeral=True, allowed_mentions=NO_MENTIONS)


class Feedback(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"nb:fb:(?P<qid>\d+):(?P<vote>up|down)"
):
    """👍 / 👎, stored with the question log (one vote per user, the last one counts)."""

    def __init__(self, qid: int, vote: int) -> None:
        self.qid, self.vote = qid, vote
        super().__init__(
            discord.ui.Button(
                emoji="👍" if vote > 0 else "👎",
                style=discord.ButtonStyle.secondary,
                custom_id=f"nb:fb:{qid}:{'up' if vote > 0 else 'down'}",
                row=0,
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Feedback:
        return cls(int(match["qid"]), 1 if match["vote"] == "up" else -1)

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: NewsBot = interaction.client  # type: ignore[assignment]
        record = await logged_question(interaction, self.qid)
        if record is None:
            return
        await bot.storage.add_feedback(self.qid, str(interaction.user.id), self.vote)
        await interaction.response.send_message(
            content("thanks.j2", vote=self.vote, de=record["language"] == "de"), ephemeral=True
        )


class Asking(commands.Cog):
    """Questions by slash command, mention, DM or ask-channel."""

    def __init__(self, bot: NewsBot) -> None:
        self.bot = bot

    @app_commands.command(name="ask")
    @app_commands.describe(
        question="Your question, in English or German",
        private="Only you see the answer (default: no)",
        source="Only this article",
        since="Only articles from this date on (YYYY-MM-DD)",
        until="Only articles up to this date (YYYY-MM-DD)",
    )
    @app_commands.autocomplete(source=autocomplete_article)
    async def ask(
        self,
        interaction: discord.Interaction,
        question: app_commands.Range[str, 1, 1000],
        private: bool = False,
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> None:
        """Ask a question about the articles; the answer quotes them verbatim."""
        question = clean_question(question)
        if not question:  # only mentions, links or invisible characters
            await send_ephemeral(
                interaction, content("mention_help.j2", de=locale_is_german(interaction))
            )
            return
        scope = scope_from_options(self.bot, source, since, until, locale_is_german(interaction))
        wait = self.bot.cooldowns.retry_after(interaction.user.id)
        if wait:
            de = locale_is_german(interaction)
            await send_ephemeral(interaction, content("cooldown.j2", seconds=wait, de=de))
            return
        await interaction.response.defer(ephemeral=private, thinking=True)
        answer, qid = await self.bot.ask(
            question,
            k=PAGE,
            origin="slash",
            user_id=interaction.user.id,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            scope=scope,
        )
        view = await reply_view(self.bot, answer, qid)
        channel = interaction.channel
        thread = (
            not private
            and isinstance(channel, discord.TextChannel)
            and await self._wants_thread(interaction.guild_id, answer, qid)
        )
        sent = await interaction.followup.send(
            embed=answer_embed(self.bot, answer),
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
        return await self.bot.storage.threads_enabled(guild_id)

    async def _open_thread(
        self,
        qid: int,
        question: str,
        create: Callable[[str], Awaitable[discord.Thread]],
    ) -> None:
        """Open a follow-up thread on an answer and remember its first question."""
        try:
            thread = await create(truncate(question, THREAD_NAME_LIMIT))
            await self.bot.storage.add_to_conversation(thread.id, qid)
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
            await bot.storage.conversation(message.channel.id)
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
            answer, qid = await bot.ask(
                question,
                k=PAGE,
                origin="dm" if direct else ("thread" if context is not None else "mention"),
                user_id=message.author.id,
                guild_id=guild_id,
                channel_id=message.channel.id,
                context=context or (),
            )
        view = await reply_view(bot, answer, qid)
        thread = (
            context is None
            and isinstance(message.channel, discord.TextChannel)
            and await self._wants_thread(guild_id, answer, qid)
        )
        if context is not None and qid:  # recorded before replying: nothing after it
            await bot.storage.add_to_conversation(message.channel.id, qid)
        reply = await message.reply(
            embed=answer_embed(bot, answer),
            view=view or discord.utils.MISSING,
            mention_author=False,
            allowed_mentions=NO_MENTIONS,
        )
        if thread:
            await self._open_thread(qid, question, lambda name: reply.create_thread(name=name))


async def setup(bot: NewsBot) -> None:
    bot.add_dynamic_items(MoreResults, ShowSource, GlossButton, Feedback, DidYouMean)
    await bot.add_cog(Asking(bot))
