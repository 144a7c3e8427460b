"""The one outbound HTTP fetcher of Tisserand (feeds and shared links).

Everything that leaves the bot over HTTP goes through :class:`Fetcher`: one ``GET``, at most
:attr:`FetchPolicy.max_redirects` redirects followed by hand (each target validated again), a
body of at most :attr:`FetchPolicy.max_bytes` counted *after* decompression, and an address guard
on every connection.

Design notes
------------

*Where the address guard sits.* The guard is not a check made before handing the URL over: it
is the network backend (:class:`_GuardedBackend`) that opens every TCP connection of the
connection pool. For each new connection it resolves the host with the injected resolver (or
reads an IP literal, in every form ``inet_aton`` accepts), refuses the connection if *any*
address is not allowed, and then connects to one of the very addresses it vetted. There is no
second resolution between check and connect, so DNS rebinding cannot slip a private address in,
and no parser difference between the guard and the socket layer can matter: what is checked is
what is connected to. Redirect hops, and connections opened again after a keep-alive expiry,
pass through the same code. A resolution is kept a minute (one refresh pass asks once for the
many feeds of a site), and its addresses are vetted again on every connection all the same.

*Why not rewrite the URL to the IP address* (with a ``Host`` header and an SNI name)? It works,
but the connection pool is then keyed by IP address, so a TLS connection opened and verified for
one host name could be reused for another name served from the same address. With the guard in
the backend, URLs keep their host names: the ``Host`` header, the SNI and the certificate check
use the name, and the pool is keyed by ``(scheme, name, port)``.

*The layers.* httpx gives the models (:class:`httpx.Request`, :class:`httpx.Response`, headers,
URL parsing) and the transport interface; under it, :class:`_Pool` keeps HTTP/1.1 keep-alive
connections, speaking the protocol with h11 (the parser httpx itself uses) over plain asyncio
transports (:class:`_Stream`). It replaces ``httpcore.AsyncConnectionPool`` and its AnyIO backend:
on a refresh pass made of conditional GETs answered 304, their bookkeeping (cancel scopes, locks,
a scan of every connection's state at each request and response) cost more than all the rest
of the request together (benchmarks/feeds.py). httpcore's exception classes are kept, so errors read the same. No
``httpx.AsyncClient`` either: it would only add cookie handling (never wanted here), hooks and a
log line per request. The verifying SSL context is built once per process.

*What is allowed.* With ``allow_private_networks`` off (the default), an address must be public:
not private, loopback, link-local, multicast, reserved, unspecified, shared (carrier-grade NAT,
100.64.0.0/10), documentation or benchmarking space, nor an IPv4-mapped, 6to4, NAT64 or Teredo
form of such an address (see :func:`is_public_address`). :attr:`FetchPolicy.allowed_networks`
lists networks allowed on top of that, the clean seam for a local network that serves a feed, and
for tests: they map a made-up public-looking name such as ``public.test`` to 127.0.0.1 with a
fake resolver and allow only 127.0.0.1/32, so that a redirect to any other loopback or private
address is still refused while no test ever connects outside the machine.

*Bodies.* The raw body is read with ``aiter_raw`` and decoded here, not by httpx: zlib and brotli
are asked for at most 64 KiB of output per call, so a decompression bomb is cut off as soon as
:attr:`FetchPolicy.max_bytes` is passed, without ever holding more than one such chunk beyond the
limit. ``gzip`` and ``deflate`` (zlib or raw) are always accepted; ``br`` only when the ``brotli``
package (1.2 or newer, which can bound its output) is installed. Any other Content-Encoding is an
error (kind ``decoding``): it is never advertised in Accept-Encoding.

*Other choices.* No proxy from the environment (a proxy would resolve names itself, around the
guard), no cookies kept between requests, HTTP/1.1 only. The total time limit starts once the
concurrency semaphore is acquired, so waiting for a slot never counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import ipaddress
import random
import select
import socket
import ssl
import zlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Protocol, cast
from urllib.parse import urljoin

import h11
import httpcore
import httpx

from bot import __version__
from bot.core import InvalidValue, TisserandError
from digests.urls import FetchError, FetchErrorKind, host_address, validate_url

__all__ = [
    "DEFAULT_ACCEPT",
    "DEFAULT_POLICY",
    "FetchError",
    "FetchErrorKind",
    "FetchPolicy",
    "FetchResult",
    "Fetcher",
    "Resolver",
    "is_public_address",
    "next_retry_delay",
    "parse_max_age",
    "parse_retry_after",
    "system_resolver",
]

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``(host, port) -> IP addresses as strings``; raises OSError when the name does not resolve."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/html;q=0.8, */*;q=0.5"
)

_MAX_DELAY = timedelta(days=365)
"""Ceiling for delays read from servers (Retry-After, max-age): avoids absurd values."""

_CHUNK = 64 * 1024
"""Largest piece asked of a decompressor at a time."""

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT_REDIRECTS = frozenset({301, 308})


# --- policy and results ------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchPolicy:
    """Limits of one :class:`Fetcher`; times in seconds, sizes in bytes.

    ``allowed_networks`` are CIDR networks (``"192.168.10.0/24"``) allowed even though they are
    not public; ``allow_private_networks`` lifts the address guard entirely. ``user_agent``
    replaces the default ``Tisserand/<version>``.
    """

    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    max_bytes: int = 15 * 1024 * 1024
    max_redirects: int = 5
    allow_private_networks: bool = False
    max_concurrency: int = 8
    user_agent: str | None = None
    allowed_networks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "read_timeout", "total_timeout"):
            if not getattr(self, name) > 0:
                raise InvalidValue(f"{name} must be positive")
        if self.max_bytes < 1 or self.max_concurrency < 1 or self.max_redirects < 0:
            raise InvalidValue("max_bytes and max_concurrency must be >= 1, max_redirects >= 0")
        for network in self.allowed_networks:
            ipaddress.ip_network(network, strict=False)  # ValueError for a bad network


DEFAULT_POLICY = FetchPolicy()


@dataclass(frozen=True)
class FetchResult:
    """What one fetch brought back.

    ``url`` is the URL as requested, ``final_url`` the one that answered (after redirects).
    ``permanent_url`` is the last URL reached through permanent redirects only (301/308) from the
    start, which the caller should store instead of ``url``; None when the first hop was not a
    permanent redirect. ``not_modified`` is True on a 304, with an empty ``content``; ``etag`` and
    ``last_modified`` then keep the values sent unless the server gave new ones.
    ``content_type`` is the media type alone, lowercase; ``charset`` the declared charset,
    lowercase, if any; ``max_age`` is Cache-Control's max-age.
    """

    url: str
    final_url: str
    permanent_url: str | None
    status: int
    not_modified: bool
    content: bytes
    content_type: str | None
    charset: str | None
    etag: str | None
    last_modified: str | None
    max_age: timedelta | None


# --- delays ------------------------------------------------------------------------------------

_ONE_MINUTE = timedelta(minutes=1)
_ONE_DAY = timedelta(days=1)


def next_retry_delay(
    failures: int,
    *,
    base: timedelta = _ONE_MINUTE,
    cap: timedelta = _ONE_DAY,
    jitter: random.Random | None = None,
) -> timedelta:
    """Delay before the next attempt after ``failures`` consecutive failures.

    ``base * 2 ** (failures - 1)``, at most ``cap``; zero when there was no failure. With
    ``jitter`` the delay is drawn uniformly between half of it and all of it ("equal jitter"), so
    that sources failing together spread out but never retry sooner than half the delay.
    """
    if base < timedelta(0) or cap < timedelta(0):
        raise InvalidValue("base and cap must not be negative")
    if failures <= 0:
        return timedelta(0)
    exponent = min(failures - 1, 64)
    seconds = min(base.total_seconds() * 2.0**exponent, cap.total_seconds())
    if jitter is not None:
        seconds = seconds / 2 + jitter.uniform(0, seconds / 2)
    return timedelta(seconds=seconds)


def parse_retry_after(value: str, now: datetime) -> timedelta | None:
    """Read a Retry-After value: delay-seconds or an HTTP date (relative to aware ``now``).

    A date in the past gives zero; an unreadable value gives None; delays are capped at a year.
    """
    if now.tzinfo is None:
        raise InvalidValue("now must be timezone-aware")
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return min(timedelta(seconds=min(int(text), _MAX_SECONDS)), _MAX_DELAY)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC with unknown local time
        when = when.replace(tzinfo=UTC)
    return min(max(when - now, timedelta(0)), _MAX_DELAY)


_MAX_SECONDS = int(_MAX_DELAY.total_seconds())


def parse_max_age(cache_control: str | None) -> timedelta | None:
    """Cache-Control's ``max-age`` (capped at a year), or None when absent or unreadable."""
    if not cache_control:
        return None
    for directive in cache_control.split(","):
        name, _, argument = directive.partition("=")
        if name.strip().lower() != "max-age":
            continue
        argument = argument.strip().strip('"')
        if argument.isascii() and argument.isdigit():
            return timedelta(seconds=min(int(argument), _MAX_SECONDS))
        return None
    return None


