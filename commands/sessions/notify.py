"""What members and channels are told about sessions, written to the outbox: announcements,
confirmations and promotions with the .ics, reminders, changes and cancellations.

Reminders are due work derived from the registrations (:func:`~commands.sessions.work.remind_due`
writes them when they fall due); their moments, keys and texts live here, since a confirmation
may have to write those already due (:func:`late_reminders`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.context import Context
from bot.core import Attachment, DirectTarget, PlaceTarget, Reply
from bot.i18n import Translator, Translators
from bot.outbox import Outgoing, enqueue, enqueue_many, withdraw
from bot.storage.members import Member
from bot.storage.sessions import Registration, RegistrationStatus, SessionRow, SessionStatus
from commands.sessions.ics import MEDIA_TYPE, Method, build_calendar
from commands.sessions.messages import (
    announcement_reply,
    calendar_event,
    describe,
    moment_text,
    registration_choices,
    title_text,
    when_text,
    where_lines,
)
from commands.sessions.store import quota_rows, registrants

REMINDER_HOURS: tuple[int, ...] = (24, 1)
"""Default reminder offsets, in hours before the start (``[sessions] reminder_hours``)."""


def configured_reminder_hours(settings: Settings) -> tuple[int, ...]:
    """``[sessions] reminder_hours`` when the configuration has it, else 24 h and 1 h."""
    section = getattr(settings, "sessions", None)
    hours = getattr(section, "reminder_hours", None)
    if not hours:
        return REMINDER_HOURS
    return tuple(sorted({int(h) for h in hours if int(h) > 0}, reverse=True)) or REMINDER_HOURS


@dataclass(frozen=True, slots=True)
class Notifier:
    """What writing messages about sessions needs: languages, the network, reminder offsets."""

    translators: Translators
    network_locale: str
    network_name: str
    tz_name: str
    reminder_hours: tuple[int, ...] = REMINDER_HOURS

    @classmethod
    def from_settings(cls, translators: Translators, settings: Settings) -> Notifier:
        return cls(
            translators=translators,
            network_locale=settings.network.locale,
            network_name=settings.network.name,
            tz_name=settings.network.timezone,
            reminder_hours=configured_reminder_hours(settings),
        )

    @property
    def channel_t(self) -> Translator:
        return self.translators.get(self.network_locale)

    def t_for(self, member: Member) -> Translator:
        return self.translators.get(member.locale, self.network_locale)


def notifier_for(ctx: Context) -> Notifier:
    """The notifier of a command's context."""
    return Notifier.from_settings(ctx.translators, ctx.settings)


def reminder_key(session_id: int, member_id: int, hours: int) -> str:
    return f"session:{session_id}:reminder:{member_id}:{hours}h"


def seat_key(session_id: int, member_id: int, arrival: int, *, promoted: bool) -> str:
    """The idempotency key of :func:`seat_reply`'s message (one per seat taken)."""
    kind = "promoted" if promoted else "confirmed"
    return f"session:{session_id}:{kind}:{member_id}:{arrival}"


def reminder_moment(session: SessionRow, hours: int) -> datetime:
    return session.starts_at - timedelta(hours=hours)


def reminder_done(moment: datetime, reminded_through: datetime | None) -> bool:
    """Whether the reminder falling due at ``moment`` was materialised (or found too late)."""
    return reminded_through is not None and moment <= reminded_through


def next_reminder(
    starts_at: datetime, reminded_through: datetime | None, hours: Iterable[int]
) -> datetime | None:
    """When the session's next reminder still to materialise falls due (perhaps already)."""
    moments = [starts_at - timedelta(hours=h) for h in hours]
    return min((m for m in moments if not reminder_done(m, reminded_through)), default=None)


def late_reminders(
    session: SessionRow, reminded_through: datetime | None, hours: Iterable[int], now: datetime
) -> list[int]:
    """The reminders a member confirmed by a request made at ``now`` gets from that request's
    own transaction: those whose moment is still ahead of ``now`` but which
    :func:`~commands.sessions.work.remind_due` already wrote (the request was handled just after
    it). Usually none. ``reminded_through`` is the session's, read under its row lock."""
    if reminded_through is None:
        return []
    return [
        h
        for h in hours
        if now < (moment := reminder_moment(session, h)) and reminder_done(moment, reminded_through)
    ]


