"""The :class:`Fetcher`: one ``GET`` within a policy, redirects followed by hand (each target
validated again), the body read within its limit, network errors mapped to FetchError."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import ssl
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, cast
from urllib.parse import urljoin

import httpcore
import httpx

from bot import __version__
from digests.fetcher.decoding import (
    ACCEPT_ENCODING,
    DecodeError,
    decode,
    decoders_for,
    finish_decoding,
)
from digests.fetcher.delays import parse_max_age, parse_retry_after
from digests.fetcher.guard import (
    GuardedBackend,
    GuardError,
    IPAddress,
    Resolver,
    is_public_address,
    system_resolver,
)
from digests.fetcher.policy import DEFAULT_ACCEPT, DEFAULT_POLICY, FetchPolicy, FetchResult
from digests.fetcher.pool import GuardedTransport
from digests.urls import FetchError, FetchErrorKind, validate_url

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT_REDIRECTS = frozenset({301, 308})


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
        backend = GuardedBackend(resolver or system_resolver, self._is_allowed)
        self._transport = GuardedTransport(
            ssl_context=ssl_context or _default_ssl_context(),
            backend=backend,
            connections=policy.max_concurrency,
        )
        self._headers = {
            "User-Agent": policy.user_agent or f"Tisserand/{__version__}",
            "Accept-Encoding": ACCEPT_ENCODING,
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
        except GuardError as exc:
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
            decoders = decoders_for(response.headers)
        except DecodeError as exc:
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
                    for piece in decode(decoders, raw):
                        if len(body) + len(piece) > limit:
                            raise too_large
                        body += piece
            for piece in finish_decoding(decoders):
                if len(body) + len(piece) > limit:
                    raise too_large
                body += piece
        except DecodeError as exc:
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
