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
"""

from __future__ import annotations

import asyncio
import calendar
import concurrent.futures
import contextlib
import email.utils
import hashlib
import html
import importlib
import io
import json
import multiprocessing
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from html.parser import HTMLParser
from types import TracebackType
from typing import Any, Literal, TypeVar
from urllib.parse import urljoin

import nh3

from bot.core import TisserandError
from bot.i18n import fold
from bot.mentions import ZWSP, neutralize_mass_mentions
from digests import safexml
from digests.filters import RegexRefused, compile_regex
from digests.safehtml import bounded as bounded_html
from digests.urls import FetchError, canonical_url, validate_url

__all__ = [
    "DiscoveredFeed",
    "FeedParseError",
    "FeedParser",
    "PageMetadata",
    "ParsedEntry",
    "ParsedFeed",
    "compile_filter",
    "dedupe_across",
    "discover_feeds",
    "link_hash",
    "looks_like_html",
    "neutralize_mentions",
    "page_metadata",
    "parse_feed",
    "plain_text",
    "sanitize_html",
]

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


def _categories(values: Any) -> tuple[str, ...]:
    found: list[str] = []
    for value in values or ():
        text = clean_text(str(value), 100) if value else ""
        if text and text not in found:
            found.append(text)
        if len(found) >= MAX_CATEGORIES:
            break
    return tuple(found)


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


# --- text and HTML -------------------------------------------------------------------------------

_ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "cite",
    "code",
    "dd",
    "dl",
    "dt",
    "em",
    "figcaption",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "strong",
    "sub",
    "sup",
    "u",
    "ul",
}
_HTML_CLEANER = nh3.Cleaner(
    tags=_ALLOWED_TAGS,
    clean_content_tags={"script", "style", "template", "noscript"},
    attributes={"a": {"href", "title"}, "abbr": {"title"}},
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)
_TEXT_CLEANER = nh3.Cleaner(
    tags=set(),
    clean_content_tags={"script", "style", "template", "noscript"},
    attributes={},
    strip_comments=True,
)
_BLOCK_BOUNDARY = re.compile(
    r"<(?=/?(?:br|p|div|li|ul|ol|h[1-6]|tr|td|th|blockquote|pre|section|article|dd|dt)\b)",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_SPACES = re.compile(r"\s+")
_TAG_LIKE = re.compile(r"<(?=[A-Za-z!/?@#&])")


def neutralize_mentions(text: str) -> str:
    """``@everyone`` -> ``@\u200beveryone`` (and ``@here``, ``@all``, ``@channel``: every mass
    mention :mod:`bot.mentions` knows)."""
    return neutralize_mass_mentions(text, marker=ZWSP)


_C1 = re.compile(r"[\x80-\x9f]")


def _windows_1252(match: re.Match[str]) -> str:
    """A C1 control character is almost always a Windows-1252 character decoded as Latin-1."""
    try:
        return bytes([ord(match.group())]).decode("cp1252")
    except UnicodeDecodeError:
        return ""


def _clean_text(text: str, limit: int | None) -> str:
    text = _C1.sub(_windows_1252, text)
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text).strip()
    if limit is not None and len(text) > limit:
        cut = text[: limit - 1]
        space = cut.rfind(" ")
        if space > limit * 0.6:
            cut = cut[:space]
        text = cut.rstrip(" ,;:.-") + "…"
    # Text that looks like a tag or a platform mention (``<script``, ``<@123>``) is defanged
    # with a look-alike so no renderer ever reads it as markup.
    text = _TAG_LIKE.sub("‹", text)
    return neutralize_mentions(text)


def plain_text(markup: str, limit: int | None = None) -> str:
    """Visible text of an HTML fragment, on one line, at most ``limit`` characters."""
    if not markup:
        return ""
    spaced = _BLOCK_BOUNDARY.sub(" <", bounded_html(markup))
    return _clean_text(html.unescape(_TEXT_CLEANER.clean(spaced)), limit)


def clean_text(text: str, limit: int | None = None) -> str:
    """A plain text (not HTML) made safe to store and show."""
    return _clean_text(text, limit)


_HREF = re.compile(r'(<a\b[^>]*?\bhref=")([^"]*)(")')
_TAG = re.compile(r"<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
"""A tag of sanitised HTML (nh3 always quotes attribute values)."""


def _absolute(match: re.Match[str], base: str) -> str:
    value = html.unescape(match.group(2))
    if "://" not in value[:12] and not value.startswith("mailto:"):
        try:
            value = validate_url(urljoin(base, value))
        except (FetchError, ValueError):
            return match.group(1) + "#" + match.group(3)
    return match.group(1) + html.escape(value) + match.group(3)


def sanitize_html(markup: str, base: str | None = None) -> str:
    """HTML fragment with only harmless tags and http(s)/mailto links; mentions neutralised.

    With ``base``, relative links are made absolute (feeds are parsed without feedparser's own
    relative-URI resolution, which costs a third of its time).
    """
    if not markup:
        return ""
    clean = _HTML_CLEANER.clean(bounded_html(markup))
    if base and "href=" in clean:
        clean = _HREF.sub(lambda m: _absolute(m, base), clean)
    return neutralize_mentions(clean)


def _sanitised_text(clean: str, limit: int | None) -> str:
    """Visible text of HTML already sanitised by :func:`sanitize_html` (no second nh3 pass)."""
    spaced = _BLOCK_BOUNDARY.sub(" <", clean)
    return _clean_text(html.unescape(_TAG.sub("", spaced)), limit)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def link_hash(url: str) -> str:
    """What two links naming the same page share (tracking parameters removed)."""
    return _sha(canonical_url(url))


def _safe_link(raw: object, base: str | None, *, canonical: bool = False) -> str | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    candidate = raw.strip()
    if base:
        with contextlib.suppress(ValueError):
            candidate = urljoin(base, candidate)
    try:
        url = validate_url(candidate)
    except FetchError:
        return None
    return canonical_url(url) if canonical else url


# --- filters -------------------------------------------------------------------------------------


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


# --- detection -----------------------------------------------------------------------------------

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


# --- entries -------------------------------------------------------------------------------------


def _timestamp(parsed: Any) -> datetime | None:
    if parsed is None:
        return None
    try:
        moment = datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return moment if 1990 <= moment.year <= 2200 else None


def _iso_date(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment if 1990 <= moment.year <= 2200 else None


@dataclass(slots=True)
class _RawEntry:
    id: str | None
    link: str | None
    title: str
    title_is_html: bool
    summary_html: str
    author: str | None
    published_at: datetime | None
    categories: tuple[str, ...] = ()


def _normalise(raw: _RawEntry, base: str | None) -> ParsedEntry:
    link = _safe_link(raw.link, base, canonical=True)
    title_source = raw.title or ""
    title = (
        plain_text(title_source, MAX_TITLE)
        if raw.title_is_html
        else clean_text(title_source, MAX_TITLE)
    )
    summary_html = sanitize_html(raw.summary_html, base)
    summary = _sanitised_text(summary_html, MAX_EXCERPT)
    if len(summary_html) > MAX_SUMMARY_HTML:
        summary_html = "<p>" + html.escape(summary, quote=False) + "</p>"
    if not title:
        title = summary[:80].rstrip() + ("…" if len(summary) > 80 else "") if summary else ""
    if not title and link:
        title = clean_text(link, MAX_TITLE)
    content_hash = _sha(f"{title.casefold()}\n{summary.casefold()}")
    entry_id = (raw.id or "").strip()
    if entry_id:
        key = _sha("id:" + entry_id)
    elif link:
        key = _sha("link:" + canonical_url(link))
    else:
        key = _sha("content:" + content_hash)
    author = clean_text(raw.author, 200) if raw.author else None
    return ParsedEntry(
        key=key,
        link=link,
        link_hash=link_hash(link) if link else None,
        content_hash=content_hash,
        title=title,
        summary=summary,
        summary_html=summary_html,
        author=author or None,
        published_at=raw.published_at,
        categories=_categories(raw.categories),
    )


def _feedparser_entries(parsed: Any) -> list[_RawEntry]:
    raws: list[_RawEntry] = []
    for item in parsed.entries:
        content_list = item.get("content") or []
        body = ""
        if content_list and isinstance(content_list[0], dict):
            body = str(content_list[0].get("value") or "")
        summary = str(item.get("summary") or "")
        if len(body) > len(summary):
            summary = body
        detail = item.get("title_detail") or {}
        title_type = str(detail.get("type") or "text/plain") if isinstance(detail, dict) else ""
        published = _timestamp(item.get("published_parsed")) or _timestamp(
            item.get("updated_parsed")
        )
        raws.append(
            _RawEntry(
                id=str(item.get("id")) if item.get("id") else None,
                link=item.get("link"),
                title=str(item.get("title") or ""),
                title_is_html="html" in title_type,
                summary_html=summary,
                author=str(item.get("author")) if item.get("author") else None,
                published_at=published,
                categories=tuple(
                    str(tag.get("term") or "")
                    for tag in (item.get("tags") or [])
                    if isinstance(tag, dict)
                ),
            )
        )
    return raws


def _json_feed(content: bytes) -> tuple[str | None, str | None, list[_RawEntry]]:
    try:
        document = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FeedParseError("not_a_feed", f"invalid JSON: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        raise FeedParseError("not_a_feed", "JSON without items")
    version = str(document.get("version") or "")
    if version and "jsonfeed.org" not in version:
        raise FeedParseError("not_a_feed", "not a JSON Feed")
    raws: list[_RawEntry] = []
    for item in document["items"]:
        if not isinstance(item, dict):
            continue
        body = item.get("content_html")
        if not isinstance(body, str):
            text = item.get("content_text") or item.get("summary") or ""
            body = html.escape(str(text)) if text else ""
        author = item.get("author") or (item.get("authors") or [None])[0]
        author_name = author.get("name") if isinstance(author, dict) else None
        raws.append(
            _RawEntry(
                id=str(item["id"]) if item.get("id") is not None else None,
                link=item.get("url") if isinstance(item.get("url"), str) else None,
                title=str(item.get("title") or ""),
                title_is_html=False,
                summary_html=body,
                author=str(author_name) if author_name else None,
                published_at=_iso_date(item.get("date_published"))
                or _iso_date(item.get("date_modified")),
                categories=tuple(
                    str(tag) for tag in (item.get("tags") or []) if isinstance(tag, str)
                )
                if isinstance(item.get("tags"), list)
                else (),
            )
        )
    title = document.get("title")
    home = document.get("home_page_url")
    return (
        str(title) if title else None,
        home if isinstance(home, str) else None,
        raws,
    )


# --- fast path: well-formed RSS 2.0 and Atom 1.0 with lxml --------------------------------------

_ATOM = "{http://www.w3.org/2005/Atom}"
_CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"
_DC = "{http://purl.org/dc/elements/1.1/}"
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
_FAST_UNSAFE = (b"<!doctype", b"<!entity", b"xml:base")


def _lxml() -> Any:
    try:
        return importlib.import_module("lxml.etree")
    except ImportError:  # pragma: no cover - lxml is optional
        return None


_ETREE = _lxml()


def _text(element: Any) -> str:
    if element is None:
        return ""
    return "".join(element.itertext())


def _rfc822(value: str) -> datetime | None:
    try:
        moment = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment if 1990 <= moment.year <= 2200 else None


def _atom_body(element: Any) -> tuple[str, bool]:
    """(markup or text, is_html) of an Atom text construct."""
    kind = (element.get("type") or "text").lower()
    if kind == "xhtml":
        inner = element.find("{http://www.w3.org/1999/xhtml}div")
        target = inner if inner is not None else element
        parts = [html.escape(target.text or "", quote=False)]
        for child in target:
            parts.append(_ETREE.tostring(child, encoding="unicode", with_tail=True))
        return "".join(parts), True
    if kind in ("html", "text/html"):
        return _text(element), True
    if kind in ("text", "text/plain"):
        return _text(element), False
    raise _NotFast(f"atom content type {kind!r}")


class _NotFast(TisserandError):
    """The fast path does not handle this document: feedparser will."""


_HTMLISH_TAGS = _ALLOWED_TAGS | {"span", "div", "img", "font", "table", "tr", "td", "th", "tt"}
_CLOSE_OR_ENTITY = re.compile(r"</[A-Za-z][A-Za-z0-9]*\s*>|&#?\w+;")
_TAG_NAME = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)")


def _looks_like_html(text: str) -> bool:
    """feedparser's rule for text that claims nothing: HTML when it has a closing tag or an
    entity, and only ordinary HTML tags."""
    if not _CLOSE_OR_ENTITY.search(text):
        return False
    return all(tag.lower() in _HTMLISH_TAGS for tag in _TAG_NAME.findall(text))


def _resolve_id(value: str, base: str) -> str:
    """Ids are resolved against the document's address, as feedparser does."""
    if not value or ":" in value.split("/", 1)[0]:
        return value
    try:
        return urljoin(base, value)
    except ValueError:
        return value


