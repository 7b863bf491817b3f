"""The bot state's schema: its numbered migrations for each backend (applied by
``index.database``).

Each step runs in one transaction. ``legacy`` is the number the step had in the single
schema of the SQLite databases made before the index store and the bot state were split.
PostgreSQL support began with the schema SQLite reached at step 9: its step 1 is that
schema. A change to the schema is a new step in both lists, and shows in ``CARRIED``
(what ``reindex --rebuild`` copies back), which a test holds to the schema.
"""

from __future__ import annotations

from bot.questions import question_key
from index.database import Migration, Migrations, Transaction


async def _key_questions(tx: Transaction) -> None:
    """The key of every question logged before the key existed (``question_key``: Python's
    case folding, which SQL's ``lower`` lacks), once, with the step that adds it."""
    rows = await tx.fetchall("SELECT id, question FROM questions")
    if rows:
        await tx.executemany(
            "UPDATE questions SET question_key = ? WHERE id = ?",
            [(question_key(str(q)), int(i)) for i, q in rows],
        )


SQLITE: tuple[Migration, ...] = (
    # the question log and feedback
    Migration(
        1,
        (
            """CREATE TABLE questions (
                id           INTEGER PRIMARY KEY AUTOINCREMENT,
                asked_at     TEXT NOT NULL,
                question     TEXT NOT NULL,
                language     TEXT NOT NULL,
                answered     INTEGER NOT NULL,
                reason       TEXT NOT NULL,
                top_passages TEXT NOT NULL,
                latency_ms   REAL NOT NULL,
                build_id     TEXT,
                origin       TEXT NOT NULL,
                user_id      TEXT,
                guild_id     TEXT,
                channel_id   TEXT
            )""",
            "CREATE INDEX questions_asked_at ON questions (asked_at)",
            """CREATE TABLE feedback (
                id          INTEGER PRIMARY KEY AUTOINCREMENT,
                question_id INTEGER NOT NULL REFERENCES questions(id),
                user_id     TEXT NOT NULL,
                value       INTEGER NOT NULL CHECK (value IN (-1, 1)),
                created_at  TEXT NOT NULL,
                UNIQUE (question_id, user_id)
            )""",
        ),
        legacy=1,
    ),
    # per-server configuration and the audit trail of admin actions
    Migration(
        2,
        (
            """CREATE TABLE guild_settings (
                guild_id      TEXT PRIMARY KEY,
                admin_role_id TEXT,
                updated_at    TEXT NOT NULL
            )""",
            """CREATE TABLE ask_channels (
                guild_id   TEXT NOT NULL,
                channel_id TEXT NOT NULL,
                added_at   TEXT NOT NULL,
                PRIMARY KEY (guild_id, channel_id)
            )""",
            """CREATE TABLE audit (
                id       INTEGER PRIMARY KEY AUTOINCREMENT,
                at       TEXT NOT NULL,
                guild_id TEXT,
                user_id  TEXT NOT NULL,
                action   TEXT NOT NULL,
                allowed  INTEGER NOT NULL,
                detail   TEXT NOT NULL
            )""",
            "CREATE INDEX audit_at ON audit (at)",
        ),
        legacy=2,
    ),
    # a question's filters and its conversation, for the buttons
    Migration(
        3,
        (
            "ALTER TABLE questions ADD COLUMN scope TEXT",
            "ALTER TABLE questions ADD COLUMN context TEXT",
        ),
        legacy=4,
    ),
    # follow-up conversations in threads, and whether a server wants them
    Migration(
        4,
        (
            "ALTER TABLE guild_settings ADD COLUMN threads INTEGER NOT NULL DEFAULT 0",
            """CREATE TABLE conversations (
                thread_id   TEXT NOT NULL,
                question_id INTEGER NOT NULL REFERENCES questions(id),
                PRIMARY KEY (thread_id, question_id)
            )""",
        ),
        legacy=5,
    ),
    # glossary entries added from Discord (/synonym), applied without a reindex
    Migration(
        5,
        (
            """CREATE TABLE synonyms (
                term       TEXT PRIMARY KEY,
                means      TEXT NOT NULL,
                added_by   TEXT NOT NULL,
                added_at   TEXT NOT NULL
            )""",
        ),
        legacy=6,
    ),
    # the stable ids of the passages an answer quoted, to notice when they change
    Migration(6, ("ALTER TABLE questions ADD COLUMN passage_keys TEXT",), legacy=7),
    # which ranking answered a question
    Migration(7, ("ALTER TABLE questions ADD COLUMN mode TEXT",), legacy=9),
    # the bot's own settings (the slash-command hash), apart from the index's meta
    Migration(8, ("CREATE TABLE bot_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",)),
    # where each quote stood in its paragraph, so "Source [n]" finds it without answering
    # again
    Migration(9, ("ALTER TABLE questions ADD COLUMN quote_spans TEXT",)),
    # what /stats and the gaps group a question by: its words, case folded
    Migration(10, ("ALTER TABLE questions ADD COLUMN question_key TEXT",), data=_key_questions),
)

