"""The stand-in as a test uses it: start and stop (pointing discord.py at it and back), a
client run against it, waits for what the client sends, the recorded requests by kind; and
the capture of discord.py's logged errors."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Self

import discord
import discord.gateway
import discord.http
import yarl
from aiohttp import web

from tests.support.standin.events import Events
from tests.support.standin.faults import FaultInjection
from tests.support.standin.models import JSON
from tests.support.standin.rest import Rest
from tests.support.standin.state import DEFAULT_TIMEOUT
from tests.support.standin.wire import (
    CALLBACK_RE,
    CHANNEL_MESSAGE_RE,
    CHANNEL_MESSAGES_RE,
    FOLLOWUP_RE,
    THREAD_START_RE,
    WEBHOOK_MESSAGE_RE,
    Request,
)

_log = logging.getLogger(__name__)
# Names of the tasks in which discord.py runs event handlers, app commands and view callbacks.
_HANDLER_TASKS = ("discord.py: ", "CommandTree-invoker", "discord-ui-view-dispatch-")
# The running stand-in: discord.py has one Route.BASE, so there is one at a time.
_active: DiscordStandIn | None = None


class DiscordErrorLog(logging.Handler):
    """Collects the ERROR records of the loggers it is added to."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def report(self) -> str:
        formatter = logging.Formatter("%(name)s %(levelname)s: %(message)s")
        return "\n".join(formatter.format(r) for r in self.records)


@contextlib.contextmanager
def capture_errors(names: Sequence[str] = ("discord",)) -> Iterator[DiscordErrorLog]:
    """Collect the ERROR records of the ``names`` loggers (discord.py's unless told) while
    the block runs."""
    handler = DiscordErrorLog()
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        if not logger.isEnabledFor(logging.ERROR):
            logger.setLevel(logging.ERROR)
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


