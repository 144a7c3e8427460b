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

from bot.core import NotFound
from bot.storage.veille import FeedSource
from commands.veille.refresh import RefreshHost
from commands.veille.store import add_source_row, find_channel
from digests.feeds import FeedParseError, compile_filter
from digests.opml import OpmlOutline, build_opml, parse_opml

__all__ = [
    "ImportReport",
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
            entry_filter=_usable_filter(outline.filter),
        )
        if created:
            if outline.interval_minutes:
                source.interval_minutes = outline.interval_minutes
            if outline.theme_map:
                source.theme_map = outline.theme_map
            report.added.append(source.id)
        else:
            report.duplicates += 1
    return report


def _usable_filter(text: str | None) -> str | None:
    """An imported filter, when it compiles like one typed in /veille ajouter (else none)."""
    if not text:
        return None
    try:
        compile_filter(text)
    except FeedParseError:
        return None
    return text


def _channel(db: Session, channel: str, platform: str | None) -> tuple[str, str]:
    found = find_channel(db, channel, platform)
    if found is not None:
        return found
    if platform is not None:
        return platform, channel.lstrip("#")
    raise NotFound(channel)


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
