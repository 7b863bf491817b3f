"""Options shared by several commands: article autocomplete and ``source``/``since``/``until``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import discord
from discord import app_commands

from bot.app import NewsBot
from bot.checks import UserFacingError
from bot.messages import content
from bot.render import truncate
from index.records import Scope
from index.text import fold

CHOICE_LIMIT = 100  # Discord's limit for an autocomplete choice's name and value
# How ``/ask`` and ``/search`` describe their filters.
SCOPE_OPTIONS = {
    "source": "Only this article",
    "since": "Only articles from this date on (YYYY-MM-DD)",
    "until": "Only articles up to this date (YYYY-MM-DD)",
}


def article_choices(bot: NewsBot, current: str) -> list[app_commands.Choice[str]]:
    """Up to 25 articles whose title contains (or id starts with) what was typed."""
    key = fold(current)
    choices = []
    for a in bot.engine.snapshot.articles.values():
        if not key or key in fold(a.title) or a.id.startswith(current):
            # Shorten the title, not the date after it.
            date = f" ({a.date})" if a.date else ""
            name = truncate(a.title, CHOICE_LIMIT - len(date)) + date
            choices.append(app_commands.Choice(name=name, value=a.id[:CHOICE_LIMIT]))
    return choices[:25]


async def autocomplete_article(
    interaction: discord.Interaction[NewsBot], current: str
) -> list[app_commands.Choice[str]]:
    return article_choices(interaction.client, current)


def refusal(reason: str, *, de: bool = False, **context: Any) -> UserFacingError:
    """A user's input refused with a message from ``refusal.j2``."""
    return UserFacingError(content("refusal.j2", reason=reason, de=de, **context))


def _date(value: str | None, name: str, de: bool) -> dt.date | None:
    if value is None or not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise refusal("bad_date", value=name, de=de) from None


def scope_from_options(
    bot: NewsBot, source: str | None, since: str | None, until: str | None, de: bool = False
) -> Scope | None:
    """The filters of ``/ask`` and ``/search``, checked, or None when there are none;
    refusals are framed in German when ``de``."""
    article_ids = None
    if source:
        snap = bot.engine.snapshot
        found = snap.find_article(source)
        if found is None:
            several = len(snap.matching_articles(source))
            raise refusal("no_such_article", value=source, several=several, de=de)
        article_ids = frozenset({found.id})
    start, end = _date(since, "since", de), _date(until, "until", de)
    if start and end and start > end:
        raise refusal("dates_reversed", de=de)
    if article_ids is None and start is None and end is None:
        return None
    return Scope(article_ids, start, end)