def _fast_rss(channel: Any, base: str) -> tuple[str | None, str | None, list[_RawEntry]]:
    raws: list[_RawEntry] = []
    for item in channel.iterfind("item"):
        link = (item.findtext("link") or "").strip() or None
        guid_element = item.find("guid")
        guid = (guid_element.text or "").strip() if guid_element is not None else ""
        if link is None and guid and (guid_element.get("isPermaLink") or "true") != "false":
            link = guid
        description = item.findtext("description") or ""
        encoded = item.findtext(_CONTENT_ENCODED) or ""
        date = item.findtext("pubDate") or ""
        dc_date = item.findtext(_DC + "date") or ""
        title = item.findtext("title") or ""
        raws.append(
            _RawEntry(
                id=_resolve_id(guid, base) or None,
                link=link,
                title=title,
                title_is_html=_looks_like_html(title),
                summary_html=encoded if len(encoded) > len(description) else description,
                author=(item.findtext("author") or item.findtext(_DC + "creator") or None),
                published_at=(_rfc822(date) or _iso_date(date) if date else None)
                or _iso_date(dc_date),
                categories=tuple(
                    (element.text or "").strip() for element in item.iterfind("category")
                ),
            )
        )
    return channel.findtext("title"), channel.findtext("link"), raws


def _atom_link(element: Any) -> str | None:
    for link in element.iterfind(_ATOM + "link"):
        if (link.get("rel") or "alternate") == "alternate" and link.get("href"):
            return str(link.get("href"))
    return None


