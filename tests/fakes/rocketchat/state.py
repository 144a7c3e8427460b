"""The state of the fake server: its directory (users, rooms, tokens) and how a message is
stored, edited, reacted to and pushed to the realtime subscribers."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

from bot.platforms.rocketchat.types import (
    Mention,
    RoomMeta,
)
from tests.fakes.rocketchat.model import (
    DDPConnection,
    FakeRoom,
    FakeUpload,
    FakeUser,
    Forced,
    Window,
    ddp_form,
    random_id,
)


class ServerState:
    """Everything the server holds; the directory and the storage every API shares."""

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

        self._forced: dict[str, list[Forced]] = {}
        self._windows: dict[tuple[str, str], Window] = {}
        self._connections: set[DDPConnection] = set()
        self._accept_websockets = True
        self._last_ts = 0
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.url = ""

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

    def _user_by_token(self, token: str | None) -> FakeUser | None:
        if not token:
            return None
        for user in self.users.values():
            if token in user.tokens:
                return user
        return None
