"""Ballots: what a vote changes, how a ballot is stored as text, and how stored ballots count.

A ballot's ``content`` is text: the option indexes chosen, comma-separated (``"0,2"``, single and
multiple choice), or one mark per option (majority judgment: the grade index, ``"0"`` the best;
dates: ``y``, ``m`` for "if need be", ``n``), ``-`` for an option not marked yet. Majority
judgment: an option a voter leaves ungraded is shown as ungraded, and counts as the lowest grade
(Balinski and Laraki's rule) only when the poll says so (``Poll.ungraded_worst``). Date polls: an
unanswered slot is shown as unanswered, never as a "no".
"""

from __future__ import annotations

import itertools
import operator
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from bot.core import InvalidValue
from bot.i18n import Translator
from bot.storage.polls import AnyPoll, Poll, PollMode
from commands.polls.errors import NotAnOption, SingleChoiceOnly, TooManyChoices
from commands.polls.tally import DateAnswer, PollResults, rank_profiles, rank_slots, tally_choices

_Ballot = TypeVar("_Ballot")

ANSWER_MARKS: dict[str, DateAnswer] = {"y": "yes", "m": "ifneedbe", "n": "no"}
MARK_OF_ANSWER: dict[str, str] = {answer: mark for mark, answer in ANSWER_MARKS.items()}
UNMARKED = "-"


@dataclass(frozen=True, slots=True)
class SetChoices:
    """Single or multiple choice: the ballot becomes exactly these option indexes."""

    options: frozenset[int]


@dataclass(frozen=True, slots=True)
class ToggleChoice:
    """Multiple choice: add the option to the ballot, or remove it if it is there."""

    option: int


@dataclass(frozen=True, slots=True)
class SetMarks:
    """Majority judgment or dates: option index -> grade index (``"0"`` best) or ``y``/``m``/``n``;
    the options not named keep their mark."""

    marks: Mapping[int, str]


@dataclass(frozen=True, slots=True)
class Withdraw:
    """Remove the voter's ballot."""


BallotChange = SetChoices | ToggleChoice | SetMarks | Withdraw


def decode_choices(content: str) -> tuple[int, ...]:
    return tuple(int(part) for part in content.split(",")) if content else ()


def encode_choices(options: frozenset[int] | set[int]) -> str | None:
    return ",".join(str(i) for i in sorted(options)) or None


def decode_marks(content: str | None, n_options: int) -> list[str]:
    marks = list(content or "")
    return marks + [UNMARKED] * (n_options - len(marks))


def encode_marks(marks: Sequence[str]) -> str | None:
    return None if all(mark == UNMARKED for mark in marks) else "".join(marks)


def check_change(t: Translator, poll: AnyPoll, change: BallotChange) -> None:
    choice_modes = (PollMode.SINGLE, PollMode.MULTIPLE)
    indexes: list[int] = []
    if isinstance(change, SetChoices | ToggleChoice):
        if poll.mode not in choice_modes:
            raise InvalidValue(f"{type(change).__name__} on a {poll.mode} poll")
        indexes = list(change.options) if isinstance(change, SetChoices) else [change.option]
    elif isinstance(change, SetMarks):
        if poll.mode in choice_modes:
            raise InvalidValue(f"marks on a {poll.mode} poll")
        indexes = list(change.marks)
        if poll.mode == PollMode.JUDGMENT:
            allowed = {str(g) for g in range(poll.scale_size or 7)}
        else:
            allowed = set(ANSWER_MARKS)
        if not set(change.marks.values()) <= allowed:
            raise InvalidValue(f"bad marks {dict(change.marks)!r} for a {poll.mode} poll")
    for index in indexes:
        if not 0 <= index < poll.n_options:
            raise NotAnOption(t, poll.id, str(index + 1), poll.n_options)


def apply_change(
    t: Translator, poll: AnyPoll, before: str | None, change: BallotChange
) -> str | None:
    if isinstance(change, Withdraw):
        return None
    if isinstance(change, SetChoices | ToggleChoice):
        if isinstance(change, SetChoices):
            chosen = set(change.options)
        else:
            chosen = set(decode_choices(before or ""))
            chosen.symmetric_difference_update({change.option})
        if poll.mode == PollMode.SINGLE and len(chosen) > 1:
            raise SingleChoiceOnly(t, poll.id)
        if poll.max_choices is not None and len(chosen) > poll.max_choices:
            raise TooManyChoices(t, poll.id, poll.max_choices or poll.n_options)
        return encode_choices(chosen)
    marks = decode_marks(before, poll.n_options)
    for index, mark in change.marks.items():
        marks[index] = mark
    return encode_marks(marks)


