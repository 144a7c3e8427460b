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
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from fractions import Fraction
from typing import Final, Literal
from zoneinfo import ZoneInfo

from bot.core import InvalidValue, TisserandError

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
    "parse_clock_shift",
    "parse_datetime",
    "parse_deadline",
    "parse_duration",
    "year_span",
]

ErrorCode = Literal["unreadable", "ambiguous", "invalid_date", "empty"]


class DateParseError(TisserandError, ValueError):
    """A date, time or duration that could not be read.

    ``code`` is one of ``"unreadable"``, ``"ambiguous"``, ``"invalid_date"``, ``"empty"``;
    ``text`` is the input exactly as given. The message is for logs, not for users.
    """

    def __init__(self, code: ErrorCode, text: str) -> None:
        super().__init__(f"{code}: {text!r}")
        self.code: ErrorCode = code
        self.text = text


DATE_EXAMPLES_FR: Final[tuple[str, ...]] = (
    "3 décembre 14h",
    "3/12 14h30",
    "2026-12-03 14:00",
    "demain 9h",
    "vendredi 18h",
    "dans 2 jours",
)
DATE_EXAMPLES_EN: Final[tuple[str, ...]] = (
    "december 3 2pm",
    "3 dec 14:00",
    "2026-12-03 14:00",
    "tomorrow 9am",
    "friday 6pm",
    "in 2 days",
)
DURATION_EXAMPLES_FR: Final[tuple[str, ...]] = ("2j", "48h", "1h30", "1 semaine")
DURATION_EXAMPLES_EN: Final[tuple[str, ...]] = ("2d", "48h", "1h30", "1 week")

DEFAULT_TIME: Final = time(9, 0)
"""The time given to a date typed without one, when the caller gives no ``default_time``."""
DEADLINE_DEFAULT_TIME: Final = time(23, 59)
"""The time :func:`parse_deadline` gives to a date typed without one: the end of that day."""

_PERIOD_TIMES: Final[dict[str, time]] = {
    "morning": time(9, 0),
    "afternoon": time(14, 0),
    "evening": time(20, 0),
}

# --------------------------------------------------------------------------- vocabulary

_MONTHS: Final[dict[str, int]] = {
    **dict.fromkeys(("janvier", "janv", "jan", "january"), 1),
    **dict.fromkeys(("fevrier", "fevr", "fev", "feb", "february"), 2),
    **dict.fromkeys(("mars", "mar", "march"), 3),
    **dict.fromkeys(("avril", "avr", "apr", "april"), 4),
    **dict.fromkeys(("mai", "may"), 5),
    **dict.fromkeys(("juin", "jun", "june"), 6),
    **dict.fromkeys(("juillet", "juil", "jul", "july"), 7),
    **dict.fromkeys(("aout", "aug", "august"), 8),
    **dict.fromkeys(("septembre", "sept", "sep", "september"), 9),
    **dict.fromkeys(("octobre", "oct", "october"), 10),
    **dict.fromkeys(("novembre", "nov", "november"), 11),
    **dict.fromkeys(("decembre", "dec", "december"), 12),
}

# "mar" is left out of the weekdays: it is March in English.
_WEEKDAYS: Final[dict[str, int]] = {
    **dict.fromkeys(("lundi", "lun", "monday", "mon"), 0),
    **dict.fromkeys(("mardi", "tuesday", "tues", "tue"), 1),
    **dict.fromkeys(("mercredi", "mer", "wednesday", "wed"), 2),
    **dict.fromkeys(("jeudi", "jeu", "thursday", "thurs", "thur", "thu"), 3),
    **dict.fromkeys(("vendredi", "ven", "friday", "fri"), 4),
    **dict.fromkeys(("samedi", "sam", "saturday", "sat"), 5),
    **dict.fromkeys(("dimanche", "dim", "sunday", "sun"), 6),
}

_RELATIVE_DAYS: Final[tuple[tuple[str, int], ...]] = (
    (r"aujourd'?\s?hui|today", 0),
    (r"apres[-\s]?demain|(?:the\s+)?day\s+after\s+tomorrow", 2),
    (r"demain|tomorrow|tmrw", 1),
    (r"avant[-\s]?hier|(?:the\s+)?day\s+before\s+yesterday", -2),
    (r"hier|yesterday", -1),
)

_PERIODS: Final[tuple[tuple[str, str], ...]] = (
    (r"apres[-\s]?midi|aprem|afternoon", "afternoon"),
    (r"matinee|matin|morning", "morning"),
    (r"soiree|soir|evening", "evening"),
)

