"""A fake Rocket.Chat server (REST API v1 and the realtime DDP API) for end-to-end tests.

Written from Rocket.Chat's public API documentation and the behaviour of its REST layer:

- REST under ``/api/v1/``: ``X-Auth-Token`` / ``X-User-Id`` authentication (401
  ``{"status": "error", "message": "You must be logged in to do this."}``), error bodies
  ``{"success": false, "error": "<reason> [<errorType>]", "errorType": "<errorType>"}`` with HTTP
  400, 404 ``{"status": "error", "message": "API endpoint does not exist"}`` for unknown routes.
- The REST rate limiter: a fixed window per route and client IP; the server's default is 10 calls
  per 60,000 ms (settings ``API_Enable_Rate_Limiter_Limit_Calls_Default`` /
  ``..._Time_Default``); users with a role holding ``api-bypass-rate-limit`` (admin, bot, app by
  default) are not limited. Limited answers carry ``X-RateLimit-Limit``,
  ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (epoch milliseconds); a refused call is a
  429 ``{"success": false, "error": "Error, too many requests. Please slow down. You must wait N
  seconds before trying this endpoint again."}``.
- ``chat.sendMessage`` accepts a client-chosen ``_id``; for an ``_id`` that already exists the
  real server stores nothing and its REST layer fails while normalising the missing result: HTTP
  400 ``{"success": false, "error": "Cannot read properties of undefined (reading 'starred')"}``
  (no ``errorType``). The fake answers exactly that.
- ``channels.history`` / ``groups.history`` / ``im.history``: messages newest first, between
  ``oldest`` and ``latest`` (``inclusive`` applies to both bounds; default false), ``count`` at a
  time (default 20, at most ``API_Upper_Count_Limit``, 100 by default) after skipping ``offset``.
- ``chat.update`` accepts only ``roomId``, ``msgId`` and ``text`` (attachments cannot be edited).
- ``users.info`` shows ``roles`` of another user only to callers holding
  ``view-full-other-user-info`` (admin by default); ``type`` (``user`` / ``bot``) is public.
- Realtime: DDP over a websocket at ``/websocket``: ``{"server_id": "0"}``, ``connect`` /
  ``connected``, ``ping`` / ``pong`` both ways, method ``login`` with ``{"resume": token}``,
  subscription ``stream-room-messages`` with ``__my_messages__`` (or a room id) answered by
  ``ready`` or ``nosub``; new messages and updates (edits, reactions) are pushed as
  ``{"msg": "changed", "collection": "stream-room-messages", "id": "id", "fields": {"eventName":
  "__my_messages__", "args": [message, {"roomParticipant": true, "roomType": "c", ...}]}}`` with
  dates in EJSON (``{"$date": ms}``).

The test control API (plain Python methods) adds users, rooms and roles, makes users speak and
react, drops every websocket, forces the next answers of an endpoint to fail, and reads what was
posted. What it serves is typed with the adapter's own payload types
(:mod:`bot.platforms.rocketchat.types`).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from aiohttp import BodyPartReader, WSMsgType, web

from bot.platforms.rocketchat.types import (
    DDPErrorBody,
    DirectRoomAnswer,
    ErrorBody,
    FileInfo,
    HistoryAnswer,
    LoginAnswer,
    Mention,
    Message,
    MessageAnswer,
    MessageAttachment,
    Pong,
    Room,
    RoomAnswer,
    RoomMeta,
    RoomsAnswer,
    RoomType,
    ServerFrame,
    UploadAnswer,
    User,
    UserAnswer,
)

T = TypeVar("T")

_ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"
_DATE_KEYS = ("ts", "_updatedAt", "editedAt", "lm")
_NOT_LOGGED_IN: ErrorBody = {"status": "error", "message": "You must be logged in to do this."}
_DUPLICATE_ID_ERROR = "Cannot read properties of undefined (reading 'starred')"
_NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def random_id(length: int = 17) -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def iso(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def parse_iso(value: str) -> int:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


def _convert_dates(value: Any, convert: Callable[[int], Any]) -> Any:
    if isinstance(value, dict):
        return {
            k: (
                convert(v) if k in _DATE_KEYS and isinstance(v, int) else _convert_dates(v, convert)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_convert_dates(v, convert) for v in value]
    return value


def rest_form(message: dict[str, Any]) -> Message:
    """A stored message as the REST API shows it (ISO dates)."""
    return _convert_dates(copy.deepcopy(message), iso)  # type: ignore[no-any-return]


def ddp_form(message: dict[str, Any]) -> Message:
    """A stored message as DDP pushes it (EJSON dates)."""
    return _convert_dates(copy.deepcopy(message), lambda ms: {"$date": ms})  # type: ignore[no-any-return]


class ApiError(Exception):
    """An error answered as Rocket.Chat's REST layer does."""

    def __init__(
        self,
        error: str,
        error_type: str | None = None,
        status: int = 400,
        *,
        body: ErrorBody | None = None,
    ) -> None:
        super().__init__(error)
        self.status = status
        self.body: ErrorBody
        if body is not None:
            self.body = body
        else:
            self.body = {"success": False, "error": error}
            if error_type:
                self.body["errorType"] = error_type


def meteor_error(error_type: str, reason: str) -> ApiError:
    return ApiError(f"{reason} [{error_type}]", error_type)


