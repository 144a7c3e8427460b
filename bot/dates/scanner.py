"""The scanner: what a text holds (a date, a time, a weekday...), before it is resolved."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Final

from bot.dates.durations import _scan_duration, _Span
from bot.dates.errors import DateParseError, Detail, ErrorCode
from bot.dates.vocabulary import (
    _END,
    _MERIDIEM,
    _MONTH_ALT,
    _MONTHS,
    _ORDINAL,
    _PERIODS,
    _RELATIVE_DAYS,
    _SEPARATORS,
    _WEEKDAY_ALT,
    _WEEKDAYS,
    _normalize,
)


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

    def fail(self, code: ErrorCode, detail: Detail | None = None, **values: int) -> DateParseError:
        return DateParseError(code, self.text, detail=detail, values=values)

    def claim_date(self) -> None:
        if self.date_claims:
            raise self.fail("ambiguous")
        self.date_claims += 1

    def set_clock(self, hour: int, minute: int, second: int = 0, micro: int = 0) -> None:
        if self.clock is not None:
            raise self.fail("ambiguous")
        if not 0 <= hour <= 23:
            raise self.fail("unreadable", "hour", hour=hour)
        if not (0 <= minute <= 59 and 0 <= second <= 59):
            raise self.fail("unreadable", "minute", minute=minute)
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
