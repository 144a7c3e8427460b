"""Rounds of meetings: the pool, holding a round (groups stored, introductions to the outbox),
the check-in a week later, its answers, and the figures the annual report reads.

Outbox keys: ``meet:<round>:intro:<member>`` (the introduction), ``meet:<round>:checkin:<member>``
(the question a week later). Both are direct messages; a member whose direct messages are closed
is told in the channel where the rounds were scheduled (or the round started).
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from sqlalchemy import and_, func, insert, select
from sqlalchemy.orm import Session

from bot.core import Choice, ChoiceStyle, DirectTarget, Reply
from bot.i18n import N_, Translator, Translators, fold
from bot.outbox import Outgoing, enqueue_many
from bot.storage.meetings import (
    ANSWER_MET,
    ANSWER_NOT_MET,
    ANSWER_PLANNED,
    MeetingGroupMember,
    MeetingParticipant,
    MeetingRound,
    MeetingSchedule,
)
from bot.storage.members import Member
from bot.storage.profiles import MemberProfile, theme_key
from commands.members.messages import member_card
from commands.members.pairing import Candidate, Group, group_members

CHECKIN_DELAY = timedelta(days=7)
"""The check-in is asked this long after the round."""

ANSWER_LABELS = {
    ANSWER_MET: N_("Yes, we met"),
    ANSWER_PLANNED: N_("Not yet, it is planned"),
    ANSWER_NOT_MET: N_("No, not this time"),
}


@dataclass(frozen=True, slots=True)
class Pooled:
    member: Member
    profile: MemberProfile | None


def pool_of(db: Session, platform: str, now: datetime) -> list[Pooled]:
    """The members of ``platform`` who joined the rounds and are not paused at ``now``."""
    rows = db.execute(
        select(Member, MemberProfile)
        .join(MeetingParticipant, MeetingParticipant.member_id == Member.id)
        .outerjoin(MemberProfile, MemberProfile.member_id == Member.id)
        .where(
            MeetingParticipant.platform == platform,
            (MeetingParticipant.paused_until.is_(None)) | (MeetingParticipant.paused_until <= now),
        )
        .order_by(Member.id)
    ).all()
    return [Pooled(member, profile) for member, profile in rows]


def past_groups(db: Session, platform: str) -> list[tuple[int, ...]]:
    """The groups of every earlier round of ``platform`` (member ids), read in one query: the
    pairs and trios are counted here rather than by a self-join (which SQLite runs in time
    quadratic in the size of a round)."""
    found: dict[tuple[int, int], list[int]] = {}
    for round_id, group_no, member_id in db.execute(
        select(
            MeetingGroupMember.round_id, MeetingGroupMember.group_no, MeetingGroupMember.member_id
        )
        .join(MeetingRound, MeetingRound.id == MeetingGroupMember.round_id)
        .where(MeetingRound.platform == platform)
    ):
        found.setdefault((round_id, group_no), []).append(member_id)
    return [tuple(members) for members in found.values()]


def history_of(groups: Iterable[Sequence[int]]) -> dict[frozenset[int], int]:
    """How many times each pair of members met, from their groups."""
    history: dict[frozenset[int], int] = {}
    for group in groups:
        for a, b in itertools.combinations(group, 2):
            key = frozenset((a, b))
            history[key] = history.get(key, 0) + 1
    return history


def trio_counts(groups: Iterable[Sequence[int]]) -> dict[int, int]:
    """How many times each member was in a trio (or a larger group)."""
    counts: dict[int, int] = {}
    for group in groups:
        if len(group) >= 3:
            for member in group:
                counts[member] = counts.get(member, 0) + 1
    return counts


def candidate(pooled: Pooled, trios: int = 0) -> Candidate:
    profile = pooled.profile
    territory = profile.territory if profile else None
    return Candidate(
        pooled.member.id,
        pooled.member.category,
        fold(" ".join(territory.split())) if territory else None,
        frozenset(theme_key(t) for t in profile.interests)
        if profile and profile.interests
        else frozenset(),
        trios,
    )


def round_seed(platform: str, number: int) -> int:
    """The seed of the ``number``-th round of ``platform``: rounds are reproducible."""
    return zlib.crc32(f"{platform}:{number}".encode()) & 0x7FFFFFFF  # an INTEGER column


@dataclass(frozen=True, slots=True)
class HeldRound:
    row: MeetingRound
    groups: list[Group]


def hold_round(
    db: Session,
    platform: str,
    now: datetime,
    translators: Translators,
    network_locale: str,
    *,
    fallback_channel_id: str | None = None,
    seed: int | None = None,
) -> HeldRound | None:
    """Pair the pool, store the groups and write the introductions; None when fewer than two
    members are available (nothing is stored)."""
    pool = pool_of(db, platform, now)
    if len(pool) < 2:
        return None
    number = (db.scalar(select(func.count()).where(MeetingRound.platform == platform)) or 0) + 1
    chosen = round_seed(platform, number) if seed is None else seed
    earlier = past_groups(db, platform)
    trios = trio_counts(earlier)
    candidates = [candidate(p, trios.get(p.member.id, 0)) for p in pool]
    keys = {c.id: c.interests for c in candidates}
    groups = group_members(candidates, history_of(earlier), chosen)
    row = MeetingRound(platform=platform, held_at=now, seed=chosen, checkin_at=now + CHECKIN_DELAY)
    db.add(row)
    db.flush()
    by_id = {p.member.id: p for p in pool}
    outgoing: list[Outgoing] = []
    db.execute(
        insert(MeetingGroupMember),
        [
            {"round_id": row.id, "group_no": group_no, "member_id": member_id}
            for group_no, group in enumerate(groups, start=1)
            for member_id in group
        ],
    )
    for group in groups:
        for member_id in group:
            me = by_id[member_id]
            t = translators.get(me.member.locale, network_locale)
            others = [by_id[m] for m in group if m != member_id]
            outgoing.append(
                Outgoing(
                    f"meet:{row.id}:intro:{member_id}",
                    introduction(t, me, others, keys),
                    DirectTarget(platform, me.member.user_id, fallback_channel_id),
                    now,
                )
            )
    enqueue_many(db, outgoing, now)
    db.flush()
    return HeldRound(row, groups)


def shared_interests(
    me: Pooled, others: Sequence[Pooled], keys: Mapping[int, frozenset[str]] | None = None
) -> list[str]:
    """The interests ``me`` shares with at least one of ``others``, in ``me``'s spelling
    (``keys``: the theme keys of each member's interests, when the caller has them)."""
    if me.profile is None or not me.profile.interests:
        return []
    theirs: set[str] = set()
    for other in others:
        if keys is not None:
            theirs |= keys.get(other.member.id, frozenset())
        elif other.profile is not None:
            theirs |= {theme_key(theme) for theme in other.profile.interests}
    return [theme for theme in me.profile.interests if theme_key(theme) in theirs]


def introduction(
    t: Translator,
    me: Pooled,
    others: Sequence[Pooled],
    keys: Mapping[int, frozenset[str]] | None = None,
) -> Reply:
    names = [f"**{other.member.display_name}**" for other in others]
    if len(names) == 1:
        lines = [t.gettext("🤝 Meeting round: this time you meet {name}.", name=names[0])]
    else:
        lines = [
            t.gettext(
                "🤝 Meeting round: this time you meet {first} and {second} (a group of three).",
                first=names[0],
                second=names[1],
            )
        ]
    lines.append("")
    lines.extend(member_card(t, other.member, other.profile, full=True) for other in others)
    shared = shared_interests(me, others, keys)
    lines.append("")
    if shared:
        lines.append(t.gettext("You share: {themes}.", themes=", ".join(shared)))
    lines.append(
        t.gettext(
            "Write to each other to plan a coffee or a call in the coming days. In a week I will "
            "ask you whether you met."
        )
    )
    return Reply(text="\n".join(lines))


def checkin_reply(t: Translator, round_id: int, others: Sequence[str]) -> Reply:
    return Reply(
        text=t.gettext(
            "A week ago I introduced you to {names}. Did you meet? One click is enough: the "
            "answers help the network see what the rounds bring.",
            names=", ".join(others),
        ),
        choices=tuple(
            Choice(
                t.gettext(ANSWER_LABELS[answer]),
                f"meet:{round_id}:checkin:{answer}",
                ChoiceStyle.SUCCESS if answer == ANSWER_MET else ChoiceStyle.SECONDARY,
            )
            for answer in (ANSWER_MET, ANSWER_PLANNED, ANSWER_NOT_MET)
        ),
    )


def send_checkins(
    db: Session,
    now: datetime,
    translators: Translators,
    network_locale: str,
) -> bool:
    """Ask the members of every round whose check-in fell due; True when rows were written."""
    rounds = db.scalars(
        select(MeetingRound).where(
            MeetingRound.checkin_sent.is_(False), MeetingRound.checkin_at <= now
        )
    ).all()
    wrote = False
    for row in rounds:
        row.checkin_sent = True
        schedule = db.scalars(
            select(MeetingSchedule).where(MeetingSchedule.platform == row.platform)
        ).one_or_none()
        fallback = schedule.fallback_channel_id if schedule is not None else None
        members = db.execute(
            select(MeetingGroupMember.group_no, Member)
            .join(Member, Member.id == MeetingGroupMember.member_id)
            .where(MeetingGroupMember.round_id == row.id)
        ).all()
        groups: dict[int, list[Member]] = {}
        for group_no, member in members:
            groups.setdefault(group_no, []).append(member)
        outgoing = []
        for group in groups.values():
            for member in group:
                t = translators.get(member.locale, network_locale)
                others = [m.display_name for m in group if m.id != member.id]
                outgoing.append(
                    Outgoing(
                        f"meet:{row.id}:checkin:{member.id}",
                        checkin_reply(t, row.id, others),
                        DirectTarget(row.platform, member.user_id, fallback),
                        now,
                    )
                )
        enqueue_many(db, outgoing, now)
        wrote = wrote or bool(outgoing)
    db.flush()
    return wrote


def record_answer(
    db: Session, round_id: int, member_id: int, answer: str, now: datetime
) -> MeetingGroupMember | None:
    """Store a check-in answer (a later click changes it); None when the member was not in
    that round."""
    row = db.scalars(
        select(MeetingGroupMember).where(
            MeetingGroupMember.round_id == round_id, MeetingGroupMember.member_id == member_id
        )
    ).one_or_none()
    if row is None:
        return None
    row.answer = answer
    row.answered_at = now
    return row


# --- scheduling ----------------------------------------------------------------------------------


def following_round(moment: datetime, every_weeks: int, tz: tzinfo, now: datetime) -> datetime:
    """The first moment after ``now`` in steps of ``every_weeks`` weeks from ``moment``, at the
    same wall-clock time in ``tz`` (a round at 10:00 stays at 10:00 across a change of hour)."""
    local = moment.astimezone(tz)
    day, clock = local.date(), time(local.hour, local.minute)
    candidate_at = moment
    while candidate_at <= now:
        day += timedelta(weeks=every_weeks)
        candidate_at = datetime.combine(day, clock, tzinfo=tz).astimezone(moment.tzinfo)
    return candidate_at


# --- figures for the annual report -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MeetingFigures:
    rounds: int
    participants: int
    """Distinct members introduced at least once."""
    introductions: int
    """Groups formed (pairs and trios)."""
    answers: dict[str, int]
    """Check-in answers by value (``met``, ``planned``, ``not_met``)."""
    asked: int
    """Members asked at a check-in."""

    @property
    def met_share(self) -> float | None:
        """The share of answers that say the members met (None without answers)."""
        answered = sum(self.answers.values())
        return self.answers.get(ANSWER_MET, 0) / answered if answered else None


def meeting_figures(db: Session, start: datetime, end: datetime) -> MeetingFigures:
    """What the rounds held in ``[start, end)`` gave: the annual report's figures."""
    in_period = and_(MeetingRound.held_at >= start, MeetingRound.held_at < end)
    rounds = db.scalar(select(func.count()).select_from(MeetingRound).where(in_period)) or 0
    joined = (
        select(MeetingGroupMember)
        .join(MeetingRound, MeetingRound.id == MeetingGroupMember.round_id)
        .where(in_period)
        .subquery()
    )
    participants = db.scalar(select(func.count(func.distinct(joined.c.member_id)))) or 0
    introductions = (
        db.scalar(
            select(func.count()).select_from(
                select(joined.c.round_id, joined.c.group_no).distinct().subquery()
            )
        )
        or 0
    )
    answers = {
        answer: int(n)
        for answer, n in db.execute(
            select(joined.c.answer, func.count())
            .where(joined.c.answer.is_not(None))
            .group_by(joined.c.answer)
        )
    }
    asked = (
        db.scalar(
            select(func.count())
            .select_from(MeetingGroupMember)
            .join(MeetingRound, MeetingRound.id == MeetingGroupMember.round_id)
            .where(in_period, MeetingRound.checkin_sent.is_(True))
        )
        or 0
    )
    return MeetingFigures(rounds, participants, introductions, answers, asked)
