"""What the email deliveries store about a member, for their rights over it: their email
subscription (address, choices, confirmation) and the journal of mails handed to the server for
that address. Erasing deletes both."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.context import Context
from bot.family import ErasedMember, MemberData
from bot.storage.base import changed_rows
from bot.storage.email import EmailJournal, EmailSubscriber
from bot.storage.members import Member


def export(db: Session, member: Member) -> Mapping[str, Any]:
    row = db.scalars(select(EmailSubscriber).where(EmailSubscriber.member_id == member.id)).first()
    if row is None:
        return {"email": None}
    return {
        "email": {
            "address": row.address,
            "digest": row.wants_digest,
            "gazette": row.wants_gazette,
            "sessions": row.wants_sessions,
            "confirmed_at": row.confirmed_at.isoformat() if row.confirmed_at else None,
            "mails_handed": db.scalar(
                select(EmailJournal.token).where(EmailJournal.address == row.address).limit(1)
            )
            is not None,
        }
    }


def erase(ctx: Context, who: ErasedMember) -> Mapping[str, int]:
    rows = ctx.db.scalars(select(EmailSubscriber).where(EmailSubscriber.member_id == who.id)).all()
    journal = 0
    for row in rows:
        journal += changed_rows(
            ctx.db.execute(delete(EmailJournal).where(EmailJournal.address == row.address))
        )
        ctx.db.delete(row)
    return {"email_subscriptions_deleted": len(rows), "email_journal_deleted": journal}


MEMBER_DATA = MemberData(
    export=export,
    erase=erase,
    holds=("your email address and what you receive by email", "the mails sent to it"),
)
