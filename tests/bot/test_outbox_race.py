"""Several senders on one database: each outbox row is delivered once, by our own count.

The platforms count every delivery (:class:`tests.support.outbox_race.CountingPlatform` does
not deduplicate on the token): exactly-once has to come from the outbox's claim.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from alembic import command
from bot.app import App
from bot.clock import FrozenClock
from bot.config import load_settings
from bot.core import ConfigError, DeliveryError, PlaceTarget, Reply
from bot.outbox import RetryPolicy, Sender, enqueue
from bot.storage.engine import alembic_config, make_session_factory, migrate
from bot.storage.outbox import OutboxMessage, OutboxStatus
from tests.conftest import Database
from tests.support.outbox_race import START, CountingPlatform

TARGET = PlaceTarget("console", "general")
ROOT = Path(__file__).resolve().parents[2]


def _fill(engine: Engine, count: int) -> None:
    with Session(engine) as db:
        for i in range(count):
            enqueue(
                db,
                key=f"race:{i}",
                reply=Reply(text=f"m{i}"),
                target=TARGET,
                due_at=START,
                now=START,
            )
        db.commit()


def _rows(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as db:
        return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _sender(
    engine: Engine, platform: CountingPlatform, clock: FrozenClock, lease: float | None = None
) -> Sender:
    policy = RetryPolicy() if lease is None else RetryPolicy(lease=timedelta(seconds=lease))
    return Sender(make_session_factory(engine), {platform.name: platform}, clock, policy)


def _duplicates(tokens: list[str]) -> int:
    return sum(n - 1 for n in Counter(tokens).values() if n > 1)


@pytest.mark.asyncio
async def test_two_senders_on_one_database_deliver_each_row_once(
    engine: Engine, database: Database
) -> None:
    """Two instances (their own engines, their own platforms) race over the same due rows."""
    rows = 60
    _fill(engine, rows)
    engines = [database.engine(), database.engine()]
    delivered: list[str] = []
    try:
        senders = [_sender(own, CountingPlatform(delivered), FrozenClock(START)) for own in engines]
        reports = await asyncio.gather(*(sender.deliver_due() for sender in senders))
        assert _duplicates(delivered) == 0, f"{_duplicates(delivered)} duplicates"
        assert len(delivered) == rows
        assert sum(report.sent for report in reports) == rows
        assert all(report.sent > 0 for report in reports)  # both really took part
        assert {(row.status, row.attempts) for row in _rows(engine)} == {(OutboxStatus.SENT, 1)}
    finally:
        for own in engines:
            own.dispose()


WORKER = "from tests.support.outbox_race import main; main()"


def test_thirty_processes_deliver_each_row_once(
    engine: Engine, database: Database, tmp_path: Path
) -> None:
    """30 OS processes, each a sender loop with its own delivery counter (a file)."""
    processes, rows = 30, 300
    _fill(engine, rows)
    go = tmp_path / "go"
    outs = [tmp_path / f"sender-{n}.txt" for n in range(processes)]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, database.url, str(out), str(go)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for out in outs
    ]
    try:
        deadline = time.monotonic() + 600  # a loaded machine starts 30 interpreters slowly
        while not all(out.with_suffix(".ready").exists() for out in outs):
            assert time.monotonic() < deadline, "the senders did not start"
            assert all(child.poll() is None for child in children), [
                child.communicate() for child in children if child.poll() is not None
            ]
            time.sleep(0.05)
        go.touch()  # every process is connected and waiting: they start together
        results: list[tuple[str, str] | None] = []
        for child in children:
            try:
                results.append(child.communicate(timeout=300))
            except subprocess.TimeoutExpired:
                results.append(None)
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    # Each process wrote every delivery as it made it: counted even if one did not finish.
    tokens = [token for out in outs for token in out.read_text().split()]
    assert _duplicates(tokens) == 0, f"{_duplicates(tokens)} duplicates in {len(tokens)}"
    for child, result in zip(children, results, strict=True):
        assert result is not None, "a sender did not finish"
        assert child.returncode == 0, result[1]
    assert len(tokens) == rows
    assert len(set(tokens)) == rows
    sent = [int(result[0]) for result in results if result is not None]
    assert sum(sent) == rows
    assert sum(1 for n in sent if n > 0) > 1  # they really raced
    assert {row.status for row in _rows(engine)} == {OutboxStatus.SENT}


@pytest.mark.asyncio
async def test_an_expired_lease_is_claimed_again_and_the_late_result_ignored(
    engine: Engine, database: Database
) -> None:
    """A sender stuck mid-send (or killed) keeps its row until the lease ends, no longer; when
    it answers after another sender took the row over, what it says is not recorded."""
    _fill(engine, 1)
    delivered: list[str] = []
    stuck = CountingPlatform(delivered, gate=asyncio.Event())
    first = _sender(engine, stuck, FrozenClock(START), lease=60)
    late = asyncio.create_task(first.deliver_due())
    await asyncio.wait_for(stuck.entered.wait(), 10)
    [row] = _rows(engine)
    assert (row.status, row.attempts) == (OutboxStatus.SENDING, 1)
    assert row.claimed_by == first.claimer
    assert row.lease_until == START + timedelta(seconds=60)

    other_engine = database.engine()
    try:
        clock = FrozenClock(START + timedelta(seconds=59))
        second = _sender(other_engine, CountingPlatform(delivered), clock, lease=60)
        assert second.next_due() == START + timedelta(seconds=60)  # the lease's end
        assert (await second.deliver_due()).sent == 0  # still leased: not taken
        clock.advance(timedelta(seconds=2))
        assert (await second.deliver_due()).sent == 1  # expired: taken over and delivered
        [row] = _rows(engine)
        assert (row.status, row.attempts, row.claimed_by) == ("sent", 2, second.claimer)
        sent_as = row.platform_message_id

        stuck.gate.set()  # type: ignore[union-attr]
        report = await asyncio.wait_for(late, 10)
        assert (report.sent, report.superseded) == (0, 1)
        [row] = _rows(engine)
        assert (row.status, row.attempts, row.claimed_by) == ("sent", 2, second.claimer)
        assert row.platform_message_id == sent_as  # the late sender's answer is not recorded
        # Twice at the platform, with the same token: the crash case the token is there for.
        assert len(delivered) == 2 and len(set(delivered)) == 1
    finally:
        other_engine.dispose()


@pytest.mark.asyncio
async def test_a_late_failure_does_not_overwrite_the_new_claim(
    engine: Engine, database: Database
) -> None:
    """The first sender's late failure arrives while the second is still sending: the row stays
    the second's (sending, its claim), and the second's result is the one recorded."""
    _fill(engine, 1)
    delivered: list[str] = []
    first_platform = CountingPlatform(
        delivered, gate=asyncio.Event(), fail_with=DeliveryError("502 from a slow proxy")
    )
    first = _sender(engine, first_platform, FrozenClock(START), lease=60)
    first_run = asyncio.create_task(first.deliver_due())
    await asyncio.wait_for(first_platform.entered.wait(), 10)

    other_engine = database.engine()
    try:
        second_platform = CountingPlatform(delivered, gate=asyncio.Event())
        second = _sender(
            other_engine, second_platform, FrozenClock(START + timedelta(seconds=61)), lease=60
        )
        second_run = asyncio.create_task(second.deliver_due())
        await asyncio.wait_for(second_platform.entered.wait(), 10)
        first_platform.gate.set()  # type: ignore[union-attr]
        report = await asyncio.wait_for(first_run, 10)
        assert (report.retried, report.failed, report.superseded) == (0, 0, 1)
        [row] = _rows(engine)
        assert (row.status, row.claimed_by, row.last_error) == ("sending", second.claimer, None)
        assert row.lease_until == START + timedelta(seconds=121)

        second_platform.gate.set()  # type: ignore[union-attr]
        assert (await asyncio.wait_for(second_run, 10)).sent == 1
        [row] = _rows(engine)
        assert (row.status, row.attempts, row.lease_until) == ("sent", 2, None)
        assert len(delivered) == 1
    finally:
        other_engine.dispose()


@pytest.mark.asyncio
async def test_a_platform_call_is_not_awaited_past_the_lease(engine: Engine) -> None:
    """A platform that never answers holds its row no longer than the lease: the sender stops
    waiting and records a retry (with the same token next time), under its own claim."""
    _fill(engine, 1)
    hung = CountingPlatform([], gate=asyncio.Event())
    sender = _sender(engine, hung, FrozenClock(START), lease=0.2)
    report = await asyncio.wait_for(sender.deliver_due(), 10)
    assert (report.sent, report.retried) == (0, 1)
    [row] = _rows(engine)
    assert (row.status, row.lease_until) == (OutboxStatus.PENDING, None)
    assert "no answer from console within the lease" in (row.last_error or "")


@pytest.mark.asyncio
async def test_a_row_being_sent_when_the_database_is_upgraded_is_sent_again(
    engine: Engine,
) -> None:
    """Revision 0008: a row left ``sending`` by a version without leases (a crash) has no
    claimer; its lease counts as expired at its last attempt, so it is delivered again (with the
    same token) as before, not held forever."""
    _fill(engine, 1)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
    with engine.begin() as connection:
        connection.execute(text("UPDATE outbox SET status = 'sending', attempts = 1"))
    migrate(engine)
    [row] = _rows(engine)
    assert (row.status, row.claimed_by, row.lease_until) == ("sending", None, START)
    delivered: list[str] = []
    sender = _sender(engine, CountingPlatform(delivered), FrozenClock(START + timedelta(seconds=1)))
    assert sender.next_due() == START
    assert (await sender.deliver_due()).sent == 1
    assert len(delivered) == 1
    [row] = _rows(engine)
    assert (row.status, row.attempts, row.claimed_by) == ("sent", 2, sender.claimer)


def test_the_lease_is_set_in_the_configuration(tmp_path: Path) -> None:
    example = load_settings(ROOT / "config" / "tisserand.example.toml", environ={})
    assert example.outbox.lease_seconds == 300.0  # the example shows the default
    settings = load_settings(
        None,
        environ={},
        overrides={"data_dir": str(tmp_path), "outbox": {"lease_seconds": 42}},
    )
    app = App(settings, families=[])
    try:
        assert app._build_sender()._policy.lease == timedelta(seconds=42)
    finally:
        app.engine.dispose()
    with pytest.raises(ConfigError):
        load_settings(None, environ={}, overrides={"outbox": {"lease_seconds": 0}})
