"""The fake server itself: its life cycle and the test control API (conversation, failures,
waiting; the directory is in :mod:`tests.fakes.rocketchat.state`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.platforms.rocketchat.types import (
    Message,
)
from tests.fakes.rocketchat.model import (
    FakeRoom,
    Forced,
    T,
    rest_form,
)
from tests.fakes.rocketchat.realtime import Realtime
from tests.fakes.rocketchat.rest import Rest


class FakeRocketChat(Rest, Realtime):
    """The fake server. ``await start()`` binds 127.0.0.1 on a free port; ``url`` is its base."""

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
            Forced(status, processed) for _ in range(count)
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
