"""What every member does with polls: /voter (/vote), /sondages (/polls), /sondage resultats,
and the buttons of the poll message and of the private prompts."""

from __future__ import annotations

import re

from bot.context import Context
from bot.core import Reply
from bot.i18n import N_, Translator
from bot.registry import Args, Option, OptionType, StaleChoice, command, on_choice
from bot.storage.polls import AnyPoll, Poll, PollMode
from commands.polls.ballots import (
    ANSWER_MARKS,
    MARK_OF_ANSWER,
    UNMARKED,
    BallotChange,
    SetChoices,
    SetMarks,
    ToggleChoice,
    Withdraw,
    decode_choices,
    decode_marks,
)
from commands.polls.errors import NotVoted, PollClosed, VoteSealed
from commands.polls.history import closed_reply
from commands.polls.parsing import GROUP, GROUP_ALIAS, NUMBER, parse_text_vote
from commands.polls.render import (
    answer_name,
    grade_names,
    option_text,
    participants,
    poll_choices,
    prompt_choices,
    prompt_question,
    quote,
    results_message,
)
from commands.polls.secret import secret_for
from commands.polls.service import VoteOutcome, accepts_votes, cast_vote
from commands.polls.store import (
    current_ballot,
    get_poll,
    has_sealed_vote,
    open_for_vote,
    open_polls,
    poll_definition,
    poll_results,
    voter_count,
)
from commands.polls.work import after_vote


@command(
    "resultats",
    "results",
    N_("Shows the results of a poll (hidden results only once it is closed)."),
    options=[NUMBER],
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/sondage resultats 12",),
)
def results_command(ctx: Context, args: Args) -> Reply:
    poll = get_poll(ctx.db, args["numero"], ctx.t)
    results = poll_results(ctx.db, poll)
    if poll.hidden_results and poll.is_open:
        return Reply(
            text=ctx._(
                "The results of poll {ref} are hidden until it closes. {participants} so far.",
                ref=ctx.t.ref(poll.id),
                participants=participants(ctx.t, results.voters),
            ),
            ephemeral=True,
        )
    reply = results_message(ctx.t, poll, results)
    return Reply(text=reply.text, ephemeral=True)


@command(
    "sondages",
    "polls",
    N_("Lists the open polls of this channel (or the closed ones, with --closed)."),
    options=[
        Option(
            "clos",
            "closed",
            N_("The closed polls, newest first, with their outcome."),
            type=OptionType.FLAG,
        ),
        Option(
            "annee",
            "year",
            N_("With --closed: every poll closed that year."),
            type=OptionType.INTEGER,
        ),
    ],
    examples=("/sondages", "/sondages --clos", "/sondages --clos --annee 2026"),
)
def list_command(ctx: Context, args: Args) -> Reply:
    if args["clos"] or args["annee"] is not None:
        return closed_reply(ctx, args["annee"])
    polls = open_polls(ctx.db, ctx.place)
    if not polls:
        return Reply(
            text=ctx._(
                "No poll is open in #{channel}. Coordinators create one with "
                '/poll "Question?" "Option A" "Option B".',
                channel=ctx.place.name,
            ),
            ephemeral=True,
        )
    lines = [ctx._("**Open polls in #{channel}**", channel=ctx.place.name), ""]
    for poll in polls:
        details = [participants(ctx.t, voter_count(ctx.db, poll))]
        if poll.deadline is not None:
            details.append(ctx._("closes on {date}", date=ctx.t.datetime(poll.deadline)))
        lines.append(f"- **{ctx.t.ref(poll.id)}** — {poll.question} ({', '.join(details)})")
    return Reply(text="\n".join(lines), ephemeral=True)


