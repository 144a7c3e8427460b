"""Managing polls: /sondage (/poll) creer, clore, rouvrir (the creator or a coordinator) and
export (coordinators). Creating is for coordinators unless ``[polls] creators = "everyone"``."""

from __future__ import annotations

from bot.context import Context
from bot.core import Reply, Role, UserError
from bot.i18n import N_, Translator
from bot.registry import Args, Option, OptionType, command
from bot.storage.polls import Poll, PollMode
from commands.polls.errors import (
    AlreadyClosed,
    AlreadyOpen,
    CoordinatorsCreate,
    DeadlinePast,
    MayNotClose,
    MayNotReopen,
    NotInPrivate,
    OneKindOnly,
)
from commands.polls.export import export_csv
from commands.polls.parsing import GROUP, GROUP_ALIAS, GROUP_HELP, NUMBER, read_deadline
from commands.polls.service import WORK_NAME, close_poll, create_poll, reopen_poll
from commands.polls.store import get_poll


def _public_t(ctx: Context) -> Translator:
    return ctx.translators.get(ctx.settings.network.locale)


def _may_manage(ctx: Context, poll: Poll) -> bool:
    return ctx.actor.is_coordinator or poll.creator_id == ctx.member.id


@command(
    "creer",
    "create",
    N_("Creates a poll in this channel: a question and 2 to 20 options."),
    options=[
        Option(
            "question",
            "question",
            N_("The question, between double quotes."),
            positional=True,
            required=True,
        ),
        Option(
            "options",
            "options",
            N_("The options, each between double quotes (2 to 20)."),
            positional=True,
            variadic=True,
        ),
        Option("multiple", "multiple", N_("Voters may choose several options."), OptionType.FLAG),
        Option(
            "max",
            "max",
            N_("With --multiple: at most this many options per voter."),
            OptionType.INTEGER,
        ),
        Option(
            "jugement",
            "judgment",
            N_("Majority judgment: voters grade every option, from Excellent to To reject."),
            OptionType.FLAG,
        ),
        Option(
            "sans-mention-au-plus-bas",
            "ungraded-lowest",
            N_(
                "With --judgment: an option a voter does not grade counts as the lowest grade "
                "(otherwise it is judged by those who graded it)."
            ),
            OptionType.FLAG,
        ),
        Option(
            "dates",
            "dates",
            N_("Date finding: the options are dates, answered yes, if need be or no."),
            OptionType.FLAG,
        ),
        Option(
            "anonyme",
            "anonymous",
            N_("Nobody, not even the coordinators, can see who voted what."),
            OptionType.FLAG,
        ),
        Option(
            "fin",
            "end",
            N_('When the poll closes by itself, for example 2d or "friday 6pm".'),
        ),
        Option(
            "resultats-caches",
            "hidden-results",
            N_("The counts stay hidden until the poll closes."),
            OptionType.FLAG,
        ),
    ],
    group=GROUP,
    group_alias=GROUP_ALIAS,
    group_help=GROUP_HELP,
    default=True,
    examples=(
        '/sondage "Quel thème pour le prochain webinaire ?" "Sobriété" "Mobilités" "Alimentation"',
        '/sondage "Quels ateliers ?" "Compost" "Vélo" "Énergie" --multiple --max 2 --fin 3j',
        '/sondage "Quel projet soutenir ?" "Jardin partagé" "Repair café" --jugement --anonyme',
        '/sondage "Prochaine journée terrain ?" "jeudi 3 décembre 14h" "4/12 9h" --dates '
        '--fin "vendredi 18h"',
    ),
    reserved_when=lambda settings: settings.polls.creators == "coordinators",
)
def create_command(ctx: Context, args: Args) -> Reply:
    if ctx.settings.polls.creators == "coordinators" and not ctx.actor.is_coordinator:
        raise CoordinatorsCreate(ctx.t)
    if ctx.place.is_direct:
        raise NotInPrivate(ctx.t)
    kinds = [
        mode
        for flag, mode in (
            ("multiple", PollMode.MULTIPLE),
            ("jugement", PollMode.JUDGMENT),
            ("dates", PollMode.DATES),
        )
        if args[flag]
    ]
    if len(kinds) > 1:
        raise OneKindOnly(ctx.t)
    mode = kinds[0] if kinds else PollMode.SINGLE
    now = ctx.now()
    deadline = read_deadline(ctx.t, args["fin"], now)
    poll = create_poll(
        ctx.db,
        creator=ctx.member,
        place=ctx.place,
        question=args["question"],
        options=args["options"] or [],
        mode=mode.value,
        deadline=deadline,
        anonymous=bool(args["anonyme"]),
        now=now,
        max_choices=args["max"],
        hidden_results=bool(args["resultats-caches"]),
        ungraded_worst=bool(args["sans-mention-au-plus-bas"]),
        scale_size=ctx.settings.polls.grades,
        t=ctx.t,
        public_t=_public_t(ctx),
        changed=ctx.changed,
    )
    return Reply(
        text=ctx._(
            "Poll {ref} is posted. Close it with /poll close {number}; see its results with "
            "/poll results {number}.",
            ref=ctx.t.ref(poll.id),
            number=poll.id,
        ),
        ephemeral=True,
    )


