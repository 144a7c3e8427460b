"""Durable, idempotent outbound messages.

Every scheduled or asynchronous send (announcements, reminders, digests, poll results, direct
messages to other members) is written as an outbox row with an idempotency key in the same
transaction as the change that causes it; writing the same key twice is a no-op. The
:class:`Sender` delivers due rows and records the platform's message id.

Exactly once, between senders: a row is claimed (``sending``, committed) before the platform is
called, by one conditional UPDATE that takes it only if it is ``pending``, or ``sending`` with an
expired lease; the claim names the sender (:attr:`Sender.claimer`) and holds until
``lease_until`` (``RetryPolicy.lease``). Two senders on one database (two instances, thirty
processes) never deliver the same row at once, whatever the platform does with the token; and
the result (sent, retry, failed) is recorded only by the claim still current, so a sender whose
lease ran out and whose row was taken over cannot overwrite the new claimer's state.

Exactly once, across crashes: the platform call is made with a token derived from the row. If the
bot dies after the platform accepted the message but before ``sent`` was committed, the row stays
``sending`` until its lease expires; then a sender takes it and delivers it again with the *same*
token; each platform deduplicates on it (Rocket.Chat message ``_id``, Discord ``nonce`` +
``enforce_nonce``, the console's journal), so the message appears once.

Closed direct messages: when a platform answers a direct message with
:attr:`~bot.core.DeliveryCode.DM_CLOSED`, the row is marked ``failed`` with a ``last_error`` that
says so (the record, also logged), and — when the row knows a channel where the member acts
(``DirectTarget.fallback_channel_id``, kept in the payload) — a short notice is queued there, in
the member's language, mentioning that member only (:attr:`~bot.core.Reply.ping`): a private
message could not be delivered, roughly what it was about (from its key, never its content), and
how to open their direct messages (the platform's ``open_dm_help`` message id when it has one).
At most one notice per member and day (key ``dm-closed:<platform>:<user>:<day>``, the day in the
network's time zone).

This module is the only one that writes the outbox table: :func:`enqueue` (one message, through
the ORM), :func:`enqueue_many` (many in one statement, the hot path of session registrations),
:func:`withdraw` (pending messages that will not be sent), and the :class:`Sender`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import random
import re
import secrets
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, Table, and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.core import (
    DeliveryCode,
    DeliveryError,
    DirectTarget,
    Mention,
    MessageRef,
    PlaceTarget,
    Reply,
    Target,
    TisserandError,
)
from bot.i18n import N_, Translators
from bot.platforms.base import Platform
from bot.storage.bulk import Encoder, utc
from bot.storage.members import member_by_identity
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


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    grace: timedelta = timedelta(hours=24)
    max_attempts: int = 12
    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(hours=1)
    lease: timedelta = timedelta(minutes=5)
    """How long a claim holds: no other sender takes a row being sent before it ends. Longer
    than a platform call with its timeouts and rate-limit waits; the call is not awaited past
    it."""

    def delay(self, attempts: int, rng: random.Random) -> timedelta:
        exponential: timedelta = min(self.cap, self.base * (2 ** max(0, attempts - 1)))
        return exponential * (0.5 + rng.random() / 2)


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    notices: int = 0
    """Notices queued because a member's direct messages were closed."""
    superseded: int = 0
    """Results not recorded: the lease had run out and another sender had claimed the row."""


@dataclass(frozen=True, slots=True)
class _Claim:
    """A row this sender claimed, with what delivering it needs (read by the claim itself)."""

    row_id: int
    attempts: int
    """The row's attempt count with this claim: with the claimer, it names the claim."""
    key: str
    platform: str
    reply: Reply
    target: Target
    token: str


class _LeaseLost(TisserandError):
    """The claim is no longer current: what its sender found is not recorded."""


