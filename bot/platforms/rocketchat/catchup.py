"""Nothing lost, nothing twice: what was said while the bot was not listening.

Every message id handled is remembered (bounded), and per room the timestamp of the last message
seen (the *mark*). When the connection drops, the marks are snapshot; after the reconnection
``rooms.get`` lists the bot's rooms with their last-message date (``lm``) and each room that
moved is read with ``channels.history`` / ``groups.history`` / ``im.history`` from its mark
(inclusive, paged); the missed messages of every room are handled in the order they were said,
skipping ids already handled, and a failed catch-up is tried again later. Live events that
arrive meanwhile go through the same single consumer, so a message is handled once whichever way
it comes first.

After a restart the same catch-up reads every room from its stored cursor (:mod:`.cursors`),
within ``catch_up_hours`` (24) and the newest ``catch_up_max_messages`` (200) per room; older
messages are not handled. A crash between handling and the cursor write replays the messages
handled since the last write: a replayed command's answers are refused by the server as
duplicates (their ids derive from the message, see :mod:`.delivery`). After a run that did not
stop cleanly, the adapter asks for the first reply to each caught-up command
(``chat.getMessage``) and does not run again a command the previous run answered. Still replayed
after a crash: a message whose handler answered nothing (plain messages, which the listeners
store idempotently), and a command whose process died after its database commit but before its
first reply was posted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.platforms.rocketchat.cursors import Cursors
from bot.platforms.rocketchat.events import Events
from bot.platforms.rocketchat.rest import RateLimited, RestError, Transport
from bot.platforms.rocketchat.rooms import RoomInfo, Rooms
from bot.platforms.rocketchat.settings import RocketChatSettings
from bot.platforms.rocketchat.state import Memory, Stats
from bot.platforms.rocketchat.types import Message, UserRef, ms

log = logging.getLogger(__name__)


@dataclass
class CatchUpItem:
    """A catch-up to run, queued with the live messages."""

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


class CatchUp:
    """Reads back the rooms that moved and hands what was missed to :class:`.events.Events`."""

    def __init__(
        self,
        settings: RocketChatSettings,
        transport: Transport,
        rooms: Rooms,
        events: Events,
        cursors: Cursors,
        memory: Memory,
        stats: Stats,
        *,
        enqueue: Callable[[CatchUpItem], None],
        closing: Callable[[], bool],
    ) -> None:
        self.settings = settings
        self._transport = transport
        self._rooms = rooms
        self._events = events
        self._cursors = cursors
        self._memory = memory
        self._stats = stats
        self._enqueue = enqueue
        self._closing = closing

    def _retry(self, item: CatchUpItem, exc: Exception) -> None:
        """Try the whole catch-up again later (already handled ids are skipped then)."""
        if self._closing():
            return
        delay = exc.retry_after if isinstance(exc, RateLimited) else 2.0 ** min(item.attempt, 5)
        log.warning("catch-up failed (%s); again in %.0f s", exc, delay)
        retry = replace(item, attempt=item.attempt + 1)
        asyncio.get_running_loop().call_later(delay, self._enqueue, retry)

    async def run(self, item: CatchUpItem) -> None:
        """Read every room that moved since its mark and handle what was missed, in the order
        it was said, within the bounds (``catch_up_hours``, ``catch_up_max_messages``)."""
        try:
            data = await self._transport.rooms_get()
        except (RestError, RateLimited) as exc:
            self._retry(item, exc)
            return
        hours = self.settings.catch_up_hours
        window = int(self._transport.server_now() * 1000 - hours * 3_600_000) if hours else None
        failed: Exception | None = None
        missed: list[tuple[int, Message, int]] = []
        for room in data.get("update", []):
            if not isinstance(room, dict) or not room.get("_id"):
                continue
            info = RoomInfo(
                str(room["_id"]),
                str(room.get("t", "c")),
                str(room.get("name") or room.get("fname") or ""),
            )
            self._rooms.remember(info)
            if not self._rooms.allowed(info):
                continue
            since = item.marks.get(info.id, item.default_since)
            last = ms(room.get("lm"))
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
                messages, truncated = await self._rooms.history(
                    info, since, limit=self.settings.catch_up_max_messages
                )
            except (RestError, RateLimited) as exc:
                failed = exc
                continue
            if truncated:
                self._stats.catch_up_truncated += 1
                log.warning(
                    "catch-up of %s: only the newest %d messages are handled, older ones are not",
                    info.name or info.id,
                    len(messages),
                )
            missed.extend((ms(m.get("ts")) or 0, m, since) for m in messages)
        # Every room's missed messages in the order they were said.
        for _ts, message, since in sorted(missed, key=lambda entry: entry[0]):
            if self._closing():
                return  # not handled: read again at the next start
            if item.restart and str(message.get("_id")) in self._cursors.boundaries:
                continue  # the message each stored cursor points at (read inclusively)
            author: UserRef | dict[str, str] = message.get("u") or {}
            own = author.get("_id") == self._transport.user_id
            if not own and str(message.get("_id")) not in self._memory.seen:
                self._stats.caught_up += 1
            await self._events.process(message, {}, since, probe=item.probe)
        if failed is not None:
            self._retry(item, failed)
        elif item.restart:
            self._cursors.record_listening()
