"""Email: the people who receive Tisserand's deliverables by email, the bodies shared by a
mailing, and the journal of messages handed to the SMTP server (exactly once across crashes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base


class EmailSubscriber(Base):
    """One address: a member's (``/profile email``) or someone a coordinator added."""

    __tablename__ = "email_subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(320), unique=True)
    """Normalised by email-validator (the domain in lower case, IDNA)."""
    name: Mapped[str] = mapped_column(String(200), default="")
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), unique=True, default=None
    )
    """The member who gave this address from the chat; None for people outside the chat."""
    locale: Mapped[str | None] = mapped_column(String(8), default=None)
    category: Mapped[str | None] = mapped_column(String(32), default=None)
    wants_digest: Mapped[bool] = mapped_column(Boolean, default=True)
    wants_gazette: Mapped[bool] = mapped_column(Boolean, default=True)
    wants_sessions: Mapped[bool] = mapped_column(Boolean, default=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(default=None)
    """None: only the confirmation code may be sent to this address."""
    basis: Mapped[str] = mapped_column(Text, default="")
    """Why we may write to this address: who gave it, when, how (kept for the record)."""
    added_by: Mapped[str | None] = mapped_column(String(200), default=None)
    code_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    code_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    code_attempts: Mapped[int] = mapped_column(Integer, default=0)
    codes_sent: Mapped[int] = mapped_column(Integer, default=0)
    unsubscribe_token: Mapped[str] = mapped_column(String(64), unique=True)
    bounces: Mapped[int] = mapped_column(Integer, default=0)
    """Permanent refusals in a row (reset by a delivery)."""
    disabled_at: Mapped[datetime | None] = mapped_column(default=None)
    disabled_reason: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class EmailBody(Base):
    """What one mailing says, shared by all its recipients (their outbox rows name it)."""

    __tablename__ = "email_bodies"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    """``code``, ``welcome``, ``notice`` (sent to anyone known), ``digest``, ``gazette``,
    ``session`` (sent to confirmed, enabled addresses only)."""
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text, default=None)
    """With its CSS already inlined."""
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """``{"filename", "media_type", "data" (base64), "method" (calendar parts)}``."""
    list_id: Mapped[str | None] = mapped_column(String(200), default=None)
    """Set for list mail: adds ``List-Id`` and ``List-Unsubscribe``."""
    recipient: Mapped[str | None] = mapped_column(String(320), default=None)
    """For a notice that outlives its subscriber (the confirmation of a removal): where it
    goes when the subscriber is gone."""
    created_at: Mapped[datetime]


class EmailJournal(Base):
    """A message about to be handed to the SMTP server (written and committed before DATA).

    A sender that finds its token here after a crash does not send again: the server most
    probably accepted the message (see ``docs/email.md``)."""

    __tablename__ = "email_journal"

    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(320))
    message_id: Mapped[str] = mapped_column(String(300))
    handed_at: Mapped[datetime]
