"""What the sessions family stores about a member, for their rights over it: their
registrations (status, category at the time, attendance, feedback) and the sessions they
created. Erasing keeps them, attached to the anonymous member the erasure leaves, so that seats,
quotas and attendance counts stay right. (The member's category is on the member row, erased
with it.)"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.context import Context
from bot.family import ErasedMember, MemberData
from bot.storage.members import Member
from bot.storage.sessions import Registration, SessionRow


def export(db: Session, member: Member) -> Mapping[str, Any]:
    rows = db.execute(
        select(Registration, SessionRow.title, SessionRow.starts_at)
        .join(SessionRow, SessionRow.id == Registration.session_id)
        .where(Registration.member_id == member.id)
        .order_by(Registration.session_id)
    ).all()
    return {
        "registrations": [
            {
                "session": registration.session_id,
                "title": title,
                "starts_at": starts_at.isoformat(),
                "status": registration.status,
                "category": registration.category,
                "registered_at": registration.registered_at.isoformat(),
                "attended_at": (
                    registration.attended_at.isoformat() if registration.attended_at else None
                ),
                "feedback": registration.feedback,
            }
            for registration, title, starts_at in rows
        ],
        "sessions_created": list(
            db.scalars(select(SessionRow.id).where(SessionRow.created_by == member.id))
        ),
    }


def erase(ctx: Context, who: ErasedMember) -> Mapping[str, int]:
    kept = ctx.db.scalar(
        select(func.count()).select_from(Registration).where(Registration.member_id == who.id)
    )
    return {"registrations_kept_anonymous": kept or 0}


MEMBER_DATA = MemberData(
    export=export,
    erase=erase,
    holds=(
        "your registrations: status, category at the time, attendance, feedback",
        "the sessions you created",
    ),
)