def _claimer_id() -> str:
    """Names one sender: its host and process (for a person reading the table) and a random
    part (two senders of one process differ, and a restarted process is a new claimer)."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(6)}"


def _claimable(now: datetime) -> Any:
    """The rows a sender may claim at ``now`` (given an id): pending, or sending with a lease
    that expired (its sender died or hung)."""
    return or_(
        OutboxMessage.status == OutboxStatus.PENDING,
        and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.lease_until < now),
    )


class Sender:
    """Delivers due outbox rows through the platforms.

    ``translators`` write the closed-direct-messages notice in the member's language (their
    ``/profil langue``, else the network's default locale, which is also where the day of the
    one-notice-a-day rule is counted); without them, French and UTC.

    Several senders may share a database (instances, processes): each claims rows under its own
    name, :attr:`claimer`, for ``policy.lease`` at most.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        platforms: Mapping[str, Platform],
        clock: Clock,
        policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
        translators: Translators | None = None,
    ) -> None:
        self._sessions = sessions
        self._platforms = platforms
        self._clock = clock
        self._policy = policy or RetryPolicy()
        self._rng = rng or random.Random()
        self._translators = translators
        self.claimer = _claimer_id()

    @property
    def translators(self) -> Translators:
        if self._translators is None:
            self._translators = Translators(ZoneInfo("UTC"))
        return self._translators

    def next_due(self) -> datetime | None:
        """The next attempt of a pending row, or the end of the lease of a row being sent."""
        when = case(
            (OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.lease_until),
            else_=OutboxMessage.next_attempt_at,
        )
        with self._sessions() as db:
            due: datetime | None = db.scalar(
                select(func.min(when)).where(
                    OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
                    OutboxMessage.platform.in_(list(self._platforms)),
                )
            )
            return due

    async def deliver_due(self) -> DeliveryReport:
        """Deliver every row due now, oldest first. Never raises for a delivery problem."""
        report = DeliveryReport()
        while True:
            claimed = self._claim_next()
            if claimed is None:
                return report
            if claimed == "skipped":
                report.skipped += 1
                continue
            if claimed == "taken":  # another sender was first: the next row
                continue
            await self._deliver(claimed, report)

    def _claim_next(self) -> _Claim | Literal["skipped", "taken"] | None:
        """Claim the next due row for this sender (committed before the platform is called).

        ``"skipped"`` when that row was missed beyond the grace (recorded), ``"taken"`` when
        another sender claimed it first, None when nothing is due. The candidate is read with
        ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (senders pick different rows instead of waiting
        on each other); SQLite's write transactions begin IMMEDIATE, one at a time. Either way,
        the claim itself is one conditional UPDATE, so a row is never claimed twice."""
        now = self._clock.now()
        with self._sessions.begin() as db:
            row = db.execute(
                select(OutboxMessage.id, OutboxMessage.status, OutboxMessage.due_at)
                .where(
                    or_(
                        and_(
                            OutboxMessage.status == OutboxStatus.PENDING,
                            OutboxMessage.next_attempt_at <= now,
                        ),
                        and_(
                            OutboxMessage.status == OutboxStatus.SENDING,
                            OutboxMessage.lease_until < now,
                        ),
                    ),
                    OutboxMessage.platform.in_(list(self._platforms)),
                )
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).one_or_none()
            if row is None:
                return None
            if row.status == OutboxStatus.PENDING and row.due_at < now - self._policy.grace:
                last_error = (
                    f"missed by {now - row.due_at} while the bot was down "
                    f"(grace {self._policy.grace})"
                )
                skipped = db.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row.id, OutboxMessage.status == row.status)
                    .values(status=OutboxStatus.SKIPPED, last_error=last_error)
                    .execution_options(synchronize_session=False)
                )
                if _rowcount(skipped) != 1:
                    return "taken"
                log.warning("outbox %s skipped: %s", row.id, last_error)
                return "skipped"
            claimed = db.scalars(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, _claimable(now))
                .values(
                    status=OutboxStatus.SENDING,
                    attempts=OutboxMessage.attempts + 1,
                    claimed_by=self.claimer,
                    lease_until=now + self._policy.lease,
                )
                .returning(OutboxMessage)
                .execution_options(synchronize_session=False)
            ).one_or_none()
            if claimed is None:
                return "taken"
            return _Claim(
                row_id=claimed.id,
                attempts=claimed.attempts,
                key=claimed.key,
                platform=claimed.platform,
                reply=Reply.from_payload(claimed.payload),
                target=target_of(claimed),
                token=token_of(claimed),
            )

    def _record(self, db: Session, claim: _Claim, **values: Any) -> bool:
        """Write ``claim``'s result if the row is still under that claim (sending, this
        claimer, this attempt); False when another sender took the row over (nothing written).
        The lease ends with the result."""
        done = db.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == claim.row_id,
                OutboxMessage.status == OutboxStatus.SENDING,
                OutboxMessage.claimed_by == self.claimer,
                OutboxMessage.attempts == claim.attempts,
            )
            .values(lease_until=None, **values)
            .execution_options(synchronize_session=False)
        )
        return _rowcount(done) == 1

    def _superseded(self, claim: _Claim, result: str, report: DeliveryReport) -> None:
        report.superseded += 1
        log.warning(
            "outbox %s (%s): the lease of attempt %s ran out and another sender claimed the row; "
            "this attempt's result (%s) is not recorded",
            claim.row_id,
            claim.key,
            claim.attempts,
            result,
        )

    async def _deliver(self, claim: _Claim, report: DeliveryReport) -> None:
        platform = self._platforms[claim.platform]
        target = claim.target
        bound = asyncio.timeout(self._policy.lease.total_seconds())
        try:
            async with bound:  # past the lease, another sender may take the row: stop waiting
                ref = await platform.deliver(claim.reply, target, claim.token)
        except DeliveryError as exc:
            if exc.code == DeliveryCode.DM_CLOSED and isinstance(target, DirectTarget):
                self._record_dm_closed(claim, target, exc, report)
            else:
                self._record_failure(claim, exc, report)
            return
        except Exception as exc:  # a platform bug must not stop the sender
            if bound.expired():
                error = DeliveryError(
                    f"no answer from {platform.name} within the lease ({self._policy.lease})"
                )
            else:
                log.exception("outbox %s: unexpected error from %s", claim.row_id, platform.name)
                error = DeliveryError(repr(exc))
            self._record_failure(claim, error, report)
            return
        now = self._clock.now()
        with self._sessions.begin() as db:
            recorded = self._record(
                db,
                claim,
                status=OutboxStatus.SENT,
                sent_at=now,
                platform_message_id=ref.message_id,
                platform_channel_id=ref.channel_id,
                last_error=None,
            )
        if not recorded:
            self._superseded(claim, "sent", report)
            return
        report.sent += 1

    def _record_failure(self, claim: _Claim, exc: DeliveryError, report: DeliveryReport) -> None:
        now = self._clock.now()
        attempts = claim.attempts
        give_up = exc.permanent or attempts >= self._policy.max_attempts
        if exc.retry_after is not None:
            delay = timedelta(seconds=exc.retry_after)
        else:
            delay = self._policy.delay(attempts, self._rng)
        with self._sessions.begin() as db:
            recorded = self._record(
                db,
                claim,
                status=OutboxStatus.FAILED if give_up else OutboxStatus.PENDING,
                last_error=str(exc)[:2000],
                next_attempt_at=now + delay,
            )
        if not recorded:
            self._superseded(claim, f"failed: {exc}", report)
            return
        row_id = claim.row_id
        if give_up:
            report.failed += 1
            log.error("outbox %s failed after %s attempt(s): %s", row_id, attempts, exc)
        else:
            report.retried += 1
            log.warning(
                "outbox %s attempt %s failed (%s); retrying in %s", row_id, attempts, exc, delay
            )

    # --- closed direct messages ----------------------------------------------------------------

    def _record_dm_closed(
        self,
        claim: _Claim,
        target: DirectTarget,
        exc: DeliveryError,
        report: DeliveryReport,
    ) -> None:
        """Mark the row failed (the record) and, when a channel is known, queue the notice in
        the same transaction (neither when the claim is no longer current)."""
        now = self._clock.now()
        row_id, key = claim.row_id, claim.key
        try:
            with self._sessions.begin() as db:
                queued, outcome = self._queue_notice(db, key, target, now)
                record = f"direct messages closed by {target.platform} user {target.user_id}: "
                record += f"{outcome} [{exc}]"
                failed = self._record(
                    db,
                    claim,
                    status=OutboxStatus.FAILED,
                    last_error=record[:2000],
                    next_attempt_at=now,
                )
                if not failed:
                    raise _LeaseLost  # rolls the notice back too
        except _LeaseLost:
            self._superseded(claim, f"failed: {exc}", report)
            return
        except Exception:  # the notice must never stop the sender: record the failure alone
            log.exception("outbox %s: could not queue the closed-DM notice", row_id)
            self._record_failure(claim, exc, report)
            return
        report.failed += 1
        if queued:
            report.notices += 1
        log.warning("outbox %s (%s) not delivered: %s", row_id, key, record)

    def _queue_notice(
        self, db: Session, key: str, target: DirectTarget, now: datetime
    ) -> tuple[bool, str]:
        """Queue the notice for ``target``'s member: whether it was queued, and what was done
        (for the record)."""
        channel_id = target.fallback_channel_id
        if channel_id is None:
            return False, "no channel known to tell them; only recorded"
        member = member_by_identity(db, target.platform, target.user_id)
        t = self.translators.get(member.locale if member is not None else None)
        day = now.astimezone(self.translators.tz).date().isoformat()
        notice_key = f"dm-closed:{target.platform}:{target.user_id}:{day}"
        mention = Mention(
            target.user_id, member.display_name if member is not None else target.user_id
        )
        platform = self._platforms.get(target.platform)
        how = getattr(platform, "open_dm_help", None) or OPEN_DM_HELP
        text = t.gettext(DM_CLOSED_NOTICE, mention=mention.token, about=t.gettext(about(key)))
        notice = Reply(text=f"{text} {t.gettext(how)}", ping=(mention,))
        row = enqueue(
            db,
            key=notice_key,
            reply=notice,
            target=PlaceTarget(platform=target.platform, channel_id=channel_id),
            due_at=now,
            now=now,
        )
        if row is None:
            return False, f"already told today ({notice_key}); not told again"
        return True, f"notice queued in channel {channel_id} ({notice_key})"


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)
