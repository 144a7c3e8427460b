"""Injected clocks: everything that needs "now" asks a :class:`Clock`, never ``datetime.now``."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.core import InvalidValue


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class MovableClock:
    """Real time plus an offset that only moves forward; the console's ``:clock`` moves it.

    ``start`` pins the clock to a moment; it then runs on from there at the real pace.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        if start is not None:
            if start.tzinfo is None:
                raise InvalidValue("start must be timezone-aware")
            self._offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset

    @property
    def offset(self) -> timedelta:
        with self._lock:
            return self._offset

    def move_to(self, moment: datetime) -> timedelta:
        """Move the clock to ``moment``; returns how far it moved. Never moves backwards."""
        if moment.tzinfo is None:
            raise InvalidValue("moment must be timezone-aware")
        with self._lock:
            delta = moment - (datetime.now(UTC) + self._offset)
            if delta < timedelta(0):
                raise InvalidValue("the clock only moves forward")
            self._offset += delta
            return delta

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta(0):
            raise InvalidValue("the clock only moves forward")
        with self._lock:
            self._offset += delta


class FrozenClock:
    """A clock that stands still until told to move (tests)."""

    def __init__(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise InvalidValue("moment must be timezone-aware")
        self._moment = moment.astimezone(UTC)

    def now(self) -> datetime:
        return self._moment

    def advance(self, delta: timedelta) -> None:
        self._moment += delta

    def move_to(self, moment: datetime) -> timedelta:
        delta = moment - self._moment
        self._moment = moment.astimezone(UTC)
        return delta
