"""Resolving what the scanner found against ``now`` and the time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo

from bot.dates.durations import _Span
from bot.dates.scanner import _Parts
from bot.dates.vocabulary import _PERIOD_TIMES, DEFAULT_TIME


def _localize(wall: datetime, zone: tzinfo) -> datetime:
    """A naive local wall time in ``zone`` as aware UTC (gap: shifted forward; fold: first)."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _shift(now: datetime, zone: tzinfo, span: _Span) -> datetime:
    """``now`` moved by whole calendar days (wall clock kept), then by exact elapsed time."""
    if span.days:
        wall = now.astimezone(zone).replace(tzinfo=None) + timedelta(days=span.days)
        base = _localize(wall, zone)
    else:
        base = now.astimezone(UTC)
    return base + span.rest


def _time_of_day(parts: _Parts, default_time: time | None) -> time:
    clock = parts.clock
    if clock is not None:
        if parts.meridiem or parts.period is None:
            return clock
        if parts.period in ("afternoon", "evening") and 1 <= clock.hour <= 11:
            return clock.replace(hour=clock.hour + 12)
        if parts.period == "morning" and clock.hour >= 13:
            raise parts.fail("ambiguous")
        return clock
    if parts.period is not None:
        return _PERIOD_TIMES[parts.period]
    base = default_time if default_time is not None else DEFAULT_TIME
    return time(base.hour, base.minute, base.second, base.microsecond)


def _infer_year(month: int, day: int, today: date, parts: _Parts) -> date:
    """The first date with this day and month that is not before ``today``."""
    for year in range(today.year, today.year + 9):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    raise parts.fail("invalid_date")


def _resolve(parts: _Parts, *, now: datetime, tz: tzinfo, default_time: time | None) -> datetime:
    zone: tzinfo = tz if parts.offset is None else timezone(parts.offset)
    today = now.astimezone(zone).date()
    if parts.next_ and parts.weekday is None:
        raise parts.fail("unreadable")

    if parts.is_now:
        if parts.weekday is not None or parts.clock is not None or parts.period is not None:
            raise parts.fail("ambiguous")
        return now.astimezone(UTC)

    tod = _time_of_day(parts, default_time)
    has_time = parts.clock is not None or parts.period is not None

    if parts.span is not None:
        if parts.weekday is not None:
            raise parts.fail("ambiguous")
        if not has_time:
            return _shift(now, zone, parts.span)
        if parts.span.rest:
            raise parts.fail("ambiguous")
        day = today + timedelta(days=parts.span.days)
        return _localize(datetime.combine(day, tod), zone)

    if parts.ymd is not None:
        try:
            day = date(*parts.ymd)
        except ValueError:
            raise parts.fail("invalid_date") from None
    elif parts.md is not None:
        day = _infer_year(*parts.md, today, parts)
    elif parts.relative_days is not None:
        day = today + timedelta(days=parts.relative_days)
    elif parts.weekday is not None:
        ahead = (parts.weekday - today.weekday()) % 7
        if parts.next_ and ahead == 0:
            ahead = 7
        moment = _localize(datetime.combine(today + timedelta(days=ahead), tod), zone)
        if moment < now:
            moment = _localize(datetime.combine(today + timedelta(days=ahead + 7), tod), zone)
        return moment
    elif parts.clock is not None and parts.period is None:
        moment = _localize(datetime.combine(today, tod), zone)
        if moment < now:
            moment = _localize(datetime.combine(today + timedelta(days=1), tod), zone)
        return moment
    elif has_time:
        day = today
    else:
        raise parts.fail("unreadable")

    if parts.weekday is not None and day.weekday() != parts.weekday:
        raise parts.fail("invalid_date")
    return _localize(datetime.combine(day, tod), zone)
