"""The Rocket.Chat platform: the bot as a member of a self-hosted Rocket.Chat.

Connection
    REST for everything the bot does (:mod:`.rest`); incoming messages come from the realtime
    API (DDP over ``/websocket``, :mod:`.realtime`): login with the REST token as resume token,
    subscription ``stream-room-messages`` / ``__my_messages__`` (every room the bot is in),
    pings answered, reconnection with exponential backoff and jitter, subscription replayed.
    Live messages and catch-ups (:mod:`.catchup`) go through one consumer, in order.

The parts: :mod:`.events` (messages into events), :mod:`.reactions` (reactions and choices),
:mod:`.delivery` (replies), :mod:`.users` (roles), :mod:`.rooms`, :mod:`.cursors` (what survives
a restart), :mod:`.markdown`; the payloads are typed in :mod:`.types`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from bot.clock import Clock, SystemClock
from bot.core import Event, MessageRef, Reply, Target
from bot.platforms.base import EventHandler
from bot.platforms.rocketchat.catchup import CatchUp, CatchUpItem
from bot.platforms.rocketchat.cursors import Cursors
from bot.platforms.rocketchat.delivery import MAX_MESSAGE_LENGTH, Delivery
from bot.platforms.rocketchat.events import Events
from bot.platforms.rocketchat.reactions import Reactions
from bot.platforms.rocketchat.realtime import (
    DDPClient,
    DDPConnectionLost,
    DDPError,
    websocket_url,
)
from bot.platforms.rocketchat.rest import RocketChatError, Transport
from bot.platforms.rocketchat.rooms import Rooms
from bot.platforms.rocketchat.settings import PLATFORM, RocketChatSettings, check_credentials
from bot.platforms.rocketchat.state import Memory, Stats
from bot.platforms.rocketchat.types import Message, RoomMeta
from bot.platforms.rocketchat.users import Users
from bot.storage.platform_state import CursorStore

log = logging.getLogger(__name__)

_START_TOLERANCE_MS = 1_500


@dataclass
class _Live:
    message: Message
    meta: RoomMeta


class RocketChatPlatform:
    """The :class:`~bot.platforms.base.Platform` for Rocket.Chat (see the module docstring)."""

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
        check_credentials(settings, password, token)
        self.settings = settings
        self._clock: Clock = clock or SystemClock()
        self._reconnect = (reconnect_min, reconnect_max)
        self._ping_interval = ping_interval
        self._stop_timeout = stop_timeout
        self.stats = Stats()
        self._memory = Memory()
        self._transport = Transport(
            settings,
            password=password,
            token=token,
            wall_time=wall_time,
            rate_limit_max_wait=rate_limit_max_wait,
            request_timeout=request_timeout,
            stats=self.stats,
        )
        self._users = Users(settings, self._transport, self._clock)
        self._rooms = Rooms(settings, self._transport, self._users)
        self._cursors = Cursors(
            cursors, self._memory, self.stats, self._clock, cursor_flush_interval
        )
        self._reactions = Reactions(self._transport, self._users, self._dispatch)
        self._events = Events(
            settings,
            self._transport,
            self._rooms,
            self._users,
            self._reactions,
            self._cursors,
            self._memory,
            self.stats,
            self._dispatch,
        )
        self._catch_up = CatchUp(
            settings,
            self._transport,
            self._rooms,
            self._events,
            self._cursors,
            self._memory,
            self.stats,
            enqueue=self._enqueue,
            closing=lambda: self._closing,
        )
        self._delivery = Delivery(
            settings,
            self._transport,
            self._rooms,
            self._users,
            self._reactions,
            self._memory,
            self.stats,
            max_message_length,
        )
        self._handler: EventHandler | None = None
        self._ddp: DDPClient | None = None
        self._queue: asyncio.Queue[_Live | CatchUpItem | None] = asyncio.Queue()
        self._consumer: asyncio.Task[None] | None = None
        self._started = False
        self._stopped = False
        self._closing = False
        self._snapshot: dict[str, int] | None = None

    @property
    def user_id(self) -> str:
        """The bot's user id (known once started)."""
        return self._transport.user_id

    @property
    def username(self) -> str:
        """The bot's username, as the server knows it once started."""
        return self._transport.username

    @property
    def connected(self) -> bool:
        """Started, not stopped, and the realtime connection is up (not waiting to reconnect)."""
        return self._started and not self._stopped and self._snapshot is None

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self, handler: EventHandler) -> None:
        if self._started:
            return
        self._handler = handler
        stored = await self._cursors.load()
        await self._transport.login()
        await self._rooms.resolve_channels()
        self._memory.start_cutoff = int(self._transport.server_now() * 1000) - _START_TOLERANCE_MS
        restart: CatchUpItem | None = None
        point = self._cursors.restore(stored)
        if point is not None and self.settings.catch_up_hours:
            restart = CatchUpItem(
                point.marks, point.listening_at, restart=True, probe=point.crashed
            )
            # First in the queue: handled before the live messages that arrive meanwhile. It
            # runs once the subscription is ready, so nothing falls between the two.
            self._queue.put_nowait(restart)
        if self._cursors.enabled:
            try:
                await self._cursors.mark_running(restart is None)
            except RocketChatError:
                await self.stop()
                raise
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
        if self._cursors.enabled:
            self._cursors.start_flusher()
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
                self._cursors.clean_stop()
        await self._cursors.close()
        await self._transport.close()

    async def _ddp_login(self, client: DDPClient) -> None:
        try:
            await client.call("login", {"resume": self._transport.resume_token})
        except DDPError:
            if not self._transport.password:
                raise
            await self._transport.login()  # the token expired or was revoked: a fresh one
            await client.call("login", {"resume": self._transport.resume_token})

    # --- outgoing ------------------------------------------------------------------------------

    async def respond(self, event: Event, reply: Reply) -> MessageRef | None:
        # No form here: a choice that asks for text is left out, the text comes in a message.
        return await self._delivery.respond(event, reply.without_text_choices())

    async def deliver(self, reply: Reply, target: Target, token: str) -> MessageRef:
        return await self._delivery.deliver(reply.without_text_choices(), target, token)

    async def edit(self, ref: MessageRef, reply: Reply) -> None:
        await self._delivery.edit(ref, reply.without_text_choices())

    # --- incoming ------------------------------------------------------------------------------

    def _on_ddp(self, kind: str, collection: str, _id: str, fields: dict[str, Any]) -> None:
        if kind != "changed" or collection != "stream-room-messages":
            return
        args = fields.get("args") or []
        if not args or not isinstance(args[0], dict):
            return
        meta = args[1] if len(args) > 1 and isinstance(args[1], dict) else {}
        self._queue.put_nowait(_Live(cast(Message, args[0]), cast(RoomMeta, meta)))

    def _on_disconnected(self) -> None:
        if self._snapshot is None:
            self._snapshot = dict(self._memory.marks)

    async def _on_reconnected(self) -> None:
        self.stats.reconnections += 1
        snapshot, self._snapshot = self._snapshot, None
        marks = snapshot if snapshot is not None else dict(self._memory.marks)
        self._queue.put_nowait(CatchUpItem(marks, self._memory.start_cutoff))

    def _enqueue(self, item: CatchUpItem) -> None:
        self._queue.put_nowait(item)

    async def _consume(self) -> None:
        """The single consumer: live messages and catch-ups, one at a time, in queue order.
        At stop it finishes the item in hand and returns (what is left is read again at the
        next start, from the cursors)."""
        while True:
            item = await self._queue.get()
            if item is None or self._closing:
                return
            try:
                if isinstance(item, CatchUpItem):
                    await self._catch_up.run(item)
                else:
                    await self._events.process(item.message, item.meta, None)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Rocket.Chat event processing failed")

    async def _dispatch(self, event: Event) -> None:
        if self._handler is None:
            return
        try:
            await self._handler(event)
        except Exception:
            log.exception("the event handler failed on %s", type(event).__name__)
