"""The messages and threads the stand-in stores, made and changed by the bot's REST requests
or by other users: attachments and mentions filled in as Discord does, thread changes
announced on the gateway."""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from tests.support.standin.gateway import Gateway
from tests.support.standin.models import (
    ARCHIVE_DURATIONS,
    EPHEMERAL,
    HAS_THREAD,
    JSON,
    LOADING,
    MENTION_RE,
    Guild,
    ThreadChannel,
    iso_now,
    snowflake,
)
from tests.support.standin.wire import UploadedFile


class Store(Gateway):
    """Messages, attachments and threads."""

    # ---------------------------------------------------------------- attachments

    def add_attachment(self, name: str, data: bytes, content_type: str | None = None) -> str:
        """Serve ``data`` at the returned URL (GET /attachments/{name})."""
        guessed = mimetypes.guess_type(name)[0]
        self._files[name] = (data, content_type or guessed or "application/octet-stream")
        return f"{self.base_url}/attachments/{quote(name)}"

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

    def original(self, interaction: Mapping[str, Any]) -> JSON | None:
        """The current state of an interaction's original response message."""
        message_id = self._originals.get(str(interaction["token"]))
        return None if message_id is None else self.messages.get(message_id)

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
            "timestamp": iso_now(),
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
        message["edited_timestamp"] = iso_now()
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

    # ---------------------------------------------------------------- threads

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
                thread.archive_timestamp = iso_now()
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
