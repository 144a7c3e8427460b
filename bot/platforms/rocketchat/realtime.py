"""A small DDP (Meteor's Distributed Data Protocol) client on aiohttp, for Rocket.Chat's realtime API.

Why our own: ``rocketchat-async`` is deprecated and pins an old ``websockets``; aiohttp is already a
dependency, and the part of DDP a bot needs is small (connect, ping/pong, methods, subscriptions).

What it does:

- connects to ``ws(s)://host/websocket``, sends ``connect`` (version ``1``) and waits for
  ``connected``;
- answers the server's ``ping`` with ``pong`` (same ``id``) and pings the server itself when the
  line is quiet; a connection that stays silent past ``ping_interval + pong_timeout`` is dropped;
- ``call(method, *params)`` sends a ``method`` message and waits for its ``result`` (a
  :class:`DDPError` for an ``error``);
- ``subscribe(name, *params)`` sends ``sub`` and waits for ``ready`` (a :class:`DDPError` for
  ``nosub`` with an error); subscriptions are remembered and replayed after a reconnect;
- ``added`` / ``changed`` / ``removed`` messages go to the collection listener (a plain function
  called on the reader task: it must not block; queue the work);
- reconnects forever with exponential backoff and jitter (attempt *n* sleeps a random time
  between half and all of ``min(backoff_max, backoff_min * 2**n)``, never less than
  ``backoff_min``; the randomness spreads the reconnections of many clients), then runs ``on_session`` (log in again), replays the subscriptions and
  calls ``on_reconnected`` — the adapter catches up from there. ``on_disconnected`` is called
  when a live connection is lost.

Nothing here knows about Rocket.Chat beyond the DDP messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from bot.core import TisserandError
from bot.platforms.rocketchat.types import ClientFrame, Connect, Method, Ping, Pong, Sub, Unsub

log = logging.getLogger(__name__)

CollectionListener = Callable[[str, str, str, dict[str, Any]], None]
"""``(kind, collection, id, fields)`` with kind ``added``, ``changed`` or ``removed``."""


def websocket_url(server_url: str) -> str:
    """The realtime API's address on a Rocket.Chat server: ``ws(s)://host/websocket``."""
    parts = urlsplit(server_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/websocket", "", ""))


class DDPError(TisserandError):
    """A DDP method or subscription failed; ``error`` and ``reason`` come from the server."""

    def __init__(self, error: Any, reason: str | None = None, details: Any = None) -> None:
        super().__init__(f"{reason or 'DDP error'} [{error}]")
        self.error = error
        self.reason = reason
        self.details = details


class DDPConnectionLost(TisserandError, ConnectionError):
    """The connection dropped before an answer came; the call may or may not have run. Also a
    :class:`ConnectionError`, as code catching network errors expects."""


class _Sub:
    def __init__(self, sub_id: str, name: str, params: tuple[Any, ...]) -> None:
        self.id = sub_id
        self.name = name
        self.params = params


class DDPClient:
    """One logical DDP session that survives disconnections (see the module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        listener: CollectionListener | None = None,
        on_session: Callable[[DDPClient], Awaitable[None]] | None = None,
        on_reconnected: Callable[[], Awaitable[None]] | None = None,
        on_disconnected: Callable[[], None] | None = None,
        session: aiohttp.ClientSession | None = None,
        ping_interval: float = 25.0,
        pong_timeout: float = 15.0,
        connect_timeout: float = 15.0,
        call_timeout: float = 30.0,
        backoff_min: float = 0.5,
        backoff_max: float = 60.0,
        rng: random.Random | None = None,
    ) -> None:
        self.url = url
        self.listener = listener
        self.on_session = on_session
        self.on_reconnected = on_reconnected
        self.on_disconnected = on_disconnected
        self.ping_interval = ping_interval
        self.pong_timeout = pong_timeout
        self.connect_timeout = connect_timeout
        self.call_timeout = call_timeout
        self.backoff_min = backoff_min
        self.backoff_max = backoff_max
        self._rng = rng or random.Random()
        self._own_session = session is None
        self._session = session
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._pending_subs: dict[str, asyncio.Future[None]] = {}
        self._subs: dict[str, _Sub] = {}
        self._connected_event = asyncio.Event()
        self._first_ready: asyncio.Future[None] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False
        self.connections = 0
        """How many times a session was established (1 + reconnections)."""
        self.pings_answered = 0
        self.last_delays: list[float] = []
        """The backoff delays slept, most recent last (bounded), for observation."""

    # --- public API ------------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._connected_event.is_set()

    async def start(self) -> None:
        """Connect (retrying with backoff) and return once the first session is ready.

        Raises the first error if ``on_session`` refuses (for example a login error), since
        retrying cannot help then.
        """
        if self._supervisor is not None:
            return
        if self._session is None:
            self._session = aiohttp.ClientSession()
        loop = asyncio.get_running_loop()
        self._first_ready = loop.create_future()
        self._supervisor = asyncio.create_task(self._supervise(), name="ddp-supervisor")
        try:
            await self._first_ready
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        """Disconnect and stop reconnecting. Idempotent."""
        self._closing = True
        task, self._supervisor = self._supervisor, None
        ws = self._ws
        if ws is not None and not ws.closed:
            with contextlib.suppress(Exception):
                await ws.close()
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._fail_pending(DDPConnectionLost("client closed"))
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, method: str, *params: Any, time_limit: float | None = None) -> Any:
        """Call ``method`` on the current connection and return its result."""
        ws = self._ws
        if ws is None or ws.closed:
            raise DDPConnectionLost("not connected")
        call_id = str(next(self._ids))
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = future
        frame: Method = {"msg": "method", "method": method, "params": list(params), "id": call_id}
        try:
            await self._send(frame)
            return await asyncio.wait_for(future, time_limit or self.call_timeout)
        finally:
            self._pending.pop(call_id, None)

    async def subscribe(self, name: str, *params: Any) -> str:
        """Subscribe and wait for ``ready``; the subscription is replayed after reconnects."""
        sub = _Sub(str(next(self._ids)), name, params)
        self._subs[sub.id] = sub
        try:
            await self._subscribe_now(sub)
        except BaseException:
            self._subs.pop(sub.id, None)
            raise
        return sub.id

    async def unsubscribe(self, sub_id: str) -> None:
        if self._subs.pop(sub_id, None) is not None and self._ws is not None:
            unsub: Unsub = {"msg": "unsub", "id": sub_id}
            with contextlib.suppress(Exception):
                await self._send(unsub)

    async def drop(self) -> None:
        """Close the current connection (it will be re-established): tests and liveness checks."""
        ws = self._ws
        if ws is not None and not ws.closed:
            await ws.close()

    # --- internals -------------------------------------------------------------------------------

    async def _send(self, payload: ClientFrame) -> None:
        ws = self._ws
        if ws is None or ws.closed:
            raise DDPConnectionLost("not connected")
        try:
            await ws.send_str(json.dumps(payload))
        except (ConnectionError, RuntimeError) as exc:
            raise DDPConnectionLost(str(exc)) from exc

    async def _subscribe_now(self, sub: _Sub) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending_subs[sub.id] = future
        frame: Sub = {"msg": "sub", "id": sub.id, "name": sub.name, "params": list(sub.params)}
        try:
            await self._send(frame)
            await asyncio.wait_for(future, self.call_timeout)
        finally:
            self._pending_subs.pop(sub.id, None)

    def _delay(self, attempt: int) -> float:
        ceiling = min(self.backoff_max, self.backoff_min * (2 ** min(attempt, 30)))
        delay = self._rng.uniform(max(self.backoff_min, ceiling / 2), ceiling)
        self.last_delays = [*self.last_delays[-19:], delay]
        return delay

    async def _supervise(self) -> None:
        attempt = 0
        first = True
        while not self._closing:
            reader: asyncio.Task[None] | None = None
            try:
                await asyncio.wait_for(self._connect(), self.connect_timeout)
                reader = asyncio.create_task(self._read(), name="ddp-reader")
                await self._wait_connected(reader)
                if self.on_session is not None:
                    await self.on_session(self)
                for sub in list(self._subs.values()):
                    await self._subscribe_now(sub)
            except DDPError as exc:
                # The server refused the session (for example the login): fatal on the first
                # connection, retried later otherwise (the token may have been refreshed).
                if first and self._first_ready is not None and not self._first_ready.done():
                    self._first_ready.set_exception(exc)
                    await self._teardown(reader)
                    return
                log.warning("realtime session refused: %s", exc)
                await self._teardown(reader)
                await asyncio.sleep(self._delay(attempt))
                attempt += 1
                continue
            except (OSError, aiohttp.ClientError, TimeoutError, DDPConnectionLost) as exc:
                log.info("realtime connection failed (%s); retrying", exc)
                await self._teardown(reader)
                if self._is_closing():
                    return
                await asyncio.sleep(self._delay(attempt))
                attempt += 1
                continue
            assert reader is not None
            attempt = 0
            self.connections += 1
            if first:
                first = False
                if self._first_ready is not None and not self._first_ready.done():
                    self._first_ready.set_result(None)
            elif self.on_reconnected is not None:
                try:
                    await self.on_reconnected()
                except Exception:  # the hook's own problem; keep the connection
                    log.exception("on_reconnected hook failed")
            with contextlib.suppress(Exception):
                await reader
            await self._teardown(None)
            if self._is_closing():
                return
            if self.on_disconnected is not None:
                try:
                    self.on_disconnected()
                except Exception:
                    log.exception("on_disconnected hook failed")
            log.info("realtime connection lost; reconnecting")
            await asyncio.sleep(self._delay(attempt))
            attempt += 1

    def _is_closing(self) -> bool:
        return self._closing

    async def _wait_connected(self, reader: asyncio.Task[None]) -> None:
        waiter = asyncio.create_task(self._connected_event.wait())
        try:
            done, _ = await asyncio.wait(
                {waiter, reader}, timeout=self.connect_timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waiter.cancel()
        if waiter not in done or not self._connected_event.is_set():
            raise DDPConnectionLost("no DDP handshake")

    async def _connect(self) -> None:
        assert self._session is not None
        self._connected_event.clear()
        self._ws = await self._session.ws_connect(
            self.url,
            timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=5.0),
            autoping=True,
            heartbeat=None,
        )
        connect: Connect = {"msg": "connect", "version": "1", "support": ["1"]}
        await self._ws.send_str(json.dumps(connect))

    async def _teardown(self, reader: asyncio.Task[None] | None) -> None:
        self._connected_event.clear()
        ws, self._ws = self._ws, None
        if ws is not None and not ws.closed:
            with contextlib.suppress(Exception):
                await ws.close()
        if reader is not None and not reader.done():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        self._fail_pending(DDPConnectionLost("connection lost"))

    def _fail_pending(self, exc: BaseException) -> None:
        for future in [*self._pending.values(), *self._pending_subs.values()]:
            if not future.done():
                future.set_exception(exc)
                future.exception()  # mark retrieved: a caller may already be gone
        self._pending.clear()
        self._pending_subs.clear()

    async def _read(self) -> None:
        ws = self._ws
        assert ws is not None
        awaiting_pong = False
        while True:
            timeout = self.pong_timeout if awaiting_pong else self.ping_interval
            try:
                message = await ws.receive(timeout=timeout)
            except TimeoutError:
                if awaiting_pong:
                    log.info("realtime server silent; dropping the connection")
                    return
                awaiting_pong = True
                ping: Ping = {"msg": "ping", "id": f"p{next(self._ids)}"}
                await self._send(ping)
                continue
            if message.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.ERROR,
            ):
                return
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            awaiting_pong = False
            try:
                data = json.loads(message.data)
            except ValueError:
                log.warning("realtime: undecodable frame ignored")
                continue
            if isinstance(data, dict):
                await self._dispatch(data)

    async def _dispatch(self, data: dict[str, Any]) -> None:
        """One frame of the server (a :data:`~.types.ServerFrame`, read as untrusted JSON)."""
        kind = data.get("msg")
        if kind == "connected":
            self._connected_event.set()
        elif kind == "failed":
            raise DDPConnectionLost(f"server refused DDP version: {data.get('version')}")
        elif kind == "ping":
            pong: Pong = {"msg": "pong"}
            if "id" in data:
                pong["id"] = data["id"]
            self.pings_answered += 1
            await self._send(pong)
        elif kind == "result":
            future = self._pending.get(str(data.get("id")))
            if future is not None and not future.done():
                if "error" in data:
                    future.set_exception(_error(data["error"]))
                else:
                    future.set_result(data.get("result"))
        elif kind == "ready":
            for sub_id in data.get("subs", []):
                sub_future = self._pending_subs.get(str(sub_id))
                if sub_future is not None and not sub_future.done():
                    sub_future.set_result(None)
        elif kind == "nosub":
            sub_id = str(data.get("id"))
            sub_future = self._pending_subs.get(sub_id)
            error = _error(data.get("error") or {"error": "nosub", "reason": "subscription ended"})
            if sub_future is not None and not sub_future.done():
                sub_future.set_exception(error)
            elif sub_id in self._subs:
                # The server ended a live subscription: start a new session, which replays it.
                log.warning("realtime subscription %s ended by the server: %s", sub_id, error)
                raise DDPConnectionLost("subscription ended by the server")
        elif kind in ("added", "changed", "removed"):
            if self.listener is not None:
                try:
                    self.listener(
                        str(kind),
                        str(data.get("collection", "")),
                        str(data.get("id", "")),
                        data.get("fields") or {},
                    )
                except Exception:
                    log.exception("realtime listener failed")
        elif kind == "error":
            log.warning("realtime protocol error: %s", data.get("reason"))


def _error(payload: Any) -> DDPError:
    if isinstance(payload, dict):
        return DDPError(payload.get("error"), payload.get("reason"), payload.get("details"))
    return DDPError(payload)
