"""A local stand-in of the Discord API (REST and gateway) for end-to-end tests.

The REAL discord.py client talks to it: ``start()`` points ``discord.http.Route.BASE`` and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` at an aiohttp server on 127.0.0.1 (a random
free port) and ``stop()`` restores both. Typical use::

    async with DiscordStandIn() as api, api.running(MyBot(guild_ready_timeout=0.1)):
        interaction = api.slash_command("ask", {"question": "Wer?"})
        await api.dispatch("INTERACTION_CREATE", interaction)
        callback = await api.wait_for(lambda r: r.is_callback_for(interaction))
        assert "Wer?" in (callback.content or "")

Every REST request is recorded as a :class:`Request` (paths relative to the REST base, e.g.
``/interactions/1/tok/callback``; the file server's paths start with ``/attachments/``).
Requests answered with an injected fault are recorded too, with their status; the accessors
(``callbacks()``, ``followups()``, ...) only return successful requests.

Threads: the bot's ``create_thread`` calls (POST ``/channels/{id}/messages/{id}/threads`` and
``/channels/{id}/threads``) store a :class:`ThreadChannel` among the guild's channels and send
THREAD_CREATE before the REST answer; ``threads()`` and ``wait_thread()`` report them,
``message_create(..., channel_id=thread_id)`` injects a message in a thread, and
``create_thread()``, ``update_thread()``, ``delete_thread()`` act as other users would.

Close the client before the stand-in stops (``running()`` does): a client left connected would
try to reconnect to a closed port and log errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import mimetypes
import re
import secrets
import socket
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import discord
import discord.gateway
import discord.http
import yarl
from aiohttp import BodyPartReader, WSMsgType, web

__all__ = [
    "ADMINISTRATOR",
    "MANAGE_GUILD",
    "Attach",
    "Channel",
    "DiscordErrorLog",
    "DiscordStandIn",
    "Guild",
    "Member",
    "Request",
    "Role",
    "ThreadChannel",
    "UploadedFile",
    "User",
    "capture_discord_errors",
    "default_guild",
    "snowflake",
]

JSON = dict[str, Any]

API_PREFIX = "/api/v10"
GATEWAY_PATH = "/gateway-ws"
RESUME_PATH = "/resume-ws"
DISCORD_EPOCH_MS = 1_420_070_400_000
# A ceiling for waits on the client, far above the milliseconds they take: a wait ends at
# what it waits for, and only a client that hangs meets the ceiling.
DEFAULT_TIMEOUT = 30.0
# Names of the tasks in which discord.py runs event handlers, app commands and view callbacks.
_HANDLER_TASKS = ("discord.py: ", "CommandTree-invoker", "discord-ui-view-dispatch-")

# Permission bits (https://discord.com/developers/docs/topics/permissions).
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5  # 0x20
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
USE_EXTERNAL_EMOJIS = 1 << 18
USE_APPLICATION_COMMANDS = 1 << 31
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 51) - 1
EVERYONE_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_EXTERNAL_EMOJIS
    | USE_APPLICATION_COMMANDS
    | SEND_MESSAGES_IN_THREADS
)
# Intents that need the "privileged intents" switches: members, presences, message content.
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)
# Application flags of a small unverified bot with the privileged intents switched on.
APPLICATION_FLAGS = (1 << 13) | (1 << 15) | (1 << 19)

# Message flags.
HAS_THREAD = 1 << 5
EPHEMERAL = 1 << 6
LOADING = 1 << 7

# Channel types.
GUILD_TEXT = 0
GUILD_ANNOUNCEMENT = 5
ANNOUNCEMENT_THREAD = 10
PUBLIC_THREAD = 11
PRIVATE_THREAD = 12
THREAD_TYPES = (ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD)
ARCHIVE_DURATIONS = (60, 1440, 4320, 10080)  # minutes

CALLBACK_RE = re.compile(r"/interactions/(\d+)/([^/]+)/callback")
FOLLOWUP_RE = re.compile(r"/webhooks/(\d+)/([^/]+)")
WEBHOOK_MESSAGE_RE = re.compile(r"/webhooks/(\d+)/([^/]+)/messages/([^/]+)")
CHANNEL_MESSAGES_RE = re.compile(r"/channels/(\d+)/messages")
CHANNEL_MESSAGE_RE = re.compile(r"/channels/(\d+)/messages/(\d+)")
# Starting a thread: from a message, or without one (``/channels/{parent}/threads``).
THREAD_START_RE = re.compile(r"/channels/(\d+)/(?:messages/(\d+)/)?threads")
MENTION_RE = re.compile(r"<@!?(\d+)>")
ROLE_MENTION_RE = re.compile(r"<@&(\d+)>")

_log = logging.getLogger("tests.standin")
_last_snowflake = 0
_active: DiscordStandIn | None = None


def snowflake() -> int:
    """A new Discord-style id: increasing, unique within the process, timestamped now."""
    global _last_snowflake
    candidate = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
    _last_snowflake = max(candidate, _last_snowflake + 1)
    return _last_snowflake


def _now() -> str:
    return datetime.now(UTC).isoformat()


# --------------------------------------------------------------------------------------------
# The world: users, roles, channels, members, guilds
# --------------------------------------------------------------------------------------------


@dataclass
class User:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> JSON:
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
        }


@dataclass
class Role:
    id: int
    name: str
    permissions: int = 0
    position: int = 0

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    def payload(self) -> JSON:
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": False,
            "mentionable": True,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }


@dataclass
class Channel:
    id: int
    name: str
    type: int = 0  # 0 = guild text channel
    position: int = 0
    topic: str | None = None

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def payload(self, guild_id: int) -> JSON:
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [],
            "parent_id": None,
            "topic": self.topic,
            "nsfw": False,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }


@dataclass(kw_only=True)
class ThreadChannel(Channel):
    """A thread (type 11 public, 12 private, 10 in an announcement channel) in a guild.

    Stored among its guild's ``channels`` (so channel lookups find it); GUILD_CREATE lists the
    active ones under ``threads``. A thread started from a message has that message's id.
    """

    type: int = PUBLIC_THREAD
    parent_id: int
    owner_id: int
    auto_archive_duration: int = 1440
    archived: bool = False
    locked: bool = False
    invitable: bool = True
    rate_limit_per_user: int = 0
    message_count: int = 0  # messages in the thread, without the starter message
    total_message_sent: int = 0
    member_count: int = 1  # the creator joins
    last_message_id: int | None = None
    created_at: str = field(default_factory=_now)
    archive_timestamp: str = field(default_factory=_now)  # last change of ``archived``

    def payload(self, guild_id: int) -> JSON:
        metadata: JSON = {
            "archived": self.archived,
            "auto_archive_duration": self.auto_archive_duration,
            "archive_timestamp": self.archive_timestamp,
            "locked": self.locked,
            "create_timestamp": self.created_at,
        }
        if self.type == PRIVATE_THREAD:
            metadata["invitable"] = self.invitable
        return {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(guild_id),
            "parent_id": str(self.parent_id),
            "owner_id": str(self.owner_id),
            "name": self.name,
            "last_message_id": None if self.last_message_id is None else str(self.last_message_id),
            "rate_limit_per_user": self.rate_limit_per_user,
            "message_count": self.message_count,
            "total_message_sent": self.total_message_sent,
            "member_count": self.member_count,
            "thread_metadata": metadata,
            "flags": 0,
        }


@dataclass
class Member:
    user: User
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=_now)

    def payload(self, *, with_user: bool = True, roles: Sequence[int] | None = None) -> JSON:
        data: JSON = {
            "roles": [str(r) for r in (self.roles if roles is None else roles)],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        return data


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    channels: list[Channel] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)  # must contain @everyone (id == guild id)
    members: list[Member] = field(default_factory=list)

    @property
    def text_channel(self) -> Channel:
        return next(c for c in self.channels if c.type == 0)

    @property
    def threads(self) -> list[ThreadChannel]:
        return [c for c in self.channels if isinstance(c, ThreadChannel)]

    def channel(self, channel_id: int) -> Channel | None:
        """A channel or thread of this guild."""
        return next((c for c in self.channels if c.id == channel_id), None)

    def thread(self, thread_id: int) -> ThreadChannel | None:
        channel = self.channel(thread_id)
        return channel if isinstance(channel, ThreadChannel) else None

    def member(self, user_id: int) -> Member | None:
        return next((m for m in self.members if m.user.id == user_id), None)

    def role(self, name: str) -> Role:
        return next(r for r in self.roles if r.name == name)

    def permissions_for(self, user_id: int, role_ids: Sequence[int] | None = None) -> int:
        """Guild-level permissions: @everyone plus the roles; everything for owner or admin."""
        if user_id == self.owner_id:
            return ALL_PERMISSIONS
        if role_ids is None:
            member = self.member(user_id)
            role_ids = member.roles if member is not None else []
        wanted = {self.id, *role_ids}
        value = 0
        for role in self.roles:
            if role.id in wanted:
                value |= role.permissions
        return ALL_PERMISSIONS if value & ADMINISTRATOR else value

    def payload(self) -> JSON:
        """The GUILD_CREATE payload."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [r.payload() for r in self.roles],
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "joined_at": _now(),
            "large": False,
            "unavailable": False,
            # member_count == len(members) makes the guild "chunked": no member request needed.
            "member_count": len(self.members),
            "voice_states": [],
            "members": [m.payload() for m in self.members],
            "channels": [
                c.payload(self.id) for c in self.channels if not isinstance(c, ThreadChannel)
            ],
            "threads": [t.payload(self.id) for t in self.threads if not t.archived],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "application_id": None,
            "max_members": 500_000,
            "max_video_channel_users": 25,
            "lazy": True,
        }


