"""Writing the outbox: the only code that inserts, revives or withdraws its rows.

:func:`enqueue` (one message, through the ORM), :func:`enqueue_many` (many in one statement, the
hot path of session registrations), :func:`withdraw` (pending messages that will not be sent),
and what reading a row needs (:func:`target_of`, :func:`token_of`, :func:`sent_ref`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import CursorResult, Table, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core import (
    DirectTarget,
    MessageRef,
    PlaceTarget,
    Reply,
    Target,
)
from bot.i18n import N_
from bot.storage.bulk import Encoder, utc
from bot.storage.outbox import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

FALLBACK_CHANNEL = "fallback_channel_id"
"""Payload key of a direct message's fallback channel (no column: the payload is JSON)."""

DM_CLOSED_NOTICE = N_(
    "{mention} I could not send you a private message ({about}): you do not accept direct "
    "messages from me, so it was not delivered."
)
OPEN_DM_HELP = N_("Check your privacy settings so that I can write to you directly.")
"""How to open direct messages, for platforms that do not say (``open_dm_help``)."""

_ABOUT: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^consent:"), N_("a question about quoting your words in the gazette")),
    (re.compile(r"^session:[^:]+:reminder:"), N_("a reminder of a session you registered for")),
    (re.compile(r"^session:[^:]+:feedback:"), N_("a question about a session you attended")),
    (re.compile(r"^session:"), N_("news about a session you registered for")),
    (re.compile(r"^feed-disabled:"), N_("news about a feed you added to the watch")),
    (re.compile(r"^meet:"), N_("a round of meetings you joined")),
    (re.compile(r"^referent:"), N_("news on a theme you are referent for")),
)
_ABOUT_DEFAULT = N_("a message meant for you only")


def about(key: str) -> str:
    """What an outbox message is about, from its key (a catalog message id; never its content).

    Keys follow the formats of ``docs/design.md`` (``consent:<id>``,
    ``session:<id>:reminder:<member>:<h>h``...)."""
    return next((msgid for pattern, msgid in _ABOUT if pattern.match(key)), _ABOUT_DEFAULT)


def payload_of(reply: Reply, target: Target) -> dict[str, Any]:
    """The JSON payload of an outbox row: the reply, and a direct message's fallback channel."""
    payload = reply.to_payload()
    if isinstance(target, DirectTarget) and target.fallback_channel_id:
        payload[FALLBACK_CHANNEL] = target.fallback_channel_id
    return payload


def enqueue(
    db: Session,
    *,
    key: str,
    reply: Reply,
    target: Target,
    due_at: datetime,
    now: datetime,
) -> OutboxMessage | None:
    """Add a message to the outbox; returns None when ``key`` is already there (a no-op)."""
    existing = db.scalars(select(OutboxMessage).where(OutboxMessage.key == key)).one_or_none()
    if existing is not None:
        return None
    row = OutboxMessage(
        key=key,
        platform=target.platform,
        target_kind="direct" if isinstance(target, DirectTarget) else "place",
        target_id=target.user_id if isinstance(target, DirectTarget) else target.channel_id,
        payload=payload_of(reply, target),
        status=OutboxStatus.PENDING,
        due_at=due_at,
        next_attempt_at=due_at,
        attempts=0,
        created_at=now,
    )
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError:
        # A concurrent writer stored the same key first: that is the idempotent outcome.
        return None
    return row


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One outbox message to write with :func:`enqueue_many`."""

    key: str
    reply: Reply
    target: Target
    due_at: datetime


_OUTBOX_TABLE = cast(Table, OutboxMessage.__table__)
_SQLITE_INSERT = (
    'INSERT INTO outbox ("key", platform, target_kind, target_id, payload, status, due_at, '
    "next_attempt_at, attempts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?) "
    'ON CONFLICT ("key") DO NOTHING'
)
# PostgreSQL: one short statement whatever the number of rows, the columns as arrays sent in
# binary format (%b). psycopg runs an executemany as one INSERT per row; a multi-row VALUES of
# hundreds of rows is a new statement text each time (parsed again by driver and server); and
# arrays in text format escape every quote of every JSON payload, then the server parses them
# back: ten times slower than the binary form on a batch of confirmations.
PG_UNNEST_INSERT = """
    INSERT INTO outbox (key, platform, target_kind, target_id, payload, status, due_at,
                        next_attempt_at, attempts, created_at)
    SELECT key, platform, target_kind, target_id, CAST(payload AS json), %b, due_at, due_at, 0,
           %b
    FROM unnest(%b::varchar[], %b::varchar[], %b::varchar[], %b::varchar[], %b::text[],
                %b::timestamptz[])
         AS batch (key, platform, target_kind, target_id, payload, due_at)
    ON CONFLICT (key) DO NOTHING
"""
_REVIVE_SKIPPED = """
    ON CONFLICT (key) DO UPDATE SET status = excluded.status, payload = excluded.payload,
        due_at = excluded.due_at, next_attempt_at = excluded.next_attempt_at, attempts = 0,
        last_error = NULL
    WHERE outbox.status = 'skipped'
