"""Helpers for the end-to-end tests of the real bot (``bot.app.NewsBot``) against the stand-in.

:class:`Harness` starts the project's bot on a fresh database holding the seed index, with
``Settings`` built from keyword arguments only (no ``.env``, no environment leaking in). The
functions below read the JSON bodies the bot sent to the stand-in.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.app import NewsBot
from bot.settings import Settings
from bot.state import BotState
from index.encoder import Encoder
from index.engine import Engine
from index.records import Snapshot
from index.store import IndexStore
from tests.conftest import cache_dir, dictionary_path
from tests.support.standin import (
    CALLBACK_RE,
    CHANNEL_MESSAGE_RE,
    CHANNEL_MESSAGES_RE,
    FOLLOWUP_RE,
    WEBHOOK_MESSAGE_RE,
    DiscordStandIn,
    Request,
    shard_of,
)

JSON = dict[str, Any]

US_QUESTION = "What did the US commit to?"
US_QUOTE = "verpflichten sich die USA"
CHINA_QUESTION = "What did China say about the talks?"
MEETING_QUESTION = "Wer nahm an dem Treffen teil?"
ITALY_QUESTION = "What did Italy offer for the Black Sea?"
ROME_ARTICLE = (
    "---\ntitle: Gipfel in Rom\ndate: 2026-02-01\n---\n"
    "Italien sagte zu, zwei Fregatten für die Überwachung des Schwarzen Meeres zu stellen.\n"
)
# Ceilings for a bot that hangs, at least ten times the usual time; a passing test never
# waits for them (every wait ends at the awaited request).
ANSWER_TIMEOUT = 60.0  # an answer takes milliseconds, the first one well under a second
REINDEX_TIMEOUT = 300.0  # a reindex takes seconds; half a minute when the dictionary is new
EPHEMERAL = 64
# Loggers whose ERROR records mean a handler failed: discord.py's, the bot's, asyncio's.
ERROR_LOGGERS = ("discord", "newsbot", "asyncio")


# ------------------------------------------------------------------------------ the bot


@dataclass
class Harness:
    """Starts the project's bot against ``api``, on a database inside ``tmp_path``."""

    api: DiscordStandIn
    tmp_path: Path
    seed: Snapshot
    template: Path | None = None  # a database holding ``seed``, copied for a fresh start
    stored: Snapshot | None = None  # the template's index as loaded from it, shared

    @property
    def database(self) -> Path:
        return self.tmp_path / "db.sqlite3"

    @property
    def articles_dir(self) -> Path:
        return self.tmp_path / "articles"

    def settings(self, **overrides: Any) -> Settings:
        """Every field given explicitly: neither a ``.env`` nor the environment leaks in."""
        values: dict[str, Any] = {
            "discord_token": None,
            "dev_guild_id": self.api.guild.id,
            "database_path": self.database,
            "articles_dir": self.articles_dir,
            "dictionary_path": dictionary_path(),
            "glossary_path": None,
            "cache_dir": cache_dir(),
            "ask_channel_ids": [],
            "message_content_intent": False,
            "max_upload_bytes": 1_000_000,
            "ask_cooldown_seconds": 0,
            "max_question_chars": 500,
            "busy_timeout_ms": 5_000,
            "log_level": "INFO",
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    async def _load(self, storage: IndexStore, active: str | None) -> Snapshot:
        """The stored index; the template's is loaded once per session (its parts are never
        changed after a build) and each bot gets a snapshot of its own made of them."""
        stored = self.stored
        if stored is None or active != stored.info.build_id:
            return await storage.load_snapshot()
        return Snapshot(stored.info, stored.articles, stored.passages, stored.bm25, stored.lexicon)

    @contextlib.asynccontextmanager
    async def run(self, encoder: Encoder | None = None, **overrides: Any) -> AsyncIterator[NewsBot]:
        """A ready bot (lexical unless given an ``encoder``); closed, and its storage
        closed, when the block ends."""
        settings = self.settings(**overrides)
        fresh_file = not settings.uses_postgres and not settings.database_path.exists()
        if self.template is not None and fresh_file:
            shutil.copyfile(self.template, settings.database_path)
        storage = await IndexStore.open(settings.database, settings.busy_timeout_ms)
        try:
            active = await storage.active_build_id()
            if active is None:
                await storage.save_snapshot(self.seed)
            engine = Engine(await self._load(storage, active), encoder=encoder)
            state = await BotState.on(storage.database)
            bot = NewsBot(settings, storage, state, engine, guild_ready_timeout=0.1)
            async with self.api.running(bot):
                yield bot
        finally:
            await storage.close()


@contextlib.asynccontextmanager
async def two_shard_standin() -> AsyncIterator[DiscordStandIn]:
    """A stand-in that recommends two shards, with a guild on each."""
    async with DiscordStandIn(shard_count=2) as stand_in:
        await stand_in.add_guild("Zweite Redaktion")
        assert [shard_of(g.id, 2) for g in stand_in.guilds] == [0, 1]
        yield stand_in


# ------------------------------------------------------------------------------ driving


async def slash(
    api: DiscordStandIn, name: str, options: Mapping[str, Any] | None = None, **kwargs: Any
) -> JSON:
    """Dispatch a slash command; returns the interaction payload."""
    interaction = api.slash_command(name, options, **kwargs)
    await api.dispatch("INTERACTION_CREATE", interaction)
    return interaction


async def ask(
    api: DiscordStandIn, question: str, *, private: bool | None = None, **kwargs: Any
) -> tuple[JSON, Request, Request]:
    """``/ask``: the interaction, its (deferring) callback and the follow-up with the answer."""
    options: dict[str, Any] = {"question": question}
    if private is not None:
        options["private"] = private
    interaction = await slash(api, "ask", options, **kwargs)
    callback = await api.wait_callback(interaction, ANSWER_TIMEOUT)
    followup = await api.wait_followup(interaction, ANSWER_TIMEOUT)
    return interaction, callback, followup


async def assert_answers_the_us_question(api: DiscordStandIn) -> None:
    """``/ask`` the US question: the answer quotes the seed article (the index serves)."""
    _, _, followup = await ask(api, US_QUESTION)
    assert US_QUOTE in reply_text(followup)


async def click(
    api: DiscordStandIn, custom_id: str, message: Mapping[str, Any], **kwargs: Any
) -> tuple[JSON, Request]:
    """Click the button ``custom_id`` on ``message``; returns the interaction and callback."""
    assert custom_id in custom_ids(message), f"{custom_id} is not on the message"
    interaction = api.button_click(custom_id, message, **kwargs)
    await api.dispatch("INTERACTION_CREATE", interaction)
    return interaction, await api.wait_callback(interaction, ANSWER_TIMEOUT)


# ------------------------------------------------------------------------------ reading


def body(request: Request) -> JSON:
    """The message a request carries: a callback's ``data``, else the JSON body itself."""
    data = request.json if isinstance(request.json, dict) else {}
    if CALLBACK_RE.fullmatch(request.path):
        inner = data.get("data")
        return inner if isinstance(inner, dict) else {}
    return data


def embed(message: Mapping[str, Any]) -> JSON:
    embeds = message.get("embeds") or []
    assert embeds, f"no embed in {message}"
    first: JSON = embeds[0]
    return first


def description(message: Mapping[str, Any]) -> str:
    return str(embed(message).get("description") or "")


def plain(markdown: str) -> str:
    """Markdown as a reader sees it: no ``**``, no escaping backslashes, no zero-width spaces."""
    text = markdown.replace("**", "").replace("\u200b", "")
    return re.sub(r"\\(.)", r"\1", text)


def reply_text(request: Request) -> str:
    """The text of the embed in the message a request carries, as a reader sees it."""
    return plain(description(body(request)))


def button_rows(message: Mapping[str, Any]) -> list[list[JSON]]:
    rows = message.get("components") or []
    return [[c for c in row.get("components", []) if c.get("type") == 2] for row in rows]


def button_labels(message: Mapping[str, Any]) -> list[list[str]]:
    """Each row's button labels (an emoji-only button by its emoji)."""
    return [
        [b.get("label") or (b.get("emoji") or {}).get("name", "") for b in row]
        for row in button_rows(message)
    ]


def custom_ids(message: Mapping[str, Any]) -> list[str]:
    return [str(b["custom_id"]) for row in button_rows(message) for b in row]


def logged_id(message: Mapping[str, Any]) -> int:
    """The question-log id that an answer's buttons carry (every one the same)."""
    ids = {int(i.split(":")[2]) for i in custom_ids(message)}
    assert len(ids) == 1, ids
    return ids.pop()


def texts(message: Mapping[str, Any]) -> list[str]:
    """Every piece of text a message shows: content, embeds, button labels."""
    out = [str(message.get("content") or "")]
    for item in message.get("embeds") or []:
        out += [str(item.get("title") or ""), str(item.get("description") or "")]
        out.append(str((item.get("footer") or {}).get("text") or ""))
        for f in item.get("fields") or []:
            out += [str(f.get("name") or ""), str(f.get("value") or "")]
    out += [label for row in button_labels(message) for label in row]
    return [t for t in out if t]


def sent_messages(api: DiscordStandIn) -> list[Request]:
    """Every successful request by which the bot wrote or rewrote a message."""
    out = []
    for r in api.requests:
        if not r.ok or not isinstance(r.json, dict):
            continue
        if r.method == "POST" and CALLBACK_RE.fullmatch(r.path):
            if r.json.get("type") in (4, 7):  # 5/6 defer, 8 autocomplete: no message
                out.append(r)
        elif (
            (r.method == "POST" and FOLLOWUP_RE.fullmatch(r.path))
            or (r.method == "PATCH" and WEBHOOK_MESSAGE_RE.fullmatch(r.path))
            or (r.method == "POST" and CHANNEL_MESSAGES_RE.fullmatch(r.path))
            or (r.method == "PATCH" and CHANNEL_MESSAGE_RE.fullmatch(r.path))
        ):
            out.append(r)
    return out


def assert_no_mentions(api: DiscordStandIn) -> None:
    """Every message the bot sent says ``allowed_mentions: {"parse": []}`` and pings nobody."""
    sent = sent_messages(api)
    assert sent, "the bot sent nothing"
    for request in sent:
        allowed = body(request).get("allowed_mentions")
        assert isinstance(allowed, dict), f"{request}: no allowed_mentions in {request.json}"
        assert allowed.get("parse") == [], f"{request}: {allowed}"
        assert not allowed.get("users") and not allowed.get("roles"), f"{request}: {allowed}"
        assert not allowed.get("replied_user"), f"{request}: {allowed}"