def default_guild(bot: User, admin: User, member: User) -> Guild:
    """One guild with a text channel, @everyone, a Moderator role (Manage Guild), three members.

    The admin owns the guild and has the Moderator role; the member only has @everyone.
    """
    guild_id = snowflake()
    everyone = Role(guild_id, "@everyone", EVERYONE_PERMISSIONS, 0)
    moderator = Role(snowflake(), "Moderator", MANAGE_GUILD | MANAGE_MESSAGES, 2)
    bot_role = Role(snowflake(), bot.username, EVERYONE_PERMISSIONS, 1)
    return Guild(
        id=guild_id,
        name="Stand-in Guild",
        owner_id=admin.id,
        channels=[Channel(snowflake(), "news", 0, 0, "News questions")],
        roles=[everyone, bot_role, moderator],
        members=[
            Member(bot, [bot_role.id]),
            Member(admin, [moderator.id]),
            Member(member, []),
        ],
    )


@dataclass(frozen=True)
class Attach:
    """A file for an attachment option or an injected message; served by the stand-in."""

    filename: str
    data: bytes
    content_type: str | None = None


OptionValue = str | int | float | bool | User | Role | Channel | Attach
Options = Mapping[str, OptionValue] | Sequence[JSON] | None


# --------------------------------------------------------------------------------------------
# Recorded requests
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadedFile:
    field: str  # the multipart field name, e.g. "files[0]"
    filename: str
    content_type: str
    data: bytes


@dataclass
class Request:
    method: str
    path: str  # relative to the REST base, e.g. "/channels/1/messages"
    query: dict[str, str]
    json: Any  # the JSON body, or a multipart body's payload_json; None when absent
    files: list[UploadedFile] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 0
    response: Any = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def content(self) -> str | None:
        """The message content sent: ``data.content`` for callbacks, else ``content``."""
        if not isinstance(self.json, dict):
            return None
        inner = self.json.get("data")
        source = inner if isinstance(inner, dict) and "type" in self.json else self.json
        value = source.get("content")
        return value if isinstance(value, str) else None

    def is_callback_for(self, interaction: Mapping[str, Any]) -> bool:
        match = CALLBACK_RE.fullmatch(self.path)
        return (
            self.ok
            and self.method == "POST"
            and match is not None
            and match.group(1) == str(interaction["id"])
        )

    def is_followup_for(self, interaction: Mapping[str, Any]) -> bool:
        match = FOLLOWUP_RE.fullmatch(self.path)
        return (
            self.ok
            and self.method == "POST"
            and match is not None
            and match.group(2) == str(interaction["token"])
        )

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    retry_after: float
    remaining: int
    is_global: bool

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and self.pattern.search(path) is not None

    def response(self) -> web.Response:
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
            return _json(body, 429, headers)
        if self.status >= 500:
            return _json(
                {"message": f"{self.status}: Internal Server Error", "code": 0}, self.status
            )
        return _json({"message": f"{self.status}: injected failure", "code": 0}, self.status)


# Where the middleware leaves the parsed body for the handlers (a multipart body reads once).
_JSON_KEY: web.RequestKey[Any] = web.RequestKey("standin_json", object)
_FILES_KEY: web.RequestKey[list[UploadedFile]] = web.RequestKey("standin_files", list)


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    # Exactly "application/json": discord.py treats "application/json; charset=utf-8" as text.
    all_headers = {"Content-Type": "application/json"}
    if headers:
        all_headers.update(headers)
    return web.Response(status=status, body=json.dumps(data).encode(), headers=all_headers)


def _error(status: int, message: str, code: int) -> web.Response:
    return _json({"message": message, "code": code}, status)


def _form_error(field_name: str, message: str) -> web.Response:
    errors = {field_name: {"_errors": [{"code": "BASE_TYPE_BAD_VALUE", "message": message}]}}
    return _json({"message": "Invalid Form Body", "code": 50035, "errors": errors}, 400)


# --------------------------------------------------------------------------------------------
# discord.py error capture (errors in handlers are otherwise only logged)
# --------------------------------------------------------------------------------------------