def _fast_atom(root: Any, base: str) -> tuple[str | None, str | None, list[_RawEntry]]:
    raws: list[_RawEntry] = []
    for entry in root.iterfind(_ATOM + "entry"):
        title_element = entry.find(_ATOM + "title")
        title, title_is_html = (
            _atom_body(title_element) if title_element is not None else ("", False)
        )
        body = ""
        for kind in ("content", "summary"):
            element = entry.find(_ATOM + kind)
            if element is not None and not element.get("src"):
                text, is_html = _atom_body(element)
                candidate = text if is_html else html.escape(text, quote=False)
                if len(candidate) > len(body):
                    body = candidate
        author = entry.find(_ATOM + "author")
        entry_id = (entry.findtext(_ATOM + "id") or "").strip()
        raws.append(
            _RawEntry(
                id=_resolve_id(entry_id, base) or None,
                link=_atom_link(entry) or (entry_id if entry_id.startswith("http") else None),
                title=title,
                title_is_html=title_is_html,
                summary_html=body,
                author=(author.findtext(_ATOM + "name") if author is not None else None) or None,
                published_at=_iso_date(entry.findtext(_ATOM + "published"))
                or _iso_date(entry.findtext(_ATOM + "updated")),
                categories=tuple(
                    element.get("term") or element.get("label") or ""
                    for element in entry.iterfind(_ATOM + "category")
                ),
            )
        )
    feed_title = root.find(_ATOM + "title")
    name = _atom_body(feed_title)[0] if feed_title is not None else None
    return name, _atom_link(root), raws


