"""How polls look in a chat: the live poll message, results, and the private vote prompts.

Pure functions of a poll (with its options), its :class:`PollResults` and a translator: no
database, no clock. The public poll message and the results posted at close are written in the
network's language; prompts and confirmations in the voter's.

Choice actions (what a button sends back, handled by :mod:`commands.polls.member_handlers`);
numbers are the ones people see (option 1 is the first option, grade 1 the best grade):

- ``poll:<id>:vote:<k>``: single choice: vote for option k; multiple choice: add or remove it;
- ``poll:<id>:pick:<k>``: majority judgment and date polls: open the private prompt for option k;
- ``poll:<id>:grade:<k>:<g>``: give grade g to option k (majority judgment);
- ``poll:<id>:date:<k>:<yes|ifneedbe|no>``: answer for slot k (date polls);
- ``poll:<id>:withdraw``: withdraw one's vote.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core import Choice, ChoiceStyle, Reply
from bot.i18n import Translator
from bot.storage.polls import AnyOption, AnyPoll, PollMode
from commands.polls.tally import (
    GRADE_SYMBOLS,
    ChoiceResult,
    DateAnswer,
    DateResult,
    MJResult,
    PollResults,
    bar,
    grade_scale,
    profile_bar,
)

BAR_WIDTH = 10
PROFILE_WIDTH = 14
DATE_ANSWERS: tuple[DateAnswer, ...] = ("yes", "ifneedbe", "no")


# --- small pieces ----------------------------------------------------------------------------


def option_text(t: Translator, option: AnyOption) -> str:
    """An option as people read it: its label, or its slot in the reader's language."""
    if option.starts_at is None:
        return option.label
    if option.all_day:
        return t.date(option.starts_at)
    return t.datetime(option.starts_at, "long")


def grade_names(t: Translator, scale_size: int) -> list[str]:
    """The grades of a scale, best first, translated."""
    return [t.gettext(grade) for grade in grade_scale(scale_size)]


def answer_name(t: Translator, answer: str) -> str:
    names = {"yes": t.gettext("Yes"), "ifneedbe": t.gettext("If need be"), "no": t.gettext("No")}
    return names[answer]


def participants(t: Translator, voters: int) -> str:
    return t.ngettext("{n} participant", "{n} participants", voters)


def header(t: Translator, poll: AnyPoll) -> str:
    return t.gettext("📊 **Poll {ref}: {question}**", ref=t.ref(poll.id), question=poll.question)


def mode_line(t: Translator, poll: AnyPoll) -> str:
    """What kind of poll it is, and its state, on one line."""
    if poll.mode == PollMode.MULTIPLE:
        if poll.max_choices:
            kind = t.gettext("Multiple choice, up to {max}", max=poll.max_choices)
        else:
            kind = t.gettext("Multiple choice")
    elif poll.mode == PollMode.JUDGMENT:
        kind = t.gettext("Majority judgment")
    elif poll.mode == PollMode.DATES:
        kind = t.gettext("Date finding")
    else:
        kind = t.gettext("Single choice")
    parts = [kind]
    if poll.anonymous:
        parts.append(t.gettext("Anonymous"))
    if poll.hidden_results and poll.is_open:
        parts.append(t.gettext("Results hidden until it closes"))
    if poll.closed_at is not None:
        parts.append(t.gettext("Closed on {date}", date=t.datetime(poll.closed_at)))
    elif poll.deadline is not None:
        parts.append(t.gettext("Closes on {date}", date=t.datetime(poll.deadline)))
    return "*" + " · ".join(parts) + "*"


def quote(t: Translator, text: str) -> str:
    """``text`` between the reader's quotation marks (“…” in English, « … » in French)."""
    return t.gettext("“{text}”", text=text)


def _names(t: Translator, poll: AnyPoll, indexes: Sequence[int]) -> str:
    return ", ".join(quote(t, option_text(t, poll.options[i])) for i in indexes)


# --- results ---------------------------------------------------------------------------------


def results_lines(t: Translator, poll: AnyPoll, results: PollResults, *, final: bool) -> list[str]:
    """One line per option (plus a legend for judgments and dates).

    Single and multiple choice, and date polls, keep the options' order (so that their numbers are
    the ones to vote with); a closed majority judgment is listed by rank.
    """
    if results.choices is not None:
        return _choice_lines(t, poll, results.choices, final=final)
    if results.judgment is not None:
        return _judgment_lines(t, poll, results.judgment, final=final)
    assert results.dates is not None
    return _date_lines(t, poll, results.dates, final=final)