def direct_target(member: Member, session: SessionRow) -> DirectTarget:
    """A direct message about ``session``: when the member's direct messages are closed, the
    outbox tells them in the session's channel instead."""
    return DirectTarget(member.platform, member.user_id, fallback_channel_id=session.channel_id)


def ics_attachment(
    session: SessionRow, t: Translator, notifier: Notifier, now: datetime
) -> Attachment:
    cancelled = session.status == SessionStatus.CANCELLED
    data = build_calendar(
        [calendar_event(session, t)],
        method=Method.CANCEL if cancelled else Method.PUBLISH,
        now=now,
        organizer=notifier.network_name,
        tz_name=notifier.tz_name,
    )
    return Attachment(f"session-{session.id}.ics", MEDIA_TYPE, data)


def announce_key(session_id: int) -> str:
    """The outbox key of a session's announcement (edited as it changes)."""
    return f"session:{session_id}:announce"


def announce(db: Session, notifier: Notifier, session: SessionRow, now: datetime) -> None:
    t = notifier.channel_t
    reply = announcement_reply(
        t, session, waiting=0, quotas=quota_rows(db, session.id), present=0, now=now
    )
    enqueue(
        db,
        key=announce_key(session.id),
        reply=replace(reply, attachments=(ics_attachment(session, t, notifier, now),)),
        target=PlaceTarget(session.platform, session.channel_id),
        due_at=now,
        now=now,
    )


def reminder_reply(t: Translator, session: SessionRow, hours: int) -> Reply:
    lines = [
        t.ngettext(
            "⏰ Reminder: {title} starts in {n} hour, {date}.",
            "⏰ Reminder: {title} starts in {n} hours, {date}.",
            hours,
            title=title_text(t, session),
            date=moment_text(t, session.starts_at),
        ),
        *where_lines(t, session),
        t.gettext(
            "Cannot come any more? /unregister {n} frees your seat for someone else.", n=session.id
        ),
    ]
    return Reply(text="\n".join(lines))


def seat_reply(
    t: Translator, notifier: Notifier, session: SessionRow, now: datetime, *, promoted: bool
) -> Reply:
    """The direct message (with the .ics) telling a member they have a seat.

    It does not depend on the member, only on their language: the registrar builds it once per
    language for a whole batch.
    """
    if promoted:
        head = t.gettext(
            "🎉 A seat freed up: you are now registered for {title}.", title=title_text(t, session)
        )
    else:
        head = t.gettext(
            "✅ Your registration for {title} is confirmed.", title=title_text(t, session)
        )
    lines = [
        head,
        t.gettext("🕑 {when}", when=when_text(t, session)),
        *where_lines(t, session),
        "",
        t.gettext(
            "The calendar file is attached. Cannot come any more? /unregister {n}.", n=session.id
        ),
    ]
    return Reply(text="\n".join(lines), attachments=(ics_attachment(session, t, notifier, now),))


def confirm_seat(
    db: Session,
    notifier: Notifier,
    session: SessionRow,
    member: Member,
    registration: Registration,
    now: datetime,
    *,
    promoted: bool = False,
) -> None:
    """The direct message with the .ics for a member who has a seat (the caller holds the
    session row), and the reminders :func:`late_reminders` gives them (usually none: reminders
    are written when they fall due, by :func:`~commands.sessions.work.remind_due`)."""
    t = notifier.t_for(member)
    target = direct_target(member, session)
    message = Outgoing(
        seat_key(session.id, member.id, registration.arrival, promoted=promoted),
        seat_reply(t, notifier, session, now, promoted=promoted),
        target,
        now,
    )
    enqueue_many(db, [message], now)
    if any(now < reminder_moment(session, h) for h in notifier.reminder_hours):
        # Read under the row lock: the session object may have been loaded before it.
        reminded_through = db.scalar(
            select(SessionRow.reminded_through).where(SessionRow.id == session.id)
        )
        late = [
            Outgoing(
                reminder_key(session.id, member.id, h),
                reminder_reply(t, session, h),
                target,
                reminder_moment(session, h),
            )
            for h in late_reminders(session, reminded_through, notifier.reminder_hours, now)
        ]
        enqueue_many(db, late, now, revive=True)


