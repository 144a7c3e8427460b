"""A fake Discord (REST API v10 and gateway) for end-to-end tests with the real discord.py.

Written from Discord's public API documentation (developers/events/gateway,
developers/events/gateway-events, developers/interactions/receiving-and-responding,
developers/interactions/application-commands, developers/resources/message,
developers/topics/rate-limits, developers/topics/opcodes-and-status-codes, developers/reference).
It serves, on 127.0.0.1 and one random port:

- ``/api/v10/...``: the REST routes a bot uses (users, gateway discovery, channels and messages
  with JSON or ``multipart/form-data`` bodies, direct-message channels, application commands,
  interaction callbacks and their webhook follow-ups), with Discord's error bodies
  (``{"code": ..., "message": ...}``), rate-limit headers on every answer and injectable 429s;
- ``/gateway`` (and ``/gateway-resume``, the ``resume_gateway_url``): the websocket gateway with
  HELLO (op 10), heartbeats (op 1 / ACK op 11), IDENTIFY (op 2) -> READY then GUILD_CREATE,
  RESUME (op 6) -> replay of the missed dispatches then RESUMED, RECONNECT (op 7),
  INVALID_SESSION (op 9), close codes 4004 / 4014, sequence numbers, intents, and the
  ``zlib-stream`` transport compression discord.py asks for;
- ``/attachments/...``: the "CDN" for uploaded files.

Behaviours reproduced because the adapter depends on them:

- ``enforce_nonce``: "If another message was created by the same author with the same nonce,
  that message will be returned and no new message will be created" (developers/resources/
  message, Create Message). The duplicate answer is ``200`` with the *first* message and no
  MESSAGE_CREATE is dispatched.
- An interaction must get its initial callback within 3 seconds (``response_deadline``), else
  the token is invalid (``10062 Unknown interaction``); a second callback is
  ``40060 Interaction has already been acknowledged``; a follow-up right after a
  DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE (type 5) edits the loading message (the documented,
  deprecated, backwards-compatible behaviour) and keeps its ephemeral state.
- 429 answers carry ``Retry-After``, ``X-RateLimit-*`` (with ``Scope``, and ``Global`` when
  global) and ``Via`` (Discord's answers go through Google's front end: discord.py treats a 429
  without ``Via`` as a Cloudflare ban) and the JSON body ``{"message", "retry_after", "global"}``.
- Messages to a user whose direct messages are closed: ``403 {"code": 50007,
  "message": "Cannot send messages to this user"}`` (the DM channel itself can be created),
  the JSON error body of developers/topics/opcodes-and-status-codes#json.
- ``allowed_mentions``: ``parse`` holds only ``roles``, ``users``, ``everyone``; ``users`` (at
  most 100) and ``"users"`` in ``parse`` are mutually exclusive (400 otherwise).
- Application commands: ``CHAT_INPUT`` names are lowercase; ``USER`` and ``MESSAGE`` (context
  menu) names may hold capitals and spaces, and take no description (Discord stores ``""``).
  A message command's interaction carries ``target_id`` and the message in
  ``data.resolved.messages``, content included whatever the intents.

Everything the bot did is recorded (``requests``, ``messages``, ``interactions``, gateway
``sessions``) for the tests to assert on; :meth:`FakeDiscord.wait_for` waits on a predicate
without sleeping. The payloads it serves are typed with the adapter's own payload types
(:mod:`bot.platforms.discord.types`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import re
import secrets
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, cast

from aiohttp import BodyPartReader, WSMsgType, web

from bot.platforms.discord.types import (
    ActionRow,
    AllowedMentions,
    Application,
    ApplicationCommand,
    Attachment,
    Channel,
    CommandData,
    CommandDataOption,
    ComponentData,
    Dispatch,
    ErrorBody,
    GatewayBot,
    GatewayPayload,
    Interaction,
    InteractionCallback,
    InteractionType,
    Member,
    Message,
    OptionType,
    RateLimitBody,
    ReactionAdd,
    Role,
    User,
)

API_PREFIX = "/api/v10"
DISCORD_EPOCH_MS = 1_420_070_400_000

# Gateway opcodes (developers/topics/opcodes-and-status-codes).
OP_DISPATCH: Final = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE_UPDATE = 3
OP_VOICE_STATE_UPDATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_GUILD_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

# Intents (developers/events/gateway#list-of-intents).
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_GUILD_MESSAGE_REACTIONS = 1 << 10
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_DIRECT_MESSAGE_REACTIONS = 1 << 13
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT

# Message flags and types.
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
MESSAGE_DEFAULT = 0
MESSAGE_CHAT_INPUT_COMMAND = 20

# Interaction types and callback types.
INTERACTION_APPLICATION_COMMAND: Final = 2
INTERACTION_MESSAGE_COMPONENT: Final = 3
INTERACTION_AUTOCOMPLETE: Final = 4
CALLBACK_CHANNEL_MESSAGE = 4
CALLBACK_DEFERRED_CHANNEL_MESSAGE = 5
CALLBACK_DEFERRED_UPDATE_MESSAGE = 6
CALLBACK_UPDATE_MESSAGE = 7
CALLBACK_AUTOCOMPLETE_RESULT = 8
CALLBACK_MODAL = 9

# Application command option types.
COMMAND_CHAT_INPUT: Final = 1
COMMAND_USER: Final = 2
COMMAND_MESSAGE: Final = 3
OPTION_SUB_COMMAND: Final = 1
OPTION_SUB_COMMAND_GROUP: Final = 2
OPTION_STRING: Final = 3
OPTION_INTEGER: Final = 4
OPTION_BOOLEAN: Final = 5
OPTION_NUMBER: Final = 10

CHANNEL_GUILD_TEXT = 0
CHANNEL_DM = 1

MAX_CONTENT = 2000
MAX_NONCE = 25
MAX_CUSTOM_ID = 100
MAX_BUTTON_LABEL = 80
MAX_SELECT_OPTIONS = 25
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
INTERACTION_TOKEN_LIFETIME = 15 * 60.0


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _now() -> datetime:
    return datetime.now(UTC)


class _Snowflakes:
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
        return _json(body, status=self.status, headers=self.headers)


def _form_error(path: str, code: str, message: str) -> DiscordHTTPError:
    """A 400 Invalid Form Body (50035) naming the bad field, as Discord nests it."""
    errors: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(path.split(".")):
        errors = {part: errors}
    return DiscordHTTPError(400, 50035, "Invalid Form Body", errors=errors)


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
    joined_at: datetime = field(default_factory=_now)
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
class _Fault:
    method: str
    pattern: re.Pattern[str]
    remaining: int
    answer: Callable[[], DiscordHTTPError]


class _Connection:
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
    connection: _Connection | None = None
    invalid: bool = False
    resumes: int = 0
    replayed: list[Dispatch] = field(default_factory=list)
    """Dispatches sent again on a RESUME."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


# --- the server --------------------------------------------------------------------------------


_Handler = Callable[["_Call"], Awaitable[web.StreamResponse]]


@dataclass(slots=True)
class _Call:
    request: web.Request
    match: re.Match[str]
    record: RecordedRequest
    body: dict[str, Any] | list[Any] | None

    def arg(self, name: str) -> str:
        return self.match.group(name)

    def snowflake(self, name: str) -> int:
        return int(self.match.group(name))


