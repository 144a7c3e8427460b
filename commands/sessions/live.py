"""Live announcements: a session's announcement is edited when what it says changes.

Every change the announcement shows (a seat taken or given back, someone joining or leaving the
waiting list, a quota or the capacity changed, the session cancelled, started, over, a presence
recorded) raises ``sessions.revision`` in the statement or transaction that makes it. The
due-work provider :data:`WORK_NAME` edits the announcement (outbox ``session:<id>:announce``) of
every session whose ``rendered_revision`` lags, at most once every :data:`EDIT_THROTTLE` per
session, re-rendered from the database by
:func:`~commands.sessions.messages.announcement_reply`; a refused edit backs off exponentially
and is abandoned after :data:`MAX_EDIT_FAILURES`. A registration deadline passing is a change
too: the provider wakes up at it. Everything is database state, so a restart loses nothing.

Handlers re-arm the provider through ``ctx.changed`` (:func:`after_change`) unless its wake-up is
already armed no later than one throttle from now: an edit is then at most one throttle late,
and a burst of registrations costs no query for it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from bot.context import Context
from bot.family import Host
from bot.outbox import sent_ref
from bot.storage.outbox import OutboxMessage, OutboxStatus
from bot.storage.sessions import SessionRow, SessionStage, SessionStatus
from commands.sessions.messages import announcement_reply
from commands.sessions.notify import announce_key
from commands.sessions.store import present_count, quota_rows, waitlist_counts

log = logging.getLogger(__name__)

WORK_NAME = "sessions.announcements"
WORK_SERVICE = "sessions.announcements"
EDIT_THROTTLE = timedelta(seconds=5)
"""At most one edit of an announcement per this delay (as the live results of a poll)."""
MAX_EDIT_FAILURES = 10


def edit_due(rendered_at: datetime | None, failures: int, created_at: datetime) -> datetime:
    if rendered_at is None:
        return created_at
    return rendered_at + EDIT_THROTTLE * (1 << min(failures, MAX_EDIT_FAILURES))


def after_change(ctx: Context) -> None:
    """A handler changed a session: have its announcement edited (see the module docstring)."""
    work: Announcements | None = ctx.services.get(WORK_SERVICE)
    if work is None or not work.covers(ctx.now() + EDIT_THROTTLE):
        ctx.changed.add(WORK_NAME)


_PENDING_DEADLINE = (
    (SessionRow.status == SessionStatus.SCHEDULED)
    & (SessionRow.stage == SessionStage.PLANNED)
    & SessionRow.registration_deadline.is_not(None)
    & (
        SessionRow.registration_deadline
        > func.coalesce(SessionRow.rendered_at, SessionRow.created_at)
    )
)
"""Sessions whose announcement was last rendered before their registration deadline."""


class Announcements:
    """The due-work provider :data:`WORK_NAME` (registered by :func:`setup`)."""

    def __init__(self, app: Host) -> None:
        self.app = app
        self._armed: datetime | None = None

    def covers(self, moment: datetime) -> bool:
        armed = self._armed
        return self.app.scheduler.running and armed is not None and armed <= moment

    def next_due(self) -> datetime | None:
        with self.app.sessions() as db:
            stale = db.execute(
                select(
                    SessionRow.rendered_at, SessionRow.edit_failures, SessionRow.created_at
                ).where(SessionRow.revision != SessionRow.rendered_revision)
            ).all()
            deadline = db.scalar(
                select(func.min(SessionRow.registration_deadline)).where(_PENDING_DEADLINE)
            )
        moments = [edit_due(*row) for row in stale]
        if deadline is not None:
            moments.append(deadline)
        due = min(moments, default=None)
        self._armed = due if self.app.scheduler.running else None
        return due

    async def run(self) -> None:
        now = self.app.clock.now()
        with self.app.sessions.begin() as db:
            db.execute(
                update(SessionRow)
                .where(_PENDING_DEADLINE, SessionRow.registration_deadline <= now)
                .values(revision=SessionRow.revision + 1)
                .execution_options(synchronize_session=False)
            )
        await self.edit_stale(now)

    async def edit_stale(self, now: datetime) -> int:
        t = self.app.translator()
        with self.app.sessions() as db:
            stale = db.execute(
                select(
                    SessionRow.id,
                    SessionRow.rendered_at,
                    SessionRow.edit_failures,
                    SessionRow.created_at,
                ).where(SessionRow.revision != SessionRow.rendered_revision)
            ).all()
        edited = 0
        for session_id, rendered_at, failures, created_at in stale:
            if edit_due(rendered_at, failures, created_at) > now:
                continue
            waiting = False
            with self.app.sessions() as db:
                session = db.get(SessionRow, session_id)
                assert session is not None
                revision = session.revision
                ref = sent_ref(db, announce_key(session_id))
                reply = None
                if ref is None:
                    status = db.scalar(
                        select(OutboxMessage.status).where(
                            OutboxMessage.key == announce_key(session_id)
                        )
                    )
                    waiting = status in (OutboxStatus.PENDING, OutboxStatus.SENDING)
                else:
                    reply = announcement_reply(
                        t,
                        session,
                        waiting=waitlist_counts(db, [session_id]).get(session_id, 0),
                        quotas=quota_rows(db, session_id),
                        present=present_count(db, session_id),
                        now=now,
                    )
            if ref is None or reply is None:
                # Not posted yet: try again later; never posted: nothing to edit.
                values: dict[str, object] = {"rendered_at": now}
                if not waiting:
                    values["rendered_revision"] = revision
                self._mark(session_id, values)
                continue
            if await self.app.edit_message(ref, reply):
                edited += 1
                self._mark(
                    session_id,
                    {"rendered_revision": revision, "rendered_at": now, "edit_failures": 0},
                )
            elif failures + 1 >= MAX_EDIT_FAILURES:
                log.warning("giving up editing the announcement of session %s", session_id)
                self._mark(session_id, {"rendered_revision": revision, "rendered_at": now})
            else:
                self._mark(session_id, {"rendered_at": now, "edit_failures": failures + 1})
        return edited

    def _mark(self, session_id: int, values: dict[str, object]) -> None:
        with self.app.sessions.begin() as db:
            db.execute(
                update(SessionRow)
                .where(SessionRow.id == session_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )


def setup(app: Host) -> None:
    """Register the :data:`WORK_NAME` provider."""
    work = Announcements(app)
    app.scheduler.add_due_work(WORK_NAME, work.next_due, work.run)
    app.services[WORK_SERVICE] = work
