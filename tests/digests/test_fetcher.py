"""The outbound fetcher (digests.fetcher) against a real local server on 127.0.0.1.

Functional tests allow private networks (the server is on loopback). Address-guard tests keep the
guard on and either never reach a socket, or map a made-up public name to 127.0.0.1 with a fake
resolver and allow only 127.0.0.1/32 through ``FetchPolicy.allowed_networks``. The autouse
``loopback_only`` fixture fails any test that tries to connect outside loopback.
"""

from __future__ import annotations

import asyncio
import functools
import gzip
import importlib
import random
import socket
import ssl
import tracemalloc
import zlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from aiohttp import web

import bot
from digests.fetcher import (
    DEFAULT_POLICY,
    Fetcher,
    FetchError,
    FetchPolicy,
    FetchResult,
    is_public_address,
    next_retry_delay,
    parse_max_age,
    parse_retry_after,
)
from tests.digests.conftest import TLS_HOST, LocalServer

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
MiB = 1024 * 1024
LOCAL = FetchPolicy(allow_private_networks=True)
FAST = FetchPolicy(
    allow_private_networks=True, connect_timeout=0.3, read_timeout=0.3, total_timeout=5.0
)
GUARDED = FetchPolicy(allowed_networks=("127.0.0.1/32",))  # the guard on, only 127.0.0.1 allowed

try:
    brotli: Any = importlib.import_module("brotli")
except ImportError:  # pragma: no cover - brotli is optional
    brotli = None


def _resolver(table: dict[str, list[str]]) -> Callable[[str, int], Awaitable[list[str]]]:
    """A fake resolver; unknown names fail like getaddrinfo does."""

    async def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return list(table[host])

    return resolve


async def _fetch(policy: FetchPolicy, url: str, **kwargs: Any) -> FetchResult:
    async with Fetcher(policy, clock=lambda: NOW, resolver=kwargs.pop("resolver", None)) as f:
        return await f.fetch(url, **kwargs)


async def _fail(policy: FetchPolicy, url: str, **kwargs: Any) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await _fetch(policy, url, **kwargs)
    return caught.value


def _text(body: str, **headers: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=body, headers=headers)

    return handler


def _status(status: int, **headers: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, text="no", headers=headers)

    return handler


