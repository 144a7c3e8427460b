"""Dates, times and durations typed by people, French first and English too.

Used by polls (deadlines, date-poll slots), sessions (``--quand``, ``--inscriptions-jusqu-au``),
announcements and the console clock. Every public function returns an *aware datetime in UTC*
(or a :class:`~datetime.timedelta`) and raises only :class:`DateParseError`, whose ``code`` is
machine-readable; the caller translates it (no user-facing sentence is produced here).

Reading rules (all matching is case- and accent-insensitive; extra spaces are tolerated):

- Text is read in the time zone ``tz`` given by the caller, except an ISO time carrying an explicit
  offset (``2026-12-03T14:00+01:00``, ``...Z``), which is honoured.
- Numeric dates are day first (``3/12`` is the 3rd of December). ``3/12/26`` means 2026.
- A date without a year is the next occurrence whose *date* is not before today: on the
  22nd of November ``22/11`` is today, ``3/01`` is next January; ``29/02`` is the next leap day.
- A weekday alone (``vendredi 18h``) is the next such day whose resulting moment is not in the
  past: on a Friday, ``vendredi 18h`` is today until 18:00, then next week. ``vendredi prochain``
  / ``next friday`` is the next such day strictly after today (never today).
- A weekday given together with a date must match it, else ``invalid_date``.
- A time alone (``18h``) is its next occurrence: today if still ahead, else tomorrow.
- Default times: a date without a time gets ``default_time``, or 09:00 (:data:`DEFAULT_TIME`)
  when it is None; ``matin``/``morning`` 09:00, ``après-midi``/``afternoon`` 14:00,
  ``soir``/``evening``/``ce soir``/``tonight`` 20:00, ``midi``/``noon`` 12:00, ``minuit``/
  ``midnight`` 00:00 (the start of the day it is attached to). A day-part word without a date
  means today. With ``soir`` or ``après-midi`` an hour from 1 to 11 is read as p.m.
  (``ce soir 9h`` is 21:00); ``matin`` with an hour after 12 is ``ambiguous``.
- ``dans 2 jours`` / ``in 2 days`` keeps the wall-clock time (a day is a calendar day, even across
  a DST change); hours, minutes and seconds are exact elapsed time. ``dans 2 jours à 14h`` takes
  the day two days ahead at 14:00 (without the ``à``, ``dans 2 jours 14h`` is the duration
  2 days 14 hours).
- ``maintenant`` / ``now`` is ``now`` itself.
- A dotted pair is a date or a time: ``14.30`` is 14:30 (30 is no month), ``31.12`` is a date,
  ``3.12 14h`` is a date (there already is a time), ``demain 9.30`` a time; ``3.12`` alone is
  ``ambiguous``.
- DST: a local time that does not exist (spring forward, 2027-03-28 02:30 Europe/Paris) is shifted
  forward by the length of the gap (03:30 CEST, 01:30 UTC); a local time that happens twice
  (autumn) is the first occurrence (``fold=0``, summer time).
- Past moments are not refused here: callers decide.

Error codes: ``empty`` (nothing but spaces), ``unreadable`` (a word or form that is not
understood, an hour like ``25h``), ``ambiguous`` (two dates, two times, ``3.12`` alone...),
``invalid_date`` (``31/02``, a weekday that does not match the date, a moment out of range).
"""

from __future__ import annotations

import re
from datetime import MAXYEAR, MINYEAR, UTC, date, datetime, time, timezone, tzinfo
from typing import Final
from zoneinfo import ZoneInfo

from bot.core import InvalidValue
from bot.dates.durations import _read_span, parse_duration
from bot.dates.errors import DateParseError, ErrorCode
from bot.dates.explain import explain
from bot.dates.resolving import _localize, _resolve, _shift
from bot.dates.scanner import _offset, _Parts, _scan
from bot.dates.vocabulary import (
    DATE_EXAMPLES_EN,
    DATE_EXAMPLES_FR,
    DEADLINE_DEFAULT_TIME,
    DEFAULT_TIME,
    DURATION_EXAMPLES_EN,
    DURATION_EXAMPLES_FR,
    _normalize,
)
from bot.dates.years import FIRST_YEAR, LAST_YEAR, year_span

__all__ = [
    "DATE_EXAMPLES_EN",
    "DATE_EXAMPLES_FR",
    "DEADLINE_DEFAULT_TIME",
    "DEFAULT_TIME",
    "DURATION_EXAMPLES_EN",
    "DURATION_EXAMPLES_FR",
    "FIRST_YEAR",
    "LAST_YEAR",
    "DateParseError",
    "ErrorCode",
    "explain",
    "parse_clock_shift",
    "parse_datetime",
    "parse_deadline",
    "parse_duration",
    "year_span",
]


