"""The rooms the bot is in: their names and types, the channels it listens to, its direct
conversations, and a room's history."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Problem
from bot.core import ConfigError, DeliveryError, PlaceTarget, Target
from bot.i18n import N_
from bot.platforms.rocketchat.rest import RateLimited, RestError, Transport
from bot.platforms.rocketchat.settings import RocketChatSettings
from bot.platforms.rocketchat.types import DirectRoom, Message, Room, RoomMeta, iso, ms
from bot.platforms.rocketchat.users import Users

HISTORY_PAGE = 100
"""Messages per history page (the default ``API_Upper_Count_Limit``)."""


@dataclass(frozen=True)
class RoomInfo:
    id: str
    type: str
    name: str

    @property
    def is_direct(self) -> bool:
        return self.type == "d"


class Rooms:
    """What the bot knows of its rooms (cached for the run)."""

    def __init__(self, settings: RocketChatSettings, transport: Transport, users: Users) -> None:
        self.settings = settings
        self._transport = transport
        self._users = users
        self._rooms: dict[str, RoomInfo] = {}
        self._allowed_rooms: set[str] | None = None
        self._dm_rooms: dict[str, str] = {}

    async def resolve_channels(self) -> None:
        """Find the configured channels (ConfigError for an unknown one) and join the public
        ones the bot is not in yet."""
        if not self.settings.channels:
            self._allowed_rooms = None
            return
        allowed: set[str] = set()
        joined = await self._transport.rooms_get()
        member_of = {str(r.get("_id")) for r in joined.get("update", []) if isinstance(r, dict)}
        for name in self.settings.channels:
            try:
                data = await self._transport.room_by_name(name)
            except RestError as exc:
                raise ConfigError(
                    [("rocketchat.channels", Problem(N_("unknown channel: {name}"), name=name))]
                ) from exc
            room: Room | dict[str, str] = data.get("room") or {}
            info = RoomInfo(str(room.get("_id")), str(room.get("t", "c")), name)
            self._rooms[info.id] = info
            allowed.add(info.id)
            if info.id not in member_of and info.type == "c":
                await self._transport.join_channel(info.id)
        self._allowed_rooms = allowed

    def allowed(self, room: RoomInfo) -> bool:
        """Whether the bot listens in ``room`` (direct conversations always)."""
        return self._allowed_rooms is None or room.is_direct or room.id in self._allowed_rooms

    def remember(self, info: RoomInfo) -> None:
        self._rooms.setdefault(info.id, info)

    async def info(self, room_id: str, meta: RoomMeta) -> RoomInfo:
        known = self._rooms.get(room_id)
        if known is not None:
            return known
        if meta.get("roomType"):
            info = RoomInfo(room_id, str(meta["roomType"]), str(meta.get("roomName") or ""))
        else:
            try:
                data = await self._transport.room_by_id(room_id)
                room: Room | dict[str, str] = data.get("room") or {}
                info = RoomInfo(room_id, str(room.get("t", "c")), str(room.get("name") or ""))
            except (RestError, RateLimited):
                return RoomInfo(room_id, "c", "")
        self._rooms[room_id] = info
        return info

    async def room_for(self, target: Target) -> str:
        """The room id of ``target``; a direct conversation is opened when needed."""
        if isinstance(target, PlaceTarget):
            return target.channel_id
        room_id = self._dm_rooms.get(target.user_id)
        if room_id is not None:
            return room_id
        user = await self._users.info(user_id=target.user_id)
        if user is None:
            raise DeliveryError(f"unknown Rocket.Chat user {target.user_id}", permanent=True)
        data = await self._transport.open_direct(user.username)
        room: DirectRoom | dict[str, str] = data.get("room") or {}
        room_id = str(room.get("rid") or room.get("_id"))
        self._dm_rooms[target.user_id] = room_id
        self._rooms.setdefault(room_id, RoomInfo(room_id, "d", user.username))
        return room_id

    async def history(
        self, room: RoomInfo, since: int, *, limit: int | None = None
    ) -> tuple[list[Message], bool]:
        """Messages of ``room`` from ``since`` (inclusive), oldest first, and whether older ones
        were left out to keep the newest ``limit``.

        The server answers newest first, ``count`` at a time from ``offset`` (pages of 100, the
        default ``API_Upper_Count_Limit``). A message said while paging shifts the pages by one:
        a message may come twice (kept once), none is skipped."""
        found: dict[str, Message] = {}
        offset = 0
        while limit is None or len(found) <= limit:
            data = await self._transport.history(
                room.type, room.id, oldest=iso(since), count=HISTORY_PAGE, offset=offset
            )
            batch = [m for m in data.get("messages", []) if isinstance(m, dict)]
            for message in batch:
                found[str(message.get("_id"))] = message
            if len(batch) < HISTORY_PAGE:
                break
            offset += HISTORY_PAGE
        ordered = sorted(found.values(), key=lambda m: ms(m.get("ts")) or 0)
        if limit is not None and len(ordered) > limit:
            return ordered[-limit:], True
        return ordered, False
