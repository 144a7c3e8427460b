"""What the fake Discord holds and answers with: ids, error answers, users, roles, channels,
guilds, messages, interactions, recorded requests, faults and gateway sessions."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import time
import zlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.platforms.discord.types import (
    ActionRow,
    AllowedMentions,
    Attachment,
    CommandData,
    ComponentData,
    Dispatch,
    ErrorBody,
    GatewayPayload,
    InteractionCallback,
    InteractionType,
    RateLimitBody,
    Role,
    User,
)
from tests.fakes.discord.protocol import (
    CHANNEL_DM,
    CHANNEL_GUILD_TEXT,
    DISCORD_EPOCH_MS,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    MESSAGE_DEFAULT,
)


def iso_time(moment: datetime) -> str:
    return moment.isoformat()


def utc_now() -> datetime:
    return datetime.now(UTC)


class Snowflakes:
    """Discord ids: milliseconds since the Discord epoch, shifted, plus an increment."""

    def __init__(self) -> None:
        self._increment = 0
        self._last = 0

    def next(self) -> int:
        self._increment = (self._increment + 1) % 4096
        value = ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | self._increment
        value = max(value, self._last + 1)
        self._last = value
        return value


class DiscordHTTPError(Exception):
    """An error answer, with Discord's JSON error body."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        errors: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.headers = dict(headers or {})

    def response(self) -> web.Response:
        body: ErrorBody = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return json_answer(body, status=self.status, headers=self.headers)


def form_error(path: str, code: str, message: str) -> DiscordHTTPError:
    """A 400 Invalid Form Body (50035) naming the bad field, as Discord nests it."""
    errors: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(path.split(".")):
        errors = {part: errors}
    return DiscordHTTPError(400, 50035, "Invalid Form Body", errors=errors)