def _check_now(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidValue("now must be timezone-aware")


def parse_datetime(
    text: str,
    *,
    now: datetime,
    tz: ZoneInfo,
    default_time: time | None = None,
    need_time: bool = False,
    past: bool = False,
) -> datetime:
    """Read a date and/or time typed by a person; returns an aware datetime in UTC.

    ``now`` is aware (any zone); the text is read in ``tz``. A date without a time gets
    ``default_time`` (its tzinfo is ignored), or 09:00 when it is None; with ``need_time`` it is
    refused (``missing_time``) instead. With ``past``, a day and month without a year (``1
    janvier``) and a weekday alone are the last ones not after today (``--depuis``). A moment in
    the years 1 or 9999 is refused (``out_of_range``): nothing could be added to it. See the module docstring
    for every rule. Raises :class:`DateParseError` only.
    """
    _check_now(now)
    parts = _scan(text)
    try:
        moment = _resolve(
            parts, now=now, tz=tz, default_time=default_time, need_time=need_time, past=past
        )
    except DateParseError:
        raise
    except (OverflowError, ValueError):
        # a moment outside what datetime can hold (year 1 or 9999 moved by an offset...)
        raise DateParseError("invalid_date", text, detail="out_of_range") from None
    if moment.year >= MAXYEAR or moment.year <= MINYEAR:
        # a moment at the edge of the calendar: adding a length or a reminder would overflow
        raise DateParseError("invalid_date", text, detail="out_of_range")
    return moment


def parse_deadline(
    text: str, *, now: datetime, tz: ZoneInfo, default_time: time | None = DEADLINE_DEFAULT_TIME
) -> datetime:
    """Read a deadline: a duration from ``now`` (``2j``, ``48h``, ``1h30``) or a date/time
    (``vendredi 18h``, ``3/12``, ``dans 2 jours``); returns an aware datetime in UTC.

    A bare duration wins over a time of day: ``18h`` is 18 hours from now (write ``18:00`` or
    ``aujourd'hui 18h`` for the time). Whole days keep the wall-clock time, like ``dans 2 jours``.
    A date without a time is the end of that day (23:59) unless ``default_time`` says otherwise.
    """
    _check_now(now)
    try:
        span = _read_span(text)
    except DateParseError as error:
        if error.code == "empty":
            raise
    else:
        try:
            return _shift(now, tz, span)
        except (OverflowError, ValueError):
            raise DateParseError("invalid_date", text) from None
    return parse_datetime(text, now=now, tz=tz, default_time=default_time)


_CLOCK_ISO: Final = re.compile(
    r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})"
    r"(?:[t ](?P<h>[0-9]{2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2})(?:[.,](?P<frac>[0-9]{1,6}))?)?"
    r"(?P<off>z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?"
)


def parse_clock_shift(text: str, *, now: datetime, tz: ZoneInfo) -> datetime:
    """Read the argument of the console's ``:clock``; returns the target as aware UTC.

    ``+2d3h`` (must start with ``+``; any :func:`parse_duration` form) is exactly that much
    elapsed time after ``now``. Otherwise an ISO moment: ``2026-12-03T09:00``,
    ``2026-12-03 09:00:30``, ``2026-12-03T09:00+01:00``, ``2026-12-03`` (local midnight); naive
    ones are local to ``tz``. Going backwards is not refused here (the clock refuses it).
    """
    _check_now(now)
    s = _normalize(text)
    if not s:
        raise DateParseError("empty", text)
    if s.startswith("+"):
        try:
            delta = parse_duration(s[1:])
        except DateParseError as error:
            code: ErrorCode = "unreadable" if error.code == "empty" else error.code
            raise DateParseError(code, text) from None
        try:
            return now.astimezone(UTC) + delta
        except OverflowError:
            raise DateParseError("invalid_date", text) from None
    m = _CLOCK_ISO.fullmatch(s)
    if m is None:
        raise DateParseError("unreadable", text)
    parts = _Parts(text)
    if m["h"] is not None:
        micro = int(m["frac"].ljust(6, "0")) if m["frac"] is not None else 0
        parts.set_clock(int(m["h"]), int(m["mi"]), int(m["s"] or "0"), micro)
        if m["off"] is not None:
            parts.offset = _offset(m["off"], parts)
    zone: tzinfo = tz if parts.offset is None else timezone(parts.offset)
    try:
        day = date(int(m["y"]), int(m["mo"]), int(m["d"]))
    except ValueError:
        raise DateParseError("invalid_date", text) from None
    try:
        return _localize(datetime.combine(day, parts.clock or time(0, 0)), zone)
    except (OverflowError, ValueError):
        raise DateParseError("invalid_date", text) from None
