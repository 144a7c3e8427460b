"""Fixtures for the digests tests.

- ``loopback_only`` (autouse): every TCP connection a test opens must go to a loopback address;
  any other attempt is refused at the socket and fails the test.
- ``local_server``: a real aiohttp server on 127.0.0.1 whose routes each test sets, and which
  records the requests it received.
- ``tls_server`` and ``test_ca_context``: the same over TLS, with a certificate for
  ``feeds.public.test`` signed by a test CA (keys made for these tests only, valid until 2126),
  and a client context that trusts that CA.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

TLS_HOST = "feeds.public.test"

# Test-only CA and server certificate (EC P-256), made with openssl for these tests.
TEST_CA_PEM = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBnzCCAUWgAwIBAgIUIXc4i59H8tluxVlRprJitJvswrYwCgYIKoZIzj0EAwIw\n"
    "HDEaMBgGA1UEAwwRVGlzc2VyYW5kIHRlc3QgQ0EwIBcNMjYxMTIyMDQxMDIzWhgP\n"
    "MjEyNjEwMjkwNDEwMjNaMBwxGjAYBgNVBAMMEVRpc3NlcmFuZCB0ZXN0IENBMFkw\n"
    "EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE7XTi2Lzq6VDTE6G1POpY3yv8PbHQTq8u\n"
    "ZNxcItojitqyS3TrGWUkLLLi42BcEIuEjIWPk1xzSIeFVJGmhQCElaNjMGEwHwYD\n"
    "VR0jBBgwFoAUVgOrTP35Chz8RT6qx0mWs0PRCM0wDwYDVR0TAQH/BAUwAwEB/zAO\n"
    "BgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFFYDq0z9+Qoc/EU+qsdJlrND0QjNMAoG\n"
    "CCqGSM49BAMCA0gAMEUCIQDnXtAn+wjkmGvyS83IJu75S6a03OX3UT6n4wz2K4By\n"
    "TgIgRexe6gngdrRtuEtYitqsp6L4jtv5BFJIX88v1d5KeBo=\n"
    "-----END CERTIFICATE-----\n"
)

SERVER_CERT_PEM = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIB0TCCAXegAwIBAgIUOhrEW4J9eOwobk5A0wJyRfqDMCEwCgYIKoZIzj0EAwIw\n"
    "HDEaMBgGA1UEAwwRVGlzc2VyYW5kIHRlc3QgQ0EwIBcNMjYxMTIyMDQxMDIzWhgP\n"
    "MjEyNjEwMjkwNDEwMjNaMBwxGjAYBgNVBAMMEWZlZWRzLnB1YmxpYy50ZXN0MFkw\n"
    "EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEPB036UrMf27hUHzsi5FN/1yxT1es7gB1\n"
    "61p3l/Fe3lEI6Uu59lKODgXp6RsEnWiWIwi6M3ChRB4G2KmKdwPt+KOBlDCBkTAM\n"
    "BgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQEAwIHgDATBgNVHSUEDDAKBggrBgEFBQcD\n"
    "ATAcBgNVHREEFTATghFmZWVkcy5wdWJsaWMudGVzdDAdBgNVHQ4EFgQUInZY9lC+\n"
    "FVOMVnxw+8AxaNBOzK4wHwYDVR0jBBgwFoAUVgOrTP35Chz8RT6qx0mWs0PRCM0w\n"
    "CgYIKoZIzj0EAwIDSAAwRQIhALLnnb6pBHvfoYgzGmpPM76cu8vHTdJ+bJL5GtkQ\n"
    "eSZLAiAS/qtKjmcl1cqs49TS69V8a7jsrdI11brUrZt/fcpT6Q==\n"
    "-----END CERTIFICATE-----\n"
)

SERVER_KEY_PEM = (
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgxMy3LO9T+Fg2KdIh\n"
    "wN4to4ogPe9UuUPJyh1cZXg4IyuhRANCAAQ8HTfpSsx/buFQfOyLkU3/XLFPV6zu\n"
    "AHXrWneX8V7eUQjpS7n2Uo4OBenpGwSdaJYjCLozcKFEHgbYqYp3A+34\n"
    "-----END PRIVATE KEY-----\n"
)


def _is_loopback(sock: socket.socket, address: object) -> bool:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return True  # unix sockets and socket pairs stay on the machine
    if not isinstance(address, tuple) or not address:
        return False
    try:
        return ipaddress.ip_address(str(address[0]).split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Refuse, record and fail on any connection to a non-loopback address."""
    attempts: list[object] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address: object) -> None:
        if not _is_loopback(self, address):
            attempts.append(address)
            raise ConnectionRefusedError(f"test fence: no connection to {address!r}")
        real_connect(self, address)  # type: ignore[arg-type]

    def connect_ex(self: socket.socket, address: object) -> int:
        if not _is_loopback(self, address):
            attempts.append(address)
            raise ConnectionRefusedError(f"test fence: no connection to {address!r}")
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield attempts
    assert not attempts, f"a test tried to connect outside loopback: {attempts}"


@dataclass
class SeenRequest:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    peer: object  # the client's (address, port): one per connection


@dataclass
class LocalServer:
    """A live server on 127.0.0.1; set routes with :meth:`route` before fetching."""

    scheme: str
    port: int = 0
    handlers: dict[str, Handler] = field(default_factory=dict)
    requests: list[SeenRequest] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)  # SNI seen (TLS only)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def route(self, path: str, handler: Handler) -> None:
        self.handlers[path] = handler

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    @property
    def paths(self) -> list[str]:
        return [request.path for request in self.requests]

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            SeenRequest(
                request.method,
                request.path,
                request.query_string,
                dict(request.headers),
                request.transport.get_extra_info("peername") if request.transport else None,
            )
        )
        handler = self.handlers.get(request.path)
        if handler is None:
            return web.Response(status=404, text="no such route")
        return await handler(request)


async def _serve(scheme: str, ssl_context: ssl.SSLContext | None) -> AsyncIterator[LocalServer]:
    server = LocalServer(scheme)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.dispatch)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server.port = sock.getsockname()[1]
    site = web.SockSite(runner, sock, ssl_context=ssl_context)
    await site.start()
    try:
        yield server
    finally:
        server.release.set()
        await runner.cleanup()


@pytest_asyncio.fixture
async def local_server() -> AsyncIterator[LocalServer]:
    async for server in _serve("http", None):
        yield server


@pytest.fixture
def test_ca_context() -> ssl.SSLContext:
    """A verifying client context that trusts only the test CA."""
    return ssl.create_default_context(cadata=TEST_CA_PEM)


@pytest_asyncio.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[LocalServer]:
    cert = tmp_path / "server.pem"
    key = tmp_path / "server.key"
    cert.write_text(SERVER_CERT_PEM)
    key.write_text(SERVER_KEY_PEM)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []

    def remember(_sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        names.append(name)

    context.sni_callback = remember
    async for server in _serve("https", context):
        server.server_names = names
        yield server
