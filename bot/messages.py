"""Discord message building: templates in, embeds within Discord's limits out.

Discord's limits: content 2,000 characters; embed title 256, description 4,096, field
value 1,024, footer 2,048, 25 fields and 6,000 characters in all; button labels 80.
Truncation happens at line or word boundaries with an ellipsis, never silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import discord

from bot.render import paragraph_cite, render, truncate
from index.records import IndexedArticle, IndexedPassage

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
FIELDS_LIMIT = 25
EMBED_TOTAL_LIMIT = 6000
LABEL_LIMIT = 80

NO_MENTIONS = discord.AllowedMentions.none()
BRAND = discord.Colour.from_rgb(44, 110, 170)
MUTED = discord.Colour.light_grey()


def fit_lines(text: str, limit: int) -> str:
    """Cut markdown ``text`` to ``limit`` at a line boundary (so no bold is left open),
    falling back to a word boundary for a single overlong line."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit - 1)
    if cut > limit // 2:
        return text[:cut].rstrip() + "\n…"
    return truncate(text, limit)


def embed(
    description: str,
    *,
    title: str | None = None,
    footer: str | None = None,
    colour: discord.Colour = BRAND,
    fields: list[tuple[str, str]] | None = None,
) -> discord.Embed:
    """An embed whose every part respects Discord's limits, 6,000 characters in all."""
    title = truncate(title, TITLE_LIMIT) if title else None
    footer = truncate(footer, FOOTER_LIMIT) if footer else None
    used = len(title or "") + len(footer or "")
    kept: list[tuple[str, str]] = []
    for name, value in (fields or [])[:FIELDS_LIMIT]:
        name, value = truncate(name, FIELD_NAME_LIMIT), fit_lines(value, FIELD_VALUE_LIMIT)
        if used + len(name) + len(value) > EMBED_TOTAL_LIMIT - 200:
            break
        kept.append((name, value))
        used += len(name) + len(value)
    room = min(DESCRIPTION_LIMIT, EMBED_TOTAL_LIMIT - used)
    result = discord.Embed(title=title, description=fit_lines(description, room), colour=colour)
    for name, value in kept:
        result.add_field(name=name, value=value, inline=False)
    if footer:
        result.set_footer(text=footer)
    return result


def title(what: str, de: bool = False) -> str:
    """An embed's title, from ``label.j2``."""
    return render("label.j2", "discord", what=what, de=de)


def paragraph_embed(
    article: IndexedArticle,
    passage: IndexedPassage,
    german: bool,
    marks: Sequence[tuple[int, int]],
) -> discord.Embed:
    """One paragraph of an article with its citation, ``marks`` (spans of the article's
    text) in bold."""
    cite = paragraph_cite(article, passage)
    text = render(
        "source.j2",
        "discord",
        article=article,
        cite=cite,
        lang="de" if german else "en",
        text=article.text[passage.start : passage.end],
        start=passage.start,
        marks=list(marks),
    )
    return embed(text)


def content(template: str, **context: Any) -> str:
    """A plain message from a template, within the 2,000 character content limit."""
    return fit_lines(render(template, "discord", **context), CONTENT_LIMIT)


def button(
    custom_id: str,
    *,
    label: str | None = None,
    emoji: str | None = None,
    primary: bool = False,
    row: int | None = None,
) -> discord.ui.Button[Any]:
    """A button for a ``DynamicItem``: its label within Discord's limit."""
    return discord.ui.Button(
        label=truncate(label, LABEL_LIMIT) if label is not None else None,
        emoji=emoji,
        style=discord.ButtonStyle.primary if primary else discord.ButtonStyle.secondary,
        custom_id=custom_id,
        row=row,
    )


def unstored(view: discord.ui.View) -> discord.ui.View:
    """Mark a view of ``DynamicItem``s finished before sending it.

    discord.py keeps every unfinished persistent view it sends in its view store, forever;
    dynamic items are dispatched by their custom-id templates without it, so storing one
    view per answer would only grow memory with every message sent.
    """
    view.stop()
    return view
