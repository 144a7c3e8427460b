"""The outbox delivers each message exactly once, through retries and crashes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.clock import FrozenClock
from bot.core import DeliveryError, PlaceTarget, Reply
from bot.outbox import RetryPolicy, Sender, enqueue
from bot.storage.engine import make_session_factory
from bot.storage.outbox import OutboxMessage, OutboxStatus
from tests.support.platform import RecordingPlatform

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TARGET = PlaceTarget("console", "general")


def _sender(
    engine: Engine, platform: RecordingPlatform, clock: FrozenClock, **policy: object
) -> Sender:
    return Sender(
        make_session_factory(engine),
        {platform.name: platform},
        clock,
        RetryPolicy(**policy),  # type: ignore[arg-type]
        rng=random.Random(1),
    )


def _add(engine: Engine, key: str, due: datetime, text: str = "hello") -> bool:
    with Session(engine) as db:
        row = enqueue(db, key=key, reply=Reply(text=text), target=TARGET, due_at=due, now=START)
        db.commit()
        return row is not None


def _rows(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as db:
        return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@pytest.mark.asyncio
async def test_same_key_twice_is_one_message(engine: Engine) -> None:
    assert _add(engine, "announce:1", START)
    assert not _add(engine, "announce:1", START, text="again")
    platform = RecordingPlatform()
    report = await _sender(engine, platform, FrozenClock(START)).deliver_due()
    assert report.sent == 1
    assert [reply.text for _, reply, _ in platform.posted] == ["hello"]
    row = _rows(engine)[0]
    assert row.status == OutboxStatus.SENT
    assert row.platform_message_id == "1"


@pytest.mark.asyncio
async def test_future_rows_wait_for_their_time(engine: Engine) -> None:
    _add(engine, "later", START + timedelta(hours=2))
    clock = FrozenClock(START)
    platform = RecordingPlatform()
    sender = _sender(engine, platform, clock)
    assert sender.next_due() == START + timedelta(hours=2)
    assert (await sender.deliver_due()).sent == 0
    clock.advance(timedelta(hours=2))
    assert (await sender.deliver_due()).sent == 1
    assert sender.next_due() is None


@pytest.mark.asyncio
async def test_transient_errors_are_retried_and_honour_retry_after(engine: Engine) -> None:
    _add(engine, "k", START)
    clock = FrozenClock(START)
    platform = RecordingPlatform(
        failures=[DeliveryError("429", retry_after=30), DeliveryError("502")]
    )
    sender = _sender(engine, platform, clock)
    report = await sender.deliver_due()
    assert (report.sent, report.retried) == (0, 1)
    row = _rows(engine)[0]
    assert row.status == OutboxStatus.PENDING
    assert row.next_attempt_at == START + timedelta(seconds=30)
    assert row.last_error == "429"
    clock.advance(timedelta(seconds=30))
    assert (await sender.deliver_due()).retried == 1
    clock.advance(timedelta(hours=2))
    assert (await sender.deliver_due()).sent == 1
    assert len(platform.posted) == 1
    assert _rows(engine)[0].attempts == 3


@pytest.mark.asyncio
async def test_permanent_failure_and_exhausted_attempts_are_recorded(engine: Engine) -> None:
    _add(engine, "closed", START)
    _add(engine, "flaky", START)
    platform = RecordingPlatform(
        failures=[DeliveryError("dm closed", permanent=True)] + [DeliveryError("500")] * 5
    )
    clock = FrozenClock(START)
    sender = _sender(engine, platform, clock, max_attempts=2)
    await sender.deliver_due()
    clock.advance(timedelta(days=1))
    await sender.deliver_due()
    rows = _rows(engine)
    assert [r.status for r in rows] == [OutboxStatus.FAILED, OutboxStatus.FAILED]
    assert rows[0].last_error == "dm closed" and rows[0].attempts == 1
    assert rows[1].attempts == 2
    assert platform.posted == []


@pytest.mark.asyncio
async def test_rows_missed_beyond_the_grace_are_skipped_not_sent(engine: Engine) -> None:
    _add(engine, "old", START - timedelta(days=3))
    _add(engine, "recent", START - timedelta(hours=1))
    platform = RecordingPlatform()
    report = await _sender(
        engine, platform, FrozenClock(START), grace=timedelta(days=1)
    ).deliver_due()
    assert (report.sent, report.skipped) == (1, 1)
    rows = _rows(engine)
    assert rows[0].status == OutboxStatus.SKIPPED and "missed by" in (rows[0].last_error or "")
    assert rows[1].status == OutboxStatus.SENT


@pytest.mark.asyncio
async def test_crash_between_send_and_record_never_duplicates(engine: Engine) -> None:
    for i in range(3):
        _add(engine, f"k{i}", START, text=f"m{i}")
    platform = RecordingPlatform(crash_after_post=1)
    with pytest.raises(KeyboardInterrupt):
        await _sender(engine, platform, FrozenClock(START)).deliver_due()
    assert [r.status for r in _rows(engine)] == ["sending", "pending", "pending"]
    # The bot restarts: a new sender over the same database and the same platform.
    report = await _sender(
        engine, platform, FrozenClock(START + timedelta(minutes=1))
    ).deliver_due()
    assert report.sent == 3
    assert [reply.text for _, reply, _ in platform.posted] == ["m0", "m1", "m2"]
    assert all(r.status == OutboxStatus.SENT for r in _rows(engine))
