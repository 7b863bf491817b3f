"""The world the stand-in plays: users, roles, channels, threads, members and guilds, each
with its Discord JSON (``payload()``); new ids (snowflakes); permission bits, message flags
and channel types."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000

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

MENTION_RE = re.compile(r"<@!?(\d+)>")
ROLE_MENTION_RE = re.compile(r"<@&(\d+)>")

_last_snowflake = 0


def snowflake() -> int:
    """A new Discord-style id: increasing, unique within the process, timestamped now."""
    global _last_snowflake
    candidate = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
    _last_snowflake = max(candidate, _last_snowflake + 1)
    return _last_snowflake


def snowflake_on_shard(shard_id: int, shard_count: int) -> int:
    """A new id (as :func:`snowflake`) for a server on shard ``shard_id`` of ``shard_count``:
    Discord sends a server's events to shard ``(guild_id >> 22) % shard_count``."""
    global _last_snowflake
    stamp = (snowflake() >> 22) + 1  # a millisecond on: the id stays new and unique
    stamp += (shard_id - stamp) % shard_count
    _last_snowflake = stamp << 22
    return _last_snowflake


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """The shard that gets a server's events; events of no server (DMs) go to shard 0."""
    return 0 if guild_id is None else (guild_id >> 22) % shard_count


def iso_now() -> str:
    """Now, as Discord writes a timestamp (ISO 8601, UTC)."""
    return datetime.now(UTC).isoformat()


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
    created_at: str = field(default_factory=iso_now)
    archive_timestamp: str = field(default_factory=iso_now)  # last change of ``archived``

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
    joined_at: str = field(default_factory=iso_now)

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
            "joined_at": iso_now(),
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


def default_guild(
    bot: User,
    admin: User,
    member: User,
    *,
    guild_id: int | None = None,
    name: str = "Stand-in Guild",
) -> Guild:
    """One guild with a text channel, @everyone, a Moderator role (Manage Guild), three members.

    The admin owns the guild and has the Moderator role; the member only has @everyone.
    """
    guild_id = guild_id or snowflake()
    everyone = Role(guild_id, "@everyone", EVERYONE_PERMISSIONS, 0)
    moderator = Role(snowflake(), "Moderator", MANAGE_GUILD | MANAGE_MESSAGES, 2)
    bot_role = Role(snowflake(), bot.username, EVERYONE_PERMISSIONS, 1)
    return Guild(
        id=guild_id,
        name=name,
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
