"""The past sessions: ``/sessions --passees [--annee 2027]``, with the numbers people then open
with ``/session N`` and ``/participants N``, and the year's figures the annual report reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from bot.context import Context
from bot.core import Reply
from bot.dates import FIRST_YEAR, LAST_YEAR, year_span
from bot.storage.sessions import Registration, RegistrationStatus, SessionRow, SessionStatus
from commands.sessions.errors import SessionYearOutOfRange
from commands.sessions.messages import kind_label, title_text

PAST_LIMIT = 15
"""Without a year: the latest sessions held."""
YEAR_LIMIT = 60
"""With a year: at most this many lines (the rest is counted)."""

REGISTERED = (RegistrationStatus.CONFIRMED, RegistrationStatus.WALK_IN)


def past_sessions(
    db: Session, now: datetime, *, since: datetime | None, until: datetime | None, limit: int
) -> tuple[list[SessionRow], int]:
    """Sessions that ended before ``now`` (and started in [since, until)), newest first, and how
    many there are in all."""
    where: list[ColumnElement[bool]] = [SessionRow.ends_at <= now]
    if since is not None:
        where.append(SessionRow.starts_at >= since)
    if until is not None:
        where.append(SessionRow.starts_at < until)
    total = int(db.scalar(select(func.count(SessionRow.id)).where(*where)) or 0)
    rows = db.scalars(
        select(SessionRow)
        .where(*where)
        .order_by(SessionRow.starts_at.desc(), SessionRow.id.desc())
        .limit(limit)
    )
    return list(rows), total


def attendance(db: Session, session_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Per session: (registered, present). Registered counts confirmed seats and walk-ins."""
    if not session_ids:
        return {}
    found: dict[int, tuple[int, int]] = {}
    rows = db.execute(
        select(
            Registration.session_id,
            func.count(Registration.id).filter(Registration.status.in_(REGISTERED)),
            func.count(Registration.id).filter(Registration.attended_at.is_not(None)),
        )
        .where(Registration.session_id.in_(list(session_ids)))
        .group_by(Registration.session_id)
    ).all()
    for session_id, booked, present in rows:
        found[int(session_id)] = (int(booked), int(present))
    return found


def check_year(ctx: Context, year: int) -> tuple[datetime, datetime]:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise SessionYearOutOfRange(ctx.t, year, ctx.now().astimezone(ctx.t.tz).year - 1)
    return year_span(year, ctx.t.tz)


def past_reply(ctx: Context, year: int | None) -> Reply:
    t = ctx.t
    since = until = None
    if year is not None:
        since, until = check_year(ctx, year)
    rows, total = past_sessions(
        ctx.db,
        ctx.now(),
        since=since,
        until=until,
        limit=PAST_LIMIT if year is None else YEAR_LIMIT,
    )
    if not rows:
        if year is None:
            return Reply(text=t.gettext("No session has been held yet."), ephemeral=True)
        return Reply(text=t.gettext("No session was held in {year}.", year=year), ephemeral=True)
    if year is None:
        lines = [t.gettext("**Latest sessions held**"), ""]
    else:
        lines = [
            t.ngettext(
                "**Sessions of {year}** ({n} session)",
                "**Sessions of {year}** ({n} sessions)",
                total,
                year=year,
            ),
            "",
        ]
    counts = attendance(ctx.db, [s.id for s in rows])
    for session in rows:
        booked, present = counts.get(session.id, (0, 0))
        if session.status == SessionStatus.CANCELLED:
            figures = t.gettext("cancelled")
        else:
            figures = t.ngettext(
                "{n} present of {booked} registered",
                "{n} present of {booked} registered",
                present,
                booked=booked,
            )
        lines.append(
            t.gettext(
                "- {title} — {kind}, {date} — {figures}",
                title=title_text(t, session),
                kind=kind_label(t, session.kind),
                date=t.datetime(session.starts_at, "long"),
                figures=figures,
            )
        )
    if total > len(rows):
        left = total - len(rows)
        lines.append(
            t.ngettext("… and {n} more session.", "… and {n} more sessions.", left)
            if year is not None
            else t.ngettext(
                "… and {n} earlier session: add --year to list a whole year.",
                "… and {n} earlier sessions: add --year to list a whole year.",
                left,
            )
        )
    lines.extend(
        ["", t.gettext("Details: /session {n} — attendance: /participants {n}.", n=rows[0].id)]
    )
    return Reply(text="\n".join(lines), ephemeral=True)
