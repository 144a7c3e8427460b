"""What the polls family gives the gazette: the polls closed in the period, with their outcome."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import ExtraEntry
from bot.i18n import Translator
from bot.storage.polls import Poll
from commands.polls.render import outcome_line, participants
from commands.polls.store import poll_results


def gazette_closed_polls(
    db: Session, t: Translator, since: datetime, until: datetime, session_id: int | None
) -> list[ExtraEntry]:
    rows = db.scalars(
        select(Poll)
        .where(Poll.closed_at.is_not(None), Poll.closed_at >= since, Poll.closed_at <= until)
        .order_by(Poll.closed_at, Poll.id)
    ).all()
    entries: list[ExtraEntry] = []
    for poll in rows:
        results = poll_results(db, poll)
        details = [participants(t, results.voters)]
        outcome = outcome_line(t, poll, results, final=True)
        if outcome:
            details.insert(0, outcome)
        entries.append(
            ExtraEntry(
                kind="poll",
                ref_id=poll.id,
                title=poll.question,
                at=poll.closed_at,
                details=tuple(details),
                value=results.voters,
            )
        )
    return entries
