"""The bot's state: the question log and feedback, per-server settings,
ask-channels, the audit trail, ``/synonym`` entries and thread conversations.

All of the bot's SQL lives in this module, always with ``?`` parameters; its schema is
changed by the numbered migrations in ``bot.schema``. It shares the
project database, and usually its connection, with the index store.

Changes that every bot process must see at once (``/synonym``, ask-channels, per-server
settings) bump a counter in ``bot_meta`` and notify the others (``CHANGES_CHANNEL``) in
the same transaction; see ``bot.sync``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.questions import question_key
from bot.schema import CARRIED, MIGRATIONS
from index.database import Database, StorageError, Transaction, now, translated

STORE = "bot"
CHANGES_CHANNEL = "newsbot_changes"  # notified with what changed: synonyms, config
# The reason of a question with no word to search for ("???", an emoji): counted as asked,
# but no gap in the articles.
NOTHING_TO_SEARCH = "no_terms"
# declined because the filters (an article, dates) left no passage: no gap in the articles
OUTSIDE_FILTERS = "out_of_scope"


@dataclass(frozen=True, slots=True)
class QuestionRecord:
    """One asked question, for the log."""

    question: str
    language: str
    answered: bool
    reason: str
    top_passages: Sequence[str]  # "article#paragraph" of each result, best first
    latency_ms: float
    build_id: str | None
    origin: str = "cli"
    user_id: str | None = None
    guild_id: str | None = None
    channel_id: str | None = None
    scope: dict[str, Any] | None = None  # filters the question was asked with
    context: Sequence[str] = ()  # earlier questions of its conversation
    passage_keys: Sequence[str] = ()  # stable ids of the quoted passages
    quote_spans: Sequence[tuple[int, int]] = ()  # each quote's span within its paragraph
    mode: str | None = None  # which ranking answered: hybrid, partial, lexical


@dataclass(frozen=True, slots=True)
class LoggedQuestion:
    """A question as the log holds it (what a button needs to answer it again)."""

    id: int
    asked_at: str
    question: str
    language: str
    answered: bool
    reason: str
    top_passages: list[str]
    latency_ms: float
    build_id: str | None
    origin: str
    scope: dict[str, Any] | None
    context: list[str]
    mode: str | None
    passage_keys: list[str] = field(default_factory=list)
    quote_spans: list[tuple[int, int]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class QuestionStats:
    """The figures ``/stats`` shows."""

    asked: int
    answered: int
    thumbs_up: int
    thumbs_down: int
    modes: list[tuple[str, int]] = field(default_factory=list)  # answers per ranking
    top_unanswered: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class QuotedAnswer:
    """An answered question, the stable ids of the passages it quoted, and whether anyone
    gave feedback on it."""

    question_id: int
    passage_keys: list[str]
    has_feedback: bool


@dataclass(frozen=True, slots=True)
class Gap:
    """A question abstained on or voted 👎, with how often."""

    question: str
    asked: int
    thumbs_down: int


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: str
    guild_id: str | None
    user_id: str
    action: str
    allowed: bool
    detail: str


class BotState:
    """The bot's tables in the project database. ``await BotState.on(database)``."""

    def __init__(self, database: Database) -> None:
        self.database = database

    @classmethod
    async def on(cls, database: Database) -> BotState:
        await database.migrate(STORE, MIGRATIONS)
        return cls(database)

    @translated
    async def schema_version(self) -> int:
        return await self.database.version(STORE)

    # -- question log and feedback -----------------------------------------------------

    @translated
    async def log_question(self, record: QuestionRecord) -> int:
        async with self.database.transaction() as db:
            row = await db.fetchone(
                "INSERT INTO questions (asked_at, question, language, answered, reason,"
                " top_passages, latency_ms, build_id, origin, user_id, guild_id, channel_id,"
                " scope, context, passage_keys, quote_spans, mode, question_key)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (
                    now(),
                    record.question,
                    record.language,
                    int(record.answered),
                    record.reason,
                    json.dumps(list(record.top_passages)),
                    record.latency_ms,
                    record.build_id,
                    record.origin,
                    record.user_id,
                    record.guild_id,
                    record.channel_id,
                    json.dumps(record.scope) if record.scope else None,
                    json.dumps(list(record.context)) if record.context else None,
                    json.dumps(list(record.passage_keys)) if record.passage_keys else None,
                    json.dumps([list(s) for s in record.quote_spans])
                    if record.quote_spans
                    else None,
                    record.mode,
                    question_key(record.question),
                ),
            )
        return int(row[0]) if row else 0

    @translated
    async def question(self, question_id: int) -> LoggedQuestion | None:
        row = await self.database.fetchone(
            "SELECT id, asked_at, question, language, answered, reason, top_passages,"
            " latency_ms, build_id, origin, scope, context, mode, passage_keys,"
            " quote_spans FROM questions"
            " WHERE id = ?",
            (question_id,),
        )
        if row is None:
            return None
        qid, asked_at, question, language, answered, reason, top, latency, build = row[:9]
        origin, scope, context, mode, keys, spans = row[9:]
        return LoggedQuestion(
            id=int(qid),
            asked_at=str(asked_at),
            question=str(question),
            language=str(language),
            answered=bool(answered),
            reason=str(reason),
            top_passages=json.loads(top),
            latency_ms=float(latency),
            build_id=build,
            origin=str(origin),
            scope=json.loads(scope) if scope else None,
            context=json.loads(context) if context else [],
            mode=mode,
            passage_keys=json.loads(keys) if keys else [],
            quote_spans=[(int(a), int(b)) for a, b in json.loads(spans)] if spans else [],
        )

    @translated
    async def add_feedback(self, question_id: int, user_id: str, value: int) -> None:
        """Record 👍 (+1) or 👎 (-1); a user's second vote on a question replaces the first."""
        if value not in (-1, 1):
            raise ValueError("feedback value must be -1 or 1")
        async with self.database.transaction() as db:
            await db.execute(
                "INSERT INTO feedback (question_id, user_id, value, created_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (question_id, user_id) DO UPDATE SET"
                " value = excluded.value, created_at = excluded.created_at",
                (question_id, user_id, value, now()),
            )

    @translated
    async def question_stats(self) -> QuestionStats:
        db = self.database
        row = await db.fetchone("SELECT COUNT(*), COALESCE(SUM(answered), 0) FROM questions")
        asked, answered = (int(row[0]), int(row[1])) if row else (0, 0)
        votes = await db.fetchall("SELECT value, COUNT(*) FROM feedback GROUP BY value")
        counts = {int(v): int(n) for v, n in votes}
        unanswered = await db.fetchall(  # "???" or an emoji is no gap in the articles
            # a group asked alike ("Über …?", "über …") in its latest spelling, not the one
            # that sorts first (upper case before lower)
            "SELECT (SELECT q2.question FROM questions q2"
            " WHERE COALESCE(q2.question_key, lower(q2.question)) = g.k AND q2.answered = 0"
            " ORDER BY q2.asked_at DESC, q2.id DESC LIMIT 1), g.n FROM"
            " (SELECT COALESCE(question_key, lower(question)) AS k, COUNT(*) AS n,"
            " MAX(asked_at) AS last FROM questions WHERE answered = 0 AND reason NOT IN (?, ?)"
            " AND origin <> 'search'"
            " GROUP BY COALESCE(question_key, lower(question))) g"
            " ORDER BY g.n DESC, g.last DESC LIMIT 10",
            (NOTHING_TO_SEARCH, OUTSIDE_FILTERS),
        )
        modes = await db.fetchall(
            "SELECT COALESCE(mode, 'lexical'), COUNT(*) FROM questions GROUP BY 1 ORDER BY 2 DESC"
        )
        return QuestionStats(
            asked=asked,
            answered=answered,
            thumbs_up=counts.get(1, 0),
            thumbs_down=counts.get(-1, 0),
            modes=[(str(m), int(n)) for m, n in modes],
            top_unanswered=[(str(q), int(n)) for q, n in unanswered],
        )

    @translated
    async def quoted_passages(self) -> list[QuotedAnswer]:
        """Answered questions with the stable ids they quoted, and whether they got feedback."""
        rows = await self.database.fetchall(
            "SELECT q.id, q.passage_keys, EXISTS (SELECT 1 FROM feedback f"
            " WHERE f.question_id = q.id) FROM questions q"
            " WHERE q.answered = 1 AND q.passage_keys IS NOT NULL"
        )
        return [QuotedAnswer(int(i), json.loads(k), bool(f)) for i, k, f in rows]

    @translated
    async def gaps(self, limit: int = 15) -> list[Gap]:
        """Questions abstained on or voted 👎, most frequent first."""
        rows = await self.database.fetchall(
            "SELECT (SELECT q2.question FROM questions q2"  # the latest spelling, as above
            " WHERE COALESCE(q2.question_key, lower(q2.question)) = g.k"
            " ORDER BY q2.asked_at DESC, q2.id DESC LIMIT 1), g.asked, g.down FROM"
            " (SELECT COALESCE(q.question_key, lower(q.question)) AS k,"
            " COUNT(DISTINCT q.id) AS asked, COUNT(f.id) AS down, MAX(q.asked_at) AS last"
            " FROM questions q"
            " LEFT JOIN feedback f ON f.question_id = q.id AND f.value = -1"
            " WHERE q.origin <> 'search' AND q.reason NOT IN (?, ?)"
            " AND (q.answered = 0 OR f.id IS NOT NULL)"
            " GROUP BY COALESCE(q.question_key, lower(q.question))) g"
            " ORDER BY g.asked + g.down DESC, g.last DESC LIMIT ?",
            (NOTHING_TO_SEARCH, OUTSIDE_FILTERS, limit),
        )
        return [Gap(str(q), int(a), int(d)) for q, a, d in rows]

    # -- conversations in threads ------------------------------------------------------

    @translated
    async def add_to_conversation(self, thread_id: int, question_id: int) -> None:
        async with self.database.transaction() as db:
            await db.execute(
                "INSERT INTO conversations (thread_id, question_id) VALUES (?, ?)"
                " ON CONFLICT DO NOTHING",
                (str(thread_id), question_id),
            )

    @translated
    async def conversation(self, thread_id: int) -> list[str] | None:
        """The questions asked so far in a thread the bot opened (oldest first), or None
        when the thread is not one of the bot's conversations."""
        rows = await self.database.fetchall(
            "SELECT q.question FROM conversations c JOIN questions q ON q.id = c.question_id"
            " WHERE c.thread_id = ? ORDER BY q.id",
            (str(thread_id),),
        )
        return [str(r[0]) for r in rows] if rows else None

    # -- per-server settings, ask-channels -------------------------------------------------

    @translated
    async def admin_role(self, guild_id: int) -> int | None:
        row = await self.database.fetchone(
            "SELECT admin_role_id FROM guild_settings WHERE guild_id = ?", (str(guild_id),)
        )
        return int(row[0]) if row and row[0] else None

    @translated
    async def set_admin_role(self, guild_id: int, role_id: int | None) -> None:
        async with self.database.transaction() as db:
            await db.execute(
                "INSERT INTO guild_settings (guild_id, admin_role_id, updated_at)"
                " VALUES (?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET"
                " admin_role_id = excluded.admin_role_id, updated_at = excluded.updated_at",
                (str(guild_id), str(role_id) if role_id else None, now()),
            )
            await _changed(db, "config")

    @translated
    async def threads_enabled(self, guild_id: int) -> bool:
        row = await self.database.fetchone(
            "SELECT threads FROM guild_settings WHERE guild_id = ?", (str(guild_id),)
        )
        return bool(row and row[0])

    @translated
    async def set_threads(self, guild_id: int, enabled: bool) -> None:
        async with self.database.transaction() as db:
            await db.execute(
                "INSERT INTO guild_settings (guild_id, threads, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (guild_id) DO UPDATE SET threads = excluded.threads,"
                " updated_at = excluded.updated_at",
                (str(guild_id), int(enabled), now()),
            )
            await _changed(db, "config")

    @translated
    async def ask_channels(self, guild_id: int | None = None) -> set[int]:
        if guild_id is None:
            rows = await self.database.fetchall("SELECT channel_id FROM ask_channels")
        else:
            rows = await self.database.fetchall(
                "SELECT channel_id FROM ask_channels WHERE guild_id = ?", (str(guild_id),)
            )
        return {int(r[0]) for r in rows}

    @translated
    async def set_ask_channel(self, guild_id: int, channel_id: int, enabled: bool) -> bool:
        """Add or remove an ask-channel; returns whether anything changed."""
        async with self.database.transaction() as db:
            if enabled:
                changed = await db.execute(
                    "INSERT INTO ask_channels (guild_id, channel_id, added_at)"
                    " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (str(guild_id), str(channel_id), now()),
                )
            else:
                changed = await db.execute(
                    "DELETE FROM ask_channels WHERE guild_id = ? AND channel_id = ?",
                    (str(guild_id), str(channel_id)),
                )
            if changed:
                await _changed(db, "config")
        return changed > 0

    # -- /synonym entries ----------------------------------------------------------------

    @translated
    async def synonyms(self) -> list[tuple[str, list[str]]]:
        """Run-time glossary entries: (term, German words), in the order added."""
        rows = await self.database.fetchall(
            "SELECT term, means FROM synonyms ORDER BY added_at, term"
        )
        return [(str(t), json.loads(m)) for t, m in rows]

    @translated
    async def set_synonym(self, term: str, means: Sequence[str], user_id: int) -> None:
        async with self.database.transaction() as db:
            await db.execute(
                "INSERT INTO synonyms (term, means, added_by, added_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (term) DO UPDATE SET means = excluded.means,"
                " added_by = excluded.added_by, added_at = excluded.added_at",
                (term, json.dumps(list(means), ensure_ascii=False), str(user_id), now()),
            )
            await _changed(db, "synonyms")

    @translated
    async def remove_synonym(self, term: str) -> bool:
        async with self.database.transaction() as db:
            changed = await db.execute("DELETE FROM synonyms WHERE term = ?", (term,))
            if changed:
                await _changed(db, "synonyms")
        return changed > 0

    # -- audit trail, the bot's own settings ---------------------------------------------

    @translated
    async def audit(
        self, guild_id: int | None, user_id: int, action: str, allowed: bool, detail: str = ""
    ) -> None:
        """Record an admin action, or the refusal of one."""
        async with self.database.transaction() as db:
            await db.execute(
                "INSERT INTO audit (at, guild_id, user_id, action, allowed, detail)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    now(),
                    str(guild_id) if guild_id else None,
                    str(user_id),
                    action,
                    int(allowed),
                    detail,
                ),
            )

    @translated
    async def audit_log(self, limit: int = 50) -> list[AuditEntry]:
        rows = await self.database.fetchall(
            "SELECT at, guild_id, user_id, action, allowed, detail FROM audit"
            " ORDER BY id DESC LIMIT ?",
            (limit,),
        )
        return [
            AuditEntry(str(a), g, str(u), str(x), bool(ok), str(d)) for a, g, u, x, ok, d in rows
        ]

    @translated
    async def get_meta(self, key: str) -> str | None:
        row = await self.database.fetchone("SELECT value FROM bot_meta WHERE key = ?", (key,))
        return str(row[0]) if row else None

    @translated
    async def set_meta(self, key: str, value: str) -> None:
        async with self.database.transaction() as db:
            await db.execute(
                "INSERT INTO bot_meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    @translated
    async def changes(self) -> dict[str, int]:
        """How often each kind of shared setting has changed (see ``_changed``): a process
        that polls compares these with what it saw last."""
        rows = await self.database.fetchall(
            "SELECT key, value FROM bot_meta WHERE key LIKE 'changes:%'"
        )
        return {str(k).removeprefix("changes:"): int(v) for k, v in rows}

    # -- a rebuild's carry-over ----------------------------------------------------------

    @translated
    async def carry_over(self, old: BotState) -> dict[str, int]:
        """Copy the bot's rows from ``old`` (the state of a database a rebuild moved aside)
        into this one (a new database's, so empty), in one transaction. Returns the rows
        copied per table; raises ``StorageError``, copying nothing, when ``old`` cannot be
        read whole or its tables are of another schema version (``BotState.on`` brings
        them to this one)."""
        version, theirs = await self.schema_version(), await old.schema_version()
        if theirs != version:
            raise StorageError(f"its bot tables are version {theirs}, this program's {version}")
        rows = [await old.database.fetchall(select) for _, select, _ in CARRIED]
        async with self.database.transaction() as db:
            for (_, _, insert), copied in zip(CARRIED, rows, strict=True):
                if copied:
                    await db.executemany(insert, copied)
        return {table: len(r) for (table, _, _), r in zip(CARRIED, rows, strict=True)}


async def _changed(tx: Transaction, what: str) -> None:
    """Count a change of ``what`` (synonyms, config) and tell the other processes."""
    await tx.execute(
        "INSERT INTO bot_meta (key, value) VALUES (?, '1') ON CONFLICT (key) DO UPDATE"
        " SET value = CAST(CAST(bot_meta.value AS INTEGER) + 1 AS TEXT)",
        (f"changes:{what}",),
    )
    await tx.notify(CHANGES_CHANNEL, what)