@dataclass
class FakeUser:
    id: str
    username: str
    name: str
    password: str | None
    roles: list[str]
    type: Literal["user", "bot"] = "user"
    tokens: set[str] = field(default_factory=set)

    def public(self, *, full: bool) -> User:
        data: User = {
            "_id": self.id,
            "username": self.username,
            "name": self.name,
            "type": self.type,
            "status": "online",
            "active": True,
            "utcOffset": 0,
        }
        if full:
            data["roles"] = list(self.roles)
        return data


@dataclass
class FakeRoom:
    id: str
    type: RoomType
    """``c`` public channel, ``p`` private group, ``d`` direct conversation."""
    name: str | None
    members: list[str]
    """User ids."""
    usernames: list[str] = field(default_factory=list)
    lm: int | None = None
    updated_at: int = 0

    def as_json(self) -> Room:
        data: Room = {
            "_id": self.id,
            "t": self.type,
            "usersCount": len(self.members),
            "_updatedAt": iso(self.updated_at),
            "msgs": 0,
        }
        if self.name is not None:
            data["name"] = self.name
            data["fname"] = self.name
        if self.type == "d":
            data["usernames"] = list(self.usernames)
        if self.lm is not None:
            data["lm"] = iso(self.lm)
        return data


@dataclass
class FakeUpload:
    id: str
    room_id: str
    user_id: str
    name: str
    media_type: str
    data: bytes
    confirmed: bool = False


@dataclass
class _Forced:
    status: int
    processed: bool


@dataclass
class _Window:
    start: float
    count: int = 0


class _Subscription:
    def __init__(self, sub_id: str, target: str) -> None:
        self.id = sub_id
        self.target = target


