"""Never overbook, with real concurrency: threads, each on its own connection and transaction.

Every race runs on SQLite and on PostgreSQL (when TISSERAND_TEST_DATABASE_URL is set). The
assertions are invariants that hold whatever order the database serialised the transactions in:
"arrival order" is the order the database granted them the session row, which the ``arrival``
number records.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.storage.engine import migrate
from bot.storage.members import Member
from bot.storage.outbox import OutboxStatus
from bot.storage.sessions import RegistrationStatus
from commands.sessions import (
    AlreadyConfirmed,
    AlreadyWaitlisted,
    SessionDraft,
    SessionError,
    create_session,
    register,
    register_and_notify,
    unregister_and_notify,
)
from tests.conftest import Database
from tests.support.sessions import (
    NOTIFIER,
    NOW,
    START,
    make_members,
    outbox_rows,
    registrations,
    session_row,
    write_due_reminders,
)

PG_CONNECTIONS = 20
"""PostgreSQL's max_connections is shared with other tests: threads queue for these."""

T = TypeVar("T")


@pytest.fixture
def racing_engine(database: Database) -> Iterator[Engine]:
    size = 200 if database.kind == "sqlite" else PG_CONNECTIONS
    eng = database.engine(pool_size=size, max_overflow=0, pool_timeout=120)
    migrate(eng)
    yield eng
    eng.dispose()


def _session(engine: Engine, capacity: int) -> int:
    with Session(engine) as db:
        row = create_session(
            db,
            SessionDraft(
                title="Plénière",
                kind="pleniere",
                starts_at=START,
                ends_at=START + timedelta(hours=3),
                capacity=capacity,
            ),
            platform="console",
            channel_id="general",
            created_by=None,
            network_name="Réseau",
            now=NOW,
        )
        db.commit()
        return row.id


