"""Why a poll request is refused: one class per reason, each with its message id.

Each class keeps what its message needs as attributes. It is a :class:`~bot.core.UserError`
whose ``message`` is its ``msgid`` (English, the catalogs' id) translated into the language of
the translator it is given and formatted, so the dispatcher shows it as any other refusal (and
rolls the transaction back). Change a msgid only together with the catalogs.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from bot.core import UserError
from bot.dates import DATE_EXAMPLES_EN, DATE_EXAMPLES_FR, DURATION_EXAMPLES_EN, DURATION_EXAMPLES_FR
from bot.i18n import N_, Translator
from bot.storage.polls import MAX_OPTION, MAX_OPTIONS, MAX_QUESTION
from commands.polls.render import quote


def date_examples(t: Translator) -> str:
    examples = DATE_EXAMPLES_FR if t.locale == "fr" else DATE_EXAMPLES_EN
    return ", ".join(quote(t, example) for example in examples)


def deadline_examples(t: Translator) -> str:
    durations = DURATION_EXAMPLES_FR if t.locale == "fr" else DURATION_EXAMPLES_EN
    dates = DATE_EXAMPLES_FR if t.locale == "fr" else DATE_EXAMPLES_EN
    return ", ".join(quote(t, example) for example in (*durations[:2], *dates[3:5]))


class PollError(UserError):
    """A poll request refused, worded in ``t``'s language."""

    msgid: ClassVar[str]

    def __init__(self, t: Translator, /, **params: object) -> None:
        super().__init__(self._text(t, params))

    def _text(self, t: Translator, params: dict[str, object]) -> str:
        return t.gettext(self.msgid, **params)


class _AboutPoll(PollError):
    """A refusal about poll ``poll_id`` (``{ref}``: ``n° 12``; ``{number}``: ``12``)."""

    def __init__(self, t: Translator, poll_id: int) -> None:
        self.poll_id = poll_id
        super().__init__(t, ref=t.ref(poll_id), number=poll_id)


# --- finding a poll, its state -----------------------------------------------------------------


class NoSuchPoll(_AboutPoll):
    msgid = N_("There is no poll {ref}. Type /polls to see the open polls of this channel.")


class PollClosed(_AboutPoll):
    msgid = N_("Poll {ref} is closed: votes are no longer accepted.")


class AlreadyClosed(_AboutPoll):
    msgid = N_("Poll {ref} is already closed.")


class AlreadyOpen(_AboutPoll):
    msgid = N_("Poll {ref} is already open.")


class NotADatePoll(_AboutPoll):
    msgid = N_("Poll {ref} is not a date poll: create one with /poll ... --dates.")


class NobodyAvailable(_AboutPoll):
    msgid = N_("Nobody can attend any slot of poll {ref} yet.")


# --- who may do what ---------------------------------------------------------------------------


class CoordinatorsCreate(PollError):
    msgid = N_(
        "In this network, polls are created by the coordinators. Ask one of them to create yours."
    )

    def __init__(self, t: Translator) -> None:
        super().__init__(t)


class NotInPrivate(PollError):
    msgid = N_("Create polls in a channel, where members can see them, not in private.")

    def __init__(self, t: Translator) -> None:
        super().__init__(t)


class MayNotClose(_AboutPoll):
    msgid = N_("Only the creator of poll {ref} or a coordinator can close it.")


class MayNotReopen(_AboutPoll):
    msgid = N_("Only the creator of poll {ref} or a coordinator can reopen it.")


# --- creating ----------------------------------------------------------------------------------


class OneKindOnly(PollError):
    msgid = N_("Choose one kind of poll: --multiple, --judgment or --dates, not several.")

    def __init__(self, t: Translator) -> None:
        super().__init__(t)


class EmptyQuestion(PollError):
    msgid = N_(
        'The question is empty. Write it between double quotes: /poll "Which theme?" '
        '"Energy" "Water".'
    )

    def __init__(self, t: Translator) -> None:
        super().__init__(t)


class QuestionTooLong(PollError):
    msgid = N_("The question is too long ({length} characters); keep it under {limit}.")

    def __init__(self, t: Translator, length: int) -> None:
        self.length = length
        super().__init__(t, length=length, limit=MAX_QUESTION)


class TooFewOptions(PollError):
    msgid = N_(
        "A poll needs at least 2 options, each between double quotes, for example: "
        '/poll "Which theme?" "Energy" "Water".'
    )

    def __init__(self, t: Translator) -> None:
        super().__init__(t)


class TooManyOptions(PollError):
    msgid = N_(
        "A poll has at most {limit} options and you gave {count}. Split it into two "
        "polls, or group some options together."
    )

    def __init__(self, t: Translator, count: int) -> None:
        self.count = count
        super().__init__(t, limit=MAX_OPTIONS, count=count)


class EmptyOption(PollError):
    msgid = N_("Option {number} is empty: give it a text.")

    def __init__(self, t: Translator, number: int) -> None:
        self.number = number
        super().__init__(t, number=number)


class OptionTooLong(PollError):
    msgid = N_(
        "Option {number} is too long ({length} characters): each option becomes a "
        "button, so keep it under {limit} characters."
    )

    def __init__(self, t: Translator, number: int, length: int) -> None:
        self.number = number
        self.length = length
        super().__init__(t, number=number, length=length, limit=MAX_OPTION)


