"""The fast path: strictly well-formed RSS 2.0 and Atom 1.0, read with lxml when it is installed;
anything else is left to feedparser, which stays the reference."""

from __future__ import annotations

import email.utils
import html
import importlib
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from bot.core import TisserandError
from digests import safexml
from digests.feeds.entries import RawEntry, iso_date
from digests.feeds.model import (
    FeedParseError,
)
from digests.feeds.text import (
    ALLOWED_TAGS,
)

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


_HTMLISH_TAGS = ALLOWED_TAGS | {"span", "div", "img", "font", "table", "tr", "td", "th", "tt"}
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


def _fast_rss(channel: Any, base: str) -> tuple[str | None, str | None, list[RawEntry]]:
    raws: list[RawEntry] = []
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
            RawEntry(
                id=_resolve_id(guid, base) or None,
                link=link,
                title=title,
                title_is_html=_looks_like_html(title),
                summary_html=encoded if len(encoded) > len(description) else description,
                author=(item.findtext("author") or item.findtext(_DC + "creator") or None),
                published_at=(_rfc822(date) or iso_date(date) if date else None)
                or iso_date(dc_date),
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


def _fast_atom(root: Any, base: str) -> tuple[str | None, str | None, list[RawEntry]]:
    raws: list[RawEntry] = []
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
            RawEntry(
                id=_resolve_id(entry_id, base) or None,
                link=_atom_link(entry) or (entry_id if entry_id.startswith("http") else None),
                title=title,
                title_is_html=title_is_html,
                summary_html=body,
                author=(author.findtext(_ATOM + "name") if author is not None else None) or None,
                published_at=iso_date(entry.findtext(_ATOM + "published"))
                or iso_date(entry.findtext(_ATOM + "updated")),
                categories=tuple(
                    element.get("term") or element.get("label") or ""
                    for element in entry.iterfind(_ATOM + "category")
                ),
            )
        )
    feed_title = root.find(_ATOM + "title")
    name = _atom_body(feed_title)[0] if feed_title is not None else None
    return name, _atom_link(root), raws


def fast_parse(
    content: bytes, charset: str | None, base: str = ""
) -> tuple[str, str | None, str | None, list[RawEntry]] | None:
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