@command(
    "voter",
    "vote",
    N_("Votes on a poll by typing, where there are no buttons."),
    options=[
        NUMBER,
        Option(
            "choix",
            "choice",
            N_(
                "Option numbers; for a judgment 1=good 2=passable; for dates 1=yes 2=no; or "
                "withdraw. Nothing: shows your vote."
            ),
            positional=True,
            variadic=True,
        ),
    ],
    examples=("/voter 12 2", "/voter 12 1 3", "/voter 12 1=bien 2=passable", "/voter 12 retirer"),
)
def vote_command(ctx: Context, args: Args) -> Reply:
    words: list[str] = args["choix"] or []
    if not words:
        return _show_vote(ctx, get_poll(ctx.db, args["numero"], ctx.t))
    poll = open_for_vote(ctx.db, poll_definition(ctx, args["numero"]), ctx.now(), ctx.t)
    change = parse_text_vote(ctx.t, ctx.translators, poll, words)
    outcome = cast_vote(
        ctx.db,
        poll_id=poll.id,
        member=ctx.member,
        change=change,
        now=ctx.now(),
        secret=secret_for(ctx, poll),
        t=ctx.t,
        opened=poll,
    )
    after_vote(ctx, outcome.poll)
    return _confirmation(ctx.t, outcome)


def _show_vote(ctx: Context, poll: Poll) -> Reply:
    secret = secret_for(ctx, poll)
    content = current_ballot(ctx.db, poll, ctx.member, secret)
    if content is None and has_sealed_vote(ctx.db, poll, ctx.member, secret):
        text = VoteSealed(ctx.t, poll.id).message
    elif content is None:
        text = NotVoted(ctx.t, poll.id).message
    else:
        text = ctx._(
            "Your vote on poll {ref}: {ballot}.",
            ref=ctx.t.ref(poll.id),
            ballot=_ballot_summary(ctx.t, poll, content),
        )
    if not accepts_votes(poll, ctx.now()):
        closed = PollClosed(ctx.t, poll.id).message
        return Reply(text=f"{text}\n{closed}", ephemeral=True)
    question = ctx._("Poll {ref}: {question}", ref=ctx.t.ref(poll.id), question=poll.question)
    return Reply(text=f"{text}\n{question}", choices=poll_choices(ctx.t, poll), ephemeral=True)


@on_choice(
    "poll",
    r"(?P<id>\d{1,9}):(?:"
    r"(?P<verb>vote|pick):(?P<k>\d{1,2})"
    r"|grade:(?P<gk>\d{1,2}):(?P<g>\d)"
    r"|date:(?P<dk>\d{1,2}):(?P<answer>yes|ifneedbe|no)"
    r"|(?P<withdraw>withdraw))",
)
def poll_choice(ctx: Context, match: re.Match[str]) -> Reply:
    number = int(match["id"])
    if match["verb"] == "pick":  # shows a prompt: nothing changes, so nothing is written
        shown = get_poll(ctx.db, number, ctx.t)
        if not accepts_votes(shown, ctx.now()):
            raise PollClosed(ctx.t, shown.id)
        index = _button_index(ctx, shown, match["k"])
        if shown.mode not in (PollMode.JUDGMENT, PollMode.DATES):
            raise StaleChoice(match.string)
        return Reply(
            text=prompt_question(ctx.t, shown, index),
            choices=prompt_choices(ctx.t, shown, index),
            ephemeral=True,
        )
    poll = open_for_vote(ctx.db, poll_definition(ctx, number), ctx.now(), ctx.t)
    change: BallotChange
    chain_from: int | None = None
    if match["withdraw"]:
        change = Withdraw()
    elif match["verb"] == "vote":
        index = _button_index(ctx, poll, match["k"])
        if poll.mode == PollMode.SINGLE:
            change = SetChoices(frozenset({index}))
        elif poll.mode == PollMode.MULTIPLE:
            change = ToggleChoice(index)
        else:
            raise StaleChoice(match.string)
    elif match["gk"] is not None:
        index = _button_index(ctx, poll, match["gk"])
        grade = int(match["g"]) - 1
        if poll.mode != PollMode.JUDGMENT or not 0 <= grade < (poll.scale_size or 7):
            raise StaleChoice(match.string)
        change, chain_from = SetMarks({index: str(grade)}), index
    else:
        index = _button_index(ctx, poll, match["dk"])
        if poll.mode != PollMode.DATES:
            raise StaleChoice(match.string)
        change, chain_from = SetMarks({index: MARK_OF_ANSWER[match["answer"]]}), index
    outcome = cast_vote(
        ctx.db,
        poll_id=poll.id,
        member=ctx.member,
        change=change,
        now=ctx.now(),
        secret=secret_for(ctx, poll),
        t=ctx.t,
        opened=poll,
    )
    after_vote(ctx, outcome.poll)
    return _confirmation(ctx.t, outcome, chain_from=chain_from)


