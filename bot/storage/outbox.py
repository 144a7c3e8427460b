"""The outbox table: durable outbound messages, one row per idempotency key."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    """Claimed by a sender until ``lease_until``; if that sender dies or hangs, another takes
    the row after the lease and sends it again with the same platform token."""
    SENT = "sent"
    SKIPPED = "skipped"
    """Missed by more than the grace period while the bot was down: recorded, not sent."""
    FAILED = "failed"


class OutboxMessage(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    platform: Mapped[str] = mapped_column(String(32))
    target_kind: Mapped[str] = mapped_column(String(16))
    """``place`` or ``direct``."""
    target_id: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING, index=True)
    due_at: Mapped[datetime] = mapped_column(index=True)
    next_attempt_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    platform_message_id: Mapped[str | None] = mapped_column(String(128), default=None)
    platform_channel_id: Mapped[str | None] = mapped_column(String(128), default=None)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    claimed_by: Mapped[str | None] = mapped_column(String(100), default=None)
    """The sender that claimed the row last (``Sender.claimer``: host, process, random part);
    with ``attempts``, it names the claim, and only that claim may record the result."""
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    """While ``sending``: until when the claim holds (no other sender takes the row before);
    NULL in every other status."""
