"""How far each room was read, kept in the database across restarts.

With a :class:`~bot.storage.platform_state.CursorStore`, each room's *cursor* (timestamp and id
of the newest message handled) is kept in the database. It moves only once a message is handled
(the handler returned: database committed, replies posted), and is written at most once per
``cursor_flush_interval`` (1 s) and at stop, so a burst costs one write. ``stop`` lets the
message in hand finish before writing. At start the catch-up (:mod:`.catchup`) reads every room
from its cursor (inclusive; the cursor's own message is skipped), rooms without a cursor from
the moment the last run started listening (a direct conversation opened meanwhile). The very
first start on a database replays nothing. Messages not newer than a room's stored cursor are
never new again, so an edit after a restart does not run a command twice.

A run marks itself running in the database before it handles anything and stopped (with its last
cursors, in one transaction) once ``stop`` finished cleanly; the next start knows from that
whether the previous run may have handled messages past its cursors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.clock import Clock
from bot.platforms.rocketchat.rest import RocketChatError
from bot.platforms.rocketchat.state import Memory, Stats
from bot.platforms.rocketchat.types import ms_of
from bot.storage.platform_state import CLEAN_STOP, LISTENING, Cursor, CursorStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RestartPoint:
    """Where the previous runs stopped reading."""

    marks: dict[str, int]
    """Per room, the stored cursor's timestamp."""
    listening_at: int | None
    """Where rooms without a cursor are read from."""
    crashed: bool
    """The previous run did not stop cleanly."""


class Cursors:
    """The rooms' cursors: loaded at start, moved as messages are handled, written by a flusher."""

    def __init__(
        self,
        store: CursorStore | None,
        memory: Memory,
        stats: Stats,
        clock: Clock,
        flush_interval: float,
    ) -> None:
        self.store = store
        self._memory = memory
        self._stats = stats
        self._clock = clock
        self._flush_interval = flush_interval
        self.floors: dict[str, int] = {}
        """Per room, the stored cursor at start: nothing older is new in this run."""
        self.boundaries: set[str] = set()
        """The ids of the stored cursors' messages: handled by a previous run."""
        self._positions: dict[str, int] = {}
        """Per room, the timestamp of the newest message handled (what the cursor holds)."""
        self._pending: dict[str, Cursor] = {}
        self._dirty = asyncio.Event()
        self._stopping = asyncio.Event()
        self._flusher: asyncio.Task[None] | None = None
        self._last_flush = float("-inf")
        self.listening_at: int | None = None
        """Where rooms without a cursor are read from at the next start (stored or pending)."""

    @property
    def enabled(self) -> bool:
        return self.store is not None

    async def load(self) -> dict[str, Cursor]:
        return await asyncio.to_thread(self.store.load) if self.store else {}

    def restore(self, stored: dict[str, Cursor]) -> RestartPoint | None:
        """Take the stored cursors in; where the previous runs stopped, if they ran at all."""
        listening = stored.pop(LISTENING, None)
        if listening is not None:
            self.listening_at = ms_of(listening.at)
        for room_id, cursor in stored.items():
            ts = ms_of(cursor.at)
            self.floors[room_id] = ts
            self._positions[room_id] = ts
            if cursor.message_id:
                self._memory.seen.put(cursor.message_id, True)
                self.boundaries.add(cursor.message_id)
        if self.store is None or (listening is None and not stored):
            return None  # the first start on this database: from now on only
        crashed = listening is None or listening.message_id != CLEAN_STOP
        return RestartPoint(dict(self.floors), self.listening_at, crashed)

    async def mark_running(self, listen_from_now: bool) -> None:
        """Before anything is handled: this run is running (not stopped cleanly until its stop
        says so), and, without a catch-up, rooms without a cursor are read from its start."""
        assert self.store is not None
        if listen_from_now or self.listening_at is None:
            self.listening_at = self._memory.start_cutoff
        running = Cursor(datetime.fromtimestamp(self.listening_at / 1000, UTC))
        try:
            await asyncio.to_thread(self.store.save, {LISTENING: running}, self._clock.now())
        except Exception as exc:
            raise RocketChatError(f"cannot store the platform's state: {exc}") from exc
        self._stats.cursor_writes += 1

    def start_flusher(self) -> None:
        self._flusher = asyncio.create_task(self._flush_loop(), name="rocketchat-cursors")

    def record_listening(self) -> None:
        """This run listens from its start: a room without a cursor at the next start is read
        from here."""
        start = self._memory.start_cutoff
        self.listening_at = start
        self._pending[LISTENING] = Cursor(datetime.fromtimestamp(start / 1000, UTC))
        self._dirty.set()

    def advance(self, room_id: str, ts: int, msg_id: str) -> None:
        """A message of ``room_id`` is handled: its cursor may move (written by the flusher)."""
        if ts < self._positions.get(room_id, 0) or self.store is None:
            return
        self._positions[room_id] = ts
        self._pending[room_id] = Cursor(datetime.fromtimestamp(ts / 1000, UTC), msg_id)
        self._dirty.set()

    def clean_stop(self) -> None:
        """The stop was clean: say so with the last cursors, in one transaction."""
        if self.listening_at is not None:
            at = datetime.fromtimestamp(self.listening_at / 1000, UTC)
            self._pending[LISTENING] = Cursor(at, CLEAN_STOP)

    async def close(self) -> None:
        """Write what is pending and stop the flusher."""
        if self._flusher is not None:
            self._stopping.set()
            self._dirty.set()
            await self._flusher

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
        if not self._pending or self.store is None:
            return
        batch, self._pending = self._pending, {}
        try:
            await asyncio.to_thread(self.store.save, batch, self._clock.now())
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
        self._stats.cursor_writes += 1
