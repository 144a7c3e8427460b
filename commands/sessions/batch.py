"""One session's batch for the registrar: the requests it answers, the state read under the row
lock, the rules applied in memory in submission order (the same as
:func:`commands.sessions.service.register` and :func:`~commands.sessions.service.unregister`),
and the writes (see :mod:`commands.sessions.registrar`)."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session, aliased

from bot.core import DirectTarget, InvalidState, NotFound, Reply
from bot.i18n import Translator
from bot.outbox import Outgoing, enqueue_many, withdraw
from bot.storage.bulk import Encoder, utc
from bot.storage.members import Member
from bot.storage.sessions import (
    Registration,
    RegistrationStatus,
    SessionQuota,
    SessionRow,
    SessionStatus,
)
from commands.sessions.errors import (
    AlreadyConfirmed,
    AlreadyWaitlisted,
    NotRegistered,
    RegistrationsClosed,
    SessionCancelled,
    SessionError,
    SessionNotFound,
    TooLateToRegister,
    TooLateToUnregister,
)
from commands.sessions.notify import (
    Notifier,
    late_reminders,
    reminder_key,
    reminder_moment,
    reminder_reply,
    seat_key,
    seat_reply,
)
from commands.sessions.service import RegisterResult, RegistrationView, UnregisterResult
from commands.sessions.store import ACTIVE, bump, lock_session


class RequestKind(enum.Enum):
    REGISTER = "register"
    UNREGISTER = "unregister"


Outcome = RegisterResult | UnregisterResult | BaseException


@dataclass(slots=True, eq=False)
class Request:
    """One request and who waits for it: a thread (``future``) or an event loop (``waiter``)."""

    kind: RequestKind
    session_id: int
    member_id: int
    now: datetime
    future: Future[Any] | None = None
    waiter: asyncio.Future[Any] | None = None

    def start(self) -> bool:
        """False when the caller gave up (cancelled) before the worker took the request."""
        if self.future is not None:
            return self.future.set_running_or_notify_cancel()
        assert self.waiter is not None
        return not self.waiter.cancelled()  # read from the worker: a benign race


_REGISTRATIONS = cast(Table, Registration.__table__)
_INSERT_REGISTRATIONS = insert(_REGISTRATIONS).returning(
    _REGISTRATIONS.c.member_id, _REGISTRATIONS.c.id
)
_SQLITE_INSERT_REGISTRATIONS = (
    "INSERT INTO registrations (session_id, member_id, status, arrival, category, "
    "registered_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
)


# PostgreSQL: one short statement, the columns as binary arrays (see
# bot.outbox.PG_UNNEST_INSERT for why).
_PG_INSERT_REGISTRATIONS = """
    INSERT INTO registrations (session_id, member_id, status, arrival, category, registered_at,
                               updated_at)
    SELECT %b, member_id, status, arrival, category, registered_at, registered_at
    FROM unnest(%b::integer[], %b::varchar[], %b::integer[], %b::varchar[], %b::timestamptz[])
         AS batch (member_id, status, arrival, category, registered_at)
    RETURNING member_id, id
"""


_WAITING = aliased(Registration)
_EARLIEST = datetime.min.replace(tzinfo=UTC)


def _load_members(member_filter: Any) -> Any:
    """The batch's members and their registration for the session, in one query."""
    return (
        select(
            Member.id,
            Member.platform,
            Member.user_id,
            Member.locale,
            Member.category,
            Registration.id.label("registration_id"),
            Registration.status.label("registration_status"),
            Registration.arrival,
            Registration.category.label("registration_category"),
            # The length of the waiting list, with the same round trip (evaluated once).
            select(func.count(_WAITING.id))
            .where(
                _WAITING.session_id == bindparam("session_id"),
                _WAITING.status == RegistrationStatus.WAITLISTED,
            )
            .scalar_subquery()
            .label("waiting"),
        )
        .outerjoin(
            Registration,
            (Registration.member_id == Member.id)
            & (Registration.session_id == bindparam("session_id")),
        )
        .where(member_filter)
    )


_LOAD_MEMBERS_IN = _load_members(Member.id.in_(bindparam("member_ids", expanding=True)))