@command(
    "clore",
    "close",
    N_("Closes a poll and posts its results (its creator or a coordinator)."),
    options=[NUMBER],
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/sondage clore 12",),
)
def close_command(ctx: Context, args: Args) -> Reply:
    poll = get_poll(ctx.db, args["numero"], ctx.t)
    if not _may_manage(ctx, poll):
        raise MayNotClose(ctx.t, poll.id)
    if not close_poll(ctx.db, poll, now=ctx.now(), public_t=_public_t(ctx)):
        raise AlreadyClosed(ctx.t, poll.id)
    ctx.changed.update({"outbox", WORK_NAME})
    return Reply(
        text=ctx._("Poll {ref} is closed; its results are posted.", ref=ctx.t.ref(poll.id)),
        ephemeral=True,
    )


@command(
    "rouvrir",
    "reopen",
    N_("Reopens a closed poll (its creator or a coordinator)."),
    options=[
        NUMBER,
        Option("fin", "end", N_('A new deadline, for example 2d or "friday 6pm".')),
    ],
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/sondage rouvrir 12", "/sondage rouvrir 12 --fin 2j"),
)
def reopen_command(ctx: Context, args: Args) -> Reply:
    poll = get_poll(ctx.db, args["numero"], ctx.t)
    if not _may_manage(ctx, poll):
        raise MayNotReopen(ctx.t, poll.id)
    if poll.is_open:
        raise AlreadyOpen(ctx.t, poll.id)
    now = ctx.now()
    deadline = read_deadline(ctx.t, args["fin"], now)
    if deadline is not None and deadline <= now:
        raise DeadlinePast(ctx.t, deadline)
    removed = reopen_poll(ctx.db, poll, now=now, deadline=deadline)
    ctx.changed.add(WORK_NAME)
    lines = [ctx._("Poll {ref} is open again.", ref=ctx.t.ref(poll.id))]
    if removed:
        lines.append(ctx._("Its deadline had passed and is removed; give a new one with --end."))
    elif poll.deadline is not None:
        lines.append(ctx._("It closes on {date}.", date=ctx.t.datetime(poll.deadline)))
    return Reply(text="\n".join(lines), ephemeral=True)


@command(
    "export",
    "export",
    N_("Exports the ballots of a poll as a CSV file (without names when it is anonymous)."),
    options=[NUMBER],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/sondage export 12",),
)
def export_command(ctx: Context, args: Args) -> Reply:
    poll = get_poll(ctx.db, args["numero"], ctx.t)
    if poll.hidden_results and poll.is_open:  # hidden means hidden, for coordinators too
        if poll.deadline is not None:
            when = ctx._(
                "They become visible when it closes, on {date}.", date=ctx.t.datetime(poll.deadline)
            )
        else:
            when = ctx._("They become visible when it is closed (/poll close {n}).", n=poll.id)
        raise UserError(
            ctx._(
                "The results of poll {ref} are hidden until it closes: no export before then.",
                ref=ctx.t.ref(poll.id),
            )
            + " "
            + when
        )
    attachment = export_csv(ctx.db, poll, ctx.t)
    return Reply(
        text=ctx._("The ballots of poll {ref}, as a spreadsheet file.", ref=ctx.t.ref(poll.id)),
        attachments=(attachment,),
        ephemeral=True,
    )
