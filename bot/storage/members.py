"""Members (one row per platform identity) and places (channels the bot has seen)."""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Boolean,
    String,
    Table,
    UniqueConstraint,
    bindparam,
    exists,
    select,
    union_all,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.core import Actor, Place
from bot.i18n import fold
from bot.storage.base import Base


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("platform", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(8), default=None)
    """The language the member chose with ``/profil langue``; None follows the platform/network."""
    category: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PlaceRow(Base):
    __tablename__ = "places"
    __table_args__ = (UniqueConstraint("platform", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200))
    is_direct: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


# Built once: these run for every event, and building the expression costs more than the query.
_MEMBER_BY_IDENTITY = select(Member).where(
    Member.platform == bindparam("platform"), Member.user_id == bindparam("user_id")
)
_PLACE_BY_IDENTITY = select(PlaceRow).where(
    PlaceRow.platform == bindparam("platform"), PlaceRow.channel_id == bindparam("channel_id")
)


def member_by_identity(db: Session, platform: str, user_id: str) -> Member | None:
    """The member with this platform identity, or None."""
    return db.scalars(_MEMBER_BY_IDENTITY, {"platform": platform, "user_id": user_id}).one_or_none()


_MENTION = re.compile(r"^<@!?(\w+)>$")


def find_member(db: Session, platform: str, name: str) -> Member | None:
    """A member of ``platform`` by identifier, mention (``<@id>``, ``@id``) or display name
    (case- and accent-insensitive; only when one member has it)."""
    raw = name.strip()
    mention = _MENTION.match(raw)
    raw = mention.group(1) if mention else raw.lstrip("@")
    member = member_by_identity(db, platform, raw)
    if member is not None:
        return member
    wanted = fold(raw)
    named = [
        m
        for m in db.scalars(select(Member).where(Member.platform == platform))
        if fold(m.display_name) == wanted
    ]
    return named[0] if len(named) == 1 else None


_MEMBERS: Table = Member.__table__  # type: ignore[assignment]
_FOUND = (
    select(_MEMBERS)
    .where(_MEMBERS.c.platform == bindparam("platform"), _MEMBERS.c.user_id == bindparam("user_id"))
    .cte("found")
)


@cache
def _find_or_create_pg() -> Any:
    """PostgreSQL: the member, created when new, in one round trip (the event's first
    statement). The INSERT runs only when the SELECT found nothing (no sequence number is spent
    on a known member); a concurrent first sight of the same member finds neither row, and falls
    back to the two-step path below. Built at the first PostgreSQL event: the dialect module is
    never imported on SQLite."""
    from sqlalchemy.dialects.postgresql import insert as postgresql_insert

    new = (
        postgresql_insert(_MEMBERS)
        .from_select(
            ["platform", "user_id", "display_name", "created_at", "updated_at"],
            select(
                bindparam("platform", type_=String),
                bindparam("user_id", type_=String),
                bindparam("display_name", type_=String),
                bindparam("now", type_=_MEMBERS.c.created_at.type),
                bindparam("now", type_=_MEMBERS.c.updated_at.type),
            ).where(~exists(select(_FOUND.c.id))),
        )
        .on_conflict_do_nothing(index_elements=["platform", "user_id"])
        .returning(*_MEMBERS.c)
        .cte("new")
    )
    return select(Member).from_statement(union_all(select(_FOUND), select(new)))


def upsert_member(db: Session, actor: Actor, now: datetime) -> Member:
    """The member row for ``actor``, created on first sight; the display name follows the platform."""
    member: Member | None = None
    if db.get_bind().dialect.name == "postgresql":
        member = db.scalars(
            _find_or_create_pg(),
            {
                "platform": actor.platform,
                "user_id": actor.user_id,
                "display_name": actor.display_name,
                "now": now,
            },
        ).one_or_none()
    if member is None:
        member = db.scalars(
            _MEMBER_BY_IDENTITY, {"platform": actor.platform, "user_id": actor.user_id}
        ).one_or_none()
    if member is None:
        member = Member(
            platform=actor.platform,
            user_id=actor.user_id,
            display_name=actor.display_name,
            created_at=now,
            updated_at=now,
        )
        db.add(member)
        db.flush()
    elif member.display_name != actor.display_name:
        member.display_name = actor.display_name
        member.updated_at = now
    return member


def record_place(db: Session, place: Place, now: datetime) -> PlaceRow:
    row = db.scalars(
        _PLACE_BY_IDENTITY, {"platform": place.platform, "channel_id": place.channel_id}
    ).one_or_none()
    if row is None:
        row = PlaceRow(
            platform=place.platform,
            channel_id=place.channel_id,
            name=place.name,
            is_direct=place.is_direct,
            created_at=now,
        )
        db.add(row)
        db.flush()
    elif row.name != place.name:
        row.name = place.name
    return row


def find_place_by_name(db: Session, platform: str, name: str) -> PlaceRow | None:
    wanted = name.lstrip("#").casefold()
    rows = db.scalars(
        select(PlaceRow).where(PlaceRow.platform == platform, PlaceRow.is_direct.is_(False))
    ).all()
    for row in rows:
        if row.name.casefold() == wanted or row.channel_id == name.lstrip("#"):
            return row
    return None
