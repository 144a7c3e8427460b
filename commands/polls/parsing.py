"""Reading what people type: the poll number option, deadlines, date slots, votes as text.

Voting by text (platforms without buttons)
    ``/voter 12 2`` (single choice); ``/voter 12 1 3`` (multiple choice: the whole selection);
    ``/voter 12 1=bien 2=passable`` or ``/voter 12 bien passable ...`` (majority judgment; grades
    by name in French or English, accents and spaces ignored, or by number, 1 = the best);
    ``/voter 12 1=oui 2=non 3=si-necessaire`` or ``/voter 12 oui non ...`` (dates; also
    yes/ifneedbe/no, o/n, ?); ``/voter 12 retirer`` withdraws; ``/voter 12`` alone shows your
    current vote with the buttons. Options may be given by number or by their exact text.
    Pairs update the options they name and keep the others.

Date slots are read in the asker's time zone; a date typed without a time is a whole-day slot.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from datetime import datetime, time, timedelta

from bot.dates import DateParseError, parse_datetime, parse_deadline
from bot.i18n import N_, Translator, Translators, fold
from bot.registry import Option, OptionType
from bot.storage.polls import AnyPoll, PollMode
from bot.vocabulary import Vocabulary, merge_phrases
from commands.polls.ballots import BallotChange, SetChoices, SetMarks, Withdraw
from commands.polls.errors import (
    DatesVoteFormat,
    JudgmentVoteFormat,
    NotAGrade,
    NotAnAnswer,
    NotAnOption,
    PollError,
    SingleChoiceOnly,
    SlotInThePast,
    UnreadableDeadline,
    UnreadableSlot,
)
from commands.polls.render import answer_name, grade_names, option_text
from commands.polls.tally import grade_scale

GROUP = "sondage"
GROUP_ALIAS = "poll"
GROUP_HELP = N_("Polls: quick decisions, date finding and majority judgment.")
NUMBER = Option(
    "numero",
    "number",
    N_("The poll number, for example 12."),
    type=OptionType.INTEGER,
    positional=True,
    required=True,
)


def same_text(text: str) -> str:
    return " ".join(fold(text).split())


def read_deadline(t: Translator, text: str | None, now: datetime) -> datetime | None:
    """``--fin``: a duration or a moment; None when not given; refused with examples."""
    if not text:
        return None
    try:
        return parse_deadline(text, now=now, tz=t.tz)
    except DateParseError:
        raise UnreadableDeadline(t, text) from None


def parse_slot(text: str, number: int, *, now: datetime, t: Translator) -> tuple[datetime, bool]:
    """A date-poll option: its start (UTC) and whether it is a whole day (typed without a time)."""
    try:
        at_midnight = parse_datetime(text, now=now, tz=t.tz, default_time=time(0, 0))
        at_noon = parse_datetime(text, now=now, tz=t.tz, default_time=time(12, 0))
    except DateParseError:
        raise UnreadableSlot(t, text, number) from None
    all_day = at_midnight != at_noon
    end = at_midnight + timedelta(days=1) if all_day else at_midnight
    if end <= now:
        raise SlotInThePast(t, text, number)
    return at_midnight, all_day


_WITHDRAW_WORDS = {"retirer", "withdraw", "retrait"}
_ANSWER_FORMS: dict[str, tuple[str, ...]] = {
    "y": ("oui", "yes", "o", "y", "ok", "d'accord"),
    "m": ("si nécessaire", "si besoin", "if need be", "ifneedbe", "maybe", "peut-être", "?"),
    "n": ("non", "no", "n"),
}
_ANSWERS = {"y": "yes", "m": "ifneedbe", "n": "no"}


@functools.lru_cache(maxsize=8)
def answer_words(translators: Translators) -> Vocabulary:
    """The one table of date-poll answers: the forms above and the labels of the buttons in
    every language ("Si nécessaire"), spaces, hyphens and accents ignored."""
    forms = {mark: list(more) for mark, more in _ANSWER_FORMS.items()}
    for locale in ("en", "fr"):
        for mark, answer in _ANSWERS.items():
            forms[mark].append(answer_name(translators.get(locale), answer))
    return Vocabulary(forms, typed_canonical=False)


def _grade_words(poll: AnyPoll, translators: Translators) -> Vocabulary:
    return _grade_vocabulary(translators, poll.scale_size or 7)


@functools.lru_cache(maxsize=32)
def _grade_vocabulary(translators: Translators, size: int) -> Vocabulary:
    """Grade words (French and English names as on the buttons, numbers) -> grade index, built
    once per scale (the catalogs do not change while the bot runs)."""
    forms: dict[str, list[str]] = {str(index): [str(index + 1)] for index in range(size)}
    for locale in ("en", "fr"):
        for index, name in enumerate(grade_names(translators.get(locale), size)):
            forms[str(index)].append(name)
    if grade_scale(size)[-1] == "To reject":
        forms[str(size - 1)].extend(("rejeter", "reject"))
    return Vocabulary(forms, typed_canonical=False)


def _option_index(t: Translator, poll: AnyPoll, word: str) -> int:
    match = re.fullmatch(r"(?:n[°o]\s*|#)?(\d{1,3})", word.strip(), re.IGNORECASE)
    if match and 1 <= int(match.group(1)) <= poll.n_options:
        return int(match.group(1)) - 1
    wanted = same_text(word)
    for option in poll.options:
        if same_text(option.label) == wanted or same_text(option_text(t, option)) == wanted:
            return option.position
    raise NotAnOption(t, poll.id, word, poll.n_options)


def parse_text_vote(
    t: Translator, translators: Translators, poll: AnyPoll, words: Sequence[str]
) -> BallotChange:
    """What ``/voter N words...`` asks for (see the module docstring for the syntax)."""
    if len(words) == 1 and fold(words[0]) in _WITHDRAW_WORDS:
        return Withdraw()
    if poll.mode == PollMode.SINGLE:
        if len(words) != 1:
            try:  # an option's text typed without quotes
                return SetChoices(frozenset({_option_index(t, poll, " ".join(words))}))
            except NotAnOption:
                raise SingleChoiceOnly(t, poll.id) from None
        return SetChoices(frozenset({_option_index(t, poll, words[0])}))
    if poll.mode == PollMode.MULTIPLE:
        return SetChoices(frozenset(_option_index(t, poll, word) for word in words))
    unreadable: type[JudgmentVoteFormat | DatesVoteFormat]
    if poll.mode == PollMode.JUDGMENT:
        vocabulary = _grade_words(poll, translators)
        grades = ", ".join(grade_names(t, poll.scale_size or 7))
        unreadable = JudgmentVoteFormat

        def problem(value: str) -> PollError:
            return NotAGrade(t, poll.id, value, grades)

    else:
        vocabulary = answer_words(translators)
        unreadable = DatesVoteFormat

        def problem(value: str) -> PollError:
            return NotAnAnswer(t, poll.id, value)

    words = merge_phrases(words, vocabulary.__contains__)  # "si nécessaire", "1=très bien"
    pairs = [word.partition("=") for word in words]
    with_equals = [sep == "=" for _, sep, _ in pairs]
    if any(with_equals) and not all(with_equals):
        raise unreadable(t, poll.id)
    if not any(with_equals) and len(words) > poll.n_options:
        raise unreadable(t, poll.id)
    marks: dict[int, str] = {}
    for position, (left, sep, right) in enumerate(pairs):
        index = _option_index(t, poll, left) if sep else position
        value = right if sep else left
        mark = vocabulary.get(value)
        if mark is None:
            raise problem(value)
        marks[index] = mark
    return SetMarks(marks)
