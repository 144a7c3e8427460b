"""The ``privacy`` due work: what is useful only for a while is deleted when its time is up
(``[privacy]`` settings): feed entries (not shares), the texts of direct messages already sent
or given up, the channel messages remembered for /pepite, the cursors of rooms not heard from.

When it is due is derived from the database (the oldest row of each kind plus its retention),
like every other due work."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.config import PrivacySettings
from bot.family import Host
from bot.storage.base import changed_rows
from bot.storage.highlights import RecentMessage
from bot.storage.outbox import OutboxMessage, OutboxStatus
from bot.storage.platform_state import LISTENING, PlatformCursor
from bot.storage.veille import ENTRY_SHARE, FeedEntry

log = logging.getLogger(__name__)

WORK_NAME = "privacy"
_DONE = (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.SKIPPED)


def _limits(settings: PrivacySettings) -> dict[str, timedelta]:
    return {
        "feed_entries": timedelta(days=settings.feed_entries_days),
        "direct_messages": timedelta(days=settings.direct_messages_days),
        "recent_messages": timedelta(hours=settings.recent_messages_hours),
        "cursors": timedelta(days=settings.cursors_days),
    }


def next_purge(db: Session, settings: PrivacySettings) -> datetime | None:
    """When the oldest row of some kind passes its retention."""
    limits = _limits(settings)
    oldest = {
        "feed_entries": db.scalar(
            select(func.min(FeedEntry.created_at)).where(FeedEntry.kind != ENTRY_SHARE)
        ),
        "direct_messages": db.scalar(
            select(func.min(OutboxMessage.created_at)).where(
                OutboxMessage.target_kind == "direct", OutboxMessage.status.in_(_DONE)
            )
        ),
        "recent_messages": db.scalar(select(func.min(RecentMessage.said_at))),
        "cursors": db.scalar(
            select(func.min(PlatformCursor.updated_at)).where(
                PlatformCursor.channel_id != LISTENING
            )
        ),
    }
    moments = [at + limits[kind] for kind, at in oldest.items() if at is not None]
    return min(moments) if moments else None


def purge(db: Session, settings: PrivacySettings, now: datetime) -> dict[str, int]:
    """Delete what passed its retention; how many rows of each kind."""
    limits = _limits(settings)
    return {
        "feed_entries": changed_rows(
            db.execute(
                delete(FeedEntry).where(
                    FeedEntry.kind != ENTRY_SHARE,
                    FeedEntry.created_at <= now - limits["feed_entries"],
                )
            )
        ),
        "direct_messages": changed_rows(
            db.execute(
                delete(OutboxMessage).where(
                    OutboxMessage.target_kind == "direct",
                    OutboxMessage.status.in_(_DONE),
                    OutboxMessage.created_at <= now - limits["direct_messages"],
                )
            )
        ),
        "recent_messages": changed_rows(
            db.execute(
                delete(RecentMessage).where(
                    RecentMessage.said_at <= now - limits["recent_messages"]
                )
            )
        ),
        "cursors": changed_rows(
            db.execute(
                delete(PlatformCursor).where(
                    PlatformCursor.channel_id != LISTENING,
                    PlatformCursor.updated_at <= now - limits["cursors"],
                )
            )
        ),
    }


def setup(app: Host) -> None:
    settings = app.settings.privacy

    def next_due() -> datetime | None:
        with app.sessions() as db:
            return next_purge(db, settings)

    async def run() -> None:
        with app.sessions() as db:
            counts = purge(db, settings, app.clock.now())
            db.commit()
        if any(counts.values()):
            log.info("retention: deleted %s", counts)

    app.scheduler.add_due_work(WORK_NAME, next_due, run)
