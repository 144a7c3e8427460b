"""What exactly is impossible in a date, in the reader's language ("février n'a que 28 jours")."""

from __future__ import annotations

from babel.dates import get_day_names, get_month_names

from bot.dates.errors import DateParseError
from bot.dates.vocabulary import DATE_EXAMPLES_EN, DATE_EXAMPLES_FR
from bot.i18n import Translator


def explain(error: DateParseError, t: Translator) -> str | None:
    """One sentence naming what is impossible in the date of ``error``; None when nothing
    precise is known (the caller then shows examples)."""
    values = error.values
    if error.detail == "day_of_month":
        month = get_month_names("wide", locale=t.locale)[values["month"]]
        return t.gettext("{month} has only {days} days.", month=month, days=values["days"])
    if error.detail == "hour":
        return t.gettext("{hour}h does not exist (hours go from 0 to 23).", hour=values["hour"])
    if error.detail == "minute":
        return t.gettext("Minutes go from 0 to 59 (got {minute}).", minute=values["minute"])
    if error.detail == "weekday":
        days = get_day_names("wide", locale=t.locale)
        return t.gettext(
            "That day is a {actual}, not a {weekday}.",
            actual=days[values["actual"]],
            weekday=days[values["weekday"]],
        )
    if error.detail == "out_of_range":
        return t.gettext("That date is too far away: give a date in the coming years.")
    if error.code == "missing_time":
        example = DATE_EXAMPLES_FR[0] if t.locale == "fr" else DATE_EXAMPLES_EN[0]
        return t.gettext("Give the hour too, for example {example}.", example=t.quote(example))
    return None
