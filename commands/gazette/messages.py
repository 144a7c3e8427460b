"""Short texts the family's chat answers share."""

from __future__ import annotations

from collections.abc import Sequence

from bot.context import Context
from bot.i18n import N_, Translator
from bot.storage.highlights import Consent, Highlight

EXCERPT = 280


def excerpt(text: str, limit: int = EXCERPT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def size_text(t: Translator, size: int) -> str:
    if size >= 1024 * 1024:
        return t.gettext("{size} MB", size=t.number(round(size / (1024 * 1024), 1)))
    return t.gettext("{size} KB", size=t.number(max(1, round(size / 1024))))


def consent_label(t: Translator, consent: str, *, published: bool = False) -> str:
    """The answer as the author reads it; "published" only once a gazette really showed it."""
    labels = {
        Consent.PENDING: N_("awaiting the author's answer"),
        Consent.YES: N_("publishable with the author's name (in no gazette yet)"),
        Consent.ANON: N_("publishable without the author's name (in no gazette yet)"),
        Consent.NO: N_("not published (the author said no)"),
        Consent.WITHDRAWN: N_("withdrawn by the author"),
        Consent.NEVER_ASK: N_("not published (the author asked never to be asked)"),
    }
    if published:
        labels[Consent.YES] = N_("published with the author's name")
        labels[Consent.ANON] = N_("published without the author's name")
    return t.gettext(labels.get(Consent(consent), N_("awaiting the author's answer")))


def recorded_text(ctx: Context, row: Highlight, created: bool, note: str) -> str:
    if created:
        head = ctx._("Highlight {number} recorded.", number=ctx.t.ref(row.id))
    else:
        head = ctx._("This message is already highlight {number}.", number=ctx.t.ref(row.id))
    return f"{head} {note}"


def rebuilt_text(ctx: Context, numbers: Sequence[int]) -> str:
    return ctx.t.ngettext(
        "The archived gazette {numbers} was rebuilt accordingly.",
        "The archived gazettes {numbers} were rebuilt accordingly.",
        len(numbers),
        numbers=", ".join(ctx.t.ref(n) for n in numbers),
    )