def _parse_content_type(value: str | None) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    media_type, *params = value.split(";")
    charset = None
    for param in params:
        name, _, argument = param.partition("=")
        if name.strip().lower() == "charset":
            charset = argument.strip().strip("\"'").strip().lower() or None
            break
    return media_type.strip().lower() or None, charset


# --- the address guard -------------------------------------------------------------------------

_BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in (
        # IPv4: "this network", private, shared (CGNAT), loopback, link-local, IETF protocol
        # assignments, documentation, 6to4 relay, benchmarking, multicast, reserved, broadcast
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        # IPv6: unspecified, loopback, IPv4-compatible, discard, IETF special purpose (Teredo
        # included), documentation, ORCHIDv2, unique local, site-local, link-local, multicast,
        # local-use NAT64
        "::/128",
        "::1/128",
        "::/96",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "2001:20::/28",
        "fc00::/7",
        "fec0::/10",
        "fe80::/10",
        "ff00::/8",
        "64:ff9b:1::/48",
    )
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_TEREDO = ipaddress.IPv6Network("2001::/32")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses that an IPv6 address carries: mapped, 6to4, NAT64, Teredo."""
    embedded: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        embedded.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        embedded.append(address.sixtofour)
    if address in _NAT64:
        embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    if address in _TEREDO and address.teredo is not None:
        embedded.extend(address.teredo)
    return embedded


def is_public_address(address: IPAddress | str) -> bool:
    """True when ``address`` is a public unicast address that the fetcher may connect to.

    False for private, loopback, link-local, multicast, reserved, unspecified, shared (CGNAT),
    documentation and benchmarking addresses, and for IPv6 forms that carry such an IPv4
    address (IPv4-mapped, 6to4, NAT64) or that tunnel (Teredo).
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return False
        embedded = _embedded_ipv4(ip)
        if any(not is_public_address(inner) for inner in embedded):
            return False
        if ip.ipv4_mapped is not None:
            return True
    if any(ip in network for network in _BLOCKED_NETWORKS):
        return False
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


