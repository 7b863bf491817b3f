"""All the stand-in holds (its world, what it recorded, its gateway sessions: one per shard)
and the lookups in its world.

The stand-in is one class built in layers, each module adding one concern to the one below:
``state`` → ``gateway`` → ``faults`` and ``store`` → ``rest`` and ``events`` → ``server``
(:class:`DiscordStandIn`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yarl
from aiohttp import web

from tests.support.standin.models import (
    JSON,
    Channel,
    Guild,
    ThreadChannel,
    User,
    default_guild,
    shard_of,
    snowflake,
    snowflake_on_shard,
)
from tests.support.standin.wire import Request

if TYPE_CHECKING:  # faults.py builds on this module
    from tests.support.standin.faults import Fault

API_PREFIX = "/api/v10"
GATEWAY_PATH = "/gateway-ws"
RESUME_PATH = "/resume-ws"
# A ceiling for waits on the client, far above the milliseconds they take: a wait ends at
# what it waits for, and only a client that hangs meets the ceiling.
DEFAULT_TIMEOUT = 30.0


@dataclass(eq=False)
class Session:
    """One shard's gateway session: begun by an IDENTIFY, continued by RESUMEs.

    As on Discord, the sequence numbers and the history of events (replayed on RESUME) are
    the session's own; ``ws`` is the client's socket, None while it is disconnected.
    """

    shard_id: int
    shard_count: int
    session_id: str
    number: int  # 1 for the first IDENTIFY the stand-in saw, 2 for the next, ...
    history: deque[tuple[int, JSON]]
    sequence: int = 0
    evicted_seq: int = 0  # the newest sequence number no longer in the history
    ws: web.WebSocketResponse | None = None

    @property
    def live(self) -> bool:
        return self.ws is not None

    def owns(self, guild_id: int | None) -> bool:
        """Whether this shard gets the events of ``guild_id`` (None: of no server)."""
        return shard_of(guild_id, self.shard_count) == self.shard_id

    def frame(self, event: str, data: JSON, *, store: bool) -> JSON:
        """The next DISPATCH frame of this session; kept for a RESUME when ``store``."""
        self.sequence += 1
        frame: JSON = {"op": 0, "s": self.sequence, "t": event, "d": data}
        if store:
            if self.history.maxlen is not None and len(self.history) == self.history.maxlen:
                self.evicted_seq = self.history[0][0]
            self.history.append((self.sequence, frame))
        return frame


@dataclass(frozen=True)
class Delivery:
    """A DISPATCH event the stand-in sent (or buffered) to one shard's session."""

    shard_id: int
    session_id: str
    event: str
    sequence: int
    data: JSON = field(repr=False)


