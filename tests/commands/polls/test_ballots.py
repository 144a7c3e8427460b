"""Counting stored ballot contents (commands/polls/ballots.py) against the reference
tallies."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.storage.polls import Poll, PollMode
from commands.polls.ballots import tally_contents
from commands.polls.tally import tally_dates, tally_majority_judgment

SCALE = 5

_MARKS = {PollMode.JUDGMENT: "01234-", PollMode.DATES: "ymn-"}


@settings(max_examples=200, deadline=None)
@given(
    mode=st.sampled_from([PollMode.JUDGMENT, PollMode.DATES]),
    n_options=st.integers(2, 6),
    data=st.data(),
)
def test_counting_stored_marks_equals_decoding_every_ballot(
    mode: PollMode, n_options: int, data: st.DataObject
) -> None:
    """The fast count of stored contents (joined, sliced, counted) equals the reference tallies
    of :mod:`commands.polls.tally` fed one decoded ballot per voter; contents may be shorter
    than the poll (the rest unmarked) or mark nothing (a withdrawn vote, not counted)."""
    content = st.text(alphabet=_MARKS[mode], max_size=n_options)
    counted = data.draw(st.dictionaries(content, st.integers(1, 4), max_size=12))
    poll = Poll(mode=mode.value, n_options=n_options, scale_size=SCALE, ungraded_worst=True)
    ballots = [c for c, n in counted.items() for _ in range(n)]
    observed = tally_contents(poll, counted)
    if mode == PollMode.JUDGMENT:
        grades = [[None if m == "-" else int(m) for m in c] for c in ballots]
        assert observed.judgment == tally_majority_judgment(grades, n_options, SCALE)
        assert observed.voters == observed.judgment.voters
    else:
        names = {"y": "yes", "m": "ifneedbe", "n": "no"}
        answers = [{i: names[m] for i, m in enumerate(c) if m != "-"} for c in ballots]
        assert observed.dates == tally_dates(answers, n_options)  # type: ignore[arg-type]
    assert tally_contents(poll, ballots) == observed  # a list of contents counts the same


@pytest.mark.parametrize(
    "counted",
    [{"0123": 1}, {"0x": 1}, {"01": -1}],
    ids=["longer than the poll", "unknown mark", "negative count"],
)
def test_malformed_stored_marks_raise(counted: dict[str, int]) -> None:
    poll = Poll(mode=PollMode.JUDGMENT.value, n_options=3, scale_size=SCALE)
    with pytest.raises(ValueError):
        tally_contents(poll, counted)
