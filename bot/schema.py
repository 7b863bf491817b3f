"""The bot state's schema: its numbered migrations (applied by ``index.database``).

Each step runs in one transaction. ``legacy`` is the number the step had in the single
schema of the databases made before the index store and the bot state were split.
"""

from __future__ import annotations

from index.database import Migration

MIGRATIONS: tuple[Migration, ...] = (
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
)
