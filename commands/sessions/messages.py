"""How sessions read in the chat: labels, moments, titles, the lines every view shares, the
registration buttons, the calendar event of a session and the participants' CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

from bot.core import Choice, ChoiceStyle, Reply
from bot.i18n import N_, Translator
from bot.storage.members import Member
from bot.storage.sessions import (
    Registration,
    RegistrationStatus,
    SessionKind,
    SessionQuota,
    SessionRow,
    SessionStage,
    SessionStatus,
)
from commands.sessions.ics import CalendarEvent

_KIND_LABELS = {
    SessionKind.WEBINAR: N_("webinar"),
    SessionKind.PLENARY: N_("plenary session"),
    SessionKind.MEETING: N_("meeting"),
    SessionKind.TRAINING: N_("training"),
    SessionKind.VISIT: N_("site visit"),
}
_CATEGORY_LABELS = {
    "elu": N_("elected official"),
    "agent": N_("public agent"),
    "association": N_("association"),
    "partenaire": N_("partner"),
}


FEEDBACK_VALUES: tuple[str, ...] = ("useful", "average", "poor")
FEEDBACK_LABELS = {
    "useful": N_("Useful"),
    "average": N_("Average"),
    "poor": N_("Not very useful"),
}


STATUS_LABELS = {
    RegistrationStatus.CONFIRMED: N_("confirmed"),
    RegistrationStatus.WAITLISTED: N_("waiting list"),
    RegistrationStatus.CANCELLED: N_("cancelled"),
    RegistrationStatus.WALK_IN: N_("present without registration"),
}


def kind_label(t: Translator, kind: str) -> str:
    return t.gettext(_KIND_LABELS[SessionKind(kind)])


def category_label(t: Translator, category: str | None) -> str:
    if category is None:
        return t.gettext("no category")
    return t.gettext(_CATEGORY_LABELS.get(category, category))


@lru_cache(maxsize=1024)
def moment_text(t: Translator, moment: datetime, style: str = "full") -> str:
    """``t.datetime`` remembered: every message about a session formats the same moments."""
    return t.datetime(moment, style)


@lru_cache(maxsize=1024)
def clock_text(t: Translator, moment: datetime) -> str:
    return t.time(moment)


def when_text(t: Translator, session: SessionRow) -> str:
    start_local = session.starts_at.astimezone(t.tz)
    end_local = session.ends_at.astimezone(t.tz)
    if start_local.date() == end_local.date():
        return t.gettext(
            "{start} to {end}",
            start=moment_text(t, session.starts_at),
            end=clock_text(t, session.ends_at),
        )
    return t.gettext(
        "{start} until {end}",
        start=moment_text(t, session.starts_at),
        end=moment_text(t, session.ends_at),
    )


def title_text(t: Translator, session: SessionRow) -> str:
    return t.gettext("**{title}** ({ref})", title=session.title, ref=t.ref(session.id))


def where_lines(t: Translator, session: SessionRow) -> list[str]:
    lines = []
    if session.location:
        lines.append(t.gettext("📍 {place}", place=session.location))
    if session.link:
        lines.append(t.gettext("🔗 {link}", link=session.link))
    return lines


def seats_text(t: Translator, session: SessionRow, waiting: int) -> str:
    left = session.capacity - session.confirmed
    if left > 0:
        return t.ngettext(
            "{n} seat left out of {capacity}",
            "{n} seats left out of {capacity}",
            left,
            capacity=session.capacity,
        )
    return t.ngettext("full, {n} on the waiting list", "full, {n} on the waiting list", waiting)


def quota_text(t: Translator, quota: SessionQuota) -> str:
    """One category's seats: how many are left of its quota."""
    label = category_label(t, quota.category)
    left = quota.capacity - quota.confirmed
    if left > 0:
        return t.ngettext(
            "{category}: {n} seat left out of {capacity}",
            "{category}: {n} seats left out of {capacity}",
            left,
            category=label,
            capacity=quota.capacity,
        )
    return t.gettext("{category}: full ({capacity})", category=label, capacity=quota.capacity)


def seat_lines(
    t: Translator, session: SessionRow, waiting: int, quotas: Sequence[SessionQuota] = ()
) -> list[str]:
    """The seats left, per category when the session has quotas, and who waits."""
    lines = [t.gettext("👥 {seats}", seats=seats_text(t, session, waiting))]
    if quotas:
        lines.append(
            t.gettext(
                "Quotas: {quotas}.",
                # TRANSLATORS: between two quotas ("élu·es : 8 ; agents : 6"): French spaces it
                quotas=t.gettext("; ").join(quota_text(t, q) for q in quotas),
            )
        )
    if waiting and session.confirmed < session.capacity:
        lines.append(
            t.ngettext(
                "⏳ {n} person waits for a seat of a full category.",
                "⏳ {n} people wait for a seat of a full category.",
                waiting,
            )
        )
    return lines


