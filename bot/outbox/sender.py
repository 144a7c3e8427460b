"""Delivering the outbox: the :class:`Sender` claims due rows one by one, calls the platform
and records the result (the exactly-once rules are in the package's docstring).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, and_, case, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock
from bot.core import (
    DeliveryCode,
    DeliveryError,
    DirectTarget,
    Mention,
    PlaceTarget,
    Reply,
    Target,
    TisserandError,
)
from bot.i18n import Translators
from bot.outbox.writer import (
    DM_CLOSED_NOTICE,
    OPEN_DM_HELP,
    about,
    enqueue,
    target_of,
    token_of,
)
from bot.platforms.base import Platform
from bot.storage.members import member_by_identity
from bot.storage.outbox import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)


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
