"""What crosses the REST boundary: requests as the stand-in records them (with the files
uploaded), their JSON or multipart bodies, and JSON responses the way Discord sends them."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

# Paths relative to the REST base, as recorded.
CALLBACK_RE = re.compile(r"/interactions/(\d+)/([^/]+)/callback")
FOLLOWUP_RE = re.compile(r"/webhooks/(\d+)/([^/]+)")
WEBHOOK_MESSAGE_RE = re.compile(r"/webhooks/(\d+)/([^/]+)/messages/([^/]+)")
CHANNEL_MESSAGES_RE = re.compile(r"/channels/(\d+)/messages")
CHANNEL_MESSAGE_RE = re.compile(r"/channels/(\d+)/messages/(\d+)")
# Starting a thread: from a message, or without one (``/channels/{parent}/threads``).
THREAD_START_RE = re.compile(r"/channels/(\d+)/(?:messages/(\d+)/)?threads")


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

    def matched(self, method: str, pattern: re.Pattern[str]) -> re.Match[str] | None:
        """The match of ``pattern`` on the path of this request if it is a successful
        ``method`` request, else None."""
        if not self.ok or self.method != method:
            return None
        return pattern.fullmatch(self.path)

    def is_callback_for(self, interaction: Mapping[str, Any]) -> bool:
        match = self.matched("POST", CALLBACK_RE)
        return match is not None and match.group(1) == str(interaction["id"])

    def is_followup_for(self, interaction: Mapping[str, Any]) -> bool:
        match = self.matched("POST", FOLLOWUP_RE)
        return match is not None and match.group(2) == str(interaction["token"])

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """``data`` as a JSON response."""
    # Exactly "application/json": discord.py treats "application/json; charset=utf-8" as text.
    all_headers = {"Content-Type": "application/json"}
    if headers:
        all_headers.update(headers)
    return web.Response(status=status, body=json.dumps(data).encode(), headers=all_headers)


def error_response(status: int, message: str, code: int) -> web.Response:
    """Discord's error JSON: a message and a JSON error code (10008 Unknown Message, ...)."""
    return json_response({"message": message, "code": code}, status)


def form_error(field_name: str, message: str) -> web.Response:
    """A 400 Invalid Form Body (50035) for one field."""
    errors = {field_name: {"_errors": [{"code": "BASE_TYPE_BAD_VALUE", "message": message}]}}
    return json_response({"message": "Invalid Form Body", "code": 50035, "errors": errors}, 400)


async def read_body(request: web.Request) -> tuple[Any, list[UploadedFile]]:
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
