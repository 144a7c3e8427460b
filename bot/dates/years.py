"""Whole years, as a listing or the annual report asks for them (``--annee 2027``)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Final

from bot.core import InvalidValue

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
