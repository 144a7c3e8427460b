"""What the ideas box stores about a member, for their rights over it: the ideas they proposed
(their words) and the ideas they supported. Erasing deletes their ideas; their supports of
others' ideas stay, attached to the anonymous member the erasure leaves, so the counts stay."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.context import Context
from bot.family import ErasedMember, MemberData
from bot.storage.ideas import Idea, IdeaSupport
from bot.storage.members import Member
from bot.storage.outbox import OutboxMessage

REDACTED = "[…]"


def export(db: Session, member: Member) -> Mapping[str, Any]:
    ideas = db.scalars(select(Idea).where(Idea.author_id == member.id).order_by(Idea.id)).all()
    return {
        "ideas_proposed": [
            {
                "idea": idea.id,
                "text": idea.text,
                "theme": idea.theme,
                "status": idea.status,
                "response": idea.response,
                "supports": idea.supports,
                "proposed_at": idea.created_at.isoformat(),
            }
            for idea in ideas
        ],
        "ideas_supported": list(
            db.scalars(select(IdeaSupport.idea_id).where(IdeaSupport.member_id == member.id))
        ),
    }


def erase(ctx: Context, who: ErasedMember) -> Mapping[str, int]:
    ideas = ctx.db.scalars(select(Idea).where(Idea.author_id == who.id)).all()
    for idea in ideas:  # the posts kept in the outbox lose the idea's words too
        for row in ctx.db.scalars(
            select(OutboxMessage).where(OutboxMessage.key.startswith(f"idea:{idea.id}:"))
        ):
            payload = dict(row.payload or {})
            payload["text"] = str(payload.get("text", "")).replace(idea.text, REDACTED)
            row.payload = payload
        if idea.theme:  # a referent's daily message names the idea on a line of its own
            _scrub_referent_news(ctx.db, idea.text[:100])
        ctx.db.delete(idea)
    supports = ctx.db.scalar(
        select(func.count()).select_from(IdeaSupport).where(IdeaSupport.member_id == who.id)
    )
    return {"ideas_deleted": len(ideas), "supports_kept_anonymous": supports or 0}


def _scrub_referent_news(db: Session, excerpt: str) -> None:
    for row in db.scalars(select(OutboxMessage).where(OutboxMessage.key.startswith("referent:"))):
        payload = dict(row.payload or {})
        text = str(payload.get("text", ""))
        if excerpt not in text:
            continue
        lines = text.split("\n")
        payload["text"] = "\n".join(f"- {REDACTED}" if excerpt in line else line for line in lines)
        row.payload = payload


MEMBER_DATA = MemberData(
    export=export,
    erase=erase,
    holds=("the ideas you proposed, their status and answer", "the ideas you supported"),
)
