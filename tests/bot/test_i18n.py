"""Catalogs are complete in French and English; dates are French-formatted in Europe/Paris."""

from __future__ import annotations

import re
import string
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.pofile import read_po

from bot.core import UserError
from bot.i18n import LOCALE_DIR, Refusal, Translator, Translators, fold, normalize_locale

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import catalogs  # noqa: E402


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_in_the_code_is_translated_in_both_catalogs() -> None:
    template = catalogs.extract()
    ids = {m.id if isinstance(m.id, str) else tuple(m.id) for m in template if m.id}
    assert len(ids) > 50
    for locale in ("fr", "en"):
        with (LOCALE_DIR / locale / "LC_MESSAGES" / "tisserand.po").open("rb") as handle:
            catalog = read_po(handle, locale=locale)
        by_id = {m.id if isinstance(m.id, str) else tuple(m.id): m for m in catalog if m.id}
        for msgid in ids:
            message = by_id.get(msgid)
            assert message is not None, f"{locale}: {msgid!r} missing from the catalog"
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            assert all(strings), f"{locale}: {msgid!r} is not translated"
            source = msgid if isinstance(msgid, str) else msgid[-1]
            for translated in strings:
                assert _fields(translated) <= _fields(source) | {"n"}, (locale, msgid)
                assert _fields(source) - {"n"} <= _fields(translated) | {"n"}, (locale, msgid)


def test_french_dates_in_the_network_zone() -> None:
    t = Translators(ZoneInfo("Europe/Paris")).get("fr")
    moment = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    assert t.datetime(moment) == "jeudi 3 décembre 2026 à 14h00"
    assert t.time(datetime(2026, 7, 1, 7, 30, tzinfo=UTC)) == "09h30"
    en = Translators(ZoneInfo("Europe/Paris")).get("en")
    assert en.datetime(moment) == "Thursday 3 December 2026 at 14:00"


def test_plural_forms() -> None:
    t = Translators(ZoneInfo("Europe/Paris")).get("fr")
    one = t.ngettext(
        "{label} needs at least {n} value.", "{label} needs at least {n} values.", 1, label="x"
    )
    two = t.ngettext(
        "{label} needs at least {n} value.", "{label} needs at least {n} values.", 2, label="x"
    )
    assert one == "x attend au moins 1 valeur."
    assert two == "x attend au moins 2 valeurs."


def test_locale_helpers() -> None:
    assert normalize_locale("en-US") == "en"
    assert normalize_locale(["fr_FR", "UTF-8"][0]) == "fr"
    assert normalize_locale("de") is None
    assert fold("Résultats") == fold("RESULTATS") == "resultats"
    assert re.fullmatch(r"n° \d+", Translators(ZoneInfo("UTC")).get("fr").ref(12))


class _NoFile(Refusal):
    msgid = "There is no file {path}."


class _Counted(_NoFile):
    def __init__(self, t: Translator, count: int) -> None:
        self.count = count
        super().__init__(t, path="a.db")

    def render(self, t: Translator) -> str:
        return super().render(t) + f" ({self.count})"


def test_a_refusal_says_its_msgid_with_its_params_in_the_actors_language() -> None:
    translators = Translators(ZoneInfo("Europe/Paris"))
    french = _NoFile(translators.get("fr"), path="a.db")
    assert isinstance(french, UserError)
    assert french.message == "Le fichier a.db n'existe pas."
    assert french.params == {"path": "a.db"}
    assert _NoFile(translators.get("en"), path="a.db").message == "There is no file a.db."
    counted = _Counted(translators.get("en"), 3)
    assert (counted.message, counted.count) == ("There is no file a.db. (3)", 3)


def test_the_first_of_the_month_is_written_1er_in_french() -> None:
    translators = Translators(ZoneInfo("Europe/Paris"))
    first = datetime(2027, 2, 1, 13, 0, tzinfo=UTC)
    french, english = translators.get("fr"), translators.get("en")
    assert french.datetime(first) == "lundi 1er février 2027 à 14h00"
    assert french.date(first) == "lundi 1er février 2027"
    assert french.datetime(first, "short") == "01/02/2027 14h00"
    assert french.datetime(first.replace(day=2)) == "mardi 2 février 2027 à 14h00"
    assert english.datetime(first) == "Monday 1 February 2027 at 14:00"