def heading(t: Translator, session: SessionRow) -> list[str]:
    """What the session is, when and where."""
    return [
        t.gettext(
            "📅 {title} — {kind}", title=title_text(t, session), kind=kind_label(t, session.kind)
        ),
        t.gettext("🕑 {when}", when=when_text(t, session)),
        *where_lines(t, session),
    ]


def describe(
    t: Translator, session: SessionRow, waiting: int, quotas: Sequence[SessionQuota] = ()
) -> list[str]:
    """The lines every view of a session shares."""
    lines = [*heading(t, session), *seat_lines(t, session, waiting, quotas)]
    if session.registration_deadline is not None:
        lines.append(
            t.gettext(
                "Registrations close {date}.", date=moment_text(t, session.registration_deadline)
            )
        )
    if session.description:
        lines.extend(["", session.description])
    return lines


def registration_choices(t: Translator, session_id: int) -> tuple[Choice, ...]:
    return (
        Choice(t.gettext("Register"), f"session:{session_id}:register", ChoiceStyle.SUCCESS),
        Choice(t.gettext("Unregister"), f"session:{session_id}:unregister", ChoiceStyle.SECONDARY),
    )


def unregister_choices(t: Translator, session_id: int) -> tuple[Choice, ...]:
    return (
        Choice(t.gettext("Unregister"), f"session:{session_id}:unregister", ChoiceStyle.SECONDARY),
    )


def announcement_reply(
    t: Translator,
    session: SessionRow,
    *,
    waiting: int,
    quotas: Sequence[SessionQuota],
    present: int,
    now: datetime,
) -> Reply:
    """The announcement of a session as it stands (posted at creation, then edited): open, full,
    registrations closed, cancelled or over; buttons only while they do something."""
    if session.status == SessionStatus.CANCELLED:
        lines = [*heading(t, session), "", t.gettext("❌ Cancelled.")]
        return Reply(text="\n".join(lines))
    if session.stage >= SessionStage.CHECKIN_CLOSED or session.ends_at <= now:
        lines = [
            *heading(t, session),
            "",
            t.ngettext("✅ Over — {n} person present.", "✅ Over — {n} people present.", present),
        ]
        return Reply(text="\n".join(lines))
    if session.starts_at <= now:
        lines = [
            *heading(t, session),
            *seat_lines(t, session, waiting, quotas),
            "",
            t.gettext("🔒 Registrations are closed: the session has started."),
        ]
        return Reply(text="\n".join(lines))
    deadline = session.registration_deadline
    if deadline is not None and deadline <= now:
        lines = [
            *heading(t, session),
            *seat_lines(t, session, waiting, quotas),
            "",
            t.gettext(
                "🔒 Registrations are closed. Cannot come any more? /unregister {n}.", n=session.id
            ),
        ]
        return Reply(text="\n".join(lines), choices=unregister_choices(t, session.id))
    lines = describe(t, session, waiting, quotas)
    lines.extend(["", t.gettext("Register with the button below or /register {n}.", n=session.id)])
    return Reply(text="\n".join(lines), choices=registration_choices(t, session.id))


def calendar_event(session: SessionRow, t: Translator) -> CalendarEvent:
    description = session.description or ""
    how = t.gettext(
        "Register or unregister in the chat: /register {n}, /unregister {n}.", n=session.id
    )
    return CalendarEvent(
        uid=session.uid,
        sequence=session.sequence,
        title=session.title,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        created_at=session.created_at,
        updated_at=session.updated_at,
        description=(description + "\n\n" + how).strip(),
        location=session.location or session.link,
        url=session.link,
        categories=(t.gettext(_KIND_LABELS[SessionKind(session.kind)]),),
        cancelled=session.status == SessionStatus.CANCELLED,
    )


_CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    return "'" + value if value.startswith(_CSV_FORMULA) else value


def participants_csv(
    t: Translator, rows: Sequence[tuple[Registration, Member]], positions: dict[int, int]
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [
            t.gettext("Status"),
            t.gettext("Waiting list position"),
            t.gettext("Name"),
            t.gettext("Platform"),
            t.gettext("Identifier"),
            t.gettext("Category"),
            t.gettext("Registered at"),
            t.gettext("Present"),
            t.gettext("Feedback"),
        ]
    )
    for registration, member in rows:
        writer.writerow(
            [
                t.gettext(STATUS_LABELS[RegistrationStatus(registration.status)]),
                str(positions.get(registration.id, "")),
                _cell(member.display_name),
                member.platform,
                _cell(member.user_id),
                category_label(t, registration.category) if registration.category else "",
                registration.registered_at.astimezone(t.tz).isoformat(timespec="minutes"),
                t.gettext("yes") if registration.attended_at else t.gettext("no"),
                t.gettext(FEEDBACK_LABELS[registration.feedback]) if registration.feedback else "",
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
