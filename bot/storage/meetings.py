"""Rounds of meetings (``/rencontres``): who takes part, when rounds are held, who met whom.

A round introduces every member of the pool who is not paused to one partner (two in a trio).
``meeting_groups`` keeps one row per member and round: the members of one group share
``(round_id, group_no)``; the check-in answer a week later is stored on the member's row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base

ANSWER_MET = "met"
ANSWER_PLANNED = "planned"
ANSWER_NOT_MET = "not_met"
ANSWERS = (ANSWER_MET, ANSWER_PLANNED, ANSWER_NOT_MET)


class MeetingParticipant(Base):
    """A member who joined the rounds (``/meet join``); leaving deletes the row."""

    __tablename__ = "meeting_participants"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    platform: Mapped[str] = mapped_column(String(32), index=True)
    joined_at: Mapped[datetime]
    paused_until: Mapped[datetime | None] = mapped_column(default=None)
    """No round before this moment (``/rencontres pause``)."""


class MeetingSchedule(Base):
    """When the rounds of a platform are held: the next one, then every ``every_weeks`` weeks."""

    __tablename__ = "meeting_schedules"
    __table_args__ = (UniqueConstraint("platform"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    next_at: Mapped[datetime]
    every_weeks: Mapped[int] = mapped_column(Integer, default=2)
    fallback_channel_id: Mapped[str | None] = mapped_column(String(128), default=None)
    """Where a member whose direct messages are closed is told (the channel it was set in)."""
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    updated_at: Mapped[datetime]


class MeetingRound(Base):
    __tablename__ = "meeting_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    held_at: Mapped[datetime]
    seed: Mapped[int] = mapped_column(Integer)
    checkin_at: Mapped[datetime] = mapped_column(index=True)
    checkin_sent: Mapped[bool] = mapped_column(default=False)


class MeetingGroupMember(Base):
    __tablename__ = "meeting_groups"
    __table_args__ = (UniqueConstraint("round_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("meeting_rounds.id", ondelete="CASCADE"), index=True
    )
    group_no: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    answer: Mapped[str | None] = mapped_column(String(16), default=None)
    """The check-in: ``met``, ``planned`` or ``not_met``; None while unanswered."""
    answered_at: Mapped[datetime | None] = mapped_column(default=None)


__all__ = [
    "ANSWERS",
    "ANSWER_MET",
    "ANSWER_NOT_MET",
    "ANSWER_PLANNED",
    "MeetingGroupMember",
    "MeetingParticipant",
    "MeetingRound",
    "MeetingSchedule",
]
