"""The veille: feed sources, their entries and members' shares, digest schedules and archives.

A source belongs to the channel where it was added: that channel's digest gathers the entries of
its sources and the links members shared there. Entries are stored once per source (duplicates
within a feed are never stored); duplicates across feeds are removed when a digest is built, by
canonical URL (``link_hash``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base

ENTRY_FEED = "feed"
ENTRY_SHARE = "share"


class FeedSource(Base):
    """A feed watched for one channel."""

    __tablename__ = "feed_sources"
    __table_args__ = (UniqueConstraint("platform", "channel_id", "canonical"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(128))
    url: Mapped[str] = mapped_column(String(2000))
    """Where the feed is fetched (updated after a permanent redirect)."""
    canonical: Mapped[str] = mapped_column(String(2000))
    """``canonical_url(url)``: recognises the same source under another spelling."""
    title: Mapped[str | None] = mapped_column(String(300), default=None)
    site_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    theme: Mapped[str | None] = mapped_column(String(100), default=None)
    filter: Mapped[str | None] = mapped_column(String(500), default=None)
    theme_map: Mapped[str | None] = mapped_column(Text, default=None)
    """The source's own categories mapped to network themes, one ``category=Theme`` per line
    (categories compared folded); an entry with a mapped category takes that theme."""
    """Only entries matching it are kept: words separated by ``|`` or ``re:<regex>``."""
    added_by: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    interval_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    """Refresh interval of this source; None follows ``[feeds] refresh_minutes``."""
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    """``gone`` (410) or ``failures`` (too many consecutive failures)."""
    etag: Mapped[str | None] = mapped_column(String(500), default=None)
    last_modified: Mapped[str | None] = mapped_column(String(100), default=None)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    """Consecutive failures; 0 after a success."""
    last_error: Mapped[str | None] = mapped_column(String(100), default=None)
    """Machine-readable: a fetch error kind (``http_status:500``), ``not_a_feed``, ``parse``..."""
    last_error_at: Mapped[datetime | None] = mapped_column(default=None)
    last_fetched_at: Mapped[datetime | None] = mapped_column(default=None)
    last_success_at: Mapped[datetime | None] = mapped_column(default=None)
    next_fetch_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime]


class FeedEntry(Base):
    """An item of a source, or a link shared by a member (``kind`` tells which)."""

    __tablename__ = "feed_entries"
    __table_args__ = (
        UniqueConstraint("source_id", "entry_key"),
        Index("ix_feed_entries_channel_pending", "platform", "channel_id", "digest_id"),
        Index("ix_feed_entries_source_link", "source_id", "link_hash"),
        Index("ix_feed_entries_source_content", "source_id", "content_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    platform: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(128))
    source_id: Mapped[int | None] = mapped_column(
        ForeignKey("feed_sources.id", ondelete="CASCADE"), default=None
    )
    entry_key: Mapped[str] = mapped_column(String(64))
    """sha256 of the entry's id (or link, or content): unique within a source."""
    link: Mapped[str | None] = mapped_column(String(2000), default=None)
    link_hash: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    """sha256 of ``canonical_url(link)``: duplicates across feeds share it."""
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500))
    """Plain text, sanitised (no markup, mass mentions neutralised)."""
    summary: Mapped[str] = mapped_column(Text, default="")
    """Plain-text excerpt for chat."""
    summary_html: Mapped[str] = mapped_column(Text, default="")
    """HTML sanitised with nh3 for the HTML digest."""
    author: Mapped[str | None] = mapped_column(String(200), default=None)
    theme: Mapped[str | None] = mapped_column(String(100), default=None)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(index=True)
    shared_by: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    comment: Mapped[str | None] = mapped_column(Text, default=None)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    dropped: Mapped[bool] = mapped_column(Boolean, default=False)
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("digests.id", ondelete="SET NULL"), default=None
    )
    """The digest that considered this entry; None while it waits for the next one."""


class DigestSchedule(Base):
    """When a channel receives its digest (local time of the network)."""

    __tablename__ = "digest_schedules"
    __table_args__ = (UniqueConstraint("platform", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(128))
    channel_name: Mapped[str] = mapped_column(String(200))
    weekday: Mapped[int] = mapped_column(Integer)
    """0 is Monday."""
    hour: Mapped[int] = mapped_column(Integer)
    minute: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    updated_at: Mapped[datetime]


class DigestArchive(Base):
    """One digest per channel and period (ISO week), sent or found empty."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("platform", "channel_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(128))
    period: Mapped[str] = mapped_column(String(16))
    """``2026-W48``: the ISO week of the scheduled time."""
    slot_at: Mapped[datetime]
    """The scheduled time this digest was built for."""
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    outbox_key: Mapped[str | None] = mapped_column(String(200), default=None)
    """None when nothing was posted (an empty week with ``empty_digest = "skip"``)."""
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class FeedProposal(Base):
    """A feed found on an HTML page, offered as a choice to the coordinator who asked."""

    __tablename__ = "feed_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(128))
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), default=None
    )
    url: Mapped[str] = mapped_column(String(2000))
    title: Mapped[str | None] = mapped_column(String(300), default=None)
    theme: Mapped[str | None] = mapped_column(String(100), default=None)
    filter: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime]
