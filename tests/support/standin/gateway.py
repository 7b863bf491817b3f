"""The gateway websocket: HELLO, IDENTIFY → READY and GUILD_CREATE, heartbeats, RESUME with
the replay of missed events, member requests; and the events a test sends to the client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Coroutine
from typing import Any

from aiohttp import WSMsgType, web

from tests.support.standin.models import APPLICATION_FLAGS, JSON, PRIVILEGED_INTENTS
from tests.support.standin.state import DEFAULT_TIMEOUT, StandInState


class Gateway(StandInState):
    """The gateway side of the stand-in."""

    # ---------------------------------------------------------------- events to the client

    async def wait_ready(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until a client has identified (READY sent) or resumed (RESUMED sent)."""
        try:
            await asyncio.wait_for(self._live.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(
                f"no client identified or resumed within {timeout}s "
                f"(identifies={self.identify_count}, resumes={self.resume_count})"
            ) from None

    async def dispatch(self, event: str, data: JSON, *, timeout: float = DEFAULT_TIMEOUT) -> int:
        """Send a DISPATCH (op 0) event; returns its sequence number.

        Waits for the first session if none exists yet. While the client is disconnected the
        event is only buffered, and a RESUME replays it.
        """
        if self.session_id is None:
            await self.wait_ready(timeout)
        return await self._notify(event, data)

    async def _notify(self, event: str, data: JSON) -> int:
        """Send (or, while disconnected, buffer) an event; 0 when no session exists yet.

        Without a session nothing is lost: IDENTIFY's GUILD_CREATE describes the current state.
        """
        if self.session_id is None:
            return 0
        async with self._send_lock:
            frame = self._frame(event, data, store=True)
            if self._live_ws is not None:
                await self._send(self._live_ws, frame)
            return int(frame["s"])

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run ``coro`` (an event to send) in the background: ``settle()`` waits for it,
        ``stop()`` cancels it."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _heartbeat_round_trip(self) -> None:
        """Send op 1 and wait for the client's heartbeat that acknowledges every event sent
        so far (its ``d`` is the last sequence number it read)."""
        ws = self._live_ws
        if ws is None:  # disconnected: nothing reaches the client anyway
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiter = (self.sequence, future)
        self._beat_waiters.append(waiter)
        try:
            async with self._send_lock:
                await self._send(ws, {"op": 1, "d": None, "s": None, "t": None})
            await future
        finally:
            self._beat_waiters.remove(waiter)

    # ---------------------------------------------------------------- the websocket

    def _frame(self, event: str, data: JSON, *, store: bool) -> JSON:
        self.sequence += 1
        frame: JSON = {"op": 0, "s": self.sequence, "t": event, "d": data}
        if store:
            if self._history.maxlen is not None and len(self._history) == self._history.maxlen:
                self._evicted_seq = self._history[0][0]
            self._history.append((self.sequence, frame))
        return frame

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
            if self._live_ws is ws:
                self._live_ws = None
                self._live.clear()
            if self._current_ws is ws:
                self._current_ws = None
            del self._sockets[ws]
            closed.set()
        return ws

    async def _on_frame(self, ws: web.WebSocketResponse, frame: JSON) -> None:
        self.gateway_received.append(frame)
        op = frame.get("op")
        data = frame.get("d")
        if op == 1:
            self.heartbeat_count += 1
            for waiter in list(self._beat_waiters):
                seen, future = waiter
                if isinstance(data, int) and data >= seen and not future.done():
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
        async with self._send_lock:
            self.session_id = uuid.uuid4().hex
            self.sequence = 0
            self._history.clear()
            self._evicted_seq = 0
            user = self.bot_user.payload()
            user.update(verified=True, mfa_enabled=False, email=None)
            ready = {
                "v": 10,
                "user": user,
                "guilds": [{"id": str(g.id), "unavailable": True} for g in self.guilds],
                "session_id": self.session_id,
                "resume_gateway_url": self.resume_gateway_url,
                "session_type": "normal",
                "shard": data.get("shard", [0, 1]),
                "application": {"id": str(self.application_id), "flags": APPLICATION_FLAGS},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "guild_join_requests": [],
                "user_settings": {},
                "geo_ordered_rtc_regions": ["standin"],
                "_trace": ["standin"],
            }
            await self._send(ws, self._frame("READY", ready, store=False))
            for guild in self.guilds:
                await self._send(ws, self._frame("GUILD_CREATE", guild.payload(), store=False))
            self._live_ws = ws
            self._live.set()

    async def _resume(self, ws: web.WebSocketResponse, data: JSON) -> None:
        self.resume_payloads.append(data)
        seq = int(data.get("seq") or 0)
        if data.get("session_id") != self.session_id or seq < self._evicted_seq:
            self.invalid_session_count += 1
            await self._send(ws, {"op": 9, "d": False, "s": None, "t": None})
            return
        # Held while a test runs a `disconnected()` block (bounded: at most a few timeouts).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._resumes_allowed.wait(), 3 * DEFAULT_TIMEOUT)
        async with self._send_lock:
            for number, frame in list(self._history):
                if number > seq:
                    await self._send(ws, frame)
                    self.replayed_count += 1
            await self._send(ws, self._frame("RESUMED", {"_trace": ["standin"]}, store=False))
            self.resume_count += 1
            self._live_ws = ws
            self._live.set()

    async def _request_members(self, ws: web.WebSocketResponse, data: JSON) -> None:
        try:
            guild = self._guild(int(data.get("guild_id") or 0))
        except KeyError:
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
            await self._send(ws, self._frame("GUILD_MEMBERS_CHUNK", chunk, store=True))