class DiscordStandIn(Events, Rest, FaultInjection):
    """REST API, gateway websocket and file server of Discord, on 127.0.0.1.

    One class built in layers, a module each (see the package's docstring); the options it
    is made with are :class:`StandInState`'s.
    """

    # ---------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        global _active
        if _active is not None:
            raise RuntimeError("another DiscordStandIn is running; discord.py has one Route.BASE")
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        self._add_routes(app)
        runner = web.AppRunner(app, shutdown_timeout=2.0, access_log=None)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", 0))
            self._port = sock.getsockname()[1]
            await web.SockSite(runner, sock).start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._runner = runner
        self._saved_base = discord.http.Route.BASE
        self._saved_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = self.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        _active = self

    async def stop(self) -> None:
        global _active
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(code=1001, message=b"stand-in stopping"), 2.0)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2.0)
        for _, future in self._waiters:
            future.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if _active is self:
            if self._saved_base is not None:
                discord.http.Route.BASE = self._saved_base
            if self._saved_gateway is not None:
                discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._saved_gateway
            _active = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
        if exc_type is None and self.internal_errors:
            raise AssertionError("the stand-in failed:\n" + "\n".join(self.internal_errors))

    @contextlib.asynccontextmanager
    async def running(
        self,
        client: discord.Client,
        *,
        token: str = "standin-token",
        timeout: float = DEFAULT_TIMEOUT,
    ) -> AsyncIterator[discord.Client]:
        """Start ``client`` against the stand-in, wait for on_ready, and always close it."""
        loop = asyncio.get_running_loop()
        task = asyncio.create_task(client.start(token), name="standin-client")
        try:
            deadline = loop.time() + timeout
            while not client.is_ready():
                if task.done():
                    task.result()  # raises the client's error, if any
                    raise RuntimeError("the client stopped before it was ready")
                if loop.time() > deadline:
                    raise TimeoutError(f"the client was not ready within {timeout}s")
                await asyncio.sleep(0.01)
            yield client
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), timeout)
            done, _ = await asyncio.wait({task}, timeout=timeout)
            if not done:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            elif not task.cancelled() and task.exception() is not None:
                _log.debug("client task ended with %r", task.exception())

    # ---------------------------------------------------------------- waiting & accessors

    async def wait_for(
        self, predicate: Callable[[Request], bool], timeout: float = DEFAULT_TIMEOUT
    ) -> Request:
        """The first recorded request (already or in future) for which ``predicate`` holds."""
        for request in self.requests:
            if predicate(request):
                return request
        future: asyncio.Future[Request] = asyncio.get_running_loop().create_future()
        entry = (predicate, future)
        self._waiters.append(entry)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise TimeoutError(
                f"no request matched within {timeout}s; recorded so far:\n{self.describe()}"
            ) from None
        finally:
            self._waiters.remove(entry)

    def expect(self, predicate: Callable[[Request], bool]) -> asyncio.Future[Request]:
        """A future for the first *future* request matching ``predicate`` (no look back).

        Register it before dispatching the event that causes the request; for long runs
        this avoids scanning the whole request log on every wait.
        """
        future: asyncio.Future[Request] = asyncio.get_running_loop().create_future()
        entry = (predicate, future)
        self._waiters.append(entry)
        future.add_done_callback(lambda _: self._waiters.remove(entry))
        return future

    async def wait_callback(
        self, interaction: Mapping[str, Any], timeout: float = DEFAULT_TIMEOUT
    ) -> Request:
        return await self.wait_for(lambda r: r.is_callback_for(interaction), timeout)

    async def wait_followup(
        self, interaction: Mapping[str, Any], timeout: float = DEFAULT_TIMEOUT
    ) -> Request:
        return await self.wait_for(lambda r: r.is_followup_for(interaction), timeout)

    async def wait_channel_message(
        self, channel_id: int | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> Request:
        """The first successful POST /channels/{channel_id}/messages (any channel if None)."""

        def wanted(request: Request) -> bool:
            match = request.matched("POST", CHANNEL_MESSAGES_RE)
            return match is not None and (channel_id is None or match.group(1) == str(channel_id))

        return await self.wait_for(wanted, timeout)

    async def wait_thread(
        self, timeout: float = DEFAULT_TIMEOUT, *, parent_id: int | None = None
    ) -> Request:
        """The first successful thread start (from a message or not), in ``parent_id`` if given.

        The request's ``response`` is the thread's channel JSON as sent to the client.
        """

        def wanted(request: Request) -> bool:
            match = request.matched("POST", THREAD_START_RE)
            return match is not None and (parent_id is None or match.group(1) == str(parent_id))

        return await self.wait_for(wanted, timeout)

    async def wait_until(
        self, condition: Callable[[], bool], timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        """Poll ``condition`` (every 10 ms) until it holds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            if loop.time() > deadline:
                raise TimeoutError(f"condition not met within {timeout}s")
            await asyncio.sleep(0.01)

    async def settle(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until the client has handled everything sent to it so far.

        This is how a test checks that something did *not* happen, instead of sleeping for
        a while. It waits, until all hold at once: the stand-in's own pending work (events
        it is about to send, such as echoed messages) is done; no REST request is being
        handled; the client has answered a HEARTBEAT (op 1) — discord.py answers at once,
        and only after every earlier frame, as it reads frames in order and starts an
        event's handlers as it reads it; and discord.py's handler tasks (events, app
        commands, view callbacks) have finished. ``timeout`` is a ceiling for a client
        that hangs, not a time anything waits for.
        """
        current = asyncio.current_task()

        def handlers() -> list[asyncio.Task[Any]]:
            return [
                t
                for t in asyncio.all_tasks()
                if t is not current and t.get_name().startswith(_HANDLER_TASKS)
            ]

        async with asyncio.timeout(timeout):
            while True:
                if own := [t for t in self._tasks if not t.done()]:
                    await asyncio.wait(own)
                    continue
                if not self._quiet.is_set():
                    await self._quiet.wait()
                    continue
                await self._heartbeat_round_trip()
                if busy := handlers():
                    await asyncio.wait(busy)
                    continue
                await asyncio.sleep(0)  # one more turn: what the last ones scheduled
                if self._quiet.is_set() and not handlers() and all(t.done() for t in self._tasks):
                    return

    def describe(self, last: int = 40) -> str:
        lines = [f"  {r}" for r in list(self.requests)[-last:]]
        return "\n".join(lines) or "  (no requests)"

    def _successful(self, method: str, pattern: re.Pattern[str]) -> list[Request]:
        return [r for r in self.requests if r.matched(method, pattern)]

    def callbacks(self, interaction: Mapping[str, Any] | None = None) -> list[Request]:
        found = self._successful("POST", CALLBACK_RE)
        return (
            found if interaction is None else [r for r in found if r.is_callback_for(interaction)]
        )

    def followups(self, interaction: Mapping[str, Any] | None = None) -> list[Request]:
        found = self._successful("POST", FOLLOWUP_RE)
        return (
            found if interaction is None else [r for r in found if r.is_followup_for(interaction)]
        )

    def edits(self) -> list[Request]:
        """Successful PATCHes of interaction messages and channel messages."""
        return self._successful("PATCH", WEBHOOK_MESSAGE_RE) + self._successful(
            "PATCH", CHANNEL_MESSAGE_RE
        )

    def channel_messages(self, channel_id: int | None = None) -> list[Request]:
        found = self._successful("POST", CHANNEL_MESSAGES_RE)
        if channel_id is None:
            return found
        return [r for r in found if r.path == f"/channels/{channel_id}/messages"]

    def thread_requests(self) -> list[Request]:
        """Successful thread starts: POST /channels/{id}/messages/{id}/threads and .../threads."""
        return self._successful("POST", THREAD_START_RE)

    def threads(self, parent_id: int | None = None) -> list[JSON]:
        """The current channel JSON of every thread (not deleted), oldest first.

        Includes threads made with :meth:`create_thread`; ``parent_id`` filters by channel.
        """
        return [
            thread.payload(guild.id)
            for guild in self.guilds
            for thread in guild.threads
            if parent_id is None or thread.parent_id == parent_id
        ]

    def commands(self, guild_id: int | None = None) -> list[JSON]:
        """The commands synced globally (``guild_id=None``) or to one guild."""
        if guild_id is None:
            return list(self.global_commands)
        return list(self.guild_commands.get(guild_id, []))
