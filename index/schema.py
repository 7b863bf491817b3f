"""The index store's schema: its numbered migrations for each backend (applied by
``index.database``).

Each step runs in one transaction. ``legacy`` is the number the step had in the single
schema of the SQLite databases made before the index store and the bot state were split.
PostgreSQL support began with the schema SQLite reached at step 5: its step 1 is that
schema. A change to the schema is a new step in both lists.
"""

from __future__ import annotations

from index.database import Migration, Migrations

SQLITE: tuple[Migration, ...] = (
    Migration(
        1,
        (
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            """CREATE TABLE builds (
                build_id       TEXT PRIMARY KEY,
                state          TEXT NOT NULL CHECK (state IN ('building', 'ready')),
                built_at       TEXT NOT NULL,
                analyzer       TEXT NOT NULL,
                params         TEXT NOT NULL,
                articles       INTEGER NOT NULL,
                passages       INTEGER NOT NULL,
                seconds        REAL NOT NULL,
                skipped        TEXT NOT NULL,
                has_dictionary INTEGER NOT NULL,
                lexicon        BLOB
            )""",
            """CREATE TABLE articles (
                build_id TEXT NOT NULL REFERENCES builds(build_id) ON DELETE CASCADE,
                id       TEXT NOT NULL,
                title    TEXT NOT NULL,
                date     TEXT,
                source   TEXT,
                path     TEXT NOT NULL,
                caption  TEXT,
                text     TEXT NOT NULL,
                sha256   TEXT NOT NULL,
                PRIMARY KEY (build_id, id)
            )""",
            """CREATE TABLE passages (
                build_id   TEXT NOT NULL REFERENCES builds(build_id) ON DELETE CASCADE,
                id         INTEGER NOT NULL,
                article_id TEXT NOT NULL,
                ordinal    INTEGER NOT NULL,
                section    TEXT,
                start      INTEGER NOT NULL,
                "end"      INTEGER NOT NULL,
                terms      TEXT NOT NULL,
                PRIMARY KEY (build_id, id)
            )""",
        ),
        legacy=1,
    ),
    # postings stored as arrays with the build; passages no longer carry their terms
    Migration(
        2,
        (
            "DELETE FROM meta WHERE key = 'active_build'",
            "DELETE FROM builds",
            "ALTER TABLE builds ADD COLUMN postings BLOB",
            "DROP TABLE passages",
            """CREATE TABLE passages (
                build_id   TEXT NOT NULL REFERENCES builds(build_id) ON DELETE CASCADE,
                id         INTEGER NOT NULL,
                article_id TEXT NOT NULL,
                ordinal    INTEGER NOT NULL,
                section    TEXT,
                start      INTEGER NOT NULL,
                "end"      INTEGER NOT NULL,
                PRIMARY KEY (build_id, id)
            )""",
        ),
        legacy=3,
    ),
    # what a build was made from (a hash of its inputs): a reindex can tell nothing changed
    Migration(3, ("ALTER TABLE builds ADD COLUMN inputs TEXT",), legacy=8),
    # sentence-encoder vectors of passages and sentences, keyed by model and text hash
    # (shared by every build that holds the same text)
    Migration(
        4,
        (
            """CREATE TABLE vectors (
                model  TEXT NOT NULL,
                hash   BLOB NOT NULL,
                vector BLOB NOT NULL,
                UNIQUE (model, hash)
            )""",
        ),
        legacy=9,
    ),
    # the bot's settings moved to its own store (bot.state)
    Migration(5, ("DELETE FROM meta WHERE key <> 'active_build'",)),
    # what a build read with a warning (an unknown front-matter key): JSON, a line each
    Migration(6, ("ALTER TABLE builds ADD COLUMN notes TEXT NOT NULL DEFAULT '[]'",)),
)

POSTGRES: tuple[Migration, ...] = (
    Migration(
        1,
        (
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            """CREATE TABLE builds (
                build_id       TEXT PRIMARY KEY,
                state          TEXT NOT NULL CHECK (state IN ('building', 'ready')),
                built_at       TEXT NOT NULL,
                analyzer       TEXT NOT NULL,
                params         TEXT NOT NULL,
                articles       INTEGER NOT NULL,
                passages       INTEGER NOT NULL,
                seconds        DOUBLE PRECISION NOT NULL,
                skipped        TEXT NOT NULL,
                has_dictionary INTEGER NOT NULL,
                lexicon        BYTEA,
                postings       BYTEA,
                inputs         TEXT
            )""",
            """CREATE TABLE articles (
                build_id TEXT NOT NULL REFERENCES builds(build_id) ON DELETE CASCADE,
                id       TEXT NOT NULL,
                title    TEXT NOT NULL,
                date     TEXT,
                source   TEXT,
                path     TEXT NOT NULL,
                caption  TEXT,
                text     TEXT NOT NULL,
                sha256   TEXT NOT NULL,
                PRIMARY KEY (build_id, id)
            )""",
            """CREATE TABLE passages (
                build_id   TEXT NOT NULL REFERENCES builds(build_id) ON DELETE CASCADE,
                id         INTEGER NOT NULL,
                article_id TEXT NOT NULL,
                ordinal    INTEGER NOT NULL,
                section    TEXT,
                start      INTEGER NOT NULL,
                "end"      INTEGER NOT NULL,
                PRIMARY KEY (build_id, id)
            )""",
            # rowid: the order vectors were stored in, as SQLite's implicit rowid is
            """CREATE TABLE vectors (
                rowid  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                model  TEXT NOT NULL,
                hash   BYTEA NOT NULL,
                vector BYTEA NOT NULL,
                UNIQUE (model, hash)
            )""",
        ),
    ),
    Migration(2, ("ALTER TABLE builds ADD COLUMN notes TEXT NOT NULL DEFAULT '[]'",)),
)

MIGRATIONS: Migrations = {"sqlite": SQLITE, "postgresql": POSTGRES}
