"""OPML import and export of a channel's feed sources, against the database.

Imported sources are not fetched one by one on the spot: they are due at once and the next
refresh validates them (a bad one gets its error recorded like any source). Reading and writing
the documents is :mod:`digests.opml`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.veille import FeedSource
from commands.veille.digest import find_channel
from commands.veille.refresh import RefreshHost
from digests.opml import OpmlOutline, build_opml, parse_opml
from digests.urls import canonical_url

__all__ = [
    "ImportReport",
    "add_source_row",
    "export_opml",
    "import_opml",
    "import_outlines",
]


@dataclass(slots=True)
class ImportReport:
    added: list[int] = field(default_factory=list)
    """Ids of the sources created (or enabled again)."""
    duplicates: int = 0
    invalid: list[str] = field(default_factory=list)
    """Addresses that are not http(s) URLs."""


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
    outlines, invalid = parse_opml(data)
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
