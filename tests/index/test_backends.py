"""What both database backends promise the stores: the reindex lock, notifications, the
change counters, clear one-line errors, and (PostgreSQL) surviving a server restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.state import CHANGES_CHANNEL, BotState
from index.backends import open_database
from index.database import StorageError
from index.locks import ReindexBusyError
from index.postgres import numbered, redacted
from index.records import Snapshot
from index.store import INDEX_CHANNEL, IndexStore
from tests.support.postgres import PostgresServer, free_port

WAIT = 60.0  # a ceiling for what takes milliseconds


def test_parameters_are_numbered_outside_quotes() -> None:
    assert numbered("SELECT ? WHERE a = ? AND b = '?' AND \"c?\" = ?") == (
        "SELECT $1 WHERE a = $2 AND b = '?' AND \"c?\" = $3"
    )


def test_a_url_is_shown_without_its_password() -> None:
    assert redacted("postgresql://bot:s3cret@db:5432/news") == "postgresql://bot:***@db:5432/news"
    assert redacted("postgresql://bot@db/news") == "postgresql://bot@db/news"


async def test_the_reindex_lock_excludes_another_connection_and_is_reentrant(
    database_target: str | Path,
) -> None:
    one, two = await open_database(database_target), await open_database(database_target)
    go = asyncio.Event()

    async def another_holder() -> bool:
        await go.wait()
        try:
            async with two.reindex_lock():
                return True
        except ReindexBusyError:
            return False

    try:
        # A task made before the lock is taken: not its holder (as another process).
        other = asyncio.create_task(another_holder())
        async with one.reindex_lock():
            async with one.reindex_lock():  # the holder again: re-entrant
                pass
            go.set()
            assert await asyncio.wait_for(other, WAIT) is False
        async with two.reindex_lock():  # released
            pass
    finally:
        await one.close()
        await two.close()


async def test_changes_are_counted_for_those_who_poll(database_target: str | Path) -> None:
    async with await IndexStore.open(database_target) as store:
        state = await BotState.on(store.database)
        assert await state.changes() == {}
        await state.set_synonym("Fritz", ["Merz"], 1)
        await state.set_synonym("Fritz", ["Friedrich"], 1)
        assert not await state.remove_synonym("Nobody")  # no change, not counted
        await state.set_ask_channel(1, 2, True)
        assert not await state.set_ask_channel(1, 2, True)
        await state.set_threads(1, True)
        assert await state.changes() == {"synonyms": 2, "config": 2}


async def test_sqlite_cannot_push(tmp_path: Path) -> None:
    database = await open_database(tmp_path / "db.sqlite3")
    try:
        assert await database.listen(INDEX_CHANNEL, lambda payload: None) is False
    finally:
        await database.close()


async def test_postgres_pushes_an_activation_and_a_change_to_other_processes(
    postgres_url: str, seed_snapshot: Snapshot
) -> None:
    heard: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    async with (
        await IndexStore.open(postgres_url) as listener,
        await IndexStore.open(postgres_url) as writer,
    ):
        for channel in (INDEX_CHANNEL, CHANGES_CHANNEL):
            assert await listener.database.listen(
                channel, lambda payload, channel=channel: heard.put_nowait((channel, payload))
            )
        await writer.save_snapshot(seed_snapshot)
        assert await asyncio.wait_for(heard.get(), WAIT) == (
            INDEX_CHANNEL,
            seed_snapshot.info.build_id,
        )
        await (await BotState.on(writer.database)).set_synonym("Fritz", ["Merz"], 1)
        assert await asyncio.wait_for(heard.get(), WAIT) == (CHANGES_CHANNEL, "synonyms")


async def test_an_unreachable_server_is_one_line() -> None:
    url = f"postgresql://bot:s3cret@127.0.0.1:{free_port()}/news"
    with pytest.raises(StorageError) as raised:
        await IndexStore.open(url)
    message = str(raised.value)
    assert message.startswith("cannot reach PostgreSQL at postgresql://bot:***@127.0.0.1")
    assert "s3cret" not in message and "\n" not in message


async def test_a_missing_database_or_schema_is_one_line(postgres: PostgresServer) -> None:
    with pytest.raises(StorageError, match=r"does not exist.*createdb"):
        await IndexStore.open(postgres.url().rsplit("/", 1)[0] + "/nothere")
    with pytest.raises(StorageError, match=r"search_path.*does not exist"):
        await IndexStore.open(postgres.url("no_such_schema"))


async def test_a_server_restart_costs_nothing_but_the_moment(
    postgres: PostgresServer, seed_snapshot: Snapshot
) -> None:
    """The engine answers from memory meanwhile; afterwards the pool's dead connections
    are replaced on first use, for reads and writes alike."""
    url = postgres.fresh_schema()
    async with await IndexStore.open(url) as store:
        state = await BotState.on(store.database)
        await store.save_snapshot(seed_snapshot)
        await asyncio.to_thread(postgres.stop)
        try:
            with pytest.raises(StorageError, match="cannot reach PostgreSQL"):
                await store.active_build_id()
        finally:
            await asyncio.to_thread(postgres.restart)
        assert await store.active_build_id() == seed_snapshot.info.build_id
        await state.set_meta("k", "v")
        assert await state.get_meta("k") == "v"
