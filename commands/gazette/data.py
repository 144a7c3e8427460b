"""What the gazette family stores about a member, for their rights over it: the highlights they
said (their words and consent), those they recorded, their 📰 votes, the recent messages kept
to be proposed as highlights, their "never ask me" choice. Erasing withdraws and deletes their
highlights, rebuilds the archived gazettes that showed them (or their name), and deletes the
rest; the gazettes a coordinator compiled keep pointing to the anonymous member."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.context import Context
from bot.family import ErasedMember, MemberData
from bot.storage.base import changed_rows
from bot.storage.highlights import (
    Consent,
    ConsentPreference,
    Gazette,
    GazetteItem,
    GazetteStatus,
    Highlight,
    HighlightVote,
    ItemKind,
    RecentMessage,
)
from bot.storage.members import Member
from commands.gazette.publish import rebuild_archive


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def export(db: Session, member: Member) -> Mapping[str, Any]:
    said = db.scalars(select(Highlight).where(Highlight.author_id == member.id)).all()
    preference = db.get(ConsentPreference, member.id)
    recent = db.scalars(select(RecentMessage).where(RecentMessage.author_id == member.id)).all()
    return {
        "highlights_said": [
            {
                "number": h.id,
                "quote": h.quote,
                "themes": list(h.themes or ()),
                "said_at": _when(h.said_at),
                "consent": h.consent,
                "consent_at": _when(h.consent_at),
                "images": len(h.images),
            }
            for h in said
        ],
        "highlights_recorded": [
            h.id for h in db.scalars(select(Highlight).where(Highlight.recorded_by_id == member.id))
        ],
        "highlight_votes": db.scalar(
            select(HighlightVote.id).where(HighlightVote.member_id == member.id).limit(1)
        )
        is not None,
        "never_ask": bool(preference and preference.never_ask),
        "recent_messages_kept": [
            {"channel": m.channel_name, "text": m.text, "said_at": _when(m.said_at)} for m in recent
        ],
    }


def erase(ctx: Context, who: ErasedMember) -> Mapping[str, int]:
    db = ctx.db
    said = db.scalars(select(Highlight).where(Highlight.author_id == who.id)).all()
    rebuilt: set[int] = set()
    for highlight in said:  # out of every archive first, as a withdrawal does
        highlight.consent = Consent.WITHDRAWN
    db.flush()
    ids = [h.id for h in said]
    needles = [who.display_name.encode(), *(t.encode() for t in who.texts if len(t) >= 4)]
    for gazette in db.scalars(
        select(Gazette).where(Gazette.status == GazetteStatus.PUBLISHED).order_by(Gazette.id)
    ):
        shows_them = any(item.ref_id in ids for item in gazette.items if ids)
        named = bool(gazette.html) and any(n and n in (gazette.html or b"") for n in needles)
        if shows_them or named:  # rebuilt without the withdrawn words, with the shell's name
            rebuild_archive(ctx, gazette)
            rebuilt.add(gazette.id)
    if ids:
        db.execute(
            delete(GazetteItem).where(
                GazetteItem.kind == ItemKind.HIGHLIGHT, GazetteItem.ref_id.in_(ids)
            )
        )
        for highlight in said:
            db.delete(highlight)
        db.flush()
    recorded = changed_rows(
        db.execute(
            update(Highlight).where(Highlight.recorded_by_id == who.id).values(recorded_by_id=None)
        )
    )
    votes = changed_rows(db.execute(delete(HighlightVote).where(HighlightVote.member_id == who.id)))
    recent = changed_rows(
        db.execute(delete(RecentMessage).where(RecentMessage.author_id == who.id))
    )
    preference = changed_rows(
        db.execute(delete(ConsentPreference).where(ConsentPreference.member_id == who.id))
    )
    return {
        "highlights_deleted": len(ids),
        "gazettes_rebuilt": len(rebuilt),
        "highlights_recorded_unlinked": recorded,
        "highlight_votes_deleted": votes,
        "recent_messages_deleted": recent,
        "consent_preferences_deleted": preference,
    }


MEMBER_DATA = MemberData(
    export=export,
    erase=erase,
    holds=(
        "highlights: the words you said, their themes, images, your consent",
        "the highlights you recorded, your 📰 votes",
        "recent messages kept a few days to be proposed as highlights",
        "your choice never to be asked",
    ),
)
