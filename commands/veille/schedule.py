"""The weekly slots of the digests, in the network's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from bot.config import FeedSettings

__all__ = ["Schedule", "latest_slot", "next_slot", "period_of"]


@dataclass(frozen=True, slots=True)
class Schedule:
    weekday: int
    """0 is Monday."""
    hour: int
    minute: int

    @classmethod
    def default(cls, feeds: FeedSettings) -> Schedule:
        return cls(feeds.digest_weekday, feeds.digest_hour, feeds.digest_minute)


def _local_slot(day: date, schedule: Schedule, tz: tzinfo) -> datetime:
    wall = datetime.combine(day, time(schedule.hour, schedule.minute), tzinfo=tz)
    return wall.astimezone(UTC)


def next_slot(after: datetime, schedule: Schedule, tz: tzinfo) -> datetime:
    """The first weekly slot strictly after ``after`` (aware), in UTC."""
    local_day = after.astimezone(tz).date()
    day = local_day + timedelta(days=(schedule.weekday - local_day.weekday()) % 7)
    slot = _local_slot(day, schedule, tz)
    while slot <= after:
        day += timedelta(days=7)
        slot = _local_slot(day, schedule, tz)
    return slot


def latest_slot(at: datetime, schedule: Schedule, tz: tzinfo) -> datetime:
    """The latest weekly slot at or before ``at``."""
    slot = next_slot(at, schedule, tz)
    day = slot.astimezone(tz).date()
    while slot > at:
        day -= timedelta(days=7)
        slot = _local_slot(day, schedule, tz)
    return slot


def period_of(slot: datetime, tz: tzinfo) -> str:
    """``2026-W48``: the ISO week of ``slot`` in the network's time zone."""
    year, week, _ = slot.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"