def _fast_parse(
    content: bytes, charset: str | None, base: str = ""
) -> tuple[str, str | None, str | None, list[_RawEntry]] | None:
    """RSS 2.0 or Atom 1.0 read with lxml, or None to let feedparser read the document.

    Only strictly well-formed documents without a DTD, entities or ``xml:base``, in UTF-8 (or
    declaring their encoding with nothing contradicting it) take this path; everything else
    (RDF, RSS 0.9x, Atom 0.3, CDF, ill-formed XML, odd encodings) goes to feedparser.
    """
    if _ETREE is None:
        return None
    if charset and charset.replace("-", "").replace("_", "").lower() not in ("utf8", "usascii"):
        return None
    head = content[:4096].lower()
    if any(marker in head for marker in _FAST_UNSAFE) or b"xml:base" in content:
        return None
    try:
        root = safexml.fromstring(
            content,
            charset=charset,
            allow_external_doctype=True,
            remove_comments=True,
            remove_pis=True,
        )
        if root.getroottree().docinfo.doctype:
            return None  # entities of an external DTD (RSS 0.91): feedparser knows them
        if root.tag == "rss" and root.get("version") == "2.0":
            channel = root.find("channel")
            if channel is None:
                return None
            version = "rss20"
            title, site, raws = _fast_rss(channel, base)
        elif root.tag == _ATOM + "feed":
            version = "atom10"
            title, site, raws = _fast_atom(root, base)
        else:
            return None
    except (_ETREE.XMLSyntaxError, ValueError, _NotFast):
        return None
    except safexml.UnsafeXml as exc:
        if exc.reason == "encoding":
            return None  # not checked in an encoding Python lacks: feedparser cannot use it
        raise FeedParseError("unsafe", str(exc)) from None
    if any(not (raw.title.strip() or raw.summary_html.strip()) for raw in raws):
        return None  # an entry in an unusual form (<body>, <fullitem>...): feedparser knows them
    return version, title, site, raws


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
        title, site, raws = _json_feed(content)
        version = "json"
        base: str | None = url
    elif (fast := _fast_parse(content, charset, url)) is not None:
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
        raws = _feedparser_entries(parsed)
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
        entry = _normalise(raw, base)
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
        site_url=_safe_link(site, url),
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


