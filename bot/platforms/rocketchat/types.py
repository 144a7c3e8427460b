"""The payloads Rocket.Chat and the adapter exchange, as ``TypedDict``s.

Shared by the adapter and the fake server (``tests/fakes/rocketchat``). Written from Rocket.Chat's
REST API v1 and realtime API documentation; only the fields the bot reads or writes are listed
(the server sends more). Dates are ISO 8601 strings over REST and EJSON ``{"$date": ms}`` over
DDP (:func:`ms` reads both). Nothing here is checked at run time: the adapter still reads what it
receives defensively.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, NotRequired, TypeAlias, TypedDict

# --- common ------------------------------------------------------------------------------------

EJSONDate = TypedDict("EJSONDate", {"$date": int})
"""A date as DDP (EJSON) carries it: milliseconds since the epoch."""
Date: TypeAlias = str | EJSONDate
"""ISO 8601 over REST, EJSON over DDP."""


def ms(value: Any) -> int | None:
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


def ms_of(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def iso(value: int) -> str:
    """The ISO form REST takes (``oldest`` of a history) of ``value`` milliseconds."""
    moment = datetime.fromtimestamp(value / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value % 1000:03d}Z"


RoomType: TypeAlias = Literal["c", "p", "d", "l"]
"""Public channel, private group, direct conversation, livechat."""


class UserRef(TypedDict):
    """A user as a message names them (``u``, ``editedBy``)."""

    _id: str
    username: str
    name: NotRequired[str]


class Mention(TypedDict):
    _id: str
    username: str


# --- messages ---------------------------------------------------------------------------------


class Reaction(TypedDict):
    """One emoji's reactions (``reactions[":one:"]``)."""

    usernames: list[str]


class ButtonAction(TypedDict):
    """An attachment button whose click makes the user post ``msg``."""

    type: Literal["button"]
    text: str
    msg: str
    msg_in_chat_window: bool
    msg_processing_type: Literal["sendMessage", "respondWithMessage"]


class MessageAttachment(TypedDict, total=False):
    """An attachment: action buttons (what the bot posts) or a file's card (what the server adds)."""

    button_alignment: Literal["vertical", "horizontal"]
    actions: list[ButtonAction]
    title: str
    title_link: str
    title_link_download: bool
    type: str
    description: str
    format: str
    size: int


class FileInfo(TypedDict):
    _id: str
    name: str
    type: NotRequired[str]
    size: NotRequired[int]


class NewMessage(TypedDict):
    """What ``chat.sendMessage`` takes (``message``): the client chooses the ``_id``."""

    _id: str
    rid: str
    msg: str
    tmid: NotRequired[str]
    attachments: NotRequired[list[MessageAttachment]]


class Message(NewMessage):
    """A stored message, as REST answers and the ``stream-room-messages`` stream pushes it
    (``ts`` and ``u`` are always there; the adapter copes without them)."""

    ts: NotRequired[Date]
    u: NotRequired[UserRef]
    _updatedAt: NotRequired[Date]
    t: NotRequired[str]
    """A system message's type (user joined, topic changed...); absent for what people say."""
    bot: NotRequired[dict[str, Any]]
    """Set on messages of integrations."""
    editedAt: NotRequired[Date]
    editedBy: NotRequired[UserRef]
    reactions: NotRequired[dict[str, Reaction]]
    mentions: NotRequired[list[Mention]]
    channels: NotRequired[list[dict[str, Any]]]
    file: NotRequired[FileInfo]
    files: NotRequired[list[FileInfo]]


# --- rooms and users ---------------------------------------------------------------------------


class Room(TypedDict):
    """A room as ``rooms.get`` and ``rooms.info`` show it."""

    _id: str
    t: RoomType
    name: NotRequired[str]
    fname: NotRequired[str]
    lm: NotRequired[Date]
    """When the last message was said."""
    usernames: NotRequired[list[str]]
    """The two members of a direct conversation."""
    usersCount: NotRequired[int]
    msgs: NotRequired[int]
    _updatedAt: NotRequired[Date]


class DirectRoom(TypedDict):
    """The room ``im.create`` answers (``rid`` on current servers, ``_id`` on older ones)."""

    _id: str
    rid: NotRequired[str]
    t: Literal["d"]
    usernames: list[str]


class User(TypedDict):
    """A user as ``users.info``, ``me`` and ``login`` show them."""

    _id: str
    username: str
    name: NotRequired[str]
    type: NotRequired[Literal["user", "bot"]]
    roles: NotRequired[list[str]]
    """Shown for another user only to callers holding ``view-full-other-user-info``."""
    status: NotRequired[str]
    active: NotRequired[bool]
    utcOffset: NotRequired[float]