def json_answer(
    data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON answer with Discord's exact ``Content-Type`` (discord.py compares it verbatim)."""
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    response = web.Response(body=body, status=status, headers=headers)
    response.headers["Content-Type"] = "application/json"
    return response


def bucket_hash(route: str) -> str:
    return hashlib.sha1(route.encode()).hexdigest()[:16]


# --- the world ---------------------------------------------------------------------------------


@dataclass(slots=True)
class FakeUser:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    dms_closed: bool = False

    def payload(self) -> User:
        data: User = {
            "id": str(self.id),
            "username": self.username,
            "discriminator": "0",
            "global_name": self.global_name,
            "avatar": None,
            "public_flags": 0,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass(slots=True)
class FakeRole:
    id: int
    name: str
    position: int = 0
    permissions: int = 0

    def payload(self) -> Role:
        return {
            "id": str(self.id),
            "name": self.name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }


@dataclass(slots=True)
class FakeChannel:
    id: int
    name: str
    type: int = CHANNEL_GUILD_TEXT
    guild_id: int | None = None
    position: int = 0
    recipient_id: int | None = None
    last_message_id: int | None = None

    @property
    def is_dm(self) -> bool:
        return self.type == CHANNEL_DM


@dataclass(slots=True)
class FakeGuild:
    id: int
    name: str
    owner_id: int
    locale: str = "fr"
    joined_at: datetime = field(default_factory=utc_now)
    roles: dict[int, FakeRole] = field(default_factory=dict)
    channels: dict[int, FakeChannel] = field(default_factory=dict)
    members: dict[int, list[int]] = field(default_factory=dict)
    """user id -> role ids (without @everyone)."""


@dataclass(slots=True)
class FakeMessage:
    id: int
    channel_id: int
    author_id: int
    content: str
    created_at: datetime
    guild_id: int | None = None
    type: int = MESSAGE_DEFAULT
    flags: int = 0
    nonce: str | None = None
    components: list[ActionRow] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    """filename -> bytes of the uploaded files."""
    allowed_mentions: AllowedMentions | None = None
    """What the request said (None when it did not say): the tests check ``parse: []``."""
    edited_at: datetime | None = None
    edits: int = 0
    deleted: bool = False
    interaction_id: int | None = None
    application_id: int | None = None
    ephemeral_to: int | None = None
    """For ephemeral messages: the only user who sees it."""

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & FLAG_LOADING)

    def custom_ids(self) -> list[str]:
        found: list[str] = []
        for row in self.components:
            for item in row.get("components", []):
                if "custom_id" in item:
                    found.append(item["custom_id"])
        return found


@dataclass(slots=True)
class FakeInteraction:
    id: int
    token: str
    type: InteractionType
    user_id: int
    channel_id: int
    guild_id: int | None
    data: CommandData | ComponentData
    created: float
    locale: str
    message_id: int | None = None
    callbacks: list[InteractionCallback] = field(default_factory=list)
    """Every callback body accepted, in order (``{"type": 4, "data": {...}}``)."""
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    deferred: int | None = None
    """The callback type when the interaction was deferred (5 or 6)."""
    modal: dict[str, Any] | None = None
    """The modal this interaction answered with (callback type 9), as validated."""

    @property
    def acknowledged(self) -> bool:
        return bool(self.callbacks)

    @property
    def callback_types(self) -> list[int]:
        return [int(c["type"]) for c in self.callbacks]


@dataclass(slots=True)
class RecordedRequest:
    method: str
    path: str
    """Path after ``/api/v10``, without the query string."""
    query: dict[str, str]
    json: Any
    """The JSON body, or ``payload_json`` of a multipart body; None when there was none."""
    files: dict[str, tuple[str, bytes]]
    """``files[n]`` field name -> (filename, bytes)."""
    status: int = 0


@dataclass(slots=True)
class Fault:
    method: str
    pattern: re.Pattern[str]
    remaining: int
    answer: Callable[[], DiscordHTTPError]


class Connection:
    """One websocket connection to the gateway (a session may span several)."""

    def __init__(self, ws: web.WebSocketResponse, path: str, compress: str | None) -> None:
        self.ws = ws
        self.path = path
        self._compressor = zlib.compressobj() if compress == "zlib-stream" else None
        self._send_lock = asyncio.Lock()
        self.heartbeats = 0
        self.session: GatewaySession | None = None

    async def send(self, payload: GatewayPayload | Dispatch) -> None:
        if self.ws.closed:
            return
        text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        async with self._send_lock:
            with contextlib.suppress(ConnectionError, RuntimeError):
                if self._compressor is not None:
                    data = self._compressor.compress(text.encode())
                    data += self._compressor.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(data)
                else:
                    await self.ws.send_str(text)


@dataclass(slots=True)
class GatewaySession:
    id: str
    intents: int
    identify: dict[str, Any]
    seq: int = 0
    sent: list[Dispatch] = field(default_factory=list)
    """Every dispatch of the session, in order (what a RESUME replays from)."""
    connection: Connection | None = None
    invalid: bool = False
    resumes: int = 0
    replayed: list[Dispatch] = field(default_factory=list)
    """Dispatches sent again on a RESUME."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


Handler = Callable[["Call"], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class Call:
    request: web.Request
    match: re.Match[str]
    record: RecordedRequest
    body: dict[str, Any] | list[Any] | None

    def arg(self, name: str) -> str:
        return self.match.group(name)

    def snowflake(self, name: str) -> int:
        return int(self.match.group(name))


class RateLimitError(DiscordHTTPError):
    """A 429: its body is ``{"message", "retry_after", "global"}``, not an error code."""

    def __init__(self, retry_after: float, global_: bool, headers: Mapping[str, str]) -> None:
        super().__init__(429, 0, "You are being rate limited.", headers=headers)
        self.retry_after = retry_after
        self.global_ = global_

    def response(self) -> web.Response:
        body: RateLimitBody = {
            "message": self.message,
            "retry_after": round(self.retry_after, 3),
            "global": self.global_,
        }
        return json_answer(body, status=429, headers=self.headers)
