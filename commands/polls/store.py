"""Queries on the polls tables: finding polls, the votes' statements, counting the ballots.

A vote first bumps the poll's ``revision`` with ``UPDATE ... WHERE closed_at IS NULL``
(:func:`open_for_vote`): that is the atomic "is it still open" check (a vote never lands on a
poll closed concurrently) and it serialises the votes of one poll on PostgreSQL. The ballot is
then written by one upsert (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``) that merges the
marks given into the stored ones, or one DELETE (:func:`ballot_statements_for`). The
statements are built once per dialect and ballot kind: building them costs more than running
them.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, Table, bindparam, case, delete, func, insert, or_, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, joinedload

from bot.context import Context
from bot.core import Place
from bot.i18n import DEFAULT_LOCALE, Translator
from bot.storage.members import Member, PlaceRow
from bot.storage.polls import (
    AnyPoll,
    Poll,
    PollAnonymousBallot,
    PollBallot,
    PollMode,
    PollSealedVoter,
    PollView,
)
from commands.polls.ballots import UNMARKED, tally_contents
from commands.polls.errors import NoSuchPoll, PollClosed
from commands.polls.secret import voter_key
from commands.polls.tally import PollResults

DEFINITIONS_SERVICE = "polls.definitions"
"""Where the polls read by votes are kept (``Host.services``, :func:`poll_definition`)."""
MAX_CACHED_DEFINITIONS = 1024


def message_key(poll_id: int) -> str:
    return f"poll:{poll_id}:message"


def results_key(poll_id: int, close_count: int) -> str:
    base = f"poll:{poll_id}:results"
    return base if close_count <= 1 else f"{base}:{close_count}"


def fallback_translator() -> Translator:
    return Translator(DEFAULT_LOCALE, ZoneInfo("Europe/Paris"))


_POLL_BY_ID = select(Poll).where(Poll.id == bindparam("poll_id")).options(joinedload(Poll.options))
"""Built once; the options come in the same query (one round trip per vote saved)."""


def get_poll(db: Session, number: int, t: Translator | None = None) -> Poll:
    """The poll ``n° number``; :class:`NoSuchPoll` (which says what to do) when there is none."""
    poll = db.scalars(_POLL_BY_ID, {"poll_id": number}).unique().one_or_none()
    if poll is None:
        t = t or fallback_translator()
        raise NoSuchPoll(t, number)
    return poll


def poll_definition(ctx: Context, number: int) -> PollView:
    """Poll ``n° number`` as a vote reads it: what never changes after creation is read once per
    process (``Host.services``); its state is only what the database had when it was first read
    (:func:`open_for_vote` reads the state that counts). :class:`NoSuchPoll` when there is none."""
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


def open_polls(db: Session, place: Place) -> list[Poll]:
    """The open polls of ``place``'s channel, oldest first."""
    return list(
        db.scalars(
            select(Poll)
            .join(PlaceRow, PlaceRow.id == Poll.place_id)
            .where(
                PlaceRow.platform == place.platform,
                PlaceRow.channel_id == place.channel_id,
                Poll.closed_at.is_(None),
            )
            .order_by(Poll.id)
        )
    )


def voter_count(db: Session, poll: Poll) -> int:
    model = _ballot_model(poll)
    return int(db.scalar(select(func.count()).where(model.poll_id == poll.id)) or 0)


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


def open_for_vote(db: Session, poll: PollView, now: datetime, t: Translator) -> PollView:
    """The atomic "still open?" check of a vote, in the vote's transaction: one UPDATE that
    marks the poll message stale (it bumps the revision), locks the poll row on PostgreSQL, and
    returns the poll's current state; :class:`PollClosed` when it is closed or past its
    deadline."""
    row = db.connection().execute(_OPEN_FOR_VOTE, {"poll_id": poll.id, "now": now}).first()
    if row is None:
        raise PollClosed(t, poll.id)
    return poll.with_state(
        deadline=row.deadline,
        close_count=row.close_count,
        rendered_at=row.rendered_at,
        edit_failures=row.edit_failures,
    )


@dataclass(frozen=True, slots=True)
class BallotStatements:
    """The statements on one kind of ballot (see :func:`ballot_statements_for`)."""

    read: Any
    insert: Any
    update: Any
    delete: Any
    upsert: Any


def _ballot_statements(
    dialect: str, table: Table, key: Sequence[str], n_options: int | None, *, stamped: bool
) -> BallotStatements:
    """Statements built once per dialect, table and ballot kind (building them costs more than
    running them), keyed by ``key``.

    ``upsert`` inserts a new ballot or, on conflict, replaces a choice ballot's content
    (``n_options`` None) or merges marks: for each of the ``n_options`` positions, the new mark
    unless it is ``-`` (not given), else the stored one. It returns the content stored."""
    where = [table.c[name] == bindparam(f"k_{name}") for name in key]
    values: dict[str, Any] = {"content": bindparam("new_content")}
    if stamped:
        values["updated_at"] = bindparam("now")
    if dialect == "postgresql":  # the dialect module is imported on PostgreSQL only
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        insert_: Any = postgresql_insert(table)
    else:
        insert_ = sqlite_insert(table)
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
    return BallotStatements(
        read=select(table.c.content).where(*where).with_for_update(),
        insert=insert(table),
        update=update(table).where(*where).values(**values),
        delete=delete(table).where(*where),
        upsert=upsert,
    )


_STATEMENTS: dict[tuple[str, bool, int | None], BallotStatements] = {}


def ballot_statements_for(dialect: str, poll: AnyPoll) -> BallotStatements:
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


SEALED_VOTER = select(PollSealedVoter.poll_id).where(
    PollSealedVoter.poll_id == bindparam("poll_id"),
    PollSealedVoter.voter_key == bindparam("voter_key"),
)
"""Whether a voter of an anonymous poll voted before a close sealed the ballots (their
ballot can no longer be changed)."""
