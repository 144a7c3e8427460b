"""What a :class:`~digests.fetcher.client.Fetcher` may do (:class:`FetchPolicy`) and what one
fetch brings back (:class:`FetchResult`)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import timedelta

from bot.core import InvalidValue

DEFAULT_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/html;q=0.8, */*;q=0.5"
)


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