class StandInState:
    """The state of a stand-in and the lookups in its world (see :class:`DiscordStandIn`)."""

    def __init__(
        self,
        *,
        bot_user: User | None = None,
        admin: User | None = None,
        member: User | None = None,
        guilds: Sequence[Guild] | None = None,
        application_id: int | None = None,
        heartbeat_interval_ms: int = 1000,
        privileged_intents_enabled: bool = True,
        echo_bot_messages: bool = False,
        history_limit: int = 1000,
        request_limit: int | None = None,
        shard_count: int = 1,
    ) -> None:
        self.bot_user = bot_user or User(snowflake(), "newsbot", bot=True)
        self.admin = admin or User(snowflake(), "admin", global_name="Admin")
        self.member = member or User(snowflake(), "reader", global_name="Reader")
        # What GET /gateway/bot recommends, and how add_guild() places new guilds; events
        # go by the count each client identified with. The default guild is on shard 0.
        self.shard_count = shard_count
        first = snowflake_on_shard(0, shard_count)
        self.guilds: list[Guild] = list(
            guilds or [default_guild(self.bot_user, self.admin, self.member, guild_id=first)]
        )
        self.application_id = application_id or self.bot_user.id
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.privileged_intents_enabled = privileged_intents_enabled
        self.echo_bot_messages = echo_bot_messages

        # REST state. ``request_limit`` keeps only the newest requests and messages (soak
        # runs would otherwise grow without bound).
        self.request_limit = request_limit
        self.requests: deque[Request] = deque(maxlen=request_limit)
        self.messages: dict[int, JSON] = {}
        self.global_commands: list[JSON] = []
        self.guild_commands: dict[int, list[JSON]] = {}
        self.sync_count = 0  # bulk overwrites (PUT) of commands, global or guild
        self.internal_errors: list[str] = []
        self._interactions: dict[int, JSON] = {}
        self._tokens: dict[str, int] = {}
        self._acknowledged: set[int] = set()
        self._originals: dict[str, int] = {}  # interaction token -> message id of @original
        self._files: dict[str, tuple[bytes, str]] = {}
        self._dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self._dm_users: dict[int, User] = {}  # DM channel id -> user
        self._faults: list[Fault] = []
        self.faults_served = 0  # injected error responses sent so far
        self._waiters: list[tuple[Callable[[Request], bool], asyncio.Future[Request]]] = []
        self._in_flight = 0  # REST requests being handled now
        self._quiet = asyncio.Event()  # set while none is
        self._quiet.set()

        # Gateway state
        self.gateway_connections: list[str] = []  # path and query of each websocket
        self.gateway_received: list[JSON] = []  # every frame the client sent
        self.identify_payloads: list[JSON] = []
        self.resume_payloads: list[JSON] = []
        self.identify_count = 0
        self.resume_count = 0
        self.heartbeat_count = 0
        # (socket, sequence number, future): a heartbeat on the socket acknowledging it.
        self._beat_waiters: list[tuple[web.WebSocketResponse, int, asyncio.Future[None]]] = []
        self.invalid_session_count = 0
        self.intents: int | None = None
        self.history_limit = history_limit
        self._sessions: dict[int, Session] = {}  # by shard id: the newest IDENTIFY's
        self.deliveries: deque[Delivery] = deque(maxlen=request_limit)
        self._gateway_changed = asyncio.Event()  # set, and replaced, when a session changes
        self._send_lock = asyncio.Lock()
        self._resumes_allowed = asyncio.Event()
        self._resumes_allowed.set()
        self.replayed_count = 0  # events replayed on RESUMEs
        self._current_ws: web.WebSocketResponse | None = None  # the newest socket
        self._sockets: dict[web.WebSocketResponse, asyncio.Event] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

        self._runner: web.AppRunner | None = None
        self._port = 0
        self._saved_base: str | None = None
        self._saved_gateway: yarl.URL | None = None

    # ---------------------------------------------------------------- addresses

    @property
    def guild(self) -> Guild:
        return self.guilds[0]

    @property
    def channel(self) -> Channel:
        return self.guild.text_channel

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_base(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}{GATEWAY_PATH}"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}{RESUME_PATH}"

    # ---------------------------------------------------------------- gateway sessions

    def session(self, shard_id: int = 0) -> Session | None:
        """The session of shard ``shard_id`` (a client that did not shard is shard 0)."""
        return self._sessions.get(shard_id)

    @property
    def sessions(self) -> list[Session]:
        """Every shard's session, by shard id."""
        return [self._sessions[k] for k in sorted(self._sessions)]

    @property
    def session_id(self) -> str | None:
        """Shard 0's session id; None before any IDENTIFY."""
        session = self._sessions.get(0)
        return session.session_id if session is not None else None

    @property
    def sequence(self) -> int:
        """The last sequence number of shard 0's session (0 without one)."""
        session = self._sessions.get(0)
        return session.sequence if session is not None else 0

    def _owner(self, guild_id: int | None) -> Session | None:
        """The session that gets the events of ``guild_id`` (None: of no server)."""
        owners = [s for s in self._sessions.values() if s.owns(guild_id)]
        return max(owners, key=lambda s: s.number) if owners else None

    def _session_on(self, ws: web.WebSocketResponse) -> Session | None:
        return next((s for s in self._sessions.values() if s.ws is ws), None)

    def _announce(self) -> None:
        """Wake every wait on the sessions (one began, resumed or lost its socket)."""
        changed, self._gateway_changed = self._gateway_changed, asyncio.Event()
        changed.set()

    # ---------------------------------------------------------------- lookups

    def thread(self, thread_id: int) -> ThreadChannel | None:
        """The stored thread (mutable: archive or lock it, then announce with THREAD_UPDATE)."""
        found = self._locate_channel(thread_id)
        return found[1] if found is not None and isinstance(found[1], ThreadChannel) else None

    def _locate_channel(self, channel_id: int) -> tuple[Guild, Channel] | None:
        """The guild channel or thread with this id, and its guild."""
        for guild in self.guilds:
            channel = guild.channel(channel_id)
            if channel is not None:
                return guild, channel
        return None

    def _guild_id_for(self, guild_id: int | None, channel_id: int | None) -> int | None:
        """``guild_id``, else the guild of ``channel_id`` (a channel or thread), else None."""
        if guild_id is not None or channel_id is None:
            return guild_id
        found = self._locate_channel(channel_id)
        return found[0].id if found is not None else None

    def _count_thread_message(self, channel_id: int, message_id: int) -> None:
        found = self._locate_channel(channel_id)
        if found is not None and isinstance(found[1], ThreadChannel):
            thread = found[1]
            thread.message_count += 1
            thread.total_message_sent += 1
            thread.last_message_id = message_id

    def _guild(self, guild_id: int | None) -> Guild:
        if guild_id is None:
            return self.guild
        for guild in self.guilds:
            if guild.id == guild_id:
                return guild
        raise KeyError(f"unknown guild {guild_id}")

    def _all_users(self) -> Iterable[User]:
        yield self.bot_user
        yield self.admin
        yield self.member
        for guild in self.guilds:
            for member in guild.members:
                yield member.user
        yield from self._dm_users.values()

    def _user(self, user_id: int) -> User | None:
        return next((u for u in self._all_users() if u.id == user_id), None)

    def _dm_channel(self, user: User) -> int:
        if user.id not in self._dm_channels:
            channel_id = snowflake()
            self._dm_channels[user.id] = channel_id
            self._dm_users[channel_id] = user
        return self._dm_channels[user.id]

    def _dm_channel_payload(self, channel_id: int) -> JSON:
        user = self._dm_users[channel_id]
        return {
            "id": str(channel_id),
            "type": 1,
            "last_message_id": None,
            "recipients": [user.payload()],
            "flags": 0,
        }

    def _find_channel(self, channel_id: int) -> tuple[Guild | None, JSON] | None:
        for guild in self.guilds:
            channel = guild.channel(channel_id)
            if channel is not None:
                return guild, channel.payload(guild.id)
        if channel_id in self._dm_users:
            return None, self._dm_channel_payload(channel_id)
        return None

    def _mention_payload(self, user: User, guild: Guild | None) -> JSON:
        data = user.payload()
        member = guild.member(user.id) if guild is not None else None
        if member is not None:
            data["member"] = member.payload(with_user=False)
        return data
