"""Reading what people type: dates and durations, kinds, categories, quotas, lengths and links,
and the options the member and coordinator commands share."""

from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta

from bot.context import Context
from bot.core import UserError
from bot.dates import (
    DURATION_EXAMPLES_EN,
    DURATION_EXAMPLES_FR,
    DateParseError,
    parse_datetime,
    parse_deadline,
    parse_duration,
)
from bot.i18n import N_, Translators, fold
from bot.registry import Option, OptionType
from bot.storage.sessions import SessionKind
from bot.vocabulary import Vocabulary
from commands.sessions.messages import category_label

DEFAULT_DURATION = timedelta(hours=1)
MAX_DURATION = timedelta(days=14)
MAX_TITLE = 200
MAX_LOCATION = 300
MAX_LINK = 500
MAX_DESCRIPTION = 2000
MAX_CAPACITY = 100_000


CATEGORIES: tuple[str, ...] = ("elu", "agent", "association", "partenaire")
_CATEGORY_FORMS: dict[str, tuple[str, ...]] = {
    "elu": ("élu", "élue", "elected", "elected official", "councillor", "élu local"),
    "agent": ("agente", "agent public", "agente publique", "public agent", "agent territorial"),
    "association": ("asso", "associatif", "associative"),
    "partenaire": ("partner",),
}
"""Besides these, every category accepts the labels the bot shows for it, in every language."""
_NO_CATEGORY = Vocabulary(
    {"aucune": ("aucun", "none", "sans", "no category", "sans catégorie", "sans categorie")}
)


@functools.lru_cache(maxsize=8)
def category_words(translators: Translators) -> Vocabulary:
    """The one table of category words (``/categorie``, ``--quotas``): the canonical words, the
    forms above, the bot's own labels (``élu·e``, ``agent·e public·que``), plural, feminine and
    inclusive forms of all of them."""
    forms: dict[str, list[str]] = {
        category: list(more) for category, more in _CATEGORY_FORMS.items()
    }
    for locale in ("fr", "en"):
        t = translators.get(locale)
        for category in CATEGORIES:
            forms[category].append(category_label(t, category))
    return Vocabulary(forms, inflected=True)


_KIND_WORDS = {
    "webinaire": SessionKind.WEBINAR,
    "webinar": SessionKind.WEBINAR,
    "pleniere": SessionKind.PLENARY,
    "plenary": SessionKind.PLENARY,
    "rencontre": SessionKind.MEETING,
    "meeting": SessionKind.MEETING,
    "formation": SessionKind.TRAINING,
    "training": SessionKind.TRAINING,
    "visite": SessionKind.VISIT,
    "visit": SessionKind.VISIT,
}
_LINK = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


GROUP_HELP = N_(
    "Sessions members register for: details, creation, changes and cancellation "
    "(/session 12 shows session n° 12)."
)


NUMBER = Option(
    "numero",
    "number",
    N_("The number of the session, for example 12."),
    type=OptionType.INTEGER,
    positional=True,
    required=True,
)


def read_start(ctx: Context, text: str) -> datetime:
    now = ctx.now()
    try:
        moment = parse_datetime(text, now=now, tz=ctx.t.tz, need_time=True)
    except DateParseError as error:
        raise ctx.unreadable_date(text, error) from None
    if moment <= now:
        raise UserError(
            ctx._(
                "{date} is in the past. Give a date to come for --when.",
                date=ctx.t.datetime(moment),
            )
        )
    return moment


def read_length(ctx: Context, text: str | None) -> timedelta | None:
    if text is None:
        return None
    try:
        length = parse_duration(text)
    except DateParseError:
        examples = DURATION_EXAMPLES_FR if ctx.t.locale == "fr" else DURATION_EXAMPLES_EN
        raise UserError(
            ctx._(
                "I cannot read the duration “{text}”. Examples that work: {examples}.",
                text=text,
                examples=", ".join(f"“{e}”" for e in examples),
            )
        ) from None
    if length <= timedelta(0) or length > MAX_DURATION:
        raise UserError(
            ctx._("A session lasts between a minute and 14 days (got “{text}”).", text=text)
        )
    return length


def read_deadline(ctx: Context, text: str, starts_at: datetime) -> datetime:
    now = ctx.now()
    try:
        moment = parse_deadline(text, now=now, tz=ctx.t.tz)
    except DateParseError as error:
        raise ctx.unreadable_date(text, error) from None
    if moment <= now:
        raise UserError(
            ctx._("The registration deadline {date} is in the past.", date=ctx.t.datetime(moment))
        )
    if moment > starts_at:
        raise UserError(
            ctx._(
                "The registration deadline ({deadline}) must come before the start ({start}).",
                deadline=ctx.t.datetime(moment),
                start=ctx.t.datetime(starts_at),
            )
        )
    return moment