def notify_promoted(
    db: Session,
    notifier: Notifier,
    session: SessionRow,
    promoted: Iterable[Registration],
    now: datetime,
) -> None:
    for registration in promoted:
        member = db.get(Member, registration.member_id)
        assert member is not None
        confirm_seat(db, notifier, session, member, registration, now, promoted=True)


def tell_changed(db: Session, notifier: Notifier, session: SessionRow, now: datetime) -> int:
    """Direct messages (with the new .ics for confirmed members) and a notice in the channel.

    Reminders written but not sent yet are withdrawn: their moment has passed (too late, as
    for a change of time that brings it before now) or, when the time moved later, they are
    written again (revived) when their new moment comes (see
    :func:`~commands.sessions.service.update_session`).
    """
    withdraw(db, f"session:{session.id}:reminder:", "the session changed")
    people = registrants(
        db, session.id, (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)
    )
    waiting = sum(1 for r, _ in people if r.status == RegistrationStatus.WAITLISTED)
    quotas = quota_rows(db, session.id)
    for registration, member in people:
        t = notifier.t_for(member)
        confirmed = registration.status == RegistrationStatus.CONFIRMED
        lines = [
            t.gettext("✏️ {title} has changed. The new details:", title=title_text(t, session)),
            "",
            *describe(t, session, waiting, quotas),
        ]
        if confirmed:
            lines.extend(["", t.gettext("Your updated calendar file is attached.")])
        enqueue(
            db,
            key=f"session:{session.id}:changed:{session.sequence}:{member.id}",
            reply=Reply(
                text="\n".join(lines),
                attachments=(ics_attachment(session, t, notifier, now),) if confirmed else (),
            ),
            target=direct_target(member, session),
            due_at=now,
            now=now,
        )
    t = notifier.channel_t
    enqueue(
        db,
        key=f"session:{session.id}:changed:{session.sequence}",
        reply=Reply(
            text="\n".join(
                [
                    t.gettext(
                        "✏️ {title} has changed. The new details:", title=title_text(t, session)
                    ),
                    "",
                    *describe(t, session, waiting, quotas),
                ]
            ),
            choices=registration_choices(t, session.id),
            attachments=(ics_attachment(session, t, notifier, now),),
        ),
        target=PlaceTarget(session.platform, session.channel_id),
        due_at=now,
        now=now,
    )
    return len(people)


def tell_cancelled(
    db: Session, notifier: Notifier, session: SessionRow, reason: str | None, now: datetime
) -> int:
    """Direct messages (with a cancelling .ics for confirmed members) and a notice in the
    channel; returns how many registrants were told."""
    people = registrants(
        db, session.id, (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)
    )
    for registration, member in people:
        t = notifier.t_for(member)
        confirmed = registration.status == RegistrationStatus.CONFIRMED
        lines = [_cancelled_line(t, session, reason)]
        if confirmed:
            lines.append(t.gettext("The attached file removes it from your calendar."))
        enqueue(
            db,
            key=f"session:{session.id}:cancelled:{member.id}",
            reply=Reply(
                text="\n".join(lines),
                attachments=(ics_attachment(session, t, notifier, now),) if confirmed else (),
            ),
            target=direct_target(member, session),
            due_at=now,
            now=now,
        )
    t = notifier.channel_t
    enqueue(
        db,
        key=f"session:{session.id}:cancelled",
        reply=Reply(
            text=_cancelled_line(t, session, reason),
            attachments=(ics_attachment(session, t, notifier, now),),
        ),
        target=PlaceTarget(session.platform, session.channel_id),
        due_at=now,
        now=now,
    )
    return len(people)


def _cancelled_line(t: Translator, session: SessionRow, reason: str | None) -> str:
    text = t.gettext(
        "❌ {title}, planned {date}, is cancelled.",
        title=title_text(t, session),
        date=moment_text(t, session.starts_at),
    )
    if reason:
        text += "\n" + t.gettext("Reason: {reason}", reason=reason)
    return text
