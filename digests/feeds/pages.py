"""HTML pages: the feeds a page announces and the title and description of a shared page."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from digests.feeds.model import (
    MAX_EXCERPT,
    MAX_TITLE,
    DiscoveredFeed,
    PageMetadata,
)
from digests.feeds.text import (
    clean_text,
    safe_link,
)
from digests.urls import canonical_url

_FEED_TYPES = {
    "application/rss+xml": "rss",
    "application/atom+xml": "atom",
    "application/feed+json": "json",
    "application/json": "json",
    "application/rdf+xml": "rdf",
}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_MAX_PAGE_SCAN = 2 * 1024 * 1024


def decode_page(content: bytes, charset: str | None) -> str:
    """An HTML page as text: the declared charset, else a ``<meta charset>``, else UTF-8."""
    candidates = [charset] if charset else []
    match = _META_CHARSET.search(content[:4096])
    if match:
        candidates.append(match.group(1).decode("ascii", "replace"))
    candidates.append("utf-8")
    for name in candidates:
        if not name:
            continue
        try:
            return content[:_MAX_PAGE_SCAN].decode(name, errors="replace")
        except LookupError:
            continue
    return content[:_MAX_PAGE_SCAN].decode("utf-8", errors="replace")  # pragma: no cover


class _HeadScanner(HTMLParser):
    """Reads <link rel=alternate>, <meta> and <title> until the end of <head>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[dict[str, str]] = []
        self.meta: dict[str, str] = {}
        self.title_parts: list[str] = []
        self._in_title = False
        self.done = False
        self.base: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        values = {name.lower(): (value or "") for name, value in attrs}
        if tag == "link":
            self.links.append(values)
        elif tag == "meta":
            name = (values.get("property") or values.get("name") or "").lower()
            if name and "content" in values and name not in self.meta:
                self.meta[name] = values["content"]
        elif tag == "title":
            self._in_title = True
        elif tag == "base" and self.base is None and values.get("href"):
            self.base = values["href"]
        elif tag == "body":
            self.done = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag == "head":
            self.done = True

    def handle_data(self, data: str) -> None:
        if self._in_title and len(self.title_parts) < 100:
            self.title_parts.append(data)


def _scan_head(content: bytes, charset: str | None) -> _HeadScanner:
    scanner = _HeadScanner()
    text = decode_page(content, charset)
    # Feed the page in pieces and stop at the end of <head>: the body is never needed.
    for start in range(0, len(text), 16_384):
        try:
            scanner.feed(text[start : start + 16_384])
        except (AssertionError, ValueError):  # pragma: no cover - HTMLParser is lenient
            break
        if scanner.done:
            break
    return scanner


def discover_feeds(
    content: bytes, base_url: str, charset: str | None = None
) -> list[DiscoveredFeed]:
    """Feeds an HTML page announces with ``<link rel="alternate" type="...">``, in page order."""
    scanner = _scan_head(content, charset)
    base = safe_link(scanner.base, base_url) or base_url
    found: list[DiscoveredFeed] = []
    seen: set[str] = set()
    for link in scanner.links:
        rels = {word.lower() for word in link.get("rel", "").split()}
        media_type = link.get("type", "").split(";")[0].strip().lower()
        if "alternate" not in rels or media_type not in _FEED_TYPES:
            continue
        url = safe_link(link.get("href"), base)
        if url is None or canonical_url(url) in seen:
            continue
        seen.add(canonical_url(url))
        title = clean_text(link["title"], MAX_TITLE) if link.get("title") else None
        found.append(DiscoveredFeed(url=url, title=title or None, media_type=media_type))
    return found


def page_metadata(content: bytes, charset: str | None = None) -> PageMetadata:
    """Title and description of a shared page: og:title / og:description, then <title> and
    ``<meta name="description">``; plain text, truncated."""
    scanner = _scan_head(content, charset)
    title = scanner.meta.get("og:title") or scanner.meta.get("twitter:title")
    if not title:
        title = "".join(scanner.title_parts)
    description = (
        scanner.meta.get("og:description")
        or scanner.meta.get("description")
        or scanner.meta.get("twitter:description")
    )
    return PageMetadata(
        title=(clean_text(title, MAX_TITLE) or None) if title else None,
        description=(clean_text(description, MAX_EXCERPT) or None) if description else None,
    )
