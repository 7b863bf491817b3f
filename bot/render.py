"""Jinja2 rendering of every user-visible reply, for Discord and for the terminal.

The templates in ``bot/templates`` are shared; only the filters differ by target:
Discord gets markdown with escaping, ``**bold**`` and ``-#`` small text; the terminal
gets rich markup. ``StrictUndefined`` turns a missing variable into an error, not a blank.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any, Literal

from jinja2 import Environment, PackageLoader, StrictUndefined
from rich.markup import escape as rich_escape

from index.records import Answer, understood_line

Target = Literal["discord", "terminal"]

# The most of one quote an answer shows, in Discord and in the terminal; the engine grows a
# quote only within it (``EngineConfig.quote_chars``), so a grown quote is shown whole.
QUOTE_LIMIT = 700

_MD_SPECIAL = re.compile(r"([\\*_~`|>#\[\]()<:-])")
_MENTION = re.compile(r"@(everyone|here|[!&]?\d+)")


def escape_markdown(text: str) -> str:
    """Escape Discord markdown and defuse mentions, keeping the text readable."""
    text = _MD_SPECIAL.sub(r"\\\1", text)
    # A zero-width space after "@" stops @everyone/@here from being parsed as mentions;
    # allowed_mentions=none is the second line of defence.
    return _MENTION.sub("@\u200b\\1", text)


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut ``text`` to at most ``limit`` characters at a word boundary, with an ellipsis."""
    if len(text) <= limit:
        return text
    room = max(limit - len(ellipsis), 0)
    cut = text.rfind(" ", 0, room + 1)
    if cut < room // 2:
        cut = room
    return text[:cut].rstrip() + ellipsis


def _marked(text: str, base: int, spans: Sequence[Sequence[int]], target: Target) -> str:
    """``text`` (which starts at offset ``base``) with the ``spans`` in bold."""
    esc = escape_markdown if target == "discord" else rich_escape
    out: list[str] = []
    pos = 0
    for start, end in sorted((s - base, e - base) for s, e in spans):
        if start < pos or start < 0 or end > len(text):
            continue
        out.append(esc(text[pos:start]))
        word = esc(text[start:end])
        out.append(f"**{word}**" if target == "discord" else f"[bold]{word}[/bold]")
        pos = end
    out.append(esc(text[pos:]))
    return "".join(out)


def by_article(results: Sequence[Any]) -> list[list[Any]]:
    """Results grouped by article, the article of the best result first, then by each
    article's best rank; within an article, by rank. So ranks read in order wherever
    the grouping allows, and the best quote is never printed last."""
    groups: dict[str, list[Any]] = {}
    for r in sorted(results, key=lambda r: r.rank):
        groups.setdefault(r.article_id, []).append(r)
    return sorted(groups.values(), key=lambda g: g[0].rank)


def paragraph_cite(article: Any, passage: Any) -> dict[str, Any]:
    """What ``source.j2`` cites a paragraph by: its article's title and date, its section
    and number (an ``IndexedArticle`` and one of its ``IndexedPassage``)."""
    return {
        "title": article.title,
        "date": article.date,
        "section": passage.section,
        "paragraph": passage.ordinal,
    }


def counted(n: int, one: str, many: str) -> str:
    """``n`` with the noun it counts: "1 paragraph", "3 paragraphs"."""
    return f"{n} {one if n == 1 else many}"


def make_environment(target: Target) -> Environment:
    env = Environment(
        loader=PackageLoader("bot", "templates"),
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    if target == "discord":
        env.filters["esc"] = escape_markdown
        env.filters["bold"] = lambda s: f"**{s}**"
        env.filters["italic"] = lambda s: f"*{s}*"
        env.filters["small"] = lambda s: f"-# {s}"
        env.filters["code"] = lambda s: f"`{s}`"
    else:
        env.filters["esc"] = rich_escape
        env.filters["bold"] = lambda s: f"[bold]{s}[/bold]"
        env.filters["italic"] = lambda s: f"[italic]{s}[/italic]"
        env.filters["small"] = lambda s: f"[dim]{s}[/dim]"
        env.filters["code"] = lambda s: f"[cyan]{rich_escape(str(s))}[/cyan]"
    env.filters["marked"] = lambda text, base, spans: _marked(text, base, spans, target)
    env.filters["truncate_words"] = truncate
    env.filters["by_article"] = by_article
    env.filters["counted"] = counted
    env.globals["target"] = target
    return env


@cache
def environment(target: Target) -> Environment:
    return make_environment(target)


def render(name: str, target: Target = "terminal", **context: Any) -> str:
    """Render template ``name`` for ``target``; surrounding blank lines are trimmed."""
    text = environment(target).get_template(name).render(**context)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def render_answer(
    answer: Answer, target: Target = "terminal", quote_limit: int = QUOTE_LIMIT
) -> str:
    """An answer, or why there is none, with its "Understood as" line: the reply of
    ``/ask``, a mention, ``python -m bot ask`` and the shell alike."""
    return render(
        "answer.j2",
        target,
        answer=answer,
        understood=understood_line(answer.understood_as, answer.language),
        show_understood=True,
        quote_limit=quote_limit,
    )