def read_kind(ctx: Context, text: str | None) -> str | None:
    if text is None:
        return None
    kind = _KIND_WORDS.get(fold(text.strip()))
    if kind is None:
        raise UserError(
            ctx._(
                "Unknown type “{text}”. Use one of: {choices}.",
                text=text,
                choices=", ".join(k.value for k in SessionKind),
            )
        )
    return kind.value


def read_category(ctx: Context, text: str) -> str | None:
    if text in _NO_CATEGORY:
        return None
    category = category_words(ctx.translators).get(text)
    if category is None:
        raise UserError(
            ctx._(
                "Unknown category “{text}”. Use one of: {choices}.",
                text=text,
                choices=", ".join((*CATEGORIES, _NO_CATEGORY.canonical[0])),
            )
        )
    return category


_NO_QUOTAS = ("aucun", "aucune", "none", "sans", "no")


def read_quotas(ctx: Context, text: str | None, capacity: int | None) -> dict[str, int]:
    """``elu=10,agent=5`` as {category: seats}; ``aucun`` (``none``) as no quota at all.

    Refused: an unknown category, a category given twice, a negative number, and (when the
    capacity is known) quotas adding up to more than the seats."""
    if not text:
        return {}
    if fold(text.strip()) in _NO_QUOTAS:
        return {}
    quotas: dict[str, int] = {}
    for part in re.split(r"[,;]", text):
        if not part.strip():
            continue
        match = re.fullmatch(r"\s*([^=:]+?)\s*[=:]\s*(-?\s*\d{1,6})\s*", part)
        category = category_words(ctx.translators).get(match.group(1)) if match else None
        if match is not None and category is not None and match.group(2).startswith("-"):
            raise UserError(
                ctx._(
                    "A quota cannot be negative (“{part}”): give the most seats members of the "
                    "category may take, 0 to keep them out.",
                    part=part.strip(),
                )
            )
        if match is None or category is None or category in quotas:
            raise UserError(
                ctx._(
                    "I cannot read the quotas “{text}”. Write them like elu=10,agent=5 "
                    "(categories: {choices}), or {none} to remove them.",
                    text=text,
                    choices=", ".join(CATEGORIES),
                    none=_NO_QUOTAS[0] if ctx.t.locale == "fr" else "none",
                )
            )
        quotas[category] = int(match.group(2))
    total = sum(quotas.values())
    if capacity is not None and total > capacity:
        raise UserError(
            ctx._(
                "The quotas add up to {total} seats, more than the {capacity} seats of the "
                "session. Lower a quota or raise --seats.",
                total=total,
                capacity=capacity,
            )
        )
    return quotas


def check_capacity(ctx: Context, capacity: int) -> int:
    if capacity < 1 or capacity > MAX_CAPACITY:
        raise UserError(
            ctx._(
                "The number of seats must be between 1 and {limit} (got {value}).",
                limit=MAX_CAPACITY,
                value=capacity,
            )
        )
    return capacity


def check_length(ctx: Context, option: str, value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        raise UserError(ctx._("--{option} is empty.", option=option))
    if len(value) > limit:
        raise UserError(
            ctx._(
                "--{option} is too long ({length} characters); keep it under {limit}.",
                option=option,
                length=len(value),
                limit=limit,
            )
        )
    return value


def check_link(ctx: Context, link: str | None) -> str | None:
    link = check_length(ctx, "link", link, MAX_LINK)
    if link is not None and not _LINK.match(link):
        raise UserError(
            ctx._("The link must start with http:// or https:// (got “{link}”).", link=link)
        )
    return link


def start_of_creation(ctx: Context, when: str | None, poll: int | None) -> datetime:
    if when is not None and poll is not None:
        raise UserError(ctx._("Give either --when or --from-poll, not both."))
    if when is not None:
        return read_start(ctx, when)
    if poll is None:
        raise UserError(
            ctx._(
                "Say when the session starts with --when, or take the best slot of a date poll "
                "with --from-poll."
            )
        )
    from commands.polls import best_date_slot  # the polls family owns date polls

    starts_at = best_date_slot(ctx.db, poll, ctx.t)
    if starts_at <= ctx.now():
        raise UserError(
            ctx._(
                "The best slot of poll {ref} ({date}) is in the past.",
                ref=ctx.t.ref(poll),
                date=ctx.t.datetime(starts_at),
            )
        )
    return starts_at
