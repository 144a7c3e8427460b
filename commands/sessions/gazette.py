"""What the sessions give the gazette: the sessions held in a period (or one session), with
their attendance."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core import ExtraEntry
from bot.i18n import Translator
from bot.storage.sessions import Registration, SessionRow, SessionStatus


def gazette_sessions_held(
    db: Session, t: Translator, since: datetime, until: datetime, session_id: int | None
) -> list[ExtraEntry]:
    query = select(SessionRow).where(SessionRow.status != SessionStatus.CANCELLED)
    if session_id is not None:
        query = query.where(SessionRow.id == session_id)
    else:
        query = query.where(SessionRow.starts_at >= since, SessionRow.starts_at <= until)
    query = query.where(SessionRow.starts_at <= until)
    rows = db.scalars(query.order_by(SessionRow.starts_at, SessionRow.id)).all()
    entries: list[ExtraEntry] = []
    for row in rows:
        present = int(
            db.scalar(
                select(func.count())
                .select_from(Registration)
                .where(Registration.session_id == row.id, Registration.attended_at.is_not(None))
            )
            or 0
        )
        details = [t.ngettext("{n} participant", "{n} participants", present)]
        if row.location:
            details.append(row.location)
        entries.append(
            ExtraEntry(
                kind="session",
                ref_id=row.id,
                title=row.title,
                at=row.starts_at,
                details=tuple(details),
                link=row.link,
                value=present,
            )
        )
    return entries
