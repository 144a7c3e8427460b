"""Queries on the sessions' tables: finding and locking sessions, the seat and quota counters
(conditional UPDATEs), registrations, and the lists the commands show."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from bot.storage.members import Member
from bot.storage.sessions import (
    Registration,
    RegistrationStatus,
    SessionQuota,
    SessionRow,
    SessionStatus,
)
from commands.sessions.errors import SessionNotFound

LIST_LIMIT = 15
ACTIVE = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)


def get_session(db: Session, session_id: int) -> SessionRow:
    session = db.get(SessionRow, session_id, populate_existing=True)
    if session is None:
        raise SessionNotFound(session_id)
    return session


def lock_session(db: Session, session_id: int) -> SessionRow:
    """Load the session row and lock it until commit (``SELECT ... FOR NO KEY UPDATE``).

    On PostgreSQL this waits for the transaction holding the row and then sees what it
    committed. SQLite has no row locks (SQLAlchemy drops ``FOR UPDATE``): there every
    transaction begins IMMEDIATE (:mod:`bot.storage.engine`), so a writer holds the whole
    database until it commits.
    """
    session = db.execute(
        select(SessionRow)
        .where(SessionRow.id == session_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if session is None:
        raise SessionNotFound(session_id)
    return session


def quota_capacities(db: Session, session_id: int) -> dict[str, int]:
    rows = db.execute(
        select(SessionQuota.category, SessionQuota.capacity).where(
            SessionQuota.session_id == session_id
        )
    ).all()
    return {str(category): int(capacity) for category, capacity in rows}


def rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


# Built once (with bind parameters): they run for every registration.
_SEAT_FREE = (
    (SessionRow.id == bindparam("session_id"))
    & (SessionRow.status == SessionStatus.SCHEDULED)
    & (SessionRow.confirmed < SessionRow.capacity)
)
_TAKE_SEAT = (
    update(SessionRow)
    .where(_SEAT_FREE)
    .values(confirmed=SessionRow.confirmed + 1, revision=SessionRow.revision + 1)
    .returning(SessionRow.last_arrival)
    .execution_options(synchronize_session=False)
)
_TAKE_SEAT_AND_ARRIVAL = (
    update(SessionRow)
    .where(_SEAT_FREE)
    .values(
        confirmed=SessionRow.confirmed + 1,
        last_arrival=SessionRow.last_arrival + 1,
        revision=SessionRow.revision + 1,
    )
    .returning(SessionRow.last_arrival)
    .execution_options(synchronize_session=False)
)
TAKE_ARRIVAL = (
    update(SessionRow)
    .where(SessionRow.id == bindparam("session_id"), SessionRow.status == SessionStatus.SCHEDULED)
    .values(last_arrival=SessionRow.last_arrival + 1, revision=SessionRow.revision + 1)
    .returning(SessionRow.last_arrival, SessionRow.confirmed, SessionRow.capacity)
    .execution_options(synchronize_session=False)
)
_GIVE_SEAT_BACK = (
    update(SessionRow)
    .where(SessionRow.id == bindparam("session_id"))
    .values(confirmed=SessionRow.confirmed - 1, revision=SessionRow.revision + 1)
    .execution_options(synchronize_session=False)
)
_BUMP = (
    update(SessionRow)
    .where(SessionRow.id == bindparam("session_id"))
    .values(revision=SessionRow.revision + 1)
    .execution_options(synchronize_session=False)
)
_FIND_REGISTRATION = (
    select(Registration)
    .where(
        Registration.session_id == bindparam("session_id"),
        Registration.member_id == bindparam("member_id"),
    )
    .execution_options(populate_existing=True)
)


def take_seat(db: Session, session_id: int, *, arrival: bool) -> int | None:
    """The atomic conditional UPDATE; returns the session's arrival counter, None when full."""
    statement = _TAKE_SEAT_AND_ARRIVAL if arrival else _TAKE_SEAT
    return db.execute(statement, {"session_id": session_id}).scalar_one_or_none()


def give_seat_back(db: Session, session_id: int) -> None:
    db.execute(_GIVE_SEAT_BACK, {"session_id": session_id})


def bump(db: Session, session_id: int) -> None:
    """Something the announcement shows changed: it is edited (see :mod:`~.live`)."""
    db.execute(_BUMP, {"session_id": session_id})


def quota_rows(db: Session, session_id: int) -> list[SessionQuota]:
    """The session's quotas with their counters, by category."""
    return list(
        db.scalars(
            select(SessionQuota)
            .where(SessionQuota.session_id == session_id)
            .order_by(SessionQuota.category)
            .execution_options(populate_existing=True)
        )
    )


def waiting_categories(db: Session, session_id: int) -> list[str | None]:
    """The categories of the waiting list, in its order."""
    return list(
        db.scalars(
            select(Registration.category)
            .where(
                Registration.session_id == session_id,
                Registration.status == RegistrationStatus.WAITLISTED,
            )
            .order_by(Registration.arrival)
        )
    )


def take_quota(db: Session, session_id: int, category: str | None, quotas: dict[str, int]) -> bool:
    if category is None or category not in quotas:
        return True
    taken = db.execute(
        update(SessionQuota)
        .where(
            SessionQuota.session_id == session_id,
            SessionQuota.category == category,
            SessionQuota.confirmed < SessionQuota.capacity,
        )
        .values(confirmed=SessionQuota.confirmed + 1)
        .execution_options(synchronize_session=False)
    )
    return rowcount(taken) == 1