def _redirect(status: int, location: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    return _status(status, Location=location)


# --- a plain fetch, headers, conditional GET ---------------------------------------------------

FEED = '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
LAST_MODIFIED = "Mon, 05 Jan 2026 10:00:00 GMT"


@pytest.mark.asyncio
async def test_conditional_get_gives_not_modified(local_server: LocalServer) -> None:
    async def feed(request: web.Request) -> web.Response:
        if (
            request.headers.get("If-None-Match") == '"v1"'
            and request.headers.get("If-Modified-Since") == LAST_MODIFIED
        ):
            return web.Response(status=304, headers={"Cache-Control": "max-age=900"})
        return web.Response(
            text=FEED,
            content_type="application/rss+xml",
            headers={
                "ETag": '"v1"',
                "Last-Modified": LAST_MODIFIED,
                "Cache-Control": "max-age=600",
            },
        )

    local_server.route("/feed", feed)
    url = local_server.url("/feed")
    async with Fetcher(LOCAL) as fetcher:
        first = await fetcher.fetch(url)
        second = await fetcher.fetch(url, etag=first.etag, last_modified=first.last_modified)

    assert first.status == 200 and not first.not_modified
    assert first.content == FEED.encode()
    assert (first.etag, first.last_modified) == ('"v1"', LAST_MODIFIED)
    assert first.max_age == timedelta(seconds=600)
    assert first.content_type == "application/rss+xml"
    assert first.url == first.final_url == url and first.permanent_url is None

    assert second.status == 304 and second.not_modified and second.content == b""
    assert (second.etag, second.last_modified) == ('"v1"', LAST_MODIFIED)
    assert second.max_age == timedelta(seconds=900)

    before, after = local_server.requests
    assert "If-None-Match" not in before.headers and "If-Modified-Since" not in before.headers
    assert after.headers["If-None-Match"] == '"v1"'
    assert after.headers["If-Modified-Since"] == LAST_MODIFIED


@pytest.mark.asyncio
async def test_request_headers_name_tisserand_and_what_is_accepted(
    local_server: LocalServer,
) -> None:
    local_server.route("/feed", _text(FEED))
    await _fetch(LOCAL, local_server.url("/feed"), accept="application/atom+xml")
    await _fetch(
        FetchPolicy(allow_private_networks=True, user_agent="Custom/1"), local_server.url("/feed")
    )
    seen, custom = local_server.requests
    assert seen.headers["User-Agent"].startswith(f"Tisserand/{bot.__version__}")
    assert seen.headers["Accept"] == "application/atom+xml"
    assert "gzip" in seen.headers["Accept-Encoding"]
    assert "deflate" in seen.headers["Accept-Encoding"]
    assert custom.headers["User-Agent"] == "Custom/1"


@pytest.mark.asyncio
async def test_header_injection_through_a_stored_etag_is_not_sent(
    local_server: LocalServer,
) -> None:
    local_server.route("/feed", _text(FEED))
    result = await _fetch(LOCAL, local_server.url("/feed"), etag='"x"\r\nX-Evil: 1')
    assert result.status == 200
    assert "X-Evil" not in local_server.requests[0].headers
    assert "If-None-Match" not in local_server.requests[0].headers


@pytest.mark.asyncio
async def test_cookies_are_not_kept_between_requests(local_server: LocalServer) -> None:
    async def set_cookie(request: web.Request) -> web.Response:
        response = web.Response(text="ok")
        response.set_cookie("session", "abc")
        return response

    local_server.route("/set", set_cookie)
    local_server.route("/check", _text("ok"))
    async with Fetcher(LOCAL) as fetcher:
        await fetcher.fetch(local_server.url("/set"))
        await fetcher.fetch(local_server.url("/check"))
    assert "Cookie" not in local_server.requests[1].headers


@pytest.mark.asyncio
async def test_one_connection_serves_304s_redirects_and_errors(local_server: LocalServer) -> None:
    async def feed(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304)
        return web.Response(text=FEED, headers={"ETag": '"v1"'})

    local_server.route("/feed", feed)
    local_server.route("/old", _redirect(301, "/feed"))
    local_server.route("/missing", _status(404))
    url = local_server.url("/feed")
    async with Fetcher(LOCAL) as fetcher:
        await fetcher.fetch(url)
        await fetcher.fetch(url, etag='"v1"')
        await fetcher.fetch(local_server.url("/old"), etag='"v1"')
        with pytest.raises(FetchError):
            await fetcher.fetch(local_server.url("/missing"))
        await fetcher.fetch(url)
    assert len(local_server.requests) == 6
    assert len({request.peer for request in local_server.requests}) == 1


# --- status codes and Retry-After --------------------------------------------------------------


@pytest.mark.asyncio
async def test_retry_after_in_seconds_on_429(local_server: LocalServer) -> None:
    local_server.route("/feed", _status(429, **{"Retry-After": "120"}))
    error = await _fail(LOCAL, local_server.url("/feed"))
    assert error.kind == "rate_limited"
    assert error.http_status == 429
    assert error.retry_after == timedelta(seconds=120)


@pytest.mark.asyncio
async def test_retry_after_as_an_http_date_on_503(local_server: LocalServer) -> None:
    when = format_datetime(NOW + timedelta(minutes=90), usegmt=True)
    local_server.route("/feed", _status(503, **{"Retry-After": when}))
    error = await _fail(LOCAL, local_server.url("/feed"))
    assert error.kind == "rate_limited"
    assert error.http_status == 503
    assert error.retry_after == timedelta(minutes=90)


@pytest.mark.asyncio
async def test_retry_after_as_a_date_on_429_and_in_seconds_on_503(
    local_server: LocalServer,
) -> None:
    when = format_datetime(NOW + timedelta(seconds=45), usegmt=True)
    local_server.route("/a", _status(429, **{"Retry-After": when}))
    local_server.route("/b", _status(503, **{"Retry-After": "7"}))
    first = await _fail(LOCAL, local_server.url("/a"))
    second = await _fail(LOCAL, local_server.url("/b"))
    assert (first.kind, first.retry_after) == ("rate_limited", timedelta(seconds=45))
    assert (second.kind, second.retry_after) == ("rate_limited", timedelta(seconds=7))


@pytest.mark.parametrize(
    ("status", "headers", "kind", "retry_after"),
    [
        (429, {}, "rate_limited", None),
        (503, {}, "http_status", None),
        (410, {}, "gone", None),
        (500, {}, "http_status", None),
        (404, {}, "http_status", None),
        (403, {}, "http_status", None),
        (500, {"Retry-After": "soon"}, "http_status", None),
        (300, {}, "http_status", None),
        (301, {}, "http_status", None),  # a redirect without Location
    ],
)
@pytest.mark.asyncio
async def test_error_statuses(
    local_server: LocalServer,
    status: int,
    headers: dict[str, str],
    kind: str,
    retry_after: timedelta | None,
) -> None:
    local_server.route("/feed", _status(status, **headers))
    error = await _fail(LOCAL, local_server.url("/feed"))
    assert (error.kind, error.http_status, error.retry_after) == (kind, status, retry_after)
    assert error.url == local_server.url("/feed")


# --- redirects ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_301_then_308_reports_the_permanent_url(local_server: LocalServer) -> None:
    local_server.route("/old", _redirect(301, "/moved"))
    local_server.route("/moved", _redirect(308, local_server.url("/new")))
    local_server.route("/new", _text(FEED))
    result = await _fetch(LOCAL, local_server.url("/old"))
    assert result.content == FEED.encode()
    assert result.url == local_server.url("/old")
    assert result.final_url == local_server.url("/new")
    assert result.permanent_url == local_server.url("/new")
    assert local_server.paths == ["/old", "/moved", "/new"]


@pytest.mark.parametrize("status", [302, 303, 307])
@pytest.mark.asyncio
async def test_temporary_redirect_reports_no_permanent_url(
    local_server: LocalServer, status: int
) -> None:
    local_server.route("/old", _redirect(status, "new?x=1"))
    local_server.route("/new", _text(FEED))
    result = await _fetch(LOCAL, local_server.url("/old"))
    assert result.final_url == local_server.url("/new?x=1")
    assert result.permanent_url is None


@pytest.mark.asyncio
async def test_permanent_chain_stops_at_the_first_temporary_hop(
    local_server: LocalServer,
) -> None:
    local_server.route("/a", _redirect(301, "/b"))
    local_server.route("/b", _redirect(302, "/c"))
    local_server.route("/c", _redirect(301, "/d"))
    local_server.route("/d", _text(FEED))
    result = await _fetch(LOCAL, local_server.url("/a"))
    assert result.permanent_url == local_server.url("/b")
    assert result.final_url == local_server.url("/d")


def _chain(server: LocalServer, hops: int) -> str:
    for index in range(hops):
        server.route(f"/hop{index}", _redirect(302, f"/hop{index + 1}"))
    server.route(f"/hop{hops}", _text("arrived"))
    return server.url("/hop0")


@pytest.mark.asyncio
async def test_five_redirects_are_followed(local_server: LocalServer) -> None:
    result = await _fetch(LOCAL, _chain(local_server, 5))
    assert result.content == b"arrived"
    assert len(local_server.requests) == 6


@pytest.mark.asyncio
async def test_six_redirects_are_too_many(local_server: LocalServer) -> None:
    error = await _fail(LOCAL, _chain(local_server, 6))
    assert error.kind == "too_many_redirects"
    assert len(local_server.requests) == 6  # the sixth redirect is never followed


@pytest.mark.asyncio
async def test_redirect_loop_is_detected(local_server: LocalServer) -> None:
    local_server.route("/a", _redirect(302, "/b"))
    local_server.route("/b", _redirect(302, "/a"))
    error = await _fail(LOCAL, local_server.url("/a"))
    assert error.kind == "too_many_redirects"
    assert "loop" in error.detail
    assert local_server.paths == ["/a", "/b"]


@pytest.mark.parametrize(
    ("location", "kind"),
    [
        ("ftp://127.0.0.1/feed", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("http://user:pw@127.0.0.1/feed", "invalid_url"),
        ("http://exa mple.com/", "invalid_url"),
    ],
)
@pytest.mark.asyncio
async def test_redirect_targets_are_validated(
    local_server: LocalServer, location: str, kind: str
) -> None:
    local_server.route("/feed", _redirect(302, location))
    error = await _fail(LOCAL, local_server.url("/feed"))
    assert error.kind == kind


# --- sizes and decompression bombs -------------------------------------------------------------

SMALL = FetchPolicy(allow_private_networks=True, max_bytes=1 * MiB)


@pytest.mark.asyncio
async def test_body_over_the_limit_is_refused(local_server: LocalServer) -> None:
    local_server.route("/big", _text("x" * (MiB + 1)))
    local_server.route("/exact", _text("x" * MiB))
    error = await _fail(SMALL, local_server.url("/big"))
    assert error.kind == "too_large"
    assert len((await _fetch(SMALL, local_server.url("/exact"))).content) == MiB


@pytest.mark.asyncio
async def test_streamed_body_without_length_is_cut_off(local_server: LocalServer) -> None:
    sent: list[int] = []

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        chunk = b"y" * 65536
        try:
            for _ in range(1024):  # 64 MiB at most
                await response.write(chunk)
                sent.append(len(chunk))
        except ConnectionError:
            pass
        return response

    local_server.route("/endless", endless)
    error = await _fail(SMALL, local_server.url("/endless"))
    assert error.kind == "too_large"
    assert sum(sent) < 64 * MiB


ZEROS = bytes(16 * MiB)
BOMB_SIZE = 1024 * MiB  # what each bomb expands to


@functools.cache
def _gzip_member() -> bytes:
    """16 MiB of zeros as one gzip member; 64 of them in a row are a valid 1 GiB gzip body."""
    return gzip.compress(ZEROS, compresslevel=9, mtime=0)


def _deflate_stream(zeros: bytes, count: int) -> bytes:
    """A valid zlib stream of ``count * len(zeros)`` zeros built from one repeated block.

    After a full flush a deflate block refers to nothing before it, so it can be repeated; the
    Adler-32 of n zeros is (n mod 65521) << 16 | 1.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    total = count * len(zeros)
    adler = ((total % 65521) << 16) | 1
    final_empty_block = b"\x03\x00"
    return b"\x78\xda" + block * count + final_empty_block + adler.to_bytes(4, "big")


@functools.cache
def _deflate_bomb() -> bytes:
    return _deflate_stream(ZEROS, BOMB_SIZE // len(ZEROS))


@functools.cache
def _brotli_bomb() -> bytes:
    compressor = brotli.Compressor(quality=1)
    parts = [compressor.process(ZEROS) for _ in range(BOMB_SIZE // len(ZEROS))]
    return b"".join([*parts, compressor.finish()])


def test_the_bombs_are_valid_compressed_data() -> None:
    assert zlib.decompress(_deflate_stream(bytes(1000), 5)) == bytes(5000)
    two_members = gzip.decompress(_gzip_member() * 2)
    assert len(two_members) == 32 * MiB and not any(two_members[::4096])


def _bomb_handler(encoding: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Encoding": encoding})
        await response.prepare(request)
        try:
            if encoding == "gzip":
                for _ in range(BOMB_SIZE // len(ZEROS)):
                    await response.write(_gzip_member())
            elif encoding == "deflate":
                await response.write(_deflate_bomb())
            else:
                await response.write(_brotli_bomb())
        except ConnectionError:
            pass
        return response

    return handler


BOMBS = [
    "gzip",
    "deflate",
    pytest.param("br", marks=pytest.mark.skipif(brotli is None, reason="brotli is not installed")),
]


@pytest.mark.parametrize("encoding", BOMBS)
@pytest.mark.asyncio
async def test_decompression_bomb_is_cut_off_with_little_memory(
    local_server: LocalServer, encoding: str
) -> None:
    if encoding == "gzip":
        _gzip_member()
    elif encoding == "deflate":
        _deflate_bomb()
    else:
        _brotli_bomb()
    local_server.route("/bomb", _bomb_handler(encoding))
    tracemalloc.start()
    try:
        error = await _fail(SMALL, local_server.url("/bomb"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert error.kind == "too_large"
    # The body may hold 1 MiB; one 16 MiB gzip member decoded at once would show here.
    assert peak < 6 * MiB, f"peak {peak / MiB:.1f} MiB"


@pytest.mark.asyncio
async def test_decompression_bomb_against_the_default_limit(local_server: LocalServer) -> None:
    _gzip_member()
    local_server.route("/bomb", _bomb_handler("gzip"))
    error = await _fail(LOCAL, local_server.url("/bomb"))
    assert error.kind == "too_large"
    assert str(DEFAULT_POLICY.max_bytes) in error.detail


# --- encodings and charsets --------------------------------------------------------------------

TEXT = "Élus et agents : la sobriété foncière, ça se partage. " * 200


def _encoded(body: bytes, encoding: str) -> bytes:
    if encoding in ("gzip", "x-gzip"):
        return gzip.compress(body, mtime=0)
    if encoding == "gzip-members":
        half = len(body) // 2
        return gzip.compress(body[:half], mtime=0) + gzip.compress(body[half:], mtime=0)
    if encoding == "deflate":
        return zlib.compress(body)
    if encoding == "raw-deflate":
        compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        return compressor.compress(body) + compressor.flush()
    if encoding == "br":
        return bytes(brotli.compress(body))
    if encoding == "gzip, deflate":  # gzip applied first, then deflate
        return zlib.compress(gzip.compress(body, mtime=0))
    return body


ENCODINGS = [
    "identity",
    "gzip",
    "x-gzip",
    "gzip-members",
    "deflate",
    "raw-deflate",
    "gzip, deflate",
    pytest.param("br", marks=pytest.mark.skipif(brotli is None, reason="no brotli")),
]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.asyncio
async def test_content_encodings_are_decoded(local_server: LocalServer, encoding: str) -> None:
    body = TEXT.encode("utf-8")
    header = {"gzip-members": "gzip", "raw-deflate": "deflate"}.get(encoding, encoding)

    async def handler(request: web.Request) -> web.Response:
        return web.Response(
            body=_encoded(body, encoding),
            headers={"Content-Encoding": header, "Content-Type": "text/html; charset=UTF-8"},
        )

    local_server.route("/page", handler)
    result = await _fetch(LOCAL, local_server.url("/page"))
    assert result.content == body
    assert (result.content_type, result.charset) == ("text/html", "utf-8")


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("text/xml; charset=ISO-8859-1", ("text/xml", "iso-8859-1")),
        ('application/atom+xml; charset="windows-1252"', ("application/atom+xml", "windows-1252")),
        ("Application/RSS+XML", ("application/rss+xml", None)),
        ("text/html; q=1; Charset = 'utf-8'", ("text/html", "utf-8")),
    ],
)
@pytest.mark.asyncio
async def test_charset_is_reported_and_bytes_left_alone(
    local_server: LocalServer, content_type: str, expected: tuple[str, str | None]
) -> None:
    body = "<?xml version='1.0'?><t>Sobriété</t>".encode("latin-1")

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, headers={"Content-Type": content_type})

    local_server.route("/feed", handler)
    result = await _fetch(LOCAL, local_server.url("/feed"))
    assert (result.content_type, result.charset) == expected
    assert result.content == body


@pytest.mark.asyncio
async def test_no_content_type(local_server: LocalServer) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"raw")
        return response

    local_server.route("/raw", handler)
    result = await _fetch(LOCAL, local_server.url("/raw"))
    assert result.content == b"raw"
    assert result.charset is None


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", b"this is not gzip at all"),
        ("gzip", gzip.compress(b"x" * 5000)[:-20]),  # truncated
        ("deflate", b"\x78\x9c garbage"),
        ("compress", b"anything"),
        ("zstd", b"anything"),
    ],
)
@pytest.mark.asyncio
async def test_bad_or_unknown_encoding_is_a_decoding_error(
    local_server: LocalServer, encoding: str, body: bytes
) -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, headers={"Content-Encoding": encoding})

    local_server.route("/feed", handler)
    error = await _fail(LOCAL, local_server.url("/feed"))
    assert error.kind == "decoding"


@pytest.mark.asyncio
async def test_empty_gzip_body_is_empty(local_server: LocalServer) -> None:
    async def empty(request: web.Request) -> web.Response:
        return web.Response(body=b"", headers={"Content-Encoding": "gzip"})

    local_server.route("/empty", empty)
    assert (await _fetch(LOCAL, local_server.url("/empty"))).content == b""


# --- time limits and connection failures -------------------------------------------------------


@pytest.mark.asyncio
async def test_silent_server_hits_the_read_timeout(local_server: LocalServer) -> None:
    async def silent(request: web.Request) -> web.Response:
        await local_server.release.wait()  # until the end of the test
        return web.Response(text="late")

    local_server.route("/slow", silent)
    error = await _fail(FAST, local_server.url("/slow"))
    assert error.kind == "timeout"


@pytest.mark.asyncio
async def test_trickling_server_hits_the_total_time_limit(local_server: LocalServer) -> None:
    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        try:
            while not local_server.release.is_set():
                await response.write(b"x")
                await asyncio.sleep(0.02)
        except ConnectionError:
            pass
        return response

    policy = FetchPolicy(allow_private_networks=True, read_timeout=5.0, total_timeout=0.3)
    local_server.route("/drip", trickle)
    error = await _fail(policy, local_server.url("/drip"))
    assert error.kind == "timeout"
    assert "total" in error.detail


@pytest.mark.asyncio
async def test_hanging_resolver_hits_the_connect_timeout() -> None:
    never = asyncio.Event()

    async def hang(host: str, port: int) -> list[str]:
        await never.wait()
        return []

    error = await _fail(FAST, "http://slow-dns.test/", resolver=hang)
    assert error.kind == "timeout"


@pytest.mark.asyncio
async def test_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    error = await _fail(LOCAL, f"http://127.0.0.1:{port}/")
    assert error.kind == "connection"


@pytest.mark.parametrize("table", [{}, {"empty.test": []}, {"bad.test": ["not-an-ip"]}])
@pytest.mark.asyncio
async def test_names_that_do_not_resolve(table: dict[str, list[str]]) -> None:
    host = next(iter(table), "unknown.test")
    error = await _fail(LOCAL, f"http://{host}/", resolver=_resolver(table))
    assert error.kind == "dns"


@pytest.mark.asyncio
async def test_invalid_urls_are_refused_before_any_connection() -> None:
    calls: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    assert (await _fail(LOCAL, "ftp://files.test/feed", resolver=resolve)).kind == "scheme"
    assert (await _fail(LOCAL, "http://a:b@files.test/", resolver=resolve)).kind == "invalid_url"
    assert (await _fail(LOCAL, "not a url", resolver=resolve)).kind == "invalid_url"
    assert calls == []


# --- concurrency -------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_concurrency_is_bounded(local_server: LocalServer) -> None:
    in_flight = 0
    peak = 0
    both_in = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        if in_flight >= 2:
            both_in.set()
        try:
            await asyncio.wait_for(both_in.wait(), 5)
            await asyncio.sleep(0.01)
        finally:
            in_flight -= 1
        return web.Response(text=request.path)

    for index in range(6):
        local_server.route(f"/f{index}", handler)
    policy = FetchPolicy(allow_private_networks=True, max_concurrency=2)
    async with Fetcher(policy) as fetcher:
        results = await asyncio.gather(
            *(fetcher.fetch(local_server.url(f"/f{index}")) for index in range(6))
        )
    assert [result.content for result in results] == [f"/f{i}".encode() for i in range(6)]
    assert peak == 2


# --- the address guard -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "2130706433",  # decimal
        "0x7f000001",  # hex
        "0x7f.0.0.1",
        "0177.0.0.1",  # octal
        "017700000001",
        "127.1",  # short
        "127.0.1",
        "0",
        "[::1]",
        "[::ffff:127.0.0.1]",  # IPv4-mapped
        "[::ffff:7f00:1]",
        "[2002:7f00:1::1]",  # 6to4 of 127.0.0.1
        "[64:ff9b::7f00:1]",  # NAT64 of 127.0.0.1
    ],
)
@pytest.mark.asyncio
async def test_loopback_in_every_spelling_is_refused(local_server: LocalServer, host: str) -> None:
    async def no_dns(host: str, port: int) -> list[str]:
        raise AssertionError("a literal address needs no resolver")

    local_server.route("/", _text("secret"))
    error = await _fail(DEFAULT_POLICY, f"http://{host}:{local_server.port}/", resolver=no_dns)
    assert error.kind == "blocked_address"
    assert local_server.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://10.0.0.1/",
        "http://0x0a000001/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://[fc00::1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[::]/",
    ],
)
@pytest.mark.asyncio
async def test_private_and_special_addresses_are_refused(url: str) -> None:
    error = await _fail(DEFAULT_POLICY, url, resolver=_resolver({}))
    assert error.kind == "blocked_address"


@pytest.mark.parametrize(
    "addresses",
    [["10.0.0.1"], ["127.0.0.1"], ["93.184.216.34", "10.0.0.1"], ["::1", "93.184.216.34"]],
)
@pytest.mark.asyncio
async def test_a_name_resolving_to_any_private_address_is_refused(addresses: list[str]) -> None:
    error = await _fail(
        DEFAULT_POLICY, "http://intranet.test/", resolver=_resolver({"intranet.test": addresses})
    )
    assert error.kind == "blocked_address"
    assert "intranet.test" in error.detail


@pytest.mark.asyncio
async def test_allowed_public_name_connects_to_the_vetted_address(
    local_server: LocalServer,
) -> None:
    calls: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)  # first answer allowed, every later one private
        return ["127.0.0.1"] if len(calls) == 1 else ["10.0.0.1"]

    local_server.route("/feed", _text(FEED))
    url = f"http://public.test:{local_server.port}/feed"
    result = await _fetch(GUARDED, url, resolver=rebinding)
    assert result.content == FEED.encode()
    assert calls == ["public.test"]  # resolved once, and that answer was used to connect
    assert local_server.requests[0].headers["Host"] == f"public.test:{local_server.port}"


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.2:{port}/secret",
        "http://2130706434:{port}/secret",
        "http://[::1]:{port}/secret",
        "http://internal.test:{port}/secret",
        "http://localhost:{port}/secret",
    ],
)
@pytest.mark.asyncio
async def test_redirect_to_a_private_address_is_refused(
    local_server: LocalServer, target: str
) -> None:
    resolver = _resolver(
        {"public.test": ["127.0.0.1"], "internal.test": ["10.0.0.1"], "localhost": ["::1"]}
    )
    local_server.route("/go", _redirect(302, target.format(port=local_server.port)))
    local_server.route("/secret", _text("secret"))
    error = await _fail(GUARDED, f"http://public.test:{local_server.port}/go", resolver=resolver)
    assert error.kind == "blocked_address"
    assert local_server.paths == ["/go"]
    assert "/secret" in error.url


@pytest.mark.asyncio
async def test_private_networks_allowed_by_configuration(local_server: LocalServer) -> None:
    local_server.route("/feed", _text(FEED))
    result = await _fetch(LOCAL, f"http://127.1:{local_server.port}/feed")
    assert result.final_url == local_server.url("/feed")  # 127.1 is 127.0.0.1, as for sockets
    assert result.content == FEED.encode()


def test_allowed_networks_must_be_networks() -> None:
    with pytest.raises(ValueError, match="does not appear"):
        FetchPolicy(allowed_networks=("not a network",))


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("1.1.1.1", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("::ffff:93.184.216.34", True),
        ("2002:5db8:d822::1", True),  # 6to4 of a public address
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.31.255.255", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("100.127.255.254", False),
        ("0.0.0.0", False),
        ("224.0.0.251", False),
        ("239.255.255.250", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("192.0.2.1", False),
        ("198.18.0.1", False),
        ("::", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("fd12:3456::1", False),
        ("ff02::1", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:127.0.0.1", False),
        ("::127.0.0.1", False),
        ("2002:0a00:0001::1", False),  # 6to4 of 10.0.0.1
        ("2002:a9fe:a9fe::1", False),  # 6to4 of 169.254.169.254
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
        ("2001:db8::1", False),
    ],
)
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(address) is public


# --- TLS ---------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_tls_verifies_the_original_name_on_the_pinned_address(
    tls_server: LocalServer, test_ca_context: ssl.SSLContext
) -> None:
    tls_server.route("/feed", _text(FEED))
    resolver = _resolver({TLS_HOST: ["127.0.0.1"]})
    async with Fetcher(GUARDED, resolver=resolver, ssl_context=test_ca_context) as fetcher:
        result = await fetcher.fetch(f"https://{TLS_HOST}:{tls_server.port}/feed")
    assert result.content == FEED.encode()
    assert tls_server.server_names == [TLS_HOST]
    assert tls_server.requests[0].headers["Host"] == f"{TLS_HOST}:{tls_server.port}"


@pytest.mark.parametrize("host", ["other.public.test", "127.0.0.1"])
@pytest.mark.asyncio
async def test_tls_certificate_for_another_name_is_refused(
    tls_server: LocalServer, test_ca_context: ssl.SSLContext, host: str
) -> None:
    tls_server.route("/feed", _text(FEED))
    resolver = _resolver({"other.public.test": ["127.0.0.1"]})
    async with Fetcher(LOCAL, resolver=resolver, ssl_context=test_ca_context) as fetcher:
        with pytest.raises(FetchError) as caught:
            await fetcher.fetch(f"https://{host}:{tls_server.port}/feed")
    assert caught.value.kind == "tls"
    assert tls_server.requests == []


@pytest.mark.asyncio
async def test_tls_with_an_untrusted_certificate_is_refused(tls_server: LocalServer) -> None:
    tls_server.route("/feed", _text(FEED))
    resolver = _resolver({TLS_HOST: ["127.0.0.1"]})
    error = await _fail(GUARDED, f"https://{TLS_HOST}:{tls_server.port}/feed", resolver=resolver)
    assert error.kind == "tls"


# --- the fence itself --------------------------------------------------------------------------


def test_the_test_fence_refuses_outside_connections(loopback_only: list[object]) -> None:
    with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(("192.0.2.1", 80))  # TEST-NET-1: documentation only
    assert loopback_only == [("192.0.2.1", 80)]
    loopback_only.clear()


# --- delays ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failures", "expected"),
    [
        (0, timedelta(0)),
        (1, timedelta(minutes=1)),
        (2, timedelta(minutes=2)),
        (3, timedelta(minutes=4)),
        (11, timedelta(minutes=1024)),
        (12, timedelta(days=1)),
        (10_000, timedelta(days=1)),
    ],
)
def test_next_retry_delay_is_exponential_and_capped(failures: int, expected: timedelta) -> None:
    assert next_retry_delay(failures) == expected


def test_next_retry_delay_with_jitter_stays_between_half_and_full() -> None:
    rng = random.Random(5)
    delays = [next_retry_delay(4, jitter=rng) for _ in range(200)]
    assert all(timedelta(minutes=4) <= d <= timedelta(minutes=8) for d in delays)
    assert len(set(delays)) > 150
    again = random.Random(5)
    assert [next_retry_delay(4, jitter=again) for _ in range(200)] == delays


def test_next_retry_delay_with_other_base_and_cap() -> None:
    base, cap = timedelta(seconds=10), timedelta(minutes=1)
    assert [next_retry_delay(n, base=base, cap=cap).total_seconds() for n in range(1, 6)] == [
        10,
        20,
        40,
        60,
        60,
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", timedelta(seconds=120)),
        (" 0 ", timedelta(0)),
        ("Mon, 05 Jan 2026 12:10:00 GMT", timedelta(minutes=10)),
        ("Monday, 05-Jan-26 12:00:30 GMT", timedelta(seconds=30)),
        ("Mon Jan  5 12:01:00 2026", timedelta(minutes=1)),
        ("Sun, 04 Jan 2026 12:00:00 GMT", timedelta(0)),  # in the past
        ("99999999999999999999", timedelta(days=365)),
        ("", None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
    ],
)
def test_parse_retry_after(value: str, expected: timedelta | None) -> None:
    assert parse_retry_after(value, NOW) == expected


def test_parse_retry_after_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_retry_after("10", datetime(2026, 1, 5, 12, 0))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("max-age=3600", timedelta(hours=1)),
        ("public, MAX-AGE=60, must-revalidate", timedelta(minutes=1)),
        ('max-age="30"', timedelta(seconds=30)),
        ("no-cache", None),
        ("max-age=soon", None),
        (None, None),
    ],
)
def test_parse_max_age(value: str | None, expected: timedelta | None) -> None:
    assert parse_max_age(value) == expected


# --- the connection pool -----------------------------------------------------------------------


class RawServer:
    """A bare HTTP/1.1 server on 127.0.0.1 whose behaviour per connection a test chooses:
    ``script[n]`` lists, for the n-th connection, what to do with each request on it: a status
    to answer with (keep-alive), or None to close the connection without answering."""

    def __init__(self, script: list[list[int | None]]) -> None:
        self.script = script
        self.connections = 0
        self.requests: list[tuple[int, bytes]] = []  # (connection number, request line)
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        number = self.connections
        self.connections += 1
        plan = list(self.script[number]) if number < len(self.script) else [200]
        try:
            while plan:
                head = await reader.readuntil(b"\r\n\r\n")
                self.requests.append((number, head.split(b"\r\n", 1)[0]))
                status = plan.pop(0)
                if status is None:
                    break
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Length: {len(FEED)}\r\n\r\n{FEED}".encode()
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.mark.asyncio
async def test_a_kept_alive_connection_closed_by_the_server_is_replaced_once() -> None:
    # Connection 0 answers once, then closes on the next request without a word (as a server
    # does when its keep-alive ends just as the request leaves); connection 1 answers.
    async with RawServer([[200, None], [200, 200]]) as server:
        url = f"http://127.0.0.1:{server.port}/feed"
        async with Fetcher(LOCAL) as fetcher:
            first = await fetcher.fetch(url)
            second = await fetcher.fetch(url)
            third = await fetcher.fetch(url)
    assert first.content == second.content == third.content == FEED.encode()
    assert [number for number, _ in server.requests] == [0, 0, 1, 1]
    assert server.connections == 2


@pytest.mark.asyncio
async def test_a_new_connection_closed_without_an_answer_is_an_error() -> None:
    async with RawServer([[None], [200]]) as server:
        error = await _fail(LOCAL, f"http://127.0.0.1:{server.port}/feed")
    assert error.kind == "connection"
    assert "without an answer" in error.detail
    assert server.connections == 1  # a first request is not sent again


@pytest.mark.asyncio
async def test_connection_close_is_honoured(local_server: LocalServer) -> None:
    async def closing(request: web.Request) -> web.Response:
        response = web.Response(text=FEED)
        response.force_close()
        return response

    local_server.route("/feed", closing)
    async with Fetcher(LOCAL) as fetcher:
        for _ in range(3):
            assert (await fetcher.fetch(local_server.url("/feed"))).content == FEED.encode()
    assert len({request.peer for request in local_server.requests}) == 3


@pytest.mark.asyncio
async def test_a_name_is_resolved_once_but_every_connection_is_vetted(
    local_server: LocalServer,
) -> None:
    calls: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    async def closing(request: web.Request) -> web.Response:
        response = web.Response(text=FEED)
        response.force_close()  # every fetch opens a new connection
        return response

    local_server.route("/feed", closing)
    url = f"http://public.test:{local_server.port}/feed"
    async with Fetcher(GUARDED, resolver=resolve) as fetcher:
        await fetcher.fetch(url)
        await fetcher.fetch(url)
        assert calls == ["public.test"]
        assert len({request.peer for request in local_server.requests}) == 2
        # The cached addresses still go through the guard: once 127.0.0.1 is no longer
        # allowed, the next connection is refused before it is opened.
        fetcher._allowed_networks = ()
        error = await _fail_with(fetcher, url)
    assert error.kind == "blocked_address"
    assert calls == ["public.test"] and len(local_server.requests) == 2


async def _fail_with(fetcher: Fetcher, url: str) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await fetcher.fetch(url)
    return caught.value


@pytest.mark.asyncio
async def test_a_body_cut_short_is_a_connection_error() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n<rss>")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        error = await _fail(LOCAL, f"http://127.0.0.1:{port}/feed")
    finally:
        server.close()
        await server.wait_closed()
    assert error.kind == "connection"
