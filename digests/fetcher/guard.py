"""The address guard: which addresses may be connected to (:func:`is_public_address`), and the
network backend that resolves, vets and connects to the very addresses it vetted."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable

import httpcore

from bot.core import TisserandError
from digests.fetcher.stream import Stream, open_stream
from digests.urls import FetchErrorKind, host_address

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""``(host, port) -> IP addresses as strings``; raises OSError when the name does not resolve."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


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


class GuardError(TisserandError):
    """Raised inside the connection pool; turned into a FetchError with the hop's URL."""

    def __init__(self, kind: FetchErrorKind, detail: str) -> None:
        super().__init__(detail)
        self.kind: FetchErrorKind = kind
        self.detail = detail


_DNS_TTL = 60.0
"""How long a resolution is reused (seconds): one refresh pass, not long enough to matter."""
_DNS_CACHE_SIZE = 4096


class GuardedBackend(httpcore.AsyncNetworkBackend):
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
            raise GuardError("timeout", f"resolving {host} took too long") from None
        except OSError as exc:
            raise GuardError("dns", f"cannot resolve {host}: {exc}") from None
        try:
            addresses: list[IPAddress] = [ipaddress.ip_address(item) for item in found]
        except ValueError:
            raise GuardError("dns", f"the resolver gave a non-IP for {host}") from None
        if not addresses:
            raise GuardError("dns", f"no address for {host}")
        if len(self._resolved) >= _DNS_CACHE_SIZE:
            self._resolved.clear()
        self._resolved[key] = (loop.time() + _DNS_TTL, addresses)
        return addresses

    async def _vetted(self, host: str, port: int, limit: float | None) -> list[IPAddress]:
        literal = host_address(host)
        addresses = [literal] if literal is not None else await self._resolve(host, port, limit)
        for address in addresses:
            if not self._allowed(address):
                raise GuardError("blocked_address", f"{host} is or resolves to {address}")
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
    ) -> Stream:
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
                return await open_stream(
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
        raise GuardError("blocked_address", "unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
