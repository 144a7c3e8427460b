"""/sondage (/poll), /sondages (/polls), /voter (/vote): polls, from a quick choice to a date hunt.

Commands
    ``/sondage "Question ?" "A" "B" ...`` creates a poll (2 to 20 options) in the channel:
    ``--multiple [--max K]``, ``--jugement`` (majority judgment), ``--dates`` (the options are
    slots), ``--anonyme``, ``--fin 2j`` / ``--fin "vendredi 18h"``, ``--resultats-caches``.
    ``/sondage resultats N``, ``/sondage clore N``, ``/sondage rouvrir N [--fin ...]``,
    ``/sondage export N`` (coordinators, CSV), ``/sondages`` (open polls of the channel) and
    ``/voter N ...`` (voting by text). English aliases: ``/poll``, ``results``, ``close``,
    ``reopen``, ``export``, ``/polls``, ``/vote``, and ``--multiple --max --judgment --dates
    --anonymous --end --hidden-results``.

Who may do what
    Creating: coordinators, or everyone when ``[polls] creators = "everyone"``. Closing and
    reopening: the poll's creator or a coordinator. Exporting: coordinators. Voting and seeing
    results: everyone. Polls are created in channels, not in private conversations.

The poll message
    Posted through the outbox (key ``poll:<id>:message``) in the network's language, so its
    platform reference is recorded and it can be edited. It carries one button per option
    (single/multiple: a vote; majority judgment and dates: a private prompt with the grades, or
    yes / if need be / no, chained to the next option not yet answered) and "Withdraw my vote".
    The command itself answers with a short private receipt.

Voting by text (platforms without buttons)
    ``/voter 12 2`` (single choice); ``/voter 12 1 3`` (multiple choice: the whole selection);
    ``/voter 12 1=bien 2=passable`` or ``/voter 12 bien passable ...`` (majority judgment; grades
    by name in French or English, accents and spaces ignored, or by number, 1 = the best);
    ``/voter 12 1=oui 2=non 3=si-necessaire`` or ``/voter 12 oui non ...`` (dates; also
    yes/ifneedbe/no, o/n, ?); ``/voter 12 retirer`` withdraws; ``/voter 12`` alone shows your
    current vote with the buttons. Options may be given by number or by their exact text.
    Pairs update the options they name and keep the others.

Ballots
    One per voter and poll, enforced by the database (primary keys). A vote first bumps the poll's
    ``revision`` with ``UPDATE ... WHERE closed_at IS NULL``: that is the atomic "is it still open"
    check (a vote never lands on a poll closed concurrently) and it serialises the votes of one
    poll on PostgreSQL. The ballot is then written by one upsert (``INSERT ... ON CONFLICT DO
    UPDATE ... RETURNING``) that merges the marks given into the stored ones, or one DELETE; only a
    multiple-choice toggle reads its ballot first (see :func:`cast_vote`). Multiple choice with ``--max`` refuses a selection over the maximum.
    Majority judgment: an option a voter leaves ungraded counts as the lowest grade (Balinski and
    Laraki's rule); the confirmation says which options are still ungraded. Date polls: an
    unanswered slot counts as "no". Slots are sorted chronologically; a date typed without a time
    is a whole-day slot.

Anonymity (``--anonyme``)
    Anonymous ballots live in their own table, keyed by HMAC-SHA256(server secret, poll, member),
    with no member column, no timestamp and no rowid (``WITHOUT ROWID`` on SQLite): one ballot per
    member, changeable, yet the database alone cannot tell whose it is. The secret is
    ``TISSERAND_SECRET_KEY`` (or ``TISSERAND_SECRET_KEY_FILE``), else ``<data_dir>/secret.key``,
    created with mode 0600 on first use; it is never stored in the database. When the poll closes
    its ballots are *sealed*: rewritten in one transaction under random keys, in random order,
    and the voters' HMAC keys are kept apart (who voted, without what) so that a reopened poll
    still refuses a second ballot. See docs/design.md, "Polls", for what an operator holding both
    the key and the database can learn.

Live results and throttling
    A vote only bumps ``polls.revision``. The due-work provider ``polls`` (registered by
    :func:`setup`) edits the poll message of a poll whose ``rendered_revision`` lags, at most once
    every :data:`EDIT_THROTTLE` per poll (from ``rendered_at``), re-rendering everything from the
    database; a failed edit backs off exponentially and is abandoned after
    :data:`MAX_EDIT_FAILURES`. A vote re-arms the provider only when its wake-up is not already
    armed for that edit or earlier (:meth:`PollWork.covers`), so most votes cost no query for it. Closing and reopening are shown at once. Hidden results
    (``--resultats-caches``) show the number of participants only, until the poll closes. All of
    this is database state, so it survives restarts.

Deadlines
    The same provider closes every open poll whose deadline passed, also the ones that fell due
    while the bot was stopped, and posts the results through the outbox (``poll:<id>:results``;
    ``poll:<id>:results:<n>`` for the n-th close of a reopened poll). Reopening a poll whose
    deadline passed removes the deadline unless ``--fin`` gives a new one.

Services for other command families: :func:`create_poll`, :func:`best_date_slot`,
:func:`poll_results`, :func:`close_poll`.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import hmac
import io
import itertools
import logging
import operator
import os
import re
import secrets
import stat
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import String, Table, bindparam, case, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, joinedload

from bot.config import Settings, read_secret
from bot.context import Context
from bot.core import Attachment, ExtraEntry, Place, PlaceTarget, Reply, Role, UserError
from bot.dates import (
    DATE_EXAMPLES_EN,
    DATE_EXAMPLES_FR,
    DURATION_EXAMPLES_EN,
    DURATION_EXAMPLES_FR,
    DateParseError,
    parse_datetime,
    parse_deadline,
)
from bot.family import Family, GazetteSection, Host
from bot.i18n import DEFAULT_LOCALE, N_, Translator, Translators, fold
from bot.outbox import enqueue, sent_ref
from bot.registry import Args, Option, OptionType, StaleChoice, command, on_choice
from bot.storage.members import Member, PlaceRow, record_place
from bot.storage.outbox import OutboxMessage, OutboxStatus
from bot.storage.polls import (
    MAX_OPTION,
    MAX_OPTIONS,
    MAX_QUESTION,
    MIN_OPTIONS,
    AnyPoll,
    Poll,
    PollAnonymousBallot,
    PollBallot,
    PollMode,
    PollOption,
    PollSealedVoter,
    PollView,
)
from commands.polls.render import (
    PollResults,
    answer_name,
    grade_names,
    option_text,
    outcome_line,
    participants,
    poll_choices,
    poll_message,
    prompt_choices,
    prompt_question,
    quote,
    results_message,
)
from commands.polls.tally import (
    DateAnswer,
    grade_scale,
    rank_profiles,
    rank_slots,
    tally_choices,
)

log = logging.getLogger(__name__)

EDIT_THROTTLE = timedelta(seconds=5)
"""At most one edit of a poll message per poll in this time (Discord allows about 5 edits per
5 seconds per channel; Rocket.Chat's default rate limiter is stricter on bursts)."""
MAX_EDIT_FAILURES = 10
SECRET_FILE = "secret.key"
SECRET_SERVICE = "polls.secret"
"""Where the server secret is kept once read (``Host.services``): read once, not at every vote."""
WORK_NAME = "polls"
"""The due-work provider's name: handlers put it in ``ctx.changed``."""
WORK_SERVICE = "polls.work"
"""Where :func:`setup` puts the :class:`PollWork` provider (``Host.services``)."""
DEFINITIONS_SERVICE = "polls.definitions"
"""Where the polls read by votes are kept (``Host.services``, :func:`poll_definition`)."""
MAX_CACHED_DEFINITIONS = 1024

_Ballot = TypeVar("_Ballot")
_ANSWER_MARKS: dict[str, DateAnswer] = {"y": "yes", "m": "ifneedbe", "n": "no"}
_MARK_OF_ANSWER: dict[str, str] = {answer: mark for mark, answer in _ANSWER_MARKS.items()}
UNMARKED = "-"


def message_key(poll_id: int) -> str:
    return f"poll:{poll_id}:message"


def results_key(poll_id: int, close_count: int) -> str:
    base = f"poll:{poll_id}:results"
    return base if close_count <= 1 else f"{base}:{close_count}"


def _fallback_translator() -> Translator:
    return Translator(DEFAULT_LOCALE, ZoneInfo("Europe/Paris"))


# --- the server secret of anonymous ballots ----------------------------------------------------


def server_secret(settings: Settings) -> bytes:
    """The secret keying anonymous ballots: ``TISSERAND_SECRET_KEY`` (or ``..._FILE``), else
    ``<data_dir>/secret.key``, created atomically with mode 0600 on first use."""
    configured = read_secret("SECRET_KEY")
    if configured:
        return configured.encode("utf-8")
    path = Path(settings.data_dir) / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{SECRET_FILE}.{secrets.token_hex(6)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)  # atomic: never a half-written key, never two keys
        except FileExistsError:
            pass  # another process created it first: use theirs
        finally:
            temporary.unlink()
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        log.warning("%s can be read by other users; chmod 600 it", path)
    text = path.read_text(encoding="ascii").strip()
    if len(text) < 32:
        raise RuntimeError(f"{path} holds no usable secret (at least 32 characters)")
    return text.encode("ascii")


def voter_key(secret: bytes, poll_id: int, member_id: int) -> str:
    message = f"tisserand-poll-voter:{poll_id}:{member_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


# --- ballot contents and tallies ---------------------------------------------------------------


def _decode_choices(content: str) -> tuple[int, ...]:
    return tuple(int(part) for part in content.split(",")) if content else ()


def _encode_choices(options: frozenset[int] | set[int]) -> str | None:
    return ",".join(str(i) for i in sorted(options)) or None


def _decode_marks(content: str | None, n_options: int) -> list[str]:
    marks = list(content or "")
    return marks + [UNMARKED] * (n_options - len(marks))


def _encode_marks(marks: Sequence[str]) -> str | None:
    return None if all(mark == UNMARKED for mark in marks) else "".join(marks)


def tally_contents(poll: Poll, contents: Iterable[str] | Mapping[str, int]) -> PollResults:
    """Count stored ballot contents with :mod:`commands.polls.tally`.

    ``contents`` lists ballot contents, or maps each distinct content to how many ballots hold
    it (what :func:`poll_results` reads: each distinct ballot is decoded once). Majority judgment
    and date ballots are counted per option straight from their marks (:func:`_count_marks`, no
    decoded ballot), then ranked. A malformed content raises ValueError.
    """
    counted = contents if isinstance(contents, Mapping) else Counter(contents)
    n = poll.n_options
    if poll.mode in (PollMode.SINGLE, PollMode.MULTIPLE):
        choices = tally_choices(_expand(counted, _decode_choices), n)
        return PollResults(voters=choices.voters, choices=choices)
    if poll.mode == PollMode.JUDGMENT:
        scale = poll.scale_size or 7
        worst = scale - 1
        columns = {str(g): g for g in range(scale)} | {UNMARKED: worst}
        counts, voters = _count_marks(counted, n, columns, scale)
        judgment = rank_profiles(counts, scale, voters=voters)
        return PollResults(voters=voters, judgment=judgment)
    # Dates: column 0 "yes", 1 "if need be", 2 "no" (an unanswered slot is a "no").
    counts, voters = _count_marks(counted, n, {"y": 0, "m": 1, "n": 2, UNMARKED: 2}, 3)
    dates = rank_slots([c[0] for c in counts], [c[1] for c in counts], voters)
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
        raise ValueError(f"malformed ballots for {n_options} options: {dict(counted)!r}")
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
            raise ValueError(f"unknown mark in the ballots for option {position}")
    return counts, voters


def _expand(counted: Mapping[str, int], decode: Callable[[str], _Ballot]) -> Iterator[_Ballot]:
    """Each distinct ballot decoded once, repeated as many times as it was cast."""
    return itertools.chain.from_iterable(
        itertools.repeat(decode(content), count) for content, count in counted.items()
    )


def _ballot_model(poll: Poll) -> type[PollBallot] | type[PollAnonymousBallot]:
    return PollAnonymousBallot if poll.anonymous else PollBallot


def ballot_contents(db: Session, poll: Poll) -> list[str]:
    model = _ballot_model(poll)
    return list(db.scalars(select(model.content).where(model.poll_id == poll.id)))


def poll_results(db: Session, poll: Poll) -> PollResults:
    """The current tally of ``poll``, from the database: SQL groups identical ballots (no
    ordering: the counts do not depend on it, and sorting thousands of distinct majority-judgment
    ballots cost as much as grouping them), Python counts each distinct one once."""
    statement = _CONTENT_COUNTS[poll.anonymous]
    rows = db.connection().execute(statement, {"poll_id": poll.id}).all()
    return tally_contents(poll, dict(rows))


def _content_counts(model: type[PollBallot] | type[PollAnonymousBallot]) -> Any:
    return (
        select(model.content, func.count())
        .where(model.poll_id == bindparam("poll_id"))
        .group_by(model.content)
    )


_CONTENT_COUNTS = {False: _content_counts(PollBallot), True: _content_counts(PollAnonymousBallot)}
"""Built once, keyed by ``Poll.anonymous``."""


def voter_count(db: Session, poll: Poll) -> int:
    model = _ballot_model(poll)
    return int(db.scalar(select(func.count()).where(model.poll_id == poll.id)) or 0)


# --- finding polls -----------------------------------------------------------------------------


_POLL_BY_ID = select(Poll).where(Poll.id == bindparam("poll_id")).options(joinedload(Poll.options))
"""Built once; the options come in the same query (one round trip per vote saved)."""


def get_poll(db: Session, number: int, t: Translator | None = None) -> Poll:
    """The poll ``n° number``; a UserError saying what to do when there is none."""
    poll = db.scalars(_POLL_BY_ID, {"poll_id": number}).unique().one_or_none()
    if poll is None:
        t = t or _fallback_translator()
        raise UserError(
            t.gettext(
                "There is no poll {ref}. Type /polls to see the open polls of this channel.",
                ref=t.ref(number),
            )
        )
    return poll


def accepts_votes(poll: Poll, now: datetime) -> bool:
    """Open, and its deadline (if any) not reached: a vote that comes after the deadline is
    refused even before the scheduled close has run."""
    return poll.closed_at is None and (poll.deadline is None or poll.deadline > now)


def _closed_error(t: Translator, poll: AnyPoll) -> UserError:
    return UserError(
        t.gettext("Poll {ref} is closed: votes are no longer accepted.", ref=t.ref(poll.id))
    )


def best_date_slot(db: Session, number: int, t: Translator | None = None) -> datetime:
    """The start (UTC) of the best slot of date poll ``n° number``: most "yes", then most "yes" +
    "if need be", then the earliest. UserError when the poll is unknown, is not a date poll, or
    nobody can attend any slot yet."""
    t = t or _fallback_translator()
    poll = get_poll(db, number, t)
    if poll.mode != PollMode.DATES:
        raise UserError(
            t.gettext(
                "Poll {ref} is not a date poll: create one with /poll ... --dates.",
                ref=t.ref(poll.id),
            )
        )
    results = poll_results(db, poll)
    assert results.dates is not None
    if not results.dates.best:
        raise UserError(
            t.gettext("Nobody can attend any slot of poll {ref} yet.", ref=t.ref(poll.id))
        )
    best = min(results.dates.best)
    starts_at = poll.options[best].starts_at
    assert starts_at is not None
    return starts_at


# --- creating ----------------------------------------------------------------------------------


def _same_text(text: str) -> str:
    return " ".join(fold(text).split())


def _date_examples(t: Translator) -> str:
    examples = DATE_EXAMPLES_FR if t.locale == "fr" else DATE_EXAMPLES_EN
    return ", ".join(quote(t, example) for example in examples)


def _deadline_examples(t: Translator) -> str:
    durations = DURATION_EXAMPLES_FR if t.locale == "fr" else DURATION_EXAMPLES_EN
    dates = DATE_EXAMPLES_FR if t.locale == "fr" else DATE_EXAMPLES_EN
    return ", ".join(quote(t, example) for example in (*durations[:2], *dates[3:5]))


def _read_deadline(t: Translator, text: str | None, now: datetime) -> datetime | None:
    """``--fin``: a duration or a moment; None when not given; a UserError with examples."""
    if not text:
        return None
    try:
        return parse_deadline(text, now=now, tz=t.tz)
    except DateParseError:
        raise UserError(
            t.gettext(
                "I cannot read the deadline {text}. Examples that work: {examples}.",
                text=quote(t, text),
                examples=_deadline_examples(t),
            )
        ) from None


def _parse_slot(text: str, number: int, *, now: datetime, t: Translator) -> tuple[datetime, bool]:
    """A date-poll option: its start (UTC) and whether it is a whole day (typed without a time)."""
    try:
        at_midnight = parse_datetime(text, now=now, tz=t.tz, default_time=time(0, 0))
        at_noon = parse_datetime(text, now=now, tz=t.tz, default_time=time(12, 0))
    except DateParseError:
        raise UserError(
            t.gettext(
                "I cannot read the date {text} (option {number}). Examples that work: {examples}.",
                text=quote(t, text),
                number=number,
                examples=_date_examples(t),
            )
        ) from None
    all_day = at_midnight != at_noon
    end = at_midnight + timedelta(days=1) if all_day else at_midnight
    if end <= now:
        raise UserError(
            t.gettext(
                "The slot {text} (option {number}) is in the past. Propose slots to come.",
                text=quote(t, text),
                number=number,
            )
        )
    return at_midnight, all_day


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
        raise UserError(
            t.gettext(
                'The question is empty. Write it between double quotes: /poll "Which theme?" '
                '"Energy" "Water".'
            )
        )
    if len(question) > MAX_QUESTION:
        raise UserError(
            t.gettext(
                "The question is too long ({length} characters); keep it under {limit}.",
                length=len(question),
                limit=MAX_QUESTION,
            )
        )
    if len(options) < MIN_OPTIONS:
        raise UserError(
            t.gettext(
                "A poll needs at least 2 options, each between double quotes, for example: "
                '/poll "Which theme?" "Energy" "Water".'
            )
        )
    if len(options) > MAX_OPTIONS:
        raise UserError(
            t.gettext(
                "A poll has at most {limit} options and you gave {count}. Split it into two "
                "polls, or group some options together.",
                limit=MAX_OPTIONS,
                count=len(options),
            )
        )
    seen: dict[str, str] = {}
    for number, option in enumerate(options, start=1):
        if not option:
            raise UserError(t.gettext("Option {number} is empty: give it a text.", number=number))
        if len(option) > MAX_OPTION:
            raise UserError(
                t.gettext(
                    "Option {number} is too long ({length} characters): each option becomes a "
                    "button, so keep it under {limit} characters.",
                    number=number,
                    length=len(option),
                    limit=MAX_OPTION,
                )
            )
        key = _same_text(option)
        if key in seen:
            raise UserError(
                t.gettext(
                    "The options {first} and {second} are the same (ignoring case and accents). "
                    "Give each option a different text.",
                    first=quote(t, seen[key]),
                    second=quote(t, option),
                )
            )
        seen[key] = option
    if max_choices is not None:
        if mode != PollMode.MULTIPLE:
            raise UserError(
                t.gettext("--max goes with --multiple: add --multiple, or leave out --max.")
            )
        if not 1 <= max_choices <= len(options):
            raise UserError(
                t.gettext(
                    "--max must be between 1 and {count}, the number of options.",
                    count=len(options),
                )
            )
    if deadline is not None and deadline <= now:
        raise UserError(
            t.gettext(
                "The deadline {date} is already past. Give a moment to come, for example "
                "{examples}.",
                date=t.datetime(deadline),
                examples=_deadline_examples(t),
            )
        )


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
    t = t or _fallback_translator()
    public_t = public_t or t
    try:
        poll_mode = PollMode(mode)
    except ValueError:
        raise ValueError(f"unknown poll mode {mode!r}") from None
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
            starts_at, all_day = _parse_slot(label, number, now=now, t=t)
            slots.append((starts_at, all_day, label))
        slots.sort(key=lambda slot: (slot[0], slot[1]))
        for previous, current in itertools.pairwise(slots):
            if previous[:2] == current[:2]:
                raise UserError(
                    t.gettext(
                        "The options {first} and {second} are the same slot. Give each slot once.",
                        first=quote(t, previous[2]),
                        second=quote(t, current[2]),
                    )
                )
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


# --- voting ------------------------------------------------------------------------------------


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


@dataclass(frozen=True, slots=True)
class VoteOutcome:
    """The poll voted on and the voter's ballot content after the vote (None: no ballot)."""

    poll: PollView
    after: str | None


def _check_change(t: Translator, poll: AnyPoll, change: BallotChange) -> None:
    choice_modes = (PollMode.SINGLE, PollMode.MULTIPLE)
    indexes: list[int] = []
    if isinstance(change, SetChoices | ToggleChoice):
        if poll.mode not in choice_modes:
            raise ValueError(f"{type(change).__name__} on a {poll.mode} poll")
        indexes = list(change.options) if isinstance(change, SetChoices) else [change.option]
    elif isinstance(change, SetMarks):
        if poll.mode in choice_modes:
            raise ValueError(f"marks on a {poll.mode} poll")
        indexes = list(change.marks)
        if poll.mode == PollMode.JUDGMENT:
            allowed = {str(g) for g in range(poll.scale_size or 7)}
        else:
            allowed = set(_ANSWER_MARKS)
        if not set(change.marks.values()) <= allowed:
            raise ValueError(f"bad marks {dict(change.marks)!r} for a {poll.mode} poll")
    for index in indexes:
        if not 0 <= index < poll.n_options:
            raise UserError(_not_an_option(t, poll, str(index + 1)))


def _not_an_option(t: Translator, poll: AnyPoll, value: str) -> str:
    return t.gettext(
        "Option {value} is not in poll {ref}: give a number from 1 to {count}.",
        value=quote(t, value),
        ref=t.ref(poll.id),
        count=poll.n_options,
    )


def _too_many(t: Translator, poll: AnyPoll) -> UserError:
    limit = poll.max_choices or poll.n_options
    return UserError(
        t.ngettext(
            "You can choose at most {n} option in poll {ref}. Click a chosen option again to "
            "remove it first.",
            "You can choose at most {n} options in poll {ref}. Click a chosen option again to "
            "remove it first.",
            limit,
            ref=t.ref(poll.id),
        )
    )


def _apply(t: Translator, poll: AnyPoll, before: str | None, change: BallotChange) -> str | None:
    if isinstance(change, Withdraw):
        return None
    if isinstance(change, SetChoices | ToggleChoice):
        if isinstance(change, SetChoices):
            chosen = set(change.options)
        else:
            chosen = set(_decode_choices(before or ""))
            chosen.symmetric_difference_update({change.option})
        if poll.mode == PollMode.SINGLE and len(chosen) > 1:
            raise UserError(
                t.gettext(
                    "Poll {ref} is a single-choice poll: choose one option, for example "
                    "/vote {number} 2.",
                    ref=t.ref(poll.id),
                    number=poll.id,
                )
            )
        if poll.max_choices is not None and len(chosen) > poll.max_choices:
            raise _too_many(t, poll)
        return _encode_choices(chosen)
    marks = _decode_marks(before, poll.n_options)
    for index, mark in change.marks.items():
        marks[index] = mark
    return _encode_marks(marks)


def poll_definition(ctx: Context, number: int) -> PollView:
    """Poll ``n° number`` as a vote reads it: what never changes after creation is read once per
    process (``Host.services``); its state is only what the database had when it was first read
    (:func:`open_for_vote` reads the state that counts). UserError when there is no such poll."""
    cache: dict[int, PollView] | None = ctx.services.get(DEFINITIONS_SERVICE)
    if cache is None:
        cache = ctx.services[DEFINITIONS_SERVICE] = {}
    view = cache.get(number)
    if view is None:
        view = PollView.of(get_poll(ctx.db, number, ctx.t))
        if len(cache) >= MAX_CACHED_DEFINITIONS:
            cache.clear()
        cache[number] = view
    return view


def open_for_vote(db: Session, poll: PollView, now: datetime, t: Translator) -> PollView:
    """The atomic "still open?" check of a vote, in the vote's transaction: one UPDATE that
    marks the poll message stale (it bumps the revision), locks the poll row on PostgreSQL, and
    returns the poll's current state; UserError when the poll is closed or past its deadline."""
    row = db.connection().execute(_OPEN_FOR_VOTE, {"poll_id": poll.id, "now": now}).first()
    if row is None:
        raise _closed_error(t, poll)
    return poll.with_state(
        deadline=row.deadline,
        close_count=row.close_count,
        rendered_at=row.rendered_at,
        edit_failures=row.edit_failures,
    )


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
    t = t or _fallback_translator()
    if opened is None:
        loaded = db.get(Poll, poll_id) or get_poll(db, poll_id, t)  # no query when loaded
        opened = open_for_vote(db, PollView.of(loaded), now, t)
    poll = opened
    _check_change(t, poll, change)
    connection = db.connection()
    close_count = poll.close_count
    statements = _ballot_statements_for(connection.dialect.name, poll)
    columns: dict[str, object]
    if poll.anonymous:
        if secret is None:
            raise ValueError("anonymous polls need the server secret")
        columns = {"poll_id": poll.id, "voter_key": voter_key(secret, poll.id, member.id)}
        # Sealed voters exist only once the poll has closed (sealing is part of the close).
        if close_count and connection.execute(_SEALED_VOTER, columns).first() is not None:
            raise UserError(_sealed_text(t, poll))
        stamps: dict[str, object] = {"sealed": False}
    else:
        columns = {"poll_id": poll.id, "member_id": member.id}
        stamps = {"created_at": now, "updated_at": now}
    key = {f"k_{name}": value for name, value in columns.items()}
    if isinstance(change, Withdraw):
        deleted = connection.execute(statements.delete, key)
        if deleted.rowcount != 1:
            raise UserError(t.gettext("You have not voted on poll {ref}.", ref=t.ref(poll.id)))
        return VoteOutcome(poll=poll, after=None)
    fresh = None if isinstance(change, ToggleChoice) else _apply(t, poll, None, change)
    if fresh is not None:
        # Independent of the stored ballot (choices), or merged into it by the database (marks).
        after = connection.execute(statements.upsert, {**columns, **stamps, "content": fresh})
        return VoteOutcome(poll=poll, after=after.scalar_one())
    # A toggle (or an empty change): read, apply, write.
    before: str | None = connection.execute(statements.read, key).scalar_one_or_none()
    content = _apply(t, poll, before, change)
    if content is None:
        if before is not None:
            connection.execute(statements.delete, key)
    elif before is not None:
        connection.execute(statements.update, {**key, "new_content": content, "now": now})
    else:
        connection.execute(statements.insert, {**columns, **stamps, "content": content})
    return VoteOutcome(poll=poll, after=content)


@dataclass(frozen=True, slots=True)
class _BallotStatements:
    read: Any
    insert: Any
    update: Any
    delete: Any
    upsert: Any


def _ballot_statements(
    dialect: str, table: Table, key: Sequence[str], n_options: int | None, *, stamped: bool
) -> _BallotStatements:
    """Statements built once per dialect, table and ballot kind (building them costs more than
    running them), keyed by ``key``.

    ``upsert`` inserts a new ballot or, on conflict, replaces a choice ballot's content
    (``n_options`` None) or merges marks: for each of the ``n_options`` positions, the new mark
    unless it is ``-`` (not given), else the stored one. It returns the content stored."""
    where = [table.c[name] == bindparam(f"k_{name}") for name in key]
    values: dict[str, Any] = {"content": bindparam("new_content")}
    if stamped:
        values["updated_at"] = bindparam("now")
    insert_ = postgresql_insert(table) if dialect == "postgresql" else sqlite_insert(table)
    merged: Any = insert_.excluded.content
    if n_options is not None:
        positions = range(1, n_options + 1)
        given = [func.substr(insert_.excluded.content, k, 1, type_=String) for k in positions]
        stored = [func.substr(table.c.content, k, 1, type_=String) for k in positions]
        pieces = [
            case((new == UNMARKED, old), else_=new) for new, old in zip(given, stored, strict=True)
        ]
        merged = functools.reduce(operator.add, pieces)
    changes: dict[str, Any] = {"content": merged}
    if stamped:
        changes["updated_at"] = insert_.excluded.updated_at
    upsert = insert_.on_conflict_do_update(index_elements=list(key), set_=changes).returning(
        table.c.content
    )
    return _BallotStatements(
        read=select(table.c.content).where(*where).with_for_update(),
        insert=insert(table),
        update=update(table).where(*where).values(**values),
        delete=delete(table).where(*where),
        upsert=upsert,
    )


_STATEMENTS: dict[tuple[str, bool, int | None], _BallotStatements] = {}


def _ballot_statements_for(dialect: str, poll: AnyPoll) -> _BallotStatements:
    marks = poll.mode in (PollMode.JUDGMENT, PollMode.DATES)
    cache_key = (dialect, poll.anonymous, poll.n_options if marks else None)
    statements = _STATEMENTS.get(cache_key)
    if statements is None:
        if poll.anonymous:
            table, key, stamped = PollAnonymousBallot.__table__, ("poll_id", "voter_key"), False
        else:
            table, key, stamped = PollBallot.__table__, ("poll_id", "member_id"), True
        statements = _ballot_statements(
            dialect,
            table,  # type: ignore[arg-type]
            key,
            cache_key[2],
            stamped=stamped,
        )
        _STATEMENTS[cache_key] = statements
    return statements


_SEALED_VOTER = select(PollSealedVoter.poll_id).where(
    PollSealedVoter.poll_id == bindparam("poll_id"),
    PollSealedVoter.voter_key == bindparam("voter_key"),
)
_POLLS: Table = Poll.__table__  # type: ignore[assignment]
_OPEN_FOR_VOTE = (
    update(_POLLS)
    .where(
        _POLLS.c.id == bindparam("poll_id"),
        _POLLS.c.closed_at.is_(None),
        or_(_POLLS.c.deadline.is_(None), _POLLS.c.deadline > bindparam("now")),
    )
    .values(revision=_POLLS.c.revision + 1)
    .returning(
        _POLLS.c.close_count, _POLLS.c.deadline, _POLLS.c.rendered_at, _POLLS.c.edit_failures
    )
)
"""A Core statement on the table: the ORM's bulk UPDATE would re-annotate (and re-key for the
compiled cache) the statement at every vote."""


def _sealed_text(t: Translator, poll: AnyPoll) -> str:
    return t.gettext(
        "Your vote on poll {ref} was sealed when the poll closed and still counts; it can no "
        "longer be changed.",
        ref=t.ref(poll.id),
    )


def has_sealed_vote(db: Session, poll: Poll, member: Member, secret: bytes | None) -> bool:
    """Whether ``member`` voted on anonymous ``poll`` before a close sealed the ballots."""
    if not poll.anonymous or secret is None:
        return False
    key = voter_key(secret, poll.id, member.id)
    return db.get(PollSealedVoter, (poll.id, key)) is not None


def current_ballot(db: Session, poll: Poll, member: Member, secret: bytes | None) -> str | None:
    """The member's ballot content (None when they have not voted or it was sealed)."""
    if poll.anonymous:
        if secret is None:
            return None
        row = db.get(PollAnonymousBallot, (poll.id, voter_key(secret, poll.id, member.id)))
        return row.content if row is not None else None
    named = db.get(PollBallot, (poll.id, member.id))
    return named.content if named is not None else None


# --- closing and reopening ---------------------------------------------------------------------


def _seal(db: Session, poll: Poll) -> None:
    """Rewrite an anonymous poll's ballots under random keys, in random order, in one
    transaction; keep the voters' HMAC keys apart (who voted, without what)."""
    rows = db.execute(
        select(
            PollAnonymousBallot.voter_key,
            PollAnonymousBallot.content,
            PollAnonymousBallot.sealed,
        ).where(PollAnonymousBallot.poll_id == poll.id)
    ).all()
    if not rows:
        return
    fresh = sorted(key for key, _, sealed in rows if not sealed)
    contents = [content for _, content, _ in rows]
    db.execute(delete(PollAnonymousBallot).where(PollAnonymousBallot.poll_id == poll.id))
    rekeyed = sorted((secrets.token_hex(32), content) for content in contents)
    db.execute(
        insert(PollAnonymousBallot),
        [
            {"poll_id": poll.id, "voter_key": key, "content": content, "sealed": True}
            for key, content in rekeyed
        ],
    )
    if fresh:
        db.execute(
            insert(PollSealedVoter), [{"poll_id": poll.id, "voter_key": key} for key in fresh]
        )


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
        _seal(db, poll)
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


# --- export ------------------------------------------------------------------------------------


def _csv_cell(value: str) -> str:
    """Neutralise spreadsheet formulas in text typed by people."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_csv(db: Session, poll: Poll, t: Translator) -> Attachment:
    """The ballots of ``poll`` as CSV (UTF-8 with a BOM, comma-separated). Anonymous polls have
    no participant, identifier or time columns, and rows sorted by content."""
    labels = [option_text(t, option) for option in poll.options]
    named = not poll.anonymous
    head = [t.gettext("Participant"), t.gettext("Identifier"), t.gettext("Voted at")]
    rows: list[list[str]] = []
    if named:
        records = db.execute(
            select(Member.display_name, Member.user_id, PollBallot.updated_at, PollBallot.content)
            .join(Member, Member.id == PollBallot.member_id)
            .where(PollBallot.poll_id == poll.id)
        ).all()
        records = sorted(records, key=lambda r: (r[0].casefold(), r[1]))
        for name, user_id, voted_at, content in records:
            rows.append([name, user_id, voted_at.astimezone(t.tz).isoformat(timespec="minutes")])
            rows[-1].extend(_cells(t, poll, content))
    else:
        for content in sorted(ballot_contents(db, poll)):
            rows.append(_cells(t, poll, content))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_csv_cell(c) for c in ((head if named else []) + labels)])
    writer.writerows([_csv_cell(c) for c in row] for row in rows)
    filename = t.gettext("poll-{number}.csv", number=poll.id)
    return Attachment(filename, "text/csv", buffer.getvalue().encode("utf-8-sig"))


def _cells(t: Translator, poll: Poll, content: str) -> list[str]:
    if poll.mode in (PollMode.SINGLE, PollMode.MULTIPLE):
        chosen = set(_decode_choices(content))
        return ["x" if i in chosen else "" for i in range(poll.n_options)]
    marks = _decode_marks(content, poll.n_options)
    if poll.mode == PollMode.JUDGMENT:
        names = grade_names(t, poll.scale_size or 7)
        return ["" if m == UNMARKED else names[int(m)] for m in marks]
    return ["" if m == UNMARKED else answer_name(t, _ANSWER_MARKS[m]) for m in marks]


# --- reading votes typed as text ---------------------------------------------------------------


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9?]", "", fold(text))


_WITHDRAW_WORDS = {"retirer", "withdraw", "retrait"}
_ANSWER_WORDS: dict[str, str] = {
    **dict.fromkeys(("oui", "yes", "o", "y", "ok"), "y"),
    **dict.fromkeys(("sinecessaire", "sinecessaires", "ifneedbe", "maybe", "peutetre", "?"), "m"),
    **dict.fromkeys(("non", "no", "n"), "n"),
}


def _grade_words(poll: AnyPoll, translators: Translators) -> Mapping[str, str]:
    return _grade_vocabulary(translators, poll.scale_size or 7)


@functools.lru_cache(maxsize=32)
def _grade_vocabulary(translators: Translators, size: int) -> Mapping[str, str]:
    """Grade words (French and English names, numbers) -> grade index, built once per scale
    (the catalogs do not change while the bot runs)."""
    words: dict[str, str] = {}
    for locale in ("en", "fr"):
        for index, name in enumerate(grade_names(translators.get(locale), size)):
            words[_squash(name)] = str(index)
    worst = str(size - 1)
    if grade_scale(size)[-1] == "To reject":
        words.update({"rejeter": worst, "reject": worst})
    for index in range(size):
        words[str(index + 1)] = str(index)
    return MappingProxyType(words)


def _option_index(t: Translator, poll: AnyPoll, word: str) -> int:
    match = re.fullmatch(r"(?:n[°o]\s*|#)?(\d{1,3})", word.strip(), re.IGNORECASE)
    if match and 1 <= int(match.group(1)) <= poll.n_options:
        return int(match.group(1)) - 1
    wanted = _same_text(word)
    for option in poll.options:
        if _same_text(option.label) == wanted or _same_text(option_text(t, option)) == wanted:
            return option.position
    raise UserError(_not_an_option(t, poll, word))


def parse_text_vote(
    t: Translator, translators: Translators, poll: AnyPoll, words: Sequence[str]
) -> BallotChange:
    """What ``/voter N words...`` asks for (see the module docstring for the syntax)."""
    if len(words) == 1 and fold(words[0]) in _WITHDRAW_WORDS:
        return Withdraw()
    if poll.mode == PollMode.SINGLE:
        if len(words) != 1:
            raise UserError(
                t.gettext(
                    "Poll {ref} is a single-choice poll: choose one option, for example "
                    "/vote {number} 2.",
                    ref=t.ref(poll.id),
                    number=poll.id,
                )
            )
        return SetChoices(frozenset({_option_index(t, poll, words[0])}))
    if poll.mode == PollMode.MULTIPLE:
        return SetChoices(frozenset(_option_index(t, poll, word) for word in words))
    if poll.mode == PollMode.JUDGMENT:
        vocabulary = _grade_words(poll, translators)
        grades = ", ".join(grade_names(t, poll.scale_size or 7))

        def problem(value: str) -> str:
            return t.gettext(
                "{value} is not a grade. Grades: {grades} (or their number, 1 being the best).",
                value=quote(t, value),
                grades=grades,
            )

        example = t.gettext(
            "Give each grade as option=grade, for example /vote {number} 1=good 2=passable, or "
            "one grade per option in order.",
            number=poll.id,
        )
    else:
        vocabulary = _ANSWER_WORDS

        def problem(value: str) -> str:
            return t.gettext(
                "{value} is not an answer: use yes, ifneedbe or no.", value=quote(t, value)
            )

        example = t.gettext(
            "Give each answer as slot=answer, for example /vote {number} 1=yes 2=no, or one "
            "answer per slot in order.",
            number=poll.id,
        )
    pairs = [word.partition("=") for word in words]
    with_equals = [sep == "=" for _, sep, _ in pairs]
    if any(with_equals) and not all(with_equals):
        raise UserError(example)
    if not any(with_equals) and len(words) > poll.n_options:
        raise UserError(example)
    marks: dict[int, str] = {}
    for position, (left, sep, right) in enumerate(pairs):
        index = _option_index(t, poll, left) if sep else position
        value = right if sep else left
        mark = vocabulary.get(_squash(value))
        if mark is None:
            raise UserError(problem(value) + "\n" + example)
        marks[index] = mark
    return SetMarks(marks)


# --- replies -----------------------------------------------------------------------------------


def _ballot_summary(t: Translator, poll: AnyPoll, content: str) -> str:
    if poll.mode in (PollMode.SINGLE, PollMode.MULTIPLE):
        return ", ".join(
            quote(t, option_text(t, poll.options[i])) for i in _decode_choices(content)
        )
    marks = _decode_marks(content, poll.n_options)
    parts = []
    for index, mark in enumerate(marks):
        if mark == UNMARKED:
            continue
        value = (
            grade_names(t, poll.scale_size or 7)[int(mark)]
            if poll.mode == PollMode.JUDGMENT
            else answer_name(t, _ANSWER_MARKS[mark])
        )
        parts.append(f"{quote(t, option_text(t, poll.options[index]))} → {value}")
    return ", ".join(parts)


def _unmarked(poll: AnyPoll, content: str | None) -> list[int]:
    return [i for i, m in enumerate(_decode_marks(content, poll.n_options)) if m == UNMARKED]


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
    if missing and poll.mode == PollMode.JUDGMENT:
        worst = grade_names(t, poll.scale_size or 7)[-1]
        names = ", ".join(quote(t, option_text(t, poll.options[i])) for i in missing)
        lines.append(
            t.gettext(
                "Not graded yet: {options} (they count as {worst}).",
                options=names,
                worst=quote(t, worst),
            )
        )
    elif missing:
        names = ", ".join(quote(t, option_text(t, poll.options[i])) for i in missing)
        lines.append(t.gettext("Not answered yet: {options} (they count as no).", options=names))
    else:
        lines.append(
            t.gettext("You answered every option; click an option of the poll to change it.")
        )
    return Reply(text="\n".join(lines), ephemeral=True)


def _public_t(ctx: Context) -> Translator:
    return ctx.translators.get(ctx.settings.network.locale)


def _secret_for(ctx: Context, poll: AnyPoll) -> bytes | None:
    """The server secret for an anonymous poll, read once per app (``Host.services``)."""
    if not poll.anonymous:
        return None
    secret: bytes | None = ctx.services.get(SECRET_SERVICE)
    if secret is None:
        secret = server_secret(ctx.settings)
        ctx.services[SECRET_SERVICE] = secret
    return secret


def _may_manage(ctx: Context, poll: Poll) -> bool:
    return ctx.actor.is_coordinator or poll.creator_id == ctx.member.id


# --- commands ----------------------------------------------------------------------------------

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


@command(
    "creer",
    "create",
    N_("Creates a poll in this channel: a question and 2 to 20 options."),
    options=[
        Option(
            "question",
            "question",
            N_("The question, between double quotes."),
            positional=True,
            required=True,
        ),
        Option(
            "options",
            "options",
            N_("The options, each between double quotes (2 to 20)."),
            positional=True,
            variadic=True,
        ),
        Option("multiple", "multiple", N_("Voters may choose several options."), OptionType.FLAG),
        Option(
            "max",
            "max",
            N_("With --multiple: at most this many options per voter."),
            OptionType.INTEGER,
        ),
        Option(
            "jugement",
            "judgment",
            N_("Majority judgment: voters grade every option, from Excellent to To reject."),
            OptionType.FLAG,
        ),
        Option(
            "dates",
            "dates",
            N_("Date finding: the options are dates, answered yes, if need be or no."),
            OptionType.FLAG,
        ),
        Option(
            "anonyme",
            "anonymous",
            N_("Nobody, not even the coordinators, can see who voted what."),
            OptionType.FLAG,
        ),
        Option(
            "fin",
            "end",
            N_('When the poll closes by itself, for example 2d or "friday 6pm".'),
        ),
        Option(
            "resultats-caches",
            "hidden-results",
            N_("The counts stay hidden until the poll closes."),
            OptionType.FLAG,
        ),
    ],
    group=GROUP,
    group_alias=GROUP_ALIAS,
    group_help=GROUP_HELP,
    default=True,
    examples=(
        '/sondage "Quel thème pour le prochain webinaire ?" "Sobriété" "Mobilités" "Alimentation"',
        '/sondage "Quels ateliers ?" "Compost" "Vélo" "Énergie" --multiple --max 2 --fin 3j',
        '/sondage "Quel projet soutenir ?" "Jardin partagé" "Repair café" --jugement --anonyme',
        '/sondage "Prochaine journée terrain ?" "jeudi 3 décembre 14h" "4/12 9h" --dates '
        '--fin "vendredi 18h"',
    ),
)
def create_command(ctx: Context, args: Args) -> Reply:
    if ctx.settings.polls.creators == "coordinators" and not ctx.actor.is_coordinator:
        raise UserError(
            ctx._(
                "In this network, polls are created by the coordinators. Ask one of them to "
                "create yours."
            )
        )
    if ctx.place.is_direct:
        raise UserError(
            ctx._("Create polls in a channel, where members can see them, not in private.")
        )
    kinds = [
        mode
        for flag, mode in (
            ("multiple", PollMode.MULTIPLE),
            ("jugement", PollMode.JUDGMENT),
            ("dates", PollMode.DATES),
        )
        if args[flag]
    ]
    if len(kinds) > 1:
        raise UserError(
            ctx._("Choose one kind of poll: --multiple, --judgment or --dates, not several.")
        )
    mode = kinds[0] if kinds else PollMode.SINGLE
    now = ctx.now()
    deadline = _read_deadline(ctx.t, args["fin"], now)
    poll = create_poll(
        ctx.db,
        creator=ctx.member,
        place=ctx.place,
        question=args["question"],
        options=args["options"] or [],
        mode=mode.value,
        deadline=deadline,
        anonymous=bool(args["anonyme"]),
        now=now,
        max_choices=args["max"],
        hidden_results=bool(args["resultats-caches"]),
        scale_size=ctx.settings.polls.grades,
        t=ctx.t,
        public_t=_public_t(ctx),
        changed=ctx.changed,
    )
    return Reply(
        text=ctx._(
            "Poll {ref} is posted. Close it with /poll close {number}; see its results with "
            "/poll results {number}.",
            ref=ctx.t.ref(poll.id),
            number=poll.id,
        ),
        ephemeral=True,
    )


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
    "clore",
    "close",
    N_("Closes a poll and posts its results (its creator or a coordinator)."),
    options=[NUMBER],
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/sondage clore 12",),
)
def close_command(ctx: Context, args: Args) -> Reply:
    poll = get_poll(ctx.db, args["numero"], ctx.t)
    if not _may_manage(ctx, poll):
        raise UserError(
            ctx._(
                "Only the creator of poll {ref} or a coordinator can close it.",
                ref=ctx.t.ref(poll.id),
            )
        )
    if not close_poll(ctx.db, poll, now=ctx.now(), public_t=_public_t(ctx)):
        raise UserError(ctx._("Poll {ref} is already closed.", ref=ctx.t.ref(poll.id)))
    ctx.changed.update({"outbox", WORK_NAME})
    return Reply(
        text=ctx._("Poll {ref} is closed; its results are posted.", ref=ctx.t.ref(poll.id)),
        ephemeral=True,
    )


@command(
    "rouvrir",
    "reopen",
    N_("Reopens a closed poll (its creator or a coordinator)."),
    options=[
        NUMBER,
        Option("fin", "end", N_('A new deadline, for example 2d or "friday 6pm".')),
    ],
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/sondage rouvrir 12", "/sondage rouvrir 12 --fin 2j"),
)
def reopen_command(ctx: Context, args: Args) -> Reply:
    poll = get_poll(ctx.db, args["numero"], ctx.t)
    if not _may_manage(ctx, poll):
        raise UserError(
            ctx._(
                "Only the creator of poll {ref} or a coordinator can reopen it.",
                ref=ctx.t.ref(poll.id),
            )
        )
    if poll.is_open:
        raise UserError(ctx._("Poll {ref} is already open.", ref=ctx.t.ref(poll.id)))
    now = ctx.now()
    deadline = _read_deadline(ctx.t, args["fin"], now)
    if deadline is not None and deadline <= now:
        raise UserError(
            ctx._(
                "The deadline {date} is already past. Give a moment to come, for example "
                "{examples}.",
                date=ctx.t.datetime(deadline),
                examples=_deadline_examples(ctx.t),
            )
        )
    removed = reopen_poll(ctx.db, poll, now=now, deadline=deadline)
    ctx.changed.add(WORK_NAME)
    lines = [ctx._("Poll {ref} is open again.", ref=ctx.t.ref(poll.id))]
    if removed:
        lines.append(ctx._("Its deadline had passed and is removed; give a new one with --end."))
    elif poll.deadline is not None:
        lines.append(ctx._("It closes on {date}.", date=ctx.t.datetime(poll.deadline)))
    return Reply(text="\n".join(lines), ephemeral=True)


@command(
    "export",
    "export",
    N_("Exports the ballots of a poll as a CSV file (without names when it is anonymous)."),
    options=[NUMBER],
    permission=Role.COORDINATOR,
    group=GROUP,
    group_alias=GROUP_ALIAS,
    examples=("/sondage export 12",),
)
def export_command(ctx: Context, args: Args) -> Reply:
    poll = get_poll(ctx.db, args["numero"], ctx.t)
    attachment = export_csv(ctx.db, poll, ctx.t)
    return Reply(
        text=ctx._("The ballots of poll {ref}, as a spreadsheet file.", ref=ctx.t.ref(poll.id)),
        attachments=(attachment,),
        ephemeral=True,
    )


@command(
    "sondages",
    "polls",
    N_("Lists the open polls of this channel."),
    examples=("/sondages",),
)
def list_command(ctx: Context, args: Args) -> Reply:
    polls = list(
        ctx.db.scalars(
            select(Poll)
            .join(PlaceRow, PlaceRow.id == Poll.place_id)
            .where(
                PlaceRow.platform == ctx.place.platform,
                PlaceRow.channel_id == ctx.place.channel_id,
                Poll.closed_at.is_(None),
            )
            .order_by(Poll.id)
        )
    )
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
        secret=_secret_for(ctx, poll),
        t=ctx.t,
        opened=poll,
    )
    _after_vote(ctx, outcome.poll)
    return _confirmation(ctx.t, outcome)


def _show_vote(ctx: Context, poll: Poll) -> Reply:
    secret = _secret_for(ctx, poll)
    content = current_ballot(ctx.db, poll, ctx.member, secret)
    if content is None and has_sealed_vote(ctx.db, poll, ctx.member, secret):
        text = _sealed_text(ctx.t, poll)
    elif content is None:
        text = ctx._("You have not voted on poll {ref}.", ref=ctx.t.ref(poll.id))
    else:
        text = ctx._(
            "Your vote on poll {ref}: {ballot}.",
            ref=ctx.t.ref(poll.id),
            ballot=_ballot_summary(ctx.t, poll, content),
        )
    if not accepts_votes(poll, ctx.now()):
        closed = ctx._(
            "Poll {ref} is closed: votes are no longer accepted.", ref=ctx.t.ref(poll.id)
        )
        return Reply(text=f"{text}\n{closed}", ephemeral=True)
    question = ctx._("Poll {ref}: {question}", ref=ctx.t.ref(poll.id), question=poll.question)
    return Reply(text=f"{text}\n{question}", choices=poll_choices(ctx.t, poll), ephemeral=True)


# --- buttons -----------------------------------------------------------------------------------


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
            raise _closed_error(ctx.t, shown)
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
        change, chain_from = SetMarks({index: _MARK_OF_ANSWER[match["answer"]]}), index
    outcome = cast_vote(
        ctx.db,
        poll_id=poll.id,
        member=ctx.member,
        change=change,
        now=ctx.now(),
        secret=_secret_for(ctx, poll),
        t=ctx.t,
        opened=poll,
    )
    _after_vote(ctx, outcome.poll)
    return _confirmation(ctx.t, outcome, chain_from=chain_from)


def _button_index(ctx: Context, poll: AnyPoll, raw: str) -> int:
    index = int(raw) - 1
    if not 0 <= index < poll.n_options:
        raise StaleChoice(raw)
    return index


# --- scheduled work: deadlines and throttled edits ---------------------------------------------


def _edit_due(rendered_at: datetime, failures: int) -> datetime:
    return rendered_at + EDIT_THROTTLE * (1 << min(failures, MAX_EDIT_FAILURES))


def _after_vote(ctx: Context, poll: AnyPoll) -> None:
    """Have the poll message edited: re-arm the ``polls`` work unless it is already armed for a
    moment no later than this poll's next edit (then the vote costs no query for it)."""
    work: PollWork | None = ctx.services.get(WORK_SERVICE)
    if work is None or not work.covers(_edit_due(poll.rendered_at, poll.edit_failures)):
        ctx.changed.add(WORK_NAME)


class PollWork:
    """The due-work provider ``polls``: closes polls at their deadline and edits stale poll
    messages, at most once per :data:`EDIT_THROTTLE` per poll. Everything comes from the
    database, so a restart loses nothing.

    A vote makes its poll stale; re-arming the provider (two queries and a transaction) after
    every vote cost more than the vote itself. The provider remembers the moment it last
    computed while the scheduler runs (:meth:`covers`): a vote whose edit falls no earlier needs
    no re-arming, since the scheduler re-arms from the database after every run anyway. Anything
    else (creating, closing, reopening) re-arms as before."""

    def __init__(self, app: Host) -> None:
        self.app = app
        self._armed: datetime | None = None
        """What :meth:`next_due` last returned while the scheduler was running (the scheduler
        then arms that moment: it calls ``next_due`` only to arm it, or before ``rearm()``)."""

    def covers(self, moment: datetime) -> bool:
        """Whether the armed wake-up comes no later than ``moment``."""
        armed = self._armed
        return self.app.scheduler.running and armed is not None and armed <= moment

    def next_due(self) -> datetime | None:
        due = self._next_due()
        self._armed = due if self.app.scheduler.running else None
        return due

    def _next_due(self) -> datetime | None:
        with self.app.sessions() as db:
            deadline = db.scalar(
                select(func.min(Poll.deadline)).where(
                    Poll.closed_at.is_(None), Poll.deadline.is_not(None)
                )
            )
            stale = db.execute(
                select(Poll.rendered_at, Poll.edit_failures).where(
                    Poll.revision != Poll.rendered_revision
                )
            ).all()
        moments = [_edit_due(rendered_at, failures) for rendered_at, failures in stale]
        if deadline is not None:
            moments.append(deadline)
        return min(moments, default=None)

    async def run(self) -> None:
        if self.close_due():
            await self.app.after_change({"outbox"})
        await self.edit_stale()

    def close_due(self) -> int:
        now = self.app.clock.now()
        public_t = self.app.translator()
        with self.app.sessions() as db:
            due = list(
                db.scalars(
                    select(Poll.id).where(
                        Poll.closed_at.is_(None), Poll.deadline.is_not(None), Poll.deadline <= now
                    )
                )
            )
        closed = 0
        for poll_id in due:
            with self.app.sessions.begin() as db:
                poll = db.get(Poll, poll_id)
                if poll is not None and close_poll(
                    db, poll, now=now, public_t=public_t, at=poll.deadline
                ):
                    closed += 1
                    log.info("poll %s closed at its deadline", poll_id)
        return closed

    async def edit_stale(self) -> int:
        now = self.app.clock.now()
        public_t = self.app.translator()
        with self.app.sessions() as db:
            stale = db.execute(
                select(Poll.id, Poll.rendered_at, Poll.edit_failures).where(
                    Poll.revision != Poll.rendered_revision
                )
            ).all()
        edited = 0
        for poll_id, rendered_at, failures in stale:
            if _edit_due(rendered_at, failures) > now:
                continue
            waiting = False
            with self.app.sessions() as db:
                poll = db.get(Poll, poll_id)
                assert poll is not None
                revision = poll.revision
                ref = sent_ref(db, message_key(poll_id))
                if ref is None:
                    status = db.scalar(
                        select(OutboxMessage.status).where(
                            OutboxMessage.key == message_key(poll_id)
                        )
                    )
                    waiting = status in (OutboxStatus.PENDING, OutboxStatus.SENDING)
                    reply = None
                else:
                    reply = poll_message(public_t, poll, poll_results(db, poll))
            if ref is None or reply is None:
                # Not posted yet: try again later; never posted: nothing to edit.
                values: dict[str, object] = {"rendered_at": now}
                if not waiting:
                    values["rendered_revision"] = revision
                self._mark(poll_id, values)
                continue
            if await self.app.edit_message(ref, reply):
                edited += 1
                self._mark(
                    poll_id, {"rendered_revision": revision, "rendered_at": now, "edit_failures": 0}
                )
            elif failures + 1 >= MAX_EDIT_FAILURES:
                log.warning("giving up editing the message of poll %s", poll_id)
                self._mark(poll_id, {"rendered_revision": revision, "rendered_at": now})
            else:
                self._mark(poll_id, {"rendered_at": now, "edit_failures": failures + 1})
        return edited

    def _mark(self, poll_id: int, values: dict[str, object]) -> None:
        with self.app.sessions.begin() as db:
            db.execute(
                update(Poll)
                .where(Poll.id == poll_id)
                .values(**values)
                .execution_options(synchronize_session=False)
            )


def setup(app: Host) -> None:
    """Register the ``polls`` due-work provider (deadlines and throttled message edits)."""
    work = PollWork(app)
    app.scheduler.add_due_work(WORK_NAME, work.next_due, work.run)
    app.services[WORK_SERVICE] = work


__all__ = [
    "EDIT_THROTTLE",
    "BallotChange",
    "PollWork",
    "SetChoices",
    "SetMarks",
    "ToggleChoice",
    "VoteOutcome",
    "Withdraw",
    "accepts_votes",
    "best_date_slot",
    "cast_vote",
    "close_poll",
    "create_poll",
    "export_csv",
    "get_poll",
    "poll_results",
    "reopen_poll",
    "server_secret",
    "setup",
    "tally_contents",
]


# --- what the family gives the gazette ---------------------------------------------------------


def gazette_closed_polls(
    db: Session, t: Translator, since: datetime, until: datetime, session_id: int | None
) -> list[ExtraEntry]:
    rows = db.scalars(
        select(Poll)
        .where(Poll.closed_at.is_not(None), Poll.closed_at >= since, Poll.closed_at <= until)
        .order_by(Poll.closed_at, Poll.id)
    ).all()
    entries: list[ExtraEntry] = []
    for poll in rows:
        results = poll_results(db, poll)
        details = [participants(t, results.voters)]
        outcome = outcome_line(t, poll, results, final=True)
        if outcome:
            details.insert(0, outcome)
        entries.append(
            ExtraEntry(
                kind="poll",
                ref_id=poll.id,
                title=poll.question,
                at=poll.closed_at,
                details=tuple(details),
                value=results.voters,
            )
        )
    return entries


FAMILY = Family(
    name="polls",
    handlers=(sys.modules[__name__],),
    setup=setup,
    outbox_topics=("poll",),
    gazette=(GazetteSection("poll", gazette_closed_polls),),
)
