"""What the fake Rocket.Chat server stores and sends: users, rooms, uploads, messages in their
REST and DDP forms, REST errors and the state of a DDP connection."""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from aiohttp import web

from bot.platforms.rocketchat.types import (
    ErrorBody,
    Message,
    Room,
    RoomType,
    ServerFrame,
    User,
)

T = TypeVar("T")

_ID_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"
_DATE_KEYS = ("ts", "_updatedAt", "editedAt", "lm")
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
class Forced:
    status: int
    processed: bool


@dataclass
class Window:
    start: float
    count: int = 0


class Subscription:
    def __init__(self, sub_id: str, target: str) -> None:
        self.id = sub_id
        self.target = target


class DDPConnection:
    def __init__(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.ws = ws
        self.request = request
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.user: FakeUser | None = None
        self.subs: dict[str, Subscription] = {}
        self.connected = False
        self.pending_ping: str | None = None
        self.missed_pings = 0

    def send(self, payload: ServerFrame) -> None:
        self.queue.put_nowait(json.dumps(payload))


class TooManyRequests(Exception):
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


def client_ip(request: web.Request) -> str:
    return request.remote or "127.0.0.1"


def number_emoji(index: int) -> str:
    """The reaction Rocket.Chat shows for choice ``index`` (0-based): ``:one:`` .. ``:keycap_ten:``."""
    return f":{_NUMBER_WORDS[index]}:" if index < 9 else ":keycap_ten:"
