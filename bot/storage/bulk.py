"""Values for rows written through the driver directly (``exec_driver_sql``), on hot paths.

SQLAlchemy processes every value of every row it binds; a batch of hundreds of rows that repeats
a few moments and payloads spends more time there than in the database. Writers that hand rows to
the driver as they are (the outbox's :func:`bot.outbox.enqueue_many`, the sessions registrar)
encode each distinct value once with these helpers, the same way the column types would.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.core import InvalidValue

_MISSING = object()


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC for the driver; a naive datetime is refused (as ``UTCDateTime`` does)."""
    if moment.tzinfo is None:
        raise InvalidValue("naive datetimes are not stored; give a UTC-aware one")
    return moment.astimezone(UTC)


class Encoder:
    """A column type's bind processing, remembered per distinct value."""

    def __init__(self, type_: Any, dialect: Any) -> None:
        self._process: Callable[[Any], Any] = type_.bind_processor(dialect) or (lambda v: v)
        self._seen: dict[Any, Any] = {}

    def __call__(self, value: Any) -> Any:
        encoded = self._seen.get(value, _MISSING)
        if encoded is _MISSING:
            encoded = self._seen[value] = self._process(value)
        return encoded


__all__ = ["Encoder", "utc"]
