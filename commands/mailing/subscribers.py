"""People outside the chat: ``tisserand subscribers import FILE.csv | add | remove | list``.

A coordinator vouches for the addresses they add: each is confirmed on arrival, with the basis
of the subscription stored (who added it, when, from which file and line), and receives one
welcome email saying who added it and how to leave. A CSV file has a header row naming its
columns (``name``/``nom``, ``email``/``courriel``/``adresse``, ``category``/``categorie``,
``receives``/``recoit``; ``,`` or ``;`` between fields); a bad row is named with its line and the
good rows are imported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import mail
from bot.config import Settings
from bot.core import InvalidValue
from bot.i18n import N_, Translator
from bot.storage.email import EmailSubscriber

_COLUMNS = {
    "name": "name",
    "nom": "name",
    "email": "email",
    "e-mail": "email",
    "courriel": "email",
    "adresse": "email",
    "address": "email",
    "category": "category",
    "categorie": "category",
    "catégorie": "category",
    "receives": "receives",
    "recoit": "receives",
    "reçoit": "receives",
}
_WORDS = {
    "digest": ("digest",),
    "veille": ("digest",),
    "gazette": ("gazette",),
    "sessions": ("sessions",),
    "seances": ("sessions",),
    "séances": ("sessions",),
    "tout": ("digest", "gazette", "sessions"),
    "all": ("digest", "gazette", "sessions"),
    "": ("digest", "gazette", "sessions"),
}

WELCOME_SUBJECT = N_("{who} added you to the news of {network}")
WELCOME_TEXT = N_(
    "Hello {name},\n\n{who} added your address to the mailing list of {network}: you will "
    "receive {what} by email.\n\nTo leave, reply to this email and ask to be removed: the "
    "coordination removes your address, and nothing more is sent to it."
)
BAD_ADDRESS = N_("line {line}: “{value}” is not an email address ({reason})")
BAD_RECEIVES = N_(
    "line {line}: “{value}” is not something to receive: write digest, gazette, sessions or tout"
)
NO_EMAIL_COLUMN = N_(
    "the first line must name the columns, among them email (or courriel): found {found}"
)
ALREADY = N_("line {line}: {address} is already subscribed; left as it is")


class SubscriberError(InvalidValue):
    """A refusal of ``tisserand subscribers`` (already in the reader's language)."""


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """Bad rows and notes, each naming its line, in the reader's language."""


def _receives(value: str) -> tuple[str, ...] | None:
    chosen: set[str] = set()
    for word in value.replace(",", " ").replace("+", " ").replace("|", " ").split() or [""]:
        found = _WORDS.get(word.strip().lower())
        if found is None:
            return None
        chosen.update(found)
    return tuple(sorted(chosen))


def _what(t: Translator, chosen: Iterable[str]) -> str:
    labels = {
        "digest": t.gettext("the weekly digest"),
        "gazette": t.gettext("the gazette"),
        "sessions": t.gettext("session invitations"),
    }
    return ", ".join(labels[c] for c in ("digest", "gazette", "sessions") if c in set(chosen))


def add_subscriber(
    db: Session,
    settings: Settings,
    t: Translator,
    *,
    address: str,
    name: str,
    category: str | None,
    receives: tuple[str, ...],
    who: str,
    basis: str,
    now: datetime,
) -> EmailSubscriber | None:
    """Add one person (None when the address is already subscribed) and queue their welcome."""
    if mail.subscriber_by_address(db, address) is not None:
        return None
    row = EmailSubscriber(
        address=address,
        name=mail.header_text(name, 200),
        category=(category or None),
        wants_digest="digest" in receives,
        wants_gazette="gazette" in receives,
        wants_sessions="sessions" in receives,
        confirmed_at=now,
        basis=basis,
        added_by=who[:200],
        locale=settings.network.locale,
        unsubscribe_token=mail.new_token(),
        codes_sent=0,
        code_attempts=0,
        bounces=0,
        created_at=now,
        updated_at=now,
    )
    db.add(row)
    db.flush()
    network = settings.network.name
    mail.queue(
        db,
        mail.Mailing(
            key=f"welcome:{row.id}",
            kind="welcome",
            subject=t.gettext(WELCOME_SUBJECT, who=mail.header_text(who, 100), network=network),
            text=t.gettext(
                WELCOME_TEXT,
                name=row.name or address,
                who=who,
                network=network,
                what=_what(t, receives),
            ),
        ),
        [row.id],
        now,
    )
    return row


def import_csv(
    db: Session,
    settings: Settings,
    t: Translator,
    text: str,
    *,
    filename: str,
    who: str,
    now: datetime,
) -> ImportReport:
    """Import the rows of a CSV file; each bad row is a problem naming its line."""
    report = ImportReport()
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None) or []
    columns = [_COLUMNS.get(h.strip().lower().lstrip("\ufeff")) for h in header]
    if "email" not in columns:
        raise SubscriberError(
            t.gettext(NO_EMAIL_COLUMN, found=", ".join(h.strip() for h in header) or "—")
        )
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        values = {
            column: cell.strip() for column, cell in zip(columns, record, strict=False) if column
        }
        typed = values.get("email", "")
        try:
            address = mail.normalize_address(typed)
        except mail.InvalidAddress as exc:
            report.problems.append(
                t.gettext(BAD_ADDRESS, line=line, value=typed[:80], reason=str(exc)[:120])
            )
            continue
        receives = _receives(values.get("receives", ""))
        if receives is None:
            report.problems.append(
                t.gettext(BAD_RECEIVES, line=line, value=values.get("receives", "")[:80])
            )
            continue
        basis = f"added by {who} on {now.isoformat(timespec='seconds')} from {filename} line {line}"
        with db.begin_nested():
            row = add_subscriber(
                db,
                settings,
                t,
                address=address,
                name=values.get("name", ""),
                category=values.get("category"),
                receives=receives,
                who=who,
                basis=basis,
                now=now,
            )
        if row is None:
            report.problems.append(t.gettext(ALREADY, line=line, address=address))
        else:
            report.added.append(address)
    return report


