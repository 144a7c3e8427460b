"""Network streams straight over asyncio transports: httpcore's stream interface and exceptions
(timeouts per call, flow control both ways), without AnyIO in between."""

from __future__ import annotations

import asyncio
import select
import ssl
from collections.abc import Iterable
from typing import Any, cast

import httpcore

_READ_HIGH_WATER = 256 * 1024
_READ_LOW_WATER = 64 * 1024


class _StreamProtocol(asyncio.Protocol):
    """Buffers what one connection receives until httpcore reads it; flow control both ways."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._eof = False
        self._lost = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._reading_paused = False
        self._writing_paused = False
        self._drained: asyncio.Future[None] | None = None

    # callbacks of the event loop

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) > _READ_HIGH_WATER and not self._reading_paused:
            self._reading_paused = True
            self._pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = self._lost = True
        self._error = exc
        self._wake()
        self._wake_writer()

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._wake_writer()

    def _pause_reading(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.pause_reading()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake_writer(self) -> None:
        drained, self._drained = self._drained, None
        if drained is not None and not drained.done():
            drained.set_result(None)

    # used by Stream

    def has_data_or_eof(self) -> bool:
        return bool(self._buffer) or self._eof

    async def read(self, max_bytes: int, timeout: float | None) -> bytes:  # noqa: ASYNC109
        while not self._buffer:
            if self._error is not None:
                raise httpcore.ReadError(str(self._error)) from self._error
            if self._eof:
                return b""
            self._waiter = self._loop.create_future()
            try:
                async with asyncio.timeout(timeout):
                    await self._waiter
            except TimeoutError:
                raise httpcore.ReadTimeout("the server took too long to send data") from None
        if len(self._buffer) <= max_bytes:
            data = bytes(self._buffer)
            self._buffer.clear()
        else:
            data = bytes(self._buffer[:max_bytes])
            del self._buffer[:max_bytes]
        if self._reading_paused and len(self._buffer) <= _READ_LOW_WATER:
            self._reading_paused = False
            if self.transport is not None and not self.transport.is_closing():
                self.transport.resume_reading()
        return data

    async def drain(self, timeout: float | None) -> None:  # noqa: ASYNC109
        while self._writing_paused and not self._lost:
            self._drained = self._loop.create_future()
            try:
                async with asyncio.timeout(timeout):
                    await self._drained
            except TimeoutError:
                raise httpcore.WriteTimeout("the server did not take the request") from None
        if self._lost:
            raise httpcore.WriteError(str(self._error or "connection closed"))


class Stream(httpcore.AsyncNetworkStream):
    """A network stream straight over an asyncio transport: httpcore's stream interface and
    exceptions (timeouts per call), without AnyIO in between."""

    def __init__(self, transport: asyncio.Transport, protocol: _StreamProtocol) -> None:
        self._transport = transport
        self._protocol = protocol
        raw = transport.get_extra_info("socket")
        self._fileno: int = raw.fileno() if raw is not None else -1

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        return await self._protocol.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        if not buffer:
            return
        if self._transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        self._transport.write(buffer)
        await self._protocol.drain(timeout)

    def close(self) -> None:
        """Ask the transport to close (it finishes on its own: nothing to wait for)."""
        self._transport.close()

    async def aclose(self) -> None:
        self.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
    ) -> Stream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport = await loop.start_tls(
                    self._transport,
                    self._protocol,
                    ssl_context,
                    server_hostname=server_hostname,
                    ssl_handshake_timeout=timeout,
                )
        except TimeoutError:
            self._transport.abort()
            raise httpcore.ConnectTimeout("the TLS handshake took too long") from None
        except (OSError, ssl.SSLError, ssl.CertificateError, ConnectionError) as exc:
            self._transport.abort()
            raise httpcore.ConnectError(str(exc)) from exc
        if transport is None:  # pragma: no cover - closed during the handshake
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        return Stream(transport, self._protocol)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # An idle connection with data or an end of stream waiting: the server closed it
            # (or sent something unasked); the pool opens a new one instead.
            return self._protocol.has_data_or_eof() or _socket_readable(self._fileno)
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._transport.get_extra_info("sockname")
        if info == "server_addr":
            return self._transport.get_extra_info("peername")
        if info == "socket":
            return self._transport.get_extra_info("socket")
        return None


def _socket_readable(fileno: int) -> bool:
    """Whether the socket has something to read now (or is gone); never blocks."""
    if fileno < 0:
        return True
    try:
        if not hasattr(select, "poll"):  # pragma: no cover - Windows
            return bool(select.select([fileno], [], [], 0)[0])
        poller = select.poll()
        poller.register(fileno, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):  # pragma: no cover - closed meanwhile
        return True


async def open_stream(
    address: str,
    port: int,
    timeout: float | None,  # noqa: ASYNC109
    local_address: str | None,
    socket_options: Iterable[httpcore.SOCKET_OPTION] | None,
) -> Stream:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            transport, protocol = await loop.create_connection(
                _StreamProtocol,
                host=address,
                port=port,
                local_addr=(local_address, 0) if local_address else None,
            )
    except TimeoutError:
        raise httpcore.ConnectTimeout(f"connecting to {address} took too long") from None
    except OSError as exc:
        raise httpcore.ConnectError(str(exc)) from exc
    raw = transport.get_extra_info("socket")
    for option in socket_options or ():
        raw.setsockopt(*option)
    return Stream(transport, protocol)
