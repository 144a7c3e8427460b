"""What the sessions give the gazette: the sessions held in a period (or one session), with
their type, moment and place, attendance by member category and the feedback summary.

The first detail line (type · moment · place) is what a session's gazette prints under its
title in the masthead.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core import ExtraEntry
from bot.i18n import Translator
from bot.storage.members import Member
from bot.storage.sessions import Registration, SessionRow, SessionStatus
from commands.sessions.messages import FEEDBACK_LABELS, FEEDBACK_VALUES, kind_label, when_text


def _category_count(t: Translator, category: str, n: int) -> str:
    if category == "elu":
        return t.ngettext("{n} elected official", "{n} elected officials", n)
    if category == "agent":
        return t.ngettext("{n} public agent", "{n} public agents", n)
    if category == "association":
        return t.ngettext("{n} association member", "{n} association members", n)
    if category == "partenaire":
        return t.ngettext("{n} partner", "{n} partners", n)
    return f"{t.number(n)} {category}"


def _kind(t: Translator, kind: str) -> str:
    try:
        label = kind_label(t, kind)
    except ValueError:  # a kind this version does not know: shown as stored
        label = kind
    return label[:1].upper() + label[1:]


def _attendance_line(t: Translator, present: int, categories: Counter[str | None]) -> str:
    total = t.ngettext("{n} participant", "{n} participants", present)
    if not present or set(categories) == {None}:
        return total
    parts: list[str] = []
    for category, count in sorted(
        categories.items(), key=lambda kv: (kv[0] is None, -kv[1], kv[0] or "")
    ):
        if category is None:
            parts.append(t.ngettext("{n} without a category", "{n} without a category", count))
        else:
            parts.append(_category_count(t, category, count))
    return t.gettext("{total}: {parts}", total=total, parts=", ".join(parts))


def _feedback_line(t: Translator, answers: Counter[str]) -> str | None:
    if not answers:
        return None
    parts = [
        f"{t.gettext(FEEDBACK_LABELS[value])} {t.number(answers[value])}"
        for value in FEEDBACK_VALUES
        if answers.get(value)
    ]
    return t.ngettext(
        "Feedback ({n} answer): {answers}",
        "Feedback ({n} answers): {answers}",
        sum(answers.values()),
        answers=", ".join(parts),
    )


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
    if not rows:
        return []
    attended = db.execute(
        select(
            Registration.session_id, Registration.category, Member.category, Registration.feedback
        )
        .join(Member, Member.id == Registration.member_id)
        .where(
            Registration.session_id.in_([row.id for row in rows]),
            Registration.attended_at.is_not(None),
        )
    ).all()
    entries: list[ExtraEntry] = []
    for row in rows:
        mine = [a for a in attended if a.session_id == row.id]
        categories: Counter[str | None] = Counter(
            registered or current for _, registered, current, _ in mine
        )
        answers: Counter[str] = Counter(feedback for *_, feedback in mine if feedback)
        facts = [_kind(t, row.kind), when_text(t, row)]
        if row.location:
            facts.append(row.location)
        details = [" · ".join(facts), _attendance_line(t, len(mine), categories)]
        feedback = _feedback_line(t, answers)
        if feedback:
            details.append(feedback)
        entries.append(
            ExtraEntry(
                kind="session",
                ref_id=row.id,
                title=row.title,
                at=row.starts_at,
                details=tuple(details),
                link=row.link,
                value=len(mine),
            )
        )
    return entries
