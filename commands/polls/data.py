"""What the polls family stores about a member, for their rights over it: the polls they
created and their named ballots. Anonymous ballots hold no member (see docs/design.md), so there
is nothing of theirs to give or erase. Erasing keeps the named ballots and the polls, attached to
the anonymous member the erasure leaves, so that every count stays right."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.context import Context
from bot.family import ErasedMember, MemberData
from bot.storage.members import Member
from bot.storage.polls import Poll, PollBallot


def export(db: Session, member: Member) -> Mapping[str, Any]:
    ballots = db.execute(
        select(PollBallot, Poll.question)
        .join(Poll, Poll.id == PollBallot.poll_id)
        .where(PollBallot.member_id == member.id)
        .order_by(PollBallot.poll_id)
    ).all()
    created = db.execute(
        select(Poll.id, Poll.question, Poll.created_at)
        .where(Poll.creator_id == member.id)
        .order_by(Poll.id)
    ).all()
    return {
        "named_ballots": [
            {
                "poll": ballot.poll_id,
                "question": question,
                "ballot": ballot.content,
                "voted_at": ballot.updated_at.isoformat(),
            }
            for ballot, question in ballots
        ],
        "polls_created": [
            {"poll": number, "question": question, "created_at": at.isoformat()}
            for number, question, at in created
        ],
    }


def erase(ctx: Context, who: ErasedMember) -> Mapping[str, int]:
    ballots = ctx.db.scalar(
        select(func.count()).select_from(PollBallot).where(PollBallot.member_id == who.id)
    )
    created = ctx.db.scalar(select(func.count()).select_from(Poll).where(Poll.creator_id == who.id))
    return {"ballots_kept_anonymous": ballots or 0, "polls_kept_anonymous": created or 0}


MEMBER_DATA = MemberData(
    export=export,
    erase=erase,
    holds=("the polls you created", "your ballots in named polls (not in anonymous ones)"),
)
