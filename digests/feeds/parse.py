"""Bytes in, clean entries out: :func:`parse_feed` (JSON Feed, the lxml fast path, else
feedparser), entry filters, and the detection of HTML pages and JSON."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from bot.i18n import fold
from digests import safexml
from digests.feeds.entries import feedparser_entries, normalise, read_json_feed
from digests.feeds.fast import fast_parse
from digests.feeds.model import (
    MAX_FILTER,
    MAX_TITLE,
    FeedParseError,
    ParsedEntry,
    ParsedFeed,
)
from digests.feeds.text import (
    clean_text,
    safe_link,
)
from digests.filters import RegexRefused, compile_regex


def compile_filter(text: str | None) -> Callable[[str], bool] | None:
    """``mot|autre mot`` (any of the words, case- and accent-insensitive) or ``/regex/``
    (case-insensitive, run by RE2 in linear time: :mod:`digests.filters`).

    Raises :class:`FeedParseError` (``bad_filter``) for an empty filter, a regex RE2 refuses
    (the :class:`~digests.filters.RegexRefused` is its ``__cause__``) or one longer than
    :data:`MAX_FILTER` characters.
    """
    if text is None:
        return None
    source = text.strip()
    if not source or len(source) > MAX_FILTER:
        raise FeedParseError("bad_filter", "empty or too long")
    if len(source) > 2 and source.startswith("/") and source.endswith("/"):
        try:
            return compile_regex(source[1:-1])
        except RegexRefused as exc:
            raise FeedParseError("bad_filter", str(exc)) from exc
    words = [fold(word.strip()) for word in source.split("|") if word.strip()]
    if not words:
        raise FeedParseError("bad_filter", "no word")
    return lambda value: any(word in fold(value) for word in words)


_FEED_MARKERS = (b"<rss", b"<feed", b"<rdf:rdf", b"<rdf", b"<channel")
_HTML_TYPES = ("text/html", "application/xhtml+xml")


def looks_like_html(content: bytes, content_type: str | None) -> bool:
    """True for an HTML page (not a feed), from its start and its declared media type."""
    head = content[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if any(marker in head for marker in _FEED_MARKERS):
        return False
    if head.startswith((b"<!doctype html", b"<html")):
        return True
    return content_type in _HTML_TYPES and not head.startswith(b"{")


def _looks_like_json(content: bytes, content_type: str | None) -> bool:
    head = content[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{") or bool(content_type and "json" in content_type)


def parse_feed(
    content: bytes,
    *,
    url: str,
    content_type: str | None = None,
    charset: str | None = None,
    entry_filter: str | None = None,
    max_entries: int = 100,
) -> ParsedFeed:
    """Parse and clean a feed (RSS, Atom, RDF or JSON Feed) from its bytes.

    Links are stored in their canonical form (tracking parameters removed).

    ``url`` is where it was fetched (the base of relative links); ``content_type`` and
    ``charset`` come from the HTTP answer. Entries failing ``entry_filter``
    (:func:`compile_filter`) are left out, and at most ``max_entries`` are kept, in feed order.
    """
    matcher = compile_filter(entry_filter)
    version: str
    json_feed = _looks_like_json(content, content_type)
    if not json_feed:
        _refuse_unsafe_xml(
            safexml.refuse_dtd, content, charset=charset, allow_external_doctype=True
        )
    if json_feed:
        title, site, raws = read_json_feed(content)
        version = "json"
        base: str | None = url
    elif (fast := fast_parse(content, charset, url)) is not None:
        version, title, site, raws = fast
        base = url
    else:
        import feedparser

        _refuse_unsafe_xml(safexml.refuse_depth, content)
        headers = {"content-location": url}
        if content_type:
            headers["content-type"] = content_type + (f"; charset={charset}" if charset else "")
        try:
            parsed = feedparser.parse(
                io.BytesIO(content),
                response_headers=headers,
                sanitize_html=False,  # nh3 does it
                resolve_relative_uris=False,  # sanitize_html(base=...) does it, much faster
            )
        except Exception as exc:  # feedparser is robust, but a crash must stay this feed's
            raise FeedParseError("parse", f"{type(exc).__name__}: {exc}") from None
        version = str(parsed.get("version") or "")
        raws = feedparser_entries(parsed)
        feed = parsed.get("feed") or {}
        if not version and not raws:
            reason = parsed.get("bozo_exception")
            raise FeedParseError("not_a_feed", str(reason) if reason else "no feed found")
        title = str(feed.get("title") or "") or None
        site = feed.get("link") if isinstance(feed.get("link"), str) else None
        base = url
    ids: set[str] = set()
    links: set[str] = set()
    hashes: set[str] = set()
    entries: list[ParsedEntry] = []
    skipped = 0
    for raw in raws:
        entry = normalise(raw, base)
        if (
            entry.key in ids
            or (entry.link_hash is not None and entry.link_hash in links)
            or entry.content_hash in hashes
            or not (entry.title or entry.summary)
            or len(entries) >= max_entries
        ):
            skipped += 1
            continue
        if matcher is not None and not matcher(f"{entry.title}\n{entry.summary}"):
            skipped += 1
            continue
        ids.add(entry.key)
        hashes.add(entry.content_hash)
        if entry.link_hash is not None:
            links.add(entry.link_hash)
        entries.append(entry)
    return ParsedFeed(
        title=clean_text(title, MAX_TITLE) if title else None,
        site_url=safe_link(site, url),
        version=version,
        entries=tuple(entries),
        skipped=skipped,
    )


def _refuse_unsafe_xml(check: Callable[..., object], content: bytes, **options: Any) -> None:
    """Run a :mod:`digests.safexml` check; its refusal is a :class:`FeedParseError`."""
    try:
        check(content, **options)
    except safexml.UnsafeXml as exc:
        raise FeedParseError("unsafe", str(exc)) from None


T = TypeVar("T")


def dedupe_across(items: Iterable[T], link_hash_of: Callable[[T], str | None]) -> list[T]:
    """Keep the first item of each canonical link (items without a link are all kept)."""
    seen: set[str] = set()
    kept: list[T] = []
    for item in items:
        key = link_hash_of(item)
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        kept.append(item)
    return kept
