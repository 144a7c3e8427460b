"""Polls: the poll, its options, and ballots (named or anonymous).

A ballot's content is one short string whose format depends on the poll's mode (see
``commands/polls.py``): ``"0,3"`` (chosen option indexes) for single and multiple choice, one
character per option for majority judgment (grade index, ``-`` when ungraded) and date polls
(``y``, ``m`` for "if need be", ``n``, ``-`` when unanswered). A withdrawn vote is a deleted row.

Named ballots (:class:`PollBallot`) are keyed by (poll, member): the primary key is the database's
"one vote per voter and poll".

Anonymous ballots (:class:`PollAnonymousBallot`) have no member column and no timestamp: their key
is an HMAC of (poll, member) under a server secret kept outside the database, so the key still
gives one ballot per member and lets a member change their vote, but the database alone cannot say
whose ballot it is. The tables are ``WITHOUT ROWID`` on SQLite (rows are stored in key order, with
no hidden insertion order). When an anonymous poll closes, its ballots are *sealed*: re-keyed with
random keys, and the voters' HMAC keys moved to :class:`PollSealedVoter` (who voted, without what),
so that after the close not even the holder of the secret can link a ballot to a member.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.storage.base import Base

MAX_QUESTION = 300
MAX_OPTION = 80
"""Discord's limit for a button label."""
MIN_OPTIONS = 2
MAX_OPTIONS = 20
CONTENT_LENGTH = 64


