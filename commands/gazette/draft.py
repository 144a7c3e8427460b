"""What a gazette draft holds: the sections, the period, what the period offers and the items.

Items are stored with a kind and the id of what they show; the order inside a section is the
items' ``position``. The sections other than highlights and newcomers come from the other
families (:attr:`bot.family.Family.gazette`, given as ``sources``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.core import ExtraEntry
from bot.i18n import N_, Translator
from bot.sources import GazetteSource
from bot.storage.highlights import (
    PUBLISHABLE,
    Consent,
    ConsentPreference,
    Gazette,
    GazetteItem,
    GazetteStatus,
    Highlight,
    ItemKind,
)
from bot.storage.members import Member, PlaceRow

log = logging.getLogger(__name__)

SECTIONS: tuple[ItemKind, ...] = (
    ItemKind.HIGHLIGHT,
    ItemKind.SESSION,
    ItemKind.POLL,
    ItemKind.VEILLE,
    ItemKind.NEWCOMER,
)
_SECTION_INDEX = {kind: index for index, kind in enumerate(SECTIONS)}
SECTION_TITLES = {
    ItemKind.HIGHLIGHT: N_("Highlights"),
    ItemKind.SESSION: N_("Sessions held"),
    ItemKind.POLL: N_("Decisions and polls"),
    ItemKind.VEILLE: N_("Worth reading"),
    ItemKind.NEWCOMER: N_("Welcome to the newcomers"),
}
EXTRA_KINDS = (ItemKind.SESSION, ItemKind.POLL, ItemKind.VEILLE)


# --- what goes in ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    since: datetime
    until: datetime
    session_id: int | None = None
    include_published: bool = False
    """A review: what earlier gazettes published is shown again."""
    window_until: datetime | None = None
    """A session's gazette: highlights said up to this moment count (its end + the window)."""

    @classmethod
    def of(cls, gazette: Gazette) -> Period:
        """The period a draft (or an archive) was compiled for."""
        return cls(
            gazette.since,
            gazette.until,
            gazette.session_id,
            bool(gazette.include_published),
            gazette.until if gazette.session_id is not None else None,
        )


def last_published_until(db: Session) -> datetime | None:
    value: datetime | None = db.scalar(
        select(func.max(Gazette.until)).where(Gazette.status == GazetteStatus.PUBLISHED)
    )
    return value


def default_period(db: Session, settings: Settings, now: datetime) -> Period:
    since = last_published_until(db) or now - timedelta(days=settings.highlights.default_days)
    return Period(since=min(since, now), until=now)


@dataclass(frozen=True, slots=True)
class SessionFacts:
    """What the gazette needs of a session to name it and to take its time window."""

    id: int
    title: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    location: str | None
    cancelled: bool


def session_facts(db: Session, session_id: int) -> SessionFacts | None:
    from bot.storage.sessions import SessionRow, SessionStatus

    row = db.get(SessionRow, session_id)
    if row is None:
        return None
    return SessionFacts(
        id=row.id,
        title=row.title,
        kind=row.kind,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        location=row.location,
        cancelled=row.status == SessionStatus.CANCELLED,
    )


def session_period(settings: Settings, facts: SessionFacts, now: datetime) -> Period:
    """A session's gazette: from its start to its end plus ``[gazette] session_window_hours``.

    The caller checks that the session has ended; the window stops at ``now`` while it runs.
    """
    window_end = facts.ends_at + timedelta(hours=settings.gazette.session_window_hours)
    until = min(window_end, max(now, facts.ends_at))
    return Period(facts.starts_at, until, facts.id, window_until=until)


def _direct_channels(db: Session) -> list[str]:
    return list(db.scalars(select(PlaceRow.channel_id).where(PlaceRow.is_direct.is_(True))).all())


def _said_in_window(db: Session, period: Period) -> ColumnElement[bool]:
    """Said in one of the network's channels (not a private conversation) during the window."""
    condition = and_(
        Highlight.said_at >= period.since,
        Highlight.said_at <= (period.window_until or period.until),
        Highlight.channel_id.is_not(None),
    )
    direct = _direct_channels(db)
    if direct:
        condition = and_(condition, Highlight.channel_id.not_in(direct))
    return condition


def _in_period(db: Session, period: Period, *, answered_since: bool) -> ColumnElement[bool]:
    if period.session_id is not None:
        return or_(Highlight.session_id == period.session_id, _said_in_window(db, period))
    said = and_(Highlight.said_at >= period.since, Highlight.said_at <= period.until)
    if answered_since:
        late = and_(Highlight.said_at <= period.until, Highlight.consent_at >= period.since)
        return or_(said, late)
    return said


def publishable_highlights(db: Session, period: Period) -> list[Highlight]:
    """Consented highlights of the period, and older ones whose author answered since.

    A session's gazette takes those tagged with the session and every one said in the network's
    channels during the session's window.
    """
    query = select(Highlight).where(
        Highlight.consent.in_([c.value for c in PUBLISHABLE]),
        _in_period(db, period, answered_since=True),
    )
    return list(db.scalars(query.order_by(Highlight.said_at, Highlight.id)).all())


def pending_highlights(db: Session, period: Period) -> list[Highlight]:
    query = select(Highlight).where(
        Highlight.consent == Consent.PENDING, _in_period(db, period, answered_since=False)
    )
    return list(db.scalars(query.order_by(Highlight.id)).all())