POSTGRES: tuple[Migration, ...] = (
    Migration(
        1,
        (
            """CREATE TABLE questions (
                id           BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                asked_at     TEXT NOT NULL,
                question     TEXT NOT NULL,
                language     TEXT NOT NULL,
                answered     INTEGER NOT NULL,
                reason       TEXT NOT NULL,
                top_passages TEXT NOT NULL,
                latency_ms   DOUBLE PRECISION NOT NULL,
                build_id     TEXT,
                origin       TEXT NOT NULL,
                user_id      TEXT,
                guild_id     TEXT,
                channel_id   TEXT,
                scope        TEXT,
                context      TEXT,
                passage_keys TEXT,
                mode         TEXT,
                quote_spans  TEXT
            )""",
            "CREATE INDEX questions_asked_at ON questions (asked_at)",
            """CREATE TABLE feedback (
                id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                question_id BIGINT NOT NULL REFERENCES questions(id),
                user_id     TEXT NOT NULL,
                value       INTEGER NOT NULL CHECK (value IN (-1, 1)),
                created_at  TEXT NOT NULL,
                UNIQUE (question_id, user_id)
            )""",
            """CREATE TABLE guild_settings (
                guild_id      TEXT PRIMARY KEY,
                admin_role_id TEXT,
                updated_at    TEXT NOT NULL,
                threads       INTEGER NOT NULL DEFAULT 0
            )""",
            """CREATE TABLE ask_channels (
                guild_id   TEXT NOT NULL,
                channel_id TEXT NOT NULL,
                added_at   TEXT NOT NULL,
                PRIMARY KEY (guild_id, channel_id)
            )""",
            """CREATE TABLE audit (
                id       BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                at       TEXT NOT NULL,
                guild_id TEXT,
                user_id  TEXT NOT NULL,
                action   TEXT NOT NULL,
                allowed  INTEGER NOT NULL,
                detail   TEXT NOT NULL
            )""",
            "CREATE INDEX audit_at ON audit (at)",
            """CREATE TABLE conversations (
                thread_id   TEXT NOT NULL,
                question_id BIGINT NOT NULL REFERENCES questions(id),
                PRIMARY KEY (thread_id, question_id)
            )""",
            """CREATE TABLE synonyms (
                term       TEXT PRIMARY KEY,
                means      TEXT NOT NULL,
                added_by   TEXT NOT NULL,
                added_at   TEXT NOT NULL
            )""",
            "CREATE TABLE bot_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        ),
    ),
    # what /stats and the gaps group a question by (SQLite step 10)
    Migration(2, ("ALTER TABLE questions ADD COLUMN question_key TEXT",), data=_key_questions),
)

MIGRATIONS: Migrations = {"sqlite": SQLITE, "postgresql": POSTGRES}

# What a rebuild copies back (``BotState.carry_over``), each table after those its rows refer to:
# its name, how its rows are read from the old database and written to the new one.
CARRIED: tuple[tuple[str, str, str], ...] = (
    (
        "questions",
        (
            "SELECT id, asked_at, question, language, answered, reason, top_passages, "
            "latency_ms, build_id, origin, user_id, guild_id, channel_id, scope, context, "
            "passage_keys, mode, quote_spans, question_key FROM questions"
        ),
        (
            "INSERT INTO questions (id, asked_at, question, language, answered, reason, "
            "top_passages, latency_ms, build_id, origin, user_id, guild_id, channel_id, "
            "scope, context, passage_keys, mode, quote_spans, question_key) VALUES (?, ?, "
            "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ),
    ),
    (
        "feedback",
        "SELECT id, question_id, user_id, value, created_at FROM feedback",
        (
            "INSERT INTO feedback (id, question_id, user_id, value, created_at) VALUES (?, "
            "?, ?, ?, ?)"
        ),
    ),
    (
        "conversations",
        "SELECT thread_id, question_id FROM conversations",
        "INSERT INTO conversations (thread_id, question_id) VALUES (?, ?)",
    ),
    (
        "guild_settings",
        "SELECT guild_id, admin_role_id, updated_at, threads FROM guild_settings",
        (
            "INSERT INTO guild_settings (guild_id, admin_role_id, updated_at, threads) "
            "VALUES (?, ?, ?, ?)"
        ),
    ),
    (
        "ask_channels",
        "SELECT guild_id, channel_id, added_at FROM ask_channels",
        "INSERT INTO ask_channels (guild_id, channel_id, added_at) VALUES (?, ?, ?)",
    ),
    (
        "audit",
        "SELECT id, at, guild_id, user_id, action, allowed, detail FROM audit",
        (
            "INSERT INTO audit (id, at, guild_id, user_id, action, allowed, detail) VALUES "
            "(?, ?, ?, ?, ?, ?, ?)"
        ),
    ),
    (
        "synonyms",
        "SELECT term, means, added_by, added_at FROM synonyms",
        "INSERT INTO synonyms (term, means, added_by, added_at) VALUES (?, ?, ?, ?)",
    ),
    (
        "bot_meta",
        "SELECT key, value FROM bot_meta",
        "INSERT INTO bot_meta (key, value) VALUES (?, ?)",
    ),
)
