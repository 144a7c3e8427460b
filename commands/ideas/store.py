"""Queries on ``ideas`` and ``idea_supports``: a support is one row per member and idea, and the
idea's ``supports`` counter moves in the same transaction as the row (conditional statements, so
two clicks never count twice)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.i18n import Translator
from bot.storage.ideas import Idea, IdeaSupport
from bot.storage.members import Member
from commands.ideas.errors import AlreadySupported, IdeaNotFound, NotSupported

LIST_LIMIT = 30


def get_idea(db: Session, idea_id: int, t: Translator) -> Idea:
    idea = db.get(Idea, idea_id, populate_existing=True)
    if idea is None:
        raise IdeaNotFound(t, idea_id)
    return idea


def add_support(db: Session, idea: Idea, member: Member, now: datetime, t: Translator) -> None:
    """``member`` supports ``idea`` (refused when they already do)."""
    try:
        with db.begin_nested():
            db.add(IdeaSupport(idea_id=idea.id, member_id=member.id, created_at=now))
            db.flush()
    except IntegrityError:
        raise AlreadySupported(t, idea.id) from None
    db.execute(
        update(Idea)
        .where(Idea.id == idea.id)
        .values(supports=Idea.supports + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.refresh(idea)


def remove_support(db: Session, idea: Idea, member: Member, now: datetime, t: Translator) -> None:
    gone = db.execute(
        delete(IdeaSupport).where(
            IdeaSupport.idea_id == idea.id, IdeaSupport.member_id == member.id
        )
    )
    if not getattr(gone, "rowcount", 0):
        raise NotSupported(t, idea.id)
    db.execute(
        update(Idea)
        .where(Idea.id == idea.id)
        .values(supports=Idea.supports - 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.refresh(idea)


def supports(db: Session, idea_id: int, member_id: int) -> bool:
    found = db.scalar(
        select(func.count())
        .select_from(IdeaSupport)
        .where(IdeaSupport.idea_id == idea_id, IdeaSupport.member_id == member_id)
    )
    return bool(found)


def ranked_ideas(db: Session, *, limit: int = LIST_LIMIT) -> tuple[list[Idea], int]:
    """Ideas by support (most first), then oldest first; and how many there are."""
    total = int(db.scalar(select(func.count(Idea.id))) or 0)
    rows = db.scalars(select(Idea).order_by(Idea.supports.desc(), Idea.id).limit(limit))
    return list(rows), total
