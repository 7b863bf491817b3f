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

Shards: a sharded client (``discord.AutoShardedClient``, one process or several) gets a
session per shard, with its own READY; ``dispatch`` sends an event about a server only to
the shard that owns it, ``(guild_id >> 22) % shard_count``, and DMs to shard 0.
``DiscordStandIn(shard_count=2)`` recommends two shards on GET /gateway/bot and puts the
default guild on shard 0; ``add_guild()`` adds one on the next shard. ``session(shard)``,
``wait_ready(shard=…)`` and ``delivered(payload)`` tell which shard got what, and
``drop_connection``, ``disconnected`` and ``request_reconnect`` take a ``shard`` (0 unless
told, which is also the only shard of a client that does not shard).

Close the client before the stand-in stops (``running()`` does): a client left connected would
try to reconnect to a closed port and log errors.

The modules, each one concern: ``models`` (users, roles, channels, guilds and their JSON),
``wire`` (recorded requests, bodies, JSON responses), then the layers of the one class
:class:`DiscordStandIn`: ``state`` (what it holds), ``gateway`` (the websocket), ``faults``
(injected failures), ``store`` (messages and threads), ``rest`` (the HTTP routes), ``events``
(what other users do) and ``server`` (start, stop, waits, accessors).
"""

from tests.support.standin.models import (
    ADMINISTRATOR,
    MANAGE_GUILD,
    Attach,
    Channel,
    Guild,
    Member,
    Role,
    ThreadChannel,
    User,
    default_guild,
    shard_of,
    snowflake,
    snowflake_on_shard,
)
from tests.support.standin.server import DiscordErrorLog, DiscordStandIn, capture_errors
from tests.support.standin.state import Delivery, Session
from tests.support.standin.wire import (
    CALLBACK_RE,
    CHANNEL_MESSAGE_RE,
    CHANNEL_MESSAGES_RE,
    FOLLOWUP_RE,
    WEBHOOK_MESSAGE_RE,
    Request,
    UploadedFile,
)

__all__ = [
    "ADMINISTRATOR",
    "CALLBACK_RE",
    "CHANNEL_MESSAGES_RE",
    "CHANNEL_MESSAGE_RE",
    "FOLLOWUP_RE",
    "MANAGE_GUILD",
    "WEBHOOK_MESSAGE_RE",
    "Attach",
    "Channel",
    "Delivery",
    "DiscordErrorLog",
    "DiscordStandIn",
    "Guild",
    "Member",
    "Request",
    "Role",
    "Session",
    "ThreadChannel",
    "UploadedFile",
    "User",
    "capture_errors",
    "default_guild",
    "shard_of",
    "snowflake",
    "snowflake_on_shard",
]
