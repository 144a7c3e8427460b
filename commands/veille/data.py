"""What the veille stores about a member, for their rights over it: the links they shared
(with their comments), the feeds they added, the feed proposals offered to them, the digest
schedules they set. Erasing removes their comments (the links stay in the digests, without
them), unlinks the feeds and schedules, deletes the proposals, and blanks their name and
comments in the archived digests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.context import Context
from bot.family import ErasedMember, MemberData
from bot.storage.base import changed_rows
from bot.storage.members import Member
from bot.storage.veille import (
    ENTRY_SHARE,
    DigestArchive,
    DigestSchedule,
    FeedEntry,
    FeedProposal,
    FeedSource,
)

REDACTED = "[…]"


def export(db: Session, member: Member) -> Mapping[str, Any]:
    shares = db.scalars(
        select(FeedEntry)
        .where(FeedEntry.kind == ENTRY_SHARE, FeedEntry.shared_by == member.id)
        .order_by(FeedEntry.id)
    ).all()
    sources = db.scalars(select(FeedSource).where(FeedSource.added_by == member.id)).all()
    return {
        "shares": [
            {
                "link": entry.link,
                "title": entry.title,
                "comment": entry.comment,
                "theme": entry.theme,
                "shared_at": entry.created_at.isoformat(),
            }
            for entry in shares
        ],
        "feeds_added": [{"url": source.url, "theme": source.theme} for source in sources],
    }


def erase(ctx: Context, who: ErasedMember) -> Mapping[str, int]:
    db = ctx.db
    shares = db.scalars(
        select(FeedEntry).where(FeedEntry.kind == ENTRY_SHARE, FeedEntry.shared_by == who.id)
    ).all()
    comments = [entry.comment for entry in shares if entry.comment]
    for entry in shares:
        entry.comment = None
    sources = changed_rows(
        db.execute(update(FeedSource).where(FeedSource.added_by == who.id).values(added_by=None))
    )
    schedules = changed_rows(
        db.execute(
            update(DigestSchedule)
            .where(DigestSchedule.updated_by == who.id)
            .values(updated_by=None)
        )
    )
    proposals = changed_rows(
        db.execute(delete(FeedProposal).where(FeedProposal.member_id == who.id))
    )
    needles = sorted(
        {who.display_name, *comments, *(t for t in who.texts if len(t) >= 4)},
        key=len,
        reverse=True,
    )
    archives = 0
    for archive in db.scalars(select(DigestArchive)):
        text, html = archive.text, archive.html
        for needle in needles:
            if needle:
                text = text.replace(needle, REDACTED)
                html = html.replace(needle, REDACTED)
        if (text, html) != (archive.text, archive.html):
            archive.text, archive.html = text, html
            archives += 1
    return {
        "share_comments_erased": len(comments),
        "shares_kept_anonymous": len(shares),
        "feeds_unlinked": sources,
        "digest_schedules_unlinked": schedules,
        "feed_proposals_deleted": proposals,
        "digest_archives_redacted": archives,
    }


MEMBER_DATA = MemberData(
    export=export,
    erase=erase,
    holds=(
        "the links you shared and your comments",
        "the feeds you added, the digest schedules you set, feed proposals offered to you",
    ),
)
