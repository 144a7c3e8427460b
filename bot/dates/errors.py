"""The one error of date reading, with its machine-readable code."""

from __future__ import annotations

from typing import Literal

from bot.core import TisserandError

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