def _button_index(ctx: Context, poll: AnyPoll, raw: str) -> int:
    index = int(raw) - 1
    if not 0 <= index < poll.n_options:
        raise StaleChoice(raw)
    return index


def _ballot_summary(t: Translator, poll: AnyPoll, content: str) -> str:
    if poll.mode in (PollMode.SINGLE, PollMode.MULTIPLE):
        return ", ".join(quote(t, option_text(t, poll.options[i])) for i in decode_choices(content))
    marks = decode_marks(content, poll.n_options)
    parts = []
    for index, mark in enumerate(marks):
        if mark == UNMARKED:
            continue
        value = (
            grade_names(t, poll.scale_size or 7)[int(mark)]
            if poll.mode == PollMode.JUDGMENT
            else answer_name(t, ANSWER_MARKS[mark])
        )
        parts.append(f"{quote(t, option_text(t, poll.options[index]))} → {value}")
    return ", ".join(parts)


def _unmarked(poll: AnyPoll, content: str | None) -> list[int]:
    return [i for i, m in enumerate(decode_marks(content, poll.n_options)) if m == UNMARKED]


def _confirmation(t: Translator, outcome: VoteOutcome, *, chain_from: int | None = None) -> Reply:
    """The private answer to a vote; after a click on a grade or an answer, the prompt for the
    next option not yet answered (``chain_from`` is the option just answered)."""
    poll = outcome.poll
    if outcome.after is None:
        return Reply(
            text=t.gettext("Your vote on poll {ref} is withdrawn.", ref=t.ref(poll.id)),
            ephemeral=True,
        )
    lines = [
        t.gettext(
            "Vote recorded on poll {ref}: {ballot}.",
            ref=t.ref(poll.id),
            ballot=_ballot_summary(t, poll, outcome.after),
        )
    ]
    if poll.mode in (PollMode.SINGLE, PollMode.MULTIPLE):
        return Reply(text="\n".join(lines), ephemeral=True)
    missing = _unmarked(poll, outcome.after)
    if chain_from is not None and missing:
        following = [i for i in missing if i > chain_from] or missing
        lines.append(prompt_question(t, poll, following[0]))
        return Reply(
            text="\n".join(lines), choices=prompt_choices(t, poll, following[0]), ephemeral=True
        )
    if missing and poll.mode == PollMode.JUDGMENT and poll.ungraded_worst:
        worst = grade_names(t, poll.scale_size or 7)[-1]
        names = ", ".join(quote(t, option_text(t, poll.options[i])) for i in missing)
        lines.append(
            t.gettext(
                "Not graded yet: {options} (they count as {worst}).",
                options=names,
                worst=quote(t, worst),
            )
        )
    elif missing and poll.mode == PollMode.JUDGMENT:
        names = ", ".join(quote(t, option_text(t, poll.options[i])) for i in missing)
        lines.append(
            t.gettext(
                "Not graded yet: {options} (an option you do not grade is not counted).",
                options=names,
            )
        )
    elif missing:
        names = ", ".join(quote(t, option_text(t, poll.options[i])) for i in missing)
        lines.append(
            t.gettext("Not answered yet: {options} (shown as not answered).", options=names)
        )
    else:
        lines.append(
            t.gettext("You answered every option; click an option of the poll to change it.")
        )
    return Reply(text="\n".join(lines), ephemeral=True)
