"""The one error of date reading, with its machine-readable code and what exactly is wrong."""

from __future__ import annotations

from typing import Literal

from bot.core import TisserandError

ErrorCode = Literal["unreadable", "ambiguous", "invalid_date", "empty", "missing_time"]
Detail = Literal["day_of_month", "hour", "minute", "weekday", "out_of_range"]


class DateParseError(TisserandError, ValueError):
    """A date, time or duration that could not be read.

    ``code`` is one of ``"unreadable"``, ``"ambiguous"``, ``"invalid_date"``, ``"empty"``,
    ``"missing_time"`` (a date without an hour where one is needed); ``text`` is the input
    exactly as given. ``detail`` and ``values`` say precisely what is impossible, when known:
    ``day_of_month`` (``month``, ``day``, ``days``: the 31st of February), ``hour`` (``hour``:
    25h), ``minute`` (``minute``), ``weekday`` (``weekday``, ``actual``: a weekday that is not
    the date's), ``out_of_range`` (a moment no calendar holds). The message is for logs, not for
    users (:mod:`bot.dates.explain` words it).
    """

    def __init__(
        self,
        code: ErrorCode,
        text: str,
        *,
        detail: Detail | None = None,
        values: dict[str, int] | None = None,
    ) -> None:
        super().__init__(f"{code}: {text!r}" + (f" ({detail})" if detail else ""))
        self.code: ErrorCode = code
        self.text = text
        self.detail: Detail | None = detail
        self.values: dict[str, int] = values or {}
