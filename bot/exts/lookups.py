"""Lookups: ``/search`` (paginated passages), ``/source`` (article or paragraph), ``/sources``."""

from __future__ import annotations

import re
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
)
from bot.messages import MUTED, NO_MENTIONS, button, content, embed, paragraph_embed, unstored
from bot.options import SCOPE_OPTIONS, article_choices, autocomplete_article, scope_from_options
from bot.render import render
from bot.service import LISTED, Question
from index.embedding import semantic_line
from index.records import Answer

SEARCH_PAGE = 5
Interaction = discord.Interaction[NewsBot]


def search_message(answer: Answer, qid: int) -> tuple[discord.Embed, discord.ui.View | None]:
    shown = len(answer.results)
    first = answer.offset + 1
    title = render("search_title.j2", "discord", answer=answer)
    last, total = answer.offset + shown, answer.total_hits
    footer = (
        render("label.j2", "discord", what="page", first=first, last=last, total=total)
        if shown
        else None
    )
    body = embed(
        render("search.j2", "discord", answer=answer),
        title=title,
        footer=footer,
        colour=discord.Colour.blurple() if shown else MUTED,
    )
    view = discord.ui.View(timeout=None)
    if answer.offset > 0:
        view.add_item(SearchPage(qid, max(answer.offset - SEARCH_PAGE, 0), "◀"))
    if answer.total_hits > answer.offset + shown:
        view.add_item(SearchPage(qid, answer.offset + SEARCH_PAGE, "▶"))
    return body, unstored(view) if view.children else None


class SearchPage(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"nb:page:(?P<qid>\d+):(?P<offset>\d+):(?P<arrow>[◀▶])",
):
    """Previous/next page of a ``/search`` result list; edits the message in place."""

    def __init__(self, qid: int, offset: int, arrow: str) -> None:
        self.qid, self.offset = qid, offset
        super().__init__(button(f"nb:page:{qid}:{offset}:{arrow}", label=arrow))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> SearchPage:
        return cls(int(match["qid"]), int(match["offset"]), match["arrow"])

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = client(interaction)
        record = await logged_question(interaction, self.qid)
        if record is None:
            return
        again = service.again(record, k=SEARCH_PAGE, offset=self.offset, abstain=False)
        answer = await service.answer(bot.engine, again)
        body, view = search_message(answer, self.qid)
        await interaction.response.edit_message(embed=body, view=view, allowed_mentions=NO_MENTIONS)


def overview_embed(bot: NewsBot, article_id: str, de: bool = False) -> discord.Embed:
    snap = bot.engine.snapshot
    article = snap.articles[article_id]
    passages = [snap.passages[i] for i in article.passage_ids]
    texts = [article.text[p.start : p.end] for p in passages]
    return embed(
        render("article.j2", "discord", article=article, passages=passages, texts=texts, de=de)
    )


class ArticleButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"nb:art:(?P<article>[^\s]{1,90})"
):
    """A suggested article for a ``/source`` lookup that matched nothing."""

    def __init__(self, article_id: str, title: str = "?") -> None:
        self.article_id = article_id
        super().__init__(button(f"nb:art:{article_id}"[:100], label=title, primary=True))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ArticleButton:
        return cls(match["article"])

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = client(interaction)
        de = locale_is_german(interaction)
        if self.article_id not in bot.engine.snapshot.articles:
            await interaction.response.send_message(content("gone.j2", de=de), ephemeral=True)
            return
        await interaction.response.send_message(
            embed=overview_embed(bot, self.article_id, de),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


class Lookups(commands.Cog):
    """Browse what the index holds."""

    def __init__(self, bot: NewsBot) -> None:
        self.bot = bot

    @app_commands.command(name="search")
    @app_commands.describe(query="Words to look for, in English or German", **SCOPE_OPTIONS)
    @app_commands.autocomplete(source=autocomplete_article)
    async def search(
        self,
        interaction: Interaction,
        query: app_commands.Range[str, 1, 300],
        source: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> None:
        """List the passages that match, best first, a page at a time."""
        query = await asked_text(interaction, query)
        if not query:
            return
        scope = scope_from_options(self.bot, source, since, until, locale_is_german(interaction))
        await interaction.response.defer(thinking=True)
        answer, qid = await service.ask(
            self.bot.engine,
            self.bot.state,
            Question(query, k=SEARCH_PAGE, abstain=False, scope=scope),
            asked(interaction, "search"),
        )
        body, view = search_message(answer, qid)
        await interaction.followup.send(
            embed=body, view=view or discord.utils.MISSING, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command(name="source")
    @app_commands.describe(article="Article id or title", paragraph="Paragraph number")
    async def source(
        self,
        interaction: Interaction,
        article: str,
        paragraph: app_commands.Range[int, 1, 10_000] | None = None,
    ) -> None:
        """Show one paragraph of an article, or the article's overview."""
        de = locale_is_german(interaction)
        snap = self.bot.engine.snapshot
        found = snap.find_article(article)
        if found is None:
            several, near = snap.articles_meant(article, LISTED)
            view = discord.ui.View(timeout=None)
            for a in near:
                view.add_item(ArticleButton(a.id, a.title))
            await interaction.response.send_message(
                content(
                    "source_missing.j2",
                    query=article,
                    near=bool(near),
                    several=len(several),
                    listed=LISTED,
                    de=de,
                ),
                view=unstored(view) if near else discord.utils.MISSING,
                ephemeral=True,
                allowed_mentions=NO_MENTIONS,
            )
            return
        passages = [snap.passages[i] for i in found.passage_ids]
        if paragraph is None:
            body = overview_embed(self.bot, found.id, de)
        else:
            match = next((p for p in passages if p.ordinal == paragraph), None)
            if match is None:
                await interaction.response.send_message(
                    content("source_range.j2", count=len(passages), de=de),
                    ephemeral=True,
                    allowed_mentions=NO_MENTIONS,
                )
                return
            body = paragraph_embed(found, match, de, [])
        await interaction.response.send_message(embed=body, allowed_mentions=NO_MENTIONS)

    @source.autocomplete("article")
    async def source_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return article_choices(self.bot, current)

    @app_commands.command(name="sources")
    async def sources(self, interaction: Interaction) -> None:
        """List the indexed articles with dates, paragraph counts and the index build time."""
        snap = self.bot.engine.snapshot
        await interaction.response.send_message(
            embed=embed(
                render(
                    "sources.j2",
                    "discord",
                    info=snap.info,
                    articles=snap.articles_newest_first(),
                    semantic=semantic_line(self.bot.engine.semantic_status()),
                )
            ),
            allowed_mentions=NO_MENTIONS,
        )


async def setup(bot: NewsBot) -> None:
    bot.add_dynamic_items(SearchPage, ArticleButton)
    await bot.add_cog(Lookups(bot))
