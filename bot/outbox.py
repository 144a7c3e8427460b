"""Durable, idempotent outbound messages.

Every scheduled or asynchronous send (announcements, reminders, digests, poll results, direct
messages to other members) is written as an outbox row with an idempotency key in the same
transaction as the change that causes it; writing the same key twice is a no-op. The
:class:`Sender` delivers due rows and records the platform's message id.

Exactly once, across crashes: a row is claimed (``sending``, committed) before the platform is
called, with a token derived from the row. If the bot dies after the platform accepted the message
but before ``sent`` was committed, the row is found in ``sending`` at the next start and delivered
again with the *same* token; each platform deduplicates on it (Rocket.Chat message ``_id``, Discord
``nonce`` + ``enforce_nonce``, the console's journal), so the message appears once.
"""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.core import DeliveryError, DirectTarget, MessageRef, PlaceTarget, Reply, Target
from bot.platforms.base import Platform
from bot.storage.outbox import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)


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
        payload=reply.to_payload(),
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


def sent_ref(db: Session, key: str) -> MessageRef | None:
    """Where the outbox message ``key`` was posted, once it was (to edit it later)."""
    row = db.scalars(select(OutboxMessage).where(OutboxMessage.key == key)).one_or_none()
    if row is None or row.platform_message_id is None or row.platform_channel_id is None:
        return None
    return MessageRef(row.platform, row.platform_channel_id, row.platform_message_id)


def target_of(row: OutboxMessage) -> Target:
    if row.target_kind == "direct":
        return DirectTarget(platform=row.platform, user_id=row.target_id)
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

    def delay(self, attempts: int, rng: random.Random) -> timedelta:
        exponential: timedelta = min(self.cap, self.base * (2 ** max(0, attempts - 1)))
        return exponential * (0.5 + rng.random() / 2)


@dataclass(slots=True)
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0


class Sender:
    """Delivers due outbox rows through the platforms."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        platforms: Mapping[str, Platform],
        clock: Clock,
        policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._sessions = sessions
        self._platforms = platforms
        self._clock = clock
        self._policy = policy or RetryPolicy()
        self._rng = rng or random.Random()

    def next_due(self) -> datetime | None:
        with self._sessions() as db:
            return db.scalar(
                select(func.min(OutboxMessage.next_attempt_at)).where(
                    OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
                    OutboxMessage.platform.in_(list(self._platforms)),
                )
            )

    async def deliver_due(self) -> DeliveryReport:
        """Deliver every row due now, oldest first. Never raises for a delivery problem."""
        report = DeliveryReport()
        while True:
            claimed = self._claim_next()
            if claimed is None:
                return report
            row_id, outcome = claimed
            if outcome == "skipped":
                report.skipped += 1
                continue
            await self._deliver(row_id, report)

    def _claim_next(self) -> tuple[int, str] | None:
        now = self._clock.now()
        with self._sessions.begin() as db:
            row = db.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
                    OutboxMessage.next_attempt_at <= now,
                    OutboxMessage.platform.in_(list(self._platforms)),
                )
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(1)
            ).one_or_none()
            if row is None:
                return None
            if row.status == OutboxStatus.PENDING and row.due_at < now - self._policy.grace:
                row.status = OutboxStatus.SKIPPED
                row.last_error = (
                    f"missed by {now - row.due_at} while the bot was down "
                    f"(grace {self._policy.grace})"
                )
                log.warning("outbox %s (%s) skipped: %s", row.id, row.key, row.last_error)
                return row.id, "skipped"
            # Claim it: committed before the platform is called.
            claimed: int = db.execute(  # type: ignore[attr-defined]
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, OutboxMessage.status == row.status)
                .values(status=OutboxStatus.SENDING, attempts=OutboxMessage.attempts + 1)
            ).rowcount
            if claimed != 1:  # another sender took it
                return row.id, "taken"
            return row.id, "claimed"

    async def _deliver(self, row_id: int, report: DeliveryReport) -> None:
        with self._sessions() as db:
            row = db.get(OutboxMessage, row_id)
            assert row is not None
            reply = Reply.from_payload(row.payload)
            target = target_of(row)
            token = token_of(row)
            platform = self._platforms[row.platform]
            attempts = row.attempts
        try:
            ref = await platform.deliver(reply, target, token)
        except DeliveryError as exc:
            self._record_failure(row_id, attempts, exc, report)
            return
        except Exception as exc:  # a platform bug must not stop the sender
            log.exception("outbox %s: unexpected error from %s", row_id, platform.name)
            self._record_failure(row_id, attempts, DeliveryError(repr(exc)), report)
            return
        now = self._clock.now()
        with self._sessions.begin() as db:
            db.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id)
                .values(
                    status=OutboxStatus.SENT,
                    sent_at=now,
                    platform_message_id=ref.message_id,
                    platform_channel_id=ref.channel_id,
                    last_error=None,
                )
            )
        report.sent += 1

    def _record_failure(
        self, row_id: int, attempts: int, exc: DeliveryError, report: DeliveryReport
    ) -> None:
        now = self._clock.now()
        give_up = exc.permanent or attempts >= self._policy.max_attempts
        if exc.retry_after is not None:
            delay = timedelta(seconds=exc.retry_after)
        else:
            delay = self._policy.delay(attempts, self._rng)
        with self._sessions.begin() as db:
            db.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id)
                .values(
                    status=OutboxStatus.FAILED if give_up else OutboxStatus.PENDING,
                    last_error=str(exc)[:2000],
                    next_attempt_at=now + delay,
                )
            )
        if give_up:
            report.failed += 1
            log.error("outbox %s failed after %s attempt(s): %s", row_id, attempts, exc)
        else:
            report.retried += 1
            log.warning(
                "outbox %s attempt %s failed (%s); retrying in %s", row_id, attempts, exc, delay
            )