# PostgreSQL: the same query with one array parameter, so the statement's text is the same for
# every batch (an IN list of 200 parameters is a new statement each time, parsed again by driver
# and server), run through the driver *unprepared* (see Batch._load_members_postgresql).
_PG_LOAD_MEMBERS = """
    SELECT members.id, members.platform, members.user_id, members.locale, members.category,
           registrations.id, registrations.status, registrations.arrival, registrations.category,
           (SELECT count(*) FROM registrations AS waiting
            WHERE waiting.session_id = %(session_id)s::integer AND waiting.status = 'waitlisted')
    FROM members
    LEFT JOIN registrations
           ON registrations.member_id = members.id
          AND registrations.session_id = %(session_id)s::integer
    WHERE members.id = ANY(%(member_ids)s::integer[])
"""


@dataclass(slots=True, eq=False)
class _Seat:
    """A member's registration as the batch sees it (the row, once the batch is written)."""

    member_id: int
    id: int | None
    status: str | None
    """A :class:`RegistrationStatus`; None while the member has no row at all."""
    arrival: int = 0
    category: str | None = None
    position: int = 0
    """Rank on the waiting list when the batch put them there (used when the list is not
    loaded: then nobody leaves it during the batch, so ranks do not move)."""
    snapshots: list[RegistrationView] = field(default_factory=list)
    """Results waiting for this row's id (a first registration is inserted at the end)."""


@dataclass(frozen=True, slots=True)
class _Person:
    id: int
    platform: str
    user_id: str
    locale: str | None
    category: str | None


def _snapshot(session: SessionRow) -> SessionRow:
    """A detached copy of the row's columns, safe to read from another thread."""
    table = cast(Table, SessionRow.__table__)
    return SessionRow(**{column.key: getattr(session, column.key) for column in table.columns})


