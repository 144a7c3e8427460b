"""OPML import and export of feed sources.

Import reads ``<outline xmlUrl="...">`` elements at any depth; a source's theme is the outline's
``category`` attribute, else the ``text`` of the outline that contains it. Documents with a DTD or
entity declarations are refused (no entity expansion at all), and so are documents over
:data:`MAX_OPML_BYTES`. Imported sources are not fetched one by one on the spot: they are due at
once and the next refresh validates them (a bad one gets its error recorded like any source).

Export writes OPML 2.0, grouped by theme, in a stable order.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Literal
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import TisserandError
from bot.storage.veille import FeedSource
from digests.feeds import clean_text
from digests.refresh import RefreshHost
from digests.urls import FetchError, canonical_url, host_address, validate_url

__all__ = [
    "ImportReport",
    "OpmlError",
    "OpmlOutline",
    "add_source_row",
    "build_opml",
    "export_opml",
    "import_opml",
    "import_outlines",
    "parse_opml",
]

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


@dataclass(slots=True)
class ImportReport:
    added: list[int] = field(default_factory=list)
    """Ids of the sources created (or enabled again)."""
    duplicates: int = 0
    invalid: list[str] = field(default_factory=list)
    """Addresses that are not http(s) URLs."""


def _attribute(element: ET.Element, name: str) -> str | None:
    wanted = name.lower()
    for key, value in element.attrib.items():
        if key.lower() == wanted and value.strip():
            return value.strip()
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
    head = data[:8192].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise OpmlError("unsafe", "DTD or entity declarations")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise OpmlError("not_opml", str(exc)) from None
    if root.tag.lower() != "opml":
        raise OpmlError("not_opml", f"root element is {root.tag!r}")
    outlines: list[OpmlOutline] = []
    invalid: list[str] = []

    def walk(element: ET.Element, theme: str | None) -> None:
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
                    )
                )
            walk(child, label if not raw_url and label else theme)

    body = next((c for c in root if isinstance(c.tag, str) and c.tag.lower() == "body"), None)
    walk(body if body is not None else root, None)
    if not outlines and not invalid:
        raise OpmlError("empty", "no feed outline")
    return outlines, invalid


def add_source_row(
    db: Session,
    *,
    platform: str,
    channel_id: str,
    url: str,
    now: datetime,
    title: str | None = None,
    theme: str | None = None,
    entry_filter: str | None = None,
    added_by: int | None = None,
    site_url: str | None = None,
) -> tuple[FeedSource, bool]:
    """The source for ``url`` in this channel: ``(source, True)`` when it was created or enabled
    again, ``(existing source, False)`` when it was already there and enabled."""
    canonical = canonical_url(url)
    existing = db.scalars(
        select(FeedSource).where(
            FeedSource.platform == platform,
            FeedSource.channel_id == channel_id,
            FeedSource.canonical == canonical,
        )
    ).one_or_none()
    if existing is not None:
        if existing.enabled:
            return existing, False
        existing.enabled = True
        existing.disabled_reason = None
        existing.failures = 0
        existing.last_error = None
        existing.url = url
        existing.next_fetch_at = now
        existing.theme = theme or existing.theme
        existing.filter = entry_filter or existing.filter
        existing.added_by = added_by or existing.added_by
        return existing, True
    source = FeedSource(
        platform=platform,
        channel_id=channel_id,
        url=url,
        canonical=canonical[:2000],
        title=title,
        site_url=site_url,
        theme=theme,
        filter=entry_filter,
        added_by=added_by,
        enabled=True,
        failures=0,
        next_fetch_at=now,
        created_at=now,
    )
    db.add(source)
    db.flush()
    return source, True


def import_outlines(
    db: Session,
    outlines: Iterable[OpmlOutline],
    *,
    platform: str,
    channel_id: str,
    now: datetime,
    added_by: int | None = None,
) -> ImportReport:
    report = ImportReport()
    for outline in outlines:
        source, created = add_source_row(
            db,
            platform=platform,
            channel_id=channel_id,
            url=outline.url,
            now=now,
            title=outline.title,
            theme=outline.theme,
            added_by=added_by,
            site_url=outline.site_url,
        )
        if created:
            report.added.append(source.id)
        else:
            report.duplicates += 1
    return report


def _channel(db: Session, channel: str, platform: str | None) -> tuple[str, str]:
    from digests.digest import find_channel

    found = find_channel(db, channel, platform)
    if found is not None:
        return found
    if platform is not None:
        return platform, channel.lstrip("#")
    raise LookupError(channel)


def import_opml(
    host: RefreshHost,
    data: bytes,
    *,
    channel: str,
    platform: str | None = None,
    added_by: int | None = None,
) -> ImportReport:
    """Import an OPML document into a channel's sources (the CLI's ``veille import``).

    ``channel`` is a name or id the bot has seen (``#veille``); with ``platform`` an unseen
    channel id is accepted as given. Raises :class:`OpmlError`, or LookupError for an unknown
    channel. The new sources are due at once: the next refresh fetches them.
    """
    outlines, invalid = parse_opml(
        data, allow_private_networks=host.settings.feeds.allow_private_networks
    )
    with host.sessions.begin() as db:
        platform_name, channel_id = _channel(db, channel, platform)
        report = import_outlines(
            db,
            outlines,
            platform=platform_name,
            channel_id=channel_id,
            now=host.clock.now(),
            added_by=added_by,
        )
    report.invalid = invalid
    return report


def build_opml(sources: Iterable[FeedSource], *, title: str, now: datetime) -> bytes:
    """OPML 2.0 for ``sources``, grouped by theme (sources without a theme at the top level)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(now, usegmt=True)
    body = ET.SubElement(root, "body")
    by_theme: dict[str, list[FeedSource]] = {}
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
            ET.SubElement(parent, "outline", attributes)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def export_opml(
    host: RefreshHost,
    *,
    channel: str | None = None,
    platform: str | None = None,
    title: str | None = None,
) -> bytes:
    """OPML of the sources of one channel, or of every channel when ``channel`` is None (the
    CLI's ``veille export``). Raises LookupError for an unknown channel."""
    with host.sessions() as db:
        query = select(FeedSource)
        if channel is not None:
            platform_name, channel_id = _channel(db, channel, platform)
            query = query.where(
                FeedSource.platform == platform_name, FeedSource.channel_id == channel_id
            )
        elif platform is not None:
            query = query.where(FeedSource.platform == platform)
        sources = list(db.scalars(query))
        return build_opml(sources, title=title or host.settings.network.name, now=host.clock.now())
