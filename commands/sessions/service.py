"""The domain operations on sessions (database only; callers commit): create, register and
unregister (seats, waiting list, quotas, promotions), change, cancel, attendance, check-in and
feedback, and the calendar export of the command line."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.core import InvalidValue
from bot.i18n import Translators
from bot.outbox import withdraw
from bot.storage.members import Member
from bot.storage.sessions import (
    Registration,
    RegistrationStatus,
    SessionQuota,
    SessionRow,
    SessionStage,
    SessionStatus,
)
from commands.sessions.errors import (
    AlreadyConfirmed,
    AlreadyWaitlisted,
    AttendanceTooEarly,
    CapacityBelowConfirmed,
    CheckinClosed,
    NotAttending,
    NotRegistered,
    QuotaBelowConfirmed,
    QuotasOverCapacity,
    RegistrationsClosed,
    SessionCancelled,
    SessionError,
    SessionNotFound,
    TooLateToChange,
    TooLateToRegister,
    TooLateToUnregister,
)
from commands.sessions.ics import Method, build_calendar, session_uid
from commands.sessions.messages import FEEDBACK_VALUES, calendar_event
from commands.sessions.notify import Notifier, confirm_seat, notify_promoted
from commands.sessions.store import (
    ACTIVE,
    LOAD_FOR_REGISTRATION,
    REVIVE_REGISTRATION,
    TAKE_ARRIVAL,
    bump,
    find_registration,
    get_session,
    give_quota_back,
    give_seat_back,
    insert_registration,
    lock_session,
    quota_capacities,
    quota_rows,
    rowcount,
    take_quota,
    take_seat,
    waiting_categories,
    waitlist_position,
)


@dataclass(frozen=True, slots=True)
class SessionDraft:
    title: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    location: str | None = None
    link: str | None = None
    description: str | None = None
    registration_deadline: datetime | None = None
    quotas: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class RegistrationView:
    """A registration's columns, without a database session (what the registrar answers with:
    building thousands of ORM objects would cost more than the rest of a batch)."""

    id: int | None
    """None only until the batch that inserts the row has written it."""
    session_id: int
    member_id: int
    status: str
    arrival: int
    category: str | None


@dataclass(frozen=True, slots=True)
class RegisterResult:
    session: SessionRow
    """As loaded before the seat was taken (its counters may be stale)."""
    registration: Registration | RegistrationView
    status: RegistrationStatus
    position: int | None = None
    """Rank on the waiting list (1 = next), when waitlisted."""
    quota_full: bool = False
    """Waitlisted because the member's category quota was full, not the session."""
    new: bool = False
    """The member had never registered for this session (no earlier row, no outbox rows)."""


@dataclass(frozen=True, slots=True)
class UnregisterResult:
    previous: RegistrationStatus
    promoted: list[Registration]
    session: SessionRow
    """As loaded (and locked) before the registration was cancelled."""


@dataclass(frozen=True, slots=True)
class UpdateResult:
    calendar_changed: bool
    promoted: list[Registration]
    empty_seats: int = 0
    """Seats still free after promoting although people wait: their categories are full."""
    blocked: tuple[str, ...] = ()
    """The full categories that kept them waiting."""


@dataclass(frozen=True, slots=True)
class SessionChanges:
    title: str | None = None
    kind: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    location: str | None = None
    link: str | None = None
    description: str | None = None
    capacity: int | None = None
    registration_deadline: datetime | None = None
    quotas: dict[str, int] | None = None
    """The new quotas, replacing every quota (empty: none any more); None: unchanged."""


_CALENDAR_FIELDS = ("title", "kind", "starts_at", "ends_at", "location", "link", "description")


