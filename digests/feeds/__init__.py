"""Feed parsing, sanitising and normalisation: bytes in, clean entries out.

Contract:

- :func:`parse_feed` takes the bytes the fetcher brought back and returns a :class:`ParsedFeed`
  whose entries are *clean*: titles and excerpts are plain text with no markup, mass mentions
  (``@everyone``, ``@here``, ``@all``) neutralised with a zero-width space; ``summary_html`` is
  sanitised with nh3 (no script, no ``on*=`` attribute, links only http, https or mailto); links
  are http(s) URLs accepted by :func:`digests.urls.validate_url`, or None. It raises only
  :class:`FeedParseError`. It is a pure function of its arguments, so it runs in a worker process.
- feedparser is only ever given bytes, wrapped in :class:`io.BytesIO`: given a bare ``bytes`` or
  ``str``, feedparser would try to open it as a file name or fetch it as a URL.
- JSON Feed (1.0 and 1.1) is read here (feedparser 6 does not read it).
- Speed: when lxml is installed, strictly well-formed RSS 2.0 and Atom 1.0 documents (no DTD,
  entities or ``xml:base``, UTF-8) are read with lxml, about three times faster; every other
  document, and any document lxml refuses, is read by feedparser, which stays the reference.
  Both paths produce the same normalised, sanitised entries.
- Duplicates within one feed are dropped here: the same id, the same canonical link, or the same
  content (title and text). Duplicates across feeds are removed when a digest is built
  (:func:`dedupe_across`), by canonical URL with tracking parameters removed.
- :class:`FeedParser` runs :func:`parse_feed` off the event loop, in a pool of worker processes
  (or a thread), with a time limit per feed. A worker that overruns is killed with its pool; the
  feeds that were being parsed beside it are parsed again once in a new pool.

The parts, one concern each: ``model`` (what parsing gives back, :class:`FeedParseError`),
``text`` (plain text, sanitised HTML, links), ``entries`` (entries as read, and their
normalisation), ``fast`` (the lxml path), ``parse`` (:func:`parse_feed`, filters, detection),
``pages`` (feed discovery and page metadata) and ``workers`` (:class:`FeedParser`). Callers
import from this package: its ``__all__`` is the parser's public face.
"""

from __future__ import annotations

from digests.feeds.model import (
    MAX_EXCERPT,
    MAX_TITLE,
    DiscoveredFeed,
    FeedParseError,
    PageMetadata,
    ParsedEntry,
    ParsedFeed,
)
from digests.feeds.pages import discover_feeds, page_metadata
from digests.feeds.parse import compile_filter, dedupe_across, looks_like_html, parse_feed
from digests.feeds.text import clean_text, link_hash, neutralize_mentions, plain_text, sanitize_html
from digests.feeds.workers import FeedParser, parse_many

__all__ = [
    "MAX_EXCERPT",
    "MAX_TITLE",
    "DiscoveredFeed",
    "FeedParseError",
    "FeedParser",
    "PageMetadata",
    "ParsedEntry",
    "ParsedFeed",
    "clean_text",
    "compile_filter",
    "dedupe_across",
    "discover_feeds",
    "link_hash",
    "looks_like_html",
    "neutralize_mentions",
    "page_metadata",
    "parse_feed",
    "parse_many",
    "plain_text",
    "sanitize_html",
]
