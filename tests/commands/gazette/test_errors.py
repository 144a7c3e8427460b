"""The gazette family's errors: each says its reason in both languages, with its parameters."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.core import TisserandError, UserError
from bot.i18n import Translators
from commands.gazette import errors

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
SAMPLES: dict[str, Any] = {"int": 7, "str": "alice", "datetime": NOW}


def _error_classes() -> list[type[errors.GazetteError]]:
    found = [
        value
        for value in vars(errors).values()
        if isinstance(value, type)
        and issubclass(value, errors.GazetteError)
        and value is not errors.GazetteError
    ]
    assert len(found) > 20
    return found


@pytest.mark.parametrize("locale", ["fr", "en"])
@pytest.mark.parametrize("cls", _error_classes(), ids=lambda cls: cls.__name__)
def test_each_error_is_a_user_error_with_its_text(
    cls: type[errors.GazetteError], locale: str
) -> None:
    t = Translators(ZoneInfo("Europe/Paris")).get(locale)
    parameters = list(inspect.signature(cls.__init__).parameters.values())[2:]
    args = [SAMPLES[str(p.annotation)] for p in parameters if p.kind is p.POSITIONAL_OR_KEYWORD]
    error = cls(t, *args)
    assert isinstance(error, UserError)
    assert isinstance(error, TisserandError)
    assert error.message
    assert "{" not in error.message
    if locale == "en" and hasattr(cls, "msgid"):
        assert error.message.startswith(cls.msgid.split("{")[0][:20])


def test_the_parameters_are_attributes() -> None:
    t = Translators(ZoneInfo("Europe/Paris")).get("fr")
    error = errors.NoSuchHighlight(t, 12)
    assert error.number == 12
    assert error.message == "Il n'y a pas de pépite n° 12. Tapez /pepite liste pour les voir."
    item = errors.NoSuchItem(t, 9, 2)
    assert (item.number, item.count) == (9, 2)
    assert "9" in item.message
    assert "2" in item.message
