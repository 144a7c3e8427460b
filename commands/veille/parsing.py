"""Reading what a member typed for the veille: where the command was typed, a filter, a theme, an
interval, a weekly time, the start of a suggestion."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.context import Context
from bot.core import UserError
from bot.dates import DateParseError, parse_datetime, parse_duration
from bot.i18n import Translator, fold
from commands.veille.messages import interval_text
from commands.veille.schedule import Schedule
from digests.feeds import FeedParseError, clean_text, compile_filter
from digests.filters import RegexRefused
from digests.filters import refusal as filter_refusal

__all__ = [
    "MAX_INTERVAL",
    "MAX_THEME",
    "MIN_INTERVAL",
    "check_filter",
    "matching",
    "parse_schedule",
    "read_interval",
    "read_theme",
    "require_channel",
]

MAX_THEME = 100
MIN_INTERVAL = timedelta(minutes=15)
MAX_INTERVAL = timedelta(days=7)
_DEFAULT_WORDS = frozenset({"defaut", "default", "par defaut", "reset"})


def require_channel(ctx: Context) -> None:
    if ctx.place.is_direct:
        raise UserError(
            ctx._(
                "Use this command in the channel whose weekly digest should carry it, not in a "
                "private conversation."
            )
        )


def check_filter(ctx: Context, text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    try:
        compile_filter(text)
    except FeedParseError as exc:
        cause = exc.__cause__
        reason = cause.reason if isinstance(cause, RegexRefused) else None
        raise UserError(filter_refusal(ctx.t, text, reason)) from None
    return text.strip()


def read_theme(text: str | None) -> str | None:
    return (clean_text(text, MAX_THEME) or None) if text else None


def read_interval(ctx: Context, text: str) -> int | None:
    """Minutes between two fetches, or None for the default; raises UserError otherwise."""
    if fold(text).strip() in _DEFAULT_WORDS:
        return None
    try:
        interval = parse_duration(text)
    except DateParseError:
        raise UserError(
            ctx._(
                "I cannot read “{text}” as an interval. Give a duration such as 30min, 6h or "
                "1d, or “default” to go back to the network's interval ({default}).",
                text=text,
                default=interval_text(ctx.t, ctx.settings.feeds.refresh_minutes),
            )
        ) from None
    if not MIN_INTERVAL <= interval <= MAX_INTERVAL:
        raise UserError(
            ctx._(
                "“{text}” is out of bounds: give an interval between {low} and {high}.",
                text=text,
                low=interval_text(ctx.t, int(MIN_INTERVAL.total_seconds()) // 60),
                high=interval_text(ctx.t, int(MAX_INTERVAL.total_seconds()) // 60),
            )
        )
    return int(interval.total_seconds()) // 60


_WEEKDAYS = {
    "lundi": 0,
    "mardi": 1,
    "mercredi": 2,
    "jeudi": 3,
    "vendredi": 4,
    "samedi": 5,
    "dimanche": 6,
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}


def parse_schedule(text: str, *, now: datetime, t: Translator) -> Schedule:
    """``lundi 9h`` / ``friday 17:30`` -> a weekly schedule; raises UserError otherwise."""
    words = fold(text).replace(",", " ").split()
    days = {_WEEKDAYS[w] for w in words if w in _WEEKDAYS}
    problem = t.gettext(
        "I cannot read “{text}” as a day of the week and a time. Examples that work: "
        "“lundi 9h”, “vendredi 16h30”, “monday 9:00”.",
        text=text,
    )
    if len(days) != 1:
        raise UserError(problem)
    try:
        moment = parse_datetime(text, now=now, tz=t.tz, need_time=True)
    except DateParseError:
        raise UserError(problem) from None
    local = moment.astimezone(t.tz)
    weekday = days.pop()
    if local.weekday() != weekday:
        raise UserError(problem)
    return Schedule(weekday, local.hour, local.minute)


def matching(pairs: Iterable[tuple[str, str]], typed: str) -> list[tuple[str, str]]:
    """The first 25 suggestions whose label contains what was typed (accents and case aside)."""
    wanted = fold(typed.strip().lstrip("#"))
    return [p for p in pairs if not wanted or wanted in fold(p[0])][:25]
