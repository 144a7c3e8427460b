"""The outbox's batch writer (``enqueue_many``) and ``withdraw``: the same rows as ``enqueue``,
the same idempotency, and revival of withdrawn rows only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.core import DirectTarget, PlaceTarget, Reply
from bot.outbox import Outgoing, enqueue, enqueue_many, payload_of, withdraw
from bot.storage.outbox import OutboxMessage, OutboxStatus

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
DIRECT = DirectTarget("console", "alice", fallback_channel_id="general")
PLACE = PlaceTarget("console", "general")


def _rows(engine: Engine) -> dict[str, tuple[object, ...]]:
    with Session(engine) as db:
        return {
            row.key: (
                row.platform,
                row.target_kind,
                row.target_id,
                row.payload,
                row.status,
                row.due_at,
                row.next_attempt_at,
                row.attempts,
                row.created_at,
                row.last_error,
            )
            for row in db.scalars(select(OutboxMessage))
        }


def test_enqueue_many_writes_what_enqueue_writes(engine: Engine) -> None:
    hello, news = Reply(text="hello"), Reply(text="news")
    with Session(engine) as db:
        enqueue_many(
            db,
            [Outgoing("a:1", hello, DIRECT, LATER), Outgoing("a:2", news, PLACE, NOW)],
            NOW,
        )
        db.commit()
    batch = _rows(engine)
    with Session(engine) as db:
        db.execute(OutboxMessage.__table__.delete())
        enqueue(db, key="a:1", reply=hello, target=DIRECT, due_at=LATER, now=NOW)
        enqueue(db, key="a:2", reply=news, target=PLACE, due_at=NOW, now=NOW)
        db.commit()
    assert batch == _rows(engine)
    assert batch["a:1"][3] == payload_of(hello, DIRECT)
    assert batch["a:1"][1:3] == ("direct", "alice")


def test_a_key_already_there_is_left_alone_and_only_skipped_rows_are_revived(
    engine: Engine,
) -> None:
    first, second = Reply(text="first"), Reply(text="second")
    keys = ("k:pending", "k:skipped", "k:sent")
    with Session(engine) as db:
        enqueue_many(db, [Outgoing(key, first, DIRECT, NOW) for key in keys], NOW)
        db.flush()
        assert withdraw(db, "k:skipped", "changed") == 1
        sent = db.scalars(select(OutboxMessage).where(OutboxMessage.key == "k:sent")).one()
        sent.status = OutboxStatus.SENT
        db.commit()
    with Session(engine) as db:  # without revive: nothing changes
        enqueue_many(db, [Outgoing(key, second, DIRECT, LATER) for key in keys], LATER)
        db.commit()
    rows = _rows(engine)
    assert [rows[key][4] for key in keys] == ["pending", "skipped", "sent"]
    assert rows["k:skipped"][9] == "withdrawn: changed"
    with Session(engine) as db:  # with revive: the withdrawn one only, with the new message
        enqueue_many(db, [Outgoing(key, second, DIRECT, LATER) for key in keys], LATER, revive=True)
        db.commit()
    revived = _rows(engine)
    assert [revived[key][4] for key in keys] == ["pending", "pending", "sent"]
    assert revived["k:skipped"][3] == payload_of(second, DIRECT)
    assert revived["k:skipped"][5:8] == (LATER, LATER, 0)
    assert revived["k:skipped"][9] is None
    assert revived["k:pending"] == rows["k:pending"]
    assert revived["k:sent"] == rows["k:sent"]


def test_withdraw_takes_pending_rows_by_key_prefix_only(engine: Engine) -> None:
    reply = Reply(text="x")
    keys = ("session:1:reminder:5:1h", "session:1:reminder:6:1h", "session:12:reminder:5:1h")
    with Session(engine) as db:
        enqueue_many(db, [Outgoing(key, reply, DIRECT, NOW) for key in keys], NOW)
        db.commit()
    with Session(engine) as db:
        assert withdraw(db, "session:1:reminder:", "session cancelled") == 2
        assert withdraw(db, "session:1:reminder:", "again") == 0  # already withdrawn
        assert withdraw(db, "session:1_", "a LIKE wildcard is a character") == 0
        db.commit()
    rows = _rows(engine)
    assert [rows[key][4] for key in keys] == ["skipped", "skipped", "pending"]
    assert rows[keys[0]][9] == "withdrawn: session cancelled"


def test_an_empty_batch_writes_nothing(engine: Engine) -> None:
    with Session(engine) as db:
        enqueue_many(db, [], NOW, revive=True)
        db.commit()
    assert _rows(engine) == {}
