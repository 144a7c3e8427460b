"""Tests of the pure poll counting logic (commands/polls/tally.py)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commands.polls.tally import (
    GRADE_SYMBOLS,
    GRADES_7,
    DateAnswer,
    MJResult,
    bar,
    compare_profiles,
    grade_scale,
    majority_grade,
    profile_bar,
    rank_profiles,
    rank_slots,
    tally_choices,
    tally_dates,
    tally_majority_judgment,
)

PROPERTY = settings(max_examples=200, deadline=None)


# ---------------------------------------------------------------------------------------------
# Helpers and naive reference implementations
# ---------------------------------------------------------------------------------------------


def ballots_from_profiles(profiles: Sequence[Sequence[int]]) -> list[tuple[int, ...]]:
    """Ballots whose per-option profiles are ``profiles`` (all with the same number of voters).

    Majority judgment only looks at each option's profile, so any ballots with these marginals
    give the same result; voter v gets, for every option, the v-th best grade of that option.
    """
    columns = [[g for g, count in enumerate(profile) for _ in range(count)] for profile in profiles]
    (n,) = {len(column) for column in columns}
    return [tuple(column[v] for column in columns) for v in range(n)]


def names_by_rank(result: MJResult, names: Sequence[str]) -> list[str]:
    return [names[o.option] for o in result.options]


def naive_median_sequence(grades: Sequence[int]) -> list[int]:
    """Balinski-Laraki majority value, literally: sort the grades (best first), take the lower
    median, remove it, and repeat until nothing is left."""
    remaining = sorted(grades)
    sequence = []
    while remaining:
        sequence.append(remaining.pop(len(remaining) // 2))
    return sequence


def naive_mj_ranks(
    ballots: Sequence[Sequence[int | None]], n_options: int, scale: int
) -> list[int]:
    counted = [b for b in ballots if any(g is not None for g in b)]
    keys = []
    for option in range(n_options):
        grades = []
        for ballot in counted:
            grade = ballot[option] if option < len(ballot) else None
            grades.append(scale - 1 if grade is None else grade)
        keys.append(naive_median_sequence(grades))
    # Lexicographically smaller sequence = better grades met first = better option.
    return [1 + sum(1 for other in keys if other < keys[i]) for i in range(n_options)]


# ---------------------------------------------------------------------------------------------
# Grade scales
# ---------------------------------------------------------------------------------------------


def test_grades_7_are_the_seven_english_msgids_best_first() -> None:
    assert GRADES_7 == (
        "Excellent",
        "Very good",
        "Good",
        "Fairly good",
        "Passable",
        "Insufficient",
        "To reject",
    )


def test_grade_scales_of_five_six_and_seven_grades() -> None:
    assert grade_scale(7) == GRADES_7
    assert grade_scale(6) == GRADES_7[:6]
    assert grade_scale(6)[0] == "Excellent"
    assert grade_scale(6)[-1] == "Insufficient"
    assert grade_scale(5) == ("Very good", "Good", "Fairly good", "Passable", "Insufficient")


@pytest.mark.parametrize("size", [0, 2, 4, 8, -5])
def test_grade_scale_refuses_other_sizes(size: int) -> None:
    with pytest.raises(ValueError, match="5, 6 or 7"):
        grade_scale(size)


def test_every_grade_has_a_single_code_point_symbol() -> None:
    assert set(GRADE_SYMBOLS) == set(GRADES_7)
    assert all(len(symbol) == 1 for symbol in GRADE_SYMBOLS.values())
    assert len(set(GRADE_SYMBOLS.values())) == 7


# ---------------------------------------------------------------------------------------------
# Single and multiple choice
# ---------------------------------------------------------------------------------------------


def test_single_choice_counts_shares_and_winner() -> None:
    result = tally_choices([[0], [2], [2], [1], [2]], 3)
    assert [c.votes for c in result.counts] == [1, 1, 3]
    assert [c.option for c in result.counts] == [0, 1, 2]
    assert result.voters == 5
    assert result.counts[2].share == pytest.approx(0.6)
    assert result.winners == (2,)


def test_multiple_choice_shares_are_shares_of_voters() -> None:
    result = tally_choices([[0, 1], [0, 1, 2], [0]], 3)
    assert [c.votes for c in result.counts] == [3, 2, 1]
    assert result.voters == 3
    assert [c.share for c in result.counts] == pytest.approx([1.0, 2 / 3, 1 / 3])
    assert result.winners == (0,)


def test_tied_options_are_all_winners() -> None:
    result = tally_choices([[0], [1], [2], [1], [0]], 3)
    assert result.winners == (0, 1)


def test_empty_ballot_is_a_withdrawn_vote() -> None:
    result = tally_choices([[1], [], [1, 0], []], 2)
    assert result.voters == 2
    assert [c.share for c in result.counts] == pytest.approx([0.5, 1.0])


def test_no_voters_means_no_winner_and_zero_shares() -> None:
    result = tally_choices([[], []], 2)
    assert result.voters == 0
    assert result.winners == ()
    assert [(c.votes, c.share) for c in result.counts] == [(0, 0.0), (0, 0.0)]
    assert tally_choices([], 0).counts == ()


@pytest.mark.parametrize("ballot", [[3], [-1], [0, 0], [True]])
def test_malformed_choice_ballot_raises(ballot: list[int]) -> None:
    with pytest.raises(ValueError, match="option"):
        tally_choices([[0], ballot], 3)


def test_negative_number_of_options_raises() -> None:
    with pytest.raises(ValueError, match="number of options"):
        tally_choices([], -1)


@PROPERTY
@given(
    st.integers(min_value=1, max_value=6).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.lists(st.integers(0, n - 1), unique=True, max_size=n), max_size=40),
        )
    )
)
def test_choice_counts_equal_a_naive_counter(case: tuple[int, list[list[int]]]) -> None:
    n_options, ballots = case
    result = tally_choices(ballots, n_options)
    naive = Counter(option for ballot in ballots for option in ballot)
    voters = sum(1 for ballot in ballots if ballot)
    assert result.voters == voters
    assert [c.votes for c in result.counts] == [naive[i] for i in range(n_options)]
    for count in result.counts:
        assert count.share == (count.votes / voters if voters else 0.0)
    top = max(naive.values(), default=0)
    assert result.winners == tuple(i for i in range(n_options) if top and naive[i] == top)


# ---------------------------------------------------------------------------------------------
# Majority judgment: published examples
# ---------------------------------------------------------------------------------------------


def test_tennessee_capital_example_nashville_wins_on_the_tie_break() -> None:
    # The "Tennessee capital" example of the English Wikipedia article "Majority judgment"
    # (as quoted on the election-methods list, lists.electorama.com, 2011-10-19, and on
    # electowiki.org "Majority Judgment"): 42% of voters live near Memphis, 26% near Nashville,
    # 15% near Chattanooga, 17% near Knoxville; each grades the four cities Excellent, Good, Fair,
    # Poor by distance. Nashville (26% Excellent, 42% Good) and Chattanooga (15% Excellent,
    # 43% Good) both have the majority grade Good; the tie-break elects Nashville.
    names = ["Memphis", "Nashville", "Chattanooga", "Knoxville"]
    excellent, good, fair, poor = range(4)
    ballots = (
        [(excellent, good, fair, poor)] * 42  # Memphis > Nashville > Chattanooga > Knoxville
        + [(poor, excellent, good, fair)] * 26  # Nashville > Chattanooga > Knoxville > Memphis
        + [(poor, fair, excellent, good)] * 15  # Chattanooga > Knoxville > Nashville > Memphis
        + [(poor, fair, good, excellent)] * 17  # Knoxville > Chattanooga > Nashville > Memphis
    )
    result = tally_majority_judgment(ballots, 4, 4)
    assert result.voters == 100
    by_name = {names[o.option]: o for o in result.options}
    assert by_name["Nashville"].profile == (26, 42, 32, 0)
    assert by_name["Chattanooga"].profile == (15, 43, 42, 0)
    assert by_name["Nashville"].majority_grade == good
    assert by_name["Chattanooga"].majority_grade == good
    assert by_name["Knoxville"].majority_grade == fair
    assert by_name["Memphis"].majority_grade == poor
    assert names_by_rank(result, names) == ["Nashville", "Chattanooga", "Knoxville", "Memphis"]
    assert [o.rank for o in result.options] == [1, 2, 3, 4]


# OpinionWay poll for the association Mieux Voter, 8-9 December 2021, 960 registered voters,
# "scrutin jugement majoritaire" on 7 grades (Excellent .. À rejeter), percentages per candidate,
# best grade first, as recorded in MieuxVoter/majority-judgment-tracker (presidentielle_jm.csv,
# poll id 20211208_1209_ow). The press reported Valérie Pécresse ahead of Emmanuel Macron, both
# with the majority grade "Passable", and Éric Zemmour last of the 13 with 61% "À rejeter"
# (e.g. amienois-e.fr, "Le vote au jugement majoritaire, qu'est-ce que c'est ?").
OPINIONWAY_2021 = {
    "Pécresse": (4, 10, 15, 17, 17, 13, 24),
    "Macron": (7, 12, 14, 10, 14, 11, 32),
    "Montebourg": (1, 2, 7, 11, 20, 26, 33),
    "Jadot": (1, 4, 7, 11, 17, 24, 36),
    "Hidalgo": (1, 3, 7, 9, 17, 20, 43),
    "Roussel": (1, 2, 3, 7, 16, 28, 43),
    "Dupont-Aignan": (2, 3, 6, 9, 15, 20, 45),
    "Le Pen": (8, 9, 9, 8, 10, 9, 47),
    "Taubira": (3, 3, 7, 10, 12, 17, 48),
    "Arthaud": (0, 1, 3, 7, 16, 24, 49),
    "Poutou": (1, 2, 4, 6, 12, 23, 52),
    "Mélenchon": (4, 3, 7, 7, 12, 14, 53),
    "Zemmour": (6, 7, 6, 6, 7, 7, 61),
}


def test_opinionway_2021_poll_pecresse_beats_macron_on_the_tie_break() -> None:
    names = list(OPINIONWAY_2021)
    # Shuffle the option order so that the ranking cannot come from the input order.
    shuffled = names[::2] + names[1::2]
    ballots = ballots_from_profiles([OPINIONWAY_2021[n] for n in shuffled])
    result = tally_majority_judgment(ballots, len(shuffled), 7)
    assert result.voters == 100
    grades = {shuffled[o.option]: GRADES_7[o.majority_grade or 0] for o in result.options}
    assert grades["Pécresse"] == grades["Macron"] == "Passable"
    assert grades["Zemmour"] == "To reject"
    assert [grades[n] for n in names].count("Insufficient") == 8
    # The order in which the tracker lists this poll (best first): Pécresse first, Macron
    # second, Zemmour last, and every tie inside a majority grade broken.
    assert names_by_rank(result, shuffled) == names
    assert [o.rank for o in result.options] == list(range(1, 14))


# Orsay experiment, first round of the French presidential election of 2007 (Balinski and
# Laraki, "A theory of measuring, electing, and ranking", PNAS 104(21), 2007; "Election by
# majority judgement: experimental evidence", Cahier 2007-28, École polytechnique): six grades
# Très bien, Bien, Assez bien, Passable, Insuffisant, À rejeter, plus ballots giving no grade,
# which Balinski and Laraki count as À rejeter. Percentages as transcribed on
# forum.mieuxvoter.fr ("Données brutes sur les expérimentations de méthodes alternatives de
# vote"), best first, then the share of "no grade"; only the candidates whose transcribed row
# adds up to exactly 100.0% are kept (the rows of Royal and Le Pen there do not add up). The
# published result: Bayrou first with "Good+" (Assez bien, more than half above), ahead of
# Royal and Sarkozy, both "Good-" (rangevoting.org/French2007studies.html); Voynet, Besancenot
# and Buffet follow in that order.
ORSAY_2007 = {
    "Bayrou": (13.6, 30.7, 25.1, 14.8, 8.4, 4.5, 2.9),
    "Sarkozy": (19.1, 19.8, 14.3, 11.5, 7.1, 26.5, 1.7),
    "Voynet": (2.9, 9.3, 17.5, 23.7, 26.1, 16.2, 4.3),
    "Besancenot": (4.1, 9.9, 16.3, 16.0, 22.6, 27.9, 3.2),
    "Buffet": (2.5, 7.6, 12.5, 20.6, 26.4, 26.1, 4.3),
}


def test_orsay_2007_experiment_bayrou_beats_sarkozy_on_the_tie_break() -> None:
    names = ["Sarkozy", "Buffet", "Bayrou", "Besancenot", "Voynet"]
    columns: list[list[int | None]] = []
    for index, name in enumerate(names):
        per_mille = [round(10 * share) for share in ORSAY_2007[name]]
        assert sum(per_mille) == 1000
        *graded, ungraded = per_mille
        column: list[int | None] = [g for g, n in enumerate(graded) for _ in range(n)]
        # Ungraded entries at the end of some columns and the start of others, so that no
        # ballot is entirely blank (a blank ballot would be a withdrawn vote).
        blanks: list[int | None] = [None] * ungraded
        columns.append(column + blanks if index % 2 else blanks + column)
    ballots = [tuple(column[v] for column in columns) for v in range(1000)]
    result = tally_majority_judgment(ballots, len(names), 6)
    assert result.voters == 1000
    by_name = {names[o.option]: o for o in result.options}
    # "No grade" counted as À rejeter (index 5).
    assert by_name["Bayrou"].profile == (136, 307, 251, 148, 84, 74)
    assert by_name["Bayrou"].majority_grade == by_name["Sarkozy"].majority_grade == 2
    assert by_name["Voynet"].majority_grade == 3
    assert by_name["Besancenot"].majority_grade == by_name["Buffet"].majority_grade == 4
    assert names_by_rank(result, names) == ["Bayrou", "Sarkozy", "Voynet", "Besancenot", "Buffet"]


# ---------------------------------------------------------------------------------------------
# Majority judgment: hand-made cases
# ---------------------------------------------------------------------------------------------


def test_identical_profiles_share_a_rank() -> None:
    # Options 0 and 2 receive the same grades from different voters; option 1 is better.
    ballots = [(2, 0, 1), (1, 0, 2), (1, 1, 2), (2, 1, 1)]
    result = tally_majority_judgment(ballots, 3, 5)
    assert [(o.option, o.rank) for o in result.options] == [(1, 1), (0, 2), (2, 2)]
    assert result.options[1].profile == result.options[2].profile


def test_all_options_tied_are_all_first() -> None:
    result = tally_majority_judgment([(0, 0, 0), (4, 4, 4)], 3, 5)
    assert [o.rank for o in result.options] == [1, 1, 1]
    assert [o.option for o in result.options] == [0, 1, 2]


def test_tie_break_after_equal_majority_grades() -> None:
    # Both have the majority grade 1; removing it leaves {0, 1} against {1, 2}: lower medians
    # 1 and 2, so option 0 wins.
    result = tally_majority_judgment([(0, 1), (1, 1), (1, 2)], 2, 5)
    assert [o.majority_grade for o in result.options] == [1, 1]
    assert [(o.option, o.rank) for o in result.options] == [(0, 1), (1, 2)]


def test_odd_number_of_voters_tie_break_reads_the_lower_side_first() -> None:
    # Option 0: Excellent, Good, Fairly good; option 1: three Good. Same majority grade (Good).
    # Removing it leaves {Excellent, Fairly good} against {Good, Good}: the lower medians are
    # Fairly good and Good, so the consensual option 1 wins although option 0 has an Excellent.
    ballots = [(0, 2), (2, 2), (3, 2)]
    result = tally_majority_judgment(ballots, 2, 7)
    assert [o.majority_grade for o in result.options] == [2, 2]
    assert [o.option for o in result.options] == [1, 0]
    assert compare_profiles((1, 0, 1, 1), (0, 0, 3, 0)) > 0


def test_even_number_of_voters_takes_the_lower_median() -> None:
    # Option 0: two "Excellent" and two "To reject"; the two middle grades are Excellent and To
    # reject, and the majority grade is the worse of them. Option 1: four "Very good".
    ballots = [(0, 1), (0, 1), (6, 1), (6, 1)]
    result = tally_majority_judgment(ballots, 2, 7)
    by_option = {o.option: o for o in result.options}
    assert by_option[0].majority_grade == 6
    assert by_option[1].majority_grade == 1
    assert [o.option for o in result.options] == [1, 0]
    assert majority_grade([1, 1]) == 1
    assert majority_grade([1, 0, 1]) == 2


def test_an_option_nobody_graded_counts_as_the_worst_grade() -> None:
    # Option 2 is left out by every voter (shorter ballots) or ungraded (None).
    ballots = [(0, 1), (1, 1, None), (2, 0)]
    result = tally_majority_judgment(ballots, 3, 5)
    by_option = {o.option: o for o in result.options}
    assert by_option[2].profile == (0, 0, 0, 0, 3)
    assert by_option[2].majority_grade == 4
    assert by_option[2].rank == 3
    assert result.voters == 3


def test_a_ballot_grading_nothing_is_a_withdrawn_vote() -> None:
    result = tally_majority_judgment([(0, 0), (), (None, None)], 2, 5)
    assert result.voters == 1
    assert all(sum(o.profile) == 1 for o in result.options)


def test_no_voters_gives_no_majority_grade_and_a_tie() -> None:
    result = tally_majority_judgment([], 3, 5)
    assert result.voters == 0
    assert result.scale_size == 5
    assert [o.majority_grade for o in result.options] == [None, None, None]
    assert [o.rank for o in result.options] == [1, 1, 1]
    assert majority_grade([]) is None
    assert tally_majority_judgment([], 0, 5).options == ()


@pytest.mark.parametrize(
    ("ballot", "message"),
    [((5, 0), "grade 5"), ((-1, 0), "grade -1"), ((0, 0, 0), "grades 3 options")],
)
def test_malformed_mj_ballot_raises(ballot: tuple[int, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tally_majority_judgment([(0, 0), ballot], 2, 5)


@pytest.mark.parametrize("scale_size", [0, 1, True])
def test_mj_refuses_a_scale_of_less_than_two_grades(scale_size: int) -> None:
    with pytest.raises(ValueError, match="at least 2 grades"):
        tally_majority_judgment([], 2, scale_size)


def test_compare_profiles_refuses_incomparable_profiles() -> None:
    with pytest.raises(ValueError, match="numbers of voters"):
        compare_profiles((1, 0), (1, 1))
    with pytest.raises(ValueError, match="scales"):
        compare_profiles((1, 0), (1, 0, 0))
    assert compare_profiles((0, 0), (0, 0)) == 0


def test_rank_profiles_ranks_counted_profiles_like_the_ballot_tally() -> None:
    ballots = [(0, 2), (1, 2), (2, 0)]
    counted = tally_majority_judgment(ballots, 2, 3)
    profiles = [option.profile for option in sorted(counted.options, key=lambda o: o.option)]
    assert rank_profiles(profiles, 3) == counted
    assert rank_profiles(profiles, 3, voters=3) == counted
    assert rank_profiles([], 5, voters=4).options == ()


@pytest.mark.parametrize(
    ("profiles", "scale", "voters", "message"),
    [
        ([(1, 0)], 3, None, "grades on a scale"),
        ([(1, 0, 0), (0, 2, 0)], 3, None, "same number of voters"),
        ([(1, 0, 0)], 3, 2, "for 2 voters"),
        ([(2, -1, 0)], 3, None, "negative"),
        ([(1,)], 1, None, "at least 2 grades"),
    ],
)
def test_rank_profiles_refuses_profiles_that_do_not_fit(
    profiles: list[tuple[int, ...]], scale: int, voters: int | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        rank_profiles(profiles, scale, voters=voters)


def test_rank_slots_ranks_counts_like_the_ballot_tally() -> None:
    ballots: list[Mapping[int, DateAnswer]] = [{0: "yes", 1: "ifneedbe"}, {1: "yes"}, {2: "no"}]
    counted = tally_dates(ballots, 3)
    by_slot = sorted(counted.slots, key=lambda s: s.option)
    yes, maybe, no = ([getattr(s, a) for s in by_slot] for a in ("yes", "ifneedbe", "no"))
    assert rank_slots(yes, maybe, 3, no=no) == counted
    with pytest.raises(ValueError, match="among 1 voters"):
        rank_slots([1], [1], 1)
    with pytest.raises(ValueError, match="one count"):
        rank_slots([1], [], 1)


def test_large_poll_is_consistent() -> None:
    # 5,000 voters and 20 options, deterministic pseudo-random grades; the counting works on
    # profiles, so this stays quick (no duration is asserted).
    seed = 12345
    ballots = []
    for _ in range(5000):
        ballot = []
        for _ in range(20):
            seed = (seed * 1103515245 + 12345) % 2**31
            ballot.append(seed % 7)
        ballots.append(ballot)
    result = tally_majority_judgment(ballots, 20, 7)
    assert result.voters == 5000
    assert sorted(o.option for o in result.options) == list(range(20))
    assert all(sum(o.profile) == 5000 for o in result.options)
    grades = [o.majority_grade or 0 for o in result.options]
    assert None not in [o.majority_grade for o in result.options]
    assert grades == sorted(grades)
    ranks = [o.rank for o in result.options]
    assert ranks[0] == 1
    assert ranks == sorted(ranks)
    for better, worse in zip(result.options, result.options[1:], strict=False):
        assert compare_profiles(better.profile, worse.profile) <= 0


@st.composite
def mj_polls(draw: st.DrawFn) -> tuple[int, int, list[list[int | None]]]:
    n_options = draw(st.integers(min_value=1, max_value=5))
    scale = draw(st.integers(min_value=2, max_value=7))
    grade = st.one_of(st.none(), st.integers(0, scale - 1))
    ballots = draw(st.lists(st.lists(grade, max_size=n_options), max_size=25))
    return n_options, scale, ballots


@PROPERTY
@given(mj_polls())
def test_mj_profiles_add_up_to_the_number_of_ballots(
    poll: tuple[int, int, list[list[int | None]]],
) -> None:
    n_options, scale, ballots = poll
    result = tally_majority_judgment(ballots, n_options, scale)
    counted = sum(1 for b in ballots if any(g is not None for g in b))
    assert result.voters == counted
    assert len(result.options) == n_options
    for option in result.options:
        assert len(option.profile) == scale
        assert sum(option.profile) == counted


@PROPERTY
@given(mj_polls())
def test_mj_ranking_matches_the_naive_median_removal(
    poll: tuple[int, int, list[list[int | None]]],
) -> None:
    n_options, scale, ballots = poll
    result = tally_majority_judgment(ballots, n_options, scale)
    expected = naive_mj_ranks(ballots, n_options, scale)
    assert {o.option: o.rank for o in result.options} == dict(enumerate(expected))
    assert [o.option for o in result.options] == sorted(
        range(n_options), key=lambda i: (expected[i], i)
    )
    for option in result.options:
        grades = [g for g, n in enumerate(option.profile) for _ in range(n)]
        expected_grade = naive_median_sequence(grades)[0] if grades else None
        assert option.majority_grade == expected_grade


@st.composite
def grade_list_pairs(draw: st.DrawFn) -> tuple[list[int], list[int], int]:
    """Two lists of grades of the same length; few grades and few voters make ties and
    near-ties (the interesting cases) frequent."""
    k = draw(st.integers(min_value=2, max_value=4))
    n = draw(st.integers(min_value=0, max_value=15))
    grades = st.lists(st.integers(0, k - 1), min_size=n, max_size=n)
    return draw(grades), draw(grades), k


@PROPERTY
@given(grade_list_pairs())
def test_compare_profiles_matches_the_naive_median_removal(
    case: tuple[list[int], list[int], int],
) -> None:
    a_grades, b_grades, k = case
    a = [a_grades.count(g) for g in range(k)]
    b = [b_grades.count(g) for g in range(k)]
    naive_a, naive_b = naive_median_sequence(a_grades), naive_median_sequence(b_grades)
    expected = (naive_a > naive_b) - (naive_a < naive_b)
    got = compare_profiles(a, b)
    assert (got > 0) - (got < 0) == expected
    assert (compare_profiles(b, a) > 0) - (compare_profiles(b, a) < 0) == -expected


# ---------------------------------------------------------------------------------------------
# Date polls
# ---------------------------------------------------------------------------------------------


def test_date_poll_ranks_by_yes_then_yes_and_ifneedbe() -> None:
    ballots: list[dict[int, DateAnswer]] = [
        {0: "yes", 1: "yes", 2: "yes"},
        {0: "yes", 1: "ifneedbe", 2: "yes"},
        {1: "ifneedbe", 2: "ifneedbe"},  # slot 0 missing: unanswered, not available
    ]
    result = tally_dates(ballots, 4)
    assert result.voters == 3
    assert [(s.option, s.yes, s.ifneedbe, s.no + s.unanswered, s.rank) for s in result.slots] == [
        (2, 2, 1, 0, 1),
        (0, 2, 0, 1, 2),
        (1, 1, 2, 0, 3),
        (3, 0, 0, 3, 4),
    ]
    assert result.best == (2,)


def test_equal_slots_share_the_best_rank() -> None:
    result = tally_dates([{0: "yes", 1: "yes", 2: "ifneedbe"}, {0: "no", 1: "no"}], 3)
    assert [(s.option, s.rank) for s in result.slots] == [(0, 1), (1, 1), (2, 3)]
    assert result.best == (0, 1)


def test_date_poll_without_any_availability_has_no_best_slot() -> None:
    result = tally_dates([{0: "no"}, {}, {1: "no"}], 2)
    assert result.voters == 2
    assert result.best == ()
    assert [s.no + s.unanswered for s in result.slots] == [2, 2]
    assert tally_dates([], 2).voters == 0


@pytest.mark.parametrize(
    ("ballot", "message"),
    [({2: "yes"}, "option 2"), ({-1: "no"}, "option -1"), ({0: "maybe"}, "maybe")],
)
def test_malformed_date_ballot_raises(ballot: Mapping[int, DateAnswer], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tally_dates([ballot], 2)


@PROPERTY
@given(
    st.integers(min_value=1, max_value=6).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(
                st.dictionaries(
                    st.integers(0, n - 1), st.sampled_from(["yes", "ifneedbe", "no"]), max_size=n
                ),
                max_size=25,
            ),
        )
    )
)
def test_date_tally_matches_a_naive_count(case: tuple[int, list[dict[int, DateAnswer]]]) -> None:
    n_options, ballots = case
    result = tally_dates(ballots, n_options)
    counted = [b for b in ballots if b]
    yes = [sum(1 for b in counted if b.get(i) == "yes") for i in range(n_options)]
    maybe = [sum(1 for b in counted if b.get(i) == "ifneedbe") for i in range(n_options)]
    keys = [(yes[i], yes[i] + maybe[i]) for i in range(n_options)]
    ranks = [1 + sum(1 for other in keys if other > keys[i]) for i in range(n_options)]
    assert result.voters == len(counted)
    slots = {s.option: s for s in result.slots}
    assert sorted(slots) == list(range(n_options))
    for i in range(n_options):
        assert (slots[i].yes, slots[i].ifneedbe) == (yes[i], maybe[i])
        assert slots[i].no + slots[i].unanswered == len(counted) - yes[i] - maybe[i]
        assert slots[i].rank == ranks[i]
    assert [s.rank for s in result.slots] == sorted(ranks)
    top = max(keys)
    expected_best = tuple(i for i in range(n_options) if keys[i] == top) if top[1] else ()
    assert result.best == expected_best


# ---------------------------------------------------------------------------------------------
# Text bars
# ---------------------------------------------------------------------------------------------


def test_bar_examples() -> None:
    assert bar(0.7) == "███████░░░"
    assert bar(0.0) == "░░░░░░░░░░"
    assert bar(1.0) == "██████████"
    assert bar(0.25, 10) == "███░░░░░░░"  # 2.5 cells: halves round up
    assert bar(1 / 3, 6) == "██░░░░"
    assert bar(0.5, 0) == ""


def test_bar_clamps_floating_point_noise_and_refuses_nan() -> None:
    assert bar(1.0000001) == "█" * 10
    assert bar(-1e-12) == "░" * 10
    with pytest.raises(ValueError, match="NaN"):
        bar(math.nan)
    with pytest.raises(ValueError, match="width"):
        bar(0.5, -1)


@PROPERTY
@given(st.floats(min_value=0.0, max_value=1.0), st.integers(min_value=0, max_value=40))
def test_bar_has_exactly_width_cells(share: float, width: int) -> None:
    text = bar(share, width)
    assert len(text) == width
    assert set(text) <= {"█", "░"}
    assert abs(text.count("█") - share * width) <= 0.5 + 1e-9


def test_profile_bar_uses_the_grade_symbols() -> None:
    # 7-grade scale: one cell per 10% of voters on a width of 10.
    assert profile_bar([2, 0, 0, 0, 0, 0, 8], width=10) == "🟦🟦⬛⬛⬛⬛⬛⬛⬛⬛"
    # 5-grade scale starts at "Very good".
    assert profile_bar([1, 0, 0, 0, 1], width=4) == "🟩🟩🟥🟥"
    assert profile_bar([3, 1], width=4, symbols="+-") == "+++-"


def test_profile_bar_largest_remainder_rounding() -> None:
    # Quotas 14 * (1, 1, 1) / 3 = 4.67 each: floors 4 + 4 + 4 = 12, the two missing cells go to
    # the largest remainders, ties to the better grade.
    assert profile_bar([1, 1, 1], width=14, symbols="abc") == "aaaaabbbbbcccc"
    # Quotas 10 * (6, 3, 1) / 10 = 6, 3, 1 exactly.
    assert profile_bar([6, 3, 1], width=10, symbols="abc") == "aaaaaabbbc"
    # Quotas 5 * (1, 2, 4) / 7 = 0.71, 1.43, 2.86: floors 0 + 1 + 2, remainders .71, .43, .86.
    assert profile_bar([1, 2, 4], width=5, symbols="abc") == "abccc"


def test_profile_bar_of_an_empty_profile_is_empty() -> None:
    assert profile_bar([]) == ""
    assert profile_bar([0, 0, 0, 0, 0]) == ""
    assert profile_bar([1, 2, 3, 4, 5], width=0) == ""


def test_profile_bar_falls_back_to_letters_and_checks_its_input() -> None:
    assert profile_bar([1, 1, 1, 1], width=4) == "ABCD"
    with pytest.raises(ValueError, match="symbols"):
        profile_bar([1, 1], symbols="abc")
    with pytest.raises(ValueError, match="negative"):
        profile_bar([1, -1])
    with pytest.raises(ValueError, match="width"):
        profile_bar([1, 1], width=-2)


@PROPERTY
@given(
    st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=9),
    st.integers(min_value=0, max_value=60),
)
def test_profile_bar_has_exactly_width_symbols_in_proportion(
    profile: list[int], width: int
) -> None:
    symbols = "abcdefghi"[: len(profile)]
    text = profile_bar(profile, width=width, symbols=symbols)
    total = sum(profile)
    if total == 0 or width == 0:
        assert text == ""
        return
    assert len(text) == width
    assert text == "".join(sorted(text))  # grades stay in order, best first
    for symbol, count in zip(symbols, profile, strict=True):
        # Largest remainder: each grade gets the floor or the ceiling of its quota.
        assert abs(text.count(symbol) - count * width / total) < 1
    if len(profile) in (5, 6, 7):
        assert len(profile_bar(profile, width=width)) == width