# unit -> (kind, seconds per unit); kinds "w" and "d" are calendar days
_UNITS: Final[dict[str, tuple[str, int]]] = {
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), ("w", 7 * 86400)),
    **dict.fromkeys(("sem", "sems", "semaine", "semaines"), ("w", 7 * 86400)),
    **dict.fromkeys(("j", "jr", "jrs", "jour", "jours", "d", "day", "days"), ("d", 86400)),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours", "heure", "heures"), ("h", 3600)),
    **dict.fromkeys(("m", "mn", "min", "mins", "minute", "minutes"), ("m", 60)),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds", "seconde", "secondes"), ("s", 1)),
}


def _alternation(words: Iterable[str]) -> str:
    """A regex alternation trying the longest words first."""
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


_MONTH_ALT: Final = _alternation(_MONTHS)
_WEEKDAY_ALT: Final = _alternation(_WEEKDAYS)
_UNIT_ALT: Final = _alternation(_UNITS)
_ORDINAL: Final = r"(?:ere|eme|er|re|e|st|nd|rd|th)"
_END: Final = r"(?![a-z0-9])"
_MERIDIEM: Final = r"(?P<mer>a\.?m\.?|p\.?m\.?)(?![a-z0-9])"
_SEPARATORS: Final = frozenset(" ,;.")

_TRANSLATE: Final = str.maketrans(
    {
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "`": "'",
        "´": "'",
        "‐": "-",
        "‑": "-",
        "–": "-",
        "—": "-",
    }
)


def _normalize(text: str) -> str:
    """Lower case, no accents, straight apostrophes, single spaces."""
    folded = unicodedata.normalize("NFKD", text.translate(_TRANSLATE).casefold())
    bare = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(bare.split())


# --------------------------------------------------------------------------- durations


@dataclass(frozen=True)
class _Span:
    """A duration: whole calendar days, then exact elapsed time."""

    days: int
    rest: timedelta


_DURATION_PART: Final = re.compile(
    r"(?:(?P<n>[0-9]{1,9}(?:[.,][0-9]{1,6})?)\s*|(?P<w>une?|an?)\s+)"
    rf"(?P<u>{_UNIT_ALT})(?![a-z])"
)
_DURATION_JOIN: Final = re.compile(r"\s*(?:,|\+|(?:et|and)(?![a-z]))?\s*")
_BARE_MINUTES: Final = re.compile(
    rf"\s*(?P<n>[0-9]{{1,2}})(?![0-9a-z.,:/'-])(?!\s*(?:{_UNIT_ALT})(?![a-z]))"
)