def _choice_lines(t: Translator, poll: AnyPoll, result: ChoiceResult, *, final: bool) -> list[str]:
    lines = []
    for count in result.counts:
        mark = " 🏆" if final and count.option in result.winners else ""
        votes = t.ngettext(
            "{n} vote ({percent}%)",
            "{n} votes ({percent}%)",
            count.votes,
            percent=round(count.share * 100),
        )
        label = option_text(t, poll.options[count.option])
        lines.append(
            f"**{count.option + 1}.** {label}{mark} — {bar(count.share, BAR_WIDTH)} {votes}"
        )
    if poll.mode == PollMode.MULTIPLE and result.voters:
        lines.append(t.gettext("Shares are of participants: each may choose several options."))
    return lines


def _judgment_lines(t: Translator, poll: AnyPoll, result: MJResult, *, final: bool) -> list[str]:
    names = grade_names(t, result.scale_size)
    entries = sorted(result.options, key=lambda o: o.option) if not final else result.options
    lines = []
    for entry in entries:
        label = option_text(t, poll.options[entry.option])
        number = entry.rank if final else entry.option + 1
        mark = " 🏆" if final and entry.rank == 1 and result.voters else ""
        ungraded = f" · ❔ {entry.ungraded}" if entry.ungraded else ""
        if entry.majority_grade is None:
            lines.append(f"**{number}.** {label}{ungraded}")
            continue
        grade = names[entry.majority_grade]
        profile = profile_bar(entry.profile, PROFILE_WIDTH)
        lines.append(f"**{number}.** {label}{mark} — **{grade}** {profile}{ungraded}")
    if result.voters:
        legend = " · ".join(
            f"{GRADE_SYMBOLS[msgid]} {t.gettext(msgid)}" for msgid in grade_scale(result.scale_size)
        )
        lines.append(legend)
    if any(entry.ungraded for entry in result.options):
        lines.append(ungraded_rule(t, poll))
    return lines


def ungraded_rule(t: Translator, poll: AnyPoll) -> str:
    """How a majority-judgment poll counts an option a voter has not graded (❔)."""
    if poll.ungraded_worst:
        worst = grade_names(t, poll.scale_size or 7)[-1]
        return t.gettext("❔ not graded: counted as {worst}", worst=quote(t, worst))
    return t.gettext("❔ not graded: not counted, each option is judged by those who graded it")


def _date_lines(t: Translator, poll: AnyPoll, result: DateResult, *, final: bool) -> list[str]:
    lines = []
    for slot in sorted(result.slots, key=lambda s: s.option):
        mark = " ⭐" if slot.option in result.best else ""
        label = option_text(t, poll.options[slot.option])
        unanswered = f" · ❔ {slot.unanswered}" if slot.unanswered else ""
        lines.append(
            f"**{slot.option + 1}.** {label}{mark} — ✅ {slot.yes} · 🤔 {slot.ifneedbe} · "
            f"❌ {slot.no}{unanswered}"
        )
    if any(slot.unanswered for slot in result.slots):
        lines.append(t.gettext("✅ yes · 🤔 if need be · ❌ no · ❔ not answered yet"))
    else:
        lines.append(t.gettext("✅ yes · 🤔 if need be · ❌ no"))
    return lines


def outcome_line(t: Translator, poll: AnyPoll, results: PollResults, *, final: bool) -> str | None:
    """Who leads (open) or won (closed); None when nobody voted."""
    if results.voters == 0:
        return None
    if results.choices is not None:
        winners: Sequence[int] = results.choices.winners
    elif results.judgment is not None:
        winners = [o.option for o in results.judgment.options if o.rank == 1]
    else:
        assert results.dates is not None
        best = results.dates.best
        if not best:
            return t.gettext("Nobody is available on any of the proposed slots.")
        if final:
            return t.ngettext(
                "Best slot: {slots}",
                "Best slots, tied: {slots}",
                len(best),
                slots=_names(t, poll, best),
            )
        return t.ngettext(
            "Best slot so far: {slots}",
            "Best slots so far, tied: {slots}",
            len(best),
            slots=_names(t, poll, best),
        )
    if len(winners) > 1:
        return t.gettext("Tie between {options}", options=_names(t, poll, winners))
    if final:
        return t.gettext("Chosen: {option}", option=_names(t, poll, winners))
    return t.gettext("Leading: {option}", option=_names(t, poll, winners))


# --- messages --------------------------------------------------------------------------------


