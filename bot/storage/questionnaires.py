"""Questionnaires: coordinators' questions, the members they are sent to, and the answers.

A questionnaire is a draft until launched, then open until closed (by a coordinator or its
deadline). Its questions are ordered by ``position``; a member answers them one at a time, and
``QuestionnaireRecipient.answered`` is how far they went (the next question's position), so they
may stop and resume. An answer is one row of :class:`QuestionnaireAnswer`.

Anonymity (``anonymous``): the answers of an anonymous questionnaire carry no member, no
timestamp and a random key (``WITHOUT ROWID`` on SQLite: rows are stored in key order, not in
the order they were written), so no row links a member to what they answered, not even with
the server's secret: the recipients table says who was asked and how far they went, never what
they said. Named questionnaires keep the member on each answer (``member_id``).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base

MAX_TITLE = 200
MAX_QUESTION = 300
MAX_CHOICE = 80
MAX_CHOICES = 10
MAX_QUESTIONS = 30
MAX_TEXT_ANSWER = 2000


class QuestionnaireStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class Audience(enum.StrEnum):
    CHANNEL = "channel"
    """Announced in a channel with a button: whoever answers from there is a recipient."""
    SESSION = "session"
    """The attendees of a session, each asked by direct message."""
    EVERYONE = "everyone"
    """Every member of the platform, each asked by direct message."""


class QuestionKind(enum.StrEnum):
    SCALE = "scale"
    SINGLE = "single"
    MULTIPLE = "multiple"
    TEXT = "text"


class Questionnaire(Base):
    __tablename__ = "questionnaires"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'open', 'closed')", name="status_known"),
        CheckConstraint(
            "audience IS NULL OR audience IN ('channel', 'session', 'everyone')",
            name="audience_known",
        ),
        CheckConstraint("max_reminders >= 0", name="max_reminders_not_negative"),
        Index("ix_questionnaires_status_deadline", "status", "deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(MAX_TITLE))
    intro: Mapped[str | None] = mapped_column(Text, default=None)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default=QuestionnaireStatus.DRAFT)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    platform: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(128))
    """Where it was created (a channel audience is announced in the channel it names)."""
    audience: Mapped[str | None] = mapped_column(String(16), default=None)
    audience_ref: Mapped[str | None] = mapped_column(String(128), default=None)
    """The channel id (channel) or the session number (session)."""
    session_id: Mapped[int | None] = mapped_column(Integer, default=None, unique=True)
    """A session's own feedback questionnaire (its comment), else None."""
    deadline: Mapped[datetime | None] = mapped_column(default=None)
    max_reminders: Mapped[int] = mapped_column(Integer, default=2)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    launched_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class QuestionnaireQuestion(Base):
    __tablename__ = "questionnaire_questions"
    __table_args__ = (
        CheckConstraint("kind IN ('scale', 'single', 'multiple', 'text')", name="kind_known"),
        Index("ix_questionnaire_questions_position", "questionnaire_id", "position", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaires.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)
    """0-based; people see position + 1."""
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(MAX_QUESTION))
    choices: Mapped[str] = mapped_column(Text, default="")
    """The labels, one per line: the options of a choice, the steps of a labelled scale (empty
    for a 1–5 scale and a free text)."""


class QuestionnaireRecipient(Base):
    """A member the questionnaire was sent to (or who answered it from its channel)."""

    __tablename__ = "questionnaire_recipients"

    questionnaire_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaires.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    answered: Mapped[int] = mapped_column(Integer, default=0)
    """How many questions they answered or skipped: the position of their next question."""
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    reminded: Mapped[int] = mapped_column(Integer, default=0)
    invited_at: Mapped[datetime]


class QuestionnaireAnswer(Base):
    """One answer to one question: a scale step (``"3"``), option indexes (``"0,2"``), or text.

    ``member_id`` is None for anonymous questionnaires; ``key`` is random, and there is no
    timestamp, so nothing orders or links the answers of an anonymous member."""

    __tablename__ = "questionnaire_answers"
    __table_args__ = (
        Index("ix_questionnaire_answers_question", "questionnaire_id", "question_id"),
        {"sqlite_with_rowid": False},
    )

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaires.id", ondelete="CASCADE")
    )
    question_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaire_questions.id", ondelete="CASCADE")
    )
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    value: Mapped[str] = mapped_column(Text)