class RoomMeta(TypedDict, total=False):
    """The second argument of a ``stream-room-messages`` event for ``__my_messages__``."""

    roomParticipant: bool
    roomType: RoomType
    roomName: str


# --- REST answers ------------------------------------------------------------------------------
# The server always sends the payload of a successful answer; it is NotRequired here because the
# adapter reads every answer as if it might not.


class ErrorBody(TypedDict):
    """A refused call: ``"<reason> [<errorType>]"`` in ``error``, or ``status``/``message``."""

    success: NotRequired[Literal[False]]
    error: NotRequired[str]
    errorType: NotRequired[str]
    status: NotRequired[Literal["error"]]
    message: NotRequired[str]


class LoginData(TypedDict):
    userId: str
    authToken: str
    me: NotRequired[User]


class LoginAnswer(TypedDict):
    status: Literal["success"]
    data: LoginData


class RoomsAnswer(TypedDict):
    """``rooms.get``: the rooms the caller is in."""

    update: NotRequired[list[Room]]
    remove: NotRequired[list[Room]]
    success: bool


class RoomAnswer(TypedDict):
    """``rooms.info``, ``channels.join`` (``channel``), ``im.create``."""

    room: NotRequired[Room]
    channel: NotRequired[Room]
    success: bool


class DirectRoomAnswer(TypedDict):
    room: NotRequired[DirectRoom]
    success: bool


class HistoryAnswer(TypedDict):
    """``channels.history``, ``groups.history``, ``im.history``: newest first."""

    messages: NotRequired[list[Message]]
    success: bool


class MessageAnswer(TypedDict):
    """``chat.sendMessage``, ``chat.getMessage``, ``chat.update``, ``rooms.mediaConfirm``."""

    message: NotRequired[Message]
    success: bool


class UserAnswer(TypedDict):
    user: NotRequired[User]
    success: bool


class UploadedFile(TypedDict):
    _id: str
    url: NotRequired[str]


class UploadAnswer(TypedDict):
    """``rooms.media``: the file waits for ``rooms.mediaConfirm``."""

    file: NotRequired[UploadedFile]
    success: bool


# --- DDP frames --------------------------------------------------------------------------------


class DDPErrorBody(TypedDict):
    """A method's or a subscription's error (a ``Meteor.Error``)."""

    error: int | str
    reason: NotRequired[str]
    details: NotRequired[Any]
    message: NotRequired[str]
    errorType: NotRequired[str]
    isClientSafe: NotRequired[bool]


class Connect(TypedDict):
    msg: Literal["connect"]
    version: str
    support: list[str]


class Connected(TypedDict):
    msg: Literal["connected"]
    session: str


class Failed(TypedDict):
    msg: Literal["failed"]
    version: str


class Ping(TypedDict):
    msg: Literal["ping"]
    id: NotRequired[str]


class Pong(TypedDict):
    msg: Literal["pong"]
    id: NotRequired[str]


class Method(TypedDict):
    msg: Literal["method"]
    method: str
    params: list[Any]
    id: str


class Result(TypedDict):
    msg: Literal["result"]
    id: str
    result: NotRequired[Any]
    error: NotRequired[DDPErrorBody]


class Updated(TypedDict):
    msg: Literal["updated"]
    methods: list[str]


class Sub(TypedDict):
    msg: Literal["sub"]
    id: str
    name: str
    params: list[Any]


class Unsub(TypedDict):
    msg: Literal["unsub"]
    id: str


class Ready(TypedDict):
    msg: Literal["ready"]
    subs: list[str]


class NoSub(TypedDict):
    msg: Literal["nosub"]
    id: str
    error: NotRequired[DDPErrorBody]


class StreamFields(TypedDict):
    """``fields`` of a ``stream-room-messages`` event: ``args`` is ``[message]`` or, for
    ``__my_messages__``, ``[message, RoomMeta]``."""

    eventName: str
    args: list[Any]


class CollectionChange(TypedDict):
    """``added``, ``changed`` or ``removed`` in a collection (or a stream)."""

    msg: Literal["added", "changed", "removed"]
    collection: str
    id: str
    fields: NotRequired[dict[str, Any]]


class ProtocolError(TypedDict):
    msg: Literal["error"]
    reason: str
    offendingMessage: NotRequired[dict[str, Any]]


class ServerId(TypedDict):
    """The first frame of a connection (no ``msg``)."""

    server_id: str


ClientFrame: TypeAlias = Connect | Ping | Pong | Method | Sub | Unsub
"""What the client sends."""
ServerFrame: TypeAlias = (
    ServerId
    | Connected
    | Failed
    | Ping
    | Pong
    | Result
    | Updated
    | Ready
    | NoSub
    | CollectionChange
    | ProtocolError
)
"""What the server sends."""