def give_quota_back(
    db: Session, session_id: int, category: str | None, quotas: dict[str, int]
) -> None:
    if category is None or category not in quotas:
        return
    db.execute(
        update(SessionQuota)
        .where(SessionQuota.session_id == session_id, SessionQuota.category == category)
        .values(confirmed=SessionQuota.confirmed - 1)
        .execution_options(synchronize_session=False)
    )


def waitlist_position(db: Session, registration: Registration) -> int:
    return int(
        db.scalar(
            select(func.count(Registration.id)).where(
                Registration.session_id == registration.session_id,
                Registration.status == RegistrationStatus.WAITLISTED,
                Registration.arrival <= registration.arrival,
            )
        )
        or 0
    )


def find_registration(db: Session, session_id: int, member_id: int) -> Registration | None:
    return db.scalars(
        _FIND_REGISTRATION, {"session_id": session_id, "member_id": member_id}
    ).one_or_none()


LOAD_FOR_REGISTRATION = (
    select(SessionRow, Registration)
    .outerjoin(
        Registration,
        (Registration.session_id == SessionRow.id)
        & (Registration.member_id == bindparam("member_id")),
    )
    .where(SessionRow.id == bindparam("session_id"))
    .execution_options(populate_existing=True)
)
REVIVE_REGISTRATION = (
    update(Registration)
    .where(
        Registration.id == bindparam("registration_id"),
        Registration.status.in_([RegistrationStatus.CANCELLED, RegistrationStatus.WALK_IN]),
    )
    .values(
        status=bindparam("status"),
        arrival=bindparam("arrival"),
        category=bindparam("category"),
        registered_at=bindparam("now"),
        updated_at=bindparam("now"),
    )
    .execution_options(synchronize_session=False)
)


def insert_registration(db: Session) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING``: no row back when the member raced."""
    dialect = db.get_bind().dialect.name
    insert: Any = sqlite_insert
    if dialect == "postgresql":  # the dialect module is imported on PostgreSQL only
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        insert = postgresql_insert
    return (
        insert(Registration)
        .on_conflict_do_nothing(index_elements=["session_id", "member_id"])
        .returning(Registration)
    )


def registrants(
    db: Session, session_id: int, statuses: Sequence[RegistrationStatus]
) -> list[tuple[Registration, Member]]:
    rows = db.execute(
        select(Registration, Member)
        .join(Member, Member.id == Registration.member_id)
        .where(Registration.session_id == session_id, Registration.status.in_(list(statuses)))
        .order_by(Registration.arrival, Registration.id)
    ).all()
    return [(registration, member) for registration, member in rows]


def upcoming_sessions(db: Session, now: datetime, limit: int = LIST_LIMIT) -> list[SessionRow]:
    return list(
        db.scalars(
            select(SessionRow)
            .where(SessionRow.status == SessionStatus.SCHEDULED, SessionRow.ends_at > now)
            .order_by(SessionRow.starts_at, SessionRow.id)
            .limit(limit)
        )
    )


def waitlist_counts(db: Session, session_ids: Sequence[int]) -> dict[int, int]:
    if not session_ids:
        return {}
    rows = db.execute(
        select(Registration.session_id, func.count(Registration.id))
        .where(
            Registration.session_id.in_(list(session_ids)),
            Registration.status == RegistrationStatus.WAITLISTED,
        )
        .group_by(Registration.session_id)
    ).all()
    return {session_id: int(count) for session_id, count in rows}


def present_count(db: Session, session_id: int) -> int:
    return int(
        db.scalar(
            select(func.count(Registration.id)).where(
                Registration.session_id == session_id, Registration.attended_at.is_not(None)
            )
        )
        or 0
    )


def attendees(db: Session, session_id: int) -> list[tuple[Registration, Member]]:
    rows = db.execute(
        select(Registration, Member)
        .join(Member, Member.id == Registration.member_id)
        .where(Registration.session_id == session_id, Registration.attended_at.is_not(None))
        .order_by(Registration.id)
    ).all()
    return [(registration, member) for registration, member in rows]


def feedback_counts(db: Session, session_id: int) -> dict[str, int]:
    """How many attendees gave each feedback answer."""
    rows = db.execute(
        select(Registration.feedback, func.count(Registration.id))
        .where(Registration.session_id == session_id, Registration.feedback.is_not(None))
        .group_by(Registration.feedback)
    ).all()
    return {str(value): int(count) for value, count in rows}


def member_registrations(
    db: Session, member_id: int, session_ids: Sequence[int]
) -> dict[int, Registration]:
    """The member's registrations for these sessions, by session."""
    return {
        registration.session_id: registration
        for registration in db.scalars(
            select(Registration).where(
                Registration.member_id == member_id,
                Registration.session_id.in_(list(session_ids)),
            )
        )
    }


def ordered_participants(
    db: Session, session_id: int
) -> tuple[list[tuple[Registration, Member]], dict[int, int]]:
    order = [
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.WAITLISTED,
        RegistrationStatus.WALK_IN,
        RegistrationStatus.CANCELLED,
    ]
    rows = registrants(db, session_id, order)
    rows.sort(key=lambda pair: order.index(RegistrationStatus(pair[0].status)))
    waiting = [r for r, _ in rows if r.status == RegistrationStatus.WAITLISTED]
    positions = {r.id: index for index, r in enumerate(waiting, start=1)}
    return rows, positions
