"""The poll services on the database, SQLite and PostgreSQL when configured: the tallies
equal the ballots whatever the votes, the statements a vote costs, sealed voters."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.core import Actor, Place, UserError
from bot.i18n import Translators
from bot.storage.members import Member, upsert_member
from bot.storage.polls import Poll, PollMode
from commands.polls import (
    BallotChange,
    SetChoices,
    SetMarks,
    ToggleChoice,
    Withdraw,
    cast_vote,
    close_poll,
    create_poll,
    poll_results,
    reopen_poll,
)

START = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 23 November 2026, 09:00 in Paris
FR = Translators(ZoneInfo("Europe/Paris")).get("fr")


# --- property: tallies equal the ballots --------------------------------------------------------

N_VOTERS = 5
N_OPTIONS = 3
SCALE = 5
MODES = [PollMode.SINGLE, PollMode.MULTIPLE, PollMode.JUDGMENT, PollMode.DATES]

op_strategy = st.tuples(
    st.integers(0, N_VOTERS - 1),
    st.sampled_from(["set", "toggle", "mark", "withdraw"]),
    st.integers(0, N_OPTIONS - 1),
    st.integers(0, SCALE - 1),
    st.frozensets(st.integers(0, N_OPTIONS - 1), max_size=N_OPTIONS),
)


def _change(mode: PollMode, kind: str, option: int, value: int, chosen: frozenset[int]) -> Any:
    if kind == "withdraw":
        return Withdraw()
    if mode == PollMode.SINGLE:
        return SetChoices(frozenset({option}))
    if mode == PollMode.MULTIPLE:
        return ToggleChoice(option) if kind == "toggle" else SetChoices(chosen)
    # Marks: one option, or several at once (a text vote), merged into the stored ballot.
    options = sorted(chosen | {option}) if kind == "set" else [option]
    if mode == PollMode.JUDGMENT:
        return SetMarks({o: str((value + o) % SCALE) for o in options})
    return SetMarks({o: "ymn"[(value + o) % 3] for o in options})


def _model_apply(
    mode: PollMode, max_choices: int | None, ballot: Any, change: BallotChange
) -> tuple[bool, Any]:
    """The naive model: (accepted, new ballot). Ballots: a set of options, or a dict of marks."""
    if isinstance(change, Withdraw):
        return (ballot is not None, None)
    if isinstance(change, SetChoices | ToggleChoice):
        chosen = set(ballot or set())
        if isinstance(change, SetChoices):
            chosen = set(change.options)
        elif change.option in chosen:
            chosen.remove(change.option)
        else:
            chosen.add(change.option)
        if max_choices is not None and len(chosen) > max_choices:
            return (False, ballot)
        return (True, chosen or None)
    assert isinstance(change, SetMarks)
    marks = dict(ballot or {})
    marks.update(change.marks)
    return (True, marks)


def _as_model(mode: PollMode, content: str | None) -> Any:
    """A stored ballot content in the model's terms."""
    if content is None:
        return None
    if mode in (PollMode.SINGLE, PollMode.MULTIPLE):
        return {int(part) for part in content.split(",")}
    return {i: mark for i, mark in enumerate(content) if mark != "-"}


def _expected(mode: PollMode, ballots: dict[int, Any]) -> dict[str, Any]:
    cast = {voter: b for voter, b in ballots.items() if b}
    if mode in (PollMode.SINGLE, PollMode.MULTIPLE):
        return {
            "voters": len(cast),
            "counts": [sum(1 for b in cast.values() if o in b) for o in range(N_OPTIONS)],
        }
    if mode == PollMode.JUDGMENT:
        profiles = []
        for o in range(N_OPTIONS):
            grades = Counter(int(b.get(o, SCALE - 1)) for b in cast.values())
            profiles.append(tuple(grades[g] for g in range(SCALE)))
        return {"voters": len(cast), "profiles": profiles}
    answers = []
    for o in range(N_OPTIONS):
        given_answers = Counter(b.get(o, "n") for b in cast.values())
        answers.append((given_answers["y"], given_answers["m"], given_answers["n"]))
    return {"voters": len(cast), "answers": answers}


