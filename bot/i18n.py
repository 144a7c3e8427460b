"""Translations (gettext catalogs compiled at load time) and date formatting with Babel.

Message ids are English sentences with ``{name}`` placeholders. The French catalog translates
every one of them; the English catalog exists too (complete, mostly identical), so a missing entry
in either is caught by the tests rather than shown to a user as a raw id.
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
import threading
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from bot.core import InvalidValue, UserError

DOMAIN = "tisserand"
SUPPORTED_LOCALES: tuple[str, ...] = ("fr", "en")
DEFAULT_LOCALE = "fr"
LOCALE_DIR = Path(__file__).parent / "locale"

_DATETIME_PATTERNS = {
    "fr": {
        "full": "EEEE d MMMM y 'à' HH'h'mm",
        "long": "EEEE d MMMM 'à' HH'h'mm",
        "short": "dd/MM/y HH'h'mm",
        "date": "EEEE d MMMM y",
        "time": "HH'h'mm",
    },
    "en": {
        "full": "EEEE d MMMM y 'at' HH:mm",
        "long": "EEEE d MMMM 'at' HH:mm",
        "short": "dd/MM/y HH:mm",
        "date": "EEEE d MMMM y",
        "time": "HH:mm",
    },
}


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now."""
    return message


def N_plural(singular: str, plural: str) -> tuple[str, str]:
    """Mark a plural message (its two ids, for ``ngettext``) for extraction without translating
    it now."""
    return singular, plural


def normalize_locale(value: str | None) -> str | None:
    """``"en-US"`` -> ``"en"``, ``"FR_fr"`` -> ``"fr"``; None when not supported."""
    if not value:
        return None
    lang = value.replace("_", "-").split("-")[0].strip().lower()
    return lang if lang in SUPPORTED_LOCALES else None


def fold(text: str) -> str:
    """Case- and accent-insensitive form used to match names typed by users."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def _load_translations(locale: str) -> gettext.GNUTranslations:
    po_path = LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


_lock = threading.Lock()


class Translator:
    """The language and time zone of one reader."""

    def __init__(self, locale: str, tz: ZoneInfo) -> None:
        if locale not in SUPPORTED_LOCALES:
            raise InvalidValue(f"unsupported locale {locale!r}")
        self.locale = locale
        self.tz = tz
        with _lock:
            self._translations = _load_translations(locale)

    def gettext(self, message: str, /, **params: Any) -> str:
        text = self._translations.gettext(message)
        return text.format(**params) if params else text

    _ = gettext

    def ngettext(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        text = self._translations.ngettext(singular, plural, n)
        return text.format(n=n, **params)

    # --- formatting ------------------------------------------------------------------------

    def datetime(self, moment: dt.datetime, style: str = "full") -> str:
        """A moment in the network's time zone, e.g. ``jeudi 3 décembre 2026 à 14h00``."""
        local = moment.astimezone(self.tz)
        text = format_datetime(local, self._pattern(style, local.day), locale=self.locale)
        return text[:1].upper() + text[1:] if style == "full" and self.locale == "en" else text

    def date(self, day: dt.date | dt.datetime, style: str = "date") -> str:
        if isinstance(day, dt.datetime):
            day = day.astimezone(self.tz).date()
        return format_date(day, self._pattern(style, day.day), locale=self.locale)

    def _pattern(self, style: str, day: int) -> str:
        """The pattern of ``style``; in French the first of the month is written ``1er``."""
        pattern = _DATETIME_PATTERNS[self.locale][style]
        if self.locale == "fr" and day == 1:
            return pattern.replace("d MMMM", "d'er' MMMM")
        return pattern

    def time(self, moment: dt.datetime) -> str:
        return format_time(
            moment.astimezone(self.tz), _DATETIME_PATTERNS[self.locale]["time"], locale=self.locale
        )

    def number(self, value: float) -> str:
        return format_decimal(value, locale=self.locale)

    def quote(self, text: str) -> str:
        """``text`` between the reader's quotation marks (“…” in English, « … » in French)."""
        return self.gettext("“{text}”", text=text)

    def ref(self, number: int) -> str:
        """How objects people refer to are shown everywhere: ``n° 12``."""
        return f"n° {number}"


class Translators:
    """One translator per supported locale, sharing the network's time zone."""

    def __init__(self, tz: ZoneInfo, default_locale: str = DEFAULT_LOCALE) -> None:
        self.tz = tz
        self.default_locale = default_locale
        self._by_locale = {loc: Translator(loc, tz) for loc in SUPPORTED_LOCALES}

    def get(self, *candidates: str | None) -> Translator:
        """The first supported locale among ``candidates``, else the network's default."""
        for candidate in candidates:
            locale = normalize_locale(candidate)
            if locale:
                return self._by_locale[locale]
        return self._by_locale[self.default_locale]


class Refusal(UserError):
    """A request refused for a reason its class names: ``msgid`` (English, the catalogs' id) and
    the ``params`` it is formatted with, rendered in the language of the translator it is raised
    with. It is a :class:`~bot.core.UserError`, so the dispatcher answers with it (and rolls the
    transaction back). A family's refusals subclass it; a class whose sentence is more than its
    msgid (a plural, a hint added) overrides :meth:`render`. Change a msgid only together with the
    catalogs."""

    msgid: ClassVar[str]

    def __init__(self, t: Translator, /, **params: Any) -> None:
        self.params: dict[str, Any] = params
        super().__init__(self.render(t))

    def render(self, t: Translator) -> str:
        """This refusal's sentence in ``t``'s language."""
        return t.gettext(self.msgid, **self.params)