def remove(
    db: Session, settings: Settings, t: Translator, address_or_token: str, now: datetime
) -> str | None:
    """Forget an address (or the subscriber of an unsubscribe token), confirmed to it by one
    email; the address, or None."""
    found = unsubscribe(db, settings, t, address_or_token.strip(), now)
    if found is not None:
        return found
    try:
        row = mail.subscriber_by_address(db, mail.normalize_address(address_or_token))
    except mail.InvalidAddress:
        row = None
    if row is None:
        return None
    return mail.forget(db, row, t, settings.network.name, now)


def unsubscribe(
    db: Session, settings: Settings, t: Translator, token: str, now: datetime
) -> str | None:
    """Forget the subscriber of an unsubscribe token (the mailto request applied by the
    coordination, or the one-click link of the web server), confirmed to it by one email; the
    address, or None for an unknown or used token."""
    row = mail.subscriber_by_token(db, token)
    if row is None:
        return None
    return mail.forget(db, row, t, settings.network.name, now)


def listing(db: Session) -> list[EmailSubscriber]:
    return list(db.scalars(select(EmailSubscriber).order_by(EmailSubscriber.address)))


def state(t: Translator, row: EmailSubscriber) -> str:
    if row.disabled_at is not None:
        return t.gettext("disabled ({reason})", reason=row.disabled_reason or "?")
    if row.confirmed_at is None:
        return t.gettext("waiting for its code")
    return t.gettext("receives {what}", what=_what(t, _chosen(row)) or t.gettext("nothing for now"))


def _chosen(row: EmailSubscriber) -> tuple[str, ...]:
    return tuple(
        name
        for name, wanted in (
            ("digest", row.wants_digest),
            ("gazette", row.wants_gazette),
            ("sessions", row.wants_sessions),
        )
        if wanted
    )


def parse_receives(t: Translator, value: str) -> tuple[str, ...]:
    found = _receives(value)
    if found is None:
        raise SubscriberError(t.gettext(BAD_RECEIVES, line="—", value=value[:80]))
    return found


ADDRESS_TAKEN = N_("{address} is already subscribed")
NOT_AN_ADDRESS = N_("“{value}” is not an email address ({reason})")


def add_one(
    db: Session,
    settings: Settings,
    t: Translator,
    typed: str,
    *,
    name: str,
    category: str | None,
    receives: str,
    who: str,
    now: datetime,
) -> str:
    """``tisserand subscribers add``: the address added (SubscriberError saying why not)."""
    try:
        address = mail.normalize_address(typed)
    except mail.InvalidAddress as exc:
        raise SubscriberError(
            t.gettext(NOT_AN_ADDRESS, value=typed[:80], reason=str(exc)[:120])
        ) from None
    chosen = parse_receives(t, receives)
    basis = f"added by {who} on {now.isoformat(timespec='seconds')} (tisserand subscribers add)"
    row = add_subscriber(
        db,
        settings,
        t,
        address=address,
        name=name,
        category=category,
        receives=chosen,
        who=who,
        basis=basis,
        now=now,
    )
    if row is None:
        raise SubscriberError(t.gettext(ADDRESS_TAKEN, address=address))
    return address
