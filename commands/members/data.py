"""What the members family stores about a member, for their rights over it: the themes they
are referent for, their place in the rounds of meetings, whom they met and their check-in
answers. Erasing deletes all of it (the matching history included)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, aliased

from bot.context import Context
from bot.family import ErasedMember, MemberData
from bot.storage.base import changed_rows
from bot.storage.meetings import (
    MeetingGroupMember,
    MeetingParticipant,
    MeetingRound,
    MeetingSchedule,
)
from bot.storage.members import Member
from bot.storage.profiles import Referent


def export(db: Session, member: Member) -> Mapping[str, Any]:
    participant = db.get(MeetingParticipant, member.id)
    other = aliased(MeetingGroupMember)
    met = db.execute(
        select(
            MeetingRound.id, MeetingRound.held_at, MeetingGroupMember.answer, Member.display_name
        )
        .join(MeetingGroupMember, MeetingGroupMember.round_id == MeetingRound.id)
        .join(
            other,
            (other.round_id == MeetingGroupMember.round_id)
            & (other.group_no == MeetingGroupMember.group_no)
            & (other.member_id != MeetingGroupMember.member_id),
        )
        .join(Member, Member.id == other.member_id)
        .where(MeetingGroupMember.member_id == member.id)
        .order_by(MeetingRound.id)
    ).all()
    rounds: dict[int, dict[str, Any]] = {}
    for round_id, held_at, answer, name in met:
        entry = rounds.setdefault(
            round_id,
            {"round": round_id, "held_at": held_at.isoformat(), "met": [], "answer": answer},
        )
        entry["met"].append(name)
    return {
        "referent_for": list(
            db.scalars(select(Referent.theme).where(Referent.member_id == member.id))
        ),
        "meetings": {
            "taking_part": participant is not None,
            "joined_at": participant.joined_at.isoformat() if participant else None,
            "paused_until": (
                participant.paused_until.isoformat()
                if participant and participant.paused_until
                else None
            ),
            "rounds": list(rounds.values()),
        },
    }


def erase(ctx: Context, who: ErasedMember) -> Mapping[str, int]:
    db = ctx.db
    referents = changed_rows(db.execute(delete(Referent).where(Referent.member_id == who.id)))
    db.execute(update(Referent).where(Referent.named_by == who.id).values(named_by=None))
    db.execute(
        update(MeetingSchedule).where(MeetingSchedule.created_by == who.id).values(created_by=None)
    )
    pool = changed_rows(
        db.execute(delete(MeetingParticipant).where(MeetingParticipant.member_id == who.id))
    )
    groups = changed_rows(
        db.execute(delete(MeetingGroupMember).where(MeetingGroupMember.member_id == who.id))
    )
    return {
        "referent_roles_deleted": referents,
        "meeting_participation_deleted": pool,
        "meeting_history_deleted": groups,
    }


MEMBER_DATA = MemberData(
    export=export,
    erase=erase,
    holds=(
        "the themes you are referent for",
        "whether you take part in the rounds of meetings, your pause, whom you met, "
        "your check-in answers",
    ),
)
