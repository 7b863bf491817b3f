"""Fault injection: REST requests answered with an error instead of their handler (a 429
with the headers discord.py needs, or a 5xx), and gateway sockets dropped or told to
reconnect."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from tests.support.standin.gateway import Gateway
from tests.support.standin.state import DEFAULT_TIMEOUT
from tests.support.standin.wire import json_response


@dataclass
class Fault:
    """An error answered, instead of the handler, to the next ``remaining`` requests that
    match (``fail_next`` makes one; the REST middleware serves it)."""

    method: str
    pattern: re.Pattern[str]
    status: int
    retry_after: float
    remaining: int
    is_global: bool

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and self.pattern.search(path) is not None

    def response(self) -> web.Response:
        """The error as Discord sends it (a 429 with its rate-limit headers)."""
        if self.status == 429:
            bucket = hashlib.sha1(self.pattern.pattern.encode()).hexdigest()[:16]
            headers = {
                "Via": "1.1 google",
                "Retry-After": str(max(1, int(self.retry_after + 0.999))),
                "X-RateLimit-Limit": "1",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + self.retry_after:.3f}",
                "X-RateLimit-Reset-After": f"{self.retry_after:.3f}",
                "X-RateLimit-Bucket": bucket,
                "X-RateLimit-Scope": "global" if self.is_global else "user",
            }
            if self.is_global:
                headers["X-RateLimit-Global"] = "true"
            body = {
                "message": "You are being rate limited.",
                "retry_after": self.retry_after,
                "global": self.is_global,
            }
            return json_response(body, 429, headers)
        if self.status >= 500:
            return json_response(
                {"message": f"{self.status}: Internal Server Error", "code": 0}, self.status
            )
        return json_response(
            {"message": f"{self.status}: injected failure", "code": 0}, self.status
        )


class FaultInjection(Gateway):
    """The faults a test injects: failing REST requests, dropped gateway sockets."""

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int = 429,
        retry_after: float = 0.05,
        times: int = 1,
        *,
        is_global: bool = False,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` instead of handling them.

        ``method`` may be ``"*"``; ``path_regex`` is searched in the path relative to the REST
        base (``/interactions/1/tok/callback``). A 429 carries ``retry_after`` in its JSON body, a
        ``Via`` header (without it discord.py assumes a Cloudflare ban and raises) and
        ``X-RateLimit-*`` headers. discord.py retries 500/502/504 after 1 s, 3 s, ...
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        self._faults.append(
            Fault(method.upper(), re.compile(path_regex), status, retry_after, times, is_global)
        )

    async def drop_connection(
        self, code: int = 4000, *, shard: int = 0, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        """Close the websocket of shard ``shard``'s client with ``code`` (4000: discord.py
        RESUMEs); without a session, the newest socket's."""
        async with self._send_lock:
            session = self._sessions.get(shard)
            ws = session.ws if session is not None and session.ws is not None else None
            if session is not None:
                session.ws = None
            ws = ws or self._current_ws
        if ws is None:
            raise RuntimeError("no gateway connection to drop")
        closed = self._sockets.get(ws)
        with contextlib.suppress(ConnectionError):
            await asyncio.wait_for(ws.close(code=code, message=b"dropped by the stand-in"), timeout)
        if closed is not None:
            await asyncio.wait_for(closed.wait(), timeout)

    @contextlib.asynccontextmanager
    async def disconnected(
        self, code: int = 4000, *, shard: int = 0, timeout: float = DEFAULT_TIMEOUT
    ) -> AsyncIterator[None]:
        """Drop shard ``shard``'s connection and hold every RESUME until the block ends.

        Events dispatched inside the block are certainly missed by the client and replayed on
        RESUME; on exit, waits until the client has resumed (or identified again).
        """
        self._resumes_allowed.clear()
        try:
            await self.drop_connection(code, shard=shard, timeout=timeout)
            yield
        finally:
            self._resumes_allowed.set()
        await self.wait_ready(timeout, shard=shard)

    async def request_reconnect(self, *, shard: int = 0) -> None:
        """Send op 7 RECONNECT to shard ``shard``'s client: discord.py closes the socket and
        RESUMEs."""
        async with self._send_lock:
            session = self._sessions.get(shard)
            ws = session.ws if session is not None else None
            if session is None or ws is None:
                raise RuntimeError(f"no live gateway connection of shard {shard}")
            session.ws = None
            await self._send(ws, {"op": 7, "d": None, "s": None, "t": None})
