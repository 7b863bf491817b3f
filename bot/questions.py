"""A question as typed in Discord, cleaned to what should be searched.

Every way of asking (``/ask``, ``/search``, mentions, DMs, ask-channels, threads, and the
command line, where a question may be pasted from Discord) goes
through :func:`clean_question`, so Discord markup never becomes search terms: a role mention
would otherwise search for its id, a link for ``https`` and ``com``.
"""

from __future__ import annotations

import re
import unicodedata

from index.text import clean_question as normalise

_DISCORD_MARKUP = re.compile(
    r"<@[!&]?\d+>"  # user and role mentions
    r"|<#\d+>"  # channel mentions
    r"|</[^<>:]{1,100}:\d+>"  # slash-command mentions
    r"|<a?:\w{1,32}:\d+>"  # custom emoji
    r"|<t:-?\d+(?::[tTdDfFR])?>"  # timestamps
    r"|<id:\w+>"  # server navigation
    r"|@(?:everyone|here)\b"
    r"|<?https?://[^\s<>]+>?"  # links, also <…> (a link without preview)
    r"|\bwww\.[^\s<>]+"
)


def clean_question(text: str) -> str:
    """``text`` without mentions of any kind, custom emoji, timestamps and links; with
    invisible characters removed and spaces collapsed. Empty when nothing is left to ask."""
    return normalise(_DISCORD_MARKUP.sub(" ", normalise(text)))


def question_key(question: str) -> str:
    """What the question log groups a question by: its words, case folded ("Über die
    Truppen?" and "über die  truppen" are one question; SQLite's ``lower`` folds ASCII
    letters only)."""
    folded = unicodedata.normalize("NFKC", question).casefold()
    return " ".join(re.findall(r"\w+", folded)) or folded.strip()