class _DDPConnection:
    def __init__(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.ws = ws
        self.request = request
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.user: FakeUser | None = None
        self.subs: dict[str, _Subscription] = {}
        self.connected = False
        self.pending_ping: str | None = None
        self.missed_pings = 0

    def send(self, payload: ServerFrame) -> None:
        self.queue.put_nowait(json.dumps(payload))


class FakeRocketChat:
    """The fake server. ``await start()`` binds 127.0.0.1 on a free port; ``url`` is its base."""

    def __init__(
        self,
        *,
        rate_limit_calls: int = 10,
        rate_limit_window_ms: int = 60_000,
        rate_limit_enabled: bool = True,
        bypass_rate_limit_roles: Iterable[str] = ("admin", "bot", "app"),
        full_user_info_roles: Iterable[str] = ("admin",),
        max_message_size: int = 5000,
        ddp_ping_interval: float | None = None,
        forced_reset_ms: int = 40,
        media_endpoints: bool = True,
        upper_count_limit: int = 100,
    ) -> None:
        self.rate_limit_calls = rate_limit_calls
        self.rate_limit_window_ms = rate_limit_window_ms
        self.rate_limit_enabled = rate_limit_enabled
        self.bypass_rate_limit_roles = set(bypass_rate_limit_roles)
        self.full_user_info_roles = set(full_user_info_roles)
        self.max_message_size = max_message_size
        self.ddp_ping_interval = ddp_ping_interval
        self.forced_reset_ms = forced_reset_ms
        self.media_endpoints = media_endpoints
        self.upper_count_limit = upper_count_limit
        """``API_Upper_Count_Limit``: the most items one page of a list endpoint holds."""

        self.users: dict[str, FakeUser] = {}
        self.rooms: dict[str, FakeRoom] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self.uploads: dict[str, FakeUpload] = {}
        self.requests: Counter[str] = Counter()
        """Answered calls per endpoint name (``chat.sendMessage``...)."""
        self.statuses: Counter[tuple[str, int]] = Counter()
        self.pongs_received = 0
        self.on_message: list[Callable[[dict[str, Any]], None]] = []
        """Called with every new message as stored (benchmarks time the replies with it)."""
        self.pings_received = 0
        self.ddp_connections_opened = 0
        self.ddp_logins = 0

        self._forced: dict[str, list[_Forced]] = {}
        self._windows: dict[tuple[str, str], _Window] = {}
        self._connections: set[_DDPConnection] = set()
        self._accept_websockets = True
        self._last_ts = 0
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.url = ""

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("GET", "/websocket", self._websocket)
        app.router.add_route("GET", "/api/info", self._info)
        app.router.add_route("*", "/api/v1/{endpoint:.+}", self._rest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        await self.drop_websockets()
        for task in list(self._tasks):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- test control: directory ---------------------------------------------------------------

    def add_user(
        self,
        username: str,
        *,
        password: str | None = None,
        name: str | None = None,
        roles: Iterable[str] = ("user",),
        bot: bool = False,
        user_id: str | None = None,
    ) -> FakeUser:
        user = FakeUser(
            id=user_id or random_id(),
            username=username,
            name=name or username.capitalize(),
            password=password,
            roles=list(roles),
            type="bot" if bot else "user",
        )
        self.users[user.id] = user
        return user

    def user(self, username: str) -> FakeUser:
        for user in self.users.values():
            if user.username == username:
                return user
        raise KeyError(username)

    def set_roles(self, username: str, roles: Iterable[str]) -> None:
        self.user(username).roles = list(roles)

    def personal_access_token(self, username: str) -> str:
        token = secrets.token_urlsafe(32)
        self.user(username).tokens.add(token)
        return token

    def add_room(
        self,
        name: str,
        *,
        members: Iterable[str] = (),
        private: bool = False,
        room_id: str | None = None,
    ) -> FakeRoom:
        room = FakeRoom(
            id=room_id or random_id(),
            type="p" if private else "c",
            name=name,
            members=[self.user(m).id for m in members],
            updated_at=self._now(),
        )
        self.rooms[room.id] = room
        return room

    def room(self, name: str) -> FakeRoom:
        for room in self.rooms.values():
            if room.name == name:
                return room
        raise KeyError(name)

    def direct_room(self, username_a: str, username_b: str) -> FakeRoom:
        a, b = self.user(username_a), self.user(username_b)
        for room in self.rooms.values():
            if room.type == "d" and set(room.members) == {a.id, b.id}:
                return room
        room = FakeRoom(
            id="".join(sorted((a.id, b.id))),
            type="d",
            name=None,
            members=[a.id, b.id],
            usernames=sorted((a.username, b.username)),
            updated_at=self._now(),
        )
        self.rooms[room.id] = room
        return room

    # --- test control: conversation ---------------------------------------------------------

    def say(
        self,
        username: str,
        room: FakeRoom | str,
        text: str,
        *,
        tmid: str | None = None,
        bot_field: dict[str, Any] | None = None,
        at: int | None = None,
    ) -> Message:
        """``username`` says ``text`` in ``room``; pushed to realtime subscribers. REST form.

        ``at`` (epoch milliseconds) stores the message as said at that moment in the past, while
        nobody listened: it is in the history but not pushed."""
        user = self.user(username)
        target = room if isinstance(room, FakeRoom) else self.rooms[room]
        message: dict[str, Any] = {"rid": target.id, "msg": text}
        if tmid:
            message["tmid"] = tmid
        if bot_field:
            message["bot"] = bot_field
        stored = self._insert(user, target, message, at=at)
        return rest_form(stored)

    def edit(self, username: str, message_id: str, text: str) -> Message:
        user = self.user(username)
        return rest_form(self._update_text(user, self.messages[message_id], text))

    def react(self, username: str, message_id: str, emoji: str, *, add: bool = True) -> None:
        self._set_reaction(self.user(username), self.messages[message_id], emoji, add)

    async def drop_websockets(self, *, refuse: bool = False) -> int:
        """Cut every realtime connection abruptly (no close frame); ``refuse`` keeps new ones out
        until :meth:`accept_websockets`. Returns how many connections were cut."""
        if refuse:
            self._accept_websockets = False
        connections = list(self._connections)
        for conn in connections:
            self._connections.discard(conn)
            conn.queue.put_nowait(None)
            transport = conn.request.transport
            if transport is not None:
                transport.abort()
            else:  # pragma: no cover - transport already gone
                await conn.ws.close()
        return len(connections)

    def end_subscriptions(self) -> int:
        """The server ends every live subscription (``nosub``), as on a permission change."""
        ended = 0
        for conn in self._connections:
            for sub_id in list(conn.subs):
                del conn.subs[sub_id]
                conn.send({"msg": "nosub", "id": sub_id})
                ended += 1
        return ended

    def accept_websockets(self) -> None:
        self._accept_websockets = True

    @property
    def live_connections(self) -> int:
        return sum(1 for c in self._connections if c.subs)

    def fail_next(
        self, endpoint: str, count: int = 1, *, status: int = 429, processed: bool = False
    ) -> None:
        """The next ``count`` calls of ``endpoint`` answer ``status`` (429 with rate-limit
        headers, or a 5xx). ``processed`` makes the server do the work before failing (a lost
        answer)."""
        self._forced.setdefault(endpoint, []).extend(
            _Forced(status, processed) for _ in range(count)
        )

    def messages_in(self, room: FakeRoom | str) -> list[Message]:
        rid = room.id if isinstance(room, FakeRoom) else room
        found = [m for m in self.messages.values() if m["rid"] == rid]
        return [rest_form(m) for m in sorted(found, key=lambda m: m["ts"])]

    def messages_by(self, username: str, room: FakeRoom | str | None = None) -> list[Message]:
        user = self.user(username)
        rid = room.id if isinstance(room, FakeRoom) else room
        found = [
            m
            for m in self.messages.values()
            if m["u"]["_id"] == user.id and (rid is None or m["rid"] == rid)
        ]
        return [rest_form(m) for m in sorted(found, key=lambda m: m["ts"])]

    async def wait_for(self, probe: Callable[[], T | None], within: float = 5.0) -> T:
        """Wait until ``probe()`` returns something truthy (re-checked on every change of the
        server, and every 20 ms for conditions on the client side)."""

        async def _loop() -> T:
            async with self._changed:
                while True:
                    value = probe()
                    if value:
                        return value
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), 0.02)

        return await asyncio.wait_for(_loop(), within)

    async def wait_for_posts(
        self, username: str, count: int, room: FakeRoom | str | None = None, within: float = 5.0
    ) -> list[Message]:
        def probe() -> list[Message] | None:
            posts = self.messages_by(username, room)
            return posts if len(posts) >= count else None

        return await self.wait_for(probe, within)

    # --- storage ------------------------------------------------------------------------------

    def _now(self) -> int:
        return int(time.time() * 1000)

    def _next_ts(self) -> int:
        self._last_ts = max(self._now(), self._last_ts + 1)
        return self._last_ts

    def _notify(self) -> None:
        async def _wake() -> None:
            async with self._changed:
                self._changed.notify_all()

        task = asyncio.get_running_loop().create_task(_wake())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _insert(
        self, user: FakeUser, room: FakeRoom, message: dict[str, Any], *, at: int | None = None
    ) -> dict[str, Any]:
        ts = self._next_ts() if at is None else at
        stored: dict[str, Any] = {
            "_id": message.get("_id") or random_id(),
            "rid": room.id,
            "msg": message.get("msg", "") or "",
            "ts": ts,
            "u": {"_id": user.id, "username": user.username, "name": user.name},
            "_updatedAt": ts,
            "mentions": self._mentions(message.get("msg", "") or ""),
            "channels": [],
        }
        for key in ("attachments", "tmid", "bot", "file", "files", "customFields", "alias"):
            if message.get(key) is not None:
                stored[key] = message[key]
        self.messages[stored["_id"]] = stored
        room.lm = max(room.lm or 0, ts)
        room.updated_at = max(room.updated_at, ts)
        if at is not None:
            return stored
        self._push(stored)
        for listener in self.on_message:
            listener(stored)
        return stored

    def _mentions(self, text: str) -> list[Mention]:
        found: list[Mention] = []
        for word in text.split():
            if word.startswith("@"):
                name = word[1:].rstrip(",:;.!?")
                if name in ("all", "here"):
                    found.append({"_id": name, "username": name})
                    continue
                for user in self.users.values():
                    if user.username == name:
                        found.append({"_id": user.id, "username": user.username})
        return found

    def _update_text(self, user: FakeUser, message: dict[str, Any], text: str) -> dict[str, Any]:
        now = self._next_ts()
        message["msg"] = text
        message["editedAt"] = now
        message["editedBy"] = {"_id": user.id, "username": user.username}
        message["_updatedAt"] = now
        message["mentions"] = self._mentions(text)
        self._push(message)
        return message

    def _set_reaction(
        self, user: FakeUser, message: dict[str, Any], emoji: str, add: bool | None
    ) -> None:
        key = emoji if emoji.startswith(":") else f":{emoji}:"
        reactions: dict[str, dict[str, list[str]]] = message.setdefault("reactions", {})
        entry = reactions.setdefault(key, {"usernames": []})
        present = user.username in entry["usernames"]
        want = (not present) if add is None else add
        if want and not present:
            entry["usernames"].append(user.username)
        elif not want and present:
            entry["usernames"].remove(user.username)
        if not entry["usernames"]:
            del reactions[key]
        if not reactions:
            del message["reactions"]
        message["_updatedAt"] = self._next_ts()
        self._push(message)

    # --- realtime push -------------------------------------------------------------------------

    def _push(self, message: dict[str, Any]) -> None:
        room = self.rooms[message["rid"]]
        payload = ddp_form(message)
        meta: RoomMeta = {"roomParticipant": True, "roomType": room.type}
        if room.name:
            meta["roomName"] = room.name
        for conn in list(self._connections):
            if conn.user is None or conn.user.id not in room.members:
                continue
            for sub in conn.subs.values():
                if sub.target == "__my_messages__":
                    conn.send(
                        {
                            "msg": "changed",
                            "collection": "stream-room-messages",
                            "id": "id",
                            "fields": {"eventName": "__my_messages__", "args": [payload, meta]},
                        }
                    )
                elif sub.target == room.id:
                    conn.send(
                        {
                            "msg": "changed",
                            "collection": "stream-room-messages",
                            "id": "id",
                            "fields": {"eventName": room.id, "args": [payload]},
                        }
                    )
        self._notify()

    # --- DDP ----------------------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        if not self._accept_websockets:
            return web.Response(status=503, text="Service Unavailable")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = _DDPConnection(ws, request)
        self._connections.add(conn)
        self.ddp_connections_opened += 1
        writer = asyncio.create_task(self._ws_writer(conn))
        pinger = asyncio.create_task(self._ws_pinger(conn)) if self.ddp_ping_interval else None
        conn.send({"server_id": "0"})
        try:
            async for raw in ws:
                if raw.type != WSMsgType.TEXT:
                    break
                try:
                    data = json.loads(raw.data)
                except ValueError:
                    conn.send({"msg": "error", "reason": "Bad request"})
                    continue
                if isinstance(data, dict):
                    self._ddp_message(conn, data)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self._connections.discard(conn)
            conn.queue.put_nowait(None)
            if pinger is not None:
                pinger.cancel()
            writer.cancel()
        return ws

    async def _ws_writer(self, conn: _DDPConnection) -> None:
        while True:
            item = await conn.queue.get()
            if item is None or conn.ws.closed:
                return
            try:
                await conn.ws.send_str(item)
            except (ConnectionResetError, RuntimeError):
                return

    async def _ws_pinger(self, conn: _DDPConnection) -> None:
        assert self.ddp_ping_interval is not None
        while True:
            await asyncio.sleep(self.ddp_ping_interval)
            if conn.pending_ping is not None:
                conn.missed_pings += 1
                if conn.missed_pings >= 2:
                    await conn.ws.close()
                    return
            conn.pending_ping = random_id(8)
            conn.send({"msg": "ping", "id": conn.pending_ping})

    def _ddp_message(self, conn: _DDPConnection, data: dict[str, Any]) -> None:
        kind = data.get("msg")
        if kind == "connect":
            if data.get("version") != "1" and "1" not in data.get("support", []):
                conn.send({"msg": "failed", "version": "1"})
                return
            conn.connected = True
            conn.send({"msg": "connected", "session": random_id()})
        elif not conn.connected:
            conn.send({"msg": "error", "reason": "Must connect first", "offendingMessage": data})
        elif kind == "ping":
            self.pings_received += 1
            reply: Pong = {"msg": "pong"}
            if "id" in data:
                reply["id"] = data["id"]
            conn.send(reply)
        elif kind == "pong":
            self.pongs_received += 1
            conn.pending_ping = None
            conn.missed_pings = 0
            self._notify()
        elif kind == "method":
            self._ddp_method(conn, data)
        elif kind == "sub":
            self._ddp_sub(conn, data)
        elif kind == "unsub":
            sub = conn.subs.pop(str(data.get("id")), None)
            if sub is not None:
                conn.send({"msg": "nosub", "id": sub.id})
        else:
            conn.send({"msg": "error", "reason": "Bad request", "offendingMessage": data})

    @staticmethod
    def _ddp_error(error: int | str, reason: str) -> DDPErrorBody:
        return {
            "isClientSafe": True,
            "error": error,
            "reason": reason,
            "message": f"{reason} [{error}]",
            "errorType": "Meteor.Error",
        }

    def _ddp_method(self, conn: _DDPConnection, data: dict[str, Any]) -> None:
        call_id: Any = data.get("id")  # echoed as the client sent it
        method = data.get("method")
        params = data.get("params") or []
        if method == "login":
            resume = params[0].get("resume") if params and isinstance(params[0], dict) else None
            user = self._user_by_token(resume) if isinstance(resume, str) else None
            if user is None:
                conn.send(
                    {
                        "msg": "result",
                        "id": call_id,
                        "error": self._ddp_error(
                            403, "You've been logged out by the server. Please log in again."
                        ),
                    }
                )
                return
            conn.user = user
            self.ddp_logins += 1
            conn.send(
                {
                    "msg": "added",
                    "collection": "users",
                    "id": user.id,
                    "fields": {"username": user.username},
                }
            )
            conn.send(
                {
                    "msg": "result",
                    "id": call_id,
                    "result": {
                        "id": user.id,
                        "token": resume,
                        "tokenExpires": {"$date": self._now() + 90 * 86_400_000},
                        "type": "resume",
                    },
                }
            )
            conn.send({"msg": "updated", "methods": [call_id]})
            return
        conn.send(
            {
                "msg": "result",
                "id": call_id,
                "error": self._ddp_error(404, f"Method '{method}' not found"),
            }
        )

    def _ddp_sub(self, conn: _DDPConnection, data: dict[str, Any]) -> None:
        sub_id = str(data.get("id"))
        name = data.get("name")
        params = data.get("params") or []
        if name != "stream-room-messages":
            conn.send(
                {
                    "msg": "nosub",
                    "id": sub_id,
                    "error": self._ddp_error(404, f"Subscription '{name}' not found"),
                }
            )
            return
        target = params[0] if params else None
        room = self.rooms.get(target) if isinstance(target, str) else None
        allowed = conn.user is not None and (
            target == "__my_messages__" or (room is not None and conn.user.id in room.members)
        )
        if not allowed or not isinstance(target, str):
            conn.send(
                {
                    "msg": "nosub",
                    "id": sub_id,
                    "error": self._ddp_error("not-allowed", "Not allowed"),
                }
            )
            return
        conn.subs[sub_id] = _Subscription(sub_id, target)
        conn.send({"msg": "ready", "subs": [sub_id]})

    # --- REST plumbing --------------------------------------------------------------------------

    def _user_by_token(self, token: str | None) -> FakeUser | None:
        if not token:
            return None
        for user in self.users.values():
            if token in user.tokens:
                return user
        return None

    async def _info(self, request: web.Request) -> web.Response:
        return web.json_response({"version": "7.5.0", "success": True})

    def _rate_limit(self, key: str, ip: str, user: FakeUser | None) -> dict[str, str] | None:
        """Meteor's fixed-window limiter. Returns headers, or raises a 429."""
        if not self.rate_limit_enabled:
            return None
        if user is not None and self.bypass_rate_limit_roles.intersection(user.roles):
            return None
        now = time.monotonic() * 1000
        window = self._windows.get((key, ip))
        if window is None or now - window.start >= self.rate_limit_window_ms:
            window = _Window(start=now)
            self._windows[(key, ip)] = window
        window.count += 1
        time_to_reset = int(self.rate_limit_window_ms - (now - window.start))
        headers = {
            "X-RateLimit-Limit": str(self.rate_limit_calls),
            "X-RateLimit-Remaining": str(max(0, self.rate_limit_calls - window.count)),
            "X-RateLimit-Reset": str(self._now() + time_to_reset),
        }
        if window.count > self.rate_limit_calls:
            seconds = -(-time_to_reset // 1000)
            raise _TooManyRequests(headers, seconds)
        return headers

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["endpoint"]
        name, _, rest = path.partition("/")
        path_args = [p for p in rest.split("/") if p]
        handler = self._routes().get((request.method, name))
        if handler is None:
            return web.json_response(
                {"status": "error", "message": "API endpoint does not exist"}, status=404
            )
        user: FakeUser | None = None
        if name != "login":
            user = self._user_by_token(request.headers.get("X-Auth-Token"))
            if user is None or user.id != request.headers.get("X-User-Id"):
                self.statuses[(name, 401)] += 1
                return web.json_response(_NOT_LOGGED_IN, status=401)
        headers: dict[str, str] = {}
        try:
            limited = self._rate_limit(
                f"/api/v1/{name}{request.method.lower()}", _ip(request), user
            )
            if limited:
                headers.update(limited)
        except _TooManyRequests as exc:
            self.statuses[(name, 429)] += 1
            return web.json_response(exc.body(), status=429, headers=exc.headers)
        forced = self._forced.get(name)
        failure = forced.pop(0) if forced else None
        if failure is not None and not failure.processed:
            return self._forced_answer(name, failure)
        try:
            params = await self._params(request)
            body = handler(user, params, path_args)
            status = 200
        except ApiError as exc:
            body, status = exc.body, exc.status
        if failure is not None:
            return self._forced_answer(name, failure)
        self.requests[name] += 1
        self.statuses[(name, status)] += 1
        self._notify()
        return web.json_response(body, status=status, headers=headers)

    def _forced_answer(self, name: str, failure: _Forced) -> web.Response:
        self.statuses[(name, failure.status)] += 1
        if failure.status == 429:
            seconds = max(1, -(-self.forced_reset_ms // 1000))
            headers = {
                "X-RateLimit-Limit": str(self.rate_limit_calls),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(self._now() + self.forced_reset_ms),
            }
            return web.json_response(
                _TooManyRequests(headers, seconds).body(), status=429, headers=headers
            )
        return web.json_response(
            {"success": False, "error": "Internal error occured"}, status=failure.status
        )

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST":
            if request.content_type == "application/json":
                try:
                    data = await request.json()
                except ValueError:
                    raise ApiError("Invalid JSON body", "invalid-params") from None
                if isinstance(data, dict):
                    params.update(data)
            elif request.content_type.startswith("multipart/"):
                reader = await request.multipart()
                while True:
                    part = await reader.next()
                    if part is None:
                        break
                    if not isinstance(part, BodyPartReader):
                        continue
                    if part.name == "file" and part.filename is not None:
                        params["file"] = {
                            "name": part.filename,
                            "type": part.headers.get("Content-Type", "application/octet-stream"),
                            "data": bytes(await part.read()),
                        }
                    elif part.name:
                        params[part.name] = (await part.read()).decode()
            else:
                form = await request.post()
                params.update({k: v for k, v in form.items() if isinstance(v, str)})
        return params

    def _routes(
        self,
    ) -> dict[tuple[str, str], Callable[[Any, dict[str, Any], list[str]], Mapping[str, Any]]]:
        return {
            ("POST", "login"): self._login,
            ("POST", "logout"): self._logout,
            ("GET", "me"): self._me,
            ("GET", "users.info"): self._users_info,
            ("GET", "rooms.get"): self._rooms_get,
            ("GET", "rooms.info"): self._rooms_info,
            ("POST", "channels.join"): self._channels_join,
            ("GET", "channels.history"): lambda u, p, a: self._history(u, p, "c"),
            ("GET", "groups.history"): lambda u, p, a: self._history(u, p, "p"),
            ("GET", "im.history"): lambda u, p, a: self._history(u, p, "d"),
            ("GET", "dm.history"): lambda u, p, a: self._history(u, p, "d"),
            ("POST", "im.create"): self._im_create,
            ("POST", "dm.create"): self._im_create,
            ("POST", "chat.postMessage"): self._post_message,
            ("POST", "chat.sendMessage"): self._send_message,
            ("POST", "chat.update"): self._chat_update,
            ("POST", "chat.react"): self._chat_react,
            ("GET", "chat.getMessage"): self._get_message,
            ("POST", "rooms.upload"): self._rooms_upload,
            **(
                {
                    ("POST", "rooms.media"): self._rooms_media,
                    ("POST", "rooms.mediaConfirm"): self._rooms_media_confirm,
                }
                if self.media_endpoints
                else {}
            ),
        }

    # --- REST endpoints ---------------------------------------------------------------------------

    def _login(self, _: Any, params: dict[str, Any], __: list[str]) -> LoginAnswer:
        login = params.get("user") or params.get("username")
        password = params.get("password")
        user = None
        if isinstance(login, str):
            user = next((u for u in self.users.values() if u.username == login), None)
        if user is None or user.password is None or user.password != password:
            raise ApiError(
                "Unauthorized",
                status=401,
                body={"status": "error", "error": "Unauthorized", "message": "Unauthorized"},
            )
        token = secrets.token_urlsafe(32)
        user.tokens.add(token)
        return {
            "status": "success",
            "data": {"userId": user.id, "authToken": token, "me": user.public(full=True)},
        }

    def _logout(self, user: FakeUser, params: dict[str, Any], __: list[str]) -> dict[str, Any]:
        return {"status": "success", "data": {"message": "You've been logged out!"}}

    def _me(self, user: FakeUser, params: dict[str, Any], __: list[str]) -> dict[str, Any]:
        return {**user.public(full=True), "success": True}

    def _users_info(self, user: FakeUser, params: dict[str, Any], _: list[str]) -> UserAnswer:
        wanted: FakeUser | None = None
        if params.get("userId"):
            wanted = self.users.get(params["userId"])
        elif params.get("username"):
            wanted = next(
                (u for u in self.users.values() if u.username == params["username"]), None
            )
        else:
            raise meteor_error(
                "error-user-param-not-provided",
                'The required "userId" or "username" param was not provided',
            )
        if wanted is None:
            raise meteor_error("error-invalid-user", "User not found.")
        full = wanted.id == user.id or bool(self.full_user_info_roles.intersection(user.roles))
        return {"user": wanted.public(full=full), "success": True}

    def _member_rooms(self, user: FakeUser) -> list[FakeRoom]:
        return [r for r in self.rooms.values() if user.id in r.members]

    def _rooms_get(self, user: FakeUser, params: dict[str, Any], _: list[str]) -> RoomsAnswer:
        rooms = self._member_rooms(user)
        if params.get("updatedSince"):
            since = parse_iso(params["updatedSince"])
            rooms = [r for r in rooms if r.updated_at > since]
        return {"update": [r.as_json() for r in rooms], "remove": [], "success": True}

    def _find_room(self, params: dict[str, Any]) -> FakeRoom:
        room: FakeRoom | None = None
        if params.get("roomId"):
            room = self.rooms.get(params["roomId"])
        elif params.get("roomName"):
            room = next((r for r in self.rooms.values() if r.name == params["roomName"]), None)
        else:
            raise meteor_error(
                "error-roomid-param-not-provided",
                'The parameter "roomId" or "roomName" is required',
            )
        if room is None:
            raise meteor_error(
                "error-room-not-found",
                'The required "roomId" or "roomName" param provided does not match any channel',
            )
        return room

    def _rooms_info(self, user: FakeUser, params: dict[str, Any], _: list[str]) -> RoomAnswer:
        room = self._find_room(params)
        if room.type != "c" and user.id not in room.members:
            raise meteor_error("error-not-allowed", "Not allowed")
        return {"room": room.as_json(), "success": True}

    def _channels_join(self, user: FakeUser, params: dict[str, Any], _: list[str]) -> RoomAnswer:
        room = self._find_room(params)
        if room.type != "c":
            raise meteor_error(
                "error-room-not-found",
                'The required "roomId" or "roomName" param provided does not match any channel',
            )
        if user.id not in room.members:
            room.members.append(user.id)
        return {"channel": room.as_json(), "success": True}

    def _history(self, user: FakeUser, params: dict[str, Any], kind: str) -> HistoryAnswer:
        room = self._find_room(params)
        if room.type != kind:
            raise meteor_error(
                "error-room-not-found",
                'The required "roomId" or "roomName" param provided does not match any channel',
            )
        if room.type != "c" and user.id not in room.members:
            raise meteor_error("error-not-allowed", "Not allowed")
        inclusive = str(params.get("inclusive", "false")).lower() == "true"
        oldest = parse_iso(params["oldest"]) if params.get("oldest") else None
        latest = parse_iso(params["latest"]) if params.get("latest") else None
        count = min(int(params.get("count", 20)), self.upper_count_limit)
        offset = int(params.get("offset", 0))
        found = []
        for message in self.messages.values():
            if message["rid"] != room.id:
                continue
            ts = message["ts"]
            if oldest is not None and (ts < oldest or (ts == oldest and not inclusive)):
                continue
            if latest is not None and (ts > latest or (ts == latest and not inclusive)):
                continue
            found.append(message)
        found.sort(key=lambda m: m["ts"], reverse=True)  # newest first, as the server sorts
        page = found[offset : offset + count] if count > 0 else found[offset:]
        return {"messages": [rest_form(m) for m in page], "success": True}

    def _im_create(self, user: FakeUser, params: dict[str, Any], _: list[str]) -> DirectRoomAnswer:
        username = params.get("username")
        if not isinstance(username, str) or not username:
            raise meteor_error(
                "error-invalid-params", 'Body param "username" or "usernames" is required'
            )
        try:
            other = self.user(username)
        except KeyError:
            raise meteor_error("error-invalid-user", "Invalid user") from None
        room = self.direct_room(user.username, other.username)
        return {
            "room": {"_id": room.id, "rid": room.id, "t": "d", "usernames": room.usernames},
            "success": True,
        }

    def _check_send(self, user: FakeUser, room: FakeRoom, message: dict[str, Any]) -> None:
        if user.id not in room.members:
            raise meteor_error("error-not-allowed", "Not allowed")
        text = message.get("msg") or ""
        if not isinstance(text, str):
            raise meteor_error("invalid-params", "must be string")
        if len(text) > self.max_message_size:
            raise meteor_error(
                "error-message-size-exceeded", "Message size exceeds Message_MaxAllowedSize"
            )
        for attachment in message.get("attachments") or []:
            if not isinstance(attachment, dict):
                raise ApiError("Match error: Expected object")
            for action in attachment.get("actions") or []:
                if not isinstance(action, dict):
                    raise ApiError("Match error: Expected object")
                for key, kind in (
                    ("type", str),
                    ("text", str),
                    ("msg", str),
                    ("msg_in_chat_window", bool),
                ):
                    if key in action and not isinstance(action[key], kind):
                        raise ApiError(f"Match error: Expected {kind.__name__} in field {key}")
        if message.get("customFields"):
            raise meteor_error("error-not-allowed", "Custom fields not enabled")

    def _post_message(self, user: FakeUser, params: dict[str, Any], _: list[str]) -> dict[str, Any]:
        room: FakeRoom | None = None
        if params.get("roomId"):
            room = self.rooms.get(params["roomId"])
        elif isinstance(params.get("channel"), str):
            channel = params["channel"]
            if channel.startswith("@"):
                room = self.direct_room(user.username, channel[1:])
            else:
                room = next((r for r in self.rooms.values() if r.name == channel.lstrip("#")), None)
        if room is None:
            raise meteor_error("invalid-channel", "Invalid channel")
        message = {"msg": params.get("text") or "", "attachments": params.get("attachments")}
        self._check_send(user, room, message)
        stored = self._insert(user, room, message)
        return {
            "ts": stored["ts"],
            "channel": room.name or room.id,
            "message": rest_form(stored),
            "success": True,
        }

    def _send_message(self, user: FakeUser, params: dict[str, Any], _: list[str]) -> MessageAnswer:
        message = params.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("rid"), str):
            raise meteor_error("invalid-params", "must have required property 'message'")
        room = self.rooms.get(message["rid"])
        if room is None:
            raise meteor_error("error-invalid-room", "Invalid room")
        self._check_send(user, room, message)
        if message.get("_id") and message["_id"] in self.messages:
            # The real server stores nothing and its REST layer then fails on the missing result.
            raise ApiError(_DUPLICATE_ID_ERROR)
        stored = self._insert(user, room, message)
        return {"message": rest_form(stored), "success": True}

    def _chat_update(self, user: FakeUser, params: dict[str, Any], _: list[str]) -> MessageAnswer:
        extra = set(params) - {"roomId", "msgId", "text", "previewUrls"}
        if extra:
            raise meteor_error("invalid-params", "must NOT have additional properties")
        message = self.messages.get(str(params.get("msgId")))
        if message is None:
            raise ApiError(f'No message found with the id of "{params.get("msgId")}".')
        if params.get("roomId") != message["rid"]:
            raise ApiError("The room id provided does not match where the message is from.")
        if message["u"]["_id"] != user.id and "admin" not in user.roles:
            raise meteor_error("error-action-not-allowed", "Message editing not allowed")
        text = params.get("text")
        if not isinstance(text, str):
            raise meteor_error("invalid-params", "must have required property 'text'")
        updated = self._update_text(user, message, text)
        return {"message": rest_form(updated), "success": True}

    def _chat_react(self, user: FakeUser, params: dict[str, Any], _: list[str]) -> dict[str, Any]:
        message = self.messages.get(str(params.get("messageId")))
        if message is None:
            raise meteor_error(
                "error-message-not-found",
                'The provided "messageId" does not match any existing message.',
            )
        emoji = params.get("emoji") or params.get("reaction")
        if not isinstance(emoji, str) or not emoji:
            raise meteor_error(
                "error-emoji-param-not-provided", 'The required "emoji" param is missing.'
            )
        should = params.get("shouldReact")
        self._set_reaction(user, message, emoji, None if should is None else bool(should))
        return {"success": True}

    def _get_message(self, user: FakeUser, params: dict[str, Any], _: list[str]) -> MessageAnswer:
        message = self.messages.get(str(params.get("msgId")))
        if message is None:
            raise meteor_error("error-invalid-message", "Invalid message")
        room = self.rooms[message["rid"]]
        if room.type != "c" and user.id not in room.members:
            raise meteor_error("error-not-allowed", "Not allowed")
        return {"message": rest_form(message), "success": True}

    def _upload_target(self, user: FakeUser, args: list[str]) -> FakeRoom:
        room = self.rooms.get(args[0]) if args else None
        if room is None or user.id not in room.members:
            raise meteor_error("error-not-allowed", "Not allowed")
        return room

    def _file_message(self, upload: FakeUpload, msg: str, description: str) -> dict[str, Any]:
        info: FileInfo = {
            "_id": upload.id,
            "name": upload.name,
            "type": upload.media_type,
            "size": len(upload.data),
        }
        card: MessageAttachment = {
            "title": upload.name,
            "title_link": f"/file-upload/{upload.id}/{upload.name}",
            "title_link_download": True,
            "type": "file",
            "description": description,
            "format": upload.name.rsplit(".", 1)[-1].upper(),
            "size": len(upload.data),
        }
        return {"msg": msg, "file": info, "files": [info], "attachments": [card]}

    def _new_upload(self, user: FakeUser, room: FakeRoom, params: dict[str, Any]) -> FakeUpload:
        file = params.get("file")
        if not isinstance(file, dict):
            raise meteor_error("invalid-field", "invalid-field")
        upload = FakeUpload(
            random_id(24), room.id, user.id, file["name"], file["type"], file["data"]
        )
        self.uploads[upload.id] = upload
        return upload

    def _rooms_media(self, user: FakeUser, params: dict[str, Any], args: list[str]) -> UploadAnswer:
        room = self._upload_target(user, args)
        upload = self._new_upload(user, room, params)
        return {
            "file": {"_id": upload.id, "url": f"/file-upload/{upload.id}/{upload.name}"},
            "success": True,
        }

    def _rooms_media_confirm(
        self, user: FakeUser, params: dict[str, Any], args: list[str]
    ) -> MessageAnswer:
        room = self._upload_target(user, args)
        upload = self.uploads.get(args[1]) if len(args) > 1 else None
        if upload is None or upload.room_id != room.id or upload.confirmed:
            raise meteor_error("error-file-not-found", "File not found")
        upload.confirmed = True
        message = self._file_message(
            upload, str(params.get("msg") or ""), str(params.get("description") or "")
        )
        stored = self._insert(user, room, message)
        return {"message": rest_form(stored), "success": True}

    def _rooms_upload(
        self, user: FakeUser, params: dict[str, Any], args: list[str]
    ) -> MessageAnswer:
        room = self._upload_target(user, args)
        upload = self._new_upload(user, room, params)
        upload.confirmed = True
        message = self._file_message(
            upload, str(params.get("msg") or ""), str(params.get("description") or "")
        )
        stored = self._insert(user, room, message)
        return {"message": rest_form(stored), "success": True}


class _TooManyRequests(Exception):
    def __init__(self, headers: dict[str, str], seconds: int) -> None:
        super().__init__("too many requests")
        self.headers = headers
        self.seconds = seconds

    def body(self) -> ErrorBody:
        return {
            "success": False,
            "error": (
                "Error, too many requests. Please slow down. You must wait "
                f"{self.seconds} seconds before trying this endpoint again."
            ),
        }


def _ip(request: web.Request) -> str:
    return request.remote or "127.0.0.1"


def number_emoji(index: int) -> str:
    """The reaction Rocket.Chat shows for choice ``index`` (0-based): ``:one:`` .. ``:keycap_ten:``."""
    return f":{_NUMBER_WORDS[index]}:" if index < 9 else ":keycap_ten:"