def _scan_duration(s: str, pos: int) -> tuple[_Span, int] | None:
    """Read a duration at ``pos``; returns it and where it ends, or None if there is none.

    Stops before anything that is not a further component (or repeats a unit already seen).
    """
    seen: set[str] = set()
    days = Fraction(0)
    seconds = Fraction(0)
    end = pos
    cursor = pos
    while True:
        m = _DURATION_PART.match(s, cursor)
        if m is None:
            break
        kind, per_unit = _UNITS[m["u"]]
        if kind in seen:
            break
        seen.add(kind)
        amount = Fraction(m["n"].replace(",", ".")) if m["n"] is not None else Fraction(1)
        if kind in ("w", "d"):
            days += amount * (per_unit // 86400)
        else:
            seconds += amount * per_unit
        end = m.end()
        if kind == "h" and m["n"] is not None and "m" not in seen:
            bare = _BARE_MINUTES.match(s, end)
            if bare is not None and int(bare["n"]) < 60:
                seconds += int(bare["n"]) * 60
                seen.add("m")
                end = bare.end()
        joint = _DURATION_JOIN.match(s, end)
        cursor = end if joint is None else joint.end()
    if not seen:
        return None
    whole_days = int(days)
    seconds += (days - whole_days) * 86400
    microseconds = round(seconds * 1_000_000)
    try:
        return _Span(whole_days, timedelta(microseconds=microseconds)), end
    except OverflowError:
        return None


def _read_span(text: str) -> _Span:
    s = _normalize(text)
    if not s:
        raise DateParseError("empty", text)
    found = _scan_duration(s, 0)
    if found is None or found[1] != len(s):
        raise DateParseError("unreadable", text)
    return found[0]


def parse_duration(text: str) -> timedelta:
    """Read a duration: ``2j``, ``2 jours``, ``3h``, ``1h30``, ``1h 30``, ``90min``, ``2d3h``,
    ``1 semaine``, ``2sem``, ``2w``, ``30m``, ``45s``, ``1,5 jour``, ``une semaine``, ``a week``.

    Each unit may appear once; a bare number after hours is minutes. Raises
    :class:`DateParseError` (``empty`` or ``unreadable``, also for a duration too large).
    """
    span = _read_span(text)
    try:
        return timedelta(days=span.days) + span.rest
    except OverflowError:
        raise DateParseError("unreadable", text) from None


# --------------------------------------------------------------------------- reading


@dataclass
class _Parts:
    """What the scanner found in the text, before it is resolved against ``now``."""

    text: str
    ymd: tuple[int, int, int] | None = None
    md: tuple[int, int] | None = None
    relative_days: int | None = None
    span: _Span | None = None
    is_now: bool = False
    date_claims: int = 0
    clock: time | None = None
    meridiem: bool = False
    offset: timedelta | None = None
    period: str | None = None
    weekday: int | None = None
    next_: bool = False
    dotted: list[tuple[int, int, str]] = field(default_factory=list)

    def fail(self, code: ErrorCode) -> DateParseError:
        return DateParseError(code, self.text)

    def claim_date(self) -> None:
        if self.date_claims:
            raise self.fail("ambiguous")
        self.date_claims += 1

    def set_clock(self, hour: int, minute: int, second: int = 0, micro: int = 0) -> None:
        if self.clock is not None:
            raise self.fail("ambiguous")
        if not (0 <= hour <= 23 and 0 <= minute <= 59 and 0 <= second <= 59):
            raise self.fail("unreadable")
        self.clock = time(hour, minute, second, micro)

    def set_year_month_day(self, year: int | None, month: int, day: int) -> None:
        self.claim_date()
        if year is None:
            self.md = (month, day)
        else:
            self.ymd = (year, month, day)


_Handler = Callable[[re.Match[str], _Parts, str], int]


def _on_iso_date(m: re.Match[str], parts: _Parts, s: str) -> int:
    parts.set_year_month_day(int(m["y"]), int(m["mo"]), int(m["d"]))
    return m.end()


def _year(raw: str | None) -> int | None:
    if raw is None:
        return None
    return 2000 + int(raw) if len(raw) == 2 else int(raw)


def _on_numeric_date(m: re.Match[str], parts: _Parts, s: str) -> int:
    if m["sep"] == "." and m["y"] is None:
        parts.dotted.append((int(m["d"]), int(m["mo"]), m["mo"]))
    else:
        parts.set_year_month_day(_year(m["y"]), int(m["mo"]), int(m["d"]))
    return m.end()


def _meridiem_hour(hour: int, meridiem: str, parts: _Parts) -> int:
    if not 1 <= hour <= 12:
        raise parts.fail("unreadable")
    parts.meridiem = True
    if meridiem.startswith("a"):
        return 0 if hour == 12 else hour
    return 12 if hour == 12 else hour + 12


def _on_colon_time(m: re.Match[str], parts: _Parts, s: str) -> int:
    hour = int(m["h"])
    if m["mer"] is not None:
        hour = _meridiem_hour(hour, m["mer"], parts)
    second = int(m["s"]) if m["s"] is not None else 0
    micro = int(m["frac"].ljust(6, "0")) if m["frac"] is not None else 0
    parts.set_clock(hour, int(m["mi"]), second, micro)
    if m["off"] is not None:
        if parts.offset is not None:
            raise parts.fail("ambiguous")
        parts.offset = _offset(m["off"].strip(), parts)
    return m.end()


def _offset(raw: str, parts: _Parts) -> timedelta:
    if raw == "z":
        return timedelta(0)
    digits = raw[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or "0")
    if hours > 23 or minutes > 59:
        raise parts.fail("unreadable")
    delta = timedelta(hours=hours, minutes=minutes)
    return -delta if raw[0] == "-" else delta


def _on_meridiem_time(m: re.Match[str], parts: _Parts, s: str) -> int:
    hour = _meridiem_hour(int(m["h"]), m["mer"], parts)
    parts.set_clock(hour, int(m["mi"] or "0"))
    return m.end()


def _on_hours_time(m: re.Match[str], parts: _Parts, s: str) -> int:
    minutes = m["mi"] or m["mi2"] or "0"
    parts.set_clock(int(m["h"]), int(minutes))
    return m.end()


def _on_day_month(m: re.Match[str], parts: _Parts, s: str) -> int:
    parts.set_year_month_day(_year(m["y"]), _MONTHS[m["month"]], int(m["d"]))
    return m.end()


def _on_in(m: re.Match[str], parts: _Parts, s: str) -> int:
    found = _scan_duration(s, m.end())
    if found is None:
        raise parts.fail("unreadable")
    parts.claim_date()
    parts.span, end = found
    return end


def _on_now(m: re.Match[str], parts: _Parts, s: str) -> int:
    parts.claim_date()
    parts.is_now = True
    return m.end()


def _relative_handler(days: int) -> _Handler:
    def handler(m: re.Match[str], parts: _Parts, s: str) -> int:
        parts.claim_date()
        parts.relative_days = days
        return m.end()

    return handler


def _period_handler(period: str, *, today: bool = False) -> _Handler:
    def handler(m: re.Match[str], parts: _Parts, s: str) -> int:
        if parts.period is not None:
            raise parts.fail("ambiguous")
        parts.period = period
        if today:
            parts.claim_date()
            parts.relative_days = 0
        return m.end()

    return handler


def _clock_handler(hour: int) -> _Handler:
    def handler(m: re.Match[str], parts: _Parts, s: str) -> int:
        parts.set_clock(hour, 0)
        return m.end()

    return handler


def _on_weekday(m: re.Match[str], parts: _Parts, s: str) -> int:
    if parts.weekday is not None:
        raise parts.fail("ambiguous")
    parts.weekday = _WEEKDAYS[m["wd"]]
    return m.end()


def _on_next(m: re.Match[str], parts: _Parts, s: str) -> int:
    parts.next_ = True
    return m.end()


def _skip(m: re.Match[str], parts: _Parts, s: str) -> int:
    return m.end()


_SPACED_MINUTES_GUARD: Final = (
    rf"(?![0-9/.:-])(?!\s*{_ORDINAL}?\s*(?:of\s+)?(?:{_MONTH_ALT})(?![a-z]))"
)

_RULES: Final[tuple[tuple[re.Pattern[str], _Handler], ...]] = tuple(
    (re.compile(pattern), handler)
    for pattern, handler in (
        # 2026-12-03, 2026/12/03, and the "t" of 2026-12-03T14:00
        (
            r"(?P<y>[0-9]{4})[-/.](?P<mo>[0-9]{1,2})[-/.](?P<d>[0-9]{1,2})"
            r"(?:t(?=[0-9])|(?![a-z0-9]))",
            _on_iso_date,
        ),
        # 3/12, 3/12/2026, 3/12/26, 3.12, 3-12-2026
        (
            r"(?P<d>[0-9]{1,2})(?P<sep>[/.-])(?P<mo>[0-9]{1,2})"
            r"(?:(?P=sep)(?P<y>[0-9]{4}|[0-9]{2}))?(?![0-9a-z])",
            _on_numeric_date,
        ),
        # 3 décembre, 1er mars 2027, 3rd of december
        (
            rf"(?P<d>[0-9]{{1,2}}){_ORDINAL}?\s*(?:of\s+)?(?P<month>{_MONTH_ALT})(?![a-z])\.?"
            rf"(?:,?\s+(?P<y>[0-9]{{4}})(?![0-9]))?{_END}",
            _on_day_month,
        ),
        # 14:30, 14:30:15, 2:30pm, 14:00+01:00, 14:00z
        (
            r"(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2})"
            r"(?::(?P<s>[0-9]{2})(?:[.,](?P<frac>[0-9]{1,6})[0-9]*)?)?"
            rf"(?:\s*{_MERIDIEM})?"
            r"(?P<off>z|\s*[+-][0-9]{2}(?::?[0-9]{2})?)?(?![a-z0-9])",
            _on_colon_time,
        ),
        # 9am, 2 pm, 9.30am, 9h30 pm
        (rf"(?P<h>[0-9]{{1,2}})(?:[.h](?P<mi>[0-9]{{2}}))?\s*{_MERIDIEM}", _on_meridiem_time),
        # 14h, 14h30, 14 h 30, 9h05, 14 heures
        (
            r"(?P<h>[0-9]{1,2})\s*(?:heures|heure|h)"
            rf"(?:(?P<mi>[0-9]{{1,2}})(?![0-9])|\s+(?P<mi2>[0-9]{{2}}){_SPACED_MINUTES_GUARD})?"
            rf"{_END}",
            _on_hours_time,
        ),
        # dans 2 jours, in 3 hours, d'ici une semaine
        (r"(?:dans|in|d'\s?ici)\s+", _on_in),
        (rf"(?:maintenant|now){_END}", _on_now),
        (rf"tonight{_END}", _period_handler("evening", today=True)),
        *((rf"(?:{p}){_END}", _relative_handler(days)) for p, days in _RELATIVE_DAYS),
        *((rf"(?:{p}){_END}", _period_handler(period)) for p, period in _PERIODS),
        (rf"(?:midi|noon){_END}", _clock_handler(12)),
        (rf"(?:minuit|midnight){_END}", _clock_handler(0)),
        # december 3, dec. 3rd, 2026
        (
            rf"(?P<month>{_MONTH_ALT})(?![a-z])\.?\s*(?P<d>[0-9]{{1,2}})(?:st|nd|rd|th)?(?![0-9])"
            r"(?!\s*(?:h(?![a-z])|heures?(?![a-z])|:|\.[0-9]|a\.?m(?![a-z])|p\.?m(?![a-z])"
            r"|/|-[0-9]))"
            rf"(?:,?\s+(?P<y>[0-9]{{4}})(?![0-9]))?{_END}",
            _on_day_month,
        ),
        (rf"(?P<wd>{_WEEKDAY_ALT})(?![a-z])\.?", _on_weekday),
        (rf"(?:prochaine|prochain|next){_END}", _on_next),
        (
            r"(?:[ld]'|(?:le|la|les|de|du|des|au|a|at|on|the|of|ce|cet|cette|this|vers"
            rf"|around|about|et|and){_END}|[@-])",
            _skip,
        ),
    )
)


def _scan(text: str) -> _Parts:
    s = _normalize(text)
    if not s:
        raise DateParseError("empty", text)
    parts = _Parts(text)
    pos = 0
    while pos < len(s):
        if s[pos] in _SEPARATORS:
            pos += 1
            continue
        for pattern, handler in _RULES:
            m = pattern.match(s, pos)
            if m is not None:
                pos = handler(m, parts, s)
                break
        else:
            raise parts.fail("unreadable")
    _settle_dotted(parts)
    return parts


def _settle_dotted(parts: _Parts) -> None:
    """Decide whether each ``a.b`` is a day.month or an hour.minutes."""
    undecided: list[tuple[int, int]] = []
    for a, b, raw_b in parts.dotted:
        as_date = 1 <= a <= 31 and 1 <= b <= 12
        as_time = a <= 23 and b <= 59 and len(raw_b) == 2
        if as_date and as_time:
            undecided.append((a, b))
        elif as_date:
            parts.set_year_month_day(None, b, a)
        elif as_time:
            parts.set_clock(a, b)
        else:
            raise parts.fail("unreadable")
    for a, b in undecided:
        has_time = parts.clock is not None or parts.period is not None
        has_date = parts.date_claims > 0 or parts.weekday is not None
        if has_time and not has_date:
            parts.set_year_month_day(None, b, a)
        elif has_date and not has_time:
            parts.set_clock(a, b)
        else:
            raise parts.fail("ambiguous")


# --------------------------------------------------------------------------- resolving


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


def _check_now(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidValue("now must be timezone-aware")


def parse_datetime(
    text: str, *, now: datetime, tz: ZoneInfo, default_time: time | None = None
) -> datetime:
    """Read a date and/or time typed by a person; returns an aware datetime in UTC.

    ``now`` is aware (any zone); the text is read in ``tz``. A date without a time gets
    ``default_time`` (its tzinfo is ignored), or 09:00 when it is None. See the module docstring
    for every rule. Raises :class:`DateParseError` only.
    """
    _check_now(now)
    parts = _scan(text)
    try:
        return _resolve(parts, now=now, tz=tz, default_time=default_time)
    except DateParseError:
        raise
    except (OverflowError, ValueError):
        # a moment outside what datetime can hold (year 1 or 9999 moved by an offset...)
        raise DateParseError("invalid_date", text) from None


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


FIRST_YEAR: Final = 2000
LAST_YEAR: Final = 2100
"""The years a listing or a report may be asked for (``--annee``)."""


def year_span(year: int, tz: tzinfo) -> tuple[datetime, datetime]:
    """The first moment of ``year`` and of the next one in ``tz``, as aware UTC datetimes.

    Raises :class:`~bot.core.InvalidValue` outside :data:`FIRST_YEAR`..:data:`LAST_YEAR`
    (callers check the range first and refuse in words).
    """
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidValue(f"year {year} out of {FIRST_YEAR}..{LAST_YEAR}")
    start = datetime(year, 1, 1, tzinfo=tz).astimezone(UTC)
    end = datetime(year + 1, 1, 1, tzinfo=tz).astimezone(UTC)
    return start, end
