"""What can be done with a poll: create, vote, close, reopen, and find the best date.

Permissions are the callers' business (the handlers check them). Every refusal is a PollError
in the asker's language; the caller's transaction must then be rolled back (the dispatcher
does). Creating and closing put the poll message and the results in the outbox.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.core import InvalidValue, Place, PlaceTarget
from bot.i18n import Translator
from bot.outbox import enqueue
from bot.storage.members import Member, PlaceRow, record_place
from bot.storage.polls import (
    MAX_OPTION,
    MAX_OPTIONS,
    MAX_QUESTION,
    MIN_OPTIONS,
    Poll,
    PollMode,
    PollOption,
    PollView,
)
from commands.polls.ballots import (
    BallotChange,
    ToggleChoice,
    Withdraw,
    apply_change,
    check_change,
    tally_contents,
)
from commands.polls.errors import (
    DeadlinePast,
    EmptyOption,
    EmptyQuestion,
    MaxOutOfRange,
    MaxWithoutMultiple,
    NobodyAvailable,
    NotADatePoll,
    NotVoted,
    OptionTooLong,
    QuestionTooLong,
    SameOptions,
    SameSlot,
    TooFewOptions,
    TooManyOptions,
    VoteSealed,
)
from commands.polls.parsing import parse_slot, same_text
from commands.polls.render import poll_message, results_message
from commands.polls.secret import seal_ballots, voter_key
from commands.polls.store import (
    SEALED_VOTER,
    ballot_statements_for,
    fallback_translator,
    get_poll,
    message_key,
    open_for_vote,
    poll_results,
    results_key,
)
from commands.polls.tally import grade_scale

EDIT_THROTTLE = timedelta(seconds=5)
"""At most one edit of a poll message per poll in this time (Discord allows about 5 edits per
5 seconds per channel; Rocket.Chat's default rate limiter is stricter on bursts)."""
WORK_NAME = "polls"
"""The due-work provider's name: handlers put it in ``ctx.changed``."""


def accepts_votes(poll: Poll, now: datetime) -> bool:
    """Open, and its deadline (if any) not reached: a vote that comes after the deadline is
    refused even before the scheduled close has run."""
    return poll.closed_at is None and (poll.deadline is None or poll.deadline > now)


def best_date_slot(db: Session, number: int, t: Translator | None = None) -> datetime:
    """The start (UTC) of the best slot of date poll ``n° number``: most "yes", then most "yes" +
    "if need be", then the earliest. UserError when the poll is unknown, is not a date poll, or
    nobody can attend any slot yet."""
    t = t or fallback_translator()
    poll = get_poll(db, number, t)
    if poll.mode != PollMode.DATES:
        raise NotADatePoll(t, poll.id)
    results = poll_results(db, poll)
    assert results.dates is not None
    if not results.dates.best:
        raise NobodyAvailable(t, poll.id)
    best = min(results.dates.best)
    starts_at = poll.options[best].starts_at
    assert starts_at is not None
    return starts_at


def _validate(
    t: Translator,
    *,
    question: str,
    options: Sequence[str],
    mode: PollMode,
    max_choices: int | None,
    deadline: datetime | None,
    now: datetime,
) -> None:
    if not question:
        raise EmptyQuestion(t)
    if len(question) > MAX_QUESTION:
        raise QuestionTooLong(t, len(question))
    if len(options) < MIN_OPTIONS:
        raise TooFewOptions(t)
    if len(options) > MAX_OPTIONS:
        raise TooManyOptions(t, len(options))
    seen: dict[str, str] = {}
    for number, option in enumerate(options, start=1):
        if not option:
            raise EmptyOption(t, number)
        if len(option) > MAX_OPTION:
            raise OptionTooLong(t, number, len(option))
        key = same_text(option)
        if key in seen:
            raise SameOptions(t, seen[key], option)
        seen[key] = option
    if max_choices is not None:
        if mode != PollMode.MULTIPLE:
            raise MaxWithoutMultiple(t)
        if not 1 <= max_choices <= len(options):
            raise MaxOutOfRange(t, len(options))
    if deadline is not None and deadline <= now:
        raise DeadlinePast(t, deadline)


def create_poll(
    db: Session,
    *,
    creator: Member,
    place: PlaceRow | Place,
    question: str,
    options: Sequence[str],
    mode: str = "single",
    deadline: datetime | None = None,
    anonymous: bool = False,
    now: datetime,
    max_choices: int | None = None,
    hidden_results: bool = False,
    ungraded_worst: bool = False,
    scale_size: int = 7,
    t: Translator | None = None,
    public_t: Translator | None = None,
    changed: set[str] | None = None,
) -> Poll:
    """Check everything, store the poll and put its message in the outbox; return the poll.

    ``options`` are texts; for ``mode="dates"`` they are read as dates in ``t.tz`` (a date
    without a time is a whole-day slot) and sorted chronologically. Every problem is a UserError
    in ``t``'s language (nothing is stored then). The poll message is written in ``public_t``'s
    language (default ``t``), the network's. Permissions are the caller's business. Adds
    ``"outbox"`` and ``"polls"`` to ``changed`` (pass ``ctx.changed``).
    """
    t = t or fallback_translator()
    public_t = public_t or t
    try:
        poll_mode = PollMode(mode)
    except ValueError:
        raise InvalidValue(f"unknown poll mode {mode!r}") from None
    question = question.strip()
    labels = [option.strip() for option in options]
    _validate(
        t,
        question=question,
        options=labels,
        mode=poll_mode,
        max_choices=max_choices,
        deadline=deadline,
        now=now,
    )
    if poll_mode == PollMode.JUDGMENT:
        grade_scale(scale_size)  # ValueError on a bad configuration
    slots: list[tuple[datetime, bool, str]] = []
    if poll_mode == PollMode.DATES:
        for number, label in enumerate(labels, start=1):
            starts_at, all_day = parse_slot(label, number, now=now, t=t)
            slots.append((starts_at, all_day, label))
        slots.sort(key=lambda slot: (slot[0], slot[1]))
        for previous, current in itertools.pairwise(slots):
            if previous[:2] == current[:2]:
                raise SameSlot(t, previous[2], current[2])
    place_row = place if isinstance(place, PlaceRow) else record_place(db, place, now)
    poll = Poll(
        place_id=place_row.id,
        creator_id=creator.id,
        question=question,
        mode=poll_mode.value,
        n_options=len(labels),
        max_choices=max_choices,
        scale_size=scale_size if poll_mode == PollMode.JUDGMENT else None,
        anonymous=anonymous,
        hidden_results=hidden_results,
        ungraded_worst=ungraded_worst and poll_mode == PollMode.JUDGMENT,
        deadline=deadline,
        created_at=now,
        closed_at=None,
        close_count=0,
        revision=0,
        rendered_revision=0,
        rendered_at=now,
        edit_failures=0,
    )
    if slots:
        poll.options = [
            PollOption(position=i, label=label, starts_at=starts_at, all_day=all_day)
            for i, (starts_at, all_day, label) in enumerate(slots)
        ]
    else:
        poll.options = [
            PollOption(position=i, label=label, starts_at=None, all_day=False)
            for i, label in enumerate(labels)
        ]
    db.add(poll)
    db.flush()
    empty = tally_contents(poll, [])
    enqueue(
        db,
        key=message_key(poll.id),
        reply=poll_message(public_t, poll, empty),
        target=PlaceTarget(platform=place_row.platform, channel_id=place_row.channel_id),
        due_at=now,
        now=now,
    )
    if changed is not None:
        changed.update({"outbox", WORK_NAME})
    return poll


@dataclass(frozen=True, slots=True)
class VoteOutcome:
    """The poll voted on and the voter's ballot content after the vote (None: no ballot)."""

    poll: PollView
    after: str | None


def cast_vote(
    db: Session,
    *,
    poll_id: int,
    member: Member,
    change: BallotChange,
    now: datetime,
    secret: bytes | None = None,
    t: Translator | None = None,
    opened: PollView | None = None,
) -> VoteOutcome:
    """Record ``member``'s change to their ballot on poll ``poll_id``.

    UserError (in ``t``'s language) for an unknown or closed poll, an option out of range, a
    selection over ``--max``, withdrawing a vote never cast, or changing a sealed anonymous
    ballot; the caller's transaction must then be rolled back (the dispatcher does). ``secret``
    is required for anonymous polls (:func:`server_secret`). ``opened`` is the poll as
    :func:`open_for_vote` returned it in this transaction (the handlers call it before reading
    the vote, so that a closed poll is said before a badly typed vote); without it, the poll is
    loaded and opened here.

    Round trips: one UPDATE (:func:`open_for_vote`), then one statement for the ballot: an
    upsert returning the new content (a choice, grades or answers: the database merges the marks
    given into the stored ones), or a DELETE (withdrawing). Only a multiple-choice toggle reads
    the ballot (``FOR UPDATE``) before writing it. An anonymous poll that was closed before
    (``close_count`` > 0, read under the lock) also checks its sealed voters.
    """
    t = t or fallback_translator()
    if opened is None:
        loaded = db.get(Poll, poll_id) or get_poll(db, poll_id, t)  # no query when loaded
        opened = open_for_vote(db, PollView.of(loaded), now, t)
    poll = opened
    check_change(t, poll, change)
    connection = db.connection()
    close_count = poll.close_count
    statements = ballot_statements_for(connection.dialect.name, poll)
    columns: dict[str, object]
    if poll.anonymous:
        if secret is None:
            raise InvalidValue("anonymous polls need the server secret")
        columns = {"poll_id": poll.id, "voter_key": voter_key(secret, poll.id, member.id)}
        # Sealed voters exist only once the poll has closed (sealing is part of the close).
        if close_count and connection.execute(SEALED_VOTER, columns).first() is not None:
            raise VoteSealed(t, poll.id)
        stamps: dict[str, object] = {"sealed": False}
    else:
        columns = {"poll_id": poll.id, "member_id": member.id}
        stamps = {"created_at": now, "updated_at": now}
    key = {f"k_{name}": value for name, value in columns.items()}
    if isinstance(change, Withdraw):
        deleted = connection.execute(statements.delete, key)
        if deleted.rowcount != 1:
            raise NotVoted(t, poll.id)
        return VoteOutcome(poll=poll, after=None)
    fresh = None if isinstance(change, ToggleChoice) else apply_change(t, poll, None, change)
    if fresh is not None:
        # Independent of the stored ballot (choices), or merged into it by the database (marks).
        after = connection.execute(statements.upsert, {**columns, **stamps, "content": fresh})
        return VoteOutcome(poll=poll, after=after.scalar_one())
    # A toggle (or an empty change): read, apply, write.
    before: str | None = connection.execute(statements.read, key).scalar_one_or_none()
    content = apply_change(t, poll, before, change)
    if content is None:
        if before is not None:
            connection.execute(statements.delete, key)
    elif before is not None:
        connection.execute(statements.update, {**key, "new_content": content, "now": now})
    else:
        connection.execute(statements.insert, {**columns, **stamps, "content": content})
    return VoteOutcome(poll=poll, after=content)


def close_poll(
    db: Session, poll: Poll, *, now: datetime, public_t: Translator, at: datetime | None = None
) -> bool:
    """Close ``poll`` and put its results in the outbox; False when it was already closed.

    ``at`` is the closing time recorded (default ``now``; the deadline when the poll closes at its
    deadline, even if the bot was stopped then: no vote was accepted after it). The poll message
    is marked stale with no throttle, so it shows the final results at once.
    """
    closed = db.execute(
        update(Poll)
        .where(Poll.id == poll.id, Poll.closed_at.is_(None))
        .values(
            closed_at=at or now,
            close_count=Poll.close_count + 1,
            revision=Poll.revision + 1,
            rendered_at=now - EDIT_THROTTLE,
            edit_failures=0,
        )
        .execution_options(synchronize_session=False)
    )
    if closed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    db.refresh(poll)
    if poll.anonymous:
        seal_ballots(db, poll)
    place = db.get(PlaceRow, poll.place_id)
    assert place is not None
    enqueue(
        db,
        key=results_key(poll.id, poll.close_count),
        reply=results_message(public_t, poll, poll_results(db, poll)),
        target=PlaceTarget(platform=place.platform, channel_id=place.channel_id),
        due_at=now,
        now=now,
    )
    return True


def reopen_poll(
    db: Session, poll: Poll, *, now: datetime, deadline: datetime | None = None
) -> bool:
    """Reopen a closed poll; a passed deadline is replaced by ``deadline`` (None removes it).
    Returns whether the old deadline was removed."""
    removed = False
    if deadline is not None:
        poll.deadline = deadline
    elif poll.deadline is not None and poll.deadline <= now:
        poll.deadline = None
        removed = True
    poll.closed_at = None
    poll.revision += 1
    poll.rendered_at = now - EDIT_THROTTLE
    poll.edit_failures = 0
    db.flush()
    return removed