def create_session(
    db: Session,
    draft: SessionDraft,
    *,
    platform: str,
    channel_id: str,
    created_by: int | None,
    network_name: str,
    now: datetime,
) -> SessionRow:
    if draft.capacity < 1:
        raise InvalidValue("capacity must be at least 1")
    if sum(draft.quotas.values()) > draft.capacity or any(v < 0 for v in draft.quotas.values()):
        raise InvalidValue("quotas must be positive and add up to the capacity at most")
    session = SessionRow(
        uid=f"pending-{uuid.uuid4().hex}",  # the real one needs the id
        title=draft.title,
        kind=draft.kind,
        description=draft.description,
        location=draft.location,
        link=draft.link,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        registration_deadline=draft.registration_deadline,
        capacity=draft.capacity,
        confirmed=0,
        last_arrival=0,
        status=SessionStatus.SCHEDULED,
        sequence=0,
        stage=SessionStage.PLANNED,
        platform=platform,
        channel_id=channel_id,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    db.add(session)
    db.flush()
    session.uid = session_uid(session.id, network_name)
    for category, capacity in sorted(draft.quotas.items()):
        db.add(SessionQuota(session_id=session.id, category=category, capacity=capacity))
    db.flush()
    return session


def _seat_or_queue(
    db: Session, session_id: int, category: str | None, quotas: dict[str, int]
) -> tuple[RegistrationStatus, int, bool]:
    """Take a seat or a waitlist number, atomically. Returns (status, arrival, quota_full).

    The first statement that succeeds locks the session row until commit.
    """
    arrival = take_seat(db, session_id, arrival=True)
    if arrival is not None:
        if take_quota(db, session_id, category, quotas):
            return RegistrationStatus.CONFIRMED, arrival, False
        give_seat_back(db, session_id)
        return RegistrationStatus.WAITLISTED, arrival, True
    row = db.execute(TAKE_ARRIVAL, {"session_id": session_id}).one_or_none()
    if row is None:
        raise SessionCancelled(number=session_id)
    arrival, confirmed, capacity = row
    if confirmed < capacity and take_seat(db, session_id, arrival=False) is not None:
        # A seat was given back between the two statements; the row is ours now.
        if take_quota(db, session_id, category, quotas):
            return RegistrationStatus.CONFIRMED, arrival, False
        give_seat_back(db, session_id)
        return RegistrationStatus.WAITLISTED, arrival, True
    return RegistrationStatus.WAITLISTED, arrival, False


def _already(db: Session, session: SessionRow, registration: Registration) -> SessionError:
    if registration.status == RegistrationStatus.CONFIRMED:
        return AlreadyConfirmed(session)
    return AlreadyWaitlisted(session, position=waitlist_position(db, registration))


def register(db: Session, session_id: int, member: Member, now: datetime) -> RegisterResult:
    """Register ``member``: a seat if one is free (and the quota allows), else the waitlist.

    Nothing is counted before taking the seat: :func:`_seat_or_queue` decides with conditional
    UPDATEs. Should the same member register twice at the same instant, the unique constraint
    lets one INSERT through; the other gives its seat back and says "already registered".
    """
    row = db.execute(
        LOAD_FOR_REGISTRATION, {"session_id": session_id, "member_id": member.id}
    ).one_or_none()
    if row is None:
        raise SessionNotFound(session_id)
    session: SessionRow = row[0]
    existing: Registration | None = row[1]
    if session.status == SessionStatus.CANCELLED:
        raise SessionCancelled(session)
    if session.starts_at <= now:
        raise TooLateToRegister(session)
    if session.registration_deadline is not None and session.registration_deadline < now:
        raise RegistrationsClosed(session)
    if existing is not None and existing.status in ACTIVE:
        raise _already(db, session, existing)
    category = member.category
    quotas = quota_capacities(db, session_id) if category else {}
    status, arrival, quota_full = _seat_or_queue(db, session_id, category, quotas)
    registration: Registration | None
    if existing is None:
        registration = db.scalars(
            insert_registration(db),
            [
                {
                    "session_id": session_id,
                    "member_id": member.id,
                    "status": status,
                    "arrival": arrival,
                    "category": category,
                    "registered_at": now,
                    "updated_at": now,
                }
            ],
        ).one_or_none()
    else:
        revived = db.execute(
            REVIVE_REGISTRATION,
            {
                "registration_id": existing.id,
                "status": status,
                "arrival": arrival,
                "category": category,
                "now": now,
            },
        )
        registration = existing if rowcount(revived) == 1 else None
        if registration is not None:
            db.refresh(registration)
    if registration is None:
        # The same member registered concurrently and won: give the seat back.
        if status == RegistrationStatus.CONFIRMED:
            give_quota_back(db, session_id, category, quotas)
            give_seat_back(db, session_id)
        current = find_registration(db, session_id, member.id)
        if current is None or current.status not in ACTIVE:  # pragma: no cover - raced twice
            raise NotRegistered(session)
        raise _already(db, session, current)
    position = (
        waitlist_position(db, registration) if status == RegistrationStatus.WAITLISTED else None
    )
    return RegisterResult(session, registration, status, position, quota_full, new=existing is None)


def _promote(db: Session, session_id: int, now: datetime) -> list[Registration]:
    """Give free seats to the waitlist, in arrival order (the caller holds the session row)."""
    waiting = db.scalars(
        select(Registration)
        .where(
            Registration.session_id == session_id,
            Registration.status == RegistrationStatus.WAITLISTED,
        )
        .order_by(Registration.arrival)
    ).all()
    if not waiting:
        return []
    quotas = quota_capacities(db, session_id)
    promoted: list[Registration] = []
    for candidate in waiting:
        if take_seat(db, session_id, arrival=False) is None:
            break
        if not take_quota(db, session_id, candidate.category, quotas):
            give_seat_back(db, session_id)
            continue
        moved = db.execute(
            update(Registration)
            .where(
                Registration.id == candidate.id,
                Registration.status == RegistrationStatus.WAITLISTED,
            )
            .values(status=RegistrationStatus.CONFIRMED, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if rowcount(moved) != 1:  # they left the waitlist meanwhile
            give_quota_back(db, session_id, candidate.category, quotas)
            give_seat_back(db, session_id)
            continue
        db.refresh(candidate)
        promoted.append(candidate)
    return promoted


def unregister(db: Session, session_id: int, member: Member, now: datetime) -> UnregisterResult:
    """Cancel ``member``'s registration; a freed seat goes to the first in line that fits.

    The session row is locked first, as every change of seats does (registrations, the
    registrar's batches, promotions): one lock order, so no deadlock cycle.
    """
    session = lock_session(db, session_id)
    if session.status == SessionStatus.CANCELLED:
        raise SessionCancelled(session)
    if session.starts_at <= now:
        raise TooLateToUnregister(session)
    registration = find_registration(db, session_id, member.id)
    if registration is None or registration.status not in ACTIVE:
        raise NotRegistered(session)
    previous = RegistrationStatus(registration.status)
    registration.status = RegistrationStatus.CANCELLED
    registration.updated_at = now
    db.flush()
    promoted: list[Registration] = []
    bump(db, session_id)
    if previous == RegistrationStatus.CONFIRMED:
        give_seat_back(db, session_id)
        give_quota_back(db, session_id, registration.category, quota_capacities(db, session_id))
        promoted = _promote(db, session_id, now)
    return UnregisterResult(previous, promoted, session)


def _confirmed_by_category(db: Session, session_id: int) -> dict[str, int]:
    rows = db.execute(
        select(Registration.category, func.count(Registration.id))
        .where(
            Registration.session_id == session_id,
            Registration.status == RegistrationStatus.CONFIRMED,
            Registration.category.is_not(None),
        )
        .group_by(Registration.category)
    ).all()
    return {str(category): int(count) for category, count in rows}


def _set_quotas(db: Session, session: SessionRow, quotas: dict[str, int]) -> None:
    """Replace the session's quotas (the caller holds its row and checked the sum); each
    counter is the count of confirmed registrations of its category."""
    taken = _confirmed_by_category(db, session.id)
    for category, capacity in sorted(quotas.items()):
        if taken.get(category, 0) > capacity:
            raise QuotaBelowConfirmed(session, category=category, confirmed=taken[category])
    current = {row.category: row for row in quota_rows(db, session.id)}
    for category, existing in current.items():
        if category not in quotas:
            db.delete(existing)
    for category, capacity in sorted(quotas.items()):
        row = current.get(category)
        if row is None:
            db.add(
                SessionQuota(
                    session_id=session.id,
                    category=category,
                    capacity=capacity,
                    confirmed=taken.get(category, 0),
                )
            )
        else:
            row.capacity = capacity
            row.confirmed = taken.get(category, 0)
    db.flush()


def update_session(
    db: Session, session_id: int, changes: SessionChanges, now: datetime
) -> UpdateResult:
    session = lock_session(db, session_id)
    if session.status == SessionStatus.CANCELLED:
        raise SessionCancelled(session)
    if session.starts_at <= now:
        raise TooLateToChange(session)
    promoted: list[Registration] = []
    capacity = changes.capacity if changes.capacity is not None else session.capacity
    if changes.capacity is not None and changes.capacity < session.confirmed:
        raise CapacityBelowConfirmed(session, confirmed=session.confirmed)
    if changes.quotas is not None or changes.capacity is not None:
        quotas = changes.quotas if changes.quotas is not None else quota_capacities(db, session_id)
        if any(value < 0 for value in quotas.values()):
            raise InvalidValue("a quota cannot be negative")
        if sum(quotas.values()) > capacity:
            raise QuotasOverCapacity(session, total=sum(quotas.values()), capacity=capacity)
    reseated = False
    if changes.quotas is not None:
        _set_quotas(db, session, changes.quotas)
        reseated = True
    if changes.capacity is not None and changes.capacity != session.capacity:
        resized = db.execute(
            update(SessionRow)
            .where(SessionRow.id == session_id, SessionRow.confirmed <= changes.capacity)
            .values(capacity=changes.capacity)
            .returning(SessionRow.id)
            .execution_options(synchronize_session=False)
        ).scalar_one_or_none()
        if resized is None:
            db.refresh(session)
            raise CapacityBelowConfirmed(session, confirmed=session.confirmed)
        reseated = True
    empty_seats = 0
    blocked: tuple[str, ...] = ()
    if reseated:
        bump(db, session_id)
        promoted = _promote(db, session_id, now)
        db.refresh(session)
        waiting = waiting_categories(db, session_id)
        if waiting and session.confirmed < session.capacity:
            empty_seats = session.capacity - session.confirmed
            blocked = tuple(sorted({c for c in waiting if c is not None}))
    moved = changes.starts_at is not None and changes.starts_at != session.starts_at
    calendar_changed = False
    for name in _CALENDAR_FIELDS:
        value = getattr(changes, name)
        if value is not None and value != getattr(session, name):
            setattr(session, name, value)
            calendar_changed = True
    if changes.registration_deadline is not None:
        session.registration_deadline = changes.registration_deadline
    if moved:
        # Reminders follow the new time: those whose new moment has passed are too late (done),
        # those still ahead fall due again.
        session.reminded_through = max(session.reminded_through or now, now)
    if calendar_changed:
        session.sequence += 1
    session.revision = SessionRow.revision + 1
    session.updated_at = now
    db.flush()
    return UpdateResult(calendar_changed, promoted, empty_seats, blocked)


def cancel_session(db: Session, session_id: int, now: datetime) -> SessionRow:
    session = get_session(db, session_id)
    if session.status == SessionStatus.CANCELLED:
        raise SessionCancelled(session)
    if session.starts_at <= now:
        raise TooLateToChange(session)
    done = db.execute(
        update(SessionRow)
        .where(SessionRow.id == session_id, SessionRow.status == SessionStatus.SCHEDULED)
        .values(
            status=SessionStatus.CANCELLED,
            sequence=SessionRow.sequence + 1,
            revision=SessionRow.revision + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    db.refresh(session)
    if rowcount(done) != 1:
        raise SessionCancelled(session)
    withdraw(db, f"session:{session_id}:reminder:", "session cancelled")
    withdraw(db, f"session:{session_id}:checkin", "session cancelled")
    return session


def record_attendance(
    db: Session, session_id: int, members: Iterable[Member], now: datetime
) -> list[Member]:
    """Mark ``members`` present (``walk_in`` rows for members who were not registered)."""
    session = get_session(db, session_id)
    if session.status == SessionStatus.CANCELLED:
        raise SessionCancelled(session)
    if session.starts_at > now:
        raise AttendanceTooEarly(session)
    marked: list[Member] = []
    for member in members:
        registration = find_registration(db, session_id, member.id)
        if registration is None:
            db.add(
                Registration(
                    session_id=session_id,
                    member_id=member.id,
                    status=RegistrationStatus.WALK_IN,
                    arrival=0,
                    category=member.category,
                    registered_at=now,
                    updated_at=now,
                    attended_at=now,
                )
            )
        elif registration.attended_at is None:
            registration.attended_at = now
            registration.updated_at = now
        else:
            continue
        marked.append(member)
    if marked:
        bump(db, session_id)
    db.flush()
    return marked


def check_in(db: Session, session_id: int, member: Member, now: datetime) -> bool:
    """A confirmed member says they are there; False when they already had."""
    session = get_session(db, session_id)
    if session.status == SessionStatus.CANCELLED:
        raise SessionCancelled(session)
    if not session.starts_at <= now < session.ends_at:
        raise CheckinClosed(session)
    registration = find_registration(db, session_id, member.id)
    if registration is None or registration.status not in (
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.WALK_IN,
    ):
        raise NotAttending(session)
    if registration.attended_at is not None:
        return False
    registration.attended_at = now
    registration.updated_at = now
    bump(db, session_id)
    return True


def record_feedback(
    db: Session, session_id: int, member: Member, value: str, now: datetime
) -> None:
    if value not in FEEDBACK_VALUES:
        raise InvalidValue(value)
    session = get_session(db, session_id)
    registration = find_registration(db, session_id, member.id)
    if registration is None or registration.attended_at is None:
        raise NotAttending(session)
    registration.feedback = value
    registration.updated_at = now


def register_and_notify(
    db: Session, notifier: Notifier, session_id: int, member: Member, now: datetime
) -> RegisterResult:
    """:func:`register`, plus the confirmation message when a seat was taken."""
    result = register(db, session_id, member, now)
    if result.status == RegistrationStatus.CONFIRMED:
        registration = result.registration
        assert isinstance(registration, Registration)
        confirm_seat(db, notifier, result.session, member, registration, now)
    return result


def unregister_and_notify(
    db: Session, notifier: Notifier, session_id: int, member: Member, now: datetime
) -> UnregisterResult:
    result = unregister(db, session_id, member, now)
    withdraw(db, f"session:{session_id}:reminder:{member.id}:", "registration cancelled")
    if result.promoted:
        notify_promoted(db, notifier, result.session, result.promoted, now)
    return result


def export_calendar(
    sessions: sessionmaker[Session],
    out: Path,
    *,
    now: datetime,
    tz: ZoneInfo,
    network_name: str = "Tisserand",
    locale: str = "fr",
) -> int:
    """Write one calendar (METHOD:PUBLISH) of every upcoming session to ``out``; returns how many.

    The file is written next to ``out`` and renamed over it, so readers never see half a file.
    """
    translators = Translators(tz, locale)
    t = translators.get(locale)
    with sessions() as db:
        rows = list(
            db.scalars(
                select(SessionRow)
                .where(SessionRow.status == SessionStatus.SCHEDULED, SessionRow.ends_at > now)
                .order_by(SessionRow.starts_at, SessionRow.id)
            )
        )
        events = [calendar_event(row, t) for row in rows]
    data = build_calendar(
        events,
        method=Method.PUBLISH,
        now=now,
        organizer=network_name,
        name=network_name,
        tz_name=str(tz.key),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    partial.write_bytes(data)
    partial.replace(out)
    return len(events)
