"""Keep-alive HTTP/1.1 connections (h11 over :mod:`digests.fetcher.stream`), every one opened
through the guarded backend, behind httpx's transport interface."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from typing import Any

import h11
import httpcore
import httpx

from digests.fetcher.guard import GuardedBackend
from digests.fetcher.stream import Stream

Origin = tuple[str, str, int]
"""``(scheme, host, port)``: which connections a request may reuse."""

_DEFAULT_PORTS = {"http": 80, "https": 443}
_READ_SIZE = 64 * 1024
_MAX_HEAD = 100 * 1024
"""Largest response head accepted (status line and headers), as httpcore allows."""


class _Connection:
    """One HTTP/1.1 connection: an h11 state machine over a network stream."""

    def __init__(self, origin: Origin, stream: Stream) -> None:
        self.origin = origin
        self.stream = stream
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_HEAD)
        self.idle_since = 0.0
        self.used = False  # has answered a request before: a keep-alive reuse

    async def next_event(self, read_timeout: float | None) -> Any:
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                raise httpcore.RemoteProtocolError(str(exc)) from exc
            if event is not h11.NEED_DATA:
                return event
            data = await self.stream.read(_READ_SIZE, read_timeout)
            if not data and self.h11.their_state is h11.SEND_RESPONSE:
                raise httpcore.RemoteProtocolError("the server closed without an answer")
            try:
                self.h11.receive_data(data)
            except h11.RemoteProtocolError as exc:  # pragma: no cover - h11 defers errors
                raise httpcore.RemoteProtocolError(str(exc)) from exc

    def reusable(self) -> bool:
        return self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE


class _Body(httpx.AsyncByteStream):
    """A response body read from its connection; the connection goes back to the pool once the
    body was read to its end, and is closed if the body is closed before that."""

    def __init__(self, pool: _Pool, connection: _Connection, read_timeout: float | None) -> None:
        self._pool = pool
        self._connection: _Connection | None = connection
        self._read_timeout = read_timeout

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection = self._connection
        if connection is None:
            return
        try:
            while True:
                event = await connection.next_event(self._read_timeout)
                if isinstance(event, h11.Data):
                    yield bytes(event.data)
                elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
                    break
        except BaseException:
            await self.aclose()
            raise
        self._connection = None
        self._pool.release(connection)

    async def aclose(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            self._pool.discard(connection)


class _Pool:
    """Keep-alive HTTP/1.1 connections per origin, every one opened through the guarded backend.

    It does not bound how many requests run at once: :class:`Fetcher` does, with its semaphore.
    At most ``keepalive`` idle connections are kept (the oldest are closed first), each at most
    ``keepalive_expiry`` seconds, and one the server closed (or wrote to unasked) is never
    reused. A request that fails on a reused connection before any answer arrived is sent once
    more on a new connection: the server may have closed it just as it was taken.
    """

    def __init__(
        self,
        *,
        ssl_context: ssl.SSLContext,
        backend: GuardedBackend,
        keepalive: int,
        keepalive_expiry: float = 5.0,
    ) -> None:
        self._ssl_context = ssl_context
        self._backend = backend
        self._keepalive = keepalive
        self._expiry = keepalive_expiry
        self._idle: list[_Connection] = []  # oldest first
        self._open: set[_Connection] = set()
        self._closed = False

    async def request(self, request: httpx.Request) -> httpx.Response:
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        url = request.url
        origin: Origin = (
            url.scheme,
            url.raw_host.decode("ascii"),
            url.port or _DEFAULT_PORTS.get(url.scheme, 0),
        )
        if origin[0] not in _DEFAULT_PORTS:
            raise httpcore.UnsupportedProtocol(f"unsupported scheme {origin[0]!r}")
        try:
            head = h11.Request(
                method=request.method.encode("ascii"),
                target=url.raw_path,
                headers=request.headers.raw,
            )
        except h11.LocalProtocolError as exc:
            raise httpcore.LocalProtocolError(str(exc)) from exc
        for attempt in range(2):
            connection = self._take(origin) if attempt == 0 else None
            if connection is None:
                connection = await self._connect(origin, timeouts)
            try:
                return await self._exchange(connection, head, timeouts)
            except (httpcore.ReadError, httpcore.WriteError, httpcore.RemoteProtocolError):
                self.discard(connection)
                if not connection.used or attempt:
                    raise
            except BaseException:
                self.discard(connection)
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _take(self, origin: Origin) -> _Connection | None:
        now = asyncio.get_running_loop().time()
        found: _Connection | None = None
        for connection in reversed(self._idle):  # the most recently used first
            if connection.origin == origin:
                found = connection
                break
        if found is None:
            return None
        self._idle.remove(found)
        if now - found.idle_since > self._expiry or found.stream.get_extra_info("is_readable"):
            self._forget(found)
            return None
        return found

    async def _connect(self, origin: Origin, timeouts: dict[str, float | None]) -> _Connection:
        scheme, host, port = origin
        timeout = timeouts.get("connect")
        stream = await self._backend.connect_stream(host, port, timeout)
        if scheme == "https":
            try:
                stream = await stream.start_tls(self._ssl_context, host, timeout=timeout)
            except BaseException:
                stream.close()
                raise
        connection = _Connection(origin, stream)
        self._open.add(connection)
        return connection

    async def _exchange(
        self, connection: _Connection, head: h11.Request, timeouts: dict[str, float | None]
    ) -> httpx.Response:
        data = connection.h11.send(head) + (connection.h11.send(h11.EndOfMessage()) or b"")
        await connection.stream.write(data, timeouts.get("write"))
        read_timeout = timeouts.get("read")
        while True:
            event = await connection.next_event(read_timeout)
            if isinstance(event, h11.Response):
                break
            if not isinstance(event, h11.InformationalResponse):  # pragma: no cover - h11
                raise httpcore.RemoteProtocolError(f"unexpected {type(event).__name__}")
        connection.used = True
        return httpx.Response(
            status_code=event.status_code,
            headers=list(event.headers.raw_items()),
            stream=_Body(self, connection, read_timeout),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": bytes(event.reason)},
        )

    def release(self, connection: _Connection) -> None:
        """A response was read to its end: keep its connection for the next request."""
        if self._closed or not connection.reusable():
            self.discard(connection)
            return
        connection.h11.start_next_cycle()
        connection.idle_since = asyncio.get_running_loop().time()
        self._idle.append(connection)
        while len(self._idle) > self._keepalive:
            oldest = self._idle.pop(0)
            self._forget(oldest)

    def discard(self, connection: _Connection) -> None:
        if connection in self._idle:
            self._idle.remove(connection)
        self._forget(connection)

    def _forget(self, connection: _Connection) -> None:
        self._open.discard(connection)
        connection.stream.close()

    async def aclose(self) -> None:
        self._closed = True
        self._idle.clear()
        for connection in list(self._open):
            self._forget(connection)


class GuardedTransport(httpx.AsyncBaseTransport):
    """httpx's transport interface over :class:`_Pool`, whose every connection goes through
    :class:`GuardedBackend`.

    httpcore exceptions are left as they are; :meth:`Fetcher.fetch` maps them to FetchError.
    """

    def __init__(
        self, *, ssl_context: ssl.SSLContext, backend: GuardedBackend, connections: int
    ) -> None:
        self._pool = _Pool(ssl_context=ssl_context, backend=backend, keepalive=connections)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._pool.request(request)

    async def aclose(self) -> None:
        await self._pool.aclose()
