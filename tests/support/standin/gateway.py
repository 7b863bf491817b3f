"""The gateway websocket: HELLO, IDENTIFY → READY and GUILD_CREATE, heartbeats, RESUME with
the replay of missed events, member requests; and the events a test sends to the client.

Sharded clients are served as Discord serves them: IDENTIFY may carry ``shard: [id, count]``
(several connections at once, from one client or several processes), each shard gets a
session of its own with its own READY, and an event about a server goes only to the shard
that owns it, ``(guild_id >> 22) % count``; events of no server (DMs) go to shard 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import WSMsgType, web

from tests.support.standin.models import (
    APPLICATION_FLAGS,
    JSON,
    PRIVILEGED_INTENTS,
    Guild,
    default_guild,
    snowflake_on_shard,
)
from tests.support.standin.state import DEFAULT_TIMEOUT, Delivery, Session, StandInState

# Events about a server whose id is the payload's ``id``, not its ``guild_id``.
_GUILD_EVENTS = frozenset({"GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"})


def event_guild(event: str, data: JSON) -> int | None:
    """The server an event is about (it decides the shard), None for a DM's."""
    raw = data.get("id") if event in _GUILD_EVENTS else data.get("guild_id")
    return int(raw) if raw is not None else None


class Gateway(StandInState):
    """The gateway side of the stand-in."""

    # ---------------------------------------------------------------- events to the client

    async def wait_ready(
        self, timeout: float = DEFAULT_TIMEOUT, *, shard: int = 0, since: int = 0
    ) -> Session:
        """Wait until the client of shard ``shard`` has identified (READY sent) or resumed
        (RESUMED sent); returns its session. With ``since``, only an IDENTIFY after the
        first ``since`` the stand-in saw counts (``identify_count`` before a client starts)."""

        def ready() -> Session | None:
            session = self._sessions.get(shard)
            live = session is not None and session.live and session.number > since
            return session if live else None

        if not await self._wait_gateway(lambda: ready() is not None, timeout):
            raise TimeoutError(
                f"no client of shard {shard} identified or resumed within {timeout}s "
                f"(identifies={self.identify_count}, resumes={self.resume_count}, "
                f"sessions={self._describe_sessions()})"
            )
        found = ready()
        assert found is not None
        return found

    async def dispatch(self, event: str, data: JSON, *, timeout: float = DEFAULT_TIMEOUT) -> int:
        """Send a DISPATCH (op 0) event to the shard that owns it; returns its sequence number
        (in that shard's session).

        Waits until that shard has a session. While its client is disconnected the event is
        only buffered, and a RESUME replays it.
        """
        guild_id = event_guild(event, data)
        if not await self._wait_gateway(lambda: self._owner(guild_id) is not None, timeout):
            raise TimeoutError(
                f"no session of the shard for guild {guild_id} within {timeout}s "
                f"(sessions={self._describe_sessions()})"
            )
        return await self._notify(event, data)

    async def add_guild(self, name: str = "Second Guild", *, shard: int | None = None) -> Guild:
        """A new guild like the default one (the same three members), on shard ``shard`` of
        ``shard_count`` (default: the next shard after the last guild's), as if the bot had
        been invited: its client, if connected, gets GUILD_CREATE."""
        if shard is None:
            shard = len(self.guilds) % self.shard_count
        guild_id = snowflake_on_shard(shard, self.shard_count)
        guild = default_guild(self.bot_user, self.admin, self.member, guild_id=guild_id, name=name)
        self.guilds.append(guild)
        await self._notify("GUILD_CREATE", guild.payload())
        return guild

    def delivered(self, data: JSON) -> list[int]:
        """The shards that were sent ``data`` (a payload given to :meth:`dispatch`)."""
        return [d.shard_id for d in self.deliveries if d.data is data]

    async def _notify(self, event: str, data: JSON) -> int:
        """Send (or, while disconnected, buffer) an event to its shard; 0 when that shard
        has no session yet.

        Without a session nothing is lost: IDENTIFY's GUILD_CREATE describes the current state.
        """
        session = self._owner(event_guild(event, data))
        if session is None:
            return 0
        async with self._send_lock:
            frame = session.frame(event, data, store=True)
            if session.ws is not None:
                await self._send(session.ws, frame)
            self.deliveries.append(
                Delivery(session.shard_id, session.session_id, event, int(frame["s"]), data)
            )
            return int(frame["s"])

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` (an event to send) in the background: ``settle()`` waits for it,
        ``stop()`` cancels it."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _wait_gateway(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``condition`` (about the sessions) holds; False after ``timeout``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while not condition():
                    await self._gateway_changed.wait()
                return True
        return False

    def _describe_sessions(self) -> str:
        shown = [
            f"{s.shard_id}/{s.shard_count}" + ("" if s.live else " (gone)") for s in self.sessions
        ]
        return ", ".join(shown) or "none"

    async def _heartbeat_round_trip(self) -> None:
        """Send op 1 on every live socket and wait for the heartbeats that acknowledge every
        event sent so far (a heartbeat's ``d`` is the last sequence number the client read)."""
        await asyncio.gather(*(self._beat(s) for s in self.sessions if s.live))

    async def _beat(self, session: Session) -> None:
        ws = session.ws
        if ws is None:  # disconnected: nothing reaches the client anyway
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiter = (ws, session.sequence, future)
        self._beat_waiters.append(waiter)
        closed = self._sockets.get(ws)
        try:
            async with self._send_lock:
                await self._send(ws, {"op": 1, "d": None, "s": None, "t": None})
            if closed is None:
                return
            # A socket that closes meanwhile (its client stopped) acknowledges nothing.
            lost = asyncio.ensure_future(closed.wait())
            try:
                either: set[asyncio.Future[Any]] = {future, lost}
                await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            finally:
                lost.cancel()
        finally:
            self._beat_waiters.remove(waiter)

    # ---------------------------------------------------------------- the websocket

    async def _send(self, ws: web.WebSocketResponse, frame: JSON) -> bool:
        if ws.closed:
            return False
        try:
            await ws.send_str(json.dumps(frame))
        except (ConnectionError, RuntimeError):
            return False
        return True

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(timeout=2.0, max_msg_size=16 * 1024 * 1024)
        await ws.prepare(request)
        closed = asyncio.Event()
        self._sockets[ws] = closed
        self._current_ws = ws
        self.gateway_connections.append(request.path_qs)
        try:
            hello = {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ["standin"]}
            await self._send(ws, {"op": 10, "d": hello, "s": None, "t": None})
            async for msg in ws:  # ends when the socket closes; stop() closes every socket
                if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    await self._on_frame(ws, json.loads(msg.data))
                else:
                    break
        finally:
            for session in self._sessions.values():
                if session.ws is ws:
                    session.ws = None
            if self._current_ws is ws:
                self._current_ws = None
            del self._sockets[ws]
            closed.set()
            self._announce()
        return ws

    async def _on_frame(self, ws: web.WebSocketResponse, frame: JSON) -> None:
        self.gateway_received.append(frame)
        op = frame.get("op")
        data = frame.get("d")
        if op == 1:
            self.heartbeat_count += 1
            for waiter in list(self._beat_waiters):
                socket, seen, future = waiter
                if socket is ws and isinstance(data, int) and data >= seen and not future.done():
                    future.set_result(None)
            await self._send(ws, {"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:
            await self._identify(ws, data or {})
        elif op == 6:
            await self._resume(ws, data or {})
        elif op == 8:
            await self._request_members(ws, data or {})

    async def _identify(self, ws: web.WebSocketResponse, data: JSON) -> None:
        self.identify_count += 1
        self.identify_payloads.append(data)
        self.intents = data.get("intents")
        if not self.privileged_intents_enabled and (self.intents or 0) & PRIVILEGED_INTENTS:
            await ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        shard = data.get("shard") or [0, 1]
        shard_id, shard_count = int(shard[0]), int(shard[1])
        if not 0 <= shard_id < shard_count:
            await ws.close(code=4010, message=b"Invalid shard.")
            return
        async with self._send_lock:
            session = Session(
                shard_id,
                shard_count,
                uuid.uuid4().hex,
                self.identify_count,
                deque(maxlen=self.history_limit),
            )
            # A new IDENTIFY for a shard replaces its session (an old client's is gone).
            self._sessions[shard_id] = session
            owned = [g for g in self.guilds if session.owns(g.id)]
            user = self.bot_user.payload()
            user.update(verified=True, mfa_enabled=False, email=None)
            ready = {
                "v": 10,
                "user": user,
                "guilds": [{"id": str(g.id), "unavailable": True} for g in owned],
                "session_id": session.session_id,
                "resume_gateway_url": self.resume_gateway_url,
                "session_type": "normal",
                "shard": [shard_id, shard_count],
                "application": {"id": str(self.application_id), "flags": APPLICATION_FLAGS},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "guild_join_requests": [],
                "user_settings": {},
                "geo_ordered_rtc_regions": ["standin"],
                "_trace": ["standin"],
            }
            await self._send(ws, session.frame("READY", ready, store=False))
            for guild in owned:
                await self._send(ws, session.frame("GUILD_CREATE", guild.payload(), store=False))
            session.ws = ws
        self._announce()

    async def _resume(self, ws: web.WebSocketResponse, data: JSON) -> None:
        self.resume_payloads.append(data)
        seq = int(data.get("seq") or 0)
        session = next(
            (s for s in self._sessions.values() if s.session_id == data.get("session_id")), None
        )
        if session is None or seq < session.evicted_seq:
            self.invalid_session_count += 1
            await self._send(ws, {"op": 9, "d": False, "s": None, "t": None})
            return
        # Held while a test runs a `disconnected()` block (bounded: at most a few timeouts).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._resumes_allowed.wait(), 3 * DEFAULT_TIMEOUT)
        async with self._send_lock:
            for number, frame in list(session.history):
                if number > seq:
                    await self._send(ws, frame)
                    self.replayed_count += 1
            await self._send(ws, session.frame("RESUMED", {"_trace": ["standin"]}, store=False))
            self.resume_count += 1
            session.ws = ws
        self._announce()

    async def _request_members(self, ws: web.WebSocketResponse, data: JSON) -> None:
        session = self._session_on(ws)
        try:
            guild = self._guild(int(data.get("guild_id") or 0))
        except KeyError:
            return
        if session is None:
            return
        wanted = {int(u) for u in data.get("user_ids") or []}
        query = (data.get("query") or "").lower()
        members = [
            m.payload()
            for m in guild.members
            if (not wanted or m.user.id in wanted) and m.user.username.lower().startswith(query)
        ]
        chunk: JSON = {
            "guild_id": str(guild.id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
        }
        if data.get("nonce"):
            chunk["nonce"] = data["nonce"]
        async with self._send_lock:
            await self._send(ws, session.frame("GUILD_MEMBERS_CHUNK", chunk, store=True))