"""


def _target_columns(target: Target) -> tuple[str, str]:
    if isinstance(target, DirectTarget):
        return "direct", target.user_id
    return "place", target.channel_id


def enqueue_many(
    db: Session, messages: Sequence[Outgoing], now: datetime, *, revive: bool = False
) -> None:
    """:func:`enqueue` for several messages in one statement (hot path).

    Same rows and same idempotency: a key already there is left alone (``ON CONFLICT DO
    NOTHING`` on SQLite and PostgreSQL; other databases fall back to one ``enqueue`` each).
    With ``revive``, a row already there but ``skipped`` (withdrawn) becomes pending again with
    the new payload and moment; a row sent, being sent, failed or pending is still left alone.
    What the ORM holds is flushed first: the rows go to the driver directly.
    """
    if not messages:
        return
    dialect = db.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):
        if revive:
            _revive_rows(db, messages)
        for message in messages:
            enqueue(
                db,
                key=message.key,
                reply=message.reply,
                target=message.target,
                due_at=message.due_at,
                now=now,
            )
        return
    db.flush()  # rows go to the driver directly below: what the ORM holds goes first
    bind = db.get_bind().dialect
    # A batch repeats a few replies and moments many times: each is encoded once, and the rows
    # go to the driver as they are (SQLAlchemy would process every value of every row).
    payloads: dict[tuple[int, str | None], Any] = {}
    encode_payload: Callable[[Any], Any] = (
        json.dumps
        if dialect == "postgresql"
        else _OUTBOX_TABLE.c.payload.type.bind_processor(bind) or (lambda value: value)
    )
    encoded = []
    for m in messages:
        fallback = m.target.fallback_channel_id if isinstance(m.target, DirectTarget) else None
        payload = payloads.get((id(m.reply), fallback))
        if payload is None:
            payload = payloads[(id(m.reply), fallback)] = encode_payload(
                payload_of(m.reply, m.target)
            )
        encoded.append(payload)
    kinds, target_ids = zip(*(_target_columns(m.target) for m in messages), strict=True)
    if dialect == "postgresql":
        db.connection().exec_driver_sql(
            _revived(PG_UNNEST_INSERT) if revive else PG_UNNEST_INSERT,
            (
                OutboxStatus.PENDING.value,
                utc(now),
                [m.key for m in messages],
                [m.target.platform for m in messages],
                list(kinds),
                list(target_ids),
                encoded,
                [utc(m.due_at) for m in messages],
            ),
        )
        return
    moment = Encoder(_OUTBOX_TABLE.c.due_at.type, bind)
    rows = [
        (
            m.key,
            m.target.platform,
            kind,
            target_id,
            payload,
            OutboxStatus.PENDING.value,
            moment(m.due_at),
            moment(m.due_at),
            moment(now),
        )
        for m, kind, target_id, payload in zip(messages, kinds, target_ids, encoded, strict=True)
    ]
    db.connection().exec_driver_sql(_revived(_SQLITE_INSERT) if revive else _SQLITE_INSERT, rows)


@lru_cache(maxsize=4)
def _revived(statement: str) -> str:
    head, _, _ = statement.partition("ON CONFLICT")
    return head + _REVIVE_SKIPPED.strip()


def _revive_rows(db: Session, messages: Sequence[Outgoing]) -> None:
    """``revive`` where the database has no upsert: skipped rows back to pending, one by one."""
    rows = db.scalars(
        select(OutboxMessage).where(
            OutboxMessage.key.in_([m.key for m in messages]),
            OutboxMessage.status == OutboxStatus.SKIPPED,
        )
    ).all()
    by_key = {m.key: m for m in messages}
    for row in rows:
        message = by_key[row.key]
        row.status = OutboxStatus.PENDING
        row.payload = payload_of(message.reply, message.target)
        row.due_at = row.next_attempt_at = message.due_at
        row.attempts = 0
        row.last_error = None
    db.flush()


def withdraw(db: Session, key_prefix: str, reason: str) -> int:
    """Pending outbox rows whose key starts with ``key_prefix`` will not be sent: they become
    ``skipped`` (``withdrawn: <reason>``), which :func:`enqueue_many` may revive. Returns how
    many."""
    done = db.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.key.startswith(key_prefix, autoescape=True),
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.SKIPPED, last_error=f"withdrawn: {reason}")
        .execution_options(synchronize_session=False)
    )
    return int(cast(CursorResult[Any], done).rowcount)


def sent_ref(db: Session, key: str) -> MessageRef | None:
    """Where the outbox message ``key`` was posted, once it was (to edit it later)."""
    row = db.scalars(select(OutboxMessage).where(OutboxMessage.key == key)).one_or_none()
    if row is None or row.platform_message_id is None or row.platform_channel_id is None:
        return None
    return MessageRef(row.platform, row.platform_channel_id, row.platform_message_id)


def target_of(row: OutboxMessage) -> Target:
    if row.target_kind == "direct":
        fallback = (row.payload or {}).get(FALLBACK_CHANNEL)
        return DirectTarget(
            platform=row.platform,
            user_id=row.target_id,
            fallback_channel_id=str(fallback) if fallback else None,
        )
    return PlaceTarget(platform=row.platform, channel_id=row.target_id)


def token_of(row: OutboxMessage) -> str:
    """Stable for a row: the platform deduplicates deliveries on it."""
    return hashlib.sha256(f"{row.id}:{row.key}".encode()).hexdigest()[:24]
