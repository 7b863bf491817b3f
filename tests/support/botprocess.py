"""The project's bot in another OS process, against the stand-in of the test's process.

The stand-in points discord.py at itself by patching two things in its own process
(``discord.http.Route.BASE`` and ``DiscordWebSocket.DEFAULT_GATEWAY``), which a bot in
another process never sees. This module is that process's entry point::

    python -m tests.support.botprocess --api URL --gateway URL [COMMAND ...]

It patches the two in its own process, then runs the product's command line
(``bot.cli.main``, the ``start`` command unless told otherwise) exactly as a deployment
runs it: every setting (``DISCORD_TOKEN``, ``DATABASE_PATH``, ``SHARD_COUNT``,
``SHARD_IDS``, ...) comes from the environment or a ``.env`` in the working directory.
SIGTERM stops it as Ctrl-C does (the bot closes its connections and the database), and
it ends by itself when the process that started it dies.

A test starts one with :func:`bot_process`, which returns once the stand-in has sent
READY to each of the process's shards, and always stops it::

    env = bot_environment(database, SHARD_COUNT="2", SHARD_IDS="1")
    async with bot_process(api, env, cwd=tmp_path) as second:
        ...  # second.sessions[1] is the stand-in's session of its shard 1
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import faulthandler
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from pydantic import ValidationError

from bot.settings import Settings
from tests.support.standin import DiscordStandIn, Session

# Ceilings for a process that hangs, far above the usual (a bot process is ready in about
# two seconds and stops in well under one).
READY_TIMEOUT = 120.0
STOP_TIMEOUT = 60.0
DUMP_STACKS = signal.SIGUSR1  # the process writes every thread's stack into its log
_PR_SET_PDEATHSIG = 1  # prctl(2): a signal for this process when its parent dies


# ------------------------------------------------------------------------------ the process


def point_discord_at(api: str, gateway: str) -> None:
    """What ``DiscordStandIn.start()`` does in its own process: REST and gateway to ``api``
    and ``gateway``."""
    import discord.gateway
    import discord.http
    import yarl

    discord.http.Route.BASE = api
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway)


def _stop_as_ctrl_c(signum: int, frame: FrameType | None) -> None:
    """SIGTERM: what Ctrl-C does (asyncio cancels the bot's task, which closes it)."""
    signal.raise_signal(signal.SIGINT)


def _end_with_the_parent(parent: int) -> None:
    """Get SIGTERM when the starting process dies (Linux), so no bot outlives its test."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before prctl
        signal.raise_signal(signal.SIGTERM)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.botprocess",
        description="Run the bot's command line against a Discord stand-in in another process.",
    )
    parser.add_argument(
        "--api", required=True, help="REST base, like http://127.0.0.1:PORT/api/v10"
    )
    parser.add_argument("--gateway", required=True, help="gateway URL, like ws://127.0.0.1:PORT/…")
    parser.add_argument("command", nargs="*", default=["start"], help="bot command (start)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_as_ctrl_c)
    faulthandler.register(DUMP_STACKS, all_threads=True)  # a hung stop shows where it hangs
    _end_with_the_parent(os.getppid())
    point_discord_at(args.api, args.gateway)
    from bot.cli import main as bot_main

    return bot_main(args.command)


# ------------------------------------------------------------------------------ the test side


@dataclass
class BotProcess:
    """A running bot process: its shards and, once ready, the stand-in's session of each."""

    process: asyncio.subprocess.Process
    shards: tuple[int, ...]
    log_path: Path  # its stdout and stderr
    sessions: dict[int, Session] = field(default_factory=dict)

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def log(self) -> str:
        """What the process wrote so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def expected_shards(env: Mapping[str, str], recommended: int) -> tuple[int, ...]:
    """The shards a process with ``env`` runs: ``SHARD_IDS`` of ``SHARD_COUNT``, all of them
    when no ids are given, and all ``recommended`` (GET /gateway/bot) when no count is."""
    try:  # the product's own parsing; model_validate reads no environment and no .env
        settings = Settings.model_validate(
            {"shard_count": env.get("SHARD_COUNT", ""), "shard_ids": env.get("SHARD_IDS", "")}
        )
    except ValidationError as exc:
        raise ValueError(f"the bot process would not start: {exc}") from None
    if settings.shard_ids is not None:
        return tuple(settings.shard_ids)
    return tuple(range(settings.shard_count or recommended))


@contextlib.asynccontextmanager
async def bot_process(
    api: DiscordStandIn,
    env: Mapping[str, str],
    *,
    cwd: Path,
    ready_timeout: float = READY_TIMEOUT,
    stop_timeout: float = STOP_TIMEOUT,
) -> AsyncIterator[BotProcess]:
    """Start ``python -m tests.support.botprocess`` against ``api`` with exactly ``env``
    (e.g. ``tests.botcli.bot_environment(database, SHARD_COUNT="2", SHARD_IDS="1")``; an
    empty ``DISCORD_TOKEN`` becomes ``standin-token``) in ``cwd``, which gets its log.

    Returns once the stand-in has sent READY to each of its shards after it started (so
    no other client's may hold them); fails at once if it exits first, with its log. On
    exit it is always stopped: SIGTERM, then SIGKILL after ``stop_timeout``.
    """
    shards = expected_shards(env, api.shard_count)
    environment = dict(env)
    if not environment.get("DISCORD_TOKEN"):
        environment["DISCORD_TOKEN"] = "standin-token"
    log_path = cwd / f"botprocess-{'-'.join(map(str, shards))}.log"
    since = api.identify_count
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "tests.support.botprocess"),
            *("--api", api.api_base, "--gateway", api.gateway_url, "start"),
            cwd=cwd,
            env=environment,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log_file,
            stderr=asyncio.subprocess.STDOUT,
        )
    running = BotProcess(process, shards, log_path)
    try:
        await _wait_until_ready(api, running, since, ready_timeout)
        yield running
    finally:
        await _stop(process, stop_timeout)


async def _wait_until_ready(
    api: DiscordStandIn, running: BotProcess, since: int, timeout: float
) -> None:
    """Until every shard of ``running`` has a session begun after ``since`` IDENTIFYs, or
    the process ends (an error, with its log)."""

    async def sessions() -> None:
        async with asyncio.timeout(timeout):
            for shard in running.shards:
                running.sessions[shard] = await api.wait_ready(timeout, shard=shard, since=since)

    ready = asyncio.ensure_future(sessions())
    exited = asyncio.ensure_future(running.process.wait())
    try:
        await asyncio.wait({ready, exited}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        exited.cancel()
        if not ready.done():
            ready.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ready
    if ready.cancelled() or ready.exception() is not None:
        why = (
            f"exited with status {running.returncode}"
            if running.returncode is not None
            else f"was not ready: {ready.exception()}"
        )
        raise RuntimeError(f"the bot process (shards {running.shards}) {why}:\n{running.log()}")


async def _stop(process: asyncio.subprocess.Process, timeout: float) -> None:
    """SIGTERM, then SIGKILL if it has not ended after ``timeout``; wait for its end. One
    that hangs first writes its threads' stacks into its log."""
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(DUMP_STACKS)
            with contextlib.suppress(TimeoutError):  # the dump is written at once, in C
                await asyncio.wait_for(process.wait(), 5)
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


if __name__ == "__main__":
    sys.exit(main())
