"""The REST API and the file server: the routes discord.py calls, each request recorded (or
answered with an injected fault instead), and their handlers."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiohttp import web

from tests.support.standin.models import (
    ANNOUNCEMENT_THREAD,
    APPLICATION_FLAGS,
    ARCHIVE_DURATIONS,
    EPHEMERAL,
    GUILD_ANNOUNCEMENT,
    GUILD_TEXT,
    JSON,
    LOADING,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    Guild,
    ThreadChannel,
    iso_now,
    snowflake,
)
from tests.support.standin.state import API_PREFIX, GATEWAY_PATH, RESUME_PATH
from tests.support.standin.store import Store
from tests.support.standin.wire import (
    Request,
    UploadedFile,
    error_response,
    form_error,
    json_response,
    read_body,
)

_log = logging.getLogger(__name__)

# Where the middleware leaves the parsed body for the handlers (a multipart body reads once).
_JSON_KEY: web.RequestKey[Any] = web.RequestKey("standin_json", object)
_FILES_KEY: web.RequestKey[list[UploadedFile]] = web.RequestKey("standin_files", list)
# Finds the message a request is about (None: there is none).
_Locate = Callable[[web.Request], JSON | None]


class Rest(Store):
    """The REST side of the stand-in."""

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
        messages = (
            (p + "/webhooks/{app}/{token}/messages/{message_id}", self._webhook_message),
            (p + "/channels/{channel_id}/messages/{message_id}", self._channel_message),
        )
        for path, locate in messages:
            r.add_get(path, functools.partial(self._get_message, locate))
            r.add_patch(path, functools.partial(self._patch_message, locate))
            r.add_delete(path, functools.partial(self._delete_message, locate))
        r.add_get(p + "/channels/{channel_id}", self._get_channel)
        r.add_patch(p + "/channels/{channel_id}", self._patch_channel)
        r.add_delete(p + "/channels/{channel_id}", self._delete_channel)
        r.add_post(p + "/channels/{channel_id}/threads", self._start_thread)
        r.add_post(p + "/channels/{channel_id}/messages/{message_id}/threads", self._start_thread)
        r.add_put(p + "/channels/{channel_id}/thread-members/@me", self._thread_membership)
        r.add_delete(p + "/channels/{channel_id}/thread-members/@me", self._thread_membership)
        r.add_post(p + "/channels/{channel_id}/typing", self._typing)
        r.add_post(p + "/channels/{channel_id}/messages", self._post_channel_message)
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
        body, files = await read_body(request)
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
                response = error_response(exc.status, f"{exc.status}: {exc.reason}", 0)
            except Exception as exc:  # a bug in the stand-in: make it loud, not retried
                _log.exception("stand-in handler failed for %s %s", request.method, relative)
                self.internal_errors.append(f"{request.method} {relative}: {exc!r}")
                response = error_response(501, f"stand-in error: {exc!r}", 0)
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
        return json_response(data)

    async def _get_user(self, request: web.Request) -> web.Response:
        user = self._user(int(request.match_info["user_id"]))
        return (
            json_response(user.payload())
            if user is not None
            else error_response(404, "Unknown User", 10013)
        )

    async def _get_member(self, request: web.Request) -> web.Response:
        try:
            guild = self._guild(int(request.match_info["guild_id"]))
        except KeyError:
            return error_response(404, "Unknown Guild", 10004)
        member = guild.member(int(request.match_info["user_id"]))
        if member is None:
            return error_response(404, "Unknown Member", 10007)
        return json_response(member.payload())

    async def _create_dm(self, request: web.Request) -> web.Response:
        body = request[_JSON_KEY] or {}
        user = self._user(int(body.get("recipient_id", 0)))
        if user is None:
            return error_response(400, "Invalid Recipient(s)", 50033)
        return json_response(self._dm_channel_payload(self._dm_channel(user)))

    async def _get_application(self, request: web.Request) -> web.Response:
        return json_response(
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
        return json_response({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: web.Request) -> web.Response:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return json_response(
            {"url": self.gateway_url, "shards": self.shard_count, "session_start_limit": limit}
        )

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
            return error_response(404, "Unknown Application", 10002)
        existing, guild = found
        body = request[_JSON_KEY] or []
        commands = [self._echo_command(c, existing, guild) for c in body]
        existing[:] = commands
        self.sync_count += 1
        return json_response(commands)

    async def _get_commands(self, request: web.Request) -> web.Response:
        found = self._command_list(request)
        if found is None:
            return error_response(404, "Unknown Application", 10002)
        return json_response(found[0])

    async def _post_command(self, request: web.Request) -> web.Response:
        found = self._command_list(request)
        if found is None:
            return error_response(404, "Unknown Application", 10002)
        existing, guild = found
        command = self._echo_command(request[_JSON_KEY] or {}, existing, guild)
        existing[:] = [c for c in existing if c["id"] != command["id"]] + [command]
        return json_response(command)

    async def _delete_command(self, request: web.Request) -> web.Response:
        found = self._command_list(request)
        if found is None:
            return error_response(404, "Unknown Application", 10002)
        existing, _ = found
        existing[:] = [c for c in existing if c["id"] != request.match_info["command_id"]]
        return web.Response(status=204)

    async def _callback(self, request: web.Request) -> web.Response:
        interaction_id = int(request.match_info["interaction_id"])
        interaction = self._interactions.get(interaction_id)
        if interaction is None or interaction["token"] != request.match_info["token"]:
            return error_response(404, "Unknown interaction", 10062)
        if interaction_id in self._acknowledged:
            return error_response(400, "Interaction has already been acknowledged.", 40060)
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
        return json_response({"interaction": info, "resource": resource})

    def _interaction_for_token(self, request: web.Request) -> JSON | None:
        if request.match_info["app"] != str(self.application_id):
            return None
        interaction_id = self._tokens.get(request.match_info["token"])
        return None if interaction_id is None else self._interactions[interaction_id]

    def _webhook_message(self, request: web.Request) -> JSON | None:
        """The message of /webhooks/{app}/{token}/messages/{message_id} (or ``@original``)."""
        interaction = self._interaction_for_token(request)
        if interaction is None:
            return None
        raw = request.match_info["message_id"]
        message_id = self._originals.get(interaction["token"]) if raw == "@original" else int(raw)
        return None if message_id is None else self.messages.get(message_id)

    async def _post_followup(self, request: web.Request) -> web.Response:
        interaction = self._interaction_for_token(request)
        if interaction is None:
            return error_response(404, "Unknown Webhook", 10015)
        if int(interaction["id"]) not in self._acknowledged:
            return error_response(404, "Unknown Webhook", 10015)  # no follow-up before the response
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
            return json_response(message)
        return web.Response(status=204)

    async def _get_channel(self, request: web.Request) -> web.Response:
        found = self._find_channel(int(request.match_info["channel_id"]))
        return (
            json_response(found[1])
            if found is not None
            else error_response(404, "Unknown Channel", 10003)
        )

    async def _typing(self, request: web.Request) -> web.Response:
        if self._find_channel(int(request.match_info["channel_id"])) is None:
            return error_response(404, "Unknown Channel", 10003)
        return web.Response(status=204)

    async def _post_channel_message(self, request: web.Request) -> web.Response:
        channel_id = int(request.match_info["channel_id"])
        found = self._find_channel(channel_id)
        if found is None:
            return error_response(404, "Unknown Channel", 10003)
        guild = found[0]
        thread = self.thread(channel_id)
        if guild is not None and thread is not None and thread.archived:
            if thread.locked:
                return error_response(400, "Thread is locked", 160005)
            await self._change_thread(guild, thread, {"archived": False})  # as Discord does
        body = request[_JSON_KEY] or {}
        files = request[_FILES_KEY]
        message = self._new_message(
            channel_id, guild.id if guild is not None else None, body, files
        )
        return json_response(message)

    def _channel_message(self, request: web.Request) -> JSON | None:
        message = self.messages.get(int(request.match_info["message_id"]))
        if message is None or message["channel_id"] != request.match_info["channel_id"]:
            return None
        return message

    # A message's GET, PATCH and DELETE, the same for an interaction's and a channel's: the
    # route gives the function that finds the message.

    async def _get_message(self, locate: _Locate, request: web.Request) -> web.Response:
        message = locate(request)
        if message is None:
            return error_response(404, "Unknown Message", 10008)
        return json_response(message)

    async def _patch_message(self, locate: _Locate, request: web.Request) -> web.Response:
        message = locate(request)
        if message is None:
            return error_response(404, "Unknown Message", 10008)
        files = request[_FILES_KEY]
        return json_response(self._edit_message(message, request[_JSON_KEY] or {}, files))

    async def _delete_message(self, locate: _Locate, request: web.Request) -> web.Response:
        message = locate(request)
        if message is None:
            return error_response(404, "Unknown Message", 10008)
        self.messages.pop(int(message["id"]), None)
        return web.Response(status=204)

    # ---------------------------------------------------------------- threads

    async def _start_thread(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/messages/{id}/threads and POST /channels/{id}/threads."""
        found = self._locate_channel(int(request.match_info["channel_id"]))
        if found is None:
            return error_response(404, "Unknown Channel", 10003)
        guild, parent = found
        if parent.type not in (GUILD_TEXT, GUILD_ANNOUNCEMENT):
            return error_response(400, "Cannot execute action on this channel type", 50024)
        body = request[_JSON_KEY]
        if not isinstance(body, dict):
            body = {}
        name = body.get("name")
        duration = body.get("auto_archive_duration") or 1440
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            return form_error("name", "Must be between 1 and 100 in length.")
        if duration not in ARCHIVE_DURATIONS:
            return form_error("auto_archive_duration", f"Must be one of {ARCHIVE_DURATIONS}.")
        raw_message_id = request.match_info.get("message_id")
        if raw_message_id is not None:
            message_id = int(raw_message_id)
            message = self.messages.get(message_id)
            if (
                message is None
                or message["channel_id"] != str(parent.id)
                or message.get("flags", 0) & EPHEMERAL
            ):
                return error_response(404, "Unknown Message", 10008)
            if guild.channel(message_id) is not None:
                return error_response(
                    400, "A thread has already been created for this message", 160004
                )
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
                return form_error("type", f"Must be one of {allowed}.")
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
        return json_response(await self._add_thread(guild, thread))

    async def _patch_channel(self, request: web.Request) -> web.Response:
        body = request[_JSON_KEY] or {}
        return await self._on_thread(
            request, lambda guild, thread: self._change_thread(guild, thread, body)
        )

    async def _delete_channel(self, request: web.Request) -> web.Response:
        return await self._on_thread(request, self._remove_thread)

    async def _on_thread(
        self,
        request: web.Request,
        act: Callable[[Guild, ThreadChannel], Awaitable[JSON]],
    ) -> web.Response:
        """PATCH or DELETE /channels/{channel_id}: only a thread is edited or deleted here."""
        found = self._locate_channel(int(request.match_info["channel_id"]))
        if found is None:
            return error_response(404, "Unknown Channel", 10003)
        guild, channel = found
        if not isinstance(channel, ThreadChannel):
            return error_response(403, "Missing Permissions", 50013)
        return json_response(await act(guild, channel))

    async def _thread_membership(self, request: web.Request) -> web.Response:
        """PUT/DELETE /channels/{thread}/thread-members/@me: THREAD_MEMBERS_UPDATE sent."""
        found = self._locate_channel(int(request.match_info["channel_id"]))
        if found is None or not isinstance(found[1], ThreadChannel):
            return error_response(404, "Unknown Channel", 10003)
        guild, thread = found[0], found[1]
        update: JSON = {"id": str(thread.id), "guild_id": str(guild.id)}
        if request.method == "PUT":
            thread.member_count += 1
            member = {
                "id": str(thread.id),
                "user_id": str(self.bot_user.id),
                "join_timestamp": iso_now(),
                "flags": 0,
            }
            update["added_members"] = [member]
        else:
            thread.member_count = max(0, thread.member_count - 1)
            update["removed_member_ids"] = [str(self.bot_user.id)]
        update["member_count"] = thread.member_count
        await self._notify("THREAD_MEMBERS_UPDATE", update)
        return web.Response(status=204)
