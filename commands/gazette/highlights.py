"""Recording a highlight, and members' proposals (votes) of a message until it is recorded.

The same message is one highlight (unique platform, channel and message id): recording it again
adds themes and session to the existing one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.context import Context
from bot.core import Actor
from bot.storage.highlights import (
    Consent,
    Gazette,
    GazetteItem,
    GazetteStatus,
    Highlight,
    HighlightSource,
    HighlightVote,
    RecentMessage,
)
from bot.storage.members import Member, member_by_identity, upsert_member
from commands.gazette.consent import rebuild_after_change, settle_consent
from commands.gazette.parsing import merge_themes


@dataclass(slots=True)
class HighlightDraft:
    """What is known about a highlight before it is stored."""

    platform: str
    quote: str
    author: Member
    said_at: datetime
    source: HighlightSource
    channel_id: str | None = None
    channel_name: str | None = None
    message_id: str | None = None
    link: str | None = None
    themes: list[str] = field(default_factory=list)
    session_id: int | None = None


def existing_highlight(
    db: Session, platform: str, channel_id: str | None, message_id: str | None
) -> Highlight | None:
    if message_id is None:
        return None
    query = select(Highlight).where(
        Highlight.platform == platform, Highlight.message_id == message_id
    )
    if channel_id is not None:
        query = query.where(Highlight.channel_id == channel_id)
    return db.scalars(query.limit(1)).first()


def store_highlight(
    db: Session, draft: HighlightDraft, recorded_by: Member, now: datetime
) -> tuple[Highlight, bool]:
    """Insert the highlight, or return the one already kept for that message (created False)."""
    found = existing_highlight(db, draft.platform, draft.channel_id, draft.message_id)
    if found is not None:
        return found, False
    row = Highlight(
        platform=draft.platform,
        channel_id=draft.channel_id,
        channel_name=draft.channel_name,
        message_id=draft.message_id,
        link=draft.link,
        quote=draft.quote,
        author_id=draft.author.id,
        author_name=draft.author.display_name,
        recorded_by_id=recorded_by.id,
        source=draft.source,
        themes=list(draft.themes),
        session_id=draft.session_id,
        said_at=draft.said_at,
        created_at=now,
        consent=Consent.PENDING,
    )
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError:
        # Recorded at the same moment by someone else: that one is the highlight.
        found = existing_highlight(db, draft.platform, draft.channel_id, draft.message_id)
        if found is None:
            raise
        return found, False
    if draft.message_id is not None:
        db.execute(
            delete(HighlightVote).where(
                HighlightVote.platform == draft.platform,
                HighlightVote.channel_id == (draft.channel_id or ""),
                HighlightVote.message_id == draft.message_id,
            )
        )
    return row, True


def record(ctx: Context, draft: HighlightDraft, recorder: Member) -> tuple[Highlight, bool, str]:
    """Store ``draft`` and settle consent. Returns (highlight, created, sentence for the actor)."""
    row, created = store_highlight(ctx.db, draft, recorder, ctx.now())
    if not created:
        changed = False
        themes = merge_themes(row.themes, draft.themes)
        if themes != list(row.themes):
            row.themes = themes
            changed = True
        if draft.session_id is not None and row.session_id != draft.session_id:
            row.session_id = draft.session_id
            changed = True
        note = (
            ctx._("I added the new details to it.")
            if changed
            else ctx._("Nothing new to add to it.")
        )
        return row, False, note
    return row, True, settle_consent(ctx, row, draft.author, recorder)


def add_vote(
    db: Session, platform: str, channel_id: str, message_id: str, member: Member, now: datetime
) -> int:
    """Record ``member``'s proposal of a message (idempotent); returns the distinct proposers."""
    vote = HighlightVote(
        platform=platform,
        channel_id=channel_id,
        message_id=message_id,
        member_id=member.id,
        created_at=now,
    )
    try:
        with db.begin_nested():
            db.add(vote)
    except IntegrityError:
        pass  # already proposed by this member
    count = db.scalar(
        select(func.count())
        .select_from(HighlightVote)
        .where(
            HighlightVote.platform == platform,
            HighlightVote.channel_id == channel_id,
            HighlightVote.message_id == message_id,
        )
    )
    return int(count or 0)


def remove_vote(
    db: Session, platform: str, channel_id: str, message_id: str, member: Member
) -> None:
    db.execute(
        delete(HighlightVote).where(
            HighlightVote.platform == platform,
            HighlightVote.channel_id == channel_id,
            HighlightVote.message_id == message_id,
            HighlightVote.member_id == member.id,
        )
    )


def recent_message(
    db: Session, platform: str, message_id: str, channel_id: str | None = None
) -> RecentMessage | None:
    query = select(RecentMessage).where(
        RecentMessage.platform == platform, RecentMessage.message_id == message_id
    )
    if channel_id is not None:
        query = query.where(RecentMessage.channel_id == channel_id)
    return db.scalars(query.order_by(RecentMessage.id.desc()).limit(1)).first()


def message_link(
    settings: Settings, platform: str, channel_id: str, channel_name: str, message_id: str
) -> str | None:
    """A link to a platform message, when the configuration says enough to build one."""
    if platform == "discord":
        guilds = (settings.discord or {}).get("guild_ids") or []
        if len(guilds) == 1:
            return f"https://discord.com/channels/{guilds[0]}/{channel_id}/{message_id}"
    if platform == "rocketchat":
        server = str((settings.rocketchat or {}).get("server_url") or "").rstrip("/")
        if server:
            return f"{server}/channel/{quote(channel_name)}?msg={quote(message_id)}"
    return None


def clip_quote(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def author_for_id(
    db: Session, platform: str, user_id: str, now: datetime, name: str = ""
) -> Member:
    """The member with this platform id; created (named ``name``, else by the id) when new.

    A known member's name is only updated from a real name, never replaced by the id.
    """
    found = member_by_identity(db, platform, user_id)
    if found is not None and not name:
        return found
    return upsert_member(db, Actor(platform, user_id, name or user_id), now)


def remove_highlight(ctx: Context, row: Highlight) -> list[int]:
    """Delete ``row`` and its items in the gazette draft; rebuilds the archived gazettes that
    showed it and returns their numbers."""
    number = row.id
    drafts = select(Gazette.id).where(Gazette.status == GazetteStatus.DRAFT)
    ctx.db.execute(
        delete(GazetteItem).where(
            GazetteItem.kind == "highlight",
            GazetteItem.ref_id == number,
            GazetteItem.gazette_id.in_(drafts),
        )
    )
    ctx.db.delete(row)
    ctx.db.flush()
    return rebuild_after_change(ctx, number)