class PollMode(enum.StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    JUDGMENT = "judgment"
    """Majority judgment: every option gets a grade."""
    DATES = "dates"
    """Date finding: every slot gets yes / if need be / no."""


class Poll(Base):
    __tablename__ = "polls"
    __table_args__ = (
        CheckConstraint(
            f"n_options BETWEEN {MIN_OPTIONS} AND {MAX_OPTIONS}", name="n_options_range"
        ),
        CheckConstraint("mode IN ('single', 'multiple', 'judgment', 'dates')", name="mode_known"),
        CheckConstraint("max_choices IS NULL OR max_choices >= 1", name="max_choices_positive"),
        Index("ix_polls_place_id_closed_at", "place_id", "closed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    """The poll's number, shown as ``n° 12``."""
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id"))
    creator_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    question: Mapped[str] = mapped_column(String(MAX_QUESTION))
    mode: Mapped[str] = mapped_column(String(16))
    n_options: Mapped[int] = mapped_column(Integer)
    max_choices: Mapped[int | None] = mapped_column(Integer, default=None)
    """Multiple choice: at most this many options per ballot (None: no limit)."""
    scale_size: Mapped[int | None] = mapped_column(Integer, default=None)
    """Majority judgment: the number of grades (5 to 7), fixed when the poll is created."""
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden_results: Mapped[bool] = mapped_column(Boolean, default=False)
    ungraded_worst: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Majority judgment: an option a voter leaves ungraded counts as the lowest grade (the poll
    says so on its message); otherwise it is judged by those who graded it."""
    deadline: Mapped[datetime | None] = mapped_column(default=None, index=True)
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    """None while the poll is open."""
    close_count: Mapped[int] = mapped_column(Integer, default=0)
    """How many times the poll closed (a reopened poll posts its results again when it closes)."""
    revision: Mapped[int] = mapped_column(Integer, default=0)
    """Bumped by every change shown on the poll message (votes, close, reopen)."""
    rendered_revision: Mapped[int] = mapped_column(Integer, default=0)
    """The revision the poll message shows; the message is stale while it differs."""
    rendered_at: Mapped[datetime]
    """When the poll message was last posted or edited (edits are throttled from it)."""
    edit_failures: Mapped[int] = mapped_column(Integer, default=0)

    options: Mapped[list[PollOption]] = relationship(
        order_by="PollOption.position",
        lazy="selectin",
        cascade="all, delete-orphan",
        back_populates="poll",
    )

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class PollOption(Base):
    __tablename__ = "poll_options"

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    """0-based; people see position + 1."""
    label: Mapped[str] = mapped_column(String(MAX_OPTION))
    starts_at: Mapped[datetime | None] = mapped_column(default=None)
    """Date polls: the start of the slot (UTC)."""
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    """Date polls: the slot is a whole day (typed without a time); ``starts_at`` is its start."""

    poll: Mapped[Poll] = relationship(back_populates="options")


class PollBallot(Base):
    """A named ballot: one per (poll, member), enforced by the primary key."""

    __tablename__ = "poll_ballots"

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    content: Mapped[str] = mapped_column(String(CONTENT_LENGTH))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PollAnonymousBallot(Base):
    """An anonymous ballot: no member, no timestamp; one per (poll, voter key)."""

    __tablename__ = "poll_anonymous_ballots"
    __table_args__ = ({"sqlite_with_rowid": False},)

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True
    )
    voter_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    """HMAC-SHA256(secret, "poll:member") in hex while open; random once sealed."""
    content: Mapped[str] = mapped_column(String(CONTENT_LENGTH))
    sealed: Mapped[bool] = mapped_column(Boolean, default=False)


class PollSealedVoter(Base):
    """Who voted on a sealed anonymous poll (their HMAC key), without what they voted."""

    __tablename__ = "poll_sealed_voters"
    __table_args__ = ({"sqlite_with_rowid": False},)

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True
    )
    voter_key: Mapped[str] = mapped_column(String(64), primary_key=True)


@dataclass(frozen=True, slots=True)
class OptionView:
    """An option as a vote reads it (see :class:`PollView`)."""

    position: int
    label: str
    starts_at: datetime | None
    all_day: bool


@dataclass(frozen=True, slots=True)
class PollView:
    """A poll as a vote reads it, without the ORM.

    What never changes once a poll is created (question, mode, options...) is read once per
    process and kept (``commands.polls.poll_definition``); the state a vote needs (deadline,
    closings, when the message was last edited) comes from the vote's own ``UPDATE ...
    RETURNING`` (:meth:`with_state`). Loading the ORM poll and its options for every vote cost
    a round trip and more Python time than the vote itself."""

    id: int
    place_id: int
    creator_id: int
    question: str
    mode: str
    n_options: int
    max_choices: int | None
    scale_size: int | None
    anonymous: bool
    hidden_results: bool
    ungraded_worst: bool
    created_at: datetime
    options: tuple[OptionView, ...]
    deadline: datetime | None
    closed_at: datetime | None
    close_count: int
    rendered_at: datetime
    edit_failures: int

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @classmethod
    def of(cls, poll: Poll) -> PollView:
        return cls(
            id=poll.id,
            place_id=poll.place_id,
            creator_id=poll.creator_id,
            question=poll.question,
            mode=poll.mode,
            n_options=poll.n_options,
            max_choices=poll.max_choices,
            scale_size=poll.scale_size,
            anonymous=poll.anonymous,
            hidden_results=poll.hidden_results,
            ungraded_worst=poll.ungraded_worst,
            created_at=poll.created_at,
            options=tuple(
                OptionView(o.position, o.label, o.starts_at, o.all_day) for o in poll.options
            ),
            deadline=poll.deadline,
            closed_at=poll.closed_at,
            close_count=poll.close_count,
            rendered_at=poll.rendered_at,
            edit_failures=poll.edit_failures,
        )

    def with_state(
        self,
        *,
        deadline: datetime | None,
        close_count: int,
        rendered_at: datetime,
        edit_failures: int,
    ) -> PollView:
        """This poll, open, with the state read by a vote."""
        return dataclasses.replace(
            self,
            deadline=deadline,
            closed_at=None,
            close_count=close_count,
            rendered_at=rendered_at,
            edit_failures=edit_failures,
        )


AnyPoll = Poll | PollView
"""What the functions a vote shares with the rest of the polls code accept."""
AnyOption = PollOption | OptionView
