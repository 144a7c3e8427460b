"""The scheduled work ``polls``: live results with throttled edits, and deadlines.

Live results and throttling
    A vote only bumps ``polls.revision``. The due-work provider ``polls`` (registered by
    :func:`setup`) edits the poll message of a poll whose ``rendered_revision`` lags, at most once
    every :data:`~commands.polls.service.EDIT_THROTTLE` per poll (from ``rendered_at``),
    re-rendering everything from the database; a failed edit backs off exponentially and is
    abandoned after :data:`MAX_EDIT_FAILURES`. A vote re-arms the provider only when its wake-up
    is not already armed for that edit or earlier (:meth:`PollWork.covers`), so most votes cost
    no query for it. Closing and reopening are shown at once. Hidden results
    (``--resultats-caches``) show the number of participants only, until the poll closes. All of
    this is database state, so it survives restarts.

Deadlines
    The same provider closes every open poll whose deadline passed, also the ones that fell due
    while the bot was stopped, and posts the results through the outbox (``poll:<id>:results``;
    ``poll:<id>:results:<n>`` for the n-th close of a reopened poll). Reopening a poll whose
    deadline passed removes the deadline unless ``--fin`` gives a new one.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select, update

from bot.context import Context
from bot.family import Host
from bot.outbox import sent_ref
from bot.storage.outbox import OutboxMessage, OutboxStatus
from bot.storage.polls import AnyPoll, Poll
from commands.polls.render import poll_message
from commands.polls.service import EDIT_THROTTLE, WORK_NAME, close_poll
from commands.polls.store import message_key, poll_results

log = logging.getLogger(__name__)

MAX_EDIT_FAILURES = 10
WORK_SERVICE = "polls.work"
"""Where :func:`setup` puts the :class:`PollWork` provider (``Host.services``)."""


def edit_due(rendered_at: datetime, failures: int) -> datetime:
    return rendered_at + EDIT_THROTTLE * (1 << min(failures, MAX_EDIT_FAILURES))


def after_vote(ctx: Context, poll: AnyPoll) -> None:
    """Have the poll message edited: re-arm the ``polls`` work unless it is already armed for a
    moment no later than this poll's next edit (then the vote costs no query for it)."""
    work: PollWork | None = ctx.services.get(WORK_SERVICE)
    if work is None or not work.covers(edit_due(poll.rendered_at, poll.edit_failures)):
        ctx.changed.add(WORK_NAME)


class PollWork:
    """The due-work provider ``polls``: closes polls at their deadline and edits stale poll
    messages, at most once per :data:`EDIT_THROTTLE` per poll. Everything comes from the
    database, so a restart loses nothing.

    A vote makes its poll stale; re-arming the provider (two queries and a transaction) after
    every vote cost more than the vote itself. The provider remembers the moment it last
    computed while the scheduler runs (:meth:`covers`): a vote whose edit falls no earlier needs
    no re-arming, since the scheduler re-arms from the database after every run anyway. Anything
    else (creating, closing, reopening) re-arms as before."""

    def __init__(self, app: Host) -> None:
        self.app = app
        self._armed: datetime | None = None
        """What :meth:`next_due` last returned while the scheduler was running (the scheduler
        then arms that moment: it calls ``next_due`` only to arm it, or before ``rearm()``)."""

    def covers(self, moment: datetime) -> bool:
        """Whether the armed wake-up comes no later than ``moment``."""
        armed = self._armed
        return self.app.scheduler.running and armed is not None and armed <= moment

    def next_due(self) -> datetime | None:
        due = self._next_due()
        self._armed = due if self.app.scheduler.running else None
        return due

    def _next_due(self) -> datetime | None:
        with self.app.sessions() as db:
            deadline = db.scalar(
                select(func.min(Poll.deadline)).where(
                    Poll.closed_at.is_(None), Poll.deadline.is_not(None)
                )
            )
            stale = db.execute(
                select(Poll.rendered_at, Poll.edit_failures).where(
                    Poll.revision != Poll.rendered_revision
                )
            ).all()
        moments = [edit_due(rendered_at, failures) for rendered_at, failures in stale]
        if deadline is not None:
            moments.append(deadline)
        return min(moments, default=None)

    async def run(self) -> None:
        if self.close_due():
            await self.app.after_change({"outbox"})
        await self.edit_stale()

    def close_due(self) -> int:
        now = self.app.clock.now()
        public_t = self.app.translator()
        with self.app.sessions() as db:
            due = list(
                db.scalars(
                    select(Poll.id).where(
                        Poll.closed_at.is_(None), Poll.deadline.is_not(None), Poll.deadline <= now
                    )
                )
            )
        closed = 0
        for poll_id in due:
            with self.app.sessions.begin() as db:
                poll = db.get(Poll, poll_id)
                if poll is not None and close_poll(
                    db, poll, now=now, public_t=public_t, at=poll.deadline
                ):
                    closed += 1
                    log.info("poll %s closed at its deadline", poll_id)
        return closed

    async def edit_stale(self) -> int:
        now = self.app.clock.now()
        public_t = self.app.translator()
        with self.app.sessions() as db:
            stale = db.execute(
                select(Poll.id, Poll.rendered_at, Poll.edit_failures).where(
                    Poll.revision != Poll.rendered_revision
                )
            ).all()
        edited = 0
        for poll_id, rendered_at, failures in stale:
            if edit_due(rendered_at, failures) > now:
                continue
            waiting = False
            with self.app.sessions() as db:
                poll = db.get(Poll, poll_id)
                assert poll is not None
                revision = poll.revision
                ref = sent_ref(db, message_key(poll_id))
                if ref is None:
                    status = db.scalar(
                        select(OutboxMessage.status).where(
                            OutboxMessage.key == message_key(poll_id)
                        )
                    )
                    waiting = status in (OutboxStatus.PENDING, OutboxStatus.SENDING)
                    reply = None
                else:
                    reply = poll_message(public_t, poll, poll_results(db, poll))
            if ref is None or reply is None:
                # Not posted yet: try again later; never posted: nothing to edit.
                values: dict[str, object] = {"rendered_at": now}
                if not waiting:
                    values["rendered_revision"] = revision
                self._mark(poll_id, values)
                continue
            if await self.app.edit_message(ref, reply):
                edited += 1
                self._mark(
                    poll_id, {"rendered_revision": revision, "rendered_at": now, "edit_failures": 0}
                )
            elif failures + 1 >= MAX_EDIT_FAILURES:
                log.warning("giving up editing the message of poll %s", poll_id)
                self._mark(poll_id, {"rendered_revision": revision, "rendered_at": now})
            else:
                self._mark(poll_id, {"rendered_at": now, "edit_failures": failures + 1})
        return edited

    def _mark(self, poll_id: int, values: dict[str, object]) -> None:
        with self.app.sessions.begin() as db:
            db.execute(
                update(Poll)
                .where(Poll.id == poll_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )


def setup(app: Host) -> None:
    """Register the ``polls`` due-work provider (deadlines and throttled message edits)."""
    work = PollWork(app)
    app.scheduler.add_due_work(WORK_NAME, work.next_due, work.run)
    app.services[WORK_SERVICE] = work