def _race(engine: Engine, jobs: list[Callable[[Session], T]]) -> list[T | SessionError]:
    """Run every job at once, each in its own thread, session and transaction."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(index: int) -> None:
        barrier.wait()
        try:
            with Session(engine, expire_on_commit=False) as db:
                results[index] = jobs[index](db)
                db.commit()
        except SessionError as error:
            results[index] = error
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive(), "a registration hung"
    unexpected = [r for r in results if isinstance(r, BaseException | type(None))]
    unexpected = [r for r in unexpected if not isinstance(r, SessionError)]
    assert not unexpected, unexpected[:3]
    return results


def _register_job(session_id: int, member_id: int) -> Callable[[Session], tuple[str, int | None]]:
    def job(db: Session) -> tuple[str, int | None]:
        member = db.get(Member, member_id)
        assert member is not None
        result = register(db, session_id, member, NOW)
        return result.status.value, result.position

    return job


def _notify_register_job(session_id: int, member_id: int) -> Callable[[Session], str]:
    def job(db: Session) -> str:
        member = db.get(Member, member_id)
        assert member is not None
        return register_and_notify(db, NOTIFIER, session_id, member, NOW).status.value

    return job


def _unregister_job(session_id: int, member_id: int) -> Callable[[Session], str]:
    def job(db: Session) -> str:
        member = db.get(Member, member_id)
        assert member is not None
        return unregister_and_notify(db, NOTIFIER, session_id, member, NOW).previous.value

    return job


def _remind(engine: Engine) -> None:
    """The ``sessions`` provider at the moment of the 24-hour reminder."""
    write_due_reminders(engine, NOTIFIER, START - timedelta(hours=24))


def test_200_simultaneous_registrations_for_20_seats(racing_engine: Engine) -> None:
    session_id = _session(racing_engine, capacity=20)
    members = make_members(racing_engine, 200, "m")
    results = _race(racing_engine, [_register_job(session_id, m) for m in members])
    statuses = [r[0] for r in results if isinstance(r, tuple)]
    assert statuses.count("confirmed") == 20
    assert statuses.count("waitlisted") == 180
    positions = sorted(r[1] for r in results if isinstance(r, tuple) and r[1] is not None)
    assert positions == list(range(1, 181))  # no gap, no duplicate
    rows = registrations(racing_engine, session_id)
    # Arrival order is the order the database serialised them: seats went to the first 20,
    # and each waitlisted member's position is their rank among those who came after.
    assert [r.arrival for r in rows] == list(range(1, 201))
    assert {r.status for r in rows[:20]} == {RegistrationStatus.CONFIRMED}
    assert {r.status for r in rows[20:]} == {RegistrationStatus.WAITLISTED}
    counter = session_row(racing_engine, session_id)
    assert counter.confirmed == counter.capacity == 20
    assert counter.last_arrival == 200


@pytest.mark.parametrize("full", [False, True], ids=["seat", "waitlist"])
def test_one_member_registering_50_times_at_once_is_one_registration(
    racing_engine: Engine, full: bool
) -> None:
    session_id = _session(racing_engine, capacity=1 if full else 5)
    (member_id, other) = make_members(racing_engine, 2, "solo")
    if full:
        _race(racing_engine, [_register_job(session_id, other)])
    results = _race(racing_engine, [_notify_register_job(session_id, member_id)] * 50)
    wins = [r for r in results if isinstance(r, str)]
    refusals = [r for r in results if isinstance(r, SessionError)]
    assert wins == ["waitlisted" if full else "confirmed"]
    expected = AlreadyWaitlisted if full else AlreadyConfirmed
    assert [type(e) for e in refusals] == [expected] * 49
    if full:
        assert {e.position for e in refusals if isinstance(e, AlreadyWaitlisted)} == {1}
    rows = [r for r in registrations(racing_engine, session_id) if r.member_id == member_id]
    assert len(rows) == 1
    assert session_row(racing_engine, session_id).confirmed == 1
    confirmations = outbox_rows(racing_engine, f"session:{session_id}:confirmed:{member_id}:")
    assert len(confirmations) == (0 if full else 1)
    _remind(racing_engine)  # one reminder, for a confirmed member only
    reminders = outbox_rows(racing_engine, f"session:{session_id}:reminder:{member_id}:")
    assert len(reminders) == (0 if full else 1)


def test_cancellations_racing_with_registrations_promote_in_order(racing_engine: Engine) -> None:
    session_id = _session(racing_engine, capacity=10)
    first = make_members(racing_engine, 30, "first")
    newcomers = make_members(racing_engine, 30, "new")
    for member_id in first:  # arrivals 1..30: 10 confirmed, 20 waitlisted
        _race(racing_engine, [_notify_register_job(session_id, member_id)])
    leaving = first[:10] + [first[i] for i in (11, 14, 17, 20, 23)]
    jobs: list[Callable[[Session], str]] = [_unregister_job(session_id, m) for m in leaving]
    jobs += [_notify_register_job(session_id, m) for m in newcomers]
    results = _race(racing_engine, jobs)
    assert all(isinstance(r, str) for r in results), results

    rows = registrations(racing_engine, session_id)
    by_member = {r.member_id: r for r in rows}
    active = [r for r in rows if r.status in ("confirmed", "waitlisted")]
    confirmed = [r for r in active if r.status == RegistrationStatus.CONFIRMED]
    waiting = [r for r in active if r.status == RegistrationStatus.WAITLISTED]
    counter = session_row(racing_engine, session_id)
    assert counter.confirmed == len(confirmed) == 10  # never above capacity, never a seat lost
    # Promotions in order: the seats are held by the earliest arrivals still registered.
    assert sorted(r.arrival for r in confirmed) == sorted(r.arrival for r in active)[:10]
    assert max(r.arrival for r in confirmed) < min(r.arrival for r in waiting)
    assert all(by_member[m].status == RegistrationStatus.CANCELLED for m in leaving)
    assert all(by_member[m].status == RegistrationStatus.WAITLISTED for m in newcomers)
    assert len(waiting) == 30 + 20 - 5 - 10
    # Messages: each promoted member was told once; when the reminder falls due, exactly the
    # confirmed members get it, and no leaver.
    for registration in confirmed:
        promoted = outbox_rows(
            racing_engine, f"session:{session_id}:promoted:{registration.member_id}:"
        )
        assert len(promoted) == 1
    _remind(racing_engine)
    reminders = outbox_rows(racing_engine, f"session:{session_id}:reminder:")
    assert {r.status for r in reminders} == {OutboxStatus.PENDING}
    assert sorted(int(r.key.split(":")[3]) for r in reminders) == sorted(
        r.member_id for r in confirmed
    )
