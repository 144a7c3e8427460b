"""The closed polls: ``/sondages --clos [--annee 2027]``, with their numbers (``/sondage
resultats N`` opens one) and their outcome line."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from bot.context import Context
from bot.core import Place, Reply
from bot.dates import FIRST_YEAR, LAST_YEAR, year_span
from bot.storage.members import PlaceRow
from bot.storage.polls import Poll
from commands.polls.errors import PollYearOutOfRange
from commands.polls.render import outcome_line, participants
from commands.polls.store import poll_results

CLOSED_LIMIT = 15
"""Without a year: the latest polls closed."""
YEAR_LIMIT = 60
"""With a year: at most this many lines (the rest is counted)."""


def closed_polls(
    db: Session,
    place: Place | None,
    *,
    since: datetime | None,
    until: datetime | None,
    limit: int,
) -> tuple[list[Poll], int]:
    """Polls closed in [since, until) (in ``place``'s channel, or anywhere when None), newest
    first, and how many there are in all."""
    where: list[ColumnElement[bool]] = [Poll.closed_at.is_not(None)]
    if since is not None:
        where.append(Poll.closed_at >= since)
    if until is not None:
        where.append(Poll.closed_at < until)
    query = select(Poll)
    count = select(func.count(Poll.id))
    if place is not None:
        where.extend([PlaceRow.platform == place.platform, PlaceRow.channel_id == place.channel_id])
        query = query.join(PlaceRow, PlaceRow.id == Poll.place_id)
        count = count.join(PlaceRow, PlaceRow.id == Poll.place_id)
    total = int(db.scalar(count.where(*where)) or 0)
    rows = db.scalars(
        query.where(*where).order_by(Poll.closed_at.desc(), Poll.id.desc()).limit(limit)
    )
    return list(rows), total


def closed_reply(ctx: Context, year: int | None) -> Reply:
    t = ctx.t
    since = until = None
    if year is not None:
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise PollYearOutOfRange(
                t, first=FIRST_YEAR, last=LAST_YEAR, year=ctx.now().astimezone(t.tz).year - 1
            )
        since, until = year_span(year, t.tz)
    # In a channel: its polls; in a private conversation: every channel's.
    where = None if ctx.place.is_direct else ctx.place
    rows, total = closed_polls(
        ctx.db, where, since=since, until=until, limit=CLOSED_LIMIT if year is None else YEAR_LIMIT
    )
    if not rows:
        if year is None:
            text = t.gettext("No poll has been closed yet here.")
        else:
            text = t.gettext("No poll was closed here in {year}.", year=year)
        return Reply(text=text, ephemeral=True)
    if year is None:
        lines = [t.gettext("**Latest closed polls**"), ""]
    else:
        lines = [
            t.ngettext(
                "**Polls closed in {year}** ({n} poll)",
                "**Polls closed in {year}** ({n} polls)",
                total,
                year=year,
            ),
            "",
        ]
    for poll in rows:
        results = poll_results(ctx.db, poll)
        assert poll.closed_at is not None
        details = [
            t.gettext("closed on {date}", date=t.date(poll.closed_at)),
            participants(t, results.voters),
        ]
        outcome = outcome_line(t, poll, results, final=True)
        line = f"- **{t.ref(poll.id)}** — {poll.question} ({', '.join(details)})"
        if outcome:
            line += f" — {outcome}"
        lines.append(line)
    if total > len(rows):
        left = total - len(rows)
        lines.append(
            t.ngettext("… and {n} more poll.", "… and {n} more polls.", left)
            if year is not None
            else t.ngettext(
                "… and {n} earlier poll: add --year to list a whole year.",
                "… and {n} earlier polls: add --year to list a whole year.",
                left,
            )
        )
    lines.extend(["", t.gettext("Results of one poll: /poll results {n}.", n=rows[0].id)])
    return Reply(text="\n".join(lines), ephemeral=True)
