"""What a family's gazette section is: a function of the database and the period."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from bot.core import ExtraEntry
from bot.i18n import Translator

GazetteSource = Callable[
    [Session, Translator, datetime, datetime, int | None], Sequence[ExtraEntry]
]
"""``(db, t, since, until, session_id) -> entries``: one section a family offers the gazette."""

__all__ = ["GazetteSource"]
