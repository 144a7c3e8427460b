"""The ``sessions`` due work: reminders when they fall due, the check-in at the start, its
closing at the end, the feedback question afterwards; and :func:`setup`, which registers it and
starts the registrar."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.core import Choice, ChoiceStyle, MessageRef, PlaceTarget, Reply
from bot.family import Host
from bot.outbox import Outgoing, enqueue, enqueue_many, sent_ref, withdraw
from bot.storage.members import Member
from bot.storage.sessions import (
    Registration,
    RegistrationStatus,
    SessionRow,
    SessionStage,
    SessionStatus,
)
from commands.sessions.live import WORK_NAME as ANNOUNCEMENTS
from commands.sessions.live import setup as setup_announcements
from commands.sessions.messages import FEEDBACK_LABELS, FEEDBACK_VALUES, clock_text, title_text
from commands.sessions.notify import (
    Notifier,
    direct_target,
    next_reminder,
    reminder_done,
    reminder_key,
    reminder_moment,
    reminder_reply,
)
from commands.sessions.registrar import REGISTRAR_SERVICE, Registrar
from commands.sessions.store import attendees, bump, lock_session, present_count

log = logging.getLogger(__name__)


FEEDBACK_DELAY = timedelta(hours=1)
"""Feedback is asked this long after the end (coordinators may still record attendance)."""
FEEDBACK_MAX_DELAY = timedelta(days=7)


def remind_due(db: Session, notifier: Notifier, now: datetime) -> bool:
    """Materialise the reminders that fell due; True when outbox rows were written.

    For each scheduled session with a reminder due (``start - h <= now``, not yet recorded in
    ``reminded_through``): the row is locked (registrations of that session wait, so "confirmed
    at the moment" is exact), the rows of the members confirmed by a request made before the
    moment are written in one statement, and ``reminded_through = now`` records it. A session
    already started gets none; when several reminders are late at once (the bot was down), only
    the nearest to the start is written.
    """
    hours = notifier.reminder_hours
    if not hours:
        return False
    candidates = db.execute(
        select(SessionRow.id, SessionRow.starts_at, SessionRow.reminded_through).where(
            SessionRow.status == SessionStatus.SCHEDULED,
            SessionRow.stage == SessionStage.PLANNED,
        )
    ).all()
    wrote = False
    for session_id, starts_at, reminded_through in candidates:
        due = next_reminder(starts_at, reminded_through, hours)
        if due is None or due > now:
            continue
        session = lock_session(db, session_id)  # read again under the lock
        due_hours = [
            h
            for h in hours
            if (moment := reminder_moment(session, h)) <= now
            and not reminder_done(moment, session.reminded_through)
        ]
        if session.status != SessionStatus.SCHEDULED or not due_hours:
            continue
        session.reminded_through = now
        if session.starts_at <= now:  # too late for every one of them
            continue
        hours_due = min(due_hours)
        moment = reminder_moment(session, hours_due)
        members = db.scalars(
            select(Member)
            .join(Registration, Registration.member_id == Member.id)
            .where(
                Registration.session_id == session.id,
                Registration.status == RegistrationStatus.CONFIRMED,
                Registration.updated_at < moment,
            )
            .order_by(Registration.arrival)
        ).all()
        replies: dict[str, Reply] = {}
        outgoing = []
        for member in members:
            t = notifier.t_for(member)
            reply = replies.get(t.locale)
            if reply is None:
                reply = replies[t.locale] = reminder_reply(t, session, hours_due)
            key = reminder_key(session.id, member.id, hours_due)
            outgoing.append(Outgoing(key, reply, direct_target(member, session), moment))
        enqueue_many(db, outgoing, now, revive=True)
        wrote = wrote or bool(outgoing)
    db.flush()
    return wrote


class FollowUp:
    """The ``sessions`` due-work provider (registered by :func:`setup`)."""

    def __init__(self, app: Host) -> None:
        self.app = app
        self.notifier = Notifier.from_settings(app.translators, app.settings)

    def next_due(self) -> datetime | None:
        scheduled = SessionRow.status == SessionStatus.SCHEDULED
        hours = self.notifier.reminder_hours
        reminders: list[datetime] = []
        with self.app.sessions() as db:
            if hours:
                # Sessions not started whose reminders are not all done: a few rows.
                for starts_at, reminded_through in db.execute(
                    select(SessionRow.starts_at, SessionRow.reminded_through).where(
                        scheduled,
                        SessionRow.stage == SessionStage.PLANNED,
                        (SessionRow.reminded_through.is_(None))
                        | (SessionRow.reminded_through < SessionRow.starts_at),
                    )
                ):
                    moment = next_reminder(starts_at, reminded_through, hours)
                    if moment is not None:
                        reminders.append(moment)
            start = db.scalar(
                select(func.min(SessionRow.starts_at)).where(
                    scheduled, SessionRow.stage == SessionStage.PLANNED
                )
            )
            end = db.scalar(
                select(func.min(SessionRow.ends_at)).where(
                    scheduled, SessionRow.stage == SessionStage.CHECKIN_OPEN
                )
            )
            feedback = db.scalar(
                select(func.min(SessionRow.ends_at)).where(
                    scheduled, SessionRow.stage == SessionStage.CHECKIN_CLOSED
                )
            )
        moments = [m for m in (start, end) if m is not None] + reminders
        if feedback is not None:
            moments.append(feedback + FEEDBACK_DELAY)
        return min(moments) if moments else None

    async def run(self) -> None:
        app = self.app
        now = app.clock.now()
        notifier = self.notifier
        edits: list[tuple[MessageRef, Reply]] = []
        with app.sessions() as db:
            reminded = remind_due(db, notifier, now)
            wrote = follow_up(db, notifier, now, edits)
            db.commit()
        # Stages may have moved (started, over): the announcements say so. This work runs
        # rarely (starts, ends, reminders), so re-arming always costs little.
        await app.after_change({ANNOUNCEMENTS})
        for ref, reply in edits:
            if not await app.edit_message(ref, reply):
                log.warning("could not close the check-in message %s", ref.message_id)
        if wrote or reminded:
            await app.after_change({"outbox"})


def follow_up(
    db: Session, notifier: Notifier, now: datetime, edits: list[tuple[MessageRef, Reply]]
) -> bool:
    """Advance every session whose follow-up is due; True when outbox rows were written."""
    wrote = False
    t = notifier.channel_t
    scheduled = SessionRow.status == SessionStatus.SCHEDULED
    opening = db.scalars(
        select(SessionRow).where(
            scheduled, SessionRow.stage == SessionStage.PLANNED, SessionRow.starts_at <= now
        )
    ).all()
    for session in opening:
        if now < session.ends_at:
            text = t.gettext(
                "🟢 {title} is starting! If you are here, check in with the button below "
                "(open until {end}).",
                title=title_text(t, session),
                end=clock_text(t, session.ends_at),
            )
            enqueue(
                db,
                key=f"session:{session.id}:checkin",
                reply=Reply(
                    text=text,
                    choices=(
                        Choice(
                            t.gettext("I am here"),
                            f"session:{session.id}:checkin",
                            ChoiceStyle.SUCCESS,
                        ),
                    ),
                ),
                target=PlaceTarget(session.platform, session.channel_id),
                due_at=session.starts_at,
                now=now,
            )
            wrote = True
            session.stage = SessionStage.CHECKIN_OPEN
        else:  # the whole session passed while the bot was down: no check-in
            session.stage = SessionStage.CHECKIN_CLOSED
        bump(db, session.id)  # the announcement says registrations closed, or that it is over
    db.flush()
    closing = db.scalars(
        select(SessionRow).where(
            scheduled, SessionRow.stage == SessionStage.CHECKIN_OPEN, SessionRow.ends_at <= now
        )
    ).all()
    for session in closing:
        withdraw(db, f"session:{session.id}:checkin", "session over")
        ref = sent_ref(db, f"session:{session.id}:checkin")
        if ref is not None:
            present = present_count(db, session.id)
            edits.append(
                (
                    ref,
                    Reply(
                        text=t.ngettext(
                            "Check-in for {title} is closed: {n} person present.",
                            "Check-in for {title} is closed: {n} people present.",
                            present,
                            title=title_text(t, session),
                        )
                    ),
                )
            )
        session.stage = SessionStage.CHECKIN_CLOSED
        bump(db, session.id)
    db.flush()
    asking = db.scalars(
        select(SessionRow).where(
            scheduled,
            SessionRow.stage == SessionStage.CHECKIN_CLOSED,
            SessionRow.ends_at <= now - FEEDBACK_DELAY,
        )
    ).all()
    for session in asking:
        if now - session.ends_at <= FEEDBACK_MAX_DELAY:
            for _registration, member in attendees(db, session.id):
                mt = notifier.t_for(member)
                enqueue(
                    db,
                    key=f"session:{session.id}:feedback:{member.id}",
                    reply=Reply(
                        text=mt.gettext(
                            "Thank you for coming to {title}! Was it useful to you? "
                            "One click below is enough.",
                            title=title_text(mt, session),
                        ),
                        choices=tuple(
                            Choice(
                                mt.gettext(FEEDBACK_LABELS[value]),
                                f"session:{session.id}:feedback:{value}",
                            )
                            for value in FEEDBACK_VALUES
                        ),
                    ),
                    target=direct_target(member, session),
                    due_at=now,
                    now=now,
                )
                wrote = True
        session.stage = SessionStage.FEEDBACK_SENT
    db.flush()
    return wrote


def setup(app: Host) -> None:
    """Register the ``sessions`` due work and start the registrar (``Host.services``)."""
    follow = FollowUp(app)
    app.scheduler.add_due_work("sessions", follow.next_due, follow.run)
    previous = app.services.get(REGISTRAR_SERVICE)
    if previous is not None:  # started again: one worker only
        previous.close()
    registrar = Registrar(app.sessions, Notifier.from_settings(app.translators, app.settings))
    registrar.start()
    app.services[REGISTRAR_SERVICE] = registrar  # closed by App.stop
    setup_announcements(app)
