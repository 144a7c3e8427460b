"""What members say, turned into neutral events.

A message starting with the prefix (``!`` by default), or with a mention of the bot (``@tisserand
aide``), or any message in a direct conversation becomes a :class:`~bot.core.CommandEvent` with
the command line without prefix or mention; ``<prefix>choix <action>`` (what a button posts) a
:class:`~bot.core.ChoiceEvent`. Other messages become :class:`~bot.core.MessageEvent`. The bot's
own messages, messages carrying a ``bot`` field (integrations) and messages of bot users
(``type: "bot"`` or role ``bot``) are ignored.

The stream pushes new messages *and* updates (edits, reactions) in the same shape. An unseen
message is new only if its timestamp is not older than the room's mark (minus a few seconds of
tolerance) or, for a room not seen yet, than the adapter's start; anything else is an update of
an older message. So an edit (``editedAt``) never runs a command twice, and an old message edited
after a restart does not run at all.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from bot.core import Actor, ChoiceEvent, CommandEvent, Event, MessageEvent, MessageRef, Place
from bot.platforms.rocketchat.cursors import Cursors
from bot.platforms.rocketchat.delivery import message_id_for
from bot.platforms.rocketchat.reactions import CHOICE_KEYWORD, Reactions
from bot.platforms.rocketchat.rest import RateLimited, RestError, Transport
from bot.platforms.rocketchat.rooms import RoomInfo, Rooms
from bot.platforms.rocketchat.settings import PLATFORM, RocketChatSettings
from bot.platforms.rocketchat.state import Memory, Stats
from bot.platforms.rocketchat.types import Message, RoomMeta, UserRef, ms
from bot.platforms.rocketchat.users import Users

_TOLERANCE_MS = 5_000


class Events:
    """Reads each message once, in order, and hands the events it makes to ``dispatch``."""

    def __init__(
        self,
        settings: RocketChatSettings,
        transport: Transport,
        rooms: Rooms,
        users: Users,
        reactions: Reactions,
        cursors: Cursors,
        memory: Memory,
        stats: Stats,
        dispatch: Callable[[Event], Awaitable[None]],
    ) -> None:
        self.settings = settings
        self._transport = transport
        self._rooms = rooms
        self._users = users
        self._reactions = reactions
        self._cursors = cursors
        self._memory = memory
        self._stats = stats
        self._dispatch = dispatch
        self._mention_of = ""
        self._mention = re.compile("")

    async def process(
        self,
        message: Message,
        meta: RoomMeta,
        cutoff: int | None,
        *,
        probe: bool = False,
    ) -> None:
        """Handle one message of the stream or of a catch-up. ``cutoff``: older messages are not
        new (None: the room's mark, or the start); ``probe``: run a command only if the
        previous run did not answer it."""
        msg_id = str(message.get("_id") or "")
        room_id = str(message.get("rid") or "")
        ts = ms(message.get("ts"))
        if not msg_id or not room_id or ts is None:
            return
        room = await self._rooms.info(room_id, meta)
        if not self._rooms.allowed(room):
            return
        memory = self._memory
        if msg_id in memory.seen:
            await self._reactions.changes(message, room)
            return
        if cutoff is None:
            mark = memory.marks.get(room_id)
            cutoff = (
                memory.start_cutoff
                if mark is None
                else max(memory.start_cutoff, mark - _TOLERANCE_MS)
            )
            # Whatever the previous runs handled (up to the stored cursor) is never new again,
            # so an edit pushed after a restart does not run a command twice.
            cutoff = max(cutoff, self._cursors.floors.get(room_id, cutoff))
        if ts < cutoff:
            await self._reactions.changes(message, room)  # an update of an older message
            return
        memory.seen.put(msg_id, True)
        memory.marks[room_id] = max(memory.marks.get(room_id, 0), ts)
        if message.get("tmid"):
            memory.threads.put(msg_id, str(message["tmid"]))
        if not message.get("t"):  # not a system message (join, leave, topic...)
            await self._new_message(message, room, ts, probe=probe)
            # Reactions already on it (added while the connection was down) count as new too.
            await self._reactions.changes(message, room)
        self._cursors.advance(room_id, ts, msg_id)

    async def _new_message(
        self, message: Message, room: RoomInfo, ts: int, *, probe: bool = False
    ) -> None:
        author: UserRef | dict[str, str] = message.get("u") or {}
        if author.get("_id") == self._transport.user_id or message.get("bot"):
            return
        actor = await self._users.actor(str(author.get("_id", "")), author)
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
            self._stats.replays_avoided += 1
            return
        self._stats.handled_ids.append(msg_id)
        key = id(event)
        self._memory.origins[key] = [msg_id, 0]
        try:
            await self._dispatch(event)
        finally:
            self._memory.origins.pop(key, None)

    async def _answered_before(self, msg_id: str) -> bool:
        """Whether the bot's first reply to message ``msg_id`` exists (replies to a message get
        ids derived from it: see :mod:`.delivery`)."""
        reply_id = message_id_for(f"reply:{msg_id}:0")
        try:
            data = await self._transport.get_message(reply_id)
        except (RestError, RateLimited):
            return False  # unknown (400 when there is no such message): handle it
        found = data.get("message")
        if not isinstance(found, dict):
            return False
        author: UserRef | dict[str, str] = found.get("u") or {}
        return author.get("_id") == self._transport.user_id

    def _event_for(self, message: Message, room: RoomInfo, actor: Actor, ts: int) -> Event:
        place = Place(PLATFORM, room.id, room.name or actor.display_name, is_direct=room.is_direct)
        ref = MessageRef(PLATFORM, room.id, str(message["_id"]))
        at = datetime.fromtimestamp(ts / 1000, UTC)
        text = str(message.get("msg") or "")
        command = self.command_line(text, room.is_direct)
        if command is None:
            return MessageEvent(actor=actor, place=place, text=text, ref=ref, at=at)
        keyword, _, rest = command.partition(" ")
        if keyword.lower() == CHOICE_KEYWORD and rest.strip():
            # A button click: the message that carried the button is not known (ref None).
            return ChoiceEvent(actor=actor, place=place, at=at, action=rest.strip())
        return CommandEvent(actor=actor, place=place, at=at, text=command, ref=ref)

    def command_line(self, text: str, is_direct: bool) -> str | None:
        """The command in ``text`` without its prefix or mention; None if it is not one."""
        stripped = text.strip()
        prefix = self.settings.command_prefix
        body: str | None = None
        mention = self._mention_pattern().match(stripped)
        if mention is not None:
            body = stripped[mention.end() :].strip()
            if body.startswith(prefix):
                body = body[len(prefix) :].strip()
        elif stripped.startswith(prefix):
            body = stripped[len(prefix) :].strip()
        elif is_direct:
            body = stripped
        return body or None

    def _mention_pattern(self) -> re.Pattern[str]:
        """``@<bot's username>`` at the start of a message (the username the server knows)."""
        username = self._transport.username
        if username != self._mention_of:
            self._mention_of = username
            self._mention = re.compile(rf"^@{re.escape(username)}(?![\w.-])[:,]?\s*", re.I)
        return self._mention
