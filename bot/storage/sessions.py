"""Sessions members register for: capacity, waitlist, quotas per category, attendance.

Invariants held by the database itself (see ``commands/sessions/`` for how they are used):

- ``capacity >= 1`` and ``0 <= confirmed <= capacity`` (check constraints): ``confirmed`` is the
  seat counter, moved only by conditional UPDATEs (``... WHERE confirmed < capacity``);
- one registration per member and session (unique constraint); a member who unregisters and
  registers again reuses the row;
- ``last_arrival`` is the per-session sequence handed out, under the session row's lock, to each
  registration as its ``arrival``: the waitlist is ordered by it;
- the same for quotas per member category (``session_quotas``): ``confirmed <= capacity``;
- reminders are not rows of their own: they are derived from confirmed registrations when they
  fall due, and ``sessions.reminded_through`` records how far that went.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base


class SessionKind(enum.StrEnum):
    WEBINAR = "webinaire"
    PLENARY = "pleniere"
    MEETING = "rencontre"
    TRAINING = "formation"
    VISIT = "visite"


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class SessionStage(enum.IntEnum):
    """How far the follow-up of a session went (check-in, closing, feedback)."""

    PLANNED = 0
    CHECKIN_OPEN = 1
    CHECKIN_CLOSED = 2
    FEEDBACK_SENT = 3


class RegistrationStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    WALK_IN = "walk_in"
    """Not registered, but recorded as present by a coordinator (takes no seat)."""


class SessionRow(Base):
    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint("capacity >= 1", name="capacity_positive"),
        CheckConstraint("confirmed >= 0 AND confirmed <= capacity", name="confirmed_within"),
        Index("ix_sessions_status_starts_at", "status", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(200), unique=True)
    """The iCalendar UID, fixed at creation (``session-12@network.tisserand``)."""
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text, default=None)
    location: Mapped[str | None] = mapped_column(String(300), default=None)
    link: Mapped[str | None] = mapped_column(String(500), default=None)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    registration_deadline: Mapped[datetime | None] = mapped_column(default=None)
    capacity: Mapped[int] = mapped_column(Integer)
    confirmed: Mapped[int] = mapped_column(Integer, default=0)
    last_arrival: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=SessionStatus.SCHEDULED)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    """iCalendar SEQUENCE: raised by every change registrants are told about."""
    stage: Mapped[int] = mapped_column(Integer, default=SessionStage.PLANNED)
    reminded_through: Mapped[datetime | None] = mapped_column(default=None)
    """Reminders are materialised up to this moment: the reminder ``h`` hours before the start
    is done (written to the outbox, or too late) when ``starts_at - h <= reminded_through``;
    None while none is (see ``commands.sessions.remind_due``)."""
    platform: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(128))
    """Where the session was announced (check-in is posted there too)."""
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Raised by every change the announcement shows (seats, waiting list, quotas, status)."""
    rendered_revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """The revision the announcement shows; it is edited while the two differ."""
    rendered_at: Mapped[datetime | None] = mapped_column(default=None)
    """When the announcement was last edited (edits are throttled); None: never."""
    edit_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SessionQuota(Base):
    """At most ``capacity`` confirmed seats for members of ``category`` in one session."""

    __tablename__ = "session_quotas"
    __table_args__ = (
        UniqueConstraint("session_id", "category"),
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("confirmed >= 0 AND confirmed <= capacity", name="confirmed_within"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(32))
    capacity: Mapped[int] = mapped_column(Integer)
    confirmed: Mapped[int] = mapped_column(Integer, default=0)


class Registration(Base):
    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("session_id", "member_id"),
        Index("ix_registrations_waitlist", "session_id", "status", "arrival"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    arrival: Mapped[int] = mapped_column(Integer)
    """The session's ``last_arrival`` handed out when this registration was (last) made."""
    category: Mapped[str | None] = mapped_column(String(32), default=None)
    """The member's category when the seat was taken: the quota it counts against."""
    registered_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    attended_at: Mapped[datetime | None] = mapped_column(default=None)
    feedback: Mapped[str | None] = mapped_column(String(16), default=None)