# --- HTML pages: feed discovery and metadata -----------------------------------------------------

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
    base = _safe_link(scanner.base, base_url) or base_url
    found: list[DiscoveredFeed] = []
    seen: set[str] = set()
    for link in scanner.links:
        rels = {word.lower() for word in link.get("rel", "").split()}
        media_type = link.get("type", "").split(";")[0].strip().lower()
        if "alternate" not in rels or media_type not in _FEED_TYPES:
            continue
        url = _safe_link(link.get("href"), base)
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


# --- off the event loop, with a time limit ------------------------------------------------------

ParseFunction = Callable[..., ParsedFeed]


class FeedParser:
    """Runs :func:`parse_feed` in worker processes (or a thread) with a time limit per feed.

    ``processes``: None for one per CPU, 0 for a single worker thread (no process; a feed that
    overruns is abandoned to finish in its thread). At most one feed per worker is in flight, so
    the time limit measures parsing, not waiting. Use as an async context manager, or call
    :meth:`close`.
    """

    def __init__(
        self,
        *,
        processes: int | None = None,
        timeout: float = 20.0,
        max_entries: int = 100,
        function: ParseFunction = parse_feed,
    ) -> None:
        count = (os.cpu_count() or 1) if processes is None else processes
        self.processes = count
        self.timeout = timeout
        self.max_entries = max_entries
        self._function = function
        self._pool: concurrent.futures.Executor | None = None
        self._slots = asyncio.Semaphore(max(1, count))
        self._generation = 0

    def _executor(self) -> concurrent.futures.Executor:
        if self._pool is None:
            if self.processes == 0:
                self._pool = concurrent.futures.ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="feed-parse"
                )
            else:
                self._pool = concurrent.futures.ProcessPoolExecutor(
                    max_workers=self.processes, mp_context=multiprocessing.get_context("spawn")
                )
            self._generation += 1
        return self._pool

    def _discard_pool(self, generation: int) -> None:
        """Kill the pool of ``generation`` (a worker overran); the next parse starts a new one."""
        pool = self._pool
        if pool is None or generation != self._generation:
            return
        self._pool = None
        if isinstance(pool, concurrent.futures.ProcessPoolExecutor):
            processes: dict[int, Any] = dict(getattr(pool, "_processes", None) or {})
            for process in processes.values():
                with contextlib.suppress(Exception):
                    process.kill()
            pool.shutdown(wait=False, cancel_futures=True)
        else:
            pool.shutdown(wait=False, cancel_futures=True)

    async def parse(
        self,
        content: bytes,
        *,
        url: str,
        content_type: str | None = None,
        charset: str | None = None,
        entry_filter: str | None = None,
    ) -> ParsedFeed:
        """Parse one feed; raises :class:`FeedParseError` (``timeout`` past the limit)."""
        call = partial(
            self._function,
            content,
            url=url,
            content_type=content_type,
            charset=charset,
            entry_filter=entry_filter,
            max_entries=self.max_entries,
        )
        for attempt in range(2):
            async with self._slots:
                executor = self._executor()
                generation = self._generation
                future = asyncio.get_running_loop().run_in_executor(executor, call)
                try:
                    return await asyncio.wait_for(future, self.timeout)
                except TimeoutError:
                    self._discard_pool(generation)
                    raise FeedParseError(
                        "timeout", f"parsing took more than {self.timeout} s"
                    ) from None
                except BrokenProcessPool:
                    # Killed beside a feed that overran (or a worker died): try once more.
                    self._discard_pool(generation)
                    if attempt:
                        raise FeedParseError("parse", "the parsing process died") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    async def __aenter__(self) -> FeedParser:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def parse_many(
    documents: Sequence[tuple[bytes, str]], *, max_entries: int = 100
) -> list[ParsedFeed | FeedParseError]:
    """Parse several ``(content, url)`` synchronously (benchmarks, corpus runs)."""
    results: list[ParsedFeed | FeedParseError] = []
    for content, url in documents:
        try:
            results.append(parse_feed(content, url=url, max_entries=max_entries))
        except FeedParseError as exc:
            results.append(exc)
    return results
