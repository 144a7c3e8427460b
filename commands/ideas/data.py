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
        ctx.db.delete(idea)
    supports = ctx.db.scalar(
        select(func.count()).select_from(IdeaSupport).where(IdeaSupport.member_id == who.id)
    )
    return {"ideas_deleted": len(ideas), "supports_kept_anonymous": supports or 0}


MEMBER_DATA = MemberData(
    export=export,
    erase=erase,
    holds=("the ideas you proposed, their status and answer", "the ideas you supported"),
)
