"""OPML import and export of feed sources.

Import reads ``<outline xmlUrl="...">`` elements at any depth; a source's theme is the outline's
``category`` attribute, else the ``text`` of the outline that contains it. Documents are read with
:mod:`digests.safexml`: a DTD or entity declarations (in whatever encoding), or outlines nested
deeper than its limit, are refused (no entity expansion at all), and so are documents over
:data:`MAX_OPML_BYTES`.

Export writes OPML 2.0, grouped by theme, in a stable order. What OPML has no attribute for is
written in Tisserand's namespace (:data:`NAMESPACE`, prefix ``tisserand``), and read back on
import: a source's filter (``tisserand:filter``), its fetch interval in minutes
(``tisserand:interval``) and its category map (``tisserand:categories``, ``category=Theme``
pairs separated by ``;``). Other readers ignore them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # writing only: reading goes through digests.safexml
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from bot.core import TisserandError
from digests import safexml
from digests.feeds import clean_text
from digests.urls import FetchError, host_address, validate_url

__all__ = [
    "OpmlError",
    "OpmlOutline",
    "OpmlSource",
    "build_opml",
    "parse_opml",
]

NAMESPACE = "https://tisserand.invalid/ns/opml/1"
"""Tisserand's attributes in OPML (a name, never fetched)."""
_NS = "{" + NAMESPACE + "}"
MAX_OPML_BYTES = 5 * 1024 * 1024
MAX_OUTLINES = 2000

OpmlErrorCode = Literal["not_opml", "too_large", "unsafe", "empty"]


