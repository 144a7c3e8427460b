"""Resolving what the scanner found against ``now`` and the time zone."""

from __future__ import annotations

import calendar
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


def _infer_year(month: int, day: int, today: date, parts: _Parts, *, past: bool) -> date:
    """The first date with this day and month that is not before ``today`` (``past``: the last
    one that is not after ``today``)."""
    years = range(today.year, today.year - 9, -1) if past else range(today.year, today.year + 9)
    longest = 29 if month == 2 else calendar.monthrange(2001, month)[1] if 1 <= month <= 12 else 0
    if longest and day > longest:
        # never that day: say how long the month is in the year it would be read in
        ahead = (month, day) >= (today.month, today.day)
        year = today.year + (0 if ahead != past else (-1 if past else 1))
        days = calendar.monthrange(year, month)[1]
        raise parts.fail("invalid_date", "day_of_month", month=month, day=day, days=days)
    for year in years:
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if (candidate <= today) if past else (candidate >= today):
            return candidate
    raise parts.fail("invalid_date", "out_of_range")


def _exact_date(parts: _Parts, year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        if 1 <= month <= 12 and 1 <= day <= 31:
            days = calendar.monthrange(year, month)[1]
            raise parts.fail(
                "invalid_date", "day_of_month", month=month, day=day, days=days
            ) from None
        raise parts.fail("invalid_date") from None


def _resolve(
    parts: _Parts,
    *,
    now: datetime,
    tz: tzinfo,
    default_time: time | None,
    need_time: bool = False,
    past: bool = False,
) -> datetime:
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
    if need_time and not has_time and (parts.span is None or not parts.span.rest):
        raise parts.fail("missing_time")

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
        day = _exact_date(parts, *parts.ymd)
    elif parts.md is not None:
        day = _infer_year(*parts.md, today, parts, past=past)
    elif parts.relative_days is not None:
        day = today + timedelta(days=parts.relative_days)
    elif parts.weekday is not None and past and not parts.next_:
        day = today - timedelta(days=(today.weekday() - parts.weekday) % 7)
        moment = _localize(datetime.combine(day, tod), zone)
        if moment > now:
            moment = _localize(datetime.combine(day - timedelta(days=7), tod), zone)
        return moment
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
        raise parts.fail("invalid_date", "weekday", weekday=parts.weekday, actual=day.weekday())
    return _localize(datetime.combine(day, tod), zone)
