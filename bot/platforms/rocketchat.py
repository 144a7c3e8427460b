"""Rocket.Chat: the bot as a member of a self-hosted Rocket.Chat, over REST and the realtime API.

Connection
    REST goes through ``rocketchat_API`` (``requests`` underneath) run in worker threads with
    :func:`asyncio.to_thread`, so the event loop never blocks. Login with the password
    (``POST /api/v1/login``) or with a personal access token and its user id. Incoming messages
    come from the realtime API (DDP over ``/websocket``, see :mod:`bot.platforms.ddp`): login
    with the REST token as resume token, subscription ``stream-room-messages`` /
    ``__my_messages__`` (every room the bot is in), pings answered, reconnection with
    exponential backoff and jitter, subscription replayed.

Nothing lost, nothing twice
    Every message id handled is remembered (bounded), and per room the timestamp of the last
    message seen (the *mark*). When the connection drops, the marks are snapshot; after the
    reconnection ``rooms.get`` lists the bot's rooms with their last-message date (``lm``) and
    each room that moved is read with ``channels.history`` / ``groups.history`` / ``im.history``
    from its mark (inclusive, paged); the missed messages of every room are handled in the
    order they were said, skipping ids already handled, and a failed catch-up is tried again
    later. Live events that arrive meanwhile go through the same single consumer, so a message
    is handled once whichever way it comes first.

    The stream pushes new messages *and* updates (edits, reactions) in the same shape. An unseen
    message is new only if its timestamp is not older than the room's mark (minus a few seconds
    of tolerance) or, for a room not seen yet, than the adapter's start; anything else is an
    update of an older message. So an edit (``editedAt``) never runs a command twice, and an old
    message edited after a restart does not run at all. Timestamps are the server's: the
    adapter reads the server's clock from the HTTP ``Date`` header at login and corrects a skew
    of more than two seconds (also for ``X-RateLimit-Reset``).

Across restarts
    With a :class:`~bot.storage.platform_state.CursorStore`, each room's *cursor* (timestamp
    and id of the newest message handled) is kept in the database. It moves only once a message
    is handled (the handler returned: database committed, replies posted), and is written at
    most once per ``cursor_flush_interval`` (1 s) and at stop, so a burst costs one write.
    ``stop`` lets the message in hand finish before writing. At start, before the first live
    message, the same catch-up reads every room from its cursor (inclusive; the cursor's own
    message is skipped), rooms without a cursor from the moment the last run started listening
    (a direct conversation opened meanwhile), within ``catch_up_hours`` (24) and the newest
    ``catch_up_max_messages`` (200) per room; older messages are not handled. The very first
    start on a database replays nothing. Messages not newer than a room's stored cursor are
    never new again, so an edit after a restart does not run a command twice.

    A crash between handling and the cursor write replays the messages handled since the last
    write. Replies to a message get ids derived from it (``reply:<id>:<n>``): a replayed
    command's answers are refused by the server as duplicates. A run marks itself running in
    the database before it handles anything and stopped (with its last cursors, in one
    transaction) once ``stop`` finished cleanly; after a run that did not, the adapter asks for
    the first reply to each caught-up command (``chat.getMessage``) and does not run again a
    command the previous run answered. Still replayed after a crash: a message whose handler
    answered nothing (plain messages, which the listeners store idempotently), and a command
    whose process died after its database commit but before its first reply was posted.

Commands
    A message starting with the prefix (``!`` by default), or with a mention of the bot
    (``@tisserand aide``), or any message in a direct conversation becomes a
    :class:`~bot.core.CommandEvent` with the command line without prefix or mention. Other
    messages become :class:`~bot.core.MessageEvent`. The bot's own messages, messages carrying a
    ``bot`` field (integrations) and messages of bot users (``type: "bot"`` or role ``bot``)
    are ignored.

Choices (and why this form)
    A reply with choices is posted with an attachment of action buttons (``type: "button"``,
    ``msg_in_chat_window: true``, ``msg: "<prefix>choix <action>"``): a click makes the user
    post that command, which the adapter turns into a :class:`~bot.core.ChoiceEvent` (its
    ``ref`` is None: the clicked message is not known; a reaction's ``ref`` is the bot's
    message). Buttons are stateless. For up to ten choices the text also lists them as
    ``:one:`` .. ``:keycap_ten:`` and the bot adds those reactions, so members can vote with a
    click on a reaction too. Reaction changes arrive as message updates carrying the whole message,
    attachments included: the action of reaction *n* is read back from the *n*-th button of the
    message itself (``chat.getMessage`` when an update lacks them). No mapping is stored
    anywhere, so it survives restarts. ``customFields`` was not chosen: it is disabled unless a
    server administrator defines a schema (``Message_CustomFields_Enabled``).

    ``chat.update`` only edits the text (attachments cannot be edited): an edit changes the
    text and the numbered list, the buttons stay as posted.

    Reactions are diffed against the last state seen of each message (bounded memory). For a
    message whose previous state is unknown (after a restart), every current reaction is
    reported once: at least once, which the idempotent handlers (one vote per voter and poll)
    absorb.

Replies
    ``chat.sendMessage`` with a client-chosen ``_id`` for everything: ``deliver`` derives the id
    from the outbox token, so a retry never posts twice; ``respond`` from the message answered
    (random for reactions, which can be several per message). For an ``_id`` that already
    exists the server answers 400 (``Cannot read properties of undefined (reading
    'starred')``); the adapter then reads the message with ``chat.getMessage`` and, when it is
    the bot's own in the same room, treats it as already delivered. Direct messages through ``im.create``; files through
    ``rooms.media`` + ``rooms.mediaConfirm`` (``rooms.upload`` on servers without them), one
    message per file after the text (on a retry, files already posted after the text are not
    posted again); long texts are split at line breaks (5,000 characters by default, the
    server's ``Message_MaxAllowedSize``). Mass mentions (``@all``, ``@here``, ``@everyone``) are
    neutralised unless ``reply.mentions``. Neutral Markdown is rendered by
    :mod:`bot.platforms.rc_markdown`.

Roles
    ``users.info`` gives ``type`` and, when the bot holds ``view-full-other-user-info`` (admin by
    default, grantable to the ``bot`` role), ``roles``; cached ``role_cache_seconds`` against
    the injected clock. A user is a coordinator with one of ``coordinator_roles`` or when listed
    in ``coordinators`` (usernames).

Rate limits
    Outbound writes are paced (``messages_per_second``). A 429 waits until ``X-RateLimit-Reset``
    (epoch milliseconds) and retries, up to ``rate_limit_max_wait`` seconds per call; beyond
    that :class:`~bot.core.DeliveryError` carries ``retry_after`` so the outbox retries later.
    5xx and network errors raise :class:`~bot.core.DeliveryError`; 4xx that retrying cannot fix
    raise it with ``permanent=True``. A bot user with the ``bot`` role bypasses the server's REST
    limiter (``api-bypass-rate-limit``), whose default is 10 calls per minute per endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import re
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
from pydantic import BaseModel, ConfigDict, Field, field_validator
from rocketchat_API.APIExceptions.RocketExceptions import (
    RocketApiException,
    RocketAuthenticationException,
    RocketBadStatusCodeException,
    RocketConnectionException,
)
from rocketchat_API.rocketchat import RocketChat

from bot.clock import Clock, SystemClock
from bot.config import Problem
from bot.core import (
    Actor,
    Attachment,
    ChoiceEvent,
    CommandEvent,
    ConfigError,
    DeliveryError,
    DirectTarget,
    Event,
    MessageEvent,
    MessageRef,
    Place,
    PlaceTarget,
    ReactionEvent,
    Reply,
    Role,
    Target,
    TisserandError,
    render_mentions,
)
from bot.i18n import N_
from bot.platforms.base import EventHandler
from bot.platforms.ddp import DDPClient, DDPConnectionLost, DDPError
from bot.platforms.rc_markdown import neutralize_mass_mentions, to_rocketchat
from bot.storage.platform_state import CLEAN_STOP, LISTENING, Cursor, CursorStore

log = logging.getLogger(__name__)

PLATFORM = "rocketchat"
CHOICE_KEYWORD = "choix"
"""``<prefix>choix <action>``: the command an action button posts."""
NUMBER_EMOJIS = (
    ":one:",
    ":two:",
    ":three:",
    ":four:",
    ":five:",
    ":six:",
    ":seven:",
    ":eight:",
    ":nine:",
    ":keycap_ten:",
)
MAX_MESSAGE_LENGTH = 5000
_ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"
_TOLERANCE_MS = 5_000
_START_TOLERANCE_MS = 1_500
_T = TypeVar("_T")


class RocketChatSettings(BaseModel):
    """The ``[rocketchat]`` section. Secrets are not here: the password or personal access token
    come from ``TISSERAND_ROCKETCHAT_PASSWORD`` / ``TISSERAND_ROCKETCHAT_TOKEN``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    server_url: str
    username: str
    user_id: str | None = None
    """Required with a personal access token."""
    command_prefix: str = "!"
    channels: list[str] = Field(default_factory=list)
    """Channel names to join and listen to; empty means every room the bot is in."""
    coordinator_roles: list[str] = Field(default_factory=lambda: ["admin", "coordinator"])
    coordinators: list[str] = Field(default_factory=list)
    """Usernames that are coordinators whatever their roles."""
    messages_per_second: float = Field(default=5.0, gt=0)
    role_cache_seconds: int = Field(default=300, ge=0)
    number_reactions: bool = True
    """Add ``:one:`` .. ``:keycap_ten:`` under messages with up to ten choices."""
    catch_up_hours: float = Field(default=24.0, ge=0)
    """After a restart (or a long drop), messages said while the bot was away are handled when
    they are no older than this; older ones are not. 0 turns the catch-up after a restart off
    (drops of the connection are then caught up without this time bound)."""
    catch_up_max_messages: int = Field(default=200, ge=1)
    """At most this many messages per room are handled by one catch-up: the newest ones."""

    @field_validator("server_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                N_("must be an http:// or https:// URL, such as https://chat.example.org")
            )
        return value.strip().rstrip("/")

    @field_validator("command_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not value.strip() or any(c.isspace() for c in value):
            raise ValueError(N_("must be a non-empty prefix without spaces, such as !"))
        return value

    @field_validator("channels", mode="after")
    @classmethod
    def _channel_names(cls, value: list[str]) -> list[str]:
        return [name.lstrip("#") for name in value]


class RocketChatError(TisserandError):
    """The adapter could not start (server unreachable, credentials refused)."""


# --- REST in worker threads ----------------------------------------------------------------------

_local = threading.local()


def _record_response(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    _local.response = response


class RestError(Exception):
    """A REST call failed. ``status`` is None for a network error."""

    def __init__(
        self,
        status: int | None,
        body: Mapping[str, Any] | None,
        headers: Mapping[str, str],
        message: str,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = dict(body or {})
        self.headers = {k.lower(): v for k, v in headers.items()}

    @property
    def error_type(self) -> str | None:
        value = self.body.get("errorType")
        return value if isinstance(value, str) else None


class _RateLimited(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after:.1f} s")
        self.retry_after = retry_after


def _last_headers() -> dict[str, str]:
    response = getattr(_local, "response", None)
    return dict(response.headers) if response is not None else {}


def _invoke(fn: Callable[[], Any]) -> dict[str, Any]:
    """Run one ``rocketchat_API`` call (in a worker thread), mapping its errors to RestError."""
    _local.response = None
    try:
        result = fn()
    except (RocketApiException, RocketBadStatusCodeException) as exc:
        raise RestError(exc.status_code, exc.response_json, _last_headers(), str(exc)) from None
    except RocketAuthenticationException:
        raise RestError(401, None, _last_headers(), "authentication refused") from None
    except RocketConnectionException:
        raise RestError(None, None, {}, "unexpected answer to the login") from None
    except requests.RequestException as exc:
        raise RestError(None, None, {}, f"{type(exc).__name__}: {exc}") from None
    if not isinstance(result, dict):
        raise RestError(200, None, _last_headers(), "the server did not answer JSON")
    return result


def _invoke_dated(fn: Callable[[], Any]) -> tuple[dict[str, Any], float | None]:
    """Like :func:`_invoke`, plus the server's clock from the HTTP ``Date`` header."""
    result = _invoke(fn)
    response = getattr(_local, "response", None)
    header = response.headers.get("Date") if response is not None else None
    if not header:
        return result, None
    try:
        return result, parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError):
        return result, None


class _Rest:
    """One authenticated ``rocketchat_API`` client whose calls run in worker threads."""

    def __init__(self, server_url: str, timeout: float = 30.0) -> None:
        self.server_url = server_url
        self.timeout = timeout
        self.session = requests.Session()
        self.session.hooks["response"].append(_record_response)
        self.client = RocketChat(server_url=server_url, session=self.session, timeout=timeout)
        self.user_id = ""
        self.token = ""
        self.server_date: float | None = None
        """The server's clock (``Date`` header, one-second precision) at the last login."""

    async def call(self, fn: Callable[[RocketChat], Any]) -> dict[str, Any]:
        client = self.client
        return await asyncio.to_thread(_invoke, lambda: fn(client))

    async def login_password(self, username: str, password: str) -> dict[str, Any]:
        client = RocketChat(server_url=self.server_url, session=self.session, timeout=self.timeout)
        data, self.server_date = await asyncio.to_thread(
            _invoke_dated, lambda: client.login(username, password)
        )
        payload = data.get("data") or {}
        self.client = client
        self.user_id = str(payload.get("userId", ""))
        self.token = str(payload.get("authToken", ""))
        me = payload.get("me")
        if not isinstance(me, dict):
            me = await self.call(lambda c: c.me())
        return me

    async def login_token(self, user_id: str, token: str) -> dict[str, Any]:
        self.client = RocketChat(
            server_url=self.server_url,
            session=self.session,
            timeout=self.timeout,
            auth_token=token,
            user_id=user_id,
        )
        self.user_id = user_id
        self.token = token
        client = self.client
        me, self.server_date = await asyncio.to_thread(_invoke_dated, lambda: client.me())
        return me

    async def logout(self) -> None:
        with contextlib.suppress(RestError):
            await self.call(lambda c: c.logout())

    def close(self) -> None:
        self.session.close()


# --- small helpers ---------------------------------------------------------------------------------


def message_id_for(token: str) -> str:
    """The Rocket.Chat message ``_id`` (17 Meteor-alphabet characters) for an outbox token."""
    number = int.from_bytes(hashlib.sha256(f"tisserand:{token}".encode()).digest(), "big")
    chars = []
    for _ in range(17):
        number, rest = divmod(number, len(_ID_ALPHABET))
        chars.append(_ID_ALPHABET[rest])
    return "".join(chars)


def _random_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(17))


def _ms(value: Any) -> int | None:
    """Milliseconds since the epoch from EJSON ``{"$date": ms}`` or an ISO string."""
    if isinstance(value, dict) and isinstance(value.get("$date"), int | float):
        return int(value["$date"])
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return round(moment.timestamp() * 1000)
    if isinstance(value, int | float):
        return int(value)
    return None


def _ms_of(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def _iso(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _split_text(text: str, limit: int) -> list[str]:
    if len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks


def websocket_url(server_url: str) -> str:
    parts = urlsplit(server_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/websocket", "", ""))


class _Pacer:
    """At most ``rate`` writes per second, in order."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            loop = asyncio.get_running_loop()
            now = loop.time()
            if self._next > now:
                await asyncio.sleep(self._next - now)
                now = loop.time()
            self._next = max(now, self._next) + self.interval


class _Bounded(OrderedDict[str, _T]):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: str, value: _T) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.limit:
            self.popitem(last=False)


@dataclass(frozen=True)
class _RoomInfo:
    id: str
    type: str
    name: str

    @property
    def is_direct(self) -> bool:
        return self.type == "d"


@dataclass
class _Live:
    message: dict[str, Any]
    meta: dict[str, Any]


@dataclass
class _CatchUp:
    marks: dict[str, int]
    """Per room, the timestamp to read from (inclusive)."""
    default_since: int | None
    """For rooms without a mark: where to read from; None: not at all (from now on only)."""
    restart: bool = False
    """The catch-up after a restart (recorded as done once it succeeded)."""
    probe: bool = False
    """The previous run did not stop cleanly: it may have handled messages past its cursors,
    so a command is run only if the bot's answer to it is not found."""
    attempt: int = 0


@dataclass
class _UserInfo:
    user_id: str
    username: str
    name: str
    roles: frozenset[str] | None
    is_bot: bool


@dataclass
class Stats:
    """Counters for tests and benchmarks."""

    rate_limited: int = 0
    reconnections: int = 0
    caught_up: int = 0
    duplicates_avoided: int = 0
    replays_avoided: int = 0
    """Commands caught up after a restart that the previous run had already answered."""
    catch_up_truncated: int = 0
    """Rooms where a catch-up left older messages out (``catch_up_max_messages``)."""
    cursor_writes: int = 0
    """Transactions that stored cursors (see ``cursor_flush_interval``)."""
    handled_ids: deque[str] = field(default_factory=lambda: deque(maxlen=1000))
    """The last message ids handed to the handler."""


# --- the platform -------------------------------------------------------------------------------


class RocketChatPlatform:
    """The Rocket.Chat platform (see the module docstring)."""

    name = PLATFORM

    def __init__(
        self,
        settings: RocketChatSettings,
        *,
        password: str | None = None,
        token: str | None = None,
        clock: Clock | None = None,
        wall_time: Callable[[], float] = time.time,
        rate_limit_max_wait: float = 20.0,
        reconnect_min: float = 0.5,
        reconnect_max: float = 60.0,
        ping_interval: float = 25.0,
        request_timeout: float = 30.0,
        max_message_length: int = MAX_MESSAGE_LENGTH,
        cursors: CursorStore | None = None,
        cursor_flush_interval: float = 1.0,
        stop_timeout: float = 10.0,
    ) -> None:
        """``cursors`` keeps how far each room was read in the database: without it, nothing
        said while the bot was stopped is caught up. Cursor writes happen at most once per
        ``cursor_flush_interval`` seconds, and at stop. ``stop`` lets the message being handled
        finish for up to ``stop_timeout`` seconds."""
        if not password and not token:
            raise ConfigError(
                [
                    (
                        "rocketchat",
                        N_("set TISSERAND_ROCKETCHAT_PASSWORD or TISSERAND_ROCKETCHAT_TOKEN"),
                    )
                ]
            )
        if token and not password and not settings.user_id:
            raise ConfigError([("rocketchat.user_id", N_("required with a personal access token"))])
        self.settings = settings
        self._password = password
        self._token = token
        self._clock: Clock = clock or SystemClock()
        self._wall = wall_time
        self.rate_limit_max_wait = rate_limit_max_wait
        self._reconnect = (reconnect_min, reconnect_max)
        self._ping_interval = ping_interval
        self._max_len = max_message_length
        self._rest = _Rest(settings.server_url, timeout=request_timeout)
        self._pacer = _Pacer(settings.messages_per_second)
        self._handler: EventHandler | None = None
        self._ddp: DDPClient | None = None
        self._queue: asyncio.Queue[_Live | _CatchUp | None] = asyncio.Queue()
        self._consumer: asyncio.Task[None] | None = None
        self._started = False
        self._stopped = False
        self.user_id = ""
        self.username = settings.username
        self._mention: re.Pattern[str] = self._mention_pattern(settings.username)
        self._rooms: dict[str, _RoomInfo] = {}
        self._allowed_rooms: set[str] | None = None
        self._dm_rooms: dict[str, str] = {}
        self._users = _Bounded[tuple[datetime, _UserInfo]](10_000)
        self._usernames: dict[str, str] = {}
        self._seen = _Bounded[bool](20_000)
        self._reactions = _Bounded[dict[str, frozenset[str]]](5_000)
        self._threads = _Bounded[str](5_000)
        self._marks: dict[str, int] = {}
        self._start_cutoff = 0
        self._clock_offset = 0.0
        self._snapshot: dict[str, int] | None = None
        self._warned_roles = False
        self.stats = Stats()
        # Persistent cursors (see bot.storage.platform_state).
        self._cursors = cursors
        self._flush_interval = cursor_flush_interval
        self._stop_timeout = stop_timeout
        self._floors: dict[str, int] = {}
        """Per room, the stored cursor at start: nothing older is new in this run."""
        self._boundaries: set[str] = set()
        """The ids of the stored cursors' messages: handled by a previous run."""
        self._positions: dict[str, int] = {}
        """Per room, the timestamp of the newest message handled (what the cursor holds)."""
        self._pending: dict[str, Cursor] = {}
        self._dirty = asyncio.Event()
        self._closing = False
        self._stopping = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._last_flush = float("-inf")
        self._listening_at: int | None = None
        """Where rooms without a cursor are read from at the next start (stored or pending)."""
        self._origins: dict[int, list[Any]] = {}
        """``id(event)`` -> [origin message id, replies posted] while the event is handled."""

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self, handler: EventHandler) -> None:
        if self._started:
            return
        self._handler = handler
        stored = await asyncio.to_thread(self._cursors.load) if self._cursors else {}
        await self._login()
        await self._resolve_channels()
        self._start_cutoff = int(self._server_now() * 1000) - _START_TOLERANCE_MS
        restart = self._restore(stored)
        if restart is not None:
            # First in the queue: handled before the live messages that arrive meanwhile. It
            # runs once the subscription is ready, so nothing falls between the two.
            self._queue.put_nowait(restart)
        if self._cursors is not None:
            await self._mark_running(restart is None)
        self._ddp = DDPClient(
            websocket_url(self.settings.server_url),
            listener=self._on_ddp,
            on_session=self._ddp_login,
            on_reconnected=self._on_reconnected,
            on_disconnected=self._on_disconnected,
            ping_interval=self._ping_interval,
            backoff_min=self._reconnect[0],
            backoff_max=self._reconnect[1],
        )
        try:
            await self._ddp.start()
            await self._ddp.subscribe("stream-room-messages", "__my_messages__", False)
        except (DDPError, DDPConnectionLost, OSError, TimeoutError) as exc:
            await self.stop()
            raise RocketChatError(f"realtime connection failed: {exc}") from exc
        self._consumer = asyncio.create_task(self._consume(), name="rocketchat-consumer")
        if self._cursors is not None:
            self._flusher = asyncio.create_task(self._flush_loop(), name="rocketchat-cursors")
        self._started = True

    async def stop(self) -> None:
        """Stop listening, let the message being handled finish (up to ``stop_timeout``), write
        the cursors, log out."""
        if self._stopped:
            return
        self._stopped = True
        self._closing = True
        if self._ddp is not None:
            await self._ddp.close()
        if self._consumer is not None:
            self._queue.put_nowait(None)  # wakes an idle consumer, which then returns
            try:
                await asyncio.wait_for(asyncio.shield(self._consumer), self._stop_timeout)
            except TimeoutError:
                log.warning("a message was still being handled at stop; it will be read again")
                self._consumer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._consumer
            else:
                if self._listening_at is not None:
                    # Written with the last cursors, in one transaction: a clean stop.
                    at = datetime.fromtimestamp(self._listening_at / 1000, UTC)
                    self._pending[LISTENING] = Cursor(at, CLEAN_STOP)
        if self._flusher is not None:
            self._stopping.set()
            self._dirty.set()
            await self._flusher
        if self._password:
            await self._rest.logout()
        self._rest.close()

    # --- cursors (what survives a restart) -----------------------------------------------------

    def _restore(self, stored: dict[str, Cursor]) -> _CatchUp | None:
        """Take the stored cursors in; the catch-up to run first, if any."""
        listening = stored.pop(LISTENING, None)
        if listening is not None:
            self._listening_at = _ms_of(listening.at)
        for room_id, cursor in stored.items():
            ts = _ms_of(cursor.at)
            self._floors[room_id] = ts
            self._positions[room_id] = ts
            if cursor.message_id:
                self._seen.put(cursor.message_id, True)
                self._boundaries.add(cursor.message_id)
        if self._cursors is None or (listening is None and not stored):
            return None  # the first start on this database: from now on only
        if not self.settings.catch_up_hours:
            return None
        crashed = listening is None or listening.message_id != CLEAN_STOP
        return _CatchUp(dict(self._floors), self._listening_at, restart=True, probe=crashed)

    async def _mark_running(self, listen_from_now: bool) -> None:
        """Before anything is handled: this run is running (not stopped cleanly until its stop
        says so), and, without a catch-up, rooms without a cursor are read from its start."""
        assert self._cursors is not None
        if listen_from_now or self._listening_at is None:
            self._listening_at = self._start_cutoff
        running = Cursor(datetime.fromtimestamp(self._listening_at / 1000, UTC))
        try:
            await asyncio.to_thread(self._cursors.save, {LISTENING: running}, self._clock.now())
        except Exception as exc:
            await self.stop()
            raise RocketChatError(f"cannot store the platform's state: {exc}") from exc
        self.stats.cursor_writes += 1

    def _record_listening(self) -> None:
        """This run listens from its start: a room without a cursor at the next start is read
        from here."""
        self._listening_at = self._start_cutoff
        self._pending[LISTENING] = Cursor(datetime.fromtimestamp(self._start_cutoff / 1000, UTC))
        self._dirty.set()

    def _advance(self, room_id: str, ts: int, msg_id: str) -> None:
        """A message of ``room_id`` is handled: its cursor may move (written by the flusher)."""
        if ts < self._positions.get(room_id, 0) or self._cursors is None:
            return
        self._positions[room_id] = ts
        self._pending[room_id] = Cursor(datetime.fromtimestamp(ts / 1000, UTC), msg_id)
        self._dirty.set()

    async def _flush_loop(self) -> None:
        """Write the pending cursors as soon as they change, but at most once per
        ``cursor_flush_interval``; at stop, write what is left and return."""
        loop = asyncio.get_running_loop()
        while True:
            await self._dirty.wait()
            delay = self._last_flush + self._flush_interval - loop.time()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
            self._dirty.clear()
            await self._flush()
            self._last_flush = loop.time()
            if self._stopping.is_set() and not self._pending:
                return

    async def _flush(self) -> None:
        if not self._pending or self._cursors is None:
            return
        batch, self._pending = self._pending, {}
        try:
            await asyncio.to_thread(self._cursors.save, batch, self._clock.now())
        except Exception:
            log.exception("could not store the Rocket.Chat cursors; trying again")
            for room_id, cursor in batch.items():
                newer = self._pending.get(room_id)
                if newer is None or newer.at < cursor.at:
                    self._pending[room_id] = cursor
            if self._stopping.is_set():
                self._pending.clear()  # nothing more can be done: read again at next start
            else:
                self._dirty.set()
            return
        self.stats.cursor_writes += 1

    async def _login(self) -> None:
        try:
            if self._password:
                me = await self._rest.login_password(self.settings.username, self._password)
            else:
                assert self._token is not None and self.settings.user_id is not None
                me = await self._rest.login_token(self.settings.user_id, self._token)
        except RestError as exc:
            if exc.status == 401:
                key = (
                    "TISSERAND_ROCKETCHAT_PASSWORD"
                    if self._password
                    else "TISSERAND_ROCKETCHAT_TOKEN"
                )
                raise ConfigError([(key, N_("refused by the Rocket.Chat server"))]) from None
            raise RocketChatError(f"cannot log in to {self.settings.server_url}: {exc}") from None
        if self._rest.server_date is not None:
            # The Date header is truncated to the second: only a real skew is worth correcting.
            offset = self._rest.server_date + 0.5 - self._wall()
            self._clock_offset = offset if abs(offset) > 2.0 else 0.0
            if self._clock_offset:
                log.warning("the Rocket.Chat server's clock is %+.0f s from ours", offset)
        self.user_id = self._rest.user_id or str(me.get("_id", ""))
        username = str(me.get("username") or self.settings.username)
        if username != self.settings.username:
            log.warning(
                "the Rocket.Chat credentials belong to %r, not %r", username, self.settings.username
            )
        self.username = username
        self._mention = self._mention_pattern(username)

    async def _ddp_login(self, client: DDPClient) -> None:
        try:
            await client.call("login", {"resume": self._rest.token})
        except DDPError:
            if not self._password:
                raise
            await self._login()  # the token expired or was revoked: a fresh one
            await client.call("login", {"resume": self._rest.token})

    async def _resolve_channels(self) -> None:
        if not self.settings.channels:
            self._allowed_rooms = None
            return
        allowed: set[str] = set()
        joined = await self._request(lambda c: c.rooms_get())
        member_of = {str(r.get("_id")) for r in joined.get("update", []) if isinstance(r, dict)}
        for name in self.settings.channels:
            try:
                data = await self._request(functools.partial(RocketChat.rooms_info, room_name=name))
            except RestError as exc:
                raise ConfigError(
                    [("rocketchat.channels", Problem(N_("unknown channel: {name}"), name=name))]
                ) from exc
            room = data.get("room") or {}
            info = _RoomInfo(str(room.get("_id")), str(room.get("t", "c")), name)
            self._rooms[info.id] = info
            allowed.add(info.id)
            if info.id not in member_of and info.type == "c":
                await self._request(
                    functools.partial(RocketChat.channels_join, room_id=info.id, join_code=None)
                )
        self._allowed_rooms = allowed

    def _server_now(self) -> float:
        """The server's time (seconds since the epoch): timestamps and rate-limit resets are its."""
        return self._wall() + self._clock_offset

    @staticmethod
    def _mention_pattern(username: str) -> re.Pattern[str]:
        return re.compile(rf"^@{re.escape(username)}(?![\w.-])[:,]?\s*", re.I)

    # --- REST with rate-limit handling ----------------------------------------------------------

    def _retry_after(self, exc: RestError) -> float:
        reset = exc.headers.get("x-ratelimit-reset")
        if reset is not None:
            try:
                return min(max(int(reset) / 1000.0 - self._server_now(), 0.01), 3600.0)
            except ValueError:
                pass
        match = re.search(r"wait (\d+) seconds", str(exc.body.get("error", "")))
        return float(match.group(1)) if match else 1.0

    async def _request(
        self,
        fn: Callable[[RocketChat], Any],
        *,
        paced: bool = False,
        max_wait: float | None = None,
    ) -> dict[str, Any]:
        """One REST call; 429s are waited out (up to ``max_wait`` in total), a 401 re-logs in
        once when a password is known. Other failures raise :class:`RestError`."""
        budget = self.rate_limit_max_wait if max_wait is None else max_wait
        waited = 0.0
        relogged = False
        while True:
            if paced:
                await self._pacer.wait()
            try:
                return await self._rest.call(fn)
            except RestError as exc:
                if exc.status == 429:
                    delay = self._retry_after(exc)
                    if waited + delay > budget:
                        raise _RateLimited(delay) from None
                    self.stats.rate_limited += 1
                    await asyncio.sleep(delay)
                    waited += delay
                    continue
                if exc.status == 401 and self._password and not relogged:
                    relogged = True
                    await self._login()
                    continue
                raise

    @contextlib.contextmanager
    def _delivery(self, what: str) -> Iterator[None]:
        """Map failures to :class:`DeliveryError` (the only error ``deliver`` may raise)."""
        try:
            yield
        except _RateLimited as exc:
            raise DeliveryError(f"{what}: rate limited", retry_after=exc.retry_after) from None
        except RestError as exc:
            status = exc.status
            if status is None or status >= 500 or status in (401, 403, 408):
                raise DeliveryError(f"{what}: {exc}") from None
            raise DeliveryError(f"{what}: {exc}", permanent=True) from None
        except (RocketChatError, ConfigError) as exc:
            raise DeliveryError(f"{what}: {exc}") from None

    # --- outgoing ------------------------------------------------------------------------------

    async def respond(self, event: Event, reply: Reply) -> MessageRef | None:
        if reply.edit is not None:
            await self.edit(reply.edit, reply)
            return reply.edit
        target: Target
        if reply.target is not None:
            target = reply.target
        elif reply.ephemeral:
            target = DirectTarget(PLATFORM, event.actor.user_id)
        else:
            target = PlaceTarget(PLATFORM, event.place.channel_id)
        with self._delivery("respond"):
            room_id = await self._room_for(target)
            tmid = None
            ref = getattr(event, "ref", None)
            if isinstance(ref, MessageRef) and ref.channel_id == room_id:
                tmid = self._threads.get(ref.message_id)
            return await self._post(room_id, reply, self._reply_id(event), tmid)
        raise AssertionError("unreachable")  # pragma: no cover

    def _reply_id(self, event: Event) -> str:
        """The ``_id`` of a reply. The n-th reply to a message gets an id derived from that
        message's, so a message handled again after a crash is not answered twice (the server
        refuses the same ``_id``) and its answer tells the next run it was handled."""
        origin = self._origins.get(id(event))
        if origin is None:
            return _random_id()  # reactions: several events per message
        msg_id, count = origin
        origin[1] = count + 1
        return message_id_for(f"reply:{msg_id}:{count}")

    async def deliver(self, reply: Reply, target: Target, token: str) -> MessageRef:
        with self._delivery("deliver"):
            room_id = await self._room_for(target)
            return await self._post(room_id, reply, message_id_for(token), None)
        raise AssertionError("unreachable")  # pragma: no cover

    async def edit(self, ref: MessageRef, reply: Reply) -> None:
        text = self._render(reply)[: self._max_len - 1]
        if not reply.mentions:  # the cut may leave "@all" of "@allez" at the end
            text = neutralize_mass_mentions(text)
        with self._delivery("edit"):
            await self._request(
                lambda c: c.chat_update(ref.channel_id, ref.message_id, text), paced=True
            )

    async def _room_for(self, target: Target) -> str:
        if isinstance(target, PlaceTarget):
            return target.channel_id
        room_id = self._dm_rooms.get(target.user_id)
        if room_id is not None:
            return room_id
        user = await self._user_info(user_id=target.user_id)
        if user is None:
            raise DeliveryError(f"unknown Rocket.Chat user {target.user_id}", permanent=True)
        data = await self._request(lambda c: c.dm_create(user.username), paced=True)
        room = data.get("room") or {}
        room_id = str(room.get("rid") or room.get("_id"))
        self._dm_rooms[target.user_id] = room_id
        self._rooms.setdefault(room_id, _RoomInfo(room_id, "d", user.username))
        return room_id

    async def _ping_names(self, reply: Reply) -> dict[str, str]:
        """The username of each member a reply pings (``@username`` is Rocket.Chat's mention)."""
        names: dict[str, str] = {}
        for mention in reply.ping:
            user = await self._user_info(user_id=mention.user_id)
            if user is not None and user.username:
                names[mention.user_id] = user.username
        return names

    def _render(self, reply: Reply, usernames: Mapping[str, str] | None = None) -> str:
        text = to_rocketchat(reply.text)
        if reply.ping:
            known = usernames or {}
            # A member whose username is unknown is named, not pinged.
            text = render_mentions(
                text,
                reply.ping,
                lambda m: f"@{known[m.user_id]}" if m.user_id in known else m.name,
            )
        if reply.choices:
            numbered = len(reply.choices) <= len(NUMBER_EMOJIS)
            lines = []
            for index, choice in enumerate(reply.choices):
                marker = NUMBER_EMOJIS[index] if numbered else f"{index + 1}."
                label = to_rocketchat(choice.label)
                if choice.emoji:
                    label = f"{choice.emoji} {label}"
                lines.append(f"{marker} {label}")
            listing = "\n".join(lines)
            text = f"{text}\n\n{listing}" if text else listing
        if not reply.mentions:
            text = neutralize_mass_mentions(text, keep=(usernames or {}).values())
        return text

    def _choice_attachment(self, reply: Reply) -> dict[str, Any]:
        actions = []
        for index, choice in enumerate(reply.choices):
            label = neutralize_mass_mentions(choice.label)
            if choice.emoji:
                label = f"{choice.emoji} {label}"
            actions.append(
                {
                    "type": "button",
                    "text": f"{index + 1}. {label}",
                    "msg": f"{self.settings.command_prefix}{CHOICE_KEYWORD} {choice.action}",
                    "msg_in_chat_window": True,
                    "msg_processing_type": "sendMessage",
                }
            )
        return {"button_alignment": "vertical", "actions": actions}

    async def _post(self, room_id: str, reply: Reply, base_id: str, tmid: str | None) -> MessageRef:
        usernames = await self._ping_names(reply) if reply.ping else None
        # A cut inside "@allez" may leave "@all" at the end of a chunk: each chunk is checked
        # again, which adds at most one character (hence one less than the limit).
        chunks = _split_text(self._render(reply, usernames), self._max_len - 1)
        if not reply.mentions:
            keep = (usernames or {}).values()
            chunks = [neutralize_mass_mentions(chunk, keep=keep) for chunk in chunks]
        first: dict[str, Any] | None = None
        first_fresh = True
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            message: dict[str, Any] = {
                "_id": base_id if index == 0 else message_id_for(f"{base_id}:{index}"),
                "rid": room_id,
                "msg": chunk,
            }
            if tmid:
                message["tmid"] = tmid
            if last and reply.choices:
                message["attachments"] = [self._choice_attachment(reply)]
            stored, fresh = await self._send(message)
            if index == 0:
                first, first_fresh = stored, fresh
            if last and reply.choices and self.settings.number_reactions:
                await self._add_number_reactions(stored, len(reply.choices))
        assert first is not None
        if reply.attachments:
            await self._upload(room_id, reply.attachments, first, resumed=not first_fresh)
        return MessageRef(PLATFORM, room_id, str(first["_id"]))

    async def _send(self, message: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Post with a client-chosen ``_id``; (the stored message, False) if it already existed."""
        msg_id = str(message["_id"])
        self._seen.put(msg_id, True)
        self._reactions.put(msg_id, {})
        try:
            data = await self._request(lambda c: c.chat_send_message(message), paced=True)
        except RestError as exc:
            if exc.status != 400:
                raise
            existing = await self._own_message(msg_id, str(message["rid"]))
            if existing is None:
                raise
            self.stats.duplicates_avoided += 1
            return existing, False
        stored = data.get("message")
        return (stored if isinstance(stored, dict) else message), True

    async def _own_message(self, msg_id: str, room_id: str) -> dict[str, Any] | None:
        try:
            data = await self._request(lambda c: c.chat_get_message(msg_id))
        except RestError as exc:
            if exc.status == 400:
                return None
            raise
        found = data.get("message")
        if (
            isinstance(found, dict)
            and found.get("rid") == room_id
            and (found.get("u") or {}).get("_id") == self.user_id
        ):
            return found
        return None

    async def _add_number_reactions(self, message: dict[str, Any], count: int) -> None:
        if count > len(NUMBER_EMOJIS):
            return
        present = message.get("reactions") or {}
        msg_id = str(message["_id"])
        for emoji in NUMBER_EMOJIS[:count]:
            if self.username in (present.get(emoji) or {}).get("usernames", []):
                continue
            await self._request(
                functools.partial(
                    RocketChat.chat_react, msg_id=msg_id, emoji=emoji, shouldReact=True
                ),
                paced=True,
            )

    async def _upload(
        self,
        room_id: str,
        attachments: tuple[Attachment, ...],
        first: dict[str, Any],
        *,
        resumed: bool,
    ) -> None:
        already: set[str] = set()
        if resumed:
            already = await self._files_posted_since(room_id, first)
        for attachment in attachments:
            if attachment.filename in already:
                continue
            payload = (attachment.filename, attachment.data, attachment.media_type)
            try:
                data = await self._request(
                    functools.partial(RocketChat.rooms_media, room_id=room_id, file=payload),
                    paced=True,
                )
            except RestError as exc:
                if exc.status != 404:
                    raise
                await self._request(
                    functools.partial(
                        RocketChat.call_api_post,
                        method="rooms.upload/" + room_id,
                        files={"file": payload},
                        use_json=False,
                    ),
                    paced=True,
                )
                continue
            file_id = str((data.get("file") or {}).get("_id"))
            await self._request(
                functools.partial(RocketChat.rooms_media_confirm, room_id=room_id, file_id=file_id),
                paced=True,
            )

    async def _files_posted_since(self, room_id: str, first: dict[str, Any]) -> set[str]:
        since = _ms(first.get("ts"))
        if since is None:
            return set()
        room = await self._room_info(room_id, {})
        names: set[str] = set()
        messages, _ = await self._history(room, since)
        for message in messages:
            if (message.get("u") or {}).get("_id") != self.user_id:
                continue
            for file in message.get("files") or [message.get("file") or {}]:
                if isinstance(file, dict) and file.get("name"):
                    names.add(str(file["name"]))
        return names

    # --- incoming ------------------------------------------------------------------------------

    def _on_ddp(self, kind: str, collection: str, _id: str, fields: dict[str, Any]) -> None:
        if kind != "changed" or collection != "stream-room-messages":
            return
        args = fields.get("args") or []
        if not args or not isinstance(args[0], dict):
            return
        meta = args[1] if len(args) > 1 and isinstance(args[1], dict) else {}
        self._queue.put_nowait(_Live(args[0], meta))

    def _on_disconnected(self) -> None:
        if self._snapshot is None:
            self._snapshot = dict(self._marks)

    async def _on_reconnected(self) -> None:
        self.stats.reconnections += 1
        snapshot, self._snapshot = self._snapshot, None
        marks = snapshot if snapshot is not None else dict(self._marks)
        self._queue.put_nowait(_CatchUp(marks, self._start_cutoff))

    async def _consume(self) -> None:
        """The single consumer: live messages and catch-ups, one at a time, in queue order.
        At stop it finishes the item in hand and returns (what is left is read again at the
        next start, from the cursors)."""
        while True:
            item = await self._queue.get()
            if item is None or self._closing:
                return
            try:
                if isinstance(item, _CatchUp):
                    await self._catch_up(item)
                else:
                    await self._process(item.message, item.meta, None)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Rocket.Chat event processing failed")

    def _retry_catch_up(self, item: _CatchUp, exc: Exception) -> None:
        """Try the whole catch-up again later (already handled ids are skipped then)."""
        if self._closing:
            return
        delay = exc.retry_after if isinstance(exc, _RateLimited) else 2.0 ** min(item.attempt, 5)
        log.warning("catch-up failed (%s); again in %.0f s", exc, delay)
        retry = replace(item, attempt=item.attempt + 1)
        asyncio.get_running_loop().call_later(delay, self._queue.put_nowait, retry)

    async def _catch_up(self, item: _CatchUp) -> None:
        """Read every room that moved since its mark and handle what was missed, in the order
        it was said, within the bounds (``catch_up_hours``, ``catch_up_max_messages``)."""
        try:
            data = await self._request(lambda c: c.rooms_get())
        except (RestError, _RateLimited) as exc:
            self._retry_catch_up(item, exc)
            return
        hours = self.settings.catch_up_hours
        window = int(self._server_now() * 1000 - hours * 3_600_000) if hours else None
        failed: Exception | None = None
        missed: list[tuple[int, dict[str, Any], int]] = []
        for room in data.get("update", []):
            if not isinstance(room, dict) or not room.get("_id"):
                continue
            info = _RoomInfo(
                str(room["_id"]),
                str(room.get("t", "c")),
                str(room.get("name") or room.get("fname") or ""),
            )
            self._rooms.setdefault(info.id, info)
            if not self._allowed(info):
                continue
            since = item.marks.get(info.id, item.default_since)
            last = _ms(room.get("lm"))
            if since is None or last is None or last < since:
                continue
            if window is not None and since < window:
                log.info(
                    "catch-up of %s: messages older than %g h are not handled",
                    info.name or info.id,
                    hours,
                )
                since = window
            try:
                messages, truncated = await self._history(
                    info, since, limit=self.settings.catch_up_max_messages
                )
            except (RestError, _RateLimited) as exc:
                failed = exc
                continue
            if truncated:
                self.stats.catch_up_truncated += 1
                log.warning(
                    "catch-up of %s: only the newest %d messages are handled, older ones are not",
                    info.name or info.id,
                    len(messages),
                )
            missed.extend((_ms(m.get("ts")) or 0, m, since) for m in messages)
        # Every room's missed messages in the order they were said.
        for _ts, message, since in sorted(missed, key=lambda entry: entry[0]):
            if self._closing:
                return  # not handled: read again at the next start
            if item.restart and str(message.get("_id")) in self._boundaries:
                continue  # the message each stored cursor points at (read inclusively)
            own = (message.get("u") or {}).get("_id") == self.user_id
            if not own and str(message.get("_id")) not in self._seen:
                self.stats.caught_up += 1
            await self._process(message, {}, since, probe=item.probe)
        if failed is not None:
            self._retry_catch_up(item, failed)
        elif item.restart:
            self._record_listening()

    async def _history(
        self, room: _RoomInfo, since: int, *, limit: int | None = None
    ) -> tuple[list[dict[str, Any]], bool]:
        """Messages of ``room`` from ``since`` (inclusive), oldest first, and whether older ones
        were left out to keep the newest ``limit``.

        The server answers newest first, ``count`` at a time from ``offset`` (pages of 100, the
        default ``API_Upper_Count_Limit``). A message said while paging shifts the pages by one:
        a message may come twice (kept once), none is skipped."""
        endpoint = {"c": "channels.history", "p": "groups.history", "d": "im.history"}.get(
            room.type, "channels.history"
        )
        found: dict[str, dict[str, Any]] = {}
        offset = 0
        page = 100
        while limit is None or len(found) <= limit:
            data = await self._request(
                functools.partial(
                    RocketChat.call_api_get,
                    method=endpoint,
                    roomId=room.id,
                    oldest=_iso(since),
                    inclusive="true",
                    count=page,
                    offset=offset,
                )
            )
            batch = [m for m in data.get("messages", []) if isinstance(m, dict)]
            for message in batch:
                found[str(message.get("_id"))] = message
            if len(batch) < page:
                break
            offset += page
        ordered = sorted(found.values(), key=lambda m: _ms(m.get("ts")) or 0)
        if limit is not None and len(ordered) > limit:
            return ordered[-limit:], True
        return ordered, False

    def _allowed(self, room: _RoomInfo) -> bool:
        return self._allowed_rooms is None or room.is_direct or room.id in self._allowed_rooms

    async def _room_info(self, room_id: str, meta: dict[str, Any]) -> _RoomInfo:
        known = self._rooms.get(room_id)
        if known is not None:
            return known
        if meta.get("roomType"):
            info = _RoomInfo(room_id, str(meta["roomType"]), str(meta.get("roomName") or ""))
        else:
            try:
                data = await self._request(lambda c: c.rooms_info(room_id=room_id))
                room = data.get("room") or {}
                info = _RoomInfo(room_id, str(room.get("t", "c")), str(room.get("name") or ""))
            except (RestError, _RateLimited):
                return _RoomInfo(room_id, "c", "")
        self._rooms[room_id] = info
        return info

    async def _process(
        self,
        message: dict[str, Any],
        meta: dict[str, Any],
        cutoff: int | None,
        *,
        probe: bool = False,
    ) -> None:
        msg_id = str(message.get("_id") or "")
        room_id = str(message.get("rid") or "")
        ts = _ms(message.get("ts"))
        if not msg_id or not room_id or ts is None:
            return
        room = await self._room_info(room_id, meta)
        if not self._allowed(room):
            return
        if msg_id in self._seen:
            await self._reaction_changes(message, room)
            return
        if cutoff is None:
            mark = self._marks.get(room_id)
            cutoff = (
                self._start_cutoff
                if mark is None
                else max(self._start_cutoff, mark - _TOLERANCE_MS)
            )
            # Whatever the previous runs handled (up to the stored cursor) is never new again,
            # so an edit pushed after a restart does not run a command twice.
            cutoff = max(cutoff, self._floors.get(room_id, cutoff))
        if ts < cutoff:
            await self._reaction_changes(message, room)  # an update of an older message
            return
        self._seen.put(msg_id, True)
        self._marks[room_id] = max(self._marks.get(room_id, 0), ts)
        if message.get("tmid"):
            self._threads.put(msg_id, str(message["tmid"]))
        if not message.get("t"):  # not a system message (join, leave, topic...)
            await self._new_message(message, room, ts, probe=probe)
            # Reactions already on it (added while the connection was down) count as new too.
            await self._reaction_changes(message, room)
        self._advance(room_id, ts, msg_id)

    async def _new_message(
        self, message: dict[str, Any], room: _RoomInfo, ts: int, *, probe: bool = False
    ) -> None:
        author = message.get("u") or {}
        if author.get("_id") == self.user_id or message.get("bot"):
            return
        actor = await self._actor(str(author.get("_id", "")), author)
        if actor.is_bot:
            return
        msg_id = str(message["_id"])
        event = self._event_for(message, room, actor, ts)
        if (
            probe
            and isinstance(event, CommandEvent | ChoiceEvent)
            and await self._answered_before(msg_id)
        ):
            # Handled by the previous run, which stopped before its cursor was written.
            self.stats.replays_avoided += 1
            return
        self.stats.handled_ids.append(msg_id)
        key = id(event)
        self._origins[key] = [msg_id, 0]
        try:
            await self._dispatch(event)
        finally:
            self._origins.pop(key, None)

    async def _answered_before(self, msg_id: str) -> bool:
        """Whether the bot's first reply to message ``msg_id`` exists (replies to a message get
        ids derived from it: see :meth:`respond`)."""
        reply_id = message_id_for(f"reply:{msg_id}:0")
        try:
            data = await self._request(lambda c: c.chat_get_message(reply_id))
        except (RestError, _RateLimited):
            return False  # unknown (400 when there is no such message): handle it
        found = data.get("message")
        return isinstance(found, dict) and (found.get("u") or {}).get("_id") == self.user_id

    def _event_for(self, message: dict[str, Any], room: _RoomInfo, actor: Actor, ts: int) -> Event:
        place = Place(PLATFORM, room.id, room.name or actor.display_name, is_direct=room.is_direct)
        ref = MessageRef(PLATFORM, room.id, str(message["_id"]))
        at = datetime.fromtimestamp(ts / 1000, UTC)
        text = str(message.get("msg") or "")
        command = self._command_line(text, room.is_direct)
        if command is None:
            return MessageEvent(actor=actor, place=place, text=text, ref=ref, at=at)
        keyword, _, rest = command.partition(" ")
        if keyword.lower() == CHOICE_KEYWORD and rest.strip():
            # A button click: the message that carried the button is not known (ref None).
            return ChoiceEvent(actor=actor, place=place, at=at, action=rest.strip())
        return CommandEvent(actor=actor, place=place, at=at, text=command, ref=ref)

    def _command_line(self, text: str, is_direct: bool) -> str | None:
        stripped = text.strip()
        prefix = self.settings.command_prefix
        body: str | None = None
        mention = self._mention.match(stripped)
        if mention is not None:
            body = stripped[mention.end() :].strip()
            if body.startswith(prefix):
                body = body[len(prefix) :].strip()
        elif stripped.startswith(prefix):
            body = stripped[len(prefix) :].strip()
        elif is_direct:
            body = stripped
        return body or None

    async def _dispatch(self, event: Event) -> None:
        if self._handler is None:
            return
        try:
            await self._handler(event)
        except Exception:
            log.exception("the event handler failed on %s", type(event).__name__)

    async def _reaction_changes(self, message: dict[str, Any], room: _RoomInfo) -> None:
        msg_id = str(message["_id"])
        new = _reaction_state(message)
        old = self._reactions.get(msg_id) or {}
        self._reactions.put(msg_id, new)
        changes: list[tuple[str, str, bool]] = []
        for emoji, users in new.items():
            changes.extend(
                (emoji, user, True) for user in sorted(users - old.get(emoji, frozenset()))
            )
        for emoji, users in old.items():
            changes.extend(
                (emoji, user, False) for user in sorted(users - new.get(emoji, frozenset()))
            )
        if not changes:
            return
        author = message.get("u") or {}
        own = author.get("_id") == self.user_id
        choices: list[str] | None = None
        ts = _ms(message.get("_updatedAt")) or _ms(message.get("ts")) or 0
        at = datetime.fromtimestamp(ts / 1000, UTC)
        ref = MessageRef(PLATFORM, room.id, msg_id)
        for emoji, username, added in changes:
            if username == self.username:
                continue
            user = await self._user_info(username=username)
            if user is None or user.is_bot:
                continue
            actor = self._actor_from(user)
            place = Place(
                PLATFORM, room.id, room.name or actor.display_name, is_direct=room.is_direct
            )
            if added and own and emoji in NUMBER_EMOJIS:
                if choices is None:
                    choices = await self._choices_of(message)
                index = NUMBER_EMOJIS.index(emoji)
                if index < len(choices):
                    await self._dispatch(
                        ChoiceEvent(actor=actor, place=place, at=at, action=choices[index], ref=ref)
                    )
                    continue
            author_actor = Actor(
                PLATFORM,
                str(author.get("_id", "")),
                str(author.get("name") or author.get("username") or ""),
            )
            await self._dispatch(
                ReactionEvent(
                    actor=actor,
                    place=place,
                    at=at,
                    ref=ref,
                    emoji=emoji,
                    added=added,
                    message_author=author_actor,
                    message_text=str(message.get("msg") or ""),
                )
            )

    def _actions_in(self, message: dict[str, Any]) -> list[str]:
        actions: list[str] = []
        marker = f"{CHOICE_KEYWORD} "
        for attachment in message.get("attachments") or []:
            if not isinstance(attachment, dict):
                continue
            for action in attachment.get("actions") or []:
                text = action.get("msg") if isinstance(action, dict) else None
                if isinstance(text, str) and marker in text:
                    actions.append(text.split(marker, 1)[1].strip())
        return actions

    async def _choices_of(self, message: dict[str, Any]) -> list[str]:
        actions = self._actions_in(message)
        if actions:
            return actions
        try:
            data = await self._request(lambda c: c.chat_get_message(str(message["_id"])))
        except (RestError, _RateLimited):
            return []
        stored = data.get("message")
        return self._actions_in(stored) if isinstance(stored, dict) else []

    # --- users and roles -----------------------------------------------------------------------

    async def _user_info(
        self, *, user_id: str | None = None, username: str | None = None
    ) -> _UserInfo | None:
        key = user_id or (self._usernames.get(username) if username else None)
        now = self._clock.now()
        if key is not None:
            cached = self._users.get(key)
            if cached is not None and cached[0] > now:
                return cached[1]
        try:
            if user_id:
                data = await self._request(lambda c: c.users_info(user_id=user_id), max_wait=2.0)
            else:
                data = await self._request(lambda c: c.users_info(username=username), max_wait=2.0)
        except (RestError, _RateLimited) as exc:
            log.info("users.info failed (%s); roles unknown for now", exc)
            return None
        user = data.get("user") or {}
        roles_raw = user.get("roles")
        roles = frozenset(str(r) for r in roles_raw) if isinstance(roles_raw, list) else None
        if roles is None and self.settings.coordinator_roles and not self._warned_roles:
            self._warned_roles = True
            log.warning(
                "users.info shows no roles: give the bot the view-full-other-user-info permission "
                "or list coordinators by username"
            )
        info = _UserInfo(
            user_id=str(user.get("_id", user_id or "")),
            username=str(user.get("username", username or "")),
            name=str(user.get("name") or user.get("username") or ""),
            roles=roles,
            is_bot=user.get("type") == "bot" or (roles is not None and "bot" in roles),
        )
        expires = now + _seconds(self.settings.role_cache_seconds)
        self._users.put(info.user_id, (expires, info))
        self._usernames[info.username] = info.user_id
        return info

    def _actor_from(self, user: _UserInfo) -> Actor:
        roles = {Role.MEMBER}
        if user.username in self.settings.coordinators or (
            user.roles is not None and user.roles.intersection(self.settings.coordinator_roles)
        ):
            roles.add(Role.COORDINATOR)
        return Actor(
            PLATFORM,
            user.user_id,
            user.name or user.username,
            roles=frozenset(roles),
            is_bot=user.is_bot,
        )

    async def _actor(self, user_id: str, author: dict[str, Any]) -> Actor:
        user = await self._user_info(user_id=user_id)
        if user is None:
            user = _UserInfo(
                user_id=user_id,
                username=str(author.get("username", "")),
                name=str(author.get("name") or author.get("username") or ""),
                roles=None,
                is_bot=False,
            )
        return self._actor_from(user)


def _reaction_state(message: dict[str, Any]) -> dict[str, frozenset[str]]:
    reactions = message.get("reactions") or {}
    state: dict[str, frozenset[str]] = {}
    if isinstance(reactions, dict):
        for emoji, entry in reactions.items():
            users = entry.get("usernames") if isinstance(entry, dict) else None
            if isinstance(users, list) and users:
                state[str(emoji)] = frozenset(str(u) for u in users)
    return state


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)


# --- check-config --online ---------------------------------------------------------------------


async def check_online(
    settings: RocketChatSettings, password: str | None, token: str | None
) -> None:
    """Log in with the configured credentials and check the channels; raises :class:`ConfigError`."""
    if not password and not token:
        raise ConfigError(
            [("rocketchat", N_("set TISSERAND_ROCKETCHAT_PASSWORD or TISSERAND_ROCKETCHAT_TOKEN"))]
        )
    if token and not password and not settings.user_id:
        raise ConfigError([("rocketchat.user_id", N_("required with a personal access token"))])
    rest = _Rest(settings.server_url, timeout=15.0)
    problems: list[tuple[str, str]] = []
    logged_in_with_password = False
    try:
        try:
            if password:
                me = await rest.login_password(settings.username, password)
                logged_in_with_password = True
            else:
                assert token is not None and settings.user_id is not None
                me = await rest.login_token(settings.user_id, token)
        except RestError as exc:
            if exc.status in (401, 403):
                key = "TISSERAND_ROCKETCHAT_PASSWORD" if password else "TISSERAND_ROCKETCHAT_TOKEN"
                raise ConfigError([(key, N_("refused by the Rocket.Chat server"))]) from None
            if exc.status is None:
                raise ConfigError(
                    [
                        (
                            "rocketchat.server_url",
                            Problem(N_("cannot reach the server: {reason}"), reason=exc),
                        )
                    ]
                ) from None
            raise ConfigError(
                [
                    (
                        "rocketchat.server_url",
                        Problem(N_("unexpected answer from the server: {reason}"), reason=exc),
                    )
                ]
            ) from None
        username = str(me.get("username", ""))
        if username and username != settings.username:
            problems.append(
                (
                    "rocketchat.username",
                    Problem(N_("the credentials belong to “{username}”"), username=username),
                )
            )
        for name in settings.channels:
            try:
                await rest.call(functools.partial(RocketChat.rooms_info, room_name=name))
            except RestError:
                problems.append(
                    ("rocketchat.channels", Problem(N_("unknown channel: {name}"), name=name))
                )
    finally:
        if logged_in_with_password:
            await rest.logout()
        rest.close()
    if problems:
        raise ConfigError(problems)


__all__ = [
    "CHOICE_KEYWORD",
    "NUMBER_EMOJIS",
    "PLATFORM",
    "RestError",
    "RocketChatError",
    "RocketChatPlatform",
    "RocketChatSettings",
    "check_online",
    "message_id_for",
    "websocket_url",
]
