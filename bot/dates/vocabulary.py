"""The words dates are made of: months, weekdays, day parts, units, examples, defaults."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import time
from typing import Final

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