def tally_contents(poll: Poll, contents: Iterable[str] | Mapping[str, int]) -> PollResults:
    """Count stored ballot contents with :mod:`commands.polls.tally`.

    ``contents`` lists ballot contents, or maps each distinct content to how many ballots hold
    it (what :func:`commands.polls.store.poll_results` reads: each distinct ballot is decoded
    once). Majority judgment and date ballots are counted per option straight from their marks
    (:func:`_count_marks`, no decoded ballot), then ranked. A malformed content raises
    ValueError.
    """
    counted = contents if isinstance(contents, Mapping) else Counter(contents)
    n = poll.n_options
    if poll.mode in (PollMode.SINGLE, PollMode.MULTIPLE):
        choices = tally_choices(_expand(counted, decode_choices), n)
        return PollResults(voters=choices.voters, choices=choices)
    if poll.mode == PollMode.JUDGMENT:
        scale = poll.scale_size or 7
        # One column per grade, then the ungraded: counted as the worst grade only when the poll
        # says so (``ungraded_worst``), always shown as ungraded.
        columns = {str(g): g for g in range(scale)} | {UNMARKED: scale}
        counts, voters = _count_marks(counted, n, columns, scale + 1)
        as_worst = poll.ungraded_worst
        ungraded = [row[scale] for row in counts]
        profiles = [row[:scale] for row in counts]
        if as_worst:
            for row, missing in zip(profiles, ungraded, strict=True):
                row[scale - 1] += missing
        judgment = rank_profiles(
            profiles, scale, voters=voters, ungraded=ungraded, ungraded_as_worst=as_worst
        )
        return PollResults(voters=voters, judgment=judgment)
    # Dates: column 0 "yes", 1 "if need be", 2 "no", 3 not answered (not a "no").
    counts, voters = _count_marks(counted, n, {"y": 0, "m": 1, "n": 2, UNMARKED: 3}, 4)
    dates = rank_slots(
        [c[0] for c in counts], [c[1] for c in counts], voters, no=[c[2] for c in counts]
    )
    return PollResults(voters=voters, dates=dates)


def _count_marks(
    counted: Mapping[str, int], n_options: int, columns: Mapping[str, int], width: int
) -> tuple[list[list[int]], int]:
    """Per option, how many ballots put each mark (``columns`` maps a mark to its column; an
    option beyond a shorter content counts as unmarked), and the number of voters. A content
    of only unmarked options is a withdrawn vote (not counted).

    The ballots, each repeated as often as it was cast, are joined into one string whose slices
    ``[k::n_options]`` are the marks given to option k, counted with ``str.count``: no Python
    loop over the ballots, so thousands of distinct ballots cost about a millisecond."""
    counts = [[0] * width for _ in range(n_options)]
    if not counted:
        return counts, 0
    if max(map(len, counted)) > n_options or min(counted.values()) < 0:
        raise InvalidValue(f"malformed ballots for {n_options} options: {dict(counted)!r}")
    if min(map(len, counted)) < n_options or UNMARKED * n_options in counted:
        padded: Counter[str] = Counter()
        for content, number in counted.items():
            if content.strip(UNMARKED):  # else withdrawn (such ballots are deleted, in fact)
                padded[content.ljust(n_options, UNMARKED)] += number
        counted = padded
    joined = "".join(map(operator.mul, counted, counted.values()))
    voters = len(joined) // n_options if n_options else sum(counted.values())
    for position, row in enumerate(counts):
        marks = joined[position::n_options]
        found = 0
        for mark, column in columns.items():
            number = marks.count(mark)
            row[column] += number
            found += number
        if found != voters:
            raise InvalidValue(f"unknown mark in the ballots for option {position}")
    return counts, voters


def _expand(counted: Mapping[str, int], decode: Callable[[str], _Ballot]) -> Iterator[_Ballot]:
    """Each distinct ballot decoded once, repeated as many times as it was cast."""
    return itertools.chain.from_iterable(
        itertools.repeat(decode(content), count) for content, count in counted.items()
    )