class Batch:
    def __init__(self, db: Session, notifier: Notifier, session_id: int) -> None:
        self.db = db
        self.notifier = notifier
        self.session_id = session_id
        self.inserts: list[dict[str, Any]] = []
        self.outgoing: list[Outgoing] = []
        self.late: list[Outgoing] = []
        """Reminders written by a request's own transaction (see ``late_reminders``)."""
        self.replies: dict[tuple[Any, ...], Reply] = {}
        self.now: datetime | None = None
        self.left_waitlist = False
        """The current request's time (outbox rows record it as their creation time)."""

    # --- loading --------------------------------------------------------------------------------

    def run(self, requests: Sequence[Request]) -> list[Outcome]:
        db = self.db
        try:
            session = lock_session(db, self.session_id)
        except SessionNotFound:
            return [SessionNotFound(self.session_id) for _ in requests]
        self.session = session
        self.snapshot = _snapshot(session)
        # The reminders already written (or too late): a confirmation by a request made before
        # one of their moments gets it (see late_reminders); computed once for the batch.
        self.reminded = [
            (hours, reminder_moment(session, hours))
            for hours in late_reminders(
                session, session.reminded_through, self.notifier.reminder_hours, _EARLIEST
            )
        ]
        self.capacity = session.capacity
        self.confirmed = self.confirmed_before = session.confirmed
        self.last_arrival = self.last_arrival_before = session.last_arrival
        member_ids = sorted({request.member_id for request in requests})
        self.people: dict[int, _Person] = {}
        self.waiting = 0
        self.seats: dict[int, _Seat] = {
            member_id: _Seat(member_id, None, None) for member_id in member_ids
        }
        if db.get_bind().dialect.name == "postgresql":
            rows: Sequence[Sequence[Any]] = self._load_members_postgresql(member_ids)
        else:
            rows = db.execute(
                _LOAD_MEMBERS_IN, {"session_id": self.session_id, "member_ids": member_ids}
            ).all()
        for row in rows:
            self.waiting = row[9]
            self.people[row[0]] = _Person(*row[:5])
            if row[5] is not None:
                self.seats[row[0]] = _Seat(row[0], row[5], row[6], row[7], row[8])
        # The whole waiting list is needed only when someone may leave it during the batch
        # (a cancellation, a promotion) or asks for their place in it.
        self.waitlist: list[_Seat] | None = None
        if any(r.kind is RequestKind.UNREGISTER for r in requests) or any(
            seat.status == RegistrationStatus.WAITLISTED for seat in self.seats.values()
        ):
            self.waitlist = self._load_waitlist()
        self.quotas: dict[str, list[int]] = {}
        self.quotas_before: dict[str, int] = {}
        if self.waitlist is not None or any(p.category for p in self.people.values()):
            for category, capacity, confirmed in db.execute(
                select(SessionQuota.category, SessionQuota.capacity, SessionQuota.confirmed).where(
                    SessionQuota.session_id == self.session_id
                )
            ):
                self.quotas[category] = [capacity, confirmed]
                self.quotas_before[category] = confirmed

        outcomes: list[Outcome] = []
        for request in requests:
            self.now = request.now
            try:
                if request.kind is RequestKind.REGISTER:
                    outcomes.append(self._register(request))
                else:
                    outcomes.append(self._unregister(request))
            except (SessionError, LookupError) as error:  # this request's answer only
                outcomes.append(error)
        self._write()
        return outcomes

    def _load_members_postgresql(self, member_ids: list[int]) -> list[tuple[Any, ...]]:
        """:data:`_PG_LOAD_MEMBERS` through the driver, never prepared.

        psycopg prepares a statement after 5 executions, and the server may then use a generic
        plan, chosen without the parameters' values. For this join it was a nested loop over
        all the session's registrations for each member of the batch: the batch time grew with
        every registration (1 ms, then 35 ms after 2,000). Planned with the values each time
        (an unnamed statement, 0.2 ms) it is a hash join or an index lookup, under 1 ms.
        """
        driver = self.db.connection().connection.driver_connection
        assert driver is not None
        cursor = driver.execute(
            _PG_LOAD_MEMBERS,
            {"session_id": self.session_id, "member_ids": member_ids},
            prepare=False,
        )
        return cast(list[tuple[Any, ...]], cursor.fetchall())

    def _load_waitlist(self) -> list[_Seat]:
        waitlist: list[_Seat] = []
        for row in self.db.execute(
            select(
                Registration.member_id, Registration.id, Registration.arrival, Registration.category
            )
            .where(
                Registration.session_id == self.session_id,
                Registration.status == RegistrationStatus.WAITLISTED,
            )
            .order_by(Registration.arrival)
        ):
            seat = self.seats.get(row.member_id)
            if seat is None:
                seat = _Seat(
                    row.member_id, row.id, RegistrationStatus.WAITLISTED, row.arrival, row.category
                )
            waitlist.append(seat)
        return waitlist

    # --- the rules, in memory (the same as service.register / unregister) ----------------------

    def _rank(self, seat: _Seat) -> int:
        if self.waitlist is None:
            return seat.position
        return self.waitlist.index(seat) + 1

    def _already(self, seat: _Seat) -> SessionError:
        if seat.status == RegistrationStatus.CONFIRMED:
            return AlreadyConfirmed(self.snapshot)
        return AlreadyWaitlisted(self.snapshot, position=self._rank(seat))

    def _quota_free(self, category: str | None) -> bool:
        quota = self.quotas.get(category) if category is not None else None
        return quota is None or quota[1] < quota[0]

    def _take_quota(self, category: str | None) -> None:
        if category is not None and category in self.quotas:
            self.quotas[category][1] += 1

    def _give_quota_back(self, category: str | None) -> None:
        if category is not None and category in self.quotas:
            self.quotas[category][1] -= 1

    def _register(self, request: Request) -> RegisterResult:
        session, now = self.session, request.now
        if session.status == SessionStatus.CANCELLED:
            raise SessionCancelled(self.snapshot)
        if session.starts_at <= now:
            raise TooLateToRegister(self.snapshot)
        if session.registration_deadline is not None and session.registration_deadline < now:
            raise RegistrationsClosed(self.snapshot)
        person = self.people.get(request.member_id)
        if person is None:
            raise NotFound(f"member {request.member_id} does not exist")
        seat = self.seats[request.member_id]
        if seat.status in ACTIVE:
            raise self._already(seat)
        self.last_arrival += 1
        arrival = self.last_arrival
        quota_full = False
        status = RegistrationStatus.WAITLISTED
        if self.confirmed < self.capacity:
            if self._quota_free(person.category):
                status = RegistrationStatus.CONFIRMED
                self.confirmed += 1
                self._take_quota(person.category)
            else:
                quota_full = True
        new = seat.status is None
        seat.status, seat.arrival, seat.category = status, arrival, person.category
        values = {
            "status": status,
            "arrival": arrival,
            "category": person.category,
            "registered_at": now,
            "updated_at": now,
        }
        if new:
            self.inserts.append({"session_id": self.session_id, "member_id": person.id, **values})
        else:  # cancelled (or a walk-in): the same row again, at the back of the line
            self._execute_now(
                update(Registration)
                .where(
                    Registration.session_id == self.session_id,
                    Registration.member_id == person.id,
                )
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        position: int | None = None
        if status == RegistrationStatus.WAITLISTED:
            if self.waitlist is not None:
                self.waitlist.append(seat)
                position = len(self.waitlist)
            else:
                self.waiting += 1
                position = seat.position = self.waiting
        else:
            self._confirm(person, seat, now, promoted=False)
        registration = RegistrationView(
            seat.id, self.session_id, person.id, status, arrival, person.category
        )
        if seat.id is None:
            seat.snapshots.append(registration)
        return RegisterResult(self.snapshot, registration, status, position, quota_full, new)

    def _unregister(self, request: Request) -> UnregisterResult:
        session, now = self.session, request.now
        if session.status == SessionStatus.CANCELLED:
            raise SessionCancelled(self.snapshot)
        if session.starts_at <= now:
            raise TooLateToUnregister(self.snapshot)
        seat = self.seats[request.member_id]
        if seat.status not in ACTIVE:
            raise NotRegistered(self.snapshot)
        previous = RegistrationStatus(seat.status)
        seat.status = RegistrationStatus.CANCELLED
        self._execute_now(
            update(Registration)
            .where(
                Registration.session_id == self.session_id,
                Registration.member_id == request.member_id,
            )
            .values(status=RegistrationStatus.CANCELLED, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        assert self.waitlist is not None  # loaded: the batch has a cancellation
        promoted: list[_Seat] = []
        if previous == RegistrationStatus.WAITLISTED:
            self.waitlist.remove(seat)
            self.left_waitlist = True
        else:
            self.confirmed -= 1
            self._give_quota_back(seat.category)
            promoted = self._promote(now)
        withdraw(
            self.db,
            f"session:{self.session_id}:reminder:{request.member_id}:",
            "registration cancelled",
        )
        snapshots = []
        for candidate in promoted:
            member = self.db.get(Member, candidate.member_id)
            assert member is not None
            person = _Person(
                member.id, member.platform, member.user_id, member.locale, member.category
            )
            self._confirm(person, candidate, now, promoted=True)
            snapshots.append(
                Registration(
                    id=candidate.id,
                    session_id=self.session_id,
                    member_id=candidate.member_id,
                    status=RegistrationStatus.CONFIRMED,
                    arrival=candidate.arrival,
                    category=candidate.category,
                    updated_at=now,
                )
            )
        return UnregisterResult(previous, snapshots, self.snapshot)

    def _promote(self, now: datetime) -> list[_Seat]:
        """Free seats to the waiting list in arrival order, skipping those whose quota is full."""
        assert self.waitlist is not None
        promoted: list[_Seat] = []
        for seat in list(self.waitlist):
            if self.confirmed >= self.capacity:
                break
            if not self._quota_free(seat.category):
                continue
            self.confirmed += 1
            self._take_quota(seat.category)
            seat.status = RegistrationStatus.CONFIRMED
            self.waitlist.remove(seat)
            promoted.append(seat)
        if promoted:
            self._execute_now(
                update(Registration)
                .where(
                    Registration.session_id == self.session_id,
                    Registration.member_id.in_([seat.member_id for seat in promoted]),
                )
                .values(status=RegistrationStatus.CONFIRMED, updated_at=now)
                .execution_options(synchronize_session=False)
            )
        return promoted

    # --- messages -------------------------------------------------------------------------------

    def _translator(self, person: _Person) -> Translator:
        notifier = self.notifier
        return notifier.translators.get(person.locale, notifier.network_locale)

    def _seat_reply(self, t: Translator, now: datetime, promoted: bool) -> Reply:
        key = ("seat", t.locale, now, promoted)
        reply = self.replies.get(key)
        if reply is None:
            reply = seat_reply(t, self.notifier, self.session, now, promoted=promoted)
            self.replies[key] = reply
        return reply

    def _reminder_reply(self, t: Translator, hours: int) -> Reply:
        key = ("reminder", t.locale, hours)
        reply = self.replies.get(key)
        if reply is None:
            reply = reminder_reply(t, self.session, hours)
            self.replies[key] = reply
        return reply

    def _confirm(
        self,
        person: _Person,
        seat: _Seat,
        now: datetime,
        *,
        promoted: bool,
    ) -> None:
        """What :func:`commands.sessions.notify.confirm_seat` writes: the message (and the reminders
        already due that the request, made before their moment, still gets: usually none)."""
        t = self._translator(person)
        session = self.session
        target = DirectTarget(
            person.platform, person.user_id, fallback_channel_id=session.channel_id
        )
        self.outgoing.append(
            Outgoing(
                seat_key(self.session_id, person.id, seat.arrival, promoted=promoted),
                self._seat_reply(t, now, promoted),
                target,
                now,
            )
        )
        for hours, moment in self.reminded:  # usually none
            if now < moment:
                key = reminder_key(self.session_id, person.id, hours)
                self.late.append(Outgoing(key, self._reminder_reply(t, hours), target, moment))

    # --- writing --------------------------------------------------------------------------------

    def _flush(self) -> None:
        """Write what is buffered (first registrations, outbox rows), in order."""
        if self.inserts:
            inserts, self.inserts = self.inserts, []
            ids = self._insert_registrations(inserts)
            if len(ids) != len(inserts):  # pragma: no cover - a plain INSERT raises instead
                raise InvalidState("registrations were not all inserted")
            for row in inserts:
                seat = self.seats[row["member_id"]]
                seat.id = ids[row["member_id"]]
                for snapshot in seat.snapshots:
                    snapshot.id = seat.id
                seat.snapshots.clear()
        if self.outgoing:
            outgoing, self.outgoing = self.outgoing, []
            assert self.now is not None
            enqueue_many(self.db, outgoing, self.now)
        if self.late:
            late, self.late = self.late, []
            assert self.now is not None
            enqueue_many(self.db, late, self.now, revive=True)
        self.db.flush()

    def _insert_registrations(self, rows: list[dict[str, Any]]) -> dict[int, int]:
        """Insert first registrations; their ids by member."""
        db = self.db
        dialect = db.get_bind().dialect
        if dialect.name == "postgresql":
            result = db.connection().exec_driver_sql(
                _PG_INSERT_REGISTRATIONS,
                (
                    self.session_id,
                    [row["member_id"] for row in rows],
                    [str(row["status"]) for row in rows],
                    [row["arrival"] for row in rows],
                    [row["category"] for row in rows],
                    [utc(row["registered_at"]) for row in rows],
                ),
            )
            return dict(result.all())
        if dialect.name != "sqlite":
            return dict(db.execute(_INSERT_REGISTRATIONS, rows).all())
        # SQLite: the rows as the driver takes them (executemany in C), then their ids.
        moment = Encoder(_REGISTRATIONS.c.registered_at.type, dialect)
        db.connection().exec_driver_sql(
            _SQLITE_INSERT_REGISTRATIONS,
            [
                (
                    self.session_id,
                    row["member_id"],
                    str(row["status"]),
                    row["arrival"],
                    row["category"],
                    moment(row["registered_at"]),
                    moment(row["registered_at"]),
                )
                for row in rows
            ],
        )
        ids = db.execute(
            select(Registration.member_id, Registration.id).where(
                Registration.session_id == self.session_id,
                Registration.member_id.in_([row["member_id"] for row in rows]),
            )
        )
        return dict(ids.all())

    def _execute_now(self, statement: Any) -> None:
        self._flush()
        self.db.execute(statement)

    def _write(self) -> None:
        self._flush()
        if (self.confirmed, self.last_arrival) != (self.confirmed_before, self.last_arrival_before):
            done = self.db.execute(
                update(SessionRow)
                .where(
                    SessionRow.id == self.session_id,
                    SessionRow.confirmed == self.confirmed_before,
                    SessionRow.last_arrival == self.last_arrival_before,
                )
                .values(
                    confirmed=self.confirmed,
                    last_arrival=self.last_arrival,
                    revision=SessionRow.revision + 1,  # the announcement is edited
                )
                .execution_options(synchronize_session=False)
            )
            if cast(Any, done).rowcount != 1:
                raise InvalidState(
                    f"session {self.session_id} changed while this transaction held its lock"
                )
        elif self.left_waitlist:
            bump(self.db, self.session_id)
        for category, (_capacity, confirmed) in self.quotas.items():
            before = self.quotas_before[category]
            if confirmed != before:
                done = self.db.execute(
                    update(SessionQuota)
                    .where(
                        SessionQuota.session_id == self.session_id,
                        SessionQuota.category == category,
                        SessionQuota.confirmed == before,
                    )
                    .values(confirmed=confirmed)
                    .execution_options(synchronize_session=False)
                )
                if cast(Any, done).rowcount != 1:
                    raise InvalidState(
                        f"quota {category} of session {self.session_id} changed under the lock"
                    )
