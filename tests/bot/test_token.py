"""The token never appears in logs, error messages or replies — also when start-up fails."""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import socket
from pathlib import Path

import discord
import discord.gateway
import discord.http
import pytest
import yarl
from pydantic import SecretStr
from rich.console import Console

from bot.cli import cmd_run
from bot.settings import Settings
from bot.startup import CliError
from index.records import Snapshot
from index.store import IndexStore
from tests.conftest import cache_dir, dictionary_path
from tests.support.standin import DiscordStandIn

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GsEcRt.ThisIsNotARealTokenButLooksLikeOne_0123456"


def settings(tmp_path: Path, token: str | None) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token=SecretStr(token) if token is not None else None,
        database_path=tmp_path / "db.sqlite3",
        articles_dir=tmp_path,
        dictionary_path=dictionary_path(),
        cache_dir=cache_dir(),
        log_level="DEBUG",
    )


async def test_rejected_token_is_one_clear_line_and_never_logged(
    tmp_path: Path, seed_snapshot: Snapshot, caplog: pytest.LogCaptureFixture
) -> None:
    async with await IndexStore.open(tmp_path / "db.sqlite3") as storage:
        await storage.save_snapshot(seed_snapshot)
    out = io.StringIO()
    caplog.set_level(logging.DEBUG)
    async with DiscordStandIn() as api:
        api.fail_next("GET", r"/users/@me", status=401, times=1)
        with pytest.raises(CliError) as failure:
            await cmd_run(
                argparse.Namespace(), settings(tmp_path, TOKEN), Console(file=out, soft_wrap=True)
            )
    message = str(failure.value)
    assert "rejected DISCORD_TOKEN" in message and "\n" not in message
    logged = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    for text in (message, out.getvalue(), logged, repr(failure.value.__cause__)):
        assert TOKEN not in text
    assert TOKEN[:24] not in logged  # not even the id part of it


async def test_missing_token_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(CliError) as failure:
        await cmd_run(argparse.Namespace(), settings(tmp_path, None), Console(file=io.StringIO()))
    assert "DISCORD_TOKEN is not set" in str(failure.value) and failure.value.code == 2


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_no_network_is_one_clear_line(
    tmp_path: Path,
    seed_snapshot: Snapshot,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with await IndexStore.open(tmp_path / "db.sqlite3") as storage:
        await storage.save_snapshot(seed_snapshot)
    port = closed_port()
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{port}/api/v10")
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(f"ws://127.0.0.1:{port}/")
    )
    out = io.StringIO()
    caplog.set_level(logging.DEBUG)
    with pytest.raises(CliError) as failure:
        await asyncio.wait_for(
            cmd_run(
                argparse.Namespace(), settings(tmp_path, TOKEN), Console(file=out, soft_wrap=True)
            ),
            timeout=60,
        )
    message = str(failure.value)
    assert message.startswith("cannot reach Discord") and "check the network" in message
    assert f"127.0.0.1:{port}" in message and "\n" not in message
    logged = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    for text in (message, out.getvalue(), logged):
        assert TOKEN not in text
    assert "Traceback" not in caplog.text
