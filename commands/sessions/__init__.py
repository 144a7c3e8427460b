"""Sessions: registration with capacity and waitlist, reminders, calendars, attendance, feedback.

Commands (French name / English alias):

- ``/session creer "Titre" --quand ... --duree 2h --type ... --lieu ... | --lien URL --places 30
  --inscriptions-jusqu-au ... --description ... --quotas "elu=10,agent=5"`` (coordinators):
  creates the session and posts its announcement in the channel through the outbox (key
  ``session:<id>:announce``) with the choices *S'inscrire* / *Se désinscrire* and the .ics file.
- ``/session N`` (``/session voir N``; ``/session`` alone lists like ``/sessions``): details.
- ``/session modifier N ...`` and ``/session annuler N [--raison ...]`` (coordinators).
- ``/sessions``: upcoming sessions with the seats left.
- ``/inscription N`` (``/register``), ``/desinscription N`` (``/unregister``), or the choices.
- ``/participants N [--csv]`` and ``/presence N @a @b`` (``/attendance``), coordinators.
- ``/categorie elu|agent|association|partenaire|aucune`` (``/category``): the member's category,
  used by quotas (``/profil`` belongs to another module, so the setting lives here).

Decisions (also in docs/design.md, "Sessions"):

- **Never overbook.** A seat is taken by one conditional UPDATE (``confirmed = confirmed + 1
  WHERE confirmed < capacity``) that also hands out the session's next ``arrival`` number; a
  full session hands the number out with a second UPDATE of the same row. Either statement
  locks the session row until commit, so everything that follows (the registration INSERT, the
  waitlist position, quota counters, promotions) is serialised per session, in the order the
  database granted the lock: that order *is* the arrival order. The check constraint
  ``confirmed <= capacity`` and the unique (session, member) constraint back this up; a duplicate
  registration raced by the same member fails on the unique constraint inside a savepoint,
  which also gives the seat back.
- **Group commit.** The commands register and unregister through
  :class:`commands.sessions.registrar.Registrar` (a ``Host`` service): one worker thread handles
  everything pending in one transaction per session, which locks the row once. The functions
  here stay the reference and the path of anything else (another process, scripts): the
  registrar applies the same rules in the same order and writes the same rows and messages,
  and the tests compare the two. :func:`unregister` locks the session row first, like every
  change of seats, so there is one lock order.
- **Waitlist.** Ordered by ``arrival``; the position shown is the rank among waitlisted
  registrations. A cancelled confirmed registration gives its seat back and promotes, in the same
  transaction, the first waitlisted registrations that fit (quotas may skip someone whose
  category is full, who keeps their place). Raising the capacity promotes too.
- **Quotas** are ceilings per member category (at most 10 elected officials...), counted with the
  same conditional UPDATE on ``session_quotas``; members without a category, or whose category
  has no quota, are limited by the capacity only. The category counted is the one the member
  had when registering.
- **Reminders** (24 h and 1 h before by default; ``[sessions] reminder_hours`` when the
  configuration has it) are *due work derived from registrations*, not rows written at
  registration: when ``start - h`` is reached, the ``sessions`` provider (:func:`remind_due`)
  locks the session row and writes, in one statement, the outbox rows
  ``session:<id>:reminder:<member>:<h>h`` (``due_at = start - h``) of the members confirmed at
  that moment (confirmed by a request made before it: ``registrations.updated_at < start - h``),
  and records ``sessions.reminded_through`` in the same transaction, so a restart neither loses
  nor repeats them (and the unique key means never twice anyway). A member confirmed after a
  reminder's moment does not get that one (too late) but gets the later ones; a request made
  before the moment but handled just after the provider wrote it gets it from the registration's
  own transaction (:func:`late_reminders`). Unregistering or cancelling marks pending rows
  ``skipped`` (``withdrawn``); registering again before the moment gets it again (a skipped row
  is revived). A change of time moves the reminders: pending ones are withdrawn, and those whose
  new moment is ahead are written again (revived) then. A reminder whose moment passed while
  the bot was down is still written if the session has not started; when several of a session's
  reminders are late at once, only the last (the nearest to the start) is written.
- **Calendars**: see :mod:`commands.sessions.ics` (UTC times, stable UID, SEQUENCE raised by every
  change registrants are told about, PUBLISH, CANCEL when cancelled).
- **Check-in and feedback** come from a due-work provider (``sessions``): at the start it posts
  a check-in choice in the session's channel (outbox ``session:<id>:checkin``), open until the
  end; at the end it edits that message to close it; one hour later it sends attendees a
  feedback question by direct message (*Utile / Moyen / Peu utile*, handled here and summed up
  for coordinators in ``/session N``). Not a poll: ``commands.polls.create_poll`` posts in a
  channel, where anyone could answer; feedback must come from attendees only. A session whose
  whole time passed while the bot was down gets no check-in; feedback is not sent more than 7
  days late.
- ``--depuis-sondage N`` (``--from-poll``) takes the start from
  ``commands.polls.best_date_slot``. ``/session N`` and ``/sessions`` answer privately: they show
  the actor's own registration.
- Confirmations go by direct message with the .ics (outbox, ``DirectTarget``); waitlisted
  members get their position in the command's answer, and a direct message when promoted.
- Registrations close at the start (or at the registration deadline); unregistering is possible
  until the start. A started session can no longer be changed or cancelled. ``/presence`` works
  once the session has started; members not registered are recorded as ``walk_in``.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import sys
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.context import Context
from bot.core import (
    Attachment,
    Choice,
    ChoiceStyle,
    DirectTarget,
    ExtraEntry,
    MessageRef,
    PlaceTarget,
    Reply,
    Role,
    TisserandError,
    UserError,
)
from bot.dates import (
    DURATION_EXAMPLES_EN,
    DURATION_EXAMPLES_FR,
    DateParseError,
    parse_datetime,
    parse_deadline,
    parse_duration,
)
from bot.family import Family, GazetteSection, Host
from bot.i18n import N_, Translator, Translators, fold
from bot.outbox import Outgoing, enqueue, enqueue_many, sent_ref, withdraw
from bot.registry import Args, Option, OptionType, StaleChoice, command, on_choice
from bot.storage.members import Member, find_member
from bot.storage.sessions import (
    Registration,
    RegistrationStatus,
    SessionKind,
    SessionQuota,
    SessionRow,
    SessionStage,
    SessionStatus,
)
from commands.sessions.ics import MEDIA_TYPE, CalendarEvent, Method, build_calendar, session_uid

if TYPE_CHECKING:
    from commands.sessions.registrar import Registrar

REGISTRAR_SERVICE = "sessions.registrar"
"""The name of the :class:`~commands.sessions.registrar.Registrar` in ``Host.services``."""

log = logging.getLogger(__name__)

REMINDER_HOURS: tuple[int, ...] = (24, 1)
"""Default reminder offsets, in hours before the start (``[sessions] reminder_hours``)."""
DEFAULT_DURATION = timedelta(hours=1)
MAX_DURATION = timedelta(days=14)
FEEDBACK_DELAY = timedelta(hours=1)
"""Feedback is asked this long after the end (coordinators may still record attendance)."""
FEEDBACK_MAX_DELAY = timedelta(days=7)
MAX_TITLE = 200
MAX_LOCATION = 300
MAX_LINK = 500
MAX_DESCRIPTION = 2000
MAX_CAPACITY = 100_000
LIST_LIMIT = 15

CATEGORIES: tuple[str, ...] = ("elu", "agent", "association", "partenaire")
_CATEGORY_WORDS = {
    "elu": "elu",
    "elue": "elu",
    "elus": "elu",
    "elected": "elu",
    "agent": "agent",
    "agente": "agent",
    "association": "association",
    "asso": "association",
    "partenaire": "partenaire",
    "partner": "partenaire",
}
_NO_CATEGORY = ("aucune", "none")
_KIND_WORDS = {
    "webinaire": SessionKind.WEBINAR,
    "webinar": SessionKind.WEBINAR,
    "pleniere": SessionKind.PLENARY,
    "plenary": SessionKind.PLENARY,
    "rencontre": SessionKind.MEETING,
    "meeting": SessionKind.MEETING,
    "formation": SessionKind.TRAINING,
    "training": SessionKind.TRAINING,
    "visite": SessionKind.VISIT,
    "visit": SessionKind.VISIT,
}
_KIND_LABELS = {
    SessionKind.WEBINAR: N_("webinar"),
    SessionKind.PLENARY: N_("plenary session"),
    SessionKind.MEETING: N_("meeting"),
    SessionKind.TRAINING: N_("training"),
    SessionKind.VISIT: N_("site visit"),
}
_CATEGORY_LABELS = {
    "elu": N_("elected official"),
    "agent": N_("public agent"),
    "association": N_("association"),
    "partenaire": N_("partner"),
}
FEEDBACK_VALUES: tuple[str, ...] = ("useful", "average", "poor")
_FEEDBACK_LABELS = {
    "useful": N_("Useful"),
    "average": N_("Average"),
    "poor": N_("Not very useful"),
}
_LINK = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


# =============================================================================================
# Errors
# =============================================================================================


class SessionError(TisserandError):
    """A session operation refused; ``code`` says why, ``params`` give the details.

    Codes: ``not_found``, ``cancelled``, ``started`` (registration after the start),
    ``closed`` (after the registration deadline), ``already_confirmed``, ``already_waitlisted``
    (``position``), ``not_registered``, ``unregister_started``, ``edit_started``,
    ``capacity_below_confirmed`` (``confirmed``), ``not_attending`` (check-in or feedback by
    someone not confirmed), ``feedback_not_attended``, ``checkin_closed``,
    ``attendance_too_early``.
    """

    def __init__(self, code: str, session: SessionRow | None = None, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.session = session
        self.params = params


class RegistrarClosed(TisserandError):
    """The registrar stopped (the bot is stopping) before handling the request: nothing done."""

    def __init__(self) -> None:
        super().__init__("the sessions registrar is stopped; the request was not handled")


# =============================================================================================
# Services (database only; callers commit)
# =============================================================================================


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
        raise ValueError("capacity must be at least 1")
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


def get_session(db: Session, session_id: int) -> SessionRow:
    session = db.get(SessionRow, session_id, populate_existing=True)
    if session is None:
        raise SessionError("not_found", number=session_id)
    return session


def _quotas(db: Session, session_id: int) -> dict[str, int]:
    rows = db.execute(
        select(SessionQuota.category, SessionQuota.capacity).where(
            SessionQuota.session_id == session_id
        )
    ).all()
    return {str(category): int(capacity) for category, capacity in rows}


def _rowcount(result: Any) -> int:
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
    .values(confirmed=SessionRow.confirmed + 1)
    .returning(SessionRow.last_arrival)
    .execution_options(synchronize_session=False)
)
_TAKE_SEAT_AND_ARRIVAL = (
    update(SessionRow)
    .where(_SEAT_FREE)
    .values(confirmed=SessionRow.confirmed + 1, last_arrival=SessionRow.last_arrival + 1)
    .returning(SessionRow.last_arrival)
    .execution_options(synchronize_session=False)
)
_TAKE_ARRIVAL = (
    update(SessionRow)
    .where(SessionRow.id == bindparam("session_id"), SessionRow.status == SessionStatus.SCHEDULED)
    .values(last_arrival=SessionRow.last_arrival + 1)
    .returning(SessionRow.last_arrival, SessionRow.confirmed, SessionRow.capacity)
    .execution_options(synchronize_session=False)
)
_GIVE_SEAT_BACK = (
    update(SessionRow)
    .where(SessionRow.id == bindparam("session_id"))
    .values(confirmed=SessionRow.confirmed - 1)
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


def _take_seat(db: Session, session_id: int, *, arrival: bool) -> int | None:
    """The atomic conditional UPDATE; returns the session's arrival counter, None when full."""
    statement = _TAKE_SEAT_AND_ARRIVAL if arrival else _TAKE_SEAT
    return db.execute(statement, {"session_id": session_id}).scalar_one_or_none()


