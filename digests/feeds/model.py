"""What parsing gives back: entries, feeds, discovered feeds, page metadata, and the one error
it raises (:class:`FeedParseError`), with the size limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.core import TisserandError

MAX_TITLE = 300
MAX_EXCERPT = 500
MAX_SUMMARY_HTML = 20_000
MAX_FILTER = 300

ParseErrorCode = Literal["not_a_feed", "parse", "timeout", "bad_filter", "unsafe"]


class FeedParseError(TisserandError):
    """A body that is not a usable feed. ``code``: ``not_a_feed``, ``parse``, ``timeout``,
    ``bad_filter``, ``unsafe`` (a DTD, or elements nested too deep: :mod:`digests.safexml`);
    ``detail`` is English, for logs."""

    def __init__(self, code: ParseErrorCode, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code: ParseErrorCode = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class ParsedEntry:
    key: str
    """sha256 (hex) of the entry's id, else of its canonical link, else of its content."""
    link: str | None
    link_hash: str | None
    content_hash: str
    title: str
    summary: str
    """Plain-text excerpt (at most :data:`MAX_EXCERPT` characters)."""
    summary_html: str
    author: str | None
    published_at: datetime | None
    categories: tuple[str, ...] = ()
    """The entry's own categories (RSS ``<category>``, Atom ``term``, JSON Feed ``tags``),
    cleaned, at most :data:`MAX_CATEGORIES`."""


MAX_CATEGORIES = 20


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    site_url: str | None
    version: str
    entries: tuple[ParsedEntry, ...]
    skipped: int = 0
    """Entries left out: duplicates, filtered out, or beyond the per-feed maximum."""


@dataclass(frozen=True, slots=True)
class DiscoveredFeed:
    url: str
    title: str | None
    media_type: str


@dataclass(frozen=True, slots=True)
class PageMetadata:
    title: str | None
    description: str | None
