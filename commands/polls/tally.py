"""Pure counting logic of polls: no database, no chat, no clock.

Four kinds of poll are counted here, each from plain ballots handed over by the storage layer:

- **single and multiple choice** (:func:`tally_choices`): a ballot lists the indexes of the options
  the voter chose;
- **majority judgment** (:func:`tally_majority_judgment`): a ballot gives one grade per option,
  0 being the best grade of the scale;
- **date finding** (:func:`tally_dates`): a ballot maps option indexes to ``"yes"``,
  ``"ifneedbe"`` or ``"no"``.

Text bars for chat messages (:func:`bar`, :func:`profile_bar`) complete the module.

Conventions shared by every tally:

- options are numbered ``0 .. n_options - 1``;
- **an empty ballot is a withdrawn vote**: a ballot that selects, grades or answers nothing is
  skipped and does not count as a voter (a voter who clears their choices has taken their vote
  back; a voter who wants to be counted as unavailable answers "no" explicitly);
- a malformed ballot (index out of range, duplicate option, unknown grade or answer) raises
  :class:`ValueError`: ballots come from our own storage, so this is a programming error, never a
  user error, and nothing is silently dropped;
- results are frozen dataclasses; "rank" is the standard competition rank (1, 2, 2, 4): tied
  options share a rank and the next rank skips accordingly.

Majority judgment follows Balinski and Laraki ("Majority Judgment: Measuring, Ranking, and
Electing", MIT Press, 2011). The ranking is exact and costs O(number of grades) per comparison,
computed from the per-grade counts (the "merit profile") without materialising one grade per voter;
see :func:`compare_profiles` for the reasoning.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cmp_to_key
from typing import Literal, get_args

from bot.core import InvalidValue
from bot.i18n import N_

__all__ = [
    "GRADES_7",
    "GRADE_SYMBOLS",
    "ChoiceResult",
    "DateAnswer",
    "DateResult",
    "MJOption",
    "MJResult",
    "OptionCount",
    "PollResults",
    "SlotCount",
    "bar",
    "compare_profiles",
    "compare_unequal_profiles",
    "grade_scale",
    "majority_grade",
    "profile_bar",
    "rank_profiles",
    "rank_slots",
    "tally_choices",
    "tally_dates",
    "tally_majority_judgment",
]

# ---------------------------------------------------------------------------------------------
# Grade scales
# ---------------------------------------------------------------------------------------------

#: The seven grades of majority judgment, best first, as English msgids (French catalog:
#: Excellent, Très bien, Bien, Assez bien, Passable, Insuffisant, À rejeter).
GRADES_7: tuple[str, ...] = (
    N_("Excellent"),
    N_("Very good"),
    N_("Good"),
    N_("Fairly good"),
    N_("Passable"),
    N_("Insufficient"),
    N_("To reject"),
)

_SCALES: dict[int, tuple[str, ...]] = {
    7: GRADES_7,
    6: GRADES_7[:6],  # Excellent .. Insufficient
    5: GRADES_7[1:6],  # Very good .. Insufficient
}

#: One symbol per grade msgid, used by :func:`profile_bar` by default. A grade keeps its symbol
#: whatever the size of the scale, so that bars of different polls read the same way. Each symbol
#: is a single code point with emoji presentation.
GRADE_SYMBOLS: Mapping[str, str] = {
    "Excellent": "🟦",
    "Very good": "🟩",
    "Good": "🟢",
    "Fairly good": "🟨",
    "Passable": "🟧",
    "Insufficient": "🟥",
    "To reject": "⬛",
}

#: Fallback symbols for a profile whose size has no named scale: letters, best grade first.
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def grade_scale(size: int) -> tuple[str, ...]:
    """The grade msgids of a scale of ``size`` grades (5, 6 or 7), best first.

    5: Very good .. Insufficient; 6: Excellent .. Insufficient; 7: Excellent .. To reject.
    Raises ValueError for any other size.
    """
    try:
        return _SCALES[size]
    except KeyError:
        raise InvalidValue(f"a grade scale has 5, 6 or 7 grades, not {size!r}") from None


# ---------------------------------------------------------------------------------------------
# Single and multiple choice
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptionCount:
    """Votes for one option. ``share`` is the share of voters (0.0 when nobody voted), so the
    shares of a multiple-choice poll may add up to more than 1."""

    option: int
    votes: int
    share: float


@dataclass(frozen=True)
class ChoiceResult:
    """Counts in option order (not sorted), the number of voters, and the options with the most
    votes (several on a tie, none when nobody voted)."""

    counts: tuple[OptionCount, ...]
    voters: int
    winners: tuple[int, ...]


def tally_choices(ballots: Iterable[Sequence[int]], n_options: int) -> ChoiceResult:
    """Count single- or multiple-choice ballots.

    Each ballot lists the option indexes the voter chose (one for a single choice, any number for
    a multiple choice). An empty ballot is a withdrawn vote and is not counted. An index out of
    range or listed twice in one ballot raises ValueError.
    """
    _check_n_options(n_options)
    votes = [0] * n_options
    voters = 0
    for ballot in ballots:
        if not ballot:
            continue
        seen: set[int] = set()
        for option in ballot:
            _check_option(option, n_options)
            if option in seen:
                raise InvalidValue(f"option {option} appears twice in one ballot")
            seen.add(option)
            votes[option] += 1
        voters += 1
    counts = tuple(
        OptionCount(option=i, votes=v, share=v / voters if voters else 0.0)
        for i, v in enumerate(votes)
    )
    top = max(votes, default=0)
    winners = tuple(i for i, v in enumerate(votes) if v == top) if top > 0 else ()
    return ChoiceResult(counts=counts, voters=voters, winners=winners)


# ---------------------------------------------------------------------------------------------
# Majority judgment
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MJOption:
    """One option of a majority-judgment poll.

    ``profile`` counts the grades received, best grade first; ``majority_grade`` is the index of
    the lower median grade in the scale (0 = best), None when nobody graded it; ``rank`` is 1 for
    the winner, equal for options whose profiles are identical.
    """

    option: int
    profile: tuple[int, ...]
    majority_grade: int | None
    rank: int
    ungraded: int = 0
    """How many voters left this option ungraded (shown as such; counted in ``profile`` as the
    worst grade when the poll says so, else left out of the option's profile)."""


@dataclass(frozen=True)
class MJResult:
    """Options sorted by rank (then by option index), number of voters, size of the scale."""

    options: tuple[MJOption, ...]
    voters: int
    scale_size: int


def majority_grade(profile: Sequence[int]) -> int | None:
    """The lower median grade of a profile (counts per grade, best first); None if it is empty.

    With grades sorted best first, the lower median of n grades is the one at (0-based) position
    n // 2: the middle one for odd n, the worse of the two middle ones for even n.
    """
    total = sum(profile)
    if total == 0:
        return None
    return _grade_at(profile, total // 2)


def compare_profiles(a: Sequence[int], b: Sequence[int]) -> int:
    """Compare two majority-judgment profiles of the same number of voters.

    Returns a negative number when ``a`` ranks before (is better than) ``b``, a positive one when
    it ranks after, 0 when the profiles are identical (a perfect tie).

    Balinski and Laraki break a tie between equal majority grades by removing one majority grade
    from each option and comparing the new majority grades, again and again until they differ.
    Write each option's grades sorted best first, x[0] <= ... <= x[n-1], and let h = n // 2 (the
    lower median). Removing the median from the middle of a sorted list always leaves a prefix and
    a suffix of it, so the successive medians are read at positions that depend on n only:

    - n even: h, h-1, h+1, h-2, h+2, ...  (lower side first: the lower median is the worse one)
    - n odd:  h, h+1, h-1, h+2, h-2, ...  (after the middle, the two halves are even again)

    Both options, having the same n, are therefore read at the same positions in the same order,
    and the first position where their sorted lists differ decides. The sorted lists are step
    functions of the cumulative counts, so the positions where they differ form at most one
    interval per grade: the comparison needs the nearest differing position on each side of h,
    which costs O(number of grades) with no list of voters.
    """
    if len(a) != len(b):
        raise InvalidValue("profiles of different scales cannot be compared")
    n = sum(a)
    if sum(b) != n:
        raise InvalidValue("profiles of different numbers of voters cannot be compared")
    h = n // 2
    first_below: int | None = None  # smallest differing position >= h
    last_above: int | None = None  # largest differing position < h
    cum_a = cum_b = 0
    for count_a, count_b in zip(a, b, strict=True):
        cum_a += count_a
        cum_b += count_b
        # Position i holds a grade <= g in a iff cum_a(g) > i; the sorted lists differ exactly
        # on the union over g of [min(cum_a, cum_b), max(cum_a, cum_b)).
        lo, hi = min(cum_a, cum_b), max(cum_a, cum_b)
        if lo == hi:
            continue
        if hi > h:
            start = max(lo, h)
            if first_below is None or start < first_below:
                first_below = start
        if lo < h:
            end = min(hi, h) - 1
            if last_above is None or end > last_above:
                last_above = end
    if first_below is None and last_above is None:
        return 0
    position = _decisive_position(n, h, first_below, last_above)
    return _grade_at(a, position) - _grade_at(b, position)


def _removal_position(n: int, step: int) -> int:
    """The position (0-based, grades sorted best first) of the grade removed at ``step`` (0 =
    the majority grade) by Balinski and Laraki's tie-break, for ``n`` grades (see
    :func:`compare_profiles`)."""
    h = n // 2
    if n % 2 == 0:
        return h - (step + 1) // 2 if step % 2 else h + step // 2
    return h + (step + 1) // 2 if step % 2 else h - step // 2


def compare_unequal_profiles(a: Sequence[int], b: Sequence[int]) -> int:
    """Compare two profiles that may hold different numbers of grades (options left ungraded by
    some voters, on a poll that does not count them as the worst grade).

    The same tie-break as :func:`compare_profiles`: the majority grades, then the majority grades
    once one majority grade is removed from each, and so on, walked step by step (O(number of
    grades of the smaller profile); :func:`compare_profiles` is the fast path for equal totals).
    A profile without grades ranks after any other; when one profile runs out of grades first
    with every step equal, they tie.
    """
    if len(a) != len(b):
        raise InvalidValue("profiles of different scales cannot be compared")
    na, nb = sum(a), sum(b)
    if na == nb:
        return compare_profiles(a, b)
    if na == 0 or nb == 0:
        return (na == 0) - (nb == 0)
    cum_a = list(itertools.accumulate(a))
    cum_b = list(itertools.accumulate(b))
    for step in range(min(na, nb)):
        grade_a = bisect.bisect_right(cum_a, _removal_position(na, step))
        grade_b = bisect.bisect_right(cum_b, _removal_position(nb, step))
        if grade_a != grade_b:
            return grade_a - grade_b
    return 0


def tally_majority_judgment(
    ballots: Iterable[Sequence[int | None]],
    n_options: int,
    scale_size: int,
    *,
    ungraded_as_worst: bool = True,
) -> MJResult:
    """Count majority-judgment ballots and rank the options.

    Each ballot gives one grade index per option, in option order, 0 being the best grade and
    ``scale_size - 1`` the worst. An option left ungraded (``None``, or missing at the end of a
    shorter ballot) is counted in ``ungraded``; with ``ungraded_as_worst`` (the default, Balinski
    and Laraki's rule, so that every option is judged by the same number of voters) it also
    counts as the worst grade, otherwise the option is judged by those who graded it. A ballot that grades no option at all is a withdrawn vote
    and is not counted. A grade out of range or a ballot longer than ``n_options`` raises
    ValueError.

    ``scale_size`` is any size >= 2 (the named scales of :func:`grade_scale` have 5, 6 or 7
    grades). Options are ranked by majority grade, ties broken as in :func:`compare_profiles`;
    options with identical profiles share a rank.
    """
    _check_n_options(n_options)
    if isinstance(scale_size, bool) or not isinstance(scale_size, int) or scale_size < 2:
        raise InvalidValue(f"a grade scale has at least 2 grades, not {scale_size!r}")
    worst = scale_size - 1
    profiles = [[0] * scale_size for _ in range(n_options)]
    ungraded = [0] * n_options
    voters = 0
    for ballot in ballots:
        if len(ballot) > n_options:
            raise InvalidValue(f"a ballot grades {len(ballot)} options, the poll has {n_options}")
        if all(grade is None for grade in ballot):
            continue
        for option, grade in enumerate(ballot):
            if grade is None:
                ungraded[option] += 1
            else:
                _check_grade(grade, scale_size)
                profiles[option][grade] += 1
        for option in range(len(ballot), n_options):
            ungraded[option] += 1
        voters += 1
    if ungraded_as_worst:
        for option, missing in enumerate(ungraded):
            profiles[option][worst] += missing
    return rank_profiles(
        profiles,
        scale_size,
        voters=voters,
        ungraded=ungraded,
        ungraded_as_worst=ungraded_as_worst,
    )


def rank_profiles(
    profiles: Sequence[Sequence[int]],
    scale_size: int,
    *,
    voters: int | None = None,
    ungraded: Sequence[int] | None = None,
    ungraded_as_worst: bool = True,
) -> MJResult:
    """Rank majority-judgment options from their merit profiles (counts per grade, best first).

    What :func:`tally_majority_judgment` does once it has counted the ballots, for callers that
    count grades themselves (the poll storage counts identical ballots once). Every profile has
    ``scale_size`` counts and, as every voter judges every option, the same total: the number of
    voters (``voters`` when given, checked). ``ungraded`` counts, per option, the voters who
    left it ungraded: with ``ungraded_as_worst`` they are already in the profile (as the worst
    grade); without it they are not, and each profile plus its ungraded count makes the number
    of voters. Anything else raises ValueError.
    """
    if isinstance(scale_size, bool) or not isinstance(scale_size, int) or scale_size < 2:
        raise InvalidValue(f"a grade scale has at least 2 grades, not {scale_size!r}")
    frozen = [tuple(p) for p in profiles]
    for profile in frozen:
        if len(profile) != scale_size:
            raise InvalidValue(f"a profile of {len(profile)} grades on a scale of {scale_size}")
        if any(count < 0 for count in profile):
            raise InvalidValue("a profile cannot hold negative counts")
    missing = tuple(ungraded) if ungraded is not None else (0,) * len(frozen)
    if len(missing) != len(frozen) or any(count < 0 for count in missing):
        raise InvalidValue("one count of ungraded voters per option, none negative")
    if ungraded_as_worst:
        judged = frozen
    else:  # add the ungraded back to check that every voter is accounted for
        judged = [(*p[:-1], p[-1] + m) for p, m in zip(frozen, missing, strict=True)]
    totals = {sum(profile) for profile in judged}
    if len(totals) > 1:
        raise InvalidValue("every option must be judged by the same number of voters")
    total = totals.pop() if totals else 0
    if voters is None:
        voters = total
    elif frozen and total != voters:
        raise InvalidValue(f"profiles of {total} voters for {voters} voters")
    n_options = len(frozen)
    compare = compare_profiles if ungraded_as_worst else compare_unequal_profiles

    def better_first(i: int, j: int) -> int:
        return compare(frozen[i], frozen[j]) or i - j

    order = sorted(range(n_options), key=cmp_to_key(better_first))
    ranks = _competition_ranks(order, lambda i, j: frozen[i] == frozen[j])
    options = tuple(
        MJOption(
            option=i,
            profile=frozen[i],
            majority_grade=majority_grade(frozen[i]),
            rank=ranks[i],
            ungraded=missing[i],
        )
        for i in order
    )
    return MJResult(options=options, voters=voters, scale_size=scale_size)


def _grade_at(profile: Sequence[int], position: int) -> int:
    """The grade at ``position`` (0-based) of the profile's grades sorted best first."""
    cumulative = 0
    for grade, count in enumerate(profile):
        cumulative += count
        if cumulative > position:
            return grade
    raise InvalidValue(f"position {position} is beyond the {cumulative} grades of the profile")


def _decisive_position(n: int, h: int, below: int | None, above: int | None) -> int:
    """Of the nearest differing positions below (>= h) and above (< h) the lower median, the one
    the median-removal sequence reaches first (see :func:`compare_profiles`)."""
    if below is None:
        assert above is not None
        return above
    if above is None:
        return below
    d_below = below - h  # 0, 1, 2, ...
    d_above = h - 1 - above  # 0, 1, 2, ...
    if n % 2 == 0:
        step_below, step_above = 2 * d_below, 2 * d_above + 1
    else:
        step_below = 0 if d_below == 0 else 2 * d_below - 1
        step_above = 2 * d_above + 2
    return below if step_below < step_above else above


# ---------------------------------------------------------------------------------------------
# Date polls
# ---------------------------------------------------------------------------------------------

DateAnswer = Literal["yes", "ifneedbe", "no"]
_DATE_ANSWERS: frozenset[str] = frozenset(get_args(DateAnswer))


@dataclass(frozen=True)
class SlotCount:
    """Answers for one proposed slot, and its rank (1 = best; equal counts share a rank).
    ``unanswered`` counts the voters who have not answered this slot: they said neither yes nor
    no, and are shown as such (for the ranking, they are not available, like a "no")."""

    option: int
    yes: int
    ifneedbe: int
    no: int
    rank: int
    unanswered: int = 0


@dataclass(frozen=True)
class DateResult:
    """Slots sorted by rank (then option index), number of voters, and the best slots (rank 1;
    none when nobody answered "yes" or "ifneedbe" anywhere)."""

    slots: tuple[SlotCount, ...]
    voters: int
    best: tuple[int, ...]


def tally_dates(ballots: Iterable[Mapping[int, DateAnswer]], n_options: int) -> DateResult:
    """Count date-poll ballots.

    Each ballot maps option indexes to "yes", "ifneedbe" or "no"; a slot the ballot does not
    mention is unanswered (counted apart; not available for the ranking). An empty ballot is a withdrawn vote and is not counted. The best slot
    has the most "yes", then the most "yes" + "ifneedbe"; equal counts share a rank. An index out
    of range or an unknown answer raises ValueError.
    """
    _check_n_options(n_options)
    yes = [0] * n_options
    maybe = [0] * n_options
    no = [0] * n_options
    voters = 0
    for ballot in ballots:
        if not ballot:
            continue
        for option, answer in ballot.items():
            _check_option(option, n_options)
            if answer not in _DATE_ANSWERS:
                raise InvalidValue(f"unknown date answer {answer!r}")
            if answer == "yes":
                yes[option] += 1
            elif answer == "ifneedbe":
                maybe[option] += 1
            else:
                no[option] += 1
        voters += 1
    return rank_slots(yes, maybe, voters, no=no)


def rank_slots(
    yes: Sequence[int], ifneedbe: Sequence[int], voters: int, *, no: Sequence[int] | None = None
) -> DateResult:
    """Rank date-poll slots from their counts of "yes", "if need be" (and "no" when given: the
    rest is unanswered; without it, every other voter said "no") among ``voters`` (what
    :func:`tally_dates` does once it has counted). Counts that do not fit (negative, or more
    answers than voters) raise ValueError."""
    if len(yes) != len(ifneedbe) or (no is not None and len(no) != len(yes)):
        raise InvalidValue("one count of yes and one of if need be per slot")
    noes = (
        list(no) if no is not None else [voters - y - m for y, m in zip(yes, ifneedbe, strict=True)]
    )
    for y, m, n in zip(yes, ifneedbe, noes, strict=True):
        if y < 0 or m < 0 or n < 0 or y + m + n > voters:
            raise InvalidValue(f"{y} yes and {m} if need be among {voters} voters")
    n_options = len(yes)

    def key(i: int) -> tuple[int, int]:
        return (-yes[i], -(yes[i] + ifneedbe[i]))

    order = sorted(range(n_options), key=lambda i: (key(i), i))
    ranks = _competition_ranks(order, lambda i, j: key(i) == key(j))
    slots = tuple(
        SlotCount(
            option=i,
            yes=yes[i],
            ifneedbe=ifneedbe[i],
            no=noes[i],
            rank=ranks[i],
            unanswered=voters - yes[i] - ifneedbe[i] - noes[i],
        )
        for i in order
    )
    best = tuple(s.option for s in slots if s.rank == 1 and s.yes + s.ifneedbe > 0)
    return DateResult(slots=slots, voters=voters, best=best)


# ---------------------------------------------------------------------------------------------
# One poll's results
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PollResults:
    """The tally of one poll: exactly one of ``choices``, ``judgment``, ``dates`` is set."""

    voters: int
    choices: ChoiceResult | None = None
    judgment: MJResult | None = None
    dates: DateResult | None = None


# ---------------------------------------------------------------------------------------------
# Text bars
# ---------------------------------------------------------------------------------------------

FULL_BLOCK = "█"
LIGHT_SHADE = "░"


def bar(share: float, width: int = 10) -> str:
    """A bar of ``width`` cells, ``round(share * width)`` of them full (halves round up).

    ``share`` is clamped to [0, 1] to absorb floating-point noise; NaN or a negative width raises
    ValueError.
    """
    _check_width(width)
    if math.isnan(share):
        raise InvalidValue("a bar cannot show NaN")
    clamped = min(1.0, max(0.0, share))
    full = min(width, math.floor(clamped * width + 0.5))
    return FULL_BLOCK * full + LIGHT_SHADE * (width - full)


def profile_bar(
    profile: Sequence[int], width: int = 14, symbols: Sequence[str] | None = None
) -> str:
    """A stacked bar of a majority-judgment profile, best grade on the left.

    Each grade gets a number of cells proportional to its count, by largest-remainder rounding
    (remainder ties go to the better grade), so the bar has exactly ``width`` symbols. Default
    symbols: those of :data:`GRADE_SYMBOLS` for a 5-, 6- or 7-grade profile (one code point each,
    so ``len(result) == width``), letters A, B, ... otherwise. An empty profile, or one without
    votes, gives "". Negative counts, a negative width or a wrong number of symbols raise
    ValueError.
    """
    _check_width(width)
    if any(count < 0 for count in profile):
        raise InvalidValue("a profile cannot hold negative counts")
    total = sum(profile)
    if total == 0 or width == 0:
        return ""
    if symbols is None:
        symbols = _default_symbols(len(profile))
    if len(symbols) != len(profile):
        raise InvalidValue(f"{len(symbols)} symbols for a profile of {len(profile)} grades")
    cells = [count * width // total for count in profile]
    missing = width - sum(cells)
    by_remainder = sorted(range(len(profile)), key=lambda g: (-(profile[g] * width % total), g))
    for grade in by_remainder[:missing]:
        cells[grade] += 1
    return "".join(symbol * n for symbol, n in zip(symbols, cells, strict=True))


def _default_symbols(size: int) -> tuple[str, ...]:
    if size in _SCALES:
        return tuple(GRADE_SYMBOLS[grade] for grade in _SCALES[size])
    if size > len(_LETTERS):
        raise InvalidValue(f"no default symbols for a profile of {size} grades")
    return tuple(_LETTERS[:size])


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _competition_ranks(order: Sequence[int], same: Callable[[int, int], bool]) -> dict[int, int]:
    """Standard competition ranks (1, 2, 2, 4) of ``order``, where ``same`` tells ties apart."""
    ranks: dict[int, int] = {}
    for position, item in enumerate(order):
        if position > 0 and same(order[position - 1], item):
            ranks[item] = ranks[order[position - 1]]
        else:
            ranks[item] = position + 1
    return ranks


def _check_n_options(n_options: int) -> None:
    if isinstance(n_options, bool) or not isinstance(n_options, int) or n_options < 0:
        raise InvalidValue(f"the number of options must be a non-negative integer: {n_options!r}")


def _check_option(option: int, n_options: int) -> None:
    if isinstance(option, bool) or not isinstance(option, int) or not 0 <= option < n_options:
        raise InvalidValue(f"option {option!r} is not one of the {n_options} options")


def _check_grade(grade: int, scale_size: int) -> None:
    if isinstance(grade, bool) or not isinstance(grade, int) or not 0 <= grade < scale_size:
        raise InvalidValue(f"grade {grade!r} is not in a scale of {scale_size} grades")


def _check_width(width: int) -> None:
    if isinstance(width, bool) or not isinstance(width, int) or width < 0:
        raise InvalidValue(f"a bar width must be a non-negative integer: {width!r}")