def _give_seat_back(db: Session, session_id: int) -> None:
    db.execute(_GIVE_SEAT_BACK, {"session_id": session_id})


def _take_quota(db: Session, session_id: int, category: str | None, quotas: dict[str, int]) -> bool:
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
    return _rowcount(taken) == 1


def _give_quota_back(
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


def _seat_or_queue(
    db: Session, session_id: int, category: str | None, quotas: dict[str, int]
) -> tuple[RegistrationStatus, int, bool]:
    """Take a seat or a waitlist number, atomically. Returns (status, arrival, quota_full).

    The first statement that succeeds locks the session row until commit.
    """
    arrival = _take_seat(db, session_id, arrival=True)
    if arrival is not None:
        if _take_quota(db, session_id, category, quotas):
            return RegistrationStatus.CONFIRMED, arrival, False
        _give_seat_back(db, session_id)
        return RegistrationStatus.WAITLISTED, arrival, True
    row = db.execute(_TAKE_ARRIVAL, {"session_id": session_id}).one_or_none()
    if row is None:
        raise SessionError("cancelled", number=session_id)
    arrival, confirmed, capacity = row
    if confirmed < capacity and _take_seat(db, session_id, arrival=False) is not None:
        # A seat was given back between the two statements; the row is ours now.
        if _take_quota(db, session_id, category, quotas):
            return RegistrationStatus.CONFIRMED, arrival, False
        _give_seat_back(db, session_id)
        return RegistrationStatus.WAITLISTED, arrival, True
    return RegistrationStatus.WAITLISTED, arrival, False


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


def _already(db: Session, session: SessionRow, registration: Registration) -> SessionError:
    if registration.status == RegistrationStatus.CONFIRMED:
        return SessionError("already_confirmed", session)
    return SessionError("already_waitlisted", session, position=waitlist_position(db, registration))


_ACTIVE = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)
_LOAD_FOR_REGISTRATION = (
    select(SessionRow, Registration)
    .outerjoin(
        Registration,
        (Registration.session_id == SessionRow.id)
        & (Registration.member_id == bindparam("member_id")),
    )
    .where(SessionRow.id == bindparam("session_id"))
    .execution_options(populate_existing=True)
)
_REVIVE = (
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


def _insert_registration(db: Session) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING``: no row back when the member raced."""
    dialect = db.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(Registration)
        .on_conflict_do_nothing(index_elements=["session_id", "member_id"])
        .returning(Registration)
    )


def register(db: Session, session_id: int, member: Member, now: datetime) -> RegisterResult:
    """Register ``member``: a seat if one is free (and the quota allows), else the waitlist.

    Nothing is counted before taking the seat: :func:`_seat_or_queue` decides with conditional
    UPDATEs. Should the same member register twice at the same instant, the unique constraint
    lets one INSERT through; the other gives its seat back and says "already registered".
    """
    row = db.execute(
        _LOAD_FOR_REGISTRATION, {"session_id": session_id, "member_id": member.id}
    ).one_or_none()
    if row is None:
        raise SessionError("not_found", number=session_id)
    session: SessionRow = row[0]
    existing: Registration | None = row[1]
    if session.status == SessionStatus.CANCELLED:
        raise SessionError("cancelled", session)
    if session.starts_at <= now:
        raise SessionError("started", session)
    if session.registration_deadline is not None and session.registration_deadline < now:
        raise SessionError("closed", session)
    if existing is not None and existing.status in _ACTIVE:
        raise _already(db, session, existing)
    category = member.category
    quotas = _quotas(db, session_id) if category else {}
    status, arrival, quota_full = _seat_or_queue(db, session_id, category, quotas)
    registration: Registration | None
    if existing is None:
        registration = db.scalars(
            _insert_registration(db),
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
            _REVIVE,
            {
                "registration_id": existing.id,
                "status": status,
                "arrival": arrival,
                "category": category,
                "now": now,
            },
        )
        registration = existing if _rowcount(revived) == 1 else None
        if registration is not None:
            db.refresh(registration)
    if registration is None:
        # The same member registered concurrently and won: give the seat back.
        if status == RegistrationStatus.CONFIRMED:
            _give_quota_back(db, session_id, category, quotas)
            _give_seat_back(db, session_id)
        current = find_registration(db, session_id, member.id)
        if current is None or current.status not in _ACTIVE:  # pragma: no cover - raced twice
            raise SessionError("not_registered", session)
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
    quotas = _quotas(db, session_id)
    promoted: list[Registration] = []
    for candidate in waiting:
        if _take_seat(db, session_id, arrival=False) is None:
            break
        if not _take_quota(db, session_id, candidate.category, quotas):
            _give_seat_back(db, session_id)
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
        if _rowcount(moved) != 1:  # they left the waitlist meanwhile
            _give_quota_back(db, session_id, candidate.category, quotas)
            _give_seat_back(db, session_id)
            continue
        db.refresh(candidate)
        promoted.append(candidate)
    return promoted


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
        raise SessionError("not_found", number=session_id)
    return session


def unregister(db: Session, session_id: int, member: Member, now: datetime) -> UnregisterResult:
    """Cancel ``member``'s registration; a freed seat goes to the first in line that fits.

    The session row is locked first, as every change of seats does (registrations, the
    registrar's batches, promotions): one lock order, so no deadlock cycle.
    """
    session = lock_session(db, session_id)
    if session.status == SessionStatus.CANCELLED:
        raise SessionError("cancelled", session)
    if session.starts_at <= now:
        raise SessionError("unregister_started", session)
    registration = find_registration(db, session_id, member.id)
    if registration is None or registration.status not in _ACTIVE:
        raise SessionError("not_registered", session)
    previous = RegistrationStatus(registration.status)
    registration.status = RegistrationStatus.CANCELLED
    registration.updated_at = now
    db.flush()
    promoted: list[Registration] = []
    if previous == RegistrationStatus.CONFIRMED:
        _give_seat_back(db, session_id)
        _give_quota_back(db, session_id, registration.category, _quotas(db, session_id))
        promoted = _promote(db, session_id, now)
    return UnregisterResult(previous, promoted, session)


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


_CALENDAR_FIELDS = ("title", "kind", "starts_at", "ends_at", "location", "link", "description")


def update_session(
    db: Session, session_id: int, changes: SessionChanges, now: datetime
) -> UpdateResult:
    session = get_session(db, session_id)
    if session.status == SessionStatus.CANCELLED:
        raise SessionError("cancelled", session)
    if session.starts_at <= now:
        raise SessionError("edit_started", session)
    promoted: list[Registration] = []
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
            raise SessionError("capacity_below_confirmed", session, confirmed=session.confirmed)
        promoted = _promote(db, session_id, now)
        db.refresh(session)
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
    session.updated_at = now
    db.flush()
    return UpdateResult(calendar_changed, promoted)


def cancel_session(db: Session, session_id: int, now: datetime) -> SessionRow:
    session = get_session(db, session_id)
    if session.status == SessionStatus.CANCELLED:
        raise SessionError("cancelled", session)
    if session.starts_at <= now:
        raise SessionError("edit_started", session)
    done = db.execute(
        update(SessionRow)
        .where(SessionRow.id == session_id, SessionRow.status == SessionStatus.SCHEDULED)
        .values(status=SessionStatus.CANCELLED, sequence=SessionRow.sequence + 1, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    db.refresh(session)
    if _rowcount(done) != 1:
        raise SessionError("cancelled", session)
    withdraw(db, f"session:{session_id}:reminder:", "session cancelled")
    withdraw(db, f"session:{session_id}:checkin", "session cancelled")
    return session


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


def record_attendance(
    db: Session, session_id: int, members: Iterable[Member], now: datetime
) -> list[Member]:
    """Mark ``members`` present (``walk_in`` rows for members who were not registered)."""
    session = get_session(db, session_id)
    if session.status == SessionStatus.CANCELLED:
        raise SessionError("cancelled", session)
    if session.starts_at > now:
        raise SessionError("attendance_too_early", session)
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
    db.flush()
    return marked


def check_in(db: Session, session_id: int, member: Member, now: datetime) -> bool:
    """A confirmed member says they are there; False when they already had."""
    session = get_session(db, session_id)
    if session.status == SessionStatus.CANCELLED:
        raise SessionError("cancelled", session)
    if not session.starts_at <= now < session.ends_at:
        raise SessionError("checkin_closed", session)
    registration = find_registration(db, session_id, member.id)
    if registration is None or registration.status not in (
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.WALK_IN,
    ):
        raise SessionError("not_attending", session)
    if registration.attended_at is not None:
        return False
    registration.attended_at = now
    registration.updated_at = now
    return True


def record_feedback(
    db: Session, session_id: int, member: Member, value: str, now: datetime
) -> None:
    if value not in FEEDBACK_VALUES:
        raise ValueError(value)
    session = get_session(db, session_id)
    registration = find_registration(db, session_id, member.id)
    if registration is None or registration.attended_at is None:
        raise SessionError("not_attending", session)
    registration.feedback = value
    registration.updated_at = now


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


# =============================================================================================
# Outbox: announcements, confirmations, reminders
# =============================================================================================


def configured_reminder_hours(settings: Settings) -> tuple[int, ...]:
    """``[sessions] reminder_hours`` when the configuration has it, else 24 h and 1 h."""
    section = getattr(settings, "sessions", None)
    hours = getattr(section, "reminder_hours", None)
    if not hours:
        return REMINDER_HOURS
    return tuple(sorted({int(h) for h in hours if int(h) > 0}, reverse=True)) or REMINDER_HOURS


@dataclass(frozen=True, slots=True)
class Notifier:
    """What writing messages about sessions needs: languages, the network, reminder offsets."""

    translators: Translators
    network_locale: str
    network_name: str
    tz_name: str
    reminder_hours: tuple[int, ...] = REMINDER_HOURS

    @classmethod
    def from_settings(cls, translators: Translators, settings: Settings) -> Notifier:
        return cls(
            translators=translators,
            network_locale=settings.network.locale,
            network_name=settings.network.name,
            tz_name=settings.network.timezone,
            reminder_hours=configured_reminder_hours(settings),
        )

    @property
    def channel_t(self) -> Translator:
        return self.translators.get(self.network_locale)

    def t_for(self, member: Member) -> Translator:
        return self.translators.get(member.locale, self.network_locale)


def reminder_key(session_id: int, member_id: int, hours: int) -> str:
    return f"session:{session_id}:reminder:{member_id}:{hours}h"


def reminder_moment(session: SessionRow, hours: int) -> datetime:
    return session.starts_at - timedelta(hours=hours)


def _reminded(moment: datetime, reminded_through: datetime | None) -> bool:
    """Whether the reminder falling due at ``moment`` was materialised (or found too late)."""
    return reminded_through is not None and moment <= reminded_through


def next_reminder(
    starts_at: datetime, reminded_through: datetime | None, hours: Iterable[int]
) -> datetime | None:
    """When the session's next reminder still to materialise falls due (perhaps already)."""
    moments = [starts_at - timedelta(hours=h) for h in hours]
    return min((m for m in moments if not _reminded(m, reminded_through)), default=None)


def late_reminders(
    session: SessionRow, reminded_through: datetime | None, hours: Iterable[int], now: datetime
) -> list[int]:
    """The reminders a member confirmed by a request made at ``now`` gets from that request's
    own transaction: those whose moment is still ahead of ``now`` but which :func:`remind_due`
    already wrote (the request was handled just after it). Usually none. ``reminded_through``
    is the session's, read under its row lock."""
    if reminded_through is None:
        return []
    return [
        h
        for h in hours
        if now < (moment := reminder_moment(session, h)) and _reminded(moment, reminded_through)
    ]


def remind_due(db: Session, notifier: Notifier, now: datetime) -> bool:
    """Materialise the reminders that fell due; True when outbox rows were written.

    For each scheduled session with a reminder due (``start - h <= now``, not yet recorded in
    ``reminded_through``): the row is locked (registrations of that session wait, so "confirmed
    at the moment" is exact), the rows of the members confirmed by a request made before the
    moment are written in one statement, and ``reminded_through = now`` records it. A session
    already started gets none; when several reminders are late at once (the bot was down), only
    the nearest to the start is written.
    """
    hours = notifier.reminder_hours
    if not hours:
        return False
    candidates = db.execute(
        select(SessionRow.id, SessionRow.starts_at, SessionRow.reminded_through).where(
            SessionRow.status == SessionStatus.SCHEDULED,
            SessionRow.stage == SessionStage.PLANNED,
        )
    ).all()
    wrote = False
    for session_id, starts_at, reminded_through in candidates:
        due = next_reminder(starts_at, reminded_through, hours)
        if due is None or due > now:
            continue
        session = lock_session(db, session_id)  # read again under the lock
        due_hours = [
            h
            for h in hours
            if (moment := reminder_moment(session, h)) <= now
            and not _reminded(moment, session.reminded_through)
        ]
        if session.status != SessionStatus.SCHEDULED or not due_hours:
            continue
        session.reminded_through = now
        if session.starts_at <= now:  # too late for every one of them
            continue
        hours_due = min(due_hours)
        moment = reminder_moment(session, hours_due)
        members = db.scalars(
            select(Member)
            .join(Registration, Registration.member_id == Member.id)
            .where(
                Registration.session_id == session.id,
                Registration.status == RegistrationStatus.CONFIRMED,
                Registration.updated_at < moment,
            )
            .order_by(Registration.arrival)
        ).all()
        replies: dict[str, Reply] = {}
        outgoing = []
        for member in members:
            t = notifier.t_for(member)
            reply = replies.get(t.locale)
            if reply is None:
                reply = replies[t.locale] = reminder_reply(t, session, hours_due)
            key = reminder_key(session.id, member.id, hours_due)
            outgoing.append(Outgoing(key, reply, _direct(member, session), moment))
        enqueue_many(db, outgoing, now, revive=True)
        wrote = wrote or bool(outgoing)
    db.flush()
    return wrote


def _direct(member: Member, session: SessionRow) -> DirectTarget:
    """A direct message about ``session``: when the member's direct messages are closed, the
    outbox tells them in the session's channel instead."""
    return DirectTarget(member.platform, member.user_id, fallback_channel_id=session.channel_id)


def calendar_event(session: SessionRow, t: Translator) -> CalendarEvent:
    description = session.description or ""
    how = t.gettext(
        "Register or unregister in the chat: /register {n}, /unregister {n}.", n=session.id
    )
    return CalendarEvent(
        uid=session.uid,
        sequence=session.sequence,
        title=session.title,
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        created_at=session.created_at,
        updated_at=session.updated_at,
        description=(description + "\n\n" + how).strip(),
        location=session.location or session.link,
        url=session.link,
        categories=(t.gettext(_KIND_LABELS[SessionKind(session.kind)]),),
        cancelled=session.status == SessionStatus.CANCELLED,
    )


def ics_attachment(
    session: SessionRow, t: Translator, notifier: Notifier, now: datetime
) -> Attachment:
    cancelled = session.status == SessionStatus.CANCELLED
    data = build_calendar(
        [calendar_event(session, t)],
        method=Method.CANCEL if cancelled else Method.PUBLISH,
        now=now,
        organizer=notifier.network_name,
        tz_name=notifier.tz_name,
    )
    return Attachment(f"session-{session.id}.ics", MEDIA_TYPE, data)


def _choices(t: Translator, session_id: int) -> tuple[Choice, ...]:
    return (
        Choice(t.gettext("Register"), f"session:{session_id}:register", ChoiceStyle.SUCCESS),
        Choice(t.gettext("Unregister"), f"session:{session_id}:unregister", ChoiceStyle.SECONDARY),
    )


def kind_label(t: Translator, kind: str) -> str:
    return t.gettext(_KIND_LABELS[SessionKind(kind)])


def category_label(t: Translator, category: str | None) -> str:
    if category is None:
        return t.gettext("no category")
    return t.gettext(_CATEGORY_LABELS.get(category, category))


@lru_cache(maxsize=1024)
def _moment(t: Translator, moment: datetime, style: str = "full") -> str:
    """``t.datetime`` remembered: every message about a session formats the same moments."""
    return t.datetime(moment, style)


@lru_cache(maxsize=1024)
def _clock(t: Translator, moment: datetime) -> str:
    return t.time(moment)


def when_text(t: Translator, session: SessionRow) -> str:
    start_local = session.starts_at.astimezone(t.tz)
    end_local = session.ends_at.astimezone(t.tz)
    if start_local.date() == end_local.date():
        return t.gettext(
            "{start} to {end}", start=_moment(t, session.starts_at), end=_clock(t, session.ends_at)
        )
    return t.gettext(
        "{start} until {end}",
        start=_moment(t, session.starts_at),
        end=_moment(t, session.ends_at),
    )


def _title(t: Translator, session: SessionRow) -> str:
    return t.gettext("**{title}** ({ref})", title=session.title, ref=t.ref(session.id))


def _where_lines(t: Translator, session: SessionRow) -> list[str]:
    lines = []
    if session.location:
        lines.append(t.gettext("📍 {place}", place=session.location))
    if session.link:
        lines.append(t.gettext("🔗 {link}", link=session.link))
    return lines


def seats_text(t: Translator, session: SessionRow, waiting: int) -> str:
    left = session.capacity - session.confirmed
    if left > 0:
        return t.ngettext(
            "{n} seat left out of {capacity}",
            "{n} seats left out of {capacity}",
            left,
            capacity=session.capacity,
        )
    return t.ngettext("full, {n} on the waiting list", "full, {n} on the waiting list", waiting)


def describe(t: Translator, session: SessionRow, waiting: int) -> list[str]:
    """The lines every view of a session shares."""
    lines = [
        t.gettext(
            "📅 {title} — {kind}", title=_title(t, session), kind=kind_label(t, session.kind)
        ),
        t.gettext("🕑 {when}", when=when_text(t, session)),
        *_where_lines(t, session),
        t.gettext("👥 {seats}", seats=seats_text(t, session, waiting)),
    ]
    if session.registration_deadline is not None:
        lines.append(
            t.gettext("Registrations close {date}.", date=_moment(t, session.registration_deadline))
        )
    if session.description:
        lines.extend(["", session.description])
    return lines


def announce(db: Session, notifier: Notifier, session: SessionRow, now: datetime) -> None:
    t = notifier.channel_t
    lines = describe(t, session, 0)
    lines.extend(["", t.gettext("Register with the button below or /register {n}.", n=session.id)])
    enqueue(
        db,
        key=f"session:{session.id}:announce",
        reply=Reply(
            text="\n".join(lines),
            choices=_choices(t, session.id),
            attachments=(ics_attachment(session, t, notifier, now),),
        ),
        target=PlaceTarget(session.platform, session.channel_id),
        due_at=now,
        now=now,
    )


def reminder_reply(t: Translator, session: SessionRow, hours: int) -> Reply:
    lines = [
        t.ngettext(
            "⏰ Reminder: {title} starts in {n} hour, {date}.",
            "⏰ Reminder: {title} starts in {n} hours, {date}.",
            hours,
            title=_title(t, session),
            date=_moment(t, session.starts_at),
        ),
        *_where_lines(t, session),
        t.gettext(
            "Cannot come any more? /unregister {n} frees your seat for someone else.", n=session.id
        ),
    ]
    return Reply(text="\n".join(lines))


def seat_reply(
    t: Translator, notifier: Notifier, session: SessionRow, now: datetime, *, promoted: bool
) -> Reply:
    """The direct message (with the .ics) telling a member they have a seat.

    It does not depend on the member, only on their language: the registrar builds it once per
    language for a whole batch.
    """
    if promoted:
        head = t.gettext(
            "🎉 A seat freed up: you are now registered for {title}.", title=_title(t, session)
        )
    else:
        head = t.gettext("✅ Your registration for {title} is confirmed.", title=_title(t, session))
    lines = [
        head,
        t.gettext("🕑 {when}", when=when_text(t, session)),
        *_where_lines(t, session),
        "",
        t.gettext(
            "The calendar file is attached. Cannot come any more? /unregister {n}.", n=session.id
        ),
    ]
    return Reply(text="\n".join(lines), attachments=(ics_attachment(session, t, notifier, now),))


def seat_key(session_id: int, member_id: int, arrival: int, *, promoted: bool) -> str:
    """The idempotency key of :func:`seat_reply`'s message (one per seat taken)."""
    kind = "promoted" if promoted else "confirmed"
    return f"session:{session_id}:{kind}:{member_id}:{arrival}"


def confirm_seat(
    db: Session,
    notifier: Notifier,
    session: SessionRow,
    member: Member,
    registration: Registration,
    now: datetime,
    *,
    promoted: bool = False,
) -> None:
    """The direct message with the .ics for a member who has a seat (the caller holds the
    session row), and the reminders :func:`late_reminders` gives them (usually none: reminders
    are written when they fall due, by :func:`remind_due`)."""
    t = notifier.t_for(member)
    target = _direct(member, session)
    message = Outgoing(
        seat_key(session.id, member.id, registration.arrival, promoted=promoted),
        seat_reply(t, notifier, session, now, promoted=promoted),
        target,
        now,
    )
    enqueue_many(db, [message], now)
    if any(now < reminder_moment(session, h) for h in notifier.reminder_hours):
        # Read under the row lock: the session object may have been loaded before it.
        reminded_through = db.scalar(
            select(SessionRow.reminded_through).where(SessionRow.id == session.id)
        )
        late = [
            Outgoing(
                reminder_key(session.id, member.id, h),
                reminder_reply(t, session, h),
                target,
                reminder_moment(session, h),
            )
            for h in late_reminders(session, reminded_through, notifier.reminder_hours, now)
        ]
        enqueue_many(db, late, now, revive=True)


def notify_promoted(
    db: Session,
    notifier: Notifier,
    session: SessionRow,
    promoted: Iterable[Registration],
    now: datetime,
) -> None:
    for registration in promoted:
        member = db.get(Member, registration.member_id)
        assert member is not None
        confirm_seat(db, notifier, session, member, registration, now, promoted=True)


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


# =============================================================================================
# Calendar export (wired by the CLI: ``tisserand calendar export``)
# =============================================================================================


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


# =============================================================================================
# Due work: reminders, check-in at the start, closing at the end, feedback afterwards
# =============================================================================================


class FollowUp:
    """The ``sessions`` due-work provider (registered by :func:`setup`)."""

    def __init__(self, app: Host) -> None:
        self.app = app
        self.notifier = Notifier.from_settings(app.translators, app.settings)

    def next_due(self) -> datetime | None:
        scheduled = SessionRow.status == SessionStatus.SCHEDULED
        hours = self.notifier.reminder_hours
        reminders: list[datetime] = []
        with self.app.sessions() as db:
            if hours:
                # Sessions not started whose reminders are not all done: a few rows.
                for starts_at, reminded_through in db.execute(
                    select(SessionRow.starts_at, SessionRow.reminded_through).where(
                        scheduled,
                        SessionRow.stage == SessionStage.PLANNED,
                        (SessionRow.reminded_through.is_(None))
                        | (SessionRow.reminded_through < SessionRow.starts_at),
                    )
                ):
                    moment = next_reminder(starts_at, reminded_through, hours)
                    if moment is not None:
                        reminders.append(moment)
            start = db.scalar(
                select(func.min(SessionRow.starts_at)).where(
                    scheduled, SessionRow.stage == SessionStage.PLANNED
                )
            )
            end = db.scalar(
                select(func.min(SessionRow.ends_at)).where(
                    scheduled, SessionRow.stage == SessionStage.CHECKIN_OPEN
                )
            )
            feedback = db.scalar(
                select(func.min(SessionRow.ends_at)).where(
                    scheduled, SessionRow.stage == SessionStage.CHECKIN_CLOSED
                )
            )
        moments = [m for m in (start, end) if m is not None] + reminders
        if feedback is not None:
            moments.append(feedback + FEEDBACK_DELAY)
        return min(moments) if moments else None

    async def run(self) -> None:
        app = self.app
        now = app.clock.now()
        notifier = self.notifier
        edits: list[tuple[MessageRef, Reply]] = []
        with app.sessions() as db:
            reminded = remind_due(db, notifier, now)
            wrote = follow_up(db, notifier, now, edits)
            db.commit()
        for ref, reply in edits:
            if not await app.edit_message(ref, reply):
                log.warning("could not close the check-in message %s", ref.message_id)
        if wrote or reminded:
            await app.after_change({"outbox"})


def follow_up(
    db: Session, notifier: Notifier, now: datetime, edits: list[tuple[MessageRef, Reply]]
) -> bool:
    """Advance every session whose follow-up is due; True when outbox rows were written."""
    wrote = False
    t = notifier.channel_t
    scheduled = SessionRow.status == SessionStatus.SCHEDULED
    opening = db.scalars(
        select(SessionRow).where(
            scheduled, SessionRow.stage == SessionStage.PLANNED, SessionRow.starts_at <= now
        )
    ).all()
    for session in opening:
        if now < session.ends_at:
            text = t.gettext(
                "🟢 {title} is starting! If you are here, check in with the button below "
                "(open until {end}).",
                title=_title(t, session),
                end=_clock(t, session.ends_at),
            )
            enqueue(
                db,
                key=f"session:{session.id}:checkin",
                reply=Reply(
                    text=text,
                    choices=(
                        Choice(
                            t.gettext("I am here"),
                            f"session:{session.id}:checkin",
                            ChoiceStyle.SUCCESS,
                        ),
                    ),
                ),
                target=PlaceTarget(session.platform, session.channel_id),
                due_at=session.starts_at,
                now=now,
            )
            wrote = True
            session.stage = SessionStage.CHECKIN_OPEN
        else:  # the whole session passed while the bot was down: no check-in
            session.stage = SessionStage.CHECKIN_CLOSED
    db.flush()
    closing = db.scalars(
        select(SessionRow).where(
            scheduled, SessionRow.stage == SessionStage.CHECKIN_OPEN, SessionRow.ends_at <= now
        )
    ).all()
    for session in closing:
        withdraw(db, f"session:{session.id}:checkin", "session over")
        ref = sent_ref(db, f"session:{session.id}:checkin")
        if ref is not None:
            present = _present_count(db, session.id)
            edits.append(
                (
                    ref,
                    Reply(
                        text=t.ngettext(
                            "Check-in for {title} is closed: {n} person present.",
                            "Check-in for {title} is closed: {n} people present.",
                            present,
                            title=_title(t, session),
                        )
                    ),
                )
            )
        session.stage = SessionStage.CHECKIN_CLOSED
    db.flush()
    asking = db.scalars(
        select(SessionRow).where(
            scheduled,
            SessionRow.stage == SessionStage.CHECKIN_CLOSED,
            SessionRow.ends_at <= now - FEEDBACK_DELAY,
        )
    ).all()
    for session in asking:
        if now - session.ends_at <= FEEDBACK_MAX_DELAY:
            for _registration, member in _attendees(db, session.id):
                mt = notifier.t_for(member)
                enqueue(
                    db,
                    key=f"session:{session.id}:feedback:{member.id}",
                    reply=Reply(
                        text=mt.gettext(
                            "Thank you for coming to {title}! Was it useful to you? "
                            "One click below is enough.",
                            title=_title(mt, session),
                        ),
                        choices=tuple(
                            Choice(
                                mt.gettext(_FEEDBACK_LABELS[value]),
                                f"session:{session.id}:feedback:{value}",
                            )
                            for value in FEEDBACK_VALUES
                        ),
                    ),
                    target=_direct(member, session),
                    due_at=now,
                    now=now,
                )
                wrote = True
        session.stage = SessionStage.FEEDBACK_SENT
    db.flush()
    return wrote


def _present_count(db: Session, session_id: int) -> int:
    return int(
        db.scalar(
            select(func.count(Registration.id)).where(
                Registration.session_id == session_id, Registration.attended_at.is_not(None)
            )
        )
        or 0
    )


def _attendees(db: Session, session_id: int) -> list[tuple[Registration, Member]]:
    rows = db.execute(
        select(Registration, Member)
        .join(Member, Member.id == Registration.member_id)
        .where(Registration.session_id == session_id, Registration.attended_at.is_not(None))
        .order_by(Registration.id)
    ).all()
    return [(registration, member) for registration, member in rows]


def setup(app: Host) -> None:
    from commands.sessions.registrar import Registrar

    follow = FollowUp(app)
    app.scheduler.add_due_work("sessions", follow.next_due, follow.run)
    previous = app.services.get(REGISTRAR_SERVICE)
    if previous is not None:  # started again: one worker only
        previous.close()
    registrar = Registrar(app.sessions, Notifier.from_settings(app.translators, app.settings))
    registrar.start()
    app.services[REGISTRAR_SERVICE] = registrar  # closed by App.stop


# =============================================================================================
# Commands
# =============================================================================================

GROUP_HELP = N_(
    "Sessions members register for: details, creation, changes and cancellation "
    "(/session 12 shows session n° 12)."
)

_NUMBER = Option(
    "numero",
    "number",
    N_("The number of the session, for example 12."),
    type=OptionType.INTEGER,
    positional=True,
    required=True,
)
_WHEN_HELP = N_('When it starts, for example "jeudi 3 décembre 14h" or "2026-12-03 14:00".')
_DURATION = Option(
    "duree", "duration", N_("How long it lasts, for example 2h or 1h30 (default: 1h).")
)
_KIND = Option(
    "type",
    "type",
    N_("webinaire, pleniere, rencontre, formation or visite (default: rencontre)."),
)
_PLACE = Option("lieu", "place", N_("Where it happens (an address, a room)."))
_LINK_OPTION = Option("lien", "link", N_("The link to join online (http:// or https://)."))
_DEADLINE = Option(
    "inscriptions-jusqu-au",
    "registration-deadline",
    N_('Registrations close then, for example "mardi 1 décembre" (default: at the start).'),
)
_DESCRIPTION = Option("description", "description", N_("A short description."))


def _notifier(ctx: Context) -> Notifier:
    return Notifier.from_settings(ctx.translators, ctx.settings)


def explain(t: Translator, error: SessionError) -> str:
    """The sentence a member reads for ``error``."""
    session = error.session
    number = session.id if session is not None else int(error.params.get("number", 0))
    params: dict[str, Any] = {
        "ref": t.ref(number),
        "n": number,
        "title": session.title if session is not None else "",
    }
    code = error.code
    if code == "not_found":
        return t.gettext(
            "There is no session {ref}. Type /sessions to see the upcoming ones.", **params
        )
    if code == "cancelled":
        return t.gettext("Session {ref} “{title}” has been cancelled.", **params)
    if code == "started":
        return t.gettext(
            "Registrations for “{title}” ({ref}) are closed: the session has already started.",
            **params,
        )
    if code == "closed":
        assert session is not None and session.registration_deadline is not None
        return t.gettext(
            "Registrations for “{title}” ({ref}) closed {date}.",
            date=t.datetime(session.registration_deadline),
            **params,
        )
    if code == "already_confirmed":
        return t.gettext(
            "You are already registered for “{title}” ({ref}). To free your seat: /unregister {n}.",
            **params,
        )
    if code == "already_waitlisted":
        return t.gettext(
            "You are already on the waiting list for “{title}” ({ref}), in position {position}.",
            position=error.params["position"],
            **params,
        )
    if code == "not_registered":
        return t.gettext(
            "You are not registered for “{title}” ({ref}): there is nothing to cancel.", **params
        )
    if code == "unregister_started":
        return t.gettext(
            "“{title}” ({ref}) has already started: registrations can no longer be cancelled.",
            **params,
        )
    if code == "edit_started":
        return t.gettext(
            "“{title}” ({ref}) has already started: it can no longer be changed or cancelled.",
            **params,
        )
    if code == "capacity_below_confirmed":
        return t.ngettext(
            "{n} member already has a seat for “{title}” ({ref}): the number of seats cannot "
            "go below that. Nothing was changed.",
            "{n} members already have a seat for “{title}” ({ref}): the number of seats "
            "cannot go below that. Nothing was changed.",
            int(error.params["confirmed"]),
            ref=params["ref"],
            title=params["title"],
        )
    if code == "not_attending":
        return t.gettext(
            "You are not on the list of confirmed participants of “{title}” ({ref}). A "
            "coordinator can record your presence with /attendance.",
            **params,
        )
    if code == "feedback_not_attended":
        return t.gettext(
            "Only the members who attended “{title}” ({ref}) are asked for their opinion.",
            **params,
        )
    if code == "checkin_closed":
        assert session is not None
        return t.gettext(
            "Check-in for “{title}” ({ref}) is open only during the session ({when}).",
            when=when_text(t, session),
            **params,
        )
    if code == "attendance_too_early":
        assert session is not None
        return t.gettext(
            "“{title}” ({ref}) has not started yet: attendance can be recorded from {date}.",
            date=t.datetime(session.starts_at),
            **params,
        )
    raise AssertionError(code)  # pragma: no cover


def _user_error(ctx: Context, error: SessionError) -> UserError:
    return UserError(explain(ctx.t, error))


def _parse_start(ctx: Context, text: str) -> datetime:
    now = ctx.now()
    try:
        moment = parse_datetime(text, now=now, tz=ctx.t.tz)
    except DateParseError:
        raise ctx.unreadable_date(text) from None
    if moment <= now:
        raise UserError(
            ctx._(
                "{date} is in the past. Give a date to come for --when.",
                date=ctx.t.datetime(moment),
            )
        )
    return moment


def _parse_length(ctx: Context, text: str | None) -> timedelta | None:
    if text is None:
        return None
    try:
        length = parse_duration(text)
    except DateParseError:
        examples = DURATION_EXAMPLES_FR if ctx.t.locale == "fr" else DURATION_EXAMPLES_EN
        raise UserError(
            ctx._(
                "I cannot read the duration “{text}”. Examples that work: {examples}.",
                text=text,
                examples=", ".join(f"“{e}”" for e in examples),
            )
        ) from None
    if length <= timedelta(0) or length > MAX_DURATION:
        raise UserError(
            ctx._("A session lasts between a minute and 14 days (got “{text}”).", text=text)
        )
    return length


def _parse_deadline(ctx: Context, text: str, starts_at: datetime) -> datetime:
    now = ctx.now()
    try:
        moment = parse_deadline(text, now=now, tz=ctx.t.tz)
    except DateParseError:
        raise ctx.unreadable_date(text) from None
    if moment <= now:
        raise UserError(
            ctx._("The registration deadline {date} is in the past.", date=ctx.t.datetime(moment))
        )
    if moment > starts_at:
        raise UserError(
            ctx._(
                "The registration deadline ({deadline}) must come before the start ({start}).",
                deadline=ctx.t.datetime(moment),
                start=ctx.t.datetime(starts_at),
            )
        )
    return moment


def _parse_kind(ctx: Context, text: str | None) -> str | None:
    if text is None:
        return None
    kind = _KIND_WORDS.get(fold(text.strip()))
    if kind is None:
        raise UserError(
            ctx._(
                "Unknown type “{text}”. Use one of: {choices}.",
                text=text,
                choices=", ".join(k.value for k in SessionKind),
            )
        )
    return kind.value


def _parse_category(ctx: Context, text: str) -> str | None:
    word = fold(text.strip())
    if word in _NO_CATEGORY:
        return None
    category = _CATEGORY_WORDS.get(word)
    if category is None:
        raise UserError(
            ctx._(
                "Unknown category “{text}”. Use one of: {choices}.",
                text=text,
                choices=", ".join((*CATEGORIES, _NO_CATEGORY[0])),
            )
        )
    return category


def _parse_quotas(ctx: Context, text: str | None, capacity: int) -> dict[str, int]:
    if not text:
        return {}
    quotas: dict[str, int] = {}
    for part in re.split(r"[,;]", text):
        if not part.strip():
            continue
        match = re.fullmatch(r"\s*([^=:\s]+)\s*[=:]\s*(\d{1,6})\s*", part)
        category = _CATEGORY_WORDS.get(fold(match.group(1))) if match else None
        if match is None or category is None or category in quotas:
            raise UserError(
                ctx._(
                    "I cannot read the quotas “{text}”. Write them like elu=10,agent=5 "
                    "(categories: {choices}).",
                    text=text,
                    choices=", ".join(CATEGORIES),
                )
            )
        quotas[category] = min(int(match.group(2)), capacity)
    return quotas


def _check_capacity(ctx: Context, capacity: int) -> int:
    if capacity < 1 or capacity > MAX_CAPACITY:
        raise UserError(
            ctx._(
                "The number of seats must be between 1 and {limit} (got {value}).",
                limit=MAX_CAPACITY,
                value=capacity,
            )
        )
    return capacity


def _check_length(ctx: Context, option: str, value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        raise UserError(ctx._("--{option} is empty.", option=option))
    if len(value) > limit:
        raise UserError(
            ctx._(
                "--{option} is too long ({length} characters); keep it under {limit}.",
                option=option,
                length=len(value),
                limit=limit,
            )
        )
    return value


def _check_link(ctx: Context, link: str | None) -> str | None:
    link = _check_length(ctx, "link", link, MAX_LINK)
    if link is not None and not _LINK.match(link):
        raise UserError(
            ctx._("The link must start with http:// or https:// (got “{link}”).", link=link)
        )
    return link


def _start_of_creation(ctx: Context, when: str | None, poll: int | None) -> datetime:
    if when is not None and poll is not None:
        raise UserError(ctx._("Give either --when or --from-poll, not both."))
    if when is not None:
        return _parse_start(ctx, when)
    if poll is None:
        raise UserError(
            ctx._(
                "Say when the session starts with --when, or take the best slot of a date poll "
                "with --from-poll."
            )
        )
    from commands.polls import best_date_slot  # the polls family owns date polls

    starts_at = best_date_slot(ctx.db, poll, ctx.t)
    if starts_at <= ctx.now():
        raise UserError(
            ctx._(
                "The best slot of poll {ref} ({date}) is in the past.",
                ref=ctx.t.ref(poll),
                date=ctx.t.datetime(starts_at),
            )
        )
    return starts_at


@command(
    "creer",
    "create",
    N_("Creates a session members can register for, and announces it in this channel."),
    options=[
        Option(
            "titre",
            "title",
            N_("The title of the session."),
            type=OptionType.STRING,
            positional=True,
            required=True,
        ),
        Option("quand", "when", _WHEN_HELP),
        Option(
            "depuis-sondage",
            "from-poll",
            N_("Instead of --when: the best slot of this date poll, for example 7."),
            type=OptionType.INTEGER,
        ),
        _DURATION,
        _KIND,
        _PLACE,
        _LINK_OPTION,
        Option(
            "places",
            "seats",
            N_("How many seats (at least 1); past that, members join a waiting list."),
            type=OptionType.INTEGER,
            required=True,
        ),
        _DEADLINE,
        _DESCRIPTION,
        Option(
            "quotas",
            "quotas",
            N_("Seats at most per member category, for example elu=10,agent=5."),
        ),
    ],
    permission=Role.COORDINATOR,
    group="session",
    group_alias="session",
    group_help=GROUP_HELP,
    examples=(
        '/session creer "Webinaire mobilités" --quand "jeudi 3 décembre 14h" --duree 2h '
        "--type webinaire --lien https://visio.example.org/mobilites --places 30",
        '/session creer "Visite de la ressourcerie" --quand "2026-12-10 9h30" --duree 3h '
        '--type visite --lieu "12 rue des Lilas, Nantes" --places 15 --quotas elu=5',
    ),
)
def create(ctx: Context, args: Args) -> Reply:
    title = _check_length(ctx, "title", args["titre"], MAX_TITLE)
    assert title is not None
    starts_at = _start_of_creation(ctx, args["quand"], args["depuis-sondage"])
    length = _parse_length(ctx, args["duree"]) or DEFAULT_DURATION
    capacity = _check_capacity(ctx, args["places"])
    deadline = None
    if args["inscriptions-jusqu-au"]:
        deadline = _parse_deadline(ctx, args["inscriptions-jusqu-au"], starts_at)
    draft = SessionDraft(
        title=title,
        kind=_parse_kind(ctx, args["type"]) or SessionKind.MEETING.value,
        starts_at=starts_at,
        ends_at=starts_at + length,
        capacity=capacity,
        location=_check_length(ctx, "place", args["lieu"], MAX_LOCATION),
        link=_check_link(ctx, args["lien"]),
        description=_check_length(ctx, "description", args["description"], MAX_DESCRIPTION),
        registration_deadline=deadline,
        quotas=_parse_quotas(ctx, args["quotas"], capacity),
    )
    now = ctx.now()
    session = create_session(
        ctx.db,
        draft,
        platform=ctx.place.platform,
        channel_id=ctx.place.channel_id,
        created_by=ctx.member.id,
        network_name=ctx.settings.network.name,
        now=now,
    )
    announce(ctx.db, _notifier(ctx), session, now)
    ctx.changed.update({"outbox", "sessions"})
    return Reply(
        text=ctx._(
            "Session {ref} created and announced here. Members register with /register {n}; "
            "follow them with /participants {n}.",
            ref=ctx.t.ref(session.id),
            n=session.id,
        ),
        ephemeral=True,
    )


@command(
    "voir",
    "show",
    N_("Shows a session: date, place, seats left and your registration."),
    options=[
        Option(
            "numero",
            "number",
            N_("The number of the session (without it: the upcoming sessions)."),
            type=OptionType.INTEGER,
            positional=True,
        )
    ],
    default=True,
    group="session",
    group_alias="session",
    group_help=GROUP_HELP,
    examples=("/session 12", "/session voir 12"),
)
def show(ctx: Context, args: Args) -> Reply:
    if args["numero"] is None:
        return _upcoming(ctx)
    try:
        session = get_session(ctx.db, args["numero"])
    except SessionError as error:
        raise _user_error(ctx, error) from None
    t = ctx.t
    waiting = waitlist_counts(ctx.db, [session.id]).get(session.id, 0)
    lines = describe(t, session, waiting)
    lines.append("")
    registration = find_registration(ctx.db, session.id, ctx.member.id)
    if session.status == SessionStatus.CANCELLED:
        lines.append(t.gettext("❌ This session has been cancelled."))
    elif registration is not None and registration.status == RegistrationStatus.CONFIRMED:
        lines.append(t.gettext("✅ You are registered."))
    elif registration is not None and registration.status == RegistrationStatus.WAITLISTED:
        lines.append(
            t.gettext(
                "⏳ You are on the waiting list, in position {position}.",
                position=waitlist_position(ctx.db, registration),
            )
        )
    elif session.status == SessionStatus.SCHEDULED and session.starts_at > ctx.now():
        lines.append(t.gettext("Register with the button below or /register {n}.", n=session.id))
    if ctx.actor.is_coordinator:
        lines.append(_coordinator_summary(ctx, session))
    open_ = session.status == SessionStatus.SCHEDULED and session.starts_at > ctx.now()
    return Reply(
        text="\n".join(lines),
        choices=_choices(t, session.id) if open_ else (),
        ephemeral=True,  # it tells the actor's own registration
    )


def _coordinator_summary(ctx: Context, session: SessionRow) -> str:
    rows = ctx.db.execute(
        select(Registration.feedback, func.count(Registration.id))
        .where(Registration.session_id == session.id, Registration.feedback.is_not(None))
        .group_by(Registration.feedback)
    ).all()
    counts = {str(value): int(count) for value, count in rows}
    feedback = ", ".join(
        f"{ctx._(_FEEDBACK_LABELS[value])} {counts.get(value, 0)}" for value in FEEDBACK_VALUES
    )
    return ctx._(
        "For coordinators: present: {present}; feedback: {feedback}. Details: /participants {n}.",
        present=_present_count(ctx.db, session.id),
        feedback=feedback,
        n=session.id,
    )


@command(
    "sessions",
    "sessions",
    N_("Lists the upcoming sessions and the seats left."),
    examples=("/sessions",),
)
def list_sessions(ctx: Context, args: Args) -> Reply:
    return _upcoming(ctx)


def _upcoming(ctx: Context) -> Reply:
    t = ctx.t
    now = ctx.now()
    rows = upcoming_sessions(ctx.db, now)
    if not rows:
        return Reply(text=t.gettext("No session is planned for now."), ephemeral=True)
    waiting = waitlist_counts(ctx.db, [s.id for s in rows])
    mine = {
        registration.session_id: registration
        for registration in ctx.db.scalars(
            select(Registration).where(
                Registration.member_id == ctx.member.id,
                Registration.session_id.in_([s.id for s in rows]),
            )
        )
    }
    lines = [t.gettext("**Upcoming sessions**"), ""]
    for session in rows:
        line = t.gettext(
            "- {title} — {kind}, {date} — {seats}",
            title=_title(t, session),
            kind=kind_label(t, session.kind),
            date=t.datetime(session.starts_at, "long"),
            seats=seats_text(t, session, waiting.get(session.id, 0)),
        )
        registration = mine.get(session.id)
        if registration is not None and registration.status == RegistrationStatus.CONFIRMED:
            line += t.gettext(" — ✅ registered")
        elif registration is not None and registration.status == RegistrationStatus.WAITLISTED:
            line += t.gettext(" — ⏳ waiting list")
        lines.append(line)
    lines.extend(["", t.gettext("Details: /session {n} — register: /register {n}.", n=rows[0].id)])
    return Reply(text="\n".join(lines), ephemeral=True)  # marks the actor's registrations


def _registered_reply(ctx: Context, session: SessionRow, result: RegisterResult) -> Reply:
    title = _title(ctx.t, session)
    if result.status == RegistrationStatus.CONFIRMED:
        text = ctx._(
            "You are registered for {title}, {date}. The confirmation and the calendar file "
            "are on their way by direct message.",
            title=title,
            date=ctx.t.datetime(session.starts_at),
        )
    elif result.quota_full:
        text = ctx._(
            "The seats for the category “{category}” are all taken for {title}: you are on the "
            "waiting list, in position {position}. If one frees up, it is yours and I will tell "
            "you by direct message.",
            category=category_label(ctx.t, result.registration.category),
            title=title,
            position=result.position,
        )
    else:
        text = ctx._(
            "{title} is full: you are on the waiting list, in position {position}. If a seat "
            "frees up, it is yours and I will tell you by direct message.",
            title=title,
            position=result.position,
        )
    return Reply(text=text, ephemeral=True)


def _registrar(ctx: Context) -> Registrar | None:
    registrar = ctx.services.get(REGISTRAR_SERVICE)
    return cast("Registrar | None", registrar)


def _stopping(ctx: Context) -> UserError:
    return UserError(
        ctx._("I am restarting: your request was not recorded. Please try again in a minute.")
    )


async def _register(ctx: Context, session_id: int) -> Reply:
    now = ctx.now()
    registrar = _registrar(ctx)
    try:
        if registrar is None:  # a context built without the app (the registrar is its service)
            result = register_and_notify(ctx.db, _notifier(ctx), session_id, ctx.member, now)
        else:
            member_id = ctx.member.id
            ctx.db.commit()  # no transaction (nor SQLite's write lock) held across the await
            result = await registrar.register(session_id, member_id, now)
    except SessionError as error:
        raise _user_error(ctx, error) from None
    except RegistrarClosed:
        raise _stopping(ctx) from None
    ctx.changed.add("outbox")
    return _registered_reply(ctx, result.session, result)


async def _unregister(ctx: Context, session_id: int) -> Reply:
    now = ctx.now()
    registrar = _registrar(ctx)
    try:
        if registrar is None:
            result = unregister_and_notify(ctx.db, _notifier(ctx), session_id, ctx.member, now)
        else:
            member_id = ctx.member.id
            ctx.db.commit()  # as in _register
            result = await registrar.unregister(session_id, member_id, now)
    except SessionError as error:
        raise _user_error(ctx, error) from None
    except RegistrarClosed:
        raise _stopping(ctx) from None
    ctx.changed.add("outbox")
    title = _title(ctx.t, result.session)
    if result.previous == RegistrationStatus.WAITLISTED:
        text = ctx._("You left the waiting list for {title}.", title=title)
    elif result.promoted:
        text = ctx._(
            "Your registration for {title} is cancelled; your seat went to the next person on "
            "the waiting list.",
            title=title,
        )
    else:
        text = ctx._("Your registration for {title} is cancelled.", title=title)
    return Reply(text=text, ephemeral=True)


@command(
    "inscription",
    "register",
    N_("Registers you for a session (or puts you on its waiting list)."),
    options=[_NUMBER],
    examples=("/inscription 12",),
)
async def register_command(ctx: Context, args: Args) -> Reply:
    return await _register(ctx, args["numero"])


@command(
    "desinscription",
    "unregister",
    N_("Cancels your registration for a session, or takes you off its waiting list."),
    options=[_NUMBER],
    examples=("/desinscription 12",),
)
async def unregister_command(ctx: Context, args: Args) -> Reply:
    return await _unregister(ctx, args["numero"])


@command(
    "modifier",
    "edit",
    N_("Changes a session; registrants are told and get the updated calendar file."),
    options=[
        _NUMBER,
        Option("titre", "title", N_("The new title.")),
        Option("quand", "when", _WHEN_HELP),
        _DURATION,
        _KIND,
        _PLACE,
        _LINK_OPTION,
        Option(
            "places",
            "seats",
            N_("The new number of seats; never below the seats already taken."),
            type=OptionType.INTEGER,
        ),
        _DEADLINE,
        _DESCRIPTION,
    ],
    permission=Role.COORDINATOR,
    group="session",
    group_alias="session",
    examples=(
        '/session modifier 12 --quand "vendredi 4 décembre 10h"',
        "/session modifier 12 --places 40",
    ),
)
def edit(ctx: Context, args: Args) -> Reply:
    session_id: int = args["numero"]
    try:
        session = get_session(ctx.db, session_id)
    except SessionError as error:
        raise _user_error(ctx, error) from None
    keys = (
        "titre",
        "quand",
        "duree",
        "type",
        "lieu",
        "lien",
        "places",
        "inscriptions-jusqu-au",
        "description",
    )
    if all(args[key] is None for key in keys):
        raise UserError(
            ctx._(
                "Say what to change, for example --when, --duration, --place or --seats.\n"
                "Usage: /session edit <number> [--when ...] [--seats ...]"
            )
        )
    starts_at = _parse_start(ctx, args["quand"]) if args["quand"] else None
    length = _parse_length(ctx, args["duree"])
    ends_at = None
    if starts_at is not None or length is not None:
        start = starts_at or session.starts_at
        ends_at = start + (length or (session.ends_at - session.starts_at))
    deadline = None
    if args["inscriptions-jusqu-au"]:
        deadline = _parse_deadline(
            ctx, args["inscriptions-jusqu-au"], starts_at or session.starts_at
        )
    elif (
        starts_at is not None
        and session.registration_deadline is not None
        and session.registration_deadline > starts_at
    ):
        deadline = starts_at
    changes = SessionChanges(
        title=_check_length(ctx, "title", args["titre"], MAX_TITLE),
        kind=_parse_kind(ctx, args["type"]),
        starts_at=starts_at,
        ends_at=ends_at,
        location=_check_length(ctx, "place", args["lieu"], MAX_LOCATION),
        link=_check_link(ctx, args["lien"]),
        description=_check_length(ctx, "description", args["description"], MAX_DESCRIPTION),
        capacity=_check_capacity(ctx, args["places"]) if args["places"] is not None else None,
        registration_deadline=deadline,
    )
    now = ctx.now()
    notifier = _notifier(ctx)
    try:
        result = update_session(ctx.db, session_id, changes, now)
    except SessionError as error:
        raise _user_error(ctx, error) from None
    session = get_session(ctx.db, session_id)
    told = 0
    if result.calendar_changed:
        told = _tell_changed(ctx.db, notifier, session, now)
    if result.promoted:
        notify_promoted(ctx.db, notifier, session, result.promoted, now)
    ctx.changed.update({"outbox", "sessions"})
    return Reply(
        text=ctx.t.ngettext(
            "Session {ref} updated; {n} registrant told.",
            "Session {ref} updated; {n} registrants told.",
            told,
            ref=ctx.t.ref(session_id),
        ),
        ephemeral=True,
    )


def _tell_changed(db: Session, notifier: Notifier, session: SessionRow, now: datetime) -> int:
    """Direct messages (with the new .ics for confirmed members) and a notice in the channel.

    Reminders written but not sent yet are withdrawn: their moment has passed (too late, as
    for a change of time that brings it before now) or, when the time moved later, they are
    written again (revived) when their new moment comes (see :func:`update_session`).
    """
    withdraw(db, f"session:{session.id}:reminder:", "the session changed")
    people = registrants(
        db, session.id, (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)
    )
    waiting = sum(1 for r, _ in people if r.status == RegistrationStatus.WAITLISTED)
    for registration, member in people:
        t = notifier.t_for(member)
        confirmed = registration.status == RegistrationStatus.CONFIRMED
        lines = [
            t.gettext("✏️ {title} has changed. The new details:", title=_title(t, session)),
            "",
            *describe(t, session, waiting),
        ]
        if confirmed:
            lines.extend(["", t.gettext("Your updated calendar file is attached.")])
        enqueue(
            db,
            key=f"session:{session.id}:changed:{session.sequence}:{member.id}",
            reply=Reply(
                text="\n".join(lines),
                attachments=(ics_attachment(session, t, notifier, now),) if confirmed else (),
            ),
            target=_direct(member, session),
            due_at=now,
            now=now,
        )
    t = notifier.channel_t
    enqueue(
        db,
        key=f"session:{session.id}:changed:{session.sequence}",
        reply=Reply(
            text="\n".join(
                [
                    t.gettext("✏️ {title} has changed. The new details:", title=_title(t, session)),
                    "",
                    *describe(t, session, waiting),
                ]
            ),
            choices=_choices(t, session.id),
            attachments=(ics_attachment(session, t, notifier, now),),
        ),
        target=PlaceTarget(session.platform, session.channel_id),
        due_at=now,
        now=now,
    )
    return len(people)


@command(
    "annuler",
    "cancel",
    N_("Cancels a session; registrants are told and get a cancelling calendar file."),
    options=[
        _NUMBER,
        Option("raison", "reason", N_("Why it is cancelled (told to the registrants).")),
    ],
    permission=Role.COORDINATOR,
    group="session",
    group_alias="session",
    examples=('/session annuler 12 --raison "Intervenant malade, report en janvier"',),
)
def cancel(ctx: Context, args: Args) -> Reply:
    now = ctx.now()
    reason = _check_length(ctx, "reason", args["raison"], MAX_DESCRIPTION)
    try:
        session = cancel_session(ctx.db, args["numero"], now)
    except SessionError as error:
        raise _user_error(ctx, error) from None
    notifier = _notifier(ctx)
    people = registrants(
        ctx.db, session.id, (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED)
    )
    for registration, member in people:
        t = notifier.t_for(member)
        confirmed = registration.status == RegistrationStatus.CONFIRMED
        lines = [_cancelled_line(t, session, reason)]
        if confirmed:
            lines.append(t.gettext("The attached file removes it from your calendar."))
        enqueue(
            ctx.db,
            key=f"session:{session.id}:cancelled:{member.id}",
            reply=Reply(
                text="\n".join(lines),
                attachments=(ics_attachment(session, t, notifier, now),) if confirmed else (),
            ),
            target=_direct(member, session),
            due_at=now,
            now=now,
        )
    t = notifier.channel_t
    enqueue(
        ctx.db,
        key=f"session:{session.id}:cancelled",
        reply=Reply(
            text=_cancelled_line(t, session, reason),
            attachments=(ics_attachment(session, t, notifier, now),),
        ),
        target=PlaceTarget(session.platform, session.channel_id),
        due_at=now,
        now=now,
    )
    ctx.changed.update({"outbox", "sessions"})
    return Reply(
        text=ctx.t.ngettext(
            "Session {ref} cancelled; {n} registrant told.",
            "Session {ref} cancelled; {n} registrants told.",
            len(people),
            ref=ctx.t.ref(session.id),
        ),
        ephemeral=True,
    )


def _cancelled_line(t: Translator, session: SessionRow, reason: str | None) -> str:
    text = t.gettext(
        "❌ {title}, planned {date}, is cancelled.",
        title=_title(t, session),
        date=_moment(t, session.starts_at),
    )
    if reason:
        text += "\n" + t.gettext("Reason: {reason}", reason=reason)
    return text


_STATUS_LABELS = {
    RegistrationStatus.CONFIRMED: N_("confirmed"),
    RegistrationStatus.WAITLISTED: N_("waiting list"),
    RegistrationStatus.CANCELLED: N_("cancelled"),
    RegistrationStatus.WALK_IN: N_("present without registration"),
}
_CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    return "'" + value if value.startswith(_CSV_FORMULA) else value


def participants_csv(
    t: Translator, rows: Sequence[tuple[Registration, Member]], positions: dict[int, int]
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [
            t.gettext("Status"),
            t.gettext("Waiting list position"),
            t.gettext("Name"),
            t.gettext("Platform"),
            t.gettext("Identifier"),
            t.gettext("Category"),
            t.gettext("Registered at"),
            t.gettext("Present"),
            t.gettext("Feedback"),
        ]
    )
    for registration, member in rows:
        writer.writerow(
            [
                t.gettext(_STATUS_LABELS[RegistrationStatus(registration.status)]),
                str(positions.get(registration.id, "")),
                _cell(member.display_name),
                member.platform,
                _cell(member.user_id),
                category_label(t, registration.category) if registration.category else "",
                registration.registered_at.astimezone(t.tz).isoformat(timespec="minutes"),
                t.gettext("yes") if registration.attended_at else t.gettext("no"),
                t.gettext(_FEEDBACK_LABELS[registration.feedback]) if registration.feedback else "",
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _ordered_participants(
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


@command(
    "participants",
    "participants",
    N_("Lists the registrants of a session with their status and category (--csv: as a file)."),
    options=[
        _NUMBER,
        Option("csv", "csv", N_("Send the list as a CSV file."), type=OptionType.FLAG),
    ],
    permission=Role.COORDINATOR,
    examples=("/participants 12", "/participants 12 --csv"),
)
def participants(ctx: Context, args: Args) -> Reply:
    try:
        session = get_session(ctx.db, args["numero"])
    except SessionError as error:
        raise _user_error(ctx, error) from None
    t = ctx.t
    rows, positions = _ordered_participants(ctx.db, session.id)
    if args["csv"]:
        return Reply(
            text=t.gettext(
                "Participants of {title}: {n} rows.", title=_title(t, session), n=len(rows)
            ),
            attachments=(
                Attachment(
                    f"participants-session-{session.id}.csv",
                    "text/csv",
                    participants_csv(t, rows, positions),
                ),
            ),
            ephemeral=True,
        )
    lines = [
        t.gettext("**Participants — {title} ({ref})**", title=session.title, ref=t.ref(session.id)),
        t.gettext(
            "{confirmed} confirmed out of {capacity} seats, {waiting} on the waiting list.",
            confirmed=session.confirmed,
            capacity=session.capacity,
            waiting=len(positions),
        ),
        "",
    ]
    counter = 0
    cancelled = 0
    for registration, member in rows:
        status = RegistrationStatus(registration.status)
        if status == RegistrationStatus.CANCELLED:
            cancelled += 1
            continue
        counter += 1
        label = t.gettext(_STATUS_LABELS[status])
        if status == RegistrationStatus.WAITLISTED:
            label = t.gettext(
                "waiting list, position {position}", position=positions[registration.id]
            )
        line = f"{counter}. {member.display_name} — {category_label(t, registration.category)} — {label}"
        if registration.attended_at is not None:
            line += t.gettext(" — present")
        lines.append(line)
    if counter == 0:
        lines.append(t.gettext("Nobody has registered yet."))
    if cancelled:
        lines.extend(
            [
                "",
                t.ngettext(
                    "{n} registration cancelled.", "{n} registrations cancelled.", cancelled
                ),
            ]
        )
    return Reply(text="\n".join(lines), ephemeral=True)


@command(
    "presence",
    "attendance",
    N_("Records who attended a session (once it has started)."),
    options=[
        _NUMBER,
        Option(
            "membres",
            "members",
            N_("The members present, for example @alice @bob."),
            type=OptionType.USER,
            positional=True,
            variadic=True,
            min_count=1,
        ),
    ],
    permission=Role.COORDINATOR,
    examples=("/presence 12 @alice @bob",),
)
def attendance(ctx: Context, args: Args) -> Reply:
    names: list[str] = args["membres"]
    found: list[Member] = []
    unknown: list[str] = []
    for name in names:
        member = find_member(ctx.db, ctx.actor.platform, name)
        if member is None:
            unknown.append("@" + name.lstrip("@"))
        elif member not in found:
            found.append(member)
    if unknown:
        raise UserError(
            ctx._(
                "I do not know {names} (a member must have written once where I can see it). "
                "Nothing was recorded.",
                names=", ".join(unknown),
            )
        )
    try:
        marked = record_attendance(ctx.db, args["numero"], found, ctx.now())
    except SessionError as error:
        raise _user_error(ctx, error) from None
    session = get_session(ctx.db, args["numero"])
    lines = []
    if marked:
        lines.append(
            ctx._(
                "Attendance at {title} recorded for {names}.",
                title=_title(ctx.t, session),
                names=", ".join(m.display_name for m in marked),
            )
        )
    already = [m for m in found if m not in marked]
    if already:
        lines.append(
            ctx._("Already recorded: {names}.", names=", ".join(m.display_name for m in already))
        )
    return Reply(text="\n".join(lines), ephemeral=True)


@command(
    "categorie",
    "category",
    N_(
        "Sets your member category (elu, agent, association, partenaire, or aucune), used by "
        "the quotas of sessions."
    ),
    options=[
        Option(
            "categorie",
            "category",
            N_("elu, agent, association, partenaire, or aucune to remove it."),
            positional=True,
            required=True,
        )
    ],
    examples=("/categorie elu", "/category partner"),
)
def category(ctx: Context, args: Args) -> Reply:
    value = _parse_category(ctx, args["categorie"])
    ctx.member.category = value
    ctx.member.updated_at = ctx.now()
    if value is None:
        return Reply(text=ctx._("Done: you no longer have a category."), ephemeral=True)
    return Reply(
        text=ctx._(
            "Done: your category is now “{category}”. It counts for the quotas of the sessions "
            "you register for from now on.",
            category=category_label(ctx.t, value),
        ),
        ephemeral=True,
    )


@on_choice(
    "session",
    r"(?P<id>\d{1,9}):(?:(?P<verb>register|unregister|checkin)"
    r"|feedback:(?P<feedback>" + "|".join(FEEDBACK_VALUES) + "))",
)
async def session_choice(ctx: Context, match: re.Match[str]) -> Reply:
    session_id = int(match["id"])
    verb = match["verb"] or "feedback"
    answer = match["feedback"]
    if verb == "register":
        return await _register(ctx, session_id)
    if verb == "unregister":
        return await _unregister(ctx, session_id)
    now = ctx.now()
    try:
        if verb == "checkin":
            first = check_in(ctx.db, session_id, ctx.member, now)
            session = get_session(ctx.db, session_id)
            if not first:
                return Reply(
                    text=ctx._(
                        "Your presence at {title} was already recorded.",
                        title=_title(ctx.t, session),
                    ),
                    ephemeral=True,
                )
            return Reply(
                text=ctx._(
                    "Thank you, your presence at {title} is recorded.", title=_title(ctx.t, session)
                ),
                ephemeral=True,
            )
        if verb == "feedback" and answer in FEEDBACK_VALUES:
            try:
                record_feedback(ctx.db, session_id, ctx.member, answer, now)
            except SessionError as error:
                if error.code == "not_attending":
                    error = SessionError("feedback_not_attended", error.session)
                raise error from None
            return Reply(
                text=ctx._(
                    "Thank you! Your answer (“{answer}”) is recorded.",
                    answer=ctx._(_FEEDBACK_LABELS[answer]),
                ),
                ephemeral=True,
            )
    except SessionError as error:
        raise _user_error(ctx, error) from None
    raise StaleChoice(match.string)


# --- what the family gives the gazette ---------------------------------------------------------


def gazette_sessions_held(
    db: Session, t: Translator, since: datetime, until: datetime, session_id: int | None
) -> list[ExtraEntry]:
    query = select(SessionRow).where(SessionRow.status != SessionStatus.CANCELLED)
    if session_id is not None:
        query = query.where(SessionRow.id == session_id)
    else:
        query = query.where(SessionRow.starts_at >= since, SessionRow.starts_at <= until)
    query = query.where(SessionRow.starts_at <= until)
    rows = db.scalars(query.order_by(SessionRow.starts_at, SessionRow.id)).all()
    entries: list[ExtraEntry] = []
    for row in rows:
        present = int(
            db.scalar(
                select(func.count())
                .select_from(Registration)
                .where(Registration.session_id == row.id, Registration.attended_at.is_not(None))
            )
            or 0
        )
        details = [t.ngettext("{n} participant", "{n} participants", present)]
        if row.location:
            details.append(row.location)
        entries.append(
            ExtraEntry(
                kind="session",
                ref_id=row.id,
                title=row.title,
                at=row.starts_at,
                details=tuple(details),
                link=row.link,
                value=present,
            )
        )
    return entries


FAMILY = Family(
    name="sessions",
    handlers=(sys.modules[__name__],),
    setup=setup,
    outbox_topics=("session",),
    gazette=(GazetteSection("session", gazette_sessions_held),),
)
