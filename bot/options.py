"""Options shared by several commands: article autocomplete and ``source``/``since``/``until``."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.app import NewsBot
from bot.checks import UserFacingError
from bot.messages import content
from bot.render import truncate
from bot.service import Refused, scope_of
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


def scope_from_options(
    bot: NewsBot, source: str | None, since: str | None, until: str | None, de: bool = False
) -> Scope | None:
    """The filters of ``/ask`` and ``/search`` (``service.scope_of``), or None when there
    are none; refusals are framed in German when ``de``."""
    try:
        return scope_of(bot.engine.snapshot, source, since, until)
    except Refused as exc:
        raise refusal(exc.reason, de=de, **exc.context) from None