class SameOptions(PollError):
    msgid = N_(
        "The options {first} and {second} are the same (ignoring case and accents). "
        "Give each option a different text."
    )

    def __init__(self, t: Translator, first: str, second: str) -> None:
        self.first = first
        self.second = second
        super().__init__(t, first=quote(t, first), second=quote(t, second))


class SameSlot(PollError):
    msgid = N_("The options {first} and {second} are the same slot. Give each slot once.")

    def __init__(self, t: Translator, first: str, second: str) -> None:
        self.first = first
        self.second = second
        super().__init__(t, first=quote(t, first), second=quote(t, second))


class MaxWithoutMultiple(PollError):
    msgid = N_("--max goes with --multiple: add --multiple, or leave out --max.")

    def __init__(self, t: Translator) -> None:
        super().__init__(t)


class MaxOutOfRange(PollError):
    msgid = N_("--max must be between 1 and {count}, the number of options.")

    def __init__(self, t: Translator, count: int) -> None:
        self.count = count
        super().__init__(t, count=count)


class UnreadableDeadline(PollError):
    msgid = N_("I cannot read the deadline {text}. Examples that work: {examples}.")

    def __init__(self, t: Translator, text: str) -> None:
        self.text = text
        super().__init__(t, text=quote(t, text), examples=deadline_examples(t))


class DeadlinePast(PollError):
    msgid = N_(
        "The deadline {date} is already past. Give a moment to come, for example {examples}."
    )

    def __init__(self, t: Translator, deadline: datetime) -> None:
        self.deadline = deadline
        super().__init__(t, date=t.datetime(deadline), examples=deadline_examples(t))


class UnreadableSlot(PollError):
    msgid = N_("I cannot read the date {text} (option {number}). Examples that work: {examples}.")

    def __init__(self, t: Translator, text: str, number: int) -> None:
        self.text = text
        self.number = number
        super().__init__(t, text=quote(t, text), number=number, examples=date_examples(t))


class SlotInThePast(PollError):
    msgid = N_("The slot {text} (option {number}) is in the past. Propose slots to come.")

    def __init__(self, t: Translator, text: str, number: int) -> None:
        self.text = text
        self.number = number
        super().__init__(t, text=quote(t, text), number=number)


# --- voting ------------------------------------------------------------------------------------


class NotAnOption(PollError):
    msgid = N_("Option {value} is not in poll {ref}: give a number from 1 to {count}.")

    def __init__(self, t: Translator, poll_id: int, value: str, count: int) -> None:
        self.poll_id = poll_id
        self.value = value
        self.count = count
        super().__init__(t, value=quote(t, value), ref=t.ref(poll_id), count=count)


class SingleChoiceOnly(_AboutPoll):
    msgid = N_(
        "Poll {ref} is a single-choice poll: choose one option, for example /vote {number} 2."
    )


class TooManyChoices(PollError):
    """A plural message: its two ids are those of the ``ngettext`` call."""

    def __init__(self, t: Translator, poll_id: int, limit: int) -> None:
        self.poll_id = poll_id
        self.limit = limit
        super().__init__(t)

    def _text(self, t: Translator, params: dict[str, object]) -> str:
        return t.ngettext(
            "You can choose at most {n} option in poll {ref}. Click a chosen option again to "
            "remove it first.",
            "You can choose at most {n} options in poll {ref}. Click a chosen option again to "
            "remove it first.",
            self.limit,
            ref=t.ref(self.poll_id),
        )


class NotVoted(_AboutPoll):
    msgid = N_("You have not voted on poll {ref}.")


class VoteSealed(_AboutPoll):
    msgid = N_(
        "Your vote on poll {ref} was sealed when the poll closed and still counts; it can no "
        "longer be changed."
    )


class JudgmentVoteFormat(_AboutPoll):
    msgid = N_(
        "Give each grade as option=grade, for example /vote {number} 1=good 2=passable, or "
        "one grade per option in order."
    )


class DatesVoteFormat(_AboutPoll):
    msgid = N_(
        "Give each answer as slot=answer, for example /vote {number} 1=yes 2=no, or one "
        "answer per slot in order."
    )


class NotAGrade(PollError):
    """Followed by how to give grades (:class:`JudgmentVoteFormat`)."""

    msgid = N_("{value} is not a grade. Grades: {grades} (or their number, 1 being the best).")

    def __init__(self, t: Translator, poll_id: int, value: str, grades: str) -> None:
        self.poll_id = poll_id
        self.value = value
        self.grades = grades
        super().__init__(t, value=quote(t, value), grades=grades)

    def _text(self, t: Translator, params: dict[str, object]) -> str:
        return super()._text(t, params) + "\n" + JudgmentVoteFormat(t, self.poll_id).message


class NotAnAnswer(PollError):
    """Followed by how to give answers (:class:`DatesVoteFormat`)."""

    msgid = N_("{value} is not an answer: use yes, ifneedbe or no.")

    def __init__(self, t: Translator, poll_id: int, value: str) -> None:
        self.poll_id = poll_id
        self.value = value
        super().__init__(t, value=quote(t, value))

    def _text(self, t: Translator, params: dict[str, object]) -> str:
        return super()._text(t, params) + "\n" + DatesVoteFormat(t, self.poll_id).message


class PollYearOutOfRange(PollError):
    msgid = N_("Give a year between {first} and {last}, for example /polls --closed --year {year}.")
