"""Durations: ``2j``, ``1h30``, ``une semaine``..."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from typing import Final

from bot.dates.errors import DateParseError
from bot.dates.vocabulary import _UNIT_ALT, _UNITS, _normalize


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
