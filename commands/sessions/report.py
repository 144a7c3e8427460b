"""What the sessions family gives the annual report: the sessions held by type (registrations,
attendance, rate, by member category, no-shows, feedback and comments) and the members' monthly
participation."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.i18n import Translator
from bot.storage.sessions import Registration, RegistrationStatus, SessionRow, SessionStatus
from commands.questionnaires import session_comments
from commands.sessions.messages import FEEDBACK_LABELS, FEEDBACK_VALUES, category_label, kind_label
from digests.report import Bars, Figure, Quotes, ReportPart, Table, month_labels, share

BOOKED = (RegistrationStatus.CONFIRMED, RegistrationStatus.WALK_IN)


def report_sessions(
    db: Session, t: Translator, since: datetime, until: datetime
) -> ReportPart | None:
    held = list(
        db.scalars(
            select(SessionRow)
            .where(
                SessionRow.starts_at >= since,
                SessionRow.starts_at < until,
                SessionRow.ends_at <= until,
            )
            .order_by(SessionRow.starts_at, SessionRow.id)
        )
    )
    if not held:
        return None
    done = [s for s in held if s.status != SessionStatus.CANCELLED]
    cancelled = len(held) - len(done)
    ids = [s.id for s in done]
    registrations = (
        list(db.scalars(select(Registration).where(Registration.session_id.in_(ids))))
        if ids
        else []
    )
    by_session: dict[int, list[Registration]] = {}
    for row in registrations:
        by_session.setdefault(row.session_id, []).append(row)
    comments = session_comments(db, ids)
    year = since.astimezone(t.tz).year

    rows = []
    kinds: dict[str, list[int]] = {}
    categories: Counter[str] = Counter()
    months: list[set[int]] = [set() for _ in range(12)]
    participants: set[int] = set()
    total_booked = total_present = 0
    feedback_total: Counter[str] = Counter()
    for session in done:
        found = by_session.get(session.id, [])
        booked = [r for r in found if r.status in BOOKED]
        present = [r for r in found if r.attended_at is not None]
        no_shows = sum(
            1 for r in booked if r.status == RegistrationStatus.CONFIRMED and r.attended_at is None
        )
        feedback = Counter(r.feedback for r in present if r.feedback)
        feedback_total.update(feedback)
        total_booked += len(booked)
        total_present += len(present)
        month = session.starts_at.astimezone(t.tz).month - 1
        for r in present:
            categories[category_label(t, r.category)] += 1
            months[month].add(r.member_id)
            participants.add(r.member_id)
        stats = kinds.setdefault(kind_label(t, session.kind), [0, 0, 0])
        stats[0] += 1
        stats[1] += len(booked)
        stats[2] += len(present)
        rows.append(
            (
                session.id,
                session.title,
                t.date(session.starts_at),
                kind_label(t, session.kind),
                len(booked),
                len(present),
                share(len(present), len(booked)),
                no_shows,
                " / ".join(str(feedback.get(v, 0)) for v in FEEDBACK_VALUES),
            )
        )
    feedback_head = " / ".join(t.gettext(FEEDBACK_LABELS[v]) for v in FEEDBACK_VALUES)
    tables = [
        Table(
            t.gettext("Sessions held"),
            (
                t.gettext("No."),
                t.gettext("Title"),
                t.gettext("Date"),
                t.gettext("Type"),
                t.gettext("Registered"),
                t.gettext("Attended"),
                t.gettext("Attendance rate (%)"),
                t.gettext("No-shows"),
                t.gettext("Feedback: {labels}", labels=feedback_head),
            ),
            tuple(rows),
        ),
        Table(
            t.gettext("By type of session"),
            (
                t.gettext("Type"),
                t.gettext("Sessions"),
                t.gettext("Registered"),
                t.gettext("Attended"),
            ),
            tuple((kind, *stats) for kind, stats in sorted(kinds.items())),
        ),
    ]
    if categories:
        by_category = sorted(categories.items(), key=lambda kv: (-kv[1], kv[0]))
        tables.append(
            Table(
                t.gettext("Attendance by member category"),
                (t.gettext("Category"), t.gettext("Attended")),
                tuple(by_category),
            )
        )
    labels = month_labels(t, year)
    tables.append(
        Table(
            t.gettext("Members who took part, month by month"),
            (t.gettext("Month"), t.gettext("Members present")),
            tuple((labels[m], len(months[m])) for m in range(12)),
        )
    )
    quotes = []
    titled = {s.id: s.title for s in done}
    said = [f"{text} — {titled[sid]}" for sid in ids for text in comments.get(sid, [])]
    if said:
        quotes.append(Quotes(t.gettext("Comments after the sessions"), tuple(said)))
    return ReportPart(
        key="sessions",
        title=t.gettext("Sessions"),
        order=10,
        figures=(
            Figure(t.gettext("Sessions held"), len(done)),
            Figure(t.gettext("Cancelled"), cancelled),
            Figure(t.gettext("Registrations"), total_booked),
            Figure(t.gettext("Attendances"), total_present),
            Figure(t.gettext("Attendance rate (%)"), share(total_present, total_booked)),
            Figure(t.gettext("Different participants"), len(participants)),
            Figure(
                t.gettext("Feedback: {labels}", labels=feedback_head),
                " / ".join(str(feedback_total.get(v, 0)) for v in FEEDBACK_VALUES),
            ),
        ),
        tables=tuple(tables),
        charts=(
            Bars(
                "attendance",
                t.gettext("Attendance per session"),
                tuple(s.title for s in done),
                tuple(float(row[5]) for row in rows),
            ),
            Bars(
                "participation",
                t.gettext("Members who took part, month by month"),
                labels,
                tuple(float(len(m)) for m in months),
            ),
        ),
        quotes=tuple(quotes),
    )
