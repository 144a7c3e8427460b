"""/rencontres (/meet): members join, leave or pause the rounds of meetings; coordinators
schedule them (``programmer "lundi 10h" --tous-les 2sem``), start one now, stop them and read
the figures; the check-in buttons a week after a round."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from bot.context import Context
from bot.core import Reply, Role
from bot.dates import DateParseError, parse_duration
from bot.i18n import N_
from bot.registry import Args, Option, OptionType, StaleChoice, command, on_choice
from bot.storage.meetings import (
    ANSWERS,
    MeetingGroupMember,
    MeetingParticipant,
    MeetingRound,
    MeetingSchedule,
)
from bot.storage.members import Member
from commands.members.errors import (
    AlreadyJoined,
    IntervalOutOfRange,
    MomentInThePast,
    NotEnoughMembers,
    NotJoined,
    UnreadableInterval,
)
from commands.members.rounds import (
    ANSWER_LABELS,
    hold_round,
    meeting_figures,
    pool_of,
    record_answer,
)

WORK_NAME = "meetings"
GROUP_HELP = N_("Rounds of meetings: each round introduces you to another member of the network.")
MAX_WEEKS = 12


def _participant(ctx: Context) -> MeetingParticipant | None:
    return ctx.db.get(MeetingParticipant, ctx.member.id)


def _schedule(ctx: Context) -> MeetingSchedule | None:
    return ctx.db.scalars(
        select(MeetingSchedule).where(MeetingSchedule.platform == ctx.actor.platform)
    ).one_or_none()


def _next_round_line(ctx: Context) -> str:
    schedule = _schedule(ctx)
    if schedule is None:
        return ctx._("No round is scheduled yet: the coordinators will announce the next one.")
    return ctx.t.ngettext(
        "Next round: {when}, then every week.",
        "Next round: {when}, then every {n} weeks.",
        schedule.every_weeks,
        when=ctx.t.datetime(schedule.next_at),
    )


@command(
    "voir",
    "status",
    N_("Shows whether you take part in the rounds of meetings and when the next one is."),
    default=True,
    group_help=GROUP_HELP,
    examples=("/rencontres",),
    group="rencontres",
    group_alias="meet",
)
def status(ctx: Context, args: Args) -> Reply:
    participant = _participant(ctx)
    now = ctx.now()
    if participant is None:
        lines = [ctx._("You do not take part in the meetings. Join with /meet join.")]
    elif participant.paused_until is not None and participant.paused_until > now:
        lines = [
            ctx._(
                "You take part in the meetings, paused until {date} (/meet resume to "
                "come back sooner).",
                date=ctx.t.datetime(participant.paused_until),
            )
        ]
    else:
        lines = [ctx._("You take part in the meetings.")]
    lines.append(_next_round_line(ctx))
    last = ctx.db.execute(
        select(MeetingGroupMember.round_id, MeetingGroupMember.group_no)
        .where(MeetingGroupMember.member_id == ctx.member.id)
        .order_by(MeetingGroupMember.round_id.desc())
        .limit(1)
    ).first()
    if last is not None:
        names = ctx.db.scalars(
            select(Member.display_name)
            .join(MeetingGroupMember, MeetingGroupMember.member_id == Member.id)
            .where(
                MeetingGroupMember.round_id == last.round_id,
                MeetingGroupMember.group_no == last.group_no,
                Member.id != ctx.member.id,
            )
        ).all()
        lines.append(ctx._("Last time you met: {names}.", names=", ".join(names)))
    return Reply(text="\n".join(lines), ephemeral=True)


@command(
    "rejoindre",
    "join",
    N_("Joins the rounds of meetings: at each round you are introduced to another member."),
    examples=("/rencontres rejoindre",),
    group="rencontres",
    group_alias="meet",
)
def join(ctx: Context, args: Args) -> Reply:
    if _participant(ctx) is not None:
        raise AlreadyJoined(ctx.t)
    ctx.db.add(
        MeetingParticipant(
            member_id=ctx.member.id, platform=ctx.actor.platform, joined_at=ctx.now()
        )
    )
    return Reply(
        text=ctx._(
            "Welcome to the meetings! At each round I will introduce you privately to another "
            "member. Fill your profile (/profile organisation, territory, interests) so that they "
            "know who you are."
        )
        + "\n"
        + _next_round_line(ctx),
        ephemeral=True,
    )


@command(
    "quitter",
    "leave",
    N_("Leaves the rounds of meetings."),
    examples=("/rencontres quitter",),
    group="rencontres",
    group_alias="meet",
)
def leave(ctx: Context, args: Args) -> Reply:
    participant = _participant(ctx)
    if participant is None:
        raise NotJoined(ctx.t)
    ctx.db.delete(participant)
    return Reply(
        text=ctx._("Done: you no longer take part in the meetings. Come back with /meet join."),
        ephemeral=True,
    )


@command(
    "pause",
    "pause",
    N_("Pauses the meetings for a while (for example 3sem) or until a date."),
    options=[
        Option(
            "duree",
            "duration",
            N_("How long (3sem, 10 jours) or until when (15 janvier)."),
            type=OptionType.TEXT,
            positional=True,
            required=True,
        )
    ],
    examples=("/rencontres pause 3sem", '/rencontres pause "15 janvier"'),
    group="rencontres",
    group_alias="meet",
)
def pause(ctx: Context, args: Args) -> Reply:
    participant = _participant(ctx)
    if participant is None:
        raise NotJoined(ctx.t)
    text: str = args["duree"]
    now = ctx.now()
    try:
        until = now + parse_duration(text)
    except DateParseError:
        until = ctx.read_date(text)
    if until <= now:
        raise MomentInThePast(ctx.t, text=text)
    participant.paused_until = until
    return Reply(
        text=ctx._(
            "Done: no meeting for you until {date}. /meet resume ends the pause sooner.",
            date=ctx.t.datetime(until),
        ),
        ephemeral=True,
    )


@command(
    "reprendre",
    "resume",
    N_("Ends your pause: you are in the next round again."),
    examples=("/rencontres reprendre",),
    group="rencontres",
    group_alias="meet",
)
def resume(ctx: Context, args: Args) -> Reply:
    participant = _participant(ctx)
    if participant is None:
        raise NotJoined(ctx.t)
    participant.paused_until = None
    return Reply(text=ctx._("Done: you are in the next round again."), ephemeral=True)


_WEEKS = re.compile(r"^\s*(\d{1,3})\s*$")


def read_weeks(ctx: Context, text: str | None) -> int:
    """``2sem``, ``2 semaines``, ``2w``, ``2`` as a whole number of weeks (1 to 12)."""
    if text is None:
        return 2
    bare = _WEEKS.match(text)
    if bare:
        weeks = int(bare.group(1))
    else:
        try:
            span = parse_duration(text)
        except DateParseError:
            raise UnreadableInterval(ctx.t, text=text) from None
        if span % timedelta(weeks=1):
            raise UnreadableInterval(ctx.t, text=text)
        weeks = span // timedelta(weeks=1)
    if not 1 <= weeks <= MAX_WEEKS:
        raise IntervalOutOfRange(ctx.t, weeks=weeks)
    return weeks


@command(
    "programmer",
    "schedule",
    N_("Schedules the rounds: the first one, then every few weeks (2 by default)."),
    options=[
        Option(
            "quand",
            "when",
            N_("The first round, for example “lundi 10h”."),
            positional=True,
            required=True,
        ),
        Option("tous-les", "every", N_("How often, for example 2sem (2 weeks).")),
    ],
    permission=Role.COORDINATOR,
    examples=('/rencontres programmer "lundi 10h" --tous-les 2sem',),
    group="rencontres",
    group_alias="meet",
)
def schedule(ctx: Context, args: Args) -> Reply:
    text: str = args["quand"]
    first = ctx.read_date(text)
    if first <= ctx.now():
        raise MomentInThePast(ctx.t, text=text)
    weeks = read_weeks(ctx, args["tous-les"])
    row = _schedule(ctx)
    fallback = None if ctx.place.is_direct else ctx.place.channel_id
    if row is None:
        row = MeetingSchedule(platform=ctx.actor.platform, next_at=first, updated_at=ctx.now())
        ctx.db.add(row)
    row.next_at = first
    row.every_weeks = weeks
    row.fallback_channel_id = fallback
    row.created_by = ctx.member.id
    row.updated_at = ctx.now()
    ctx.changed.add(WORK_NAME)
    joined = len(pool_of(ctx.db, ctx.actor.platform, ctx.now()))
    done = ctx.t.ngettext(
        "Done: the first round is {when}, then every week.",
        "Done: the first round is {when}, then every {n} weeks.",
        weeks,
        when=ctx.t.datetime(first),
    )
    taking_part = ctx.t.ngettext(
        "{n} member takes part so far.", "{n} members take part so far.", joined
    )
    return Reply(text=f"{done} {taking_part}", ephemeral=True)


@command(
    "arreter",
    "stop",
    N_("Stops the scheduled rounds (the members stay in the pool)."),
    permission=Role.COORDINATOR,
    examples=("/rencontres arreter",),
    group="rencontres",
    group_alias="meet",
)
def stop(ctx: Context, args: Args) -> Reply:
    row = _schedule(ctx)
    if row is None:
        return Reply(text=ctx._("No round is scheduled."), ephemeral=True)
    ctx.db.delete(row)
    ctx.changed.add(WORK_NAME)
    return Reply(text=ctx._("Done: no more rounds are scheduled."), ephemeral=True)


@command(
    "lancer",
    "run",
    N_("Holds a round now: every member available is introduced to another."),
    permission=Role.COORDINATOR,
    examples=("/rencontres lancer",),
    group="rencontres",
    group_alias="meet",
)
def run_now(ctx: Context, args: Args) -> Reply:
    held = hold_round(
        ctx.db,
        ctx.actor.platform,
        ctx.now(),
        ctx.translators,
        ctx.settings.network.locale,
        fallback_channel_id=None if ctx.place.is_direct else ctx.place.channel_id,
    )
    if held is None:
        raise NotEnoughMembers(ctx.t, n=len(pool_of(ctx.db, ctx.actor.platform, ctx.now())))
    ctx.changed.update({"outbox", WORK_NAME})
    members = sum(len(g) for g in held.groups)
    return Reply(
        text=ctx.t.ngettext(
            "Round {ref} held: {members} members introduced in {n} group. The check-in is "
            "asked on {date}.",
            "Round {ref} held: {members} members introduced in {n} groups. The check-in is "
            "asked on {date}.",
            len(held.groups),
            ref=ctx.t.ref(held.row.id),
            members=members,
            date=ctx.t.date(held.row.checkin_at),
        ),
        ephemeral=True,
    )


@command(
    "bilan",
    "figures",
    N_("What the rounds gave: rounds, members introduced, check-in answers."),
    permission=Role.COORDINATOR,
    examples=("/rencontres bilan",),
    group="rencontres",
    group_alias="meet",
)
def figures(ctx: Context, args: Args) -> Reply:
    first = ctx.db.scalars(
        select(MeetingRound.held_at).order_by(MeetingRound.held_at).limit(1)
    ).first()
    now = ctx.now()
    found = meeting_figures(ctx.db, first or now, now + timedelta(seconds=1))
    lines = [
        ctx._(
            "**Meetings**: {rounds}, {participants}, {groups}.",
            rounds=ctx.t.ngettext("{n} round", "{n} rounds", found.rounds),
            participants=ctx.t.ngettext(
                "{n} member introduced", "{n} members introduced", found.participants
            ),
            groups=ctx.t.ngettext("{n} group", "{n} groups", found.introductions),
        ),
        ctx._(
            "Check-in: {asked} asked; {met} met, {planned} planned, {not_met} did not meet.",
            asked=found.asked,
            met=found.answers.get("met", 0),
            planned=found.answers.get("planned", 0),
            not_met=found.answers.get("not_met", 0),
        ),
    ]
    return Reply(text="\n".join(lines), ephemeral=True)


@on_choice("meet", r"(?P<round>\d{1,9}):checkin:(?P<answer>" + "|".join(ANSWERS) + ")")
def checkin_choice(ctx: Context, match: re.Match[str]) -> Reply:
    round_id = int(match["round"])
    answer = match["answer"]
    row = record_answer(ctx.db, round_id, ctx.member.id, answer, ctx.now())
    if row is None:
        raise StaleChoice()
    return Reply(
        text=ctx._(
            "Thank you! Recorded: “{answer}”. A click on another button changes it.",
            answer=ctx._(ANSWER_LABELS[answer]),
        ),
        ephemeral=True,
    )