async def system_resolver(host: str, port: int) -> list[str]:
    """The default resolver: the event loop's ``getaddrinfo``, addresses in its order."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    return addresses


class _GuardError(TisserandError):
    """Raised inside the connection pool; turned into a FetchError with the hop's URL."""

    def __init__(self, kind: FetchErrorKind, detail: str) -> None:
        super().__init__(detail)
        self.kind: FetchErrorKind = kind
        self.detail = detail


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

    # used by _Stream

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


_READ_HIGH_WATER = 256 * 1024
_READ_LOW_WATER = 64 * 1024


class _Stream(httpcore.AsyncNetworkStream):
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
    ) -> _Stream:
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
        return _Stream(transport, self._protocol)

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


async def _open_stream(
    address: str,
    port: int,
    timeout: float | None,  # noqa: ASYNC109
    local_address: str | None,
    socket_options: Iterable[httpcore.SOCKET_OPTION] | None,
) -> _Stream:
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
    return _Stream(transport, protocol)


_DNS_TTL = 60.0
"""How long a resolution is reused (seconds): one refresh pass, not long enough to matter."""
_DNS_CACHE_SIZE = 4096


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, vets and connects to the vetted address, for every new connection.

    Resolutions are kept ``_DNS_TTL`` seconds, so the many feeds of one site (and connections
    opened again for it) cost one lookup per pass; the addresses are vetted on every
    connection all the same, whether they come from the cache or not.
    """

    def __init__(self, resolver: Resolver, allowed: Callable[[IPAddress], bool]) -> None:
        self._resolver = resolver
        self._allowed = allowed
        self._resolved: dict[tuple[str, int], tuple[float, list[IPAddress]]] = {}

    async def _resolve(self, host: str, port: int, limit: float | None) -> list[IPAddress]:
        loop = asyncio.get_running_loop()
        key = (host, port)
        cached = self._resolved.get(key)
        if cached is not None and cached[0] > loop.time():
            return cached[1]
        try:
            async with asyncio.timeout(limit):
                found = await self._resolver(host, port)
        except TimeoutError:
            raise _GuardError("timeout", f"resolving {host} took too long") from None
        except OSError as exc:
            raise _GuardError("dns", f"cannot resolve {host}: {exc}") from None
        try:
            addresses: list[IPAddress] = [ipaddress.ip_address(item) for item in found]
        except ValueError:
            raise _GuardError("dns", f"the resolver gave a non-IP for {host}") from None
        if not addresses:
            raise _GuardError("dns", f"no address for {host}")
        if len(self._resolved) >= _DNS_CACHE_SIZE:
            self._resolved.clear()
        self._resolved[key] = (loop.time() + _DNS_TTL, addresses)
        return addresses

    async def _vetted(self, host: str, port: int, limit: float | None) -> list[IPAddress]:
        literal = host_address(host)
        addresses = [literal] if literal is not None else await self._resolve(host, port, limit)
        for address in addresses:
            if not self._allowed(address):
                raise _GuardError("blocked_address", f"{host} is or resolves to {address}")
        return addresses

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return await self.connect_stream(host, port, timeout, local_address, socket_options)

    async def connect_stream(
        self,
        host: str,
        port: int,
        timeout: float | None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> _Stream:
        """Resolve ``host``, refuse it if any address is not allowed, connect to one of them."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        addresses = await self._vetted(host, port, timeout)
        failure: Exception | None = None
        for address in addresses:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                raise httpcore.ConnectTimeout(f"connecting to {host} took too long")
            try:
                return await _open_stream(
                    str(address), port, remaining, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise _GuardError("blocked_address", "unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


Origin = tuple[str, str, int]
"""``(scheme, host, port)``: which connections a request may reuse."""

_DEFAULT_PORTS = {"http": 80, "https": 443}
_READ_SIZE = 64 * 1024
_MAX_HEAD = 100 * 1024
"""Largest response head accepted (status line and headers), as httpcore allows."""


class _Connection:
    """One HTTP/1.1 connection: an h11 state machine over a network stream."""

    def __init__(self, origin: Origin, stream: _Stream) -> None:
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
        backend: _GuardedBackend,
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


class _GuardedTransport(httpx.AsyncBaseTransport):
    """httpx's transport interface over :class:`_Pool`, whose every connection goes through
    :class:`_GuardedBackend`.

    httpcore exceptions are left as they are; :meth:`Fetcher.fetch` maps them to FetchError.
    """

    def __init__(
        self, *, ssl_context: ssl.SSLContext, backend: _GuardedBackend, connections: int
    ) -> None:
        self._pool = _Pool(ssl_context=ssl_context, backend=backend, keepalive=connections)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._pool.request(request)

    async def aclose(self) -> None:
        await self._pool.aclose()


# --- bounded decoding --------------------------------------------------------------------------


class _DecodeError(TisserandError):
    pass


class _Decoder(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]: ...

    def finish(self) -> Iterator[bytes]: ...


class _ZlibDecoder:
    """gzip (several members allowed) or deflate (zlib-wrapped or raw), 64 KiB at a time."""

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._pending = b""  # input not yet given to a decompressor
        self._obj: Any = None
        self._fed = False
        self._done = False  # end of the data: anything after it is ignored

    def _start(self) -> bool:
        """Open the next stream on the pending bytes; False when it must wait or is done."""
        if self._obj is not None and not self._gzip:
            self._done = True  # deflate carries one stream
            return False
        if len(self._pending) < 2:
            return False
        first, second = self._pending[0], self._pending[1]
        if self._gzip:
            if (first, second) != (0x1F, 0x8B):
                if self._obj is None:
                    raise _DecodeError("not gzip data")
                self._done = True  # garbage after the last member, as browsers ignore it
                return False
            self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        else:
            wrapped = first & 0x0F == 8 and ((first << 8) | second) % 31 == 0
            self._obj = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        return True

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._done or not data:
            return
        self._fed = True
        self._pending += data
        try:
            while self._pending and not self._done:
                if (self._obj is None or self._obj.eof) and not self._start():
                    return
                data, self._pending = self._pending, b""
                while True:
                    out = self._obj.decompress(data, _CHUNK)
                    data = self._obj.unconsumed_tail
                    if out:
                        yield out
                    if self._obj.eof:
                        self._pending = self._obj.unused_data
                        break
                    if not data and len(out) < _CHUNK:
                        break
        except zlib.error as exc:
            raise _DecodeError(f"corrupt compressed body: {exc}") from None

    def finish(self) -> Iterator[bytes]:
        if self._fed and not self._done and (self._obj is None or not self._obj.eof):
            raise _DecodeError("truncated compressed body")
        return iter(())


class _BrotliDecoder:
    def __init__(self, module: Any) -> None:
        self._module = module
        self._obj = module.Decompressor()
        self._fed = False

    def _drain(self, data: bytes) -> Iterator[bytes]:
        try:
            out = self._obj.process(data, output_buffer_limit=_CHUNK)
            while out:
                yield out
                out = self._obj.process(b"", output_buffer_limit=_CHUNK)
        except self._module.error as exc:
            raise _DecodeError(f"corrupt brotli body: {exc}") from None

    def feed(self, data: bytes) -> Iterator[bytes]:
        if data:
            self._fed = True
            yield from self._drain(data)

    def finish(self) -> Iterator[bytes]:
        if self._fed:
            yield from self._drain(b"")
            if not self._obj.is_finished():
                raise _DecodeError("truncated brotli body")


def _load_brotli() -> Any:
    """The ``brotli`` module if it can bound its output (1.2 or newer), else None."""
    try:
        module = importlib.import_module("brotli")
    except ImportError:
        return None
    decompressor = module.Decompressor()
    try:
        decompressor.process(b"", output_buffer_limit=_CHUNK)
    except TypeError:  # an older brotli, or brotlicffi: cannot bound a bomb
        return None
    return module


_BROTLI = _load_brotli()
_ACCEPT_ENCODING = "gzip, deflate, br" if _BROTLI is not None else "gzip, deflate"
_MAX_ENCODINGS = 3


def _decoders(headers: httpx.Headers) -> list[_Decoder]:
    """Decoders to apply in order (the last Content-Encoding applied is undone first)."""
    names = [
        name.strip().lower() for name in headers.get_list("content-encoding", split_commas=True)
    ]
    names = [name for name in names if name and name != "identity"]
    if len(names) > _MAX_ENCODINGS:
        raise _DecodeError("too many content-encodings")
    decoders: list[_Decoder] = []
    for name in reversed(names):
        if name in ("gzip", "x-gzip"):
            decoders.append(_ZlibDecoder(gzip=True))
        elif name == "deflate":
            decoders.append(_ZlibDecoder(gzip=False))
        elif name == "br" and _BROTLI is not None:
            decoders.append(_BrotliDecoder(_BROTLI))
        else:
            raise _DecodeError(f"unsupported content-encoding {name!r}")
    return decoders


def _run(decoders: list[_Decoder], data: bytes) -> Iterator[bytes]:
    if not decoders:
        if data:
            yield data
        return
    for piece in decoders[0].feed(data):
        yield from _run(decoders[1:], piece)


def _finish(decoders: list[_Decoder]) -> Iterator[bytes]:
    for index, decoder in enumerate(decoders):
        for piece in decoder.finish():
            yield from _run(decoders[index + 1 :], piece)


# --- errors ------------------------------------------------------------------------------------


def _caused_by_tls(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLError | ssl.CertificateError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _network_error(exc: Exception, url: str) -> FetchError:
    if isinstance(exc, httpcore.TimeoutException | httpx.TimeoutException | TimeoutError):
        return FetchError("timeout", url, detail=f"{type(exc).__name__}: {exc}")
    if _caused_by_tls(exc):
        return FetchError("tls", url, detail=str(exc))
    return FetchError("connection", url, detail=f"{type(exc).__name__}: {exc}")


_NETWORK_ERRORS = (
    httpcore.ProtocolError,
    httpcore.NetworkError,
    httpcore.TimeoutException,
    httpcore.UnsupportedProtocol,
    httpx.HTTPError,
    OSError,  # includes ssl.SSLError and TimeoutError
)


# --- the fetcher -------------------------------------------------------------------------------


@functools.cache
def _default_ssl_context() -> ssl.SSLContext:
    """httpx's verifying context (certifi's CA bundle), built once: loading it takes ~50 ms."""
    return httpx.create_ssl_context()


@dataclass
class _Progress:
    url: str  # the hop being fetched, for errors raised by the total time limit
    visited: set[str] = field(default_factory=set)


class Fetcher:
    """Fetches URLs within a :class:`FetchPolicy`; share one per application.

    ``resolver`` maps a host name to addresses (default: :func:`system_resolver`); ``clock``
    gives the aware current time used to read Retry-After dates (default: the system clock);
    ``ssl_context`` replaces the default verifying context (tests use it to trust a test CA).
    Callers run fetches together with ``asyncio.gather``; at most ``max_concurrency`` run at once.
    """

    def __init__(
        self,
        policy: FetchPolicy = DEFAULT_POLICY,
        *,
        resolver: Resolver | None = None,
        clock: Callable[[], datetime] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.policy = policy
        self._clock = clock or (lambda: datetime.now(UTC))
        self._semaphore = asyncio.Semaphore(policy.max_concurrency)
        self._allowed_networks = tuple(
            ipaddress.ip_network(network, strict=False) for network in policy.allowed_networks
        )
        backend = _GuardedBackend(resolver or system_resolver, self._is_allowed)
        self._transport = _GuardedTransport(
            ssl_context=ssl_context or _default_ssl_context(),
            backend=backend,
            connections=policy.max_concurrency,
        )
        self._headers = {
            "User-Agent": policy.user_agent or f"Tisserand/{__version__}",
            "Accept-Encoding": _ACCEPT_ENCODING,
        }
        self._extensions: dict[str, Any] = {
            "timeout": httpx.Timeout(
                connect=policy.connect_timeout,
                read=policy.read_timeout,
                write=policy.read_timeout,
                pool=policy.connect_timeout,
            ).as_dict()
        }

    def _is_allowed(self, address: IPAddress) -> bool:
        if self.policy.allow_private_networks or is_public_address(address):
            return True
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self._allowed_networks)

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str = DEFAULT_ACCEPT,
    ) -> FetchResult:
        """GET ``url``; raise :class:`FetchError` for anything but a usable answer.

        ``etag`` and ``last_modified`` (stored from a previous result) make the request
        conditional; a 304 gives ``not_modified=True``.
        """
        start = validate_url(url)
        headers = {"Accept": accept}
        if etag and _header_safe(etag):
            headers["If-None-Match"] = etag
        if last_modified and _header_safe(last_modified):
            headers["If-Modified-Since"] = last_modified
        progress = _Progress(start)
        async with self._semaphore:
            try:
                async with asyncio.timeout(self.policy.total_timeout):
                    return await self._follow(url, start, headers, etag, last_modified, progress)
            except TimeoutError:
                raise FetchError(
                    "timeout",
                    progress.url,
                    detail=f"total time limit of {self.policy.total_timeout} s exceeded",
                ) from None

    async def _follow(
        self,
        requested: str,
        start: str,
        headers: dict[str, str],
        etag: str | None,
        last_modified: str | None,
        progress: _Progress,
    ) -> FetchResult:
        current = start
        permanent_url: str | None = None
        only_permanent = True
        redirects = 0
        progress.visited.add(current)
        while True:
            response = await self._send(current, headers)
            try:
                status = response.status_code
                if status not in _REDIRECTS:
                    return await self._result(
                        response, requested, current, permanent_url, etag, last_modified
                    )
                target = self._redirect_target(response, current)
                if target in progress.visited:
                    raise FetchError("too_many_redirects", target, detail="redirect loop")
                if redirects >= self.policy.max_redirects:
                    raise FetchError(
                        "too_many_redirects",
                        target,
                        detail=f"more than {self.policy.max_redirects} redirects",
                    )
                await _discard(response)
            finally:
                await response.aclose()
            redirects += 1
            if only_permanent and status in _PERMANENT_REDIRECTS:
                permanent_url = target
            else:
                only_permanent = False
            progress.visited.add(target)
            progress.url = current = target

    async def _send(self, url: str, headers: dict[str, str]) -> httpx.Response:
        try:
            # Straight to the transport: an httpx.AsyncClient would only add cookie handling
            # (never wanted here), hooks and a log line per request to what the transport does.
            request = httpx.Request(
                "GET", url, headers={**self._headers, **headers}, extensions=self._extensions
            )
            response = await self._transport.handle_async_request(request)
            response.request = request
            return response
        except _GuardError as exc:
            raise FetchError(exc.kind, url, detail=exc.detail) from None
        except httpx.InvalidURL as exc:
            raise FetchError("invalid_url", url, detail=str(exc)) from None
        except _NETWORK_ERRORS as exc:
            raise _network_error(exc, url) from None

    @staticmethod
    def _redirect_target(response: httpx.Response, current: str) -> str:
        location = response.headers.get("location", "").strip()
        if not location:
            raise FetchError(
                "http_status",
                current,
                http_status=response.status_code,
                detail="redirect without Location",
            )
        return validate_url(urljoin(current, location))

    async def _result(
        self,
        response: httpx.Response,
        requested: str,
        url: str,
        permanent_url: str | None,
        etag: str | None,
        last_modified: str | None,
    ) -> FetchResult:
        status = response.status_code
        headers = response.headers
        max_age = parse_max_age(headers.get("cache-control"))
        if status == 304:
            await _discard(response)
            return FetchResult(
                url=requested,
                final_url=url,
                permanent_url=permanent_url,
                status=status,
                not_modified=True,
                content=b"",
                content_type=None,
                charset=None,
                etag=headers.get("etag") or etag,
                last_modified=headers.get("last-modified") or last_modified,
                max_age=max_age,
            )
        if not 200 <= status < 300:
            error = self._status_error(response, url)
            await _discard(response)
            raise error
        content = await self._read_body(response, url)
        content_type, charset = _parse_content_type(headers.get("content-type"))
        return FetchResult(
            url=requested,
            final_url=url,
            permanent_url=permanent_url,
            status=status,
            not_modified=False,
            content=content,
            content_type=content_type,
            charset=charset,
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            max_age=max_age,
        )

    def _status_error(self, response: httpx.Response, url: str) -> FetchError:
        status = response.status_code
        retry_after = None
        if status >= 400 and "retry-after" in response.headers:
            retry_after = parse_retry_after(response.headers["retry-after"], self._clock())
        kind: FetchErrorKind = "http_status"
        if status == 410:
            kind = "gone"
        elif status == 429 or (status == 503 and retry_after is not None):
            kind = "rate_limited"
        return FetchError(
            kind, url, http_status=status, retry_after=retry_after, detail=response.reason_phrase
        )

    async def _read_body(self, response: httpx.Response, url: str) -> bytes:
        limit = self.policy.max_bytes
        too_large = FetchError("too_large", url, detail=f"body larger than {limit} bytes")
        try:
            decoders = _decoders(response.headers)
        except _DecodeError as exc:
            raise FetchError("decoding", url, detail=str(exc)) from None
        declared = response.headers.get("content-length", "")
        if not decoders and declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise too_large
        body = bytearray()
        received = 0
        try:
            async with contextlib.aclosing(_raw_chunks(response)) as raws:
                async for raw in raws:
                    received += len(raw)
                    if received > limit:  # compressed data never legitimately exceeds the limit
                        raise too_large
                    for piece in _run(decoders, raw):
                        if len(body) + len(piece) > limit:
                            raise too_large
                        body += piece
            for piece in _finish(decoders):
                if len(body) + len(piece) > limit:
                    raise too_large
                body += piece
        except _DecodeError as exc:
            raise FetchError("decoding", url, detail=str(exc)) from None
        except _NETWORK_ERRORS as exc:
            raise _network_error(exc, url) from None
        return bytes(body)


_DISCARD_LIMIT = 64 * 1024


def _raw_chunks(response: httpx.Response) -> AsyncGenerator[bytes, None]:
    """The body as received (still encoded); an async generator, so it can be closed early."""
    return cast(AsyncGenerator[bytes, None], response.aiter_raw())


async def _discard(response: httpx.Response) -> None:
    """Read and drop a short body (304, redirect, error page) so the connection can be reused.

    httpcore recycles a keep-alive connection only once its response was read to the end; a
    longer body, or a failure while reading it, just closes the connection.
    """
    received = 0
    try:
        async with contextlib.aclosing(_raw_chunks(response)) as chunks:
            async for chunk in chunks:
                received += len(chunk)
                if received > _DISCARD_LIMIT:
                    return
    except _NETWORK_ERRORS:
        return


def _header_safe(value: str) -> bool:
    return value.isascii() and value.isprintable()
