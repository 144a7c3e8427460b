"""The registrar: registrations and cancellations group-committed by one worker thread.

Every test runs on SQLite and on PostgreSQL (when TISSERAND_TEST_DATABASE_URL is set). Requests
submitted before :meth:`Registrar.start` are all pending when the worker starts, so they form
one batch (one transaction per session): that is how the tests make batching deterministic.
The equivalence test checks the batch against the direct path (one transaction per request,
:func:`register_and_notify` / :func:`unregister_and_notify`) applied in the same order.
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import FrozenClock
from bot.config import load_settings
from bot.core import Actor, CommandEvent, DirectTarget, MessageRef, Place, Role
from bot.storage.engine import make_engine, make_session_factory, migrate
from bot.storage.members import Member
from bot.storage.outbox import OutboxMessage, OutboxStatus
from bot.storage.sessions import Registration, RegistrationStatus, SessionQuota, SessionRow
from bot.wiring import make_app
from commands.sessions import (
    REGISTRAR_SERVICE,
    AlreadyConfirmed,
    AlreadyWaitlisted,
    NotRegistered,
    RegisterResult,
    RegistrarClosed,
    RegistrationsClosed,
    SessionCancelled,
    SessionDraft,
    SessionError,
    SessionNotFound,
    TooLateToRegister,
    UnregisterResult,
    cancel_session,
    create_session,
    register_and_notify,
    unregister_and_notify,
)
from commands.sessions.registrar import Registrar
from tests.conftest import Database
from tests.support.platform import RecordingPlatform
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

WAIT = 120  # seconds: a bound for a hung worker, never reached when things work


@pytest.fixture
def engine(database: Database) -> Iterator[Engine]:
    eng = database.engine(pool_size=10, max_overflow=0, pool_timeout=60)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def registrar(factory: sessionmaker[Session]) -> Iterator[Registrar]:
    """Not started: tests submit first (one batch), then start."""
    reg = Registrar(factory, NOTIFIER)
    yield reg
    reg.close(timeout=WAIT)


def _session(engine: Engine, capacity: int, quotas: dict[str, int] | None = None) -> int:
    with Session(engine) as db:
        row = create_session(
            db,
            SessionDraft(
                title="Plénière",
                kind="pleniere",
                starts_at=START,
                ends_at=START + timedelta(hours=3),
                capacity=capacity,
                location="Salle du conseil",
                quotas=quotas or {},
            ),
            platform="console",
            channel_id="general",
            created_by=None,
            network_name="Réseau",
            now=NOW,
        )
        db.commit()
        return row.id


def _remind(engine: Engine, at: datetime = START - timedelta(hours=24)) -> None:
    """The ``sessions`` provider at ``at`` (by default the moment of the 24-hour reminder)."""
    write_due_reminders(engine, NOTIFIER, at)


def _outcome(future: Future[Any]) -> Any:
    """The result, or the exception, of a future the worker resolves."""
    try:
        return future.result(timeout=WAIT)
    except Exception as exc:
        return exc


# --- contention ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_200_concurrent_registrations_for_20_seats_in_submission_order(
    engine: Engine, registrar: Registrar
) -> None:
    session_id = _session(engine, capacity=20)
    members = make_members(engine, 200, "m")
    registrar.start()
    # Tasks of one event loop submit in the order they were created, while the worker runs
    # (batches form as they come): submission order is the members' order.
    results = await asyncio.gather(
        *(registrar.register(session_id, member_id, NOW) for member_id in members)
    )
    assert [r.status for r in results] == ["confirmed"] * 20 + ["waitlisted"] * 180
    assert [r.position for r in results[20:]] == list(range(1, 181))
    assert all(r.new for r in results)
    rows = registrations(engine, session_id)
    assert [r.member_id for r in rows] == members  # arrival order = submission order
    assert [r.arrival for r in rows] == list(range(1, 201))
    assert [r.id for r in rows] == [r.registration.id for r in results]
    counter = session_row(engine, session_id)
    assert (counter.confirmed, counter.capacity, counter.last_arrival) == (20, 20, 200)
    confirmations = outbox_rows(engine, f"session:{session_id}:confirmed:")
    assert sorted(int(m.key.split(":")[3]) for m in confirmations) == sorted(members[:20])
    assert outbox_rows(engine, f"session:{session_id}:reminder:") == []  # written when due
    _remind(engine)
    reminders = outbox_rows(engine, f"session:{session_id}:reminder:")
    assert sorted(int(m.key.split(":")[3]) for m in reminders) == sorted(members[:20])
    assert registrar.handled == 200
    assert registrar.transactions < 200  # they were grouped


def test_200_threads_at_once_never_overbook(engine: Engine, registrar: Registrar) -> None:
    session_id = _session(engine, capacity=20)
    members = make_members(engine, 200, "t")
    registrar.start()
    barrier = threading.Barrier(len(members))
    futures: list[Future[RegisterResult] | None] = [None] * len(members)

    def client(index: int) -> None:
        barrier.wait()
        futures[index] = registrar.submit_register(session_id, members[index], NOW)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(members))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    results = [_outcome(f) for f in futures if f is not None]
    assert all(isinstance(r, RegisterResult) for r in results), results[:3]
    statuses = [r.status for r in results]
    assert statuses.count("confirmed") == 20
    assert sorted(r.position for r in results if r.position is not None) == list(range(1, 181))
    rows = registrations(engine, session_id)
    assert [r.arrival for r in rows] == list(range(1, 201))
    assert {r.status for r in rows[:20]} == {RegistrationStatus.CONFIRMED}
    assert {r.status for r in rows[20:]} == {RegistrationStatus.WAITLISTED}
    by_member = {r.registration.member_id: r for r in results}
    for row in rows[20:]:  # each position is the rank among those who came after the seats
        assert by_member[row.member_id].position == row.arrival - 20
    assert session_row(engine, session_id).confirmed == 20


def test_one_batch_is_one_transaction(engine: Engine, registrar: Registrar) -> None:
    session_id = _session(engine, capacity=20)
    other = _session(engine, capacity=5)
    members = make_members(engine, 30, "b")
    futures = [registrar.submit_register(session_id, m, NOW) for m in members]
    futures += [registrar.submit_register(other, m, NOW) for m in members[:10]]
    registrar.start()
    results = [_outcome(f) for f in futures]
    assert registrar.transactions == 2  # one per session
    assert [r.status for r in results[:30]] == ["confirmed"] * 20 + ["waitlisted"] * 10
    assert [r.status for r in results[30:]] == ["confirmed"] * 5 + ["waitlisted"] * 5
    assert [r.position for r in results[30:]] == [None] * 5 + [1, 2, 3, 4, 5]


@pytest.mark.parametrize("full", [False, True], ids=["seat", "waitlist"])
def test_one_member_50_times_is_one_registration(
    engine: Engine, registrar: Registrar, full: bool
) -> None:
    session_id = _session(engine, capacity=1 if full else 5)
    member_id, other = make_members(engine, 2, "solo")
    if full:
        registrar.start()
        assert _outcome(registrar.submit_register(session_id, other, NOW)).status == "confirmed"
    # 25 in one batch (pending before the worker looks), 25 from threads at once.
    first = [registrar.submit_register(session_id, member_id, NOW) for _ in range(25)]
    registrar.start()
    barrier = threading.Barrier(25)
    later: list[Future[RegisterResult]] = []
    lock = threading.Lock()

    def client() -> None:
        barrier.wait()
        future = registrar.submit_register(session_id, member_id, NOW)
        with lock:
            later.append(future)

    threads = [threading.Thread(target=client) for _ in range(25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    results = [_outcome(f) for f in first + later]
    wins = [r for r in results if isinstance(r, RegisterResult)]
    refusals = [r for r in results if isinstance(r, SessionError)]
    assert [w.status for w in wins] == ["waitlisted" if full else "confirmed"]
    expected = AlreadyWaitlisted if full else AlreadyConfirmed
    assert [type(e) for e in refusals] == [expected] * 49
    if full:
        assert {e.position for e in refusals if isinstance(e, AlreadyWaitlisted)} == {1}
    rows = [r for r in registrations(engine, session_id) if r.member_id == member_id]
    assert len(rows) == 1
    assert session_row(engine, session_id).confirmed == 1
    assert len(outbox_rows(engine, f"session:{session_id}:confirmed:{member_id}:")) == (
        0 if full else 1
    )
    _remind(engine)
    assert len(outbox_rows(engine, f"session:{session_id}:reminder:{member_id}:")) == (
        0 if full else 1
    )


def test_cancellations_racing_with_registrations_promote_in_order(
    engine: Engine, registrar: Registrar
) -> None:
    """Through the registrar from threads, and through the direct path (its own transactions,
    as another process or the CLI would) at the same time: the lock order is the same."""
    session_id = _session(engine, capacity=10)
    first = make_members(engine, 30, "first")
    newcomers = make_members(engine, 30, "new")
    registrar.start()
    for member_id in first:  # arrivals 1..30: 10 confirmed, 20 waitlisted
        _outcome(registrar.submit_register(session_id, member_id, NOW))
    leaving = first[:10] + [first[i] for i in (11, 14, 17, 20, 23)]
    direct = set(leaving[::3])  # a third of the leavers take the direct path
    barrier = threading.Barrier(len(leaving) + len(newcomers))
    outcomes: list[Any] = []
    lock = threading.Lock()

    def leave(member_id: int) -> None:
        barrier.wait()
        if member_id in direct:
            with Session(engine, expire_on_commit=False) as db:
                member = db.get(Member, member_id)
                assert member is not None
                result: Any = unregister_and_notify(db, NOTIFIER, session_id, member, NOW)
                db.commit()
        else:
            result = _outcome(registrar.submit_unregister(session_id, member_id, NOW))
        with lock:
            outcomes.append(result)

    def join(member_id: int) -> None:
        barrier.wait()
        result = _outcome(registrar.submit_register(session_id, member_id, NOW))
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=leave, args=(m,)) for m in leaving]
    threads += [threading.Thread(target=join, args=(m,)) for m in newcomers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert len(outcomes) == 45
    assert all(isinstance(r, RegisterResult | UnregisterResult) for r in outcomes), outcomes

    rows = registrations(engine, session_id)
    by_member = {r.member_id: r for r in rows}
    active = [r for r in rows if r.status in ("confirmed", "waitlisted")]
    confirmed = [r for r in active if r.status == RegistrationStatus.CONFIRMED]
    waiting = [r for r in active if r.status == RegistrationStatus.WAITLISTED]
    assert session_row(engine, session_id).confirmed == len(confirmed) == 10
    assert sorted(r.arrival for r in confirmed) == sorted(r.arrival for r in active)[:10]
    assert max(r.arrival for r in confirmed) < min(r.arrival for r in waiting)
    assert all(by_member[m].status == RegistrationStatus.CANCELLED for m in leaving)
    assert all(by_member[m].status == RegistrationStatus.WAITLISTED for m in newcomers)
    assert len(waiting) == 30 + 20 - 5 - 10
    for registration in confirmed:
        member_id = registration.member_id
        assert len(outbox_rows(engine, f"session:{session_id}:promoted:{member_id}:")) == 1
    _remind(engine)  # exactly the confirmed members, no leaver
    reminders = outbox_rows(engine, f"session:{session_id}:reminder:")
    assert {r.status for r in reminders} == {OutboxStatus.PENDING}
    assert sorted(int(r.key.split(":")[3]) for r in reminders) == sorted(
        r.member_id for r in confirmed
    )


# --- errors ------------------------------------------------------------------------------------


def test_an_error_on_one_request_does_not_fail_the_batch(
    engine: Engine, registrar: Registrar
) -> None:
    session_id = _session(engine, capacity=3)
    cancelled = _session(engine, capacity=3)
    alice, bob, chloe, david = make_members(engine, 4, "e")
    with Session(engine) as db:
        cancel_session(db, cancelled, NOW)
        db.commit()
    futures: list[Future[Any]] = [
        registrar.submit_register(session_id, alice, NOW),
        registrar.submit_register(session_id, alice, NOW),  # twice
        registrar.submit_unregister(session_id, bob, NOW),  # not registered
        registrar.submit_register(session_id, 999_999, NOW),  # no such member
        registrar.submit_register(session_id, bob, NOW),
        registrar.submit_register(999, chloe, NOW),  # no such session
        registrar.submit_register(cancelled, chloe, NOW),
        registrar.submit_register(session_id, chloe, START),  # too late
        registrar.submit_register(session_id, david, NOW),
        registrar.submit_unregister(session_id, alice, NOW),
    ]
    registrar.start()
    results = [_outcome(f) for f in futures]
    assert isinstance(results[0], RegisterResult)
    assert results[0].status == "confirmed"
    assert [type(results[i]) for i in (1, 2, 5, 6, 7)] == [
        AlreadyConfirmed,
        NotRegistered,
        SessionNotFound,
        SessionCancelled,
        TooLateToRegister,
    ]
    assert isinstance(results[3], LookupError)
    assert [results[i].status for i in (4, 8)] == ["confirmed", "confirmed"]
    assert isinstance(results[9], UnregisterResult)
    assert results[9].previous == "confirmed"
    assert results[9].promoted == []
    # The refusals carry the session, for the sentence the member reads.
    assert results[1].session.title == "Plénière"
    statuses = {r.member_id: r.status for r in registrations(engine, session_id)}
    assert statuses == {alice: "cancelled", bob: "confirmed", david: "confirmed"}
    assert session_row(engine, session_id).confirmed == 2


class _Faults:
    """Makes the database fail on a statement, as a crashed server or a lost connection would."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.fail_on: str | None = None
        self.error: type[Exception] = OperationalError
        self.times = 0
        event.listen(engine, "before_cursor_execute", self._check)

    def _check(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.times and self.fail_on and statement.lstrip().startswith(self.fail_on):
            self.times -= 1
            raise self.error(statement, {}, RuntimeError("database down (simulated)"))

    def remove(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._check)


@pytest.fixture
def faults(engine: Engine) -> Iterator[_Faults]:
    injected = _Faults(engine)
    yield injected
    injected.remove()


def test_a_database_failure_fails_the_batch_cleanly_and_the_next_works(
    engine: Engine, registrar: Registrar, faults: _Faults
) -> None:
    session_id = _session(engine, capacity=2)
    members = make_members(engine, 4, "f")
    # The outbox rows are written after the registrations: the failure comes half-way.
    faults.fail_on, faults.times = "INSERT INTO outbox", 1
    futures = [registrar.submit_register(session_id, m, NOW) for m in members]
    registrar.start()
    results = [_outcome(f) for f in futures]
    assert all(isinstance(r, OperationalError) for r in results), results
    assert "database down" in str(results[0])
    assert registrations(engine, session_id) == []  # nothing half-written
    counter = session_row(engine, session_id)
    assert (counter.confirmed, counter.last_arrival) == (0, 0)
    assert outbox_rows(engine, f"session:{session_id}:confirmed:") == []
    # The worker goes on: the next batch works.
    again = [_outcome(registrar.submit_register(session_id, m, NOW)) for m in members]
    assert [r.status for r in again] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert [r.position for r in again] == [None, None, 1, 2]
    assert len(outbox_rows(engine, f"session:{session_id}:confirmed:")) == 2


def test_an_integrity_error_retries_the_batch_one_request_at_a_time(
    engine: Engine, registrar: Registrar, faults: _Faults
) -> None:
    session_id = _session(engine, capacity=2)
    members = make_members(engine, 3, "i")
    faults.fail_on, faults.times, faults.error = "INSERT INTO registrations", 2, IntegrityError
    futures = [registrar.submit_register(session_id, m, NOW) for m in members]
    registrar.start()
    results = [_outcome(f) for f in futures]
    # The batch failed, then the first request alone failed too (the second injected error):
    # only that one is lost; the two others went through, one transaction each.
    assert isinstance(results[0], IntegrityError)
    assert [r.status for r in results[1:]] == ["confirmed", "confirmed"]
    assert registrar.transactions == 1 + 3
    assert [r.member_id for r in registrations(engine, session_id)] == members[1:]


def test_stop_answers_every_pending_request(engine: Engine, factory: sessionmaker[Session]) -> None:
    session_id = _session(engine, capacity=5)
    members = make_members(engine, 300, "s")
    # Never started: close fails everything that waited.
    idle = Registrar(factory, NOTIFIER)
    waiting = [idle.submit_register(session_id, m, NOW) for m in members[:3]]
    idle.close()
    assert all(isinstance(_outcome(f), RegistrarClosed) for f in waiting)
    # Started, small batches, closed while requests are pending: those already submitted are
    # handled (the drain), nothing is left hanging, and later ones are refused at once.
    registrar = Registrar(factory, NOTIFIER, max_batch=7)
    futures = [registrar.submit_register(session_id, m, NOW) for m in members]
    registrar.start()
    registrar.close(timeout=WAIT)
    assert all(f.done() for f in futures)
    results = [f.result() for f in futures]
    assert [r.status for r in results] == ["confirmed"] * 5 + ["waitlisted"] * 295
    late = registrar.submit_register(session_id, members[0], NOW)
    assert late.done()
    assert isinstance(late.exception(), RegistrarClosed)
    assert registrar.closed
    with pytest.raises(RegistrarClosed):
        registrar.start()


@pytest.mark.asyncio
async def test_a_request_whose_caller_gave_up_is_not_applied(
    engine: Engine, registrar: Registrar
) -> None:
    session_id = _session(engine, capacity=5)
    gone, kept = make_members(engine, 2, "c")
    task = asyncio.ensure_future(registrar.register(session_id, gone, NOW))
    await asyncio.sleep(0)  # submitted, not handled: the worker is not started
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    registrar.start()
    assert (await registrar.register(session_id, kept, NOW)).status == "confirmed"
    assert [r.member_id for r in registrations(engine, session_id)] == [kept]
    assert registrar.handled == 1


def test_close_with_a_hung_worker_fails_what_is_left(
    engine: Engine, factory: sessionmaker[Session], faults: _Faults
) -> None:
    """The worker is stuck in a transaction past the close's timeout: the requests it has not
    taken fail with RegistrarClosed; the one it holds is answered when it comes back."""
    session_id = _session(engine, capacity=5)
    first, second = make_members(engine, 2, "h")
    release = threading.Event()
    entered = threading.Event()

    def stall(*_args: Any) -> None:
        if not release.is_set():
            entered.set()
            release.wait(WAIT)

    event.listen(engine, "before_cursor_execute", stall)
    try:
        registrar = Registrar(factory, NOTIFIER)
        registrar.start()
        held = registrar.submit_register(session_id, first, NOW)
        assert entered.wait(WAIT)
        queued = registrar.submit_register(session_id, second, NOW)
        registrar.close(timeout=0.01)
        assert isinstance(queued.exception(timeout=0), RegistrarClosed)
        release.set()
        assert held.result(timeout=WAIT).status == "confirmed"
    finally:
        release.set()
        event.remove(engine, "before_cursor_execute", stall)


# --- the same as the direct path ----------------------------------------------------------------


@dataclass(frozen=True)
class _Op:
    kind: str
    session: int
    member: int
    now: datetime


def _ops(seed: int, members: list[int], sessions: list[int]) -> list[_Op]:
    rng = random.Random(seed)
    ops = []
    for i in range(120):
        session = sessions[0] if rng.random() < 0.85 else rng.choice(sessions)
        kind = "register" if rng.random() < 0.6 else "unregister"
        now = NOW + timedelta(seconds=i)
        if i > 110:  # the last ones after the main session's registration deadline
            now = START - timedelta(hours=1)
        ops.append(_Op(kind, session, rng.choice(members), now))
    return ops


def _prepare(engine: Engine) -> tuple[list[int], list[int]]:
    members = make_members(
        engine,
        12,
        "q",
        categories=["elu", None, "agent", "elu", None, "partenaire"],
        locales=[None, "en", "fr"],
    )
    main = _session(engine, capacity=5, quotas={"elu": 2, "agent": 1})
    small = _session(engine, capacity=1)
    cancelled = _session(engine, capacity=3)
    soon = _session(engine, capacity=3)
    with Session(engine) as db:
        row = db.get(SessionRow, main)
        assert row is not None
        row.registration_deadline = START - timedelta(days=1)
        # Its 1-hour reminder fell due at NOW + 60 s and the provider wrote it at NOW + 120 s:
        # requests made before NOW + 60 s but handled after that get it (late_reminders).
        row = db.get(SessionRow, soon)
        assert row is not None
        row.starts_at = NOW + timedelta(hours=1, seconds=60)
        row.ends_at = row.starts_at + timedelta(hours=1)
        row.reminded_through = NOW + timedelta(seconds=120)
        for member_id in members[:8]:  # some history: confirmed, waitlisted, cancelled
            member = db.get(Member, member_id)
            assert member is not None
            register_and_notify(db, NOTIFIER, main, member, NOW - timedelta(hours=1))
        member = db.get(Member, members[2])
        assert member is not None
        unregister_and_notify(db, NOTIFIER, main, member, NOW - timedelta(minutes=30))
        cancel_session(db, cancelled, NOW - timedelta(minutes=10))
        db.commit()
    return members, [main, small, cancelled, soon, 404]


def _describe(outcome: Any) -> Any:
    if isinstance(outcome, SessionError):
        return ("error", type(outcome), outcome.number, outcome.params)
    if isinstance(outcome, RegisterResult):
        return (
            "registered",
            outcome.status,
            outcome.position,
            outcome.quota_full,
            outcome.new,
            outcome.registration.arrival,
        )
    assert isinstance(outcome, UnregisterResult)
    return ("left", outcome.previous, [(r.member_id, r.arrival) for r in outcome.promoted])


def _state(engine: Engine) -> dict[str, Any]:
    with Session(engine) as db:
        return {
            "sessions": [
                (s.id, s.confirmed, s.last_arrival, s.status, s.reminded_through)
                for s in db.scalars(select(SessionRow).order_by(SessionRow.id))
            ],
            "quotas": [
                (q.session_id, q.category, q.confirmed)
                for q in db.scalars(select(SessionQuota).order_by(SessionQuota.id))
            ],
            "registrations": sorted(
                (
                    r.session_id,
                    r.member_id,
                    r.status,
                    r.arrival,
                    r.category,
                    r.registered_at,
                    r.updated_at,
                )
                for r in db.scalars(select(Registration))
            ),
            "outbox": [
                (
                    m.key,
                    m.status,
                    m.platform,
                    m.target_kind,
                    m.target_id,
                    m.payload,
                    m.due_at,
                    m.next_attempt_at,
                    m.last_error,
                )
                for m in db.scalars(select(OutboxMessage).order_by(OutboxMessage.key))
            ],
        }


@pytest.mark.parametrize("max_batch", [1000, 7])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_batch_does_what_the_direct_path_does_in_the_same_order(
    engine: Engine, factory: sessionmaker[Session], tmp_path: Path, seed: int, max_batch: int
) -> None:
    members, sessions = _prepare(engine)
    ops = _ops(seed, members, sessions)
    registrar = Registrar(factory, NOTIFIER, max_batch=max_batch)
    futures: list[Future[Any]] = [
        registrar.submit_register(op.session, op.member, op.now)
        if op.kind == "register"
        else registrar.submit_unregister(op.session, op.member, op.now)
        for op in ops
    ]
    registrar.start()
    outcomes = [_outcome(f) for f in futures]
    registrar.close()

    reference = make_engine(f"sqlite:///{tmp_path / 'reference.sqlite3'}")
    try:
        migrate(reference)
        assert _prepare(reference) == (members, sessions)
        expected = []
        for op in ops:
            with Session(reference, expire_on_commit=False) as db:
                member = db.get(Member, op.member)
                assert member is not None
                try:
                    if op.kind == "register":
                        result: Any = register_and_notify(db, NOTIFIER, op.session, member, op.now)
                    else:
                        result = unregister_and_notify(db, NOTIFIER, op.session, member, op.now)
                    db.commit()
                except SessionError as error:
                    result = error
                expected.append(_describe(result))
        assert [_describe(o) for o in outcomes] == expected
        kinds = {e[0] for e in expected} | {e[1] for e in expected if e[0] == "error"}
        assert {
            "registered",
            "left",
            AlreadyConfirmed,
            AlreadyWaitlisted,
            NotRegistered,
            SessionNotFound,
            RegistrationsClosed,
            SessionCancelled,
        } <= kinds
        # Seats freed and taken again within the batch, and members coming back.
        assert any(e[0] == "left" and e[2] for e in expected)
        assert any(e[0] == "registered" and not e[4] for e in expected)
        late = [
            m for m in _state(reference)["outbox"] if f"session:{sessions[3]}:reminder:" in m[0]
        ]
        assert late, "no request got a reminder already written (late_reminders)"
        assert _state(engine) == _state(reference)
        # Then the reminders that fall due: the same rows on both sides.
        for eng in (engine, reference):
            _remind(eng)
        assert _state(engine) == _state(reference)
    finally:
        reference.dispose()


# --- through the app -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_register_command_goes_through_the_registrar(
    database: Database, tmp_path: Path
) -> None:
    settings = load_settings(
        None, database_url=database.url, environ={}, overrides={"data_dir": str(tmp_path)}
    )
    clock = FrozenClock(NOW)
    app = make_app(settings, clock=clock)
    platform = RecordingPlatform()
    app.add_platform(platform)
    await app.start(with_scheduler=False)
    general = Place("console", "general", "general")

    async def command(user: str, text: str, *, coordinator: bool = False) -> str:
        roles = {Role.MEMBER} | ({Role.COORDINATOR} if coordinator else set())
        event = CommandEvent(
            actor=Actor("console", user, user.capitalize(), roles=frozenset(roles)),
            place=general,
            at=clock.now(),
            text=text,
            ref=MessageRef("console", "general", f"{user}:{text}"),
        )
        outcome = await app.process(event)
        assert outcome.error_id is None, outcome.replies
        return "\n".join(reply.text for reply in outcome.replies)

    try:
        registrar = app.services[REGISTRAR_SERVICE]
        assert isinstance(registrar, Registrar)
        await command(
            "camille",
            'session creer "Atelier sobriété" --quand "jeudi 3 décembre 14h" --places 1',
            coordinator=True,
        )
        assert await command("alice", "inscription 1") == (
            "Inscription enregistrée pour **Atelier sobriété** (n° 1) : la confirmation et le "
            "fichier d'agenda ont été envoyés en message privé."
        )
        assert await command("bob", "inscription 1") == (
            "La session **Atelier sobriété** (n° 1) est complète : vous êtes sur la liste "
            "d'attente, en position 1. Si une place se libère, elle est pour vous et je vous "
            "préviens en message privé."
        )
        assert "Vous êtes déjà inscrit·e à « Atelier sobriété » (n° 1)" in await command(
            "alice", "inscription 1"
        )
        assert "Il n'y a pas de session n° 9" in await command("alice", "inscription 9")
        assert "votre place est allée" in await command("alice", "desinscription 1")
        assert registrar.handled == 5
        dms = [
            (target.user_id, reply.text.split("\n", 1)[0])
            for target, reply, _ in platform.posted
            if isinstance(target, DirectTarget)
        ]
        assert dms == [
            ("alice", "✅ Votre inscription à **Atelier sobriété** (n° 1) est confirmée."),
            (
                "bob",
                "🎉 Une place s'est libérée : vous êtes maintenant inscrit·e à "
                "**Atelier sobriété** (n° 1).",
            ),
        ]
        # Stopping: a request that comes too late is refused with a clear answer, not an error.
        registrar.close()
        assert await command("chloe", "inscription 1") == app.translator("fr").gettext(
            "I am restarting: your request was not recorded. Please try again in a minute."
        )
        with app.sessions() as db:
            assert db.scalar(select(func.count(Registration.id))) == 2  # alice and bob only
    finally:
        await app.stop()
    assert registrar.closed
