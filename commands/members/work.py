"""The ``meetings`` due work: the scheduled rounds and the check-ins a week after each; and
:func:`setup`, which registers it."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.family import Host
from bot.storage.meetings import MeetingRound, MeetingSchedule
from bot.storage.profiles import Referent
from commands.members.meetings import WORK_NAME
from commands.members.referents import DIGEST_EVERY, tell_referents
from commands.members.referents import WORK_NAME as REFERENTS
from commands.members.rounds import following_round, hold_round, send_checkins

log = logging.getLogger(__name__)


class Rounds:
    """The ``meetings`` due-work provider."""

    def __init__(self, app: Host) -> None:
        self.app = app

    def next_due(self) -> datetime | None:
        with self.app.sessions() as db:
            moments = [
                db.scalar(select(func.min(MeetingSchedule.next_at))),
                db.scalar(
                    select(func.min(MeetingRound.checkin_at)).where(
                        MeetingRound.checkin_sent.is_(False)
                    )
                ),
            ]
        found = [m for m in moments if m is not None]
        return min(found) if found else None

    async def run(self) -> None:
        app = self.app
        now = app.clock.now()
        locale = app.settings.network.locale
        tz = ZoneInfo(app.settings.network.timezone)
        wrote = False
        with app.sessions() as db:
            due = db.scalars(select(MeetingSchedule).where(MeetingSchedule.next_at <= now)).all()
            for schedule in due:
                held = hold_round(
                    db,
                    schedule.platform,
                    now,
                    app.translators,
                    locale,
                    fallback_channel_id=schedule.fallback_channel_id,
                )
                if held is None:
                    log.info("no meeting round on %s: fewer than two members", schedule.platform)
                wrote = wrote or held is not None
                schedule.next_at = following_round(schedule.next_at, schedule.every_weeks, tz, now)
            wrote = send_checkins(db, now, app.translators, locale) or wrote
            db.commit()
        if wrote:
            await app.after_change({"outbox"})


class ReferentNews:
    """The ``referents`` due-work provider: each referent's daily message."""

    def __init__(self, app: Host) -> None:
        self.app = app

    def next_due(self) -> datetime | None:
        with self.app.sessions() as db:
            oldest = db.scalar(select(func.min(Referent.notified_through)))
        return oldest + DIGEST_EVERY if oldest is not None else None

    async def run(self) -> None:
        app = self.app
        with app.sessions() as db:
            wrote = tell_referents(
                db, app.clock.now(), app.translators, app.settings.network.locale
            )
            db.commit()
        if wrote:
            await app.after_change({"outbox"})


def setup(app: Host) -> None:
    rounds = Rounds(app)
    app.scheduler.add_due_work(WORK_NAME, rounds.next_due, rounds.run)
    news = ReferentNews(app)
    app.scheduler.add_due_work(REFERENTS, news.next_due, news.run)
