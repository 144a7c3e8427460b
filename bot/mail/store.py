"""Subscribers and mailings: who receives what, and queuing one email per recipient and item
through the outbox (rows of platform ``email``, keys ``email:<body key>:<subscriber id>``)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.core import DirectTarget, InvalidValue, Reply
from bot.i18n import N_, Translator
from bot.mail.message import Part
from bot.outbox import Outgoing, enqueue_many
from bot.storage.email import EmailBody, EmailSubscriber

PLATFORM = "email"
"""The outbox rows of emails have this platform; their target is the subscriber's id."""
TOPIC = "email"
"""First segment of the outbox keys of emails."""

CODE_TTL = timedelta(minutes=30)
CODE_ATTEMPTS = 5
"""Wrong codes after which the code is spent (a new one must be asked)."""
CODES_PER_ADDRESS = 5
"""Codes one address may receive before it is confirmed (nobody is mailed over and over)."""

Kind = Literal["code", "welcome", "notice", "digest", "gazette", "session"]
PERSONAL: frozenset[str] = frozenset({"code", "welcome", "notice"})
"""What may go to an address not (yet) confirmed or disabled: only what it asked for."""
Choice = Literal["digest", "gazette", "sessions"]


class InvalidAddress(InvalidValue):
    """Not an email address (the reason is email-validator's, in English)."""


def normalize_address(text: str) -> str:
    """The address as it is stored (email-validator; no DNS lookup: the SMTP server will say),
    in lower case: local parts are case-insensitive at every provider in practice, and one
    person must not be subscribed twice as ``Alice@`` and ``alice@``."""
    from email_validator import EmailNotValidError, validate_email

    try:
        valid = validate_email(text.strip(), check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise InvalidAddress(str(exc)) from None
    return str(valid.ascii_email or valid.normalized).lower()


def new_token() -> str:
    return secrets.token_urlsafe(24)


def hash_code(subscriber_id: int, code: str) -> str:
    return hashlib.sha256(f"{subscriber_id}:{code.strip()}".encode()).hexdigest()


def new_code() -> str:
    """Six digits, easy to type."""
    return f"{secrets.randbelow(1_000_000):06d}"


def code_matches(subscriber: EmailSubscriber, code: str) -> bool:
    if subscriber.code_hash is None:
        return False
    return hmac.compare_digest(subscriber.code_hash, hash_code(subscriber.id, code))


def subscriber_by_address(db: Session, address: str) -> EmailSubscriber | None:
    return db.scalars(
        select(EmailSubscriber).where(EmailSubscriber.address == address)
    ).one_or_none()


UNSUBSCRIBE_PATH = "/unsubscribe/"
"""Where :mod:`bot.web` answers the one-click unsubscribe (RFC 8058), below ``[web] public_url``."""


def unsubscribe_link(settings: Settings, token: str) -> str | None:
    """The HTTPS one-click unsubscribe link of ``token``: ``[email] unsubscribe_url`` when set
    (an explicit override, served by something else), else the bot's own server when ``[web]`` is
    enabled with a ``public_url``; None: only the mailto unsubscribe is offered."""
    email = settings.email
    base = email.unsubscribe_url if email is not None else None
    if base is not None:
        return f"{base.rstrip('/')}/{token}"
    web = settings.web
    if web.enabled and web.public_url:
        return f"{web.public_url.rstrip('/')}{UNSUBSCRIBE_PATH}{token}"
    return None


def subscriber_of_member(db: Session, member_id: int) -> EmailSubscriber | None:
    return db.scalars(
        select(EmailSubscriber).where(EmailSubscriber.member_id == member_id)
    ).one_or_none()


def subscriber_by_token(db: Session, token: str) -> EmailSubscriber | None:
    return db.scalars(
        select(EmailSubscriber).where(EmailSubscriber.unsubscribe_token == token)
    ).one_or_none()


def recipients(db: Session, choice: Choice) -> list[EmailSubscriber]:
    """Confirmed, enabled subscribers who chose ``choice``, in the order they subscribed."""
    column = {
        "digest": EmailSubscriber.wants_digest,
        "gazette": EmailSubscriber.wants_gazette,
        "sessions": EmailSubscriber.wants_sessions,
    }[choice]
    return list(
        db.scalars(
            select(EmailSubscriber)
            .where(
                column.is_(True),
                EmailSubscriber.confirmed_at.is_not(None),
                EmailSubscriber.disabled_at.is_(None),
            )
            .order_by(EmailSubscriber.id)
        )
    )


@dataclass(frozen=True, slots=True)
class Mailing:
    """What one mailing says (stored once, in ``email_bodies``)."""

    key: str
    """Unique per item: ``digest:<platform>:<channel>:<week>``, ``code:<subscriber>:<n>``..."""
    kind: Kind
    subject: str
    text: str
    html: str | None = None
    parts: Sequence[Part] = ()
    list_id: str | None = None
    recipient: str | None = None
    """A notice's address, used when its subscriber no longer exists."""


GOODBYE_SUBJECT = N_("{network}: your address is removed")
GOODBYE_TEXT = N_(
    "Hello,\n\nAs asked, {address} was removed from the mailing list of {network}: nothing "
    "more will be sent to it. If this is a mistake, write to the coordination (reply to this "
    "email)."
)


def forget(
    db: Session, subscriber: EmailSubscriber, t: Translator, network: str, now: datetime
) -> str:
    """Remove ``subscriber``; a confirmed, enabled address gets one email confirming it (no
    other address gets anything). Returns the address."""
    address = subscriber.address
    if subscriber.confirmed_at is not None and subscriber.disabled_at is None:
        queue(
            db,
            Mailing(
                key=f"goodbye:{subscriber.id}:{subscriber.unsubscribe_token[:12]}",
                kind="notice",
                subject=t.gettext(GOODBYE_SUBJECT, network=network),
                text=t.gettext(GOODBYE_TEXT, address=address, network=network),
                recipient=address,
            ),
            [subscriber.id],
            now,
        )
    db.delete(subscriber)
    return address


def queue(db: Session, mailing: Mailing, subscriber_ids: Iterable[int], now: datetime) -> int:
    """Store ``mailing`` (once) and queue one email per subscriber; a subscriber who already
    has this mailing queued gets nothing more (the outbox key). Returns the number of rows
    offered to the outbox."""
    if db.get(EmailBody, mailing.key) is None:
        db.add(
            EmailBody(
                key=mailing.key,
                kind=mailing.kind,
                subject=mailing.subject,
                text=mailing.text,
                html=mailing.html,
                attachments=[part.to_json() for part in mailing.parts],
                list_id=mailing.list_id,
                recipient=mailing.recipient,
                created_at=now,
            )
        )
        db.flush()
    reply = Reply(text=mailing.key)
    rows = [
        Outgoing(
            key=f"{TOPIC}:{mailing.key}:{sid}",
            reply=reply,
            target=DirectTarget(platform=PLATFORM, user_id=str(sid)),
            due_at=now,
        )
        for sid in subscriber_ids
    ]
    enqueue_many(db, rows, now)
    return len(rows)