class OpmlError(TisserandError):
    """``code``: ``not_opml``, ``too_large``, ``unsafe`` (a DTD or entities), ``empty``."""

    def __init__(self, code: OpmlErrorCode, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code: OpmlErrorCode = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class OpmlOutline:
    url: str
    title: str | None = None
    theme: str | None = None
    site_url: str | None = None
    filter: str | None = None
    interval_minutes: int | None = None
    theme_map: str | None = None
    """``category=Theme`` lines, as a source stores them."""


class OpmlSource(Protocol):
    """What :func:`build_opml` reads of a source (a stored feed source has it all)."""

    @property
    def id(self) -> int: ...

    @property
    def url(self) -> str: ...

    @property
    def canonical(self) -> str: ...

    @property
    def title(self) -> str | None: ...

    @property
    def site_url(self) -> str | None: ...

    @property
    def theme(self) -> str | None: ...

    @property
    def filter(self) -> str | None: ...

    @property
    def interval_minutes(self) -> int | None: ...

    @property
    def theme_map(self) -> str | None: ...


def _attribute(element: Any, name: str) -> str | None:
    wanted = name.lower()
    for key, value in element.attrib.items():
        if key.lower() == wanted and value.strip():
            return str(value).strip()
    return None


def _local_address(url: str) -> bool:
    """True when the host of ``url`` (validated) is literally a private or local address, or
    ``localhost``: the fetcher's guard would refuse it, so an import must not promise it."""
    from digests.fetcher import is_public_address

    host = (urlsplit(url).hostname or "").rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    address = host_address(host)
    return address is not None and not is_public_address(address)


def parse_opml(
    data: bytes, *, allow_private_networks: bool = False
) -> tuple[list[OpmlOutline], list[str]]:
    """The feed outlines of an OPML document, and the addresses that were not usable URLs
    (private and local addresses among them, unless ``allow_private_networks``; names are
    resolved, and checked again, when the source is fetched)."""
    if len(data) > MAX_OPML_BYTES:
        raise OpmlError("too_large", f"over {MAX_OPML_BYTES} bytes")
    try:
        root = safexml.fromstring(data, remove_comments=True, remove_pis=True)
    except safexml.UnsafeXml as exc:  # a DTD in any encoding, too deep
        raise OpmlError("unsafe", str(exc)) from None
    except (safexml.XMLSyntaxError, ValueError, LookupError) as exc:
        raise OpmlError("not_opml", str(exc)) from None
    if root.tag.lower() != "opml":
        raise OpmlError("not_opml", f"root element is {root.tag!r}")
    outlines: list[OpmlOutline] = []
    invalid: list[str] = []

    def walk(element: Any, theme: str | None) -> None:
        for child in element:
            if not isinstance(child.tag, str) or child.tag.lower() != "outline":
                continue
            raw_url = _attribute(child, "xmlUrl")
            label = _attribute(child, "title") or _attribute(child, "text")
            if raw_url:
                if len(outlines) >= MAX_OUTLINES:
                    return
                try:
                    url = validate_url(raw_url)
                except FetchError:
                    invalid.append(raw_url[:200])
                    continue
                if not allow_private_networks and _local_address(url):
                    invalid.append(raw_url[:200])
                    continue
                category = _attribute(child, "category")
                own_theme = category.split(",")[0].strip(" /") if category else None
                site = _attribute(child, "htmlUrl")
                try:
                    site_url = validate_url(site) if site else None
                except FetchError:
                    site_url = None
                outlines.append(
                    OpmlOutline(
                        url=url,
                        title=clean_text(label, 300) if label else None,
                        theme=clean_text(own_theme or theme or "", 100) or None,
                        site_url=site_url,
                        **_own_attributes(child),
                    )
                )
            walk(child, label if not raw_url and label else theme)

    body = next((c for c in root if isinstance(c.tag, str) and c.tag.lower() == "body"), None)
    walk(body if body is not None else root, None)
    if not outlines and not invalid:
        raise OpmlError("empty", "no feed outline")
    return outlines, invalid


def _own_attributes(element: Any) -> dict[str, Any]:
    """Tisserand's namespaced attributes of an outline (values that do not fit are dropped)."""
    found: dict[str, Any] = {}
    entry_filter = _attribute(element, _NS + "filter")
    if entry_filter and len(entry_filter) <= 500:
        found["filter"] = entry_filter
    interval = _attribute(element, _NS + "interval")
    if interval and interval.isascii() and interval.isdigit() and 15 <= int(interval) <= 10080:
        found["interval_minutes"] = int(interval)
    categories = _attribute(element, _NS + "categories")
    if categories:
        pairs = [pair.strip() for pair in categories.split(";") if "=" in pair]
        found["theme_map"] = "\n".join(clean_text(pair, 201) for pair in pairs[:50]) or None
    return found


def build_opml(sources: Iterable[OpmlSource], *, title: str, now: datetime) -> bytes:
    """OPML 2.0 for ``sources``, grouped by theme (sources without a theme at the top level)."""
    ET.register_namespace("tisserand", NAMESPACE)
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(now, usegmt=True)
    body = ET.SubElement(root, "body")
    by_theme: dict[str, list[OpmlSource]] = {}
    seen: set[str] = set()
    for source in sorted(sources, key=lambda s: ((s.theme or "").casefold(), s.id)):
        if source.canonical in seen:
            continue
        seen.add(source.canonical)
        by_theme.setdefault(source.theme or "", []).append(source)
    for theme, members in by_theme.items():
        parent = body if not theme else ET.SubElement(body, "outline", text=theme, title=theme)
        for source in members:
            attributes = {
                "type": "rss",
                "text": source.title or source.url,
                "title": source.title or source.url,
                "xmlUrl": source.url,
            }
            if source.site_url:
                attributes["htmlUrl"] = source.site_url
            if theme:
                attributes["category"] = theme
            if source.filter:
                attributes[_NS + "filter"] = source.filter
            if source.interval_minutes:
                attributes[_NS + "interval"] = str(source.interval_minutes)
            if source.theme_map:
                attributes[_NS + "categories"] = ";".join(source.theme_map.splitlines())
            ET.SubElement(parent, "outline", attributes)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"
