"""Highlights (remarkable messages and moments), the authors' consent, and the gazettes.

- :class:`Highlight`: one remarkable message or moment. The same platform message is one
  highlight (unique ``platform, channel_id, message_id``; typed texts have no message id).
- :class:`HighlightImage`: images kept with a highlight (bytes checked when they came in).
- :class:`HighlightVote`: a member proposed a message with the gazette reaction; the message is
  recorded when enough distinct members did (or one coordinator).
- :class:`RecentMessage`: what was said in channels during the last hours, so that a command can
  point at a message by its number or link (bounded in time by configuration).
- :class:`ConsentPreference`: a member's "never ask me" (not on ``members``).
- :class:`Gazette` and :class:`GazetteItem`: the draft being edited and the published archive.

``session_id`` on highlights and gazettes is a plain integer, not a foreign key: the sessions
module is optional for the gazette.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.storage.base import Base


class Consent(enum.StrEnum):
    """What the author said about publishing a highlight."""

    PENDING = "pending"
    """Asked (or about to be), no answer yet: not published."""
    YES = "yes"
    ANON = "anon"
    """Yes, without the author's name."""
    NO = "no"
    WITHDRAWN = "withdrawn"
    """Was yes (or anonymous), then withdrawn: out of later gazettes and rebuilt archives."""
    NEVER_ASK = "never"
    """The author asked never to be asked: treated as no."""


PUBLISHABLE = (Consent.YES, Consent.ANON)


class HighlightSource(enum.StrEnum):
    COMMAND = "command"
    REACTION = "reaction"
    MENU = "menu"


class Highlight(Base):
    __tablename__ = "highlights"
    __table_args__ = (UniqueConstraint("platform", "channel_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str | None] = mapped_column(String(128), default=None)
    channel_name: Mapped[str | None] = mapped_column(String(200), default=None)
    message_id: Mapped[str | None] = mapped_column(String(128), default=None)
    """The platform's message id; None for a typed text."""
    link: Mapped[str | None] = mapped_column(String(1000), default=None)
    quote: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), default=None)
    author_name: Mapped[str] = mapped_column(String(200))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), default=None)
    source: Mapped[str] = mapped_column(String(16))
    themes: Mapped[list[str]] = mapped_column(JSON, default=list)
    session_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    said_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime]
    consent: Mapped[str] = mapped_column(String(16), default=Consent.PENDING, index=True)
    consent_asked_at: Mapped[datetime | None] = mapped_column(default=None)
    consent_at: Mapped[datetime | None] = mapped_column(default=None)
    """When the author last answered (or withdrew)."""

    images: Mapped[list[HighlightImage]] = relationship(
        back_populates="highlight",
        cascade="all, delete-orphan",
        order_by="HighlightImage.position",
        lazy="selectin",
    )


class HighlightImage(Base):
    __tablename__ = "highlight_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    highlight_id: Mapped[int] = mapped_column(
        ForeignKey("highlights.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(32))
    """Read from the bytes themselves (magic numbers), never from a header."""
    data: Mapped[bytes] = mapped_column(LargeBinary)
    source_url: Mapped[str | None] = mapped_column(String(2000), default=None)
    filename: Mapped[str | None] = mapped_column(String(200), default=None)

    highlight: Mapped[Highlight] = relationship(back_populates="images")


class HighlightVote(Base):
    __tablename__ = "highlight_votes"
    __table_args__ = (UniqueConstraint("platform", "channel_id", "message_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[str] = mapped_column(String(128))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]


class RecentMessage(Base):
    __tablename__ = "highlight_recent_messages"
    __table_args__ = (UniqueConstraint("platform", "channel_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(128))
    channel_name: Mapped[str] = mapped_column(String(200))
    message_id: Mapped[str] = mapped_column(String(128), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    said_at: Mapped[datetime] = mapped_column(index=True)


class ConsentPreference(Base):
    __tablename__ = "consent_preferences"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    never_ask: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime]


class GazetteStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class ItemKind(enum.StrEnum):
    HIGHLIGHT = "highlight"
    SESSION = "session"
    POLL = "poll"
    VEILLE = "veille"
    NEWCOMER = "newcomer"


class Gazette(Base):
    __tablename__ = "gazettes"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default=GazetteStatus.DRAFT, index=True)
    since: Mapped[datetime]
    until: Mapped[datetime]
    session_id: Mapped[int | None] = mapped_column(Integer, default=None)
    include_published: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """A review (``--tout``): also shows what earlier gazettes already published."""
    editorial: Mapped[str | None] = mapped_column(Text, default=None)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    platform: Mapped[str | None] = mapped_column(String(32), default=None)
    channel_id: Mapped[str | None] = mapped_column(String(128), default=None)
    html: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    """The archived file, as published (or as last rebuilt)."""
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    """The same gazette as an A4 PDF, when ``[gazette] pdf`` is on (rebuilt with the HTML)."""
    rebuilt_at: Mapped[datetime | None] = mapped_column(default=None)
    published_items: Mapped[int] = mapped_column(Integer, default=0)

    items: Mapped[list[GazetteItem]] = relationship(
        back_populates="gazette",
        cascade="all, delete-orphan",
        order_by="GazetteItem.position",
        lazy="selectin",
    )


class GazetteItem(Base):
    __tablename__ = "gazette_items"
    __table_args__ = (UniqueConstraint("gazette_id", "kind", "ref_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gazette_id: Mapped[int] = mapped_column(
        ForeignKey("gazettes.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    ref_id: Mapped[int] = mapped_column(Integer)
    """The highlight, session, poll, veille entry or member it shows."""
    position: Mapped[int] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """The item's number in the draft list: given once, kept across refreshes and moves."""
    dropped: Mapped[bool] = mapped_column(Boolean, default=False)

    gazette: Mapped[Gazette] = relationship(back_populates="items")
