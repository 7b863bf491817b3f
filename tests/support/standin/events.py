"""What other users do, as the gateway payloads a test dispatches: slash commands,
autocomplete, button clicks and messages (in channels, threads and DMs); and threads they
start, change or delete."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from tests.support.standin.models import (
    ALL_PERMISSIONS,
    EVERYONE_PERMISSIONS,
    JSON,
    MENTION_RE,
    PUBLIC_THREAD,
    ROLE_MENTION_RE,
    Attach,
    Channel,
    Guild,
    Member,
    Options,
    Role,
    ThreadChannel,
    User,
    iso_now,
    snowflake,
)
from tests.support.standin.store import Store


class Events(Store):
    """Payload builders for what users do, and the threads they make."""

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
            "timestamp": iso_now(),
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

    # ---------------------------------------------------------------- threads made by others

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
