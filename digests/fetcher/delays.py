"""Delays: the backoff between failed attempts, and the delays servers give (Retry-After,
Cache-Control's max-age), capped at a year."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from bot.core import InvalidValue

_MAX_DELAY = timedelta(days=365)
"""Ceiling for delays read from servers (Retry-After, max-age): avoids absurd values."""


_ONE_MINUTE = timedelta(minutes=1)
_ONE_DAY = timedelta(days=1)


def next_retry_delay(
    failures: int,
    *,
    base: timedelta = _ONE_MINUTE,
    cap: timedelta = _ONE_DAY,
    jitter: random.Random | None = None,
) -> timedelta:
    """Delay before the next attempt after ``failures`` consecutive failures.

    ``base * 2 ** (failures - 1)``, at most ``cap``; zero when there was no failure. With
    ``jitter`` the delay is drawn uniformly between half of it and all of it ("equal jitter"), so
    that sources failing together spread out but never retry sooner than half the delay.
    """
    if base < timedelta(0) or cap < timedelta(0):
        raise InvalidValue("base and cap must not be negative")
    if failures <= 0:
        return timedelta(0)
    exponent = min(failures - 1, 64)
    seconds = min(base.total_seconds() * 2.0**exponent, cap.total_seconds())
    if jitter is not None:
        seconds = seconds / 2 + jitter.uniform(0, seconds / 2)
    return timedelta(seconds=seconds)


def parse_retry_after(value: str, now: datetime) -> timedelta | None:
    """Read a Retry-After value: delay-seconds or an HTTP date (relative to aware ``now``).

    A date in the past gives zero; an unreadable value gives None; delays are capped at a year.
    """
    if now.tzinfo is None:
        raise InvalidValue("now must be timezone-aware")
    text = value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return min(timedelta(seconds=min(int(text), _MAX_SECONDS)), _MAX_DELAY)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" means UTC with unknown local time
        when = when.replace(tzinfo=UTC)
    return min(max(when - now, timedelta(0)), _MAX_DELAY)


_MAX_SECONDS = int(_MAX_DELAY.total_seconds())


def parse_max_age(cache_control: str | None) -> timedelta | None:
    """Cache-Control's ``max-age`` (capped at a year), or None when absent or unreadable."""
    if not cache_control:
        return None
    for directive in cache_control.split(","):
        name, _, argument = directive.partition("=")
        if name.strip().lower() != "max-age":
            continue
        argument = argument.strip().strip('"')
        if argument.isascii() and argument.isdigit():
            return timedelta(seconds=min(int(argument), _MAX_SECONDS))
        return None
    return None