def how_to_vote(t: Translator, poll: AnyPoll) -> str:
    if poll.mode == PollMode.SINGLE:
        return t.gettext(
            "Vote with the buttons, or type /vote {number} followed by the option number.",
            number=poll.id,
        )
    if poll.mode == PollMode.MULTIPLE:
        return t.gettext(
            "Click each option you choose (click again to remove it), or type "
            "/vote {number} 1 3 with the option numbers.",
            number=poll.id,
        )
    if poll.mode == PollMode.JUDGMENT:
        worst = grade_names(t, poll.scale_size or 7)[-1]
        if poll.ungraded_worst:
            return t.gettext(
                "Click each option to grade it, or type /vote {number} 1=good 2=passable ... "
                "An option you do not grade counts as “{worst}”.",
                number=poll.id,
                worst=worst,
            )
        return t.gettext(
            "Click each option to grade it, or type /vote {number} 1=good 2=passable ... "
            "An option you do not grade is not counted: it is judged by those who graded it.",
            number=poll.id,
        )
    return t.gettext(
        "Click each slot to answer yes, if need be or no, or type /vote {number} 1=yes 2=no ...",
        number=poll.id,
    )


def poll_choices(t: Translator, poll: AnyPoll) -> tuple[Choice, ...]:
    """The buttons under an open poll message (none once closed)."""
    if not poll.is_open:
        return ()
    verb = "vote" if poll.mode in (PollMode.SINGLE, PollMode.MULTIPLE) else "pick"
    choices = [
        Choice(
            label=option_text(t, option),
            action=f"poll:{poll.id}:{verb}:{option.position + 1}",
            style=ChoiceStyle.PRIMARY,
        )
        for option in poll.options
    ]
    choices.append(
        Choice(
            label=t.gettext("Withdraw my vote"),
            action=f"poll:{poll.id}:withdraw",
            style=ChoiceStyle.DANGER,
        )
    )
    return tuple(choices)


def poll_message(t: Translator, poll: AnyPoll, results: PollResults) -> Reply:
    """The poll message: question, live (or final) results, and the buttons while open."""
    lines = [header(t, poll), mode_line(t, poll), ""]
    hidden = poll.hidden_results and poll.is_open
    if hidden:
        lines.extend(f"**{o.position + 1}.** {option_text(t, o)}" for o in poll.options)
        lines.append("")
        lines.append(t.gettext("Results are hidden until the poll closes."))
    else:
        lines.extend(results_lines(t, poll, results, final=not poll.is_open))
        lines.append("")
    summary = participants(t, results.voters)
    outcome = None if hidden else outcome_line(t, poll, results, final=not poll.is_open)
    lines.append(f"{summary} · {outcome}" if outcome else summary)
    if poll.is_open:
        lines.append(how_to_vote(t, poll))
    return Reply(text="\n".join(lines), choices=poll_choices(t, poll))


def results_message(t: Translator, poll: AnyPoll, results: PollResults) -> Reply:
    """The results of a poll (posted when it closes, and shown by ``/sondage resultats``)."""
    final = not poll.is_open
    title = (
        t.gettext(
            "📊 **Results of poll {ref}: {question}**", ref=t.ref(poll.id), question=poll.question
        )
        if final
        else t.gettext(
            "📊 **Results so far of poll {ref}: {question}**",
            ref=t.ref(poll.id),
            question=poll.question,
        )
    )
    lines = [title, mode_line(t, poll), ""]
    lines.extend(results_lines(t, poll, results, final=final))
    lines.append("")
    lines.append(participants(t, results.voters))
    outcome = outcome_line(t, poll, results, final=final)
    if outcome:
        lines.append(outcome)
    return Reply(text="\n".join(lines))


# --- private prompts -------------------------------------------------------------------------


def prompt_choices(t: Translator, poll: AnyPoll, position: int) -> tuple[Choice, ...]:
    """The grades (majority judgment) or answers (date poll) offered for one option."""
    k = position + 1
    if poll.mode == PollMode.JUDGMENT:
        return tuple(
            Choice(label=name, action=f"poll:{poll.id}:grade:{k}:{g}")
            for g, name in enumerate(grade_names(t, poll.scale_size or 7), start=1)
        )
    styles = {
        "yes": ChoiceStyle.SUCCESS,
        "ifneedbe": ChoiceStyle.SECONDARY,
        "no": ChoiceStyle.DANGER,
    }
    return tuple(
        Choice(
            label=answer_name(t, answer),
            action=f"poll:{poll.id}:date:{k}:{answer}",
            style=styles[answer],
        )
        for answer in DATE_ANSWERS
    )


def prompt_question(t: Translator, poll: AnyPoll, position: int) -> str:
    option = option_text(t, poll.options[position])
    if poll.mode == PollMode.JUDGMENT:
        return t.gettext(
            "Poll {ref}: which grade do you give to {option}?",
            ref=t.ref(poll.id),
            option=quote(t, option),
        )
    return t.gettext(
        "Poll {ref}: are you available on {option}?", ref=t.ref(poll.id), option=quote(t, option)
    )
