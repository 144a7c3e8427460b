"""What members say about themselves (profiles), who is referent for a theme, and the record that
a member's data was erased; with the theme matching both the profile and the members families use.

Themes are the network's themes: those the veille files its sources and shares under. A theme a
member types is matched ignoring case, accents and plurals (``Mobilités`` is ``mobilité``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint, select, union
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.i18n import fold
from bot.storage.base import Base
from bot.storage.veille import FeedEntry, FeedSource

MAX_ORGANISATION = 200
MAX_TERRITORY = 200
MAX_PRESENTATION = 500
MAX_INTERESTS = 10
MAX_THEME = 100

VISIBLE_TO_MEMBERS = "members"
VISIBLE_TO_COORDINATORS = "coordination"
VISIBILITIES = (VISIBLE_TO_MEMBERS, VISIBLE_TO_COORDINATORS)


class MemberProfile(Base):
    """The optional fields a member fills with ``/profil organisation|territoire|…``."""

    __tablename__ = "member_profiles"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    organisation: Mapped[str | None] = mapped_column(String(MAX_ORGANISATION), default=None)
    territory: Mapped[str | None] = mapped_column(String(MAX_TERRITORY), default=None)
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Themes, as the network spells them (matched with :func:`theme_key`)."""
    presentation: Mapped[str | None] = mapped_column(String(MAX_PRESENTATION), default=None)
    visibility: Mapped[str] = mapped_column(String(16), default=VISIBLE_TO_MEMBERS)
    """``members``: in the directory for every member; ``coordination``: for coordinators only."""
    updated_at: Mapped[datetime]


class Referent(Base):
    """A member a coordinator named referent for a theme (``/referent ajouter``)."""

    __tablename__ = "member_referents"
    __table_args__ = (UniqueConstraint("theme_key", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    theme: Mapped[str] = mapped_column(String(MAX_THEME))
    theme_key: Mapped[str] = mapped_column(String(MAX_THEME), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    named_by: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime]
    notified_through: Mapped[datetime | None] = mapped_column(default=None)
    """The news of this theme up to this moment were told to the referent."""


class MemberErasure(Base):
    """That a member's data was erased, when, at whose request, and how much: what must be kept."""

    __tablename__ = "member_erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer, index=True)
    """The anonymous shell left in ``members`` (no foreign key: the record outlives anything)."""
    requested_by: Mapped[str] = mapped_column(String(16))
    """``member`` (``/profile erase``) or ``coordinator`` (the command line)."""
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    erased_at: Mapped[datetime]


# --- themes -------------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("aux"):
        return word[:-3] + "al"  # territoriaux -> territorial
    if len(word) > 3 and word[-1] in "sx":
        return word[:-1]
    return word


def theme_key(text: str) -> str:
    """The form two spellings of one theme share: ``Mobilités`` and ``mobilite`` give ``mobilite``."""
    return " ".join(_singular(word) for word in _WORD.findall(fold(text)))


def clean_theme(text: str) -> str:
    """A theme as typed, with its spaces tidied."""
    return " ".join(text.split())[:MAX_THEME]


def network_themes(db: Session) -> list[str]:
    """The themes the veille uses (sources and shares), one spelling per theme, sorted."""
    rows = db.execute(
        union(
            select(FeedSource.theme).where(FeedSource.theme.is_not(None)),
            select(FeedEntry.theme).where(FeedEntry.theme.is_not(None)),
        )
    ).scalars()
    found: dict[str, str] = {}
    for theme in rows:
        if theme and theme.strip():
            found.setdefault(theme_key(theme), clean_theme(theme))
    return sorted(found.values(), key=fold)


def match_theme(text: str, themes: Sequence[str]) -> str | None:
    """The network theme ``text`` names (accents, case and plurals forgiven), or None."""
    key = theme_key(text)
    return next((theme for theme in themes if theme_key(theme) == key), None)


def nearest_theme(text: str, themes: Sequence[str]) -> str | None:
    """The network theme closest to ``text``, to suggest when it matches none."""
    keys = {theme_key(theme): theme for theme in themes}
    close = difflib.get_close_matches(theme_key(text), list(keys), n=1, cutoff=0.5)
    return keys[close[0]] if close else None


def split_themes(text: str) -> list[str]:
    """``"mobilité, alimentation; eau"`` as its themes (commas and semicolons separate)."""
    return [clean_theme(part) for part in re.split(r"[,;]", text) if part.strip()]


# --- reading profiles ---------------------------------------------------------------------------


def profile_of(db: Session, member_id: int) -> MemberProfile | None:
    return db.get(MemberProfile, member_id)


def organisation_of(db: Session, member_id: int) -> str | None:
    """The organisation a member gave (for the gazette's bylines), or None."""
    return db.scalar(select(MemberProfile.organisation).where(MemberProfile.member_id == member_id))


def referent_themes(db: Session, member_ids: Iterable[int]) -> dict[int, list[str]]:
    """The themes each of these members is referent for."""
    ids = list(member_ids)
    found: dict[int, list[str]] = {}
    if not ids:
        return found
    for member_id, theme in db.execute(
        select(Referent.member_id, Referent.theme)
        .where(Referent.member_id.in_(ids))
        .order_by(Referent.theme_key)
    ):
        found.setdefault(member_id, []).append(theme)
    return found


__all__ = [
    "MAX_INTERESTS",
    "MAX_ORGANISATION",
    "MAX_PRESENTATION",
    "MAX_TERRITORY",
    "MAX_THEME",
    "VISIBILITIES",
    "VISIBLE_TO_COORDINATORS",
    "VISIBLE_TO_MEMBERS",
    "MemberErasure",
    "MemberProfile",
    "Referent",
    "clean_theme",
    "match_theme",
    "nearest_theme",
    "network_themes",
    "organisation_of",
    "profile_of",
    "referent_themes",
    "split_themes",
    "theme_key",
]