class DiscordErrorLog(logging.Handler):
    """Collects ERROR records of the ``discord`` loggers."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def report(self) -> str:
        formatter = logging.Formatter("%(name)s %(levelname)s: %(message)s")
        return "\n".join(formatter.format(r) for r in self.records)


@contextlib.contextmanager
def capture_discord_errors() -> Iterator[DiscordErrorLog]:
    logger = logging.getLogger("discord")
    handler = DiscordErrorLog()
    old_level = logger.level
    if not logger.isEnabledFor(logging.ERROR):
        logger.setLevel(logging.ERROR)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


# --------------------------------------------------------------------------------------------
# The stand-in
# --------------------------------------------------------------------------------------------


class DiscordStandIn:
    """REST API, gateway websocket and file server of Discord, on 127.0.0.1."""

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
    ) -> None:
        self.bot_user = bot_user or User(snowflake(), "newsbot", bot=True)
        self.admin = admin or User(snowflake(), "admin", global_name="Admin")
        self.member = member or User(snowflake(), "reader", global_name="Reader")
        self.guilds: list[Guild] = list(
            guilds or [default_guild(self.bot_user, self.admin, self.member)]
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
        self._faults: list[_Fault] = []
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
        self._beat_waiters: list[tuple[int, asyncio.Future[None]]] = []
        self.invalid_session_count = 0
        self.intents: int | None = None
        self.session_id: str | None = None
        self.sequence = 0
        self._history: deque[tuple[int, JSON]] = deque(maxlen=history_limit)
        self._evicted_seq = 0
        self._send_lock = asyncio.Lock()
        self._live = asyncio.Event()
        self._resumes_allowed = asyncio.Event()
        self._resumes_allowed.set()
        self.replayed_count = 0  # events replayed on RESUMEs
        self._live_ws: web.WebSocketResponse | None = None
        self._current_ws: web.WebSocketResponse | None = None
        self._sockets: dict[web.WebSocketResponse, asyncio.Event] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

        self._runner: web.AppRunner | None = None
        self._port = 0
        self._saved_base: str | None = None
        self._saved_gateway: yarl.URL | None = None

    # ---------------------------------------------------------------- lifecycle

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
            match = CHANNEL_MESSAGES_RE.fullmatch(request.path)
            return (
                request.ok
                and request.method == "POST"
                and match is not None
                and (channel_id is None or match.group(1) == str(channel_id))
            )

        return await self.wait_for(wanted, timeout)

    async def wait_thread(
        self, timeout: float = DEFAULT_TIMEOUT, *, parent_id: int | None = None
    ) -> Request:
        """The first successful thread start (from a message or not), in ``parent_id`` if given.

        The request's ``response`` is the thread's channel JSON as sent to the client.
        """

        def wanted(request: Request) -> bool:
            match = THREAD_START_RE.fullmatch(request.path)
            return (
                request.ok
                and request.method == "POST"
                and match is not None
                and (parent_id is None or match.group(1) == str(parent_id))
            )

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

    def describe(self, last: int = 40) -> str:
        lines = [f"  {r}" for r in list(self.requests)[-last:]]
        return "\n".join(lines) or "  (no requests)"

    def _successful(self, method: str, pattern: re.Pattern[str]) -> list[Request]:
        return [
            r for r in self.requests if r.ok and r.method == method and pattern.fullmatch(r.path)
        ]

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

    def thread(self, thread_id: int) -> ThreadChannel | None:
        """The stored thread (mutable: archive or lock it, then announce with THREAD_UPDATE)."""
        found = self._locate_channel(thread_id)
        return found[1] if found is not None and isinstance(found[1], ThreadChannel) else None

    def commands(self, guild_id: int | None = None) -> list[JSON]:
        """The commands synced globally (``guild_id=None``) or to one guild."""
        if guild_id is None:
            return list(self.global_commands)
        return list(self.guild_commands.get(guild_id, []))

    def original(self, interaction: Mapping[str, Any]) -> JSON | None:
        """The current state of an interaction's original response message."""
        message_id = self._originals.get(str(interaction["token"]))
        return None if message_id is None else self.messages.get(message_id)

    def add_attachment(self, name: str, data: bytes, content_type: str | None = None) -> str:
        """Serve ``data`` at the returned URL (GET /attachments/{name})."""
        guessed = mimetypes.guess_type(name)[0]
        self._files[name] = (data, content_type or guessed or "application/octet-stream")
        return f"{self.base_url}/attachments/{quote(name)}"

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
            _Fault(method.upper(), re.compile(path_regex), status, retry_after, times, is_global)
        )

    # ---------------------------------------------------------------- gateway control

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

    async def drop_connection(self, code: int = 4000, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Close the client's websocket with ``code`` (4000: discord.py RESUMEs)."""
        async with self._send_lock:
            ws = self._live_ws or self._current_ws
            self._live_ws = None
            self._live.clear()
        if ws is None:
            raise RuntimeError("no gateway connection to drop")
        closed = self._sockets.get(ws)
        with contextlib.suppress(ConnectionError):
            await asyncio.wait_for(ws.close(code=code, message=b"dropped by the stand-in"), timeout)
        if closed is not None:
            await asyncio.wait_for(closed.wait(), timeout)

    @contextlib.asynccontextmanager
    async def disconnected(
        self, code: int = 4000, *, timeout: float = DEFAULT_TIMEOUT
    ) -> AsyncIterator[None]:
        """Drop the connection and hold the client's RESUME until the block ends.

        Events dispatched inside the block are certainly missed by the client and replayed on
        RESUME; on exit, waits until the client has resumed (or identified again).
        """
        self._resumes_allowed.clear()
        try:
            await self.drop_connection(code, timeout=timeout)
            yield
        finally:
            self._resumes_allowed.set()
        await self.wait_ready(timeout)

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT: discord.py closes the socket and RESUMEs."""
        async with self._send_lock:
            ws = self._live_ws
            self._live_ws = None
            self._live.clear()
            if ws is None:
                raise RuntimeError("no live gateway connection")
            await self._send(ws, {"op": 7, "d": None, "s": None, "t": None})

    # ---------------------------------------------------------------- payload builders

    def slash_command(
        self,
        name: str,
        options: Options = None,
        *,
        user: User | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        permissions: str | int | None = None,
        member_roles: Sequence[int] | None = None,
        locale: str = "en-US",
        dm: bool = False,
    ) -> JSON:
        """INTERACTION_CREATE of type 2 (chat input command).

        ``name`` may name a subcommand: ``"news latest"`` or ``"admin feeds add"``. ``options``
        maps option names to values (str, int, float, bool, User, Role, Channel, Attach; the type
        is inferred) or is a list of raw option objects. ``data.id`` and ``data.guild_id`` come
        from the synced commands when the command was synced.
        """
        guild = None if dm else self._guild(self._guild_id_for(guild_id, channel_id))
        resolved: JSON = {}
        encoded = self._encode_options(options, resolved, guild)
        parts = name.split()
        if len(parts) == 2:
            encoded = [{"name": parts[1], "type": 1, "options": encoded}]
        elif len(parts) == 3:
            sub = {"name": parts[2], "type": 1, "options": encoded}
            encoded = [{"name": parts[1], "type": 2, "options": [sub]}]
        elif len(parts) != 1:
            raise ValueError(f"bad command name {name!r}")
        data: JSON = {"id": None, "name": parts[0], "type": 1, "options": encoded}
        self._identify_command(data, guild)
        if resolved:
            data["resolved"] = resolved
        return self._interaction(
            2,
            data,
            user=user,
            guild=guild,
            channel_id=channel_id,
            permissions=permissions,
            member_roles=member_roles,
            locale=locale,
        )

    def dm_slash_command(
        self,
        name: str,
        options: Options = None,
        *,
        user: User | None = None,
        locale: str = "en-US",
    ) -> JSON:
        """A slash command used in the bot's DMs: no guild, ``user`` instead of ``member``."""
        return self.slash_command(name, options, user=user, locale=locale, dm=True)

    def autocomplete(
        self,
        name: str,
        focused: str,
        value: str = "",
        options: Options = None,
        *,
        focused_type: int = 3,
        user: User | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        dm: bool = False,
    ) -> JSON:
        """INTERACTION_CREATE of type 4: the user is typing ``value`` into option ``focused``."""
        payload = self.slash_command(
            name, options, user=user, guild_id=guild_id, channel_id=channel_id, dm=dm
        )
        payload["type"] = 4
        options_list: list[JSON] = payload["data"]["options"]
        while options_list and options_list[0].get("type") in (1, 2):
            options_list = options_list[0]["options"]
        options_list.append(
            {"name": focused, "type": focused_type, "value": value, "focused": True}
        )
        return payload

    def button_click(
        self,
        custom_id: str,
        message: Mapping[str, Any] | int | None = None,
        *,
        user: User | None = None,
        component_type: int = 2,
        values: Sequence[str] | None = None,
        permissions: str | int | None = None,
    ) -> JSON:
        """INTERACTION_CREATE of type 3 (component).

        ``message`` is the message the component is on: a message object, the id of a message
        the stand-in knows, or None for the latest known message with that custom_id (a bot
        message with such a button is made up when there is none; discord.py's DynamicItem
        ignores clicks whose message lacks the component).
        """
        found = self._component_message(custom_id, message, component_type)
        data: JSON = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = list(values)
        guild_id = found.get("guild_id")
        guild = self._guild(int(guild_id)) if guild_id is not None else None
        return self._interaction(
            3,
            data,
            user=user,
            guild=guild,
            channel_id=int(found["channel_id"]),
            permissions=permissions,
            member_roles=None,
            locale="en-US",
            message=dict(found),
        )

    def select_menu(
        self,
        custom_id: str,
        values: Sequence[str],
        message: Mapping[str, Any] | int | None = None,
        *,
        user: User | None = None,
    ) -> JSON:
        """A string select (component type 3) choosing ``values``."""
        return self.button_click(custom_id, message, user=user, component_type=3, values=values)

    def message_create(
        self,
        content: str,
        *,
        author: User | None = None,
        channel_id: int | None = None,
        guild_id: int | None = None,
        mentions: Sequence[User] | None = None,
        mention_roles: Sequence[int] | None = None,
        attachments: Sequence[Attach] = (),
        reply_to: Mapping[str, Any] | int | None = None,
        mention_everyone: bool = False,
        dm: bool = False,
    ) -> JSON:
        """A MESSAGE_CREATE payload (stored, so replies to it resolve).

        ``mentions`` and ``mention_roles`` default to what the content mentions (``<@id>``,
        ``<@&id>``), as Discord computes them. ``channel_id`` may be a thread's id (the guild is
        then the thread's); the thread's message count is updated.
        """
        author = author or self.member
        if mentions is None:
            found = (self._user(int(m.group(1))) for m in MENTION_RE.finditer(content))
            mentions = [u for u in found if u is not None]
        if mention_roles is None:
            mention_roles = [int(m.group(1)) for m in ROLE_MENTION_RE.finditer(content)]
        message_id = snowflake()
        data: JSON = {
            "id": str(message_id),
            "type": 0,
            "content": content,
            "author": author.payload(),
            "attachments": [
                self._store_file(a.filename, a.data, a.content_type) for a in attachments
            ],
            "embeds": [],
            "components": [],
            "mention_roles": [str(r) for r in mention_roles],
            "mention_everyone": mention_everyone,
            "pinned": False,
            "tts": False,
            "timestamp": _now(),
            "edited_timestamp": None,
            "flags": 0,
            "nonce": str(message_id),
        }
        if dm:
            data["channel_id"] = str(self._dm_channel(author))
            data["mentions"] = [u.payload() for u in mentions]
        else:
            guild = self._guild(self._guild_id_for(guild_id, channel_id))
            channel = channel_id or guild.text_channel.id
            self._count_thread_message(channel, message_id)
            guild_member = guild.member(author.id) or Member(author)
            data.update(
                channel_id=str(channel),
                guild_id=str(guild.id),
                member=guild_member.payload(with_user=False),
                mentions=[self._mention_payload(u, guild) for u in mentions],
            )
        if reply_to is not None:
            target = self.messages[reply_to] if isinstance(reply_to, int) else dict(reply_to)
            data["type"] = 19
            data["message_reference"] = {
                "type": 0,
                "message_id": target["id"],
                "channel_id": target["channel_id"],
                **({"guild_id": target["guild_id"]} if "guild_id" in target else {}),
            }
            data["referenced_message"] = target
        self.messages[message_id] = data
        return data

    async def create_thread(
        self,
        name: str,
        parent_id: int | None = None,
        *,
        owner: User | None = None,
        message_id: int | None = None,
        thread_type: int = PUBLIC_THREAD,
        auto_archive_duration: int = 1440,
    ) -> JSON:
        """A thread someone else (``owner``, default: the member) started; THREAD_CREATE sent.

        ``parent_id`` defaults to the first guild's text channel; with ``message_id`` the thread
        is started from that stored message (and takes its id), as Discord does.
        """
        found = self._locate_channel(parent_id or self.channel.id)
        if found is None:
            raise KeyError(f"unknown channel {parent_id}")
        guild, parent = found
        if message_id is not None and message_id not in self.messages:
            raise KeyError(f"unknown message {message_id}")
        thread = ThreadChannel(
            id=message_id or snowflake(),
            name=name,
            type=thread_type,
            parent_id=parent.id,
            owner_id=(owner or self.member).id,
            auto_archive_duration=auto_archive_duration,
        )
        return await self._add_thread(guild, thread)

    async def update_thread(
        self,
        thread_id: int,
        *,
        name: str | None = None,
        archived: bool | None = None,
        locked: bool | None = None,
    ) -> JSON:
        """Change a thread as a moderator would; THREAD_UPDATE sent. Returns the new JSON."""
        found = self._locate_channel(thread_id)
        if found is None or not isinstance(found[1], ThreadChannel):
            raise KeyError(f"unknown thread {thread_id}")
        changes = {"name": name, "archived": archived, "locked": locked}
        body = {key: value for key, value in changes.items() if value is not None}
        return await self._change_thread(found[0], found[1], body)

    async def delete_thread(self, thread_id: int) -> None:
        """Delete a thread as a moderator would; THREAD_DELETE sent."""
        found = self._locate_channel(thread_id)
        if found is None or not isinstance(found[1], ThreadChannel):
            raise KeyError(f"unknown thread {thread_id}")
        await self._remove_thread(found[0], found[1])

    # ---------------------------------------------------------------- builder helpers

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

    def _identify_command(self, data: JSON, guild: Guild | None) -> None:
        """Fill data.id (and data.guild_id for guild commands) from the synced commands."""
        name = data["name"]
        if guild is not None:
            for command in self.guild_commands.get(guild.id, []):
                if command["name"] == name and command.get("type", 1) == 1:
                    data["id"] = command["id"]
                    data["guild_id"] = str(guild.id)
                    return
        for command in self.global_commands:
            if command["name"] == name and command.get("type", 1) == 1:
                data["id"] = command["id"]
                return
        data["id"] = str(snowflake())

    def _encode_options(self, options: Options, resolved: JSON, guild: Guild | None) -> list[JSON]:
        if options is None:
            return []
        if not isinstance(options, Mapping):
            return [dict(o) for o in options]
        encoded: list[JSON] = []
        for name, value in options.items():
            option: JSON = {"name": name}
            if isinstance(value, bool):
                option.update(type=5, value=value)
            elif isinstance(value, int):
                option.update(type=4, value=value)
            elif isinstance(value, float):
                option.update(type=10, value=value)
            elif isinstance(value, str):
                option.update(type=3, value=value)
            elif isinstance(value, User):
                option.update(type=6, value=str(value.id))
                resolved.setdefault("users", {})[str(value.id)] = value.payload()
                member = guild.member(value.id) if guild is not None else None
                if guild is not None and member is not None:
                    member_data = member.payload(with_user=False)
                    member_data["permissions"] = str(guild.permissions_for(value.id, member.roles))
                    resolved.setdefault("members", {})[str(value.id)] = member_data
            elif isinstance(value, Role):
                option.update(type=8, value=str(value.id))
                resolved.setdefault("roles", {})[str(value.id)] = value.payload()
            elif isinstance(value, Channel):
                option.update(type=7, value=str(value.id))
                channel_data = value.payload(guild.id if guild is not None else 0)
                channel_data["permissions"] = str(ALL_PERMISSIONS)
                resolved.setdefault("channels", {})[str(value.id)] = channel_data
            elif isinstance(value, Attach):
                attachment = self._store_file(value.filename, value.data, value.content_type)
                option.update(type=11, value=attachment["id"])
                resolved.setdefault("attachments", {})[attachment["id"]] = attachment
            else:
                raise TypeError(f"unsupported option value for {name!r}: {value!r}")
            encoded.append(option)
        return encoded

    def _interaction(
        self,
        type_: int,
        data: JSON,
        *,
        user: User | None,
        guild: Guild | None,
        channel_id: int | None,
        permissions: str | int | None,
        member_roles: Sequence[int] | None,
        locale: str,
        message: JSON | None = None,
    ) -> JSON:
        user = user or self.member
        interaction_id = snowflake()
        token = f"standin-{secrets.token_hex(24)}"
        payload: JSON = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": type_,
            "data": data,
            "token": token,
            "version": 1,
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if guild is not None:
            channel = guild.channel(channel_id) if channel_id else guild.text_channel
            channel_data = (
                channel.payload(guild.id)
                if channel is not None
                else {"id": str(channel_id), "type": 0, "guild_id": str(guild.id)}
            )
            member = guild.member(user.id) or Member(user)
            roles = list(member_roles) if member_roles is not None else member.roles
            perms = (
                permissions if permissions is not None else guild.permissions_for(user.id, roles)
            )
            app_perms = str(guild.permissions_for(self.bot_user.id))
            channel_data["permissions"] = str(perms)
            member_data = member.payload(roles=roles)
            member_data["permissions"] = str(perms)
            payload.update(
                guild_id=str(guild.id),
                guild={"id": str(guild.id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                channel_id=channel_data["id"],
                channel=channel_data,
                member=member_data,
                app_permissions=app_perms,
                context=0,
                authorizing_integration_owners={"0": str(guild.id)},
            )
        else:
            dm_channel = channel_id or self._dm_channel(user)
            self._dm_users.setdefault(dm_channel, user)
            payload.update(
                channel_id=str(dm_channel),
                channel=self._dm_channel_payload(dm_channel),
                user=user.payload(),
                app_permissions=str(EVERYONE_PERMISSIONS),
                context=1,
                authorizing_integration_owners={"0": "0"},
            )
        if message is not None:
            payload["message"] = message
        self._interactions[interaction_id] = payload
        if self.request_limit is not None and len(self._interactions) > self.request_limit:
            del self._interactions[next(iter(self._interactions))]
        self._tokens[token] = interaction_id
        return payload

    def _component_message(
        self, custom_id: str, message: Mapping[str, Any] | int | None, component_type: int
    ) -> JSON:
        if isinstance(message, int):
            return self.messages[message]
        if message is not None:
            return dict(message)
        for stored in reversed(list(self.messages.values())):
            if _has_custom_id(stored.get("components", []), custom_id):
                return stored
        component: JSON = {"type": component_type, "custom_id": custom_id}
        if component_type == 2:
            component.update(style=1, label=custom_id)
        else:
            component.update(options=[], min_values=1, max_values=1)
        return self._new_message(
            self.channel.id,
            self.guild.id,
            {"content": "", "components": [{"type": 1, "components": [component]}]},
            [],
        )

    def _store_file(self, filename: str, data: bytes, content_type: str | None) -> JSON:
        attachment_id = snowflake()
        url = self.add_attachment(f"{attachment_id}/{filename}", data, content_type)
        return {
            "id": str(attachment_id),
            "filename": filename,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": self._files[f"{attachment_id}/{filename}"][1],
        }

    # ---------------------------------------------------------------- messages

    def _new_message(
        self,
        channel_id: int,
        guild_id: int | None,
        body: Mapping[str, Any],
        files: Sequence[UploadedFile],
        *,
        webhook: bool = False,
        message_type: int = 0,
    ) -> JSON:
        message_id = snowflake()
        content = body.get("content")
        message: JSON = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "author": self.bot_user.payload(),
            "content": content if isinstance(content, str) else "",
            "embeds": list(body.get("embeds") or []),
            "components": list(body.get("components") or []),
            "attachments": self._attachments(body, files, []),
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": bool(body.get("tts")),
            "timestamp": _now(),
            "edited_timestamp": None,
            "type": message_type,
            "flags": int(body.get("flags") or 0),
        }
        if guild_id is not None:
            message["guild_id"] = str(guild_id)
            if not message["flags"] & EPHEMERAL:
                self._count_thread_message(channel_id, message_id)
        if webhook:
            message["webhook_id"] = str(self.application_id)
            message["application_id"] = str(self.application_id)
        if body.get("poll"):
            message["poll"] = body["poll"]
        reference = body.get("message_reference")
        if isinstance(reference, Mapping) and reference.get("message_id"):
            referenced = self.messages.get(int(reference["message_id"]))
            message["type"] = 19
            message["message_reference"] = {
                "type": 0,
                "message_id": str(reference["message_id"]),
                "channel_id": str(reference.get("channel_id") or channel_id),
                **({"guild_id": str(guild_id)} if guild_id is not None else {}),
            }
            if referenced is not None:
                message["referenced_message"] = referenced
        self._fill_mentions(message)
        self.messages[message_id] = message
        if self.echo_bot_messages and not message["flags"] & EPHEMERAL:
            self._spawn(self.dispatch("MESSAGE_CREATE", dict(message)))
        return message

    def _edit_message(
        self, message: JSON, body: Mapping[str, Any], files: Sequence[UploadedFile]
    ) -> JSON:
        for key in ("content", "embeds", "components", "poll"):
            if key in body:
                value = body[key]
                message[key] = value if value is not None else ("" if key == "content" else [])
        if "flags" in body and body["flags"] is not None:
            message["flags"] = int(body["flags"]) | (message["flags"] & EPHEMERAL)
        message["flags"] &= ~LOADING
        if "attachments" in body or files:
            message["attachments"] = self._attachments(body, files, message["attachments"])
        message["edited_timestamp"] = _now()
        self._fill_mentions(message)
        return message

    def _attachments(
        self, body: Mapping[str, Any], files: Sequence[UploadedFile], existing: Sequence[JSON]
    ) -> list[JSON]:
        uploaded = {f.field: f for f in files}
        by_id = {str(a["id"]): a for a in existing}
        result: list[JSON] = []
        listed = body.get("attachments")
        if isinstance(listed, list):
            for item in listed:
                key = str(item.get("id"))
                upload = uploaded.pop(f"files[{key}]", None)
                if upload is not None:
                    result.append(
                        self._store_file(
                            item.get("filename") or upload.filename,
                            upload.data,
                            upload.content_type,
                        )
                    )
                elif key in by_id:
                    result.append(by_id[key])
        else:
            result.extend(existing)
        for upload in uploaded.values():  # files not listed in "attachments"
            result.append(self._store_file(upload.filename, upload.data, upload.content_type))
        return result

    def _fill_mentions(self, message: JSON) -> None:
        guild_id = message.get("guild_id")
        known = {g.id for g in self.guilds}
        # A forged interaction may name a server the stand-in does not have.
        guild = (
            self._guild(int(guild_id)) if guild_id is not None and int(guild_id) in known else None
        )
        mentions = []
        for match in MENTION_RE.finditer(message.get("content") or ""):
            user = self._user(int(match.group(1)))
            if user is not None:
                mentions.append(self._mention_payload(user, guild))
        message["mentions"] = mentions

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---------------------------------------------------------------- HTTP plumbing

    def _add_routes(self, app: web.Application) -> None:
        p = API_PREFIX
        r = app.router
        r.add_get(GATEWAY_PATH, self._gateway)
        r.add_get(RESUME_PATH, self._gateway)
        r.add_get("/attachments/{name:.+}", self._get_attachment)
        r.add_get(p + "/users/@me", self._get_me)
        r.add_post(p + "/users/@me/channels", self._create_dm)
        r.add_get(p + "/users/{user_id}", self._get_user)
        r.add_get(p + "/oauth2/applications/@me", self._get_application)
        r.add_get(p + "/applications/@me", self._get_application)
        r.add_get(p + "/gateway", self._get_gateway)
        r.add_get(p + "/gateway/bot", self._get_gateway_bot)
        for base in (p + "/applications/{app}", p + "/applications/{app}/guilds/{guild}"):
            r.add_put(base + "/commands", self._put_commands)
            r.add_get(base + "/commands", self._get_commands)
            r.add_post(base + "/commands", self._post_command)
            r.add_delete(base + "/commands/{command_id}", self._delete_command)
        r.add_post(p + "/interactions/{interaction_id}/{token}/callback", self._callback)
        r.add_post(p + "/webhooks/{app}/{token}", self._post_followup)
        r.add_get(p + "/webhooks/{app}/{token}/messages/{message_id}", self._get_webhook_message)
        r.add_patch(
            p + "/webhooks/{app}/{token}/messages/{message_id}", self._patch_webhook_message
        )
        r.add_delete(
            p + "/webhooks/{app}/{token}/messages/{message_id}", self._delete_webhook_message
        )
        r.add_get(p + "/channels/{channel_id}", self._get_channel)
        r.add_patch(p + "/channels/{channel_id}", self._patch_channel)
        r.add_delete(p + "/channels/{channel_id}", self._delete_channel)
        r.add_post(p + "/channels/{channel_id}/threads", self._start_thread)
        r.add_post(p + "/channels/{channel_id}/messages/{message_id}/threads", self._start_thread)
        r.add_put(p + "/channels/{channel_id}/thread-members/@me", self._thread_membership)
        r.add_delete(p + "/channels/{channel_id}/thread-members/@me", self._thread_membership)
        r.add_post(p + "/channels/{channel_id}/typing", self._typing)
        r.add_post(p + "/channels/{channel_id}/messages", self._post_channel_message)
        r.add_get(p + "/channels/{channel_id}/messages/{message_id}", self._get_channel_message)
        r.add_patch(p + "/channels/{channel_id}/messages/{message_id}", self._patch_channel_message)
        r.add_delete(
            p + "/channels/{channel_id}/messages/{message_id}", self._delete_channel_message
        )
        r.add_put(
            p + "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
            self._no_content,
        )
        r.add_get(p + "/guilds/{guild_id}/members/{user_id}", self._get_member)

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        if request.path in (GATEWAY_PATH, RESUME_PATH):
            response: web.StreamResponse = await handler(request)
            return response
        self._in_flight += 1
        self._quiet.clear()
        try:
            return await self._handle_rest(request, handler)
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._quiet.set()

    async def _handle_rest(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        path = request.path
        relative = path[len(API_PREFIX) :] if path.startswith(API_PREFIX + "/") else path
        body, files = await _read_body(request)
        request[_JSON_KEY] = body
        request[_FILES_KEY] = files
        record = Request(
            request.method,
            relative,
            dict(request.query),
            body,
            files,
            dict(request.headers),
        )
        fault = next((f for f in self._faults if f.matches(request.method, relative)), None)
        if fault is not None:
            self.faults_served += 1
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            response = fault.response()
        else:
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                response = _error(exc.status, f"{exc.status}: {exc.reason}", 0)
            except Exception as exc:  # a bug in the stand-in: make it loud, not retried
                _log.exception("stand-in handler failed for %s %s", request.method, relative)
                self.internal_errors.append(f"{request.method} {relative}: {exc!r}")
                response = _error(501, f"stand-in error: {exc!r}", 0)
        record.status = response.status
        if isinstance(response, web.Response) and response.body is not None:
            with contextlib.suppress(ValueError, TypeError):
                record.response = json.loads(response.body)  # type: ignore[arg-type]
        self._record(record)
        return response

    def _record(self, request: Request) -> None:
        self.requests.append(request)
        if self.request_limit is not None and len(self.messages) > self.request_limit:
            for key in list(self.messages)[: len(self.messages) - self.request_limit]:
                del self.messages[key]
        for predicate, future in list(self._waiters):
            if future.done():
                continue
            try:
                if predicate(request):
                    future.set_result(request)
            except Exception as exc:
                future.set_exception(exc)

    # ---------------------------------------------------------------- REST handlers

    async def _no_content(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _get_attachment(self, request: web.Request) -> web.Response:
        stored = self._files.get(request.match_info["name"])
        if stored is None:
            return web.Response(status=404, text="not found")
        data, content_type = stored
        return web.Response(body=data, headers={"Content-Type": content_type})

    async def _get_me(self, request: web.Request) -> web.Response:
        data = self.bot_user.payload()
        data.update(verified=True, mfa_enabled=False, email=None, locale="en-US")
        return _json(data)

    async def _get_user(self, request: web.Request) -> web.Response:
        user = self._user(int(request.match_info["user_id"]))
        return _json(user.payload()) if user is not None else _error(404, "Unknown User", 10013)

    async def _get_member(self, request: web.Request) -> web.Response:
        try:
            guild = self._guild(int(request.match_info["guild_id"]))
        except KeyError:
            return _error(404, "Unknown Guild", 10004)
        member = guild.member(int(request.match_info["user_id"]))
        if member is None:
            return _error(404, "Unknown Member", 10007)
        return _json(member.payload())

    async def _create_dm(self, request: web.Request) -> web.Response:
        body = request[_JSON_KEY] or {}
        user = self._user(int(body.get("recipient_id", 0)))
        if user is None:
            return _error(400, "Invalid Recipient(s)", 50033)
        return _json(self._dm_channel_payload(self._dm_channel(user)))

    async def _get_application(self, request: web.Request) -> web.Response:
        return _json(
            {
                "id": str(self.application_id),
                "name": self.bot_user.username,
                "icon": None,
                "description": "",
                "summary": "",
                "rpc_origins": [],
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": self.admin.payload(),
                "team": None,
                "verify_key": "0" * 64,
                "flags": APPLICATION_FLAGS,
                "interactions_endpoint_url": None,
                "bot": self.bot_user.payload(),
                "tags": [],
                "redirect_uris": [],
                "approximate_guild_count": len(self.guilds),
                "integration_types_config": {"0": {}},
            }
        )

    async def _get_gateway(self, request: web.Request) -> web.Response:
        return _json({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    def _command_list(self, request: web.Request) -> tuple[list[JSON], int | None] | None:
        if request.match_info["app"] != str(self.application_id):
            return None
        guild = request.match_info.get("guild")
        if guild is None:
            return self.global_commands, None
        return self.guild_commands.setdefault(int(guild), []), int(guild)

    def _echo_command(
        self, body: Mapping[str, Any], existing: Sequence[JSON], guild: int | None
    ) -> JSON:
        type_ = body.get("type", 1)
        previous = next(
            (c for c in existing if c["name"] == body.get("name") and c.get("type", 1) == type_),
            None,
        )
        command: JSON = {
            "description": "",
            "options": [],
            "default_member_permissions": None,
            "nsfw": False,
            **body,
            "type": type_,
            "id": previous["id"] if previous is not None else str(snowflake()),
            "application_id": str(self.application_id),
            "version": str(snowflake()),
        }
        if command["default_member_permissions"] is not None:  # Discord answers with a string
            command["default_member_permissions"] = str(command["default_member_permissions"])
        if guild is not None:
            command["guild_id"] = str(guild)
        return command

    async def _put_commands(self, request: web.Request) -> web.Response:
        found = self._command_list(request)
        if found is None:
            return _error(404, "Unknown Application", 10002)
        existing, guild = found
        body = request[_JSON_KEY] or []
        commands = [self._echo_command(c, existing, guild) for c in body]
        existing[:] = commands
        self.sync_count += 1
        return _json(commands)

    async def _get_commands(self, request: web.Request) -> web.Response:
        found = self._command_list(request)
        if found is None:
            return _error(404, "Unknown Application", 10002)
        return _json(found[0])

    async def _post_command(self, request: web.Request) -> web.Response:
        found = self._command_list(request)
        if found is None:
            return _error(404, "Unknown Application", 10002)
        existing, guild = found
        command = self._echo_command(request[_JSON_KEY] or {}, existing, guild)
        existing[:] = [c for c in existing if c["id"] != command["id"]] + [command]
        return _json(command)

    async def _delete_command(self, request: web.Request) -> web.Response:
        found = self._command_list(request)
        if found is None:
            return _error(404, "Unknown Application", 10002)
        existing, _ = found
        existing[:] = [c for c in existing if c["id"] != request.match_info["command_id"]]
        return web.Response(status=204)

    async def _callback(self, request: web.Request) -> web.Response:
        interaction_id = int(request.match_info["interaction_id"])
        interaction = self._interactions.get(interaction_id)
        if interaction is None or interaction["token"] != request.match_info["token"]:
            return _error(404, "Unknown interaction", 10062)
        if interaction_id in self._acknowledged:
            return _error(400, "Interaction has already been acknowledged.", 40060)
        body = request[_JSON_KEY] or {}
        files: list[UploadedFile] = request[_FILES_KEY]
        response_type = int(body.get("type", 0))
        data = body.get("data") or {}
        self._acknowledged.add(interaction_id)
        token = interaction["token"]
        guild_id = int(interaction["guild_id"]) if "guild_id" in interaction else None
        channel_id = int(interaction["channel_id"])
        info: JSON = {"id": str(interaction_id), "type": interaction["type"]}
        resource: JSON = {"type": response_type}
        flags = int(data.get("flags") or 0)
        if response_type in (4, 5):
            message_body = data if response_type == 4 else {"flags": flags | LOADING}
            message_type = 20 if interaction["type"] == 2 else 0
            message = self._new_message(
                channel_id, guild_id, message_body, files, webhook=True, message_type=message_type
            )
            self._originals[token] = int(message["id"])
            info.update(
                response_message_id=message["id"],
                response_message_loading=response_type == 5,
                response_message_ephemeral=bool(flags & EPHEMERAL),
            )
            resource["message"] = message
        elif response_type in (6, 7) and "message" in interaction:
            target = self.messages.setdefault(
                int(interaction["message"]["id"]), dict(interaction["message"])
            )
            if response_type == 7:
                self._edit_message(target, data, files)
                resource["message"] = target
            self._originals[token] = int(target["id"])
            info.update(
                response_message_id=target["id"],
                response_message_loading=False,
                response_message_ephemeral=bool(target.get("flags", 0) & EPHEMERAL),
            )
        if request.query.get("with_response", "").lower() not in ("1", "true"):
            return web.Response(status=204)
        return _json({"interaction": info, "resource": resource})

    def _interaction_for_token(self, request: web.Request) -> JSON | None:
        if request.match_info["app"] != str(self.application_id):
            return None
        interaction_id = self._tokens.get(request.match_info["token"])
        return None if interaction_id is None else self._interactions[interaction_id]

    def _webhook_message(self, request: web.Request, interaction: JSON) -> JSON | None:
        raw = request.match_info["message_id"]
        message_id = self._originals.get(interaction["token"]) if raw == "@original" else int(raw)
        return None if message_id is None else self.messages.get(message_id)

    async def _post_followup(self, request: web.Request) -> web.Response:
        interaction = self._interaction_for_token(request)
        if interaction is None:
            return _error(404, "Unknown Webhook", 10015)
        if int(interaction["id"]) not in self._acknowledged:
            return _error(404, "Unknown Webhook", 10015)  # no follow-up before the response
        body = request[_JSON_KEY] or {}
        files: list[UploadedFile] = request[_FILES_KEY]
        original = self.original(interaction)
        if original is not None and original["flags"] & LOADING:
            # Like Discord: the first follow-up after a "thinking" defer replaces that message.
            message = self._edit_message(original, body, files)
        else:
            guild_id = int(interaction["guild_id"]) if "guild_id" in interaction else None
            message = self._new_message(
                int(interaction["channel_id"]), guild_id, body, files, webhook=True
            )
        if request.query.get("wait", "").lower() in ("1", "true"):
            return _json(message)
        return web.Response(status=204)

    async def _get_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._interaction_for_token(request)
        message = None if interaction is None else self._webhook_message(request, interaction)
        return _json(message) if message is not None else _error(404, "Unknown Message", 10008)

    async def _patch_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._interaction_for_token(request)
        message = None if interaction is None else self._webhook_message(request, interaction)
        if message is None:
            return _error(404, "Unknown Message", 10008)
        files = request[_FILES_KEY]
        edited = self._edit_message(message, request[_JSON_KEY] or {}, files)
        return _json(edited)

    async def _delete_webhook_message(self, request: web.Request) -> web.Response:
        interaction = self._interaction_for_token(request)
        message = None if interaction is None else self._webhook_message(request, interaction)
        if message is None:
            return _error(404, "Unknown Message", 10008)
        self.messages.pop(int(message["id"]), None)
        return web.Response(status=204)

    async def _get_channel(self, request: web.Request) -> web.Response:
        found = self._find_channel(int(request.match_info["channel_id"]))
        return _json(found[1]) if found is not None else _error(404, "Unknown Channel", 10003)

    async def _typing(self, request: web.Request) -> web.Response:
        if self._find_channel(int(request.match_info["channel_id"])) is None:
            return _error(404, "Unknown Channel", 10003)
        return web.Response(status=204)

    async def _post_channel_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        found = self._find_channel(channel_id)
        if found is None:
            return _error(404, "Unknown Channel", 10003)
        guild = found[0]
        thread = self.thread(channel_id)
        if guild is not None and thread is not None and thread.archived:
            if thread.locked:
                return _error(400, "Thread is locked", 160005)
            await self._change_thread(guild, thread, {"archived": False})  # as Discord does
        body = request[_JSON_KEY] or {}
        files = request[_FILES_KEY]
        message = self._new_message(
            channel_id, guild.id if guild is not None else None, body, files
        )
        return _json(message)

    def _channel_message(self, request: web.Request) -> JSON | None:
        message = self.messages.get(int(request.match_info["message_id"]))
        if message is None or message["channel_id"] != request.match_info["channel_id"]:
            return None
        return message

    async def _get_channel_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        return _json(message) if message is not None else _error(404, "Unknown Message", 10008)

    async def _patch_channel_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        if message is None:
            return _error(404, "Unknown Message", 10008)
        files = request[_FILES_KEY]
        edited = self._edit_message(message, request[_JSON_KEY] or {}, files)
        return _json(edited)

    async def _delete_channel_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        if message is None:
            return _error(404, "Unknown Message", 10008)
        self.messages.pop(int(message["id"]), None)
        return web.Response(status=204)

    # ---------------------------------------------------------------- threads

    async def _start_thread(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/messages/{id}/threads and POST /channels/{id}/threads."""
        found = self._locate_channel(int(request.match_info["channel_id"]))
        if found is None:
            return _error(404, "Unknown Channel", 10003)
        guild, parent = found
        if parent.type not in (GUILD_TEXT, GUILD_ANNOUNCEMENT):
            return _error(400, "Cannot execute action on this channel type", 50024)
        body = request[_JSON_KEY]
        if not isinstance(body, dict):
            body = {}
        name = body.get("name")
        duration = body.get("auto_archive_duration") or 1440
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            return _form_error("name", "Must be between 1 and 100 in length.")
        if duration not in ARCHIVE_DURATIONS:
            return _form_error("auto_archive_duration", f"Must be one of {ARCHIVE_DURATIONS}.")
        raw_message_id = request.match_info.get("message_id")
        if raw_message_id is not None:
            message_id = int(raw_message_id)
            message = self.messages.get(message_id)
            if (
                message is None
                or message["channel_id"] != str(parent.id)
                or message.get("flags", 0) & EPHEMERAL
            ):
                return _error(404, "Unknown Message", 10008)
            if guild.channel(message_id) is not None:
                return _error(400, "A thread has already been created for this message", 160004)
            thread_type = (
                ANNOUNCEMENT_THREAD if parent.type == GUILD_ANNOUNCEMENT else PUBLIC_THREAD
            )
            thread_id = message_id
        else:
            requested = body.get("type")  # required in API v10
            allowed = (
                (ANNOUNCEMENT_THREAD,)
                if parent.type == GUILD_ANNOUNCEMENT
                else (PUBLIC_THREAD, PRIVATE_THREAD)
            )
            if requested not in allowed:
                return _form_error("type", f"Must be one of {allowed}.")
            thread_type = int(body["type"])
            thread_id = snowflake()
        thread = ThreadChannel(
            id=thread_id,
            name=name,
            type=thread_type,
            parent_id=parent.id,
            owner_id=self.bot_user.id,
            auto_archive_duration=duration,
            rate_limit_per_user=int(body.get("rate_limit_per_user") or 0),
            invitable=bool(body.get("invitable", True)),
        )
        return _json(await self._add_thread(guild, thread))

    async def _add_thread(self, guild: Guild, thread: ThreadChannel) -> JSON:
        """Store the thread, then send THREAD_CREATE (and MESSAGE_UPDATE for a starter)."""
        guild.channels.append(thread)
        data = thread.payload(guild.id)
        await self._notify("THREAD_CREATE", {**data, "newly_created": True})
        starter = self.messages.get(thread.id)
        if starter is not None:
            starter["thread"] = data
            starter["flags"] = int(starter.get("flags") or 0) | HAS_THREAD
            await self._notify("MESSAGE_UPDATE", dict(starter))
        return data

    async def _change_thread(self, guild: Guild, thread: ThreadChannel, body: JSON) -> JSON:
        if "name" in body and isinstance(body["name"], str):
            thread.name = body["name"]
        if "archived" in body and body["archived"] is not None:
            if bool(body["archived"]) != thread.archived:
                thread.archive_timestamp = _now()
            thread.archived = bool(body["archived"])
        if "locked" in body and body["locked"] is not None:
            thread.locked = bool(body["locked"])
        if body.get("auto_archive_duration") in ARCHIVE_DURATIONS:
            thread.auto_archive_duration = int(body["auto_archive_duration"])
        if body.get("rate_limit_per_user") is not None:
            thread.rate_limit_per_user = int(body["rate_limit_per_user"])
        if "invitable" in body and body["invitable"] is not None:
            thread.invitable = bool(body["invitable"])
        data = thread.payload(guild.id)
        starter = self.messages.get(thread.id)
        if starter is not None and "thread" in starter:
            starter["thread"] = data
        await self._notify("THREAD_UPDATE", data)
        return data

    async def _remove_thread(self, guild: Guild, thread: ThreadChannel) -> JSON:
        guild.channels.remove(thread)
        data = thread.payload(guild.id)
        deleted = {k: data[k] for k in ("id", "guild_id", "parent_id", "type")}
        await self._notify("THREAD_DELETE", deleted)
        return data

    async def _patch_channel(self, request: web.Request) -> web.Response:
        found = self._locate_channel(int(request.match_info["channel_id"]))
        if found is None:
            return _error(404, "Unknown Channel", 10003)
        guild, channel = found
        if not isinstance(channel, ThreadChannel):
            return _error(403, "Missing Permissions", 50013)  # only threads are editable here
        body = request[_JSON_KEY]
        return _json(await self._change_thread(guild, channel, body or {}))

    async def _delete_channel(self, request: web.Request) -> web.Response:
        found = self._locate_channel(int(request.match_info["channel_id"]))
        if found is None:
            return _error(404, "Unknown Channel", 10003)
        guild, channel = found
        if not isinstance(channel, ThreadChannel):
            return _error(403, "Missing Permissions", 50013)  # only threads can be deleted here
        return _json(await self._remove_thread(guild, channel))

    async def _thread_membership(self, request: web.Request) -> web.Response:
        """PUT/DELETE /channels/{thread}/thread-members/@me: THREAD_MEMBERS_UPDATE sent."""
        found = self._locate_channel(int(request.match_info["channel_id"]))
        if found is None or not isinstance(found[1], ThreadChannel):
            return _error(404, "Unknown Channel", 10003)
        guild, thread = found[0], found[1]
        update: JSON = {"id": str(thread.id), "guild_id": str(guild.id)}
        if request.method == "PUT":
            thread.member_count += 1
            member = {
                "id": str(thread.id),
                "user_id": str(self.bot_user.id),
                "join_timestamp": _now(),
                "flags": 0,
            }
            update["added_members"] = [member]
        else:
            thread.member_count = max(0, thread.member_count - 1)
            update["removed_member_ids"] = [str(self.bot_user.id)]
        update["member_count"] = thread.member_count
        await self._notify("THREAD_MEMBERS_UPDATE", update)
        return web.Response(status=204)

    # ---------------------------------------------------------------- gateway

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


def _has_custom_id(components: Sequence[Any], custom_id: str) -> bool:
    for component in components:
        if not isinstance(component, Mapping):
            continue
        if component.get("custom_id") == custom_id:
            return True
        children = component.get("components")
        if isinstance(children, list) and _has_custom_id(children, custom_id):
            return True
        accessory = component.get("accessory")
        if isinstance(accessory, Mapping) and accessory.get("custom_id") == custom_id:
            return True
    return False


async def _read_body(request: web.Request) -> tuple[Any, list[UploadedFile]]:
    """The JSON body (or multipart payload_json) and the uploaded files."""
    files: list[UploadedFile] = []
    if not request.can_read_body:
        return None, files
    if request.content_type.startswith("multipart/"):
        payload: Any = None
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "payload_json":
                payload = json.loads(await part.text())
            else:
                files.append(
                    UploadedFile(
                        field=part.name or "",
                        filename=part.filename or part.name or "file",
                        content_type=part.headers.get("Content-Type", "application/octet-stream"),
                        data=bytes(await part.read()),
                    )
                )
        return payload, files
    raw = await request.read()
    if not raw:
        return None, files
    try:
        return json.loads(raw), files
    except ValueError:
        return None, files
