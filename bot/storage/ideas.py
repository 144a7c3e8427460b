"""The ideas box: members' proposals, their supports (one per member and idea) and the status
coordinators give them (with an answer the author is told)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base

MAX_IDEA = 1000
MAX_RESPONSE = 1000


class IdeaStatus(enum.StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    """« retenue »"""
    IN_PROGRESS = "in_progress"
    """« en cours »"""
    DONE = "done"
    """« réalisée »"""
    DECLINED = "declined"
    """« écartée »"""


class Idea(Base):
    __tablename__ = "ideas"
    __table_args__ = (
        CheckConstraint(
            "status IN ('proposed', 'accepted', 'in_progress', 'done', 'declined')",
            name="status_known",
        ),
        CheckConstraint("supports >= 0", name="supports_not_negative"),
        Index("ix_ideas_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    """The idea's number, shown as ``n° 12``."""
    author_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text)
    platform: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(128))
    """Where it was proposed (and posted with its button)."""
    status: Mapped[str] = mapped_column(String(16), default=IdeaStatus.PROPOSED)
    response: Mapped[str | None] = mapped_column(Text, default=None)
    """The coordinators' answer given with the latest status."""
    status_changes: Mapped[int] = mapped_column(Integer, default=0)
    """How many times the status was set: the outbox key of the author's notice."""
    status_at: Mapped[datetime | None] = mapped_column(default=None)
    supports: Mapped[int] = mapped_column(Integer, default=0)
    """The number of rows in ``idea_supports`` (kept with them in one transaction)."""
    theme: Mapped[str | None] = mapped_column(String(100), default=None)
    """One of the network's themes (``--theme``), as the network spells it; its referents are
    told of the idea in their daily message."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class IdeaSupport(Base):
    """One member supports one idea (the primary key: one support per member)."""

    __tablename__ = "idea_supports"

    idea_id: Mapped[int] = mapped_column(
        ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime]