class FakeDiscord:
    """A Discord-compatible server on 127.0.0.1. Use ``async with FakeDiscord() as fake:``."""

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        heartbeat_interval_ms: int = 41_250,
        response_deadline: float = 3.0,
        nonce_window: float = 300.0,
        route_limit: int = 50,
        privileged_intents: int = 0,
    ) -> None:
        self.token = token
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.response_deadline = response_deadline
        self.nonce_window = nonce_window
        self.route_limit = route_limit
        self.privileged_intents = privileged_intents
        """Privileged intents enabled for the application in the "Developer Portal"."""
        self.flags = 0
        """Application flags (``GATEWAY_MESSAGE_CONTENT_LIMITED`` is 1 << 19...)."""

        self._ids = _Snowflakes()
        self.application_id = self._ids.next()
        self.bot = FakeUser(self._ids.next(), "tisserand", bot=True)
        self.owner = FakeUser(self._ids.next(), "owner")
        self.users: dict[int, FakeUser] = {self.bot.id: self.bot, self.owner.id: self.owner}
        self.guilds: dict[int, FakeGuild] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.messages: dict[int, FakeMessage] = {}
        self.interactions: dict[int, FakeInteraction] = {}
        self.commands: dict[int | None, list[ApplicationCommand]] = {}
        """Application commands: guild id (None: global) -> command objects."""
        self.requests: list[RecordedRequest] = []
        self.sessions: dict[str, GatewaySession] = {}
        self.connection_paths: list[str] = []
        self.identifies = 0

        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}
        self._dm_channels: dict[int, int] = {}
        self._faults: list[_Fault] = []
        self._buckets: dict[str, tuple[float, int]] = {}
        self._changed = asyncio.Event()
        self._gate = asyncio.Event()
        self._gate.set()
        self._connections: set[_Connection] = set()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._routes: list[tuple[str, re.Pattern[str], _Handler, bool]] = []
        self._install_routes()

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/gateway-resume", self._gateway)
        app.router.add_get("/attachments/{channel}/{attachment}/{filename}", self._cdn)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None)
        assert sockets
        self._port = int(sockets[0].getsockname()[1])

    async def close(self) -> None:
        self._gate.set()
        for connection in list(self._connections):
            with contextlib.suppress(Exception):
                await connection.ws.close(code=1001)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        """What the adapter's ``api_base_url`` should be."""
        return self.root_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """What GET /gateway/bot answers."""
        return f"ws://127.0.0.1:{self._port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/gateway-resume"

    # --- building the world ----------------------------------------------------------------

    def add_user(
        self, username: str, *, global_name: str | None = None, bot: bool = False
    ) -> FakeUser:
        user = FakeUser(self._ids.next(), username, global_name=global_name, bot=bot)
        self.users[user.id] = user
        return user

    def add_guild(self, name: str, *, locale: str = "fr") -> FakeGuild:
        guild = FakeGuild(self._ids.next(), name, owner_id=self.owner.id, locale=locale)
        guild.roles[guild.id] = FakeRole(guild.id, "@everyone", permissions=0x4_0000_0000_0000)
        guild.members[self.bot.id] = []
        guild.members[self.owner.id] = []
        self.guilds[guild.id] = guild
        return guild

    def add_role(self, guild: FakeGuild, name: str) -> FakeRole:
        role = FakeRole(self._ids.next(), name, position=len(guild.roles))
        guild.roles[role.id] = role
        return role

    def add_channel(self, guild: FakeGuild, name: str) -> FakeChannel:
        channel = FakeChannel(
            self._ids.next(), name, guild_id=guild.id, position=len(guild.channels)
        )
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        return channel

    def add_member(self, guild: FakeGuild, user: FakeUser, roles: Iterable[FakeRole] = ()) -> None:
        guild.members[user.id] = [role.id for role in roles]

    def open_dm(self, user: FakeUser) -> FakeChannel:
        """The direct-message channel between ``user`` and the bot (created if needed)."""
        channel_id = self._dm_channels.get(user.id)
        if channel_id is None:
            channel = FakeChannel(self._ids.next(), "", type=CHANNEL_DM, recipient_id=user.id)
            self.channels[channel.id] = channel
            self._dm_channels[user.id] = channel.id
            channel_id = channel.id
        return self.channels[channel_id]

    def close_dms(self, user: FakeUser) -> None:
        """The user refuses direct messages from server members."""
        user.dms_closed = True

    # --- observing -------------------------------------------------------------------------

    def _touch(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], bool], within: float = 5.0) -> None:
        """Wait until ``predicate()`` is true; it is checked after every change of the fake."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError("the fake Discord never reached the expected state")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    def requests_to(self, method: str, pattern: str) -> list[RecordedRequest]:
        regex = re.compile(pattern)
        return [r for r in self.requests if r.method == method and regex.fullmatch(r.path)]

    def channel_messages(self, channel: FakeChannel | int) -> list[FakeMessage]:
        channel_id = channel if isinstance(channel, int) else channel.id
        return [
            m
            for m in self.messages.values()
            if m.channel_id == channel_id and not m.deleted and not m.ephemeral
        ]

    def dm_channel_of(self, user: FakeUser) -> FakeChannel | None:
        channel_id = self._dm_channels.get(user.id)
        return None if channel_id is None else self.channels[channel_id]

    def session(self) -> GatewaySession:
        """The newest gateway session."""
        return list(self.sessions.values())[-1]

    # --- faults ----------------------------------------------------------------------------

    def rate_limit_next(
        self,
        method: str,
        path: str,
        *,
        retry_after: float = 0.05,
        global_: bool = False,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` matching requests with a 429 (``path`` is a regex)."""

        def answer() -> DiscordHTTPError:
            return self._rate_limited(retry_after, global_=global_, bucket=path)

        self._faults.append(_Fault(method, re.compile(path), times, answer))

    def fail_next(
        self, method: str, path: str, status: int, code: int, message: str, *, times: int = 1
    ) -> None:
        """Answer the next ``times`` matching requests with an error body."""
        self._faults.append(
            _Fault(method, re.compile(path), times, lambda: DiscordHTTPError(status, code, message))
        )

    def _rate_limited(self, retry_after: float, *, global_: bool, bucket: str) -> DiscordHTTPError:
        headers = {
            "Retry-After": str(math.ceil(retry_after)),
            "X-RateLimit-Scope": "global" if global_ else "user",
            "Via": "1.1 google",
        }
        if global_:
            headers["X-RateLimit-Global"] = "true"
        else:
            headers.update(
                {
                    "X-RateLimit-Limit": str(self.route_limit),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                    "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                    "X-RateLimit-Bucket": _bucket_hash(bucket),
                }
            )
        return _RateLimitError(retry_after, global_, headers)

    # --- gateway: simulated users ------------------------------------------------------------

    async def dispatch(self, event: str, data: Mapping[str, Any], *, intent: int = 0) -> None:
        """Send a dispatch to every live session whose intents include ``intent`` (0: always)."""
        for session in list(self.sessions.values()):
            if session.invalid or (intent and not session.intents & intent):
                continue
            async with session.lock:
                session.seq += 1
                payload: Dispatch = {
                    "op": OP_DISPATCH,
                    "t": event,
                    "s": session.seq,
                    "d": dict(data),
                }
                session.sent.append(payload)
                if session.connection is not None:
                    await session.connection.send(payload)
        self._touch()

    async def say(
        self,
        user: FakeUser,
        channel: FakeChannel,
        content: str,
        *,
        files: Mapping[str, bytes] | None = None,
    ) -> FakeMessage:
        """``user`` posts ``content`` in ``channel`` (MESSAGE_CREATE), with ``files`` (file name
        -> bytes) as attachments."""
        uploads = {
            f"files[{i}]": (name, data) for i, (name, data) in enumerate((files or {}).items())
        }
        message = self._store_message(channel, user.id, content, files=uploads)
        await self._dispatch_message_create(message)
        return message

    async def message_command(
        self, user: FakeUser, message: FakeMessage, name: str, *, locale: str = "fr"
    ) -> FakeInteraction:
        """``user`` opens ``message``'s menu › Apps › ``name`` (a registered MESSAGE command)."""
        channel = self.channels[message.channel_id]
        command = self._find_command(name, channel, kind=COMMAND_MESSAGE)
        if command is None:
            raise AssertionError(f"no message command {name!r} is registered")
        data: CommandData = {
            "id": str(command["id"]),
            "name": name,
            "type": COMMAND_MESSAGE,
            "target_id": str(message.id),
            "resolved": {"messages": {str(message.id): self._message_payload(message)}},
        }
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        return await self._interact(INTERACTION_APPLICATION_COMMAND, user, channel, data, locale)

    async def slash_command(
        self,
        user: FakeUser,
        channel: FakeChannel,
        name: str,
        options: Mapping[str, Any] | list[CommandDataOption] | None = None,
        *,
        locale: str = "fr",
    ) -> FakeInteraction:
        """``user`` runs ``/name`` with ``options`` (a mapping, or raw option objects)."""
        command = self._find_command(name, channel)
        data: CommandData = {
            "id": str(command["id"]) if command else str(self._ids.next()),
            "name": name,
            "type": COMMAND_CHAT_INPUT,
        }
        if isinstance(options, list):
            data["options"] = options
        elif options:
            data["options"] = [
                {"name": key, "type": _option_type(value, command, key), "value": value}
                for key, value in options.items()
            ]
        if command and command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        return await self._interact(INTERACTION_APPLICATION_COMMAND, user, channel, data, locale)

    async def autocomplete(
        self,
        user: FakeUser,
        channel: FakeChannel,
        name: str,
        option: str,
        partial: str,
        *,
        others: Mapping[str, Any] | None = None,
        locale: str = "fr",
    ) -> FakeInteraction:
        """``user`` is typing ``partial`` into the ``option`` of ``/name``."""
        command = self._find_command(name, channel)
        options: list[CommandDataOption] = [
            {"name": key, "type": _option_type(value, command, key), "value": value}
            for key, value in (others or {}).items()
        ]
        options.append(
            {
                "name": option,
                "type": _option_type(partial, command, option),
                "value": partial,
                "focused": True,
            }
        )
        data: CommandData = {
            "id": str(command["id"]) if command else str(self._ids.next()),
            "name": name,
            "type": COMMAND_CHAT_INPUT,
            "options": options,
        }
        return await self._interact(INTERACTION_AUTOCOMPLETE, user, channel, data, locale)

    async def click(
        self, user: FakeUser, message: FakeMessage, custom_id: str, *, locale: str = "fr"
    ) -> FakeInteraction:
        """``user`` clicks the button ``custom_id`` of ``message``."""
        if custom_id not in message.custom_ids():
            raise AssertionError(f"no component {custom_id!r} on message {message.id}")
        channel = self.channels[message.channel_id]
        data: ComponentData = {"custom_id": custom_id, "component_type": 2}
        return await self._interact(
            INTERACTION_MESSAGE_COMPONENT, user, channel, data, locale, message=message
        )

    async def select(
        self,
        user: FakeUser,
        message: FakeMessage,
        custom_id: str,
        values: list[str],
        *,
        locale: str = "fr",
    ) -> FakeInteraction:
        """``user`` picks ``values`` in the select menu ``custom_id`` of ``message``."""
        if custom_id not in message.custom_ids():
            raise AssertionError(f"no component {custom_id!r} on message {message.id}")
        channel = self.channels[message.channel_id]
        data: ComponentData = {"custom_id": custom_id, "component_type": 3, "values": values}
        return await self._interact(
            INTERACTION_MESSAGE_COMPONENT, user, channel, data, locale, message=message
        )

    async def react(self, user: FakeUser, message: FakeMessage, emoji: str) -> None:
        """``user`` adds the unicode ``emoji`` to ``message`` (MESSAGE_REACTION_ADD)."""
        channel = self.channels[message.channel_id]
        data: ReactionAdd = {
            "user_id": str(user.id),
            "channel_id": str(channel.id),
            "message_id": str(message.id),
            "emoji": {"id": None, "name": emoji},
            "message_author_id": str(message.author_id),
            "burst": False,
            "type": 0,
        }
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
            data["member"] = self._member_payload(self.guilds[channel.guild_id], user)
            intent = INTENT_GUILD_MESSAGE_REACTIONS
        else:
            intent = INTENT_DIRECT_MESSAGE_REACTIONS
        await self.dispatch("MESSAGE_REACTION_ADD", data, intent=intent)

    async def _interact(
        self,
        kind: InteractionType,
        user: FakeUser,
        channel: FakeChannel,
        data: CommandData | ComponentData,
        locale: str,
        *,
        message: FakeMessage | None = None,
    ) -> FakeInteraction:
        interaction = FakeInteraction(
            id=self._ids.next(),
            token="aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48),
            type=kind,
            user_id=user.id,
            channel_id=channel.id,
            guild_id=channel.guild_id,
            data=data,
            created=time.monotonic(),
            locale=locale,
            message_id=None if message is None else message.id,
        )
        self.interactions[interaction.id] = interaction
        await self.dispatch("INTERACTION_CREATE", self._interaction_payload(interaction))
        return interaction

    def _interaction_payload(self, interaction: FakeInteraction) -> Interaction:
        channel = self.channels[interaction.channel_id]
        user = self.users[interaction.user_id]
        payload: Interaction = {
            "id": str(interaction.id),
            "application_id": str(self.application_id),
            "type": interaction.type,
            "data": interaction.data,
            "channel_id": str(channel.id),
            "channel": self._channel_payload(channel),
            "token": interaction.token,
            "version": 1,
            "app_permissions": "2248473465835073",
            "locale": interaction.locale,
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if channel.guild_id is not None:
            guild = self.guilds[channel.guild_id]
            payload["guild_id"] = str(guild.id)
            payload["guild"] = {"id": str(guild.id), "locale": guild.locale, "features": []}
            payload["guild_locale"] = guild.locale
            member = self._member_payload(guild, user)
            member["permissions"] = "2248473465835073"
            payload["member"] = member
            payload["authorizing_integration_owners"] = {"0": str(guild.id)}
            payload["context"] = 0
        else:
            payload["user"] = user.payload()
            payload["authorizing_integration_owners"] = {"0": str(user.id)}
            payload["context"] = 1
        if interaction.message_id is not None:
            payload["message"] = self._message_payload(self.messages[interaction.message_id])
        return payload

    # --- gateway: connection faults ----------------------------------------------------------

    def hold_gateway(self) -> None:
        """New gateway connections wait (before HELLO) until :meth:`release_gateway`."""
        self._gate.clear()

    def release_gateway(self) -> None:
        self._gate.set()

    async def drop_gateway(self, code: int = 4000) -> None:
        """Close every gateway connection with ``code`` (4000: "Unknown error, reconnect").

        Sessions stay resumable: dispatches sent until the client resumes are buffered and
        replayed on RESUME.
        """
        for session in self.sessions.values():
            async with session.lock:
                connection, session.connection = session.connection, None
            if connection is not None:
                await connection.ws.close(code=code)
        self._touch()

    async def request_reconnect(self) -> None:
        """Send RECONNECT (op 7) on every live connection."""
        for session in self.sessions.values():
            if session.connection is not None:
                await session.connection.send({"op": OP_RECONNECT, "d": None})

    async def invalidate_sessions(self) -> None:
        """Send INVALID_SESSION (op 9, not resumable) on every live connection."""
        for session in self.sessions.values():
            session.invalid = True
            if session.connection is not None:
                await session.connection.send({"op": OP_INVALID_SESSION, "d": False})
        self._touch()

    # --- gateway: protocol -------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        compress = request.query.get("compress")
        if request.query.get("encoding", "json") != "json" or compress not in (None, "zlib-stream"):
            await ws.close(code=4000, message=b"the fake speaks json and zlib-stream only")
            return ws
        connection = _Connection(ws, request.path, compress)
        self._connections.add(connection)
        self.connection_paths.append(request.path)
        self._touch()
        try:
            await self._gate.wait()
            await connection.send(
                {
                    "op": OP_HELLO,
                    "d": {"heartbeat_interval": self.heartbeat_interval_ms},
                    "s": None,
                    "t": None,
                }
            )
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    continue
                await self._gateway_message(connection, json.loads(message.data))
        finally:
            self._connections.discard(connection)
            session = connection.session
            if session is not None:
                async with session.lock:
                    if session.connection is connection:
                        session.connection = None
                        # "When you close the connection to the gateway with close code 1000
                        # or 1001, your session will be invalidated."
                        if ws.close_code in (1000, 1001):
                            session.invalid = True
            self._touch()
        return ws

    async def _gateway_message(self, connection: _Connection, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        data = payload.get("d")
        if op == OP_HEARTBEAT:
            connection.heartbeats += 1
            await connection.send({"op": OP_HEARTBEAT_ACK})
        elif op == OP_IDENTIFY:
            await self._identify(connection, data or {})
        elif op == OP_RESUME:
            await self._resume(connection, data or {})
        elif op in (OP_PRESENCE_UPDATE, OP_VOICE_STATE_UPDATE, OP_REQUEST_GUILD_MEMBERS):
            if connection.session is None:
                await connection.ws.close(code=4003, message=b"Not authenticated.")
        else:
            await connection.ws.close(code=4001, message=b"Unknown opcode.")

    async def _identify(self, connection: _Connection, data: dict[str, Any]) -> None:
        if connection.session is not None:
            await connection.ws.close(code=4005, message=b"Already authenticated.")
            return
        if data.get("token") != self.token:
            await connection.ws.close(code=4004, message=b"Authentication failed.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int) or intents < 0:
            await connection.ws.close(code=4013, message=b"Invalid intent(s).")
            return
        if intents & PRIVILEGED_INTENTS & ~self.privileged_intents:
            await connection.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        self.identifies += 1
        session = GatewaySession(uuid.uuid4().hex, intents, data)
        self.sessions[session.id] = session
        connection.session = session
        async with session.lock:
            session.connection = connection
        await self._dispatch_to(
            session,
            "READY",
            {
                "v": 10,
                "user": self.bot.payload() | {"verified": True, "mfa_enabled": False, "flags": 0},
                "guilds": [{"id": str(g), "unavailable": True} for g in self.guilds],
                "session_id": session.id,
                "resume_gateway_url": self.resume_gateway_url,
                "application": {"id": str(self.application_id), "flags": self.flags},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": [],
                "user_settings": {},
                "_trace": ["fake-discord"],
            },
        )
        if intents & INTENT_GUILDS:
            for guild in self.guilds.values():
                await self._dispatch_to(session, "GUILD_CREATE", self._guild_create(guild))

    async def _resume(self, connection: _Connection, data: dict[str, Any]) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        seq = data.get("seq")
        if (
            session is None
            or session.invalid
            or data.get("token") != self.token
            or not isinstance(seq, int)
            or seq > session.seq
        ):
            await connection.send({"op": OP_INVALID_SESSION, "d": False})
            return
        async with session.lock:
            previous, session.connection = session.connection, connection
            connection.session = session
            session.resumes += 1
            missed = [p for p in session.sent if p["s"] > seq]
            for payload in missed:
                await connection.send(payload)
            session.replayed.extend(missed)
        if previous is not None and previous is not connection:
            await previous.ws.close(code=4000)
        await self._dispatch_to(session, "RESUMED", {"_trace": ["fake-discord"]})

    async def _dispatch_to(self, session: GatewaySession, event: str, data: Any) -> None:
        async with session.lock:
            session.seq += 1
            payload: Dispatch = {"op": OP_DISPATCH, "t": event, "s": session.seq, "d": data}
            session.sent.append(payload)
            if session.connection is not None:
                await session.connection.send(payload)
        self._touch()

    # --- payloads ----------------------------------------------------------------------------

    def _member_payload(self, guild: FakeGuild, user: FakeUser) -> Member:
        return {
            "user": user.payload(),
            "nick": None,
            "avatar": None,
            "roles": [str(r) for r in guild.members.get(user.id, [])],
            "joined_at": _iso(guild.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }

    def _channel_payload(self, channel: FakeChannel) -> Channel:
        last = None if channel.last_message_id is None else str(channel.last_message_id)
        if channel.is_dm:
            assert channel.recipient_id is not None
            return {
                "id": str(channel.id),
                "type": CHANNEL_DM,
                "last_message_id": last,
                "recipients": [self.users[channel.recipient_id].payload()],
                "flags": 0,
            }
        return {
            "id": str(channel.id),
            "type": channel.type,
            "guild_id": str(channel.guild_id),
            "name": channel.name,
            "position": channel.position,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": last,
            "rate_limit_per_user": 0,
            "flags": 0,
        }

    def _guild_create(self, guild: FakeGuild) -> dict[str, Any]:
        # Without GUILD_PRESENCES, "members and presences returned in this event will only
        # contain your bot and users in voice channels".
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [role.payload() for role in guild.roles.values()],
            "emojis": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "preferred_locale": guild.locale,
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "stickers": [],
            "premium_progress_bar_enabled": False,
            "joined_at": _iso(guild.joined_at),
            "large": False,
            "unavailable": False,
            "member_count": len(guild.members),
            "voice_states": [],
            "members": [self._member_payload(guild, self.bot)],
            "channels": [self._channel_payload(c) for c in guild.channels.values()],
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def _message_payload(self, message: FakeMessage) -> Message:
        data: Message = {
            "id": str(message.id),
            "channel_id": str(message.channel_id),
            "author": self.users[message.author_id].payload(),
            "content": message.content,
            "timestamp": _iso(message.created_at),
            "edited_timestamp": None if message.edited_at is None else _iso(message.edited_at),
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": message.attachments,
            "embeds": [],
            "pinned": False,
            "type": message.type,
            "flags": message.flags,
            "components": message.components,
        }
        if message.nonce is not None:
            data["nonce"] = message.nonce
        if message.application_id is not None:
            data["application_id"] = str(message.application_id)
            data["webhook_id"] = str(message.application_id)
        if message.interaction_id is not None:
            interaction = self.interactions[message.interaction_id]
            data["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": self.users[interaction.user_id].payload(),
                "authorizing_integration_owners": {},
            }
        return data

    async def _dispatch_message_create(self, message: FakeMessage) -> None:
        channel = self.channels[message.channel_id]
        author = self.users[message.author_id]
        data = self._message_payload(message)
        if channel.guild_id is not None:
            guild = self.guilds[channel.guild_id]
            data["guild_id"] = str(guild.id)
            member = self._member_payload(guild, author)
            del member["user"]  # the author is the message's
            data["member"] = member
            intent = INTENT_GUILD_MESSAGES
        else:
            intent = INTENT_DIRECT_MESSAGES
        # Without MESSAGE_CONTENT, content is empty except in DMs, mentions of the bot and the
        # bot's own messages (developers/events/gateway#message-content-intent).
        for session in list(self.sessions.values()):
            if session.invalid or not session.intents & intent:
                continue
            visible = data.copy()
            readable = (
                session.intents & INTENT_MESSAGE_CONTENT
                or channel.is_dm
                or author.id == self.bot.id
                or f"<@{self.bot.id}>" in message.content
            )
            if not readable:
                visible.update({"content": "", "embeds": [], "attachments": [], "components": []})
            await self._dispatch_to(session, "MESSAGE_CREATE", visible)

    # --- REST --------------------------------------------------------------------------------

    def _install_routes(self) -> None:
        s = r"(?P<{}>\d+)"
        token = r"(?P<token>[^/]+)"
        routes: list[tuple[str, str, _Handler, bool]] = [
            ("GET", "/gateway", self._get_gateway, False),
            ("GET", "/gateway/bot", self._get_gateway_bot, True),
            ("GET", "/users/@me", self._get_me, True),
            ("GET", "/users/@me/guilds", self._get_my_guilds, True),
            ("GET", "/oauth2/applications/@me", self._get_application, True),
            ("GET", "/applications/@me", self._get_application, True),
            ("POST", "/users/@me/channels", self._create_dm, True),
            ("GET", "/users/" + s.format("user"), self._get_user, True),
            ("GET", "/channels/" + s.format("channel"), self._get_channel, True),
            ("POST", "/channels/" + s.format("channel") + "/messages", self._post_message, True),
            (
                "GET",
                "/channels/" + s.format("channel") + "/messages/" + s.format("message"),
                self._get_message,
                True,
            ),
            (
                "PATCH",
                "/channels/" + s.format("channel") + "/messages/" + s.format("message"),
                self._patch_message,
                True,
            ),
            (
                "DELETE",
                "/channels/" + s.format("channel") + "/messages/" + s.format("message"),
                self._delete_message,
                True,
            ),
            ("GET", "/applications/" + s.format("app") + "/commands", self._get_commands, True),
            ("PUT", "/applications/" + s.format("app") + "/commands", self._put_commands, True),
            (
                "GET",
                "/applications/" + s.format("app") + "/guilds/" + s.format("guild") + "/commands",
                self._get_commands,
                True,
            ),
            (
                "PUT",
                "/applications/" + s.format("app") + "/guilds/" + s.format("guild") + "/commands",
                self._put_commands,
                True,
            ),
            (
                "POST",
                "/interactions/" + s.format("interaction") + "/" + token + "/callback",
                self._callback,
                False,
            ),
            ("POST", "/webhooks/" + s.format("app") + "/" + token, self._followup, False),
            (
                "GET",
                "/webhooks/"
                + s.format("app")
                + "/"
                + token
                + r"/messages/(?P<message>@original|\d+)",
                self._get_webhook_message,
                False,
            ),
            (
                "PATCH",
                "/webhooks/"
                + s.format("app")
                + "/"
                + token
                + r"/messages/(?P<message>@original|\d+)",
                self._patch_webhook_message,
                False,
            ),
            (
                "DELETE",
                "/webhooks/"
                + s.format("app")
                + "/"
                + token
                + r"/messages/(?P<message>@original|\d+)",
                self._delete_webhook_message,
                False,
            ),
        ]
        self._routes = [(m, re.compile(p), h, auth) for m, p, h, auth in routes]

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body, files = await _read_body(request)
        record = RecordedRequest(request.method, path, dict(request.query), body, files)
        self.requests.append(record)
        try:
            response = await self._route(request, path, record, body)
        except DiscordHTTPError as error:
            response = error.response()
        record.status = response.status
        self._touch()
        return response

    async def _route(
        self, request: web.Request, path: str, record: RecordedRequest, body: Any
    ) -> web.StreamResponse:
        allowed: list[str] = []
        for method, pattern, handler, needs_auth in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if method != request.method:
                allowed.append(method)
                continue
            if needs_auth and request.headers.get("Authorization") != f"Bot {self.token}":
                raise DiscordHTTPError(401, 0, "401: Unauthorized")
            self._apply_faults(request.method, path)
            bucket = f"{method} {pattern.pattern}"
            headers = self._count(bucket, match)
            response = await handler(_Call(request, match, record, body))
            response.headers.update(headers)
            return response
        if allowed:
            raise DiscordHTTPError(405, 0, "405: Method Not Allowed")
        raise DiscordHTTPError(404, 0, "404: Not Found")

    def _apply_faults(self, method: str, path: str) -> None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.method == method and fault.pattern.fullmatch(path):
                fault.remaining -= 1
                raise fault.answer()

    def _count(self, bucket: str, match: re.Match[str]) -> dict[str, str]:
        """Per-route limit over 1-second windows, keyed by the top-level resource."""
        groups = match.groupdict()
        major = groups.get("channel") or groups.get("guild") or groups.get("token") or ""
        key = f"{bucket}:{major}"
        now = time.monotonic()
        start, used = self._buckets.get(key, (now, 0))
        if now - start >= 1.0:
            start, used = now, 0
        reset_after = max(0.0, 1.0 - (now - start))
        if used >= self.route_limit:
            raise self._rate_limited(reset_after, global_=False, bucket=bucket)
        used += 1
        self._buckets[key] = (start, used)
        return {
            "X-RateLimit-Limit": str(self.route_limit),
            "X-RateLimit-Remaining": str(self.route_limit - used),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": _bucket_hash(bucket),
        }

    # --- REST: users, gateway, application -----------------------------------------------------

    async def _get_gateway(self, call: _Call) -> web.StreamResponse:
        return _json({"url": self.gateway_url})

    async def _get_gateway_bot(self, call: _Call) -> web.StreamResponse:
        answer: GatewayBot = {
            "url": self.gateway_url,
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 1000 - self.identifies,
                "reset_after": 86_400_000,
                "max_concurrency": 1,
            },
        }
        return _json(answer)

    async def _get_me(self, call: _Call) -> web.StreamResponse:
        return _json(self.bot.payload() | {"verified": True, "mfa_enabled": False, "flags": 0})

    async def _get_my_guilds(self, call: _Call) -> web.StreamResponse:
        return _json(
            [
                {
                    "id": str(g.id),
                    "name": g.name,
                    "icon": None,
                    "owner": False,
                    "permissions": "0",
                    "features": [],
                }
                for g in self.guilds.values()
            ]
        )

    async def _get_application(self, call: _Call) -> web.StreamResponse:
        application: Application = {
            "id": str(self.application_id),
            "name": "Tisserand",
            "icon": None,
            "description": "",
            "bot_public": False,
            "bot_require_code_grant": False,
            "owner": self.owner.payload(),
            "verify_key": "0" * 64,
            "flags": self.flags,
            "team": None,
            "summary": "",
            "bot": self.bot.payload(),
        }
        return _json(application)

    async def _get_user(self, call: _Call) -> web.StreamResponse:
        user = self.users.get(call.snowflake("user"))
        if user is None:
            raise DiscordHTTPError(404, 10013, "Unknown User")
        return _json(user.payload())

    async def _create_dm(self, call: _Call) -> web.StreamResponse:
        body = call.body if isinstance(call.body, dict) else {}
        try:
            user = self.users[int(body["recipient_id"])]
        except (KeyError, ValueError, TypeError):
            raise _form_error("recipient_id", "BASE_TYPE_REQUIRED", "Unknown user") from None
        return _json(self._channel_payload(self.open_dm(user)))

    async def _get_channel(self, call: _Call) -> web.StreamResponse:
        channel = self._channel(call.snowflake("channel"))
        return _json(self._channel_payload(channel))

    # --- REST: messages --------------------------------------------------------------------------

    def _channel(self, channel_id: int) -> FakeChannel:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise DiscordHTTPError(404, 10003, "Unknown Channel")
        return channel

    def _store_message(
        self,
        channel: FakeChannel,
        author_id: int,
        content: str,
        *,
        body: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes]] | None = None,
        flags: int = 0,
        message_type: int = MESSAGE_DEFAULT,
        interaction: FakeInteraction | None = None,
    ) -> FakeMessage:
        body = body or {}
        message = FakeMessage(
            id=self._ids.next(),
            channel_id=channel.id,
            author_id=author_id,
            content=content,
            created_at=_now(),
            guild_id=channel.guild_id,
            type=message_type,
            flags=flags,
            nonce=None if body.get("nonce") is None else str(body["nonce"]),
            components=list(body.get("components") or []),  # validated: ActionRow
            allowed_mentions=body.get("allowed_mentions"),
        )
        if interaction is not None:
            message.interaction_id = interaction.id
            message.application_id = self.application_id
            if flags & FLAG_EPHEMERAL:
                message.ephemeral_to = interaction.user_id
        self._attach(message, body, files or {})
        self.messages[message.id] = message
        if not message.ephemeral:
            channel.last_message_id = message.id
        return message

    def _attach(
        self, message: FakeMessage, body: Mapping[str, Any], files: Mapping[str, tuple[str, bytes]]
    ) -> None:
        """Apply ``attachments`` + ``files[n]`` of a create or edit request."""
        if not files and "attachments" not in body:
            return
        kept: list[Attachment] = []
        known = {a["id"]: a for a in message.attachments}
        for index, meta in enumerate(body.get("attachments") or []):
            ident = str(meta.get("id", index))
            if ident in known:
                kept.append(known[ident])
                continue
            upload = files.get(f"files[{ident}]")
            if upload is None:
                raise _form_error(f"attachments.{index}", "ATTACHMENT_NOT_FOUND", "Unknown file")
            kept.append(self._attachment(message, meta.get("filename") or upload[0], upload[1]))
        listed = {f"files[{a.get('id', i)}]" for i, a in enumerate(body.get("attachments") or [])}
        for name, (filename, data) in files.items():
            if name not in listed:
                kept.append(self._attachment(message, filename, data))
        message.attachments = kept

    def _attachment(self, message: FakeMessage, filename: str, data: bytes) -> Attachment:
        if len(data) > ATTACHMENT_SIZE_LIMIT:
            raise DiscordHTTPError(413, 40005, "Request entity too large")
        ident = self._ids.next()
        message.files[filename] = data
        url = f"{self.root_url}/attachments/{message.channel_id}/{ident}/{filename}"
        return {
            "id": str(ident),
            "filename": filename,
            "size": len(data),
            "url": url,
            "proxy_url": url,
            "content_type": _media_type(filename),
        }

    def _validate_message(self, body: Mapping[str, Any], files: Mapping[str, Any]) -> None:
        mentions = body.get("allowed_mentions")
        if mentions is not None:
            parse = mentions.get("parse") or []
            users = mentions.get("users")
            if not set(parse) <= {"roles", "users", "everyone"}:
                raise _form_error("allowed_mentions.parse", "BASE_TYPE_CHOICES", "bad value")
            if users is not None and ("users" in parse or len(users) > 100):
                raise _form_error(
                    "allowed_mentions.users", "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE", "users"
                )
        content = body.get("content")
        if content is not None and len(str(content)) > MAX_CONTENT:
            raise _form_error("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        nonce = body.get("nonce")
        if nonce is not None and len(str(nonce)) > MAX_NONCE:
            raise _form_error("nonce", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        _validate_components(body.get("components") or [])

    async def _post_message(self, call: _Call) -> web.StreamResponse:
        channel = self._channel(call.snowflake("channel"))
        body = call.body if isinstance(call.body, dict) else {}
        files = call.record.files
        self._validate_message(body, files)
        if not (body.get("content") or body.get("components") or files or body.get("embeds")):
            raise DiscordHTTPError(400, 50006, "Cannot send an empty message")
        if channel.is_dm:
            assert channel.recipient_id is not None
            if self.users[channel.recipient_id].dms_closed:
                raise DiscordHTTPError(403, 50007, "Cannot send messages to this user")
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            known = self._nonces.get((self.bot.id, str(nonce)))
            if known is not None and time.monotonic() - known[1] < self.nonce_window:
                existing = self.messages[known[0]]
                return _json(self._message_payload(existing))
        message = self._store_message(
            channel, self.bot.id, str(body.get("content") or ""), body=body, files=files
        )
        if nonce is not None:
            self._nonces[(self.bot.id, str(nonce))] = (message.id, time.monotonic())
        await self._dispatch_message_create(message)
        return _json(self._message_payload(message))

    def _message_in(self, channel_id: int, message_id: int) -> FakeMessage:
        self._channel(channel_id)
        message = self.messages.get(message_id)
        if (
            message is None
            or message.channel_id != channel_id
            or message.deleted
            or message.ephemeral
        ):
            raise DiscordHTTPError(404, 10008, "Unknown Message")
        return message

    async def _get_message(self, call: _Call) -> web.StreamResponse:
        message = self._message_in(call.snowflake("channel"), call.snowflake("message"))
        return _json(self._message_payload(message))

    async def _patch_message(self, call: _Call) -> web.StreamResponse:
        message = self._message_in(call.snowflake("channel"), call.snowflake("message"))
        if message.author_id != self.bot.id:
            raise DiscordHTTPError(403, 50005, "Cannot edit a message authored by another user")
        body = call.body if isinstance(call.body, dict) else {}
        self._edit(message, body, call.record.files)
        await self._dispatch_message_update(message)
        return _json(self._message_payload(message))

    async def _delete_message(self, call: _Call) -> web.StreamResponse:
        message = self._message_in(call.snowflake("channel"), call.snowflake("message"))
        message.deleted = True
        return web.Response(status=204)

    def _edit(
        self, message: FakeMessage, body: Mapping[str, Any], files: Mapping[str, tuple[str, bytes]]
    ) -> None:
        self._validate_message(body, files)
        if "content" in body:
            message.content = str(body["content"] or "")
        if "components" in body:
            message.components = list(body["components"] or [])
        if "allowed_mentions" in body:
            message.allowed_mentions = body["allowed_mentions"]
        if "flags" in body and body["flags"] is not None:
            message.flags = (message.flags & FLAG_EPHEMERAL) | int(body["flags"])
        self._attach(message, body, files)
        message.flags &= ~FLAG_LOADING
        message.edited_at = _now()
        message.edits += 1

    async def _dispatch_message_update(self, message: FakeMessage) -> None:
        if message.ephemeral:
            return
        channel = self.channels[message.channel_id]
        data = self._message_payload(message)
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
        intent = INTENT_DIRECT_MESSAGES if channel.is_dm else INTENT_GUILD_MESSAGES
        await self.dispatch("MESSAGE_UPDATE", data, intent=intent)

    # --- REST: application commands ---------------------------------------------------------------

    def _find_command(
        self, name: str, channel: FakeChannel, *, kind: int = COMMAND_CHAT_INPUT
    ) -> ApplicationCommand | None:
        scopes: list[int | None] = [channel.guild_id, None] if channel.guild_id else [None]
        for scope in scopes:
            for command in self.commands.get(scope, []):
                if command["name"] == name and command.get("type", 1) == kind:
                    return command
        return None

    async def _get_commands(self, call: _Call) -> web.StreamResponse:
        scope = self._command_scope(call)
        with_localizations = call.request.query.get("with_localizations", "").lower() in (
            "true",
            "1",
        )
        result = []
        for command in self.commands.get(scope, []):
            shown = json.loads(json.dumps(command))
            if not with_localizations:
                _strip_localizations(shown)
            result.append(shown)
        return _json(result)

    async def _put_commands(self, call: _Call) -> web.StreamResponse:
        scope = self._command_scope(call)
        if not isinstance(call.body, list):
            raise _form_error("_root", "LIST_TYPE_CONVERT", "Must be an array.")
        previous: dict[tuple[str, int], ApplicationCommand] = {
            (c["name"], c.get("type", 1)): c for c in self.commands.get(scope, [])
        }
        stored: list[ApplicationCommand] = []
        seen: set[tuple[str, int]] = set()
        for index, raw in enumerate(call.body):
            if not isinstance(raw, dict):
                raise _form_error(str(index), "DICT_TYPE_CONVERT", "Must be an object.")
            kind = int(raw.get("type", 1))
            name = raw.get("name")
            names = [name, *((raw.get("name_localizations") or {}).values())]
            if not all(_valid_command_name(n, kind) for n in names):
                raise _form_error(f"{index}.name", "APPLICATION_COMMAND_INVALID_NAME", "Invalid")
            assert isinstance(name, str)
            if kind in (COMMAND_USER, COMMAND_MESSAGE) and (
                raw.get("description") or raw.get("options")
            ):
                raise _form_error(
                    f"{index}.description", "APPLICATION_COMMAND_INVALID", "Not allowed"
                )
            if (name, kind) in seen:
                raise DiscordHTTPError(
                    400, 40041, "An application command with that name already exists"
                )
            seen.add((name, kind))
            if kind == 1 and not 1 <= len(str(raw.get("description", ""))) <= 100:
                raise _form_error(f"{index}.description", "BASE_TYPE_BAD_LENGTH", "1-100")
            old = previous.get((name, kind))
            command = _command_object(raw)
            command["id"] = old["id"] if old else str(self._ids.next())
            command["application_id"] = str(self.application_id)
            command["version"] = str(self._ids.next())
            if scope is not None:
                command["guild_id"] = str(scope)
            stored.append(command)
        self.commands[scope] = stored
        return _json(stored)

    def _command_scope(self, call: _Call) -> int | None:
        if call.snowflake("app") != self.application_id:
            raise DiscordHTTPError(403, 50001, "Missing Access")
        guild = call.match.groupdict().get("guild")
        if guild is None:
            return None
        if int(guild) not in self.guilds:
            raise DiscordHTTPError(403, 50001, "Missing Access")
        return int(guild)

    # --- REST: interactions -----------------------------------------------------------------------

    def _interaction_by_token(self, token: str) -> FakeInteraction:
        for interaction in self.interactions.values():
            if interaction.token == token:
                if time.monotonic() - interaction.created > INTERACTION_TOKEN_LIFETIME:
                    break
                return interaction
        raise DiscordHTTPError(404, 10015, "Unknown Webhook")

    async def _callback(self, call: _Call) -> web.StreamResponse:
        interaction = self.interactions.get(call.snowflake("interaction"))
        if interaction is None or interaction.token != call.arg("token"):
            raise DiscordHTTPError(404, 10062, "Unknown interaction")
        if interaction.acknowledged:
            raise DiscordHTTPError(400, 40060, "Interaction has already been acknowledged.")
        if time.monotonic() - interaction.created > self.response_deadline:
            raise DiscordHTTPError(404, 10062, "Unknown interaction")
        body = call.body if isinstance(call.body, dict) else {}
        kind = body.get("type")
        data = body.get("data") or {}
        files = call.record.files
        component = interaction.type == INTERACTION_MESSAGE_COMPONENT
        valid = {
            INTERACTION_APPLICATION_COMMAND: {4, 5, 9},
            INTERACTION_MESSAGE_COMPONENT: {4, 5, 6, 7, 9},
            INTERACTION_AUTOCOMPLETE: {8},
        }[interaction.type]
        if kind not in valid:
            raise DiscordHTTPError(400, 50035, "Invalid Form Body", errors={"type": {}})
        channel = self.channels[interaction.channel_id]
        message: FakeMessage | None = None
        if kind == CALLBACK_CHANNEL_MESSAGE:
            self._validate_message(data, files)
            if not (data.get("content") or data.get("components") or files):
                raise DiscordHTTPError(400, 50006, "Cannot send an empty message")
            flags = int(data.get("flags") or 0) & FLAG_EPHEMERAL
            message = self._store_message(
                channel,
                self.bot.id,
                str(data.get("content") or ""),
                body=data,
                files=files,
                flags=flags,
                message_type=MESSAGE_DEFAULT if component else MESSAGE_CHAT_INPUT_COMMAND,
                interaction=interaction,
            )
            interaction.original_message_id = message.id
        elif kind == CALLBACK_DEFERRED_CHANNEL_MESSAGE:
            flags = (int(data.get("flags") or 0) & FLAG_EPHEMERAL) | FLAG_LOADING
            message = self._store_message(
                channel,
                self.bot.id,
                "",
                flags=flags,
                message_type=MESSAGE_DEFAULT if component else MESSAGE_CHAT_INPUT_COMMAND,
                interaction=interaction,
            )
            interaction.original_message_id = message.id
            interaction.deferred = kind
        elif kind == CALLBACK_DEFERRED_UPDATE_MESSAGE:
            # For a component, the "original response" is the message it belongs to.
            interaction.deferred = kind
            interaction.original_message_id = interaction.message_id
        elif kind == CALLBACK_UPDATE_MESSAGE:
            assert interaction.message_id is not None
            message = self.messages[interaction.message_id]
            self._edit(message, data, files)
            interaction.original_message_id = message.id
        elif kind == CALLBACK_AUTOCOMPLETE_RESULT:
            choices = data.get("choices")
            if not isinstance(choices, list) or len(choices) > 25:
                raise _form_error("data.choices", "BASE_TYPE_MAX_LENGTH", "25 or fewer")
        interaction.callbacks.append(cast(InteractionCallback, body))
        if message is not None and kind == CALLBACK_CHANNEL_MESSAGE and not message.ephemeral:
            await self._dispatch_message_create(message)
        elif message is not None and kind == CALLBACK_UPDATE_MESSAGE:
            await self._dispatch_message_update(message)
        if call.request.query.get("with_response", "").lower() not in ("true", "1"):
            return web.Response(status=204)
        result: dict[str, Any] = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "response_message_id": None if message is None else str(message.id),
                "response_message_loading": bool(message and message.loading),
                "response_message_ephemeral": bool(message and message.ephemeral),
            },
            "resource": {"type": kind},
        }
        if message is not None and kind in (CALLBACK_CHANNEL_MESSAGE, CALLBACK_UPDATE_MESSAGE):
            result["resource"]["message"] = self._message_payload(message)
        return _json(result)

    async def _followup(self, call: _Call) -> web.StreamResponse:
        if call.snowflake("app") != self.application_id:
            raise DiscordHTTPError(404, 10015, "Unknown Webhook")
        interaction = self._interaction_by_token(call.arg("token"))
        if not interaction.acknowledged:
            raise DiscordHTTPError(404, 10015, "Unknown Webhook")
        body = call.body if isinstance(call.body, dict) else {}
        files = call.record.files
        original = (
            None
            if interaction.original_message_id is None
            else self.messages[interaction.original_message_id]
        )
        if original is not None and original.loading and not original.deleted:
            # Documented backwards compatibility: right after a type 5 defer, a follow-up
            # edits the loading message and keeps its ephemeral state.
            self._edit(original, body, files)
            if not original.ephemeral:
                await self._dispatch_message_create(original)
            return _json(self._message_payload(original))
        self._validate_message(body, files)
        if not (body.get("content") or body.get("components") or files):
            raise DiscordHTTPError(400, 50006, "Cannot send an empty message")
        flags = int(body.get("flags") or 0) & FLAG_EPHEMERAL
        message = self._store_message(
            self.channels[interaction.channel_id],
            self.bot.id,
            str(body.get("content") or ""),
            body=body,
            files=files,
            flags=flags,
            interaction=interaction,
        )
        interaction.followup_ids.append(message.id)
        if not message.ephemeral:
            await self._dispatch_message_create(message)
        return _json(self._message_payload(message))

    def _webhook_message(self, call: _Call) -> tuple[FakeInteraction, FakeMessage]:
        if call.snowflake("app") != self.application_id:
            raise DiscordHTTPError(404, 10015, "Unknown Webhook")
        interaction = self._interaction_by_token(call.arg("token"))
        which = call.arg("message")
        if which == "@original":
            message_id = interaction.original_message_id
        else:
            message_id = int(which)
            if message_id not in interaction.followup_ids:
                message_id = None
        message = None if message_id is None else self.messages.get(message_id)
        if message is None or message.deleted:
            raise DiscordHTTPError(404, 10008, "Unknown Message")
        return interaction, message

    async def _get_webhook_message(self, call: _Call) -> web.StreamResponse:
        _, message = self._webhook_message(call)
        return _json(self._message_payload(message))

    async def _patch_webhook_message(self, call: _Call) -> web.StreamResponse:
        _, message = self._webhook_message(call)
        was_loading = message.loading
        body = call.body if isinstance(call.body, dict) else {}
        self._edit(message, body, call.record.files)
        if was_loading and not message.ephemeral:
            await self._dispatch_message_create(message)
        else:
            await self._dispatch_message_update(message)
        return _json(self._message_payload(message))

    async def _delete_webhook_message(self, call: _Call) -> web.StreamResponse:
        _, message = self._webhook_message(call)
        message.deleted = True
        return web.Response(status=204)

    # --- CDN ------------------------------------------------------------------------------------

    async def _cdn(self, request: web.Request) -> web.StreamResponse:
        for message in self.messages.values():
            for attachment in message.attachments:
                if attachment["id"] == request.match_info["attachment"]:
                    data = message.files.get(attachment["filename"], b"")
                    return web.Response(body=data, content_type=attachment["content_type"])
        return web.Response(status=404)


class _RateLimitError(DiscordHTTPError):
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
        return _json(body, status=429, headers=self.headers)


# --- helpers -------------------------------------------------------------------------------------


def _json(
    data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON answer with Discord's exact ``Content-Type`` (discord.py compares it verbatim)."""
    body = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    response = web.Response(body=body, status=status, headers=headers)
    response.headers["Content-Type"] = "application/json"
    return response


def _bucket_hash(route: str) -> str:
    return hashlib.sha1(route.encode()).hexdigest()[:16]


def _media_type(filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return {
        "ics": "text/calendar",
        "csv": "text/csv",
        "html": "text/html",
        "txt": "text/plain",
        "png": "image/png",
        "jpg": "image/jpeg",
        "json": "application/json",
    }.get(extension, "application/octet-stream")


async def _read_body(request: web.Request) -> tuple[Any, dict[str, tuple[str, bytes]]]:
    """The JSON body (or ``payload_json``) and the ``files[n]`` of a multipart body."""
    files: dict[str, tuple[str, bytes]] = {}
    if request.content_type == "multipart/form-data":
        reader = await request.multipart()
        payload: Any = None
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                continue
            raw = await part.read()
            name = part.name or ""
            if name == "payload_json":
                payload = json.loads(raw)
            elif name.startswith("files["):
                files[name] = (part.filename or name, bytes(raw))
        return payload, files
    if not request.can_read_body:
        return None, files
    text = await request.text()
    if not text:
        return None, files
    try:
        return json.loads(text), files
    except json.JSONDecodeError:
        raise DiscordHTTPError(400, 50109, "The request body contains invalid JSON.") from None


def _validate_components(rows: list[Any]) -> None:
    if len(rows) > 5:
        raise _form_error("components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    seen: set[str] = set()
    for r, row in enumerate(rows):
        if not isinstance(row, dict) or row.get("type") != 1:
            raise _form_error(f"components.{r}.type", "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "row")
        items = row.get("components") or []
        selects = [i for i in items if i.get("type") in (3, 5, 6, 7, 8)]
        if not items or len(items) > 5 or (selects and len(items) > 1):
            raise _form_error(
                f"components.{r}.components", "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "too wide"
            )
        for c, item in enumerate(items):
            where = f"components.{r}.components.{c}"
            custom_id = item.get("custom_id")
            if custom_id is not None:
                if not 1 <= len(custom_id) <= MAX_CUSTOM_ID:
                    raise _form_error(f"{where}.custom_id", "BASE_TYPE_BAD_LENGTH", "1-100")
                if custom_id in seen:
                    raise _form_error(
                        f"{where}.custom_id", "COMPONENT_CUSTOM_ID_DUPLICATED", "duplicated"
                    )
                seen.add(custom_id)
            if item.get("type") == 2:
                if item.get("style") != 5 and custom_id is None:
                    raise _form_error(f"{where}.custom_id", "BASE_TYPE_REQUIRED", "required")
                if len(item.get("label") or "") > MAX_BUTTON_LABEL:
                    raise _form_error(f"{where}.label", "BASE_TYPE_MAX_LENGTH", "80 or fewer")
            if item.get("type") == 3:
                options = item.get("options") or []
                values = [o.get("value") for o in options]
                if not 1 <= len(options) <= MAX_SELECT_OPTIONS:
                    raise _form_error(f"{where}.options", "BASE_TYPE_BAD_LENGTH", "1-25")
                if len(set(values)) != len(values):
                    raise _form_error(
                        f"{where}.options", "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED", "dup"
                    )
                for o, option in enumerate(options):
                    if len(option.get("label") or "") > 100 or len(option.get("value") or "") > 100:
                        raise _form_error(f"{where}.options.{o}", "BASE_TYPE_MAX_LENGTH", "100")


_COMMAND_FIELDS = (
    "type",
    "name",
    "name_localizations",
    "description",
    "description_localizations",
    "options",
    "default_member_permissions",
    "dm_permission",
    "nsfw",
    "integration_types",
    "contexts",
)


def _command_object(raw: Mapping[str, Any]) -> ApplicationCommand:
    """A stored command as Discord returns it: defaults filled, unknown fields dropped."""
    command = cast(ApplicationCommand, {key: raw[key] for key in _COMMAND_FIELDS if key in raw})
    command.setdefault("type", 1)
    command.setdefault("description", "")
    command.setdefault("name_localizations", None)
    command.setdefault("description_localizations", None)
    permissions = command.get("default_member_permissions")
    command["default_member_permissions"] = None if permissions is None else str(permissions)
    command.setdefault("dm_permission", True)
    command.setdefault("nsfw", False)
    command.setdefault("integration_types", [0])
    command.setdefault("contexts", None)
    return command


def _valid_command_name(name: Any, kind: int) -> bool:
    """Application command naming (developers/interactions/application-commands)."""
    if not isinstance(name, str) or not 1 <= len(name) <= 32:
        return False
    if kind in (COMMAND_USER, COMMAND_MESSAGE):
        return bool(name.strip())
    return bool(re.fullmatch(r"[-_'\w]{1,32}", name)) and name == name.lower()


def _strip_localizations(command: dict[str, Any]) -> None:
    """Without ``with_localizations``, Discord gives ``name_localized`` instead of the maps."""
    command.pop("name_localizations", None)
    command.pop("description_localizations", None)
    for option in command.get("options") or []:
        _strip_localizations(option)
    for choice in command.get("choices") or []:
        choice.pop("name_localizations", None)


def _option_type(value: Any, command: ApplicationCommand | None, name: str) -> OptionType:
    for option in (command.get("options") if command else None) or []:
        if option.get("name") == name:
            return cast(OptionType, int(option["type"]))
    if isinstance(value, bool):
        return OPTION_BOOLEAN
    if isinstance(value, int):
        return OPTION_INTEGER
    if isinstance(value, float):
        return OPTION_NUMBER
    return OPTION_STRING