def _observed(mode: PollMode, engine: Engine, poll_id: int) -> dict[str, Any]:
    with Session(engine) as db:
        poll = db.get(Poll, poll_id)
        assert poll is not None
        results = poll_results(db, poll)
    if results.choices is not None:
        return {"voters": results.voters, "counts": [c.votes for c in results.choices.counts]}
    if results.judgment is not None:
        by_option = sorted(results.judgment.options, key=lambda o: o.option)
        # Ungraded options are left out of the profile (the default): add them as the worst.
        profiles = [(*o.profile[:-1], o.profile[-1] + o.ungraded) for o in by_option]
        return {"voters": results.voters, "profiles": profiles}
    assert results.dates is not None
    by_slot = sorted(results.dates.slots, key=lambda s: s.option)
    return {
        "voters": results.voters,
        "answers": [(s.yes, s.ifneedbe, s.no + s.unanswered) for s in by_slot],
    }


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    mode=st.sampled_from(MODES),
    anonymous=st.booleans(),
    max_choices=st.sampled_from([None, 1, 2]),
    ops=st.lists(op_strategy, max_size=25),
)
def test_tallies_equal_the_ballots(
    engine: Engine,
    mode: PollMode,
    anonymous: bool,
    max_choices: int | None,
    ops: list[tuple[int, str, int, int, frozenset[int]]],
) -> None:
    secret = b"s" * 32
    with Session(engine) as db:
        people = [
            upsert_member(db, Actor("console", f"p{i}", f"P{i}"), START) for i in range(N_VOTERS)
        ]
        poll = create_poll(
            db,
            creator=people[0],
            place=Place("console", "general", "general"),
            question="Q ?",
            options=(
                ["demain 9h", "mercredi 9h", "jeudi 9h"]
                if mode == PollMode.DATES
                else ["A", "B", "C"]
            ),
            mode=mode.value,
            anonymous=anonymous,
            now=START,
            max_choices=max_choices if mode == PollMode.MULTIPLE else None,
            scale_size=SCALE,
            t=FR,
        )
        db.commit()
        poll_id, member_ids = poll.id, [p.id for p in people]
    limit = max_choices if mode == PollMode.MULTIPLE else None
    model: dict[int, Any] = {}
    for voter, kind, option, value, chosen in ops:
        change = _change(mode, kind, option, value, chosen)
        accepted, after = _model_apply(mode, limit, model.get(voter), change)
        with Session(engine) as db:
            member = db.get(Member, member_ids[voter])
            assert member is not None
            try:
                outcome = cast_vote(
                    db,
                    poll_id=poll_id,
                    member=member,
                    change=change,
                    now=START,
                    secret=secret,
                    t=FR,
                )
                db.commit()
                recorded = True
            except UserError:
                db.rollback()
                recorded = False
        assert recorded == accepted, (change, model.get(voter))
        if recorded:  # what the voter is told is what was stored
            assert _as_model(mode, outcome.after) == after, (change, outcome.after)
        if accepted:
            model[voter] = after
    assert _observed(mode, engine, poll_id) == _expected(mode, model)
    with Session(engine) as db:
        to_close = db.get(Poll, poll_id)
        assert to_close is not None
        assert close_poll(db, to_close, now=START, public_t=FR)
        db.commit()
    # Closing (and sealing anonymous ballots) changes no count.
    assert _observed(mode, engine, poll_id) == _expected(mode, model)


@pytest.mark.parametrize(
    ("mode", "anonymous", "changes", "expected"),
    [
        # A first vote, a changed vote, a withdrawal: the revision bump and one write each.
        (PollMode.SINGLE, False, [SetChoices(frozenset({0})), SetChoices(frozenset({1}))], 2),
        (PollMode.SINGLE, False, [SetChoices(frozenset({0})), Withdraw()], 2),
        (PollMode.SINGLE, True, [SetChoices(frozenset({0})), SetChoices(frozenset({2}))], 2),
        # Marks given one option at a time are merged by the upsert, not read first.
        (PollMode.JUDGMENT, False, [SetMarks({0: "1"}), SetMarks({2: "3"})], 2),
        (PollMode.DATES, True, [SetMarks({0: "y"}), SetMarks({1: "m", 2: "n"})], 2),
        # A toggle depends on the stored ballot: bump, read (FOR UPDATE), write.
        (PollMode.MULTIPLE, False, [ToggleChoice(0), ToggleChoice(1)], 3),
    ],
)
def test_a_vote_is_a_revision_bump_and_one_write(
    engine: Engine,
    mode: PollMode,
    anonymous: bool,
    changes: list[BallotChange],
    expected: int,
) -> None:
    """Statements per vote once the poll is loaded (each one a round trip on PostgreSQL)."""
    statements: list[str] = []

    def count(*args: Any) -> None:
        verb = str(args[2]).split(None, 1)[0]
        if verb != "BEGIN":  # SQLite's BEGIN IMMEDIATE, the transaction's, not the vote's
            statements.append(verb)

    with Session(engine, expire_on_commit=False) as db:  # as the app's sessions
        member = upsert_member(db, Actor("console", "p1", "P1"), START)
        options = ["demain 9h", "mercredi 9h", "jeudi 9h"] if mode == PollMode.DATES else "ABC"
        poll = create_poll(
            db,
            creator=member,
            place=Place("console", "general", "general"),
            question="Q ?",
            options=list(options),
            mode=mode.value,
            anonymous=anonymous,
            now=START,
            scale_size=SCALE,
            t=FR,
        )
        db.commit()
        for change in changes:
            statements.clear()
            event.listen(engine, "before_cursor_execute", count)
            try:
                cast_vote(
                    db,
                    poll_id=poll.id,
                    member=member,
                    change=change,
                    now=START,
                    secret=b"s" * 32,
                    t=FR,
                )
            finally:
                event.remove(engine, "before_cursor_execute", count)
            db.commit()
            assert statements[0] == "UPDATE" and len(statements) == expected, statements


def test_a_reopened_anonymous_poll_checks_its_sealed_voters(engine: Engine) -> None:
    with Session(engine) as db:
        voter = upsert_member(db, Actor("console", "p1", "P1"), START)
        poll = create_poll(
            db,
            creator=voter,
            place=Place("console", "general", "general"),
            question="Q ?",
            options=["A", "B"],
            anonymous=True,
            now=START,
            t=FR,
        )
        cast_vote(
            db,
            poll_id=poll.id,
            member=voter,
            change=SetChoices(frozenset({0})),
            now=START,
            secret=b"s" * 32,
            t=FR,
        )
        assert close_poll(db, poll, now=START, public_t=FR)
        reopen_poll(db, poll, now=START)
        db.commit()
        poll_id = poll.id
        with pytest.raises(UserError, match="scellé"):
            cast_vote(
                db,
                poll_id=poll_id,
                member=voter,
                change=SetChoices(frozenset({1})),
                now=START,
                secret=b"s" * 32,
                t=FR,
            )
        db.rollback()
    assert _observed(PollMode.SINGLE, engine, poll_id) == {"voters": 1, "counts": [1, 0]}