def joined_members(db: Session, period: Period) -> list[Member]:
    return list(
        db.scalars(
            select(Member)
            .where(Member.created_at >= period.since, Member.created_at <= period.until)
            .order_by(Member.created_at, Member.id)
        ).all()
    )


def opted_out(db: Session) -> set[int]:
    """Members who asked never to be asked: they are not named in the gazette."""
    return set(
        db.scalars(
            select(ConsentPreference.member_id).where(ConsentPreference.never_ask.is_(True))
        ).all()
    )


def named_newcomers(db: Session, settings: Settings, period: Period) -> list[Member]:
    if not settings.highlights.name_newcomers:
        return []
    hidden = opted_out(db)
    return [m for m in joined_members(db, period) if m.id not in hidden]


# --- sections from the other families ------------------------------------------------------------


def extra_entries(
    db: Session, t: Translator, period: Period, sources: Mapping[str, GazetteSource]
) -> dict[ItemKind, list[ExtraEntry]]:
    """The sections the other families offer (:attr:`bot.family.Family.gazette`), by kind."""
    entries: dict[ItemKind, list[ExtraEntry]] = {}
    for kind_name, provider in sources.items():
        kind = ItemKind(kind_name)
        try:
            entries[kind] = list(provider(db, t, period.since, period.until, period.session_id))
        except Exception:  # a broken section must not stop the gazette
            log.exception("the gazette section %s failed; it is left out", kind)
            entries[kind] = []
    return entries


# --- drafts ------------------------------------------------------------------------------------


def current_draft(db: Session) -> Gazette | None:
    return db.scalars(
        select(Gazette)
        .where(Gazette.status == GazetteStatus.DRAFT)
        .order_by(Gazette.id.desc())
        .limit(1)
    ).first()


def ordered_items(gazette: Gazette) -> list[GazetteItem]:
    return sorted(
        gazette.items,
        key=lambda item: (_SECTION_INDEX.get(ItemKind(item.kind), 99), item.position, item.id or 0),
    )


def already_published(db: Session) -> set[tuple[ItemKind, int]]:
    """Items a published gazette shown or dropped: a period's gazette leaves them out."""
    rows = db.execute(
        select(GazetteItem.kind, GazetteItem.ref_id)
        .join(Gazette, Gazette.id == GazetteItem.gazette_id)
        .where(Gazette.status == GazetteStatus.PUBLISHED)
    ).all()
    return {(ItemKind(kind), int(ref_id)) for kind, ref_id in rows}


def candidates(
    db: Session,
    t: Translator,
    settings: Settings,
    period: Period,
    sources: Mapping[str, GazetteSource],
) -> list[tuple[ItemKind, int]]:
    """What the period (or the session) offers, in its natural order.

    A period's gazette leaves out what an earlier gazette published (or dropped), unless it is a
    review (``include_published``); a session's gazette (asked for explicitly) shows everything
    about the session.
    """
    found: list[tuple[ItemKind, int]] = [
        (ItemKind.HIGHLIGHT, h.id) for h in publishable_highlights(db, period)
    ]
    extras = extra_entries(db, t, period, sources)
    for kind in EXTRA_KINDS:
        found.extend((kind, entry.ref_id) for entry in extras.get(kind, []))
    found.extend((ItemKind.NEWCOMER, m.id) for m in named_newcomers(db, settings, period))
    if period.session_id is None and not period.include_published:
        published = already_published(db)
        found = [key for key in found if key not in published]
    return found


@dataclass(frozen=True, slots=True)
class RefreshReport:
    added: int
    removed: int


def refresh_items(
    db: Session,
    t: Translator,
    settings: Settings,
    gazette: Gazette,
    sources: Mapping[str, GazetteSource],
) -> RefreshReport:
    """Bring the items in line with what the period offers now; keeps order, drops and numbers.

    A new item takes the next number never used in this draft, so the numbers a coordinator
    read stay true after a refresh.
    """
    period = Period.of(gazette)
    wanted = candidates(db, t, settings, period, sources)
    wanted_keys = set(wanted)
    removed = 0
    for item in list(gazette.items):
        if (ItemKind(item.kind), item.ref_id) not in wanted_keys:
            gazette.items.remove(item)
            removed += 1
    known = {(ItemKind(item.kind), item.ref_id) for item in gazette.items}
    position = max((item.position for item in gazette.items), default=0)
    number = max((item.number for item in gazette.items), default=0)
    added = 0
    for kind, ref_id in wanted:
        if (kind, ref_id) in known:
            continue
        position += 1
        number += 1
        gazette.items.append(
            GazetteItem(kind=kind, ref_id=ref_id, position=position, number=number)
        )
        known.add((kind, ref_id))
        added += 1
    db.flush()
    return RefreshReport(added=added, removed=removed)


def open_draft(
    db: Session,
    t: Translator,
    settings: Settings,
    period: Period,
    now: datetime,
    creator: Member | None,
    sources: Mapping[str, GazetteSource],
) -> tuple[Gazette, RefreshReport]:
    draft = current_draft(db)
    if draft is None:
        draft = Gazette(
            status=GazetteStatus.DRAFT,
            since=period.since,
            until=period.until,
            session_id=period.session_id,
            include_published=period.include_published,
            created_by_id=creator.id if creator else None,
            created_at=now,
            updated_at=now,
        )
        db.add(draft)
        db.flush()
    else:
        draft.since = period.since
        draft.until = period.until
        draft.session_id = period.session_id
        draft.include_published = period.include_published
        draft.updated_at = now
    return draft, refresh_items(db, t, settings, draft, sources)
